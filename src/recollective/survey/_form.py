"""The instrument as a self-contained, printable HTML form (inline CSS, no scripts, no external assets).

Every string from the schema is escaped with :func:`html.escape`. Questions are numbered Q1, Q2, ... across
sections; each shows its response-CSV column and option codes in small type, so that paper answers can be
typed into the CSV that :func:`~recollective.survey.load_responses` reads.
"""

from __future__ import annotations

from html import escape

from recollective.survey.instrument import Instrument, Question, load_instrument

__all__ = ["render_form"]

_CSS = """
:root { color-scheme: light; }
body { font-family: Georgia, 'Times New Roman', serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; color: #111; }
h1 { font-size: 1.55rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #999; padding-bottom: .15rem; margin-top: 1.8rem; }
.meta, .code { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: .78rem; color: #555; }
.note { border-left: 3px solid #b36b00; padding: .3rem .7rem; background: #fff8ec; font-size: .92rem; }
.consent { font-size: .92rem; }
.respondent { margin: 1rem 0; }
.line { display: inline-block; min-width: 12rem; border-bottom: 1px solid #333; }
fieldset { border: 1px solid #bbb; border-radius: 4px; margin: .9rem 0; padding: .5rem .9rem .6rem;
           break-inside: avoid; page-break-inside: avoid; }
legend { font-weight: bold; padding: 0 .3rem; }
.num { color: #555; margin-right: .35rem; }
.req { color: #a00; }
.help, .cond { font-size: .88rem; margin: .15rem 0 .35rem; }
.cond { font-style: italic; }
ul.options { list-style: none; margin: .2rem 0; padding: 0; }
ul.options li { margin: .15rem 0; }
.scale { display: flex; gap: 1.1rem; align-items: center; flex-wrap: wrap; }
.scale label { text-align: center; }
footer { margin-top: 2rem; font-size: .85rem; color: #333; }
@media print {
  body { margin: 0 auto; font-size: 11pt; }
  .note { background: none; }
  a { color: inherit; text-decoration: none; }
}
@page { margin: 1.6cm; }
"""


def _options_html(question: Question) -> str:
    kind = "checkbox" if question.type == "multi_choice" else "radio"
    name = escape(question.id)
    if question.type == "scale":
        points = range(question.min, question.max + 1)
        cells = [f'<label><input type="radio" name="{name}" value="{point}"><br>{point}</label>' for point in points]
        low = f'<span class="help">{escape(question.min_label)}</span>' if question.min_label else ""
        high = f'<span class="help">{escape(question.max_label)}</span>' if question.max_label else ""
        return f'<div class="scale">{low}{"".join(cells)}{high}</div>'
    items = [
        f'<li><label><input type="{kind}" name="{name}" value="{escape(option.value)}"> {escape(option.label)}'
        f' <span class="code">[{escape(option.value)}]</span></label></li>'
        for option in question.choices
    ]
    return '<ul class="options">' + "".join(items) + "</ul>"


def _question_html(question: Question, number: int, numbers: dict[str, int], instrument: Instrument) -> str:
    required = ' <span class="req" title="required">*</span>' if question.required else ""
    parts = [
        f'<fieldset class="question" id="q-{escape(question.id)}">',
        f'<legend><span class="num">Q{number}.</span>{escape(question.text)}{required}</legend>',
    ]
    if question.ask_if is not None:
        gate = instrument.question(question.ask_if.question)
        answers = " or ".join(f"\u201c{escape(gate.label_of(value))}\u201d" for value in question.ask_if.equals)
        parts.append(
            f'<p class="cond">Answer only if you answered {answers} to Q{numbers[gate.id]}; otherwise skip it.</p>'
        )
    if question.within is not None:
        parts.append(f'<p class="cond">Choose only among your answers to Q{numbers[question.within]}.</p>')
    if question.help:
        parts.append(f'<p class="help">{escape(question.help)}</p>')
    parts.append(_options_html(question))
    parts.append(f'<p class="code">column: {escape(question.id)}</p>')
    parts.append("</fieldset>")
    return "\n".join(parts)


def render_form(instrument: Instrument | None = None) -> str:
    """The instrument as one self-contained HTML document.

    Parameters
    ----------
    instrument : Instrument, optional
        Default: the packaged version-1 instrument.

    Returns
    -------
    str
        A complete HTML5 document (inline CSS, no script, no external link) with the title, description,
        reconstruction note, consent text, a respondent-id line, then the questions by section: required
        ones marked ``*``, conditional ones with the answer that opens them, and each with its CSV column and
        option codes.
    """
    instrument = load_instrument() if instrument is None else instrument
    info = instrument.info
    numbers = {question.id: index + 1 for index, question in enumerate(instrument.questions)}
    body = [
        f"<h1>{escape(info.title)}</h1>",
        f'<p class="meta">instrument {escape(info.id)}, version {escape(info.version)}</p>',
    ]
    if info.description:
        body.append(f"<p>{escape(info.description)}</p>")
    if info.reconstruction_note:
        body.append(f'<p class="note">{escape(info.reconstruction_note)}</p>')
    if info.consent:
        body.append(f'<p class="consent">{escape(info.consent)}</p>')
    body.append(
        '<p class="respondent">Respondent id (filled in by the researcher): <span class="line">&nbsp;</span>'
        ' <span class="code">column: respondent_id</span></p>'
    )
    body.append("<form>")
    for index, section in enumerate(instrument.sections):
        questions = [question for question in instrument.questions if question.section == section.id]
        if not questions:
            continue
        body.append(f'<section id="s-{escape(section.id)}">')
        body.append(f"<h2>{index + 1}. {escape(section.title)}</h2>")
        if section.intro:
            body.append(f"<p>{escape(section.intro)}</p>")
        body.extend(_question_html(question, numbers[question.id], numbers, instrument) for question in questions)
        body.append("</section>")
    body.append("</form>")
    body.append(
        '<footer><p><span class="req">*</span> required (when the question applies). Codes in brackets are the '
        "values written in the response CSV; several choices are joined by ';'.</p></footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(info.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
