"""The printable form and the report section: self-contained, complete, balanced, and escaped."""

import base64
import copy
import tomllib
from html.parser import HTMLParser
from importlib import resources

import pytest

from recollective.errors import InvalidParameterError
from recollective.survey import (
    analyze,
    default_instrument,
    instrument_from_dict,
    read_population_shares,
    render_form,
    render_report,
    render_report_section,
    simulate_responses,
)

VOID = {"meta", "input", "br", "img", "link", "hr"}
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


class TagChecker(HTMLParser):
    """Collects tags and attributes; fails on a closing tag that does not match the open one."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.attrs, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(document: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(document)
    checker.close()
    assert checker.stack == [], f"unclosed: {checker.stack}"
    return checker


def hostile_instrument():
    data = tomllib.loads(
        resources.files("recollective.survey").joinpath("questionnaire_v1.toml").read_text(encoding="utf-8")
    )
    data = copy.deepcopy(data)
    data["instrument"]["title"] = HOSTILE
    acted = next(q for q in data["questions"] if q["id"] == "acted_any")
    acted["text"] = HOSTILE
    acted["short"] = "<b>acted</b>"
    motives = next(q for q in data["questions"] if q["id"] == "motives")
    motives["options"][0]["label"] = HOSTILE
    return instrument_from_dict(data, "hostile.toml")


def test_form_is_self_contained_and_complete():
    instrument = default_instrument()
    form = render_form()
    assert form.startswith("<!DOCTYPE html>")
    checker = parse(form)
    lowered = form.lower()
    for forbidden in ("<script", "http://", "https://", "<link", "<iframe", "@import", "url("):
        assert forbidden not in lowered
    assert not any(name in ("src", "href", "action") for name, _ in checker.attrs)
    for question in instrument.questions:
        assert f'id="q-{question.id}"' in form
        assert f"column: {question.id}" in form
        for value in question.option_values:
            assert f'name="{question.id}" value="{value}"' in form
    assert form.count('title="required"') == sum(q.required for q in instrument.questions)
    assert form.count('type="checkbox" name="platforms_used"') == 9
    assert form.count('type="radio" name="cost_effort"') == 5
    # conditional questions name the question and answer that open them (acted_any is Q6)
    assert "Answer only if you answered \u201cYes\u201d to Q6; otherwise skip it." in form
    assert "Choose only among your answers to Q1." in form
    assert "reconstruction" in form and "2506.04525" in form
    assert "@media print" in form


def test_form_escapes_every_schema_string():
    form = render_form(hostile_instrument())
    parse(form)
    assert "<script>" not in form and "<img" not in form
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in form


@pytest.fixture(scope="module")
def analysis():
    return analyze(simulate_responses(100, rng=12))  # seed 12 happens to give 32 "yes" of 100


def test_report_section_has_every_table(analysis):
    section = render_report_section(analysis)
    assert section.startswith('<section class="survey">') and section.endswith("</section>")
    checker = parse(section)
    text = " ".join(checker.text)
    assert "32 of 100" in text and "Wilson [0.2367, 0.4166]" in text
    assert checker.tags.count("table") == 1 + len(analysis.breakdowns) + 1 + len(analysis.tests)
    for breakdown in analysis.breakdowns.values():
        assert breakdown.title in text
    assert "Cochran" in text and "Holm" in text and "reconstruction" in text
    assert "img" not in checker.tags  # no figures given


def test_report_embeds_or_links_figures(analysis, tmp_path):
    png = tmp_path / "survey_items.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    embedded = render_report_section(analysis, {"items": png})
    assert f'src="data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}"' in embedded
    linked = render_report_section(analysis, {"items": "figs/survey_items.png"}, embed_images=False)
    assert 'src="figs/survey_items.png"' in linked and 'href="figs/survey_items.csv"' in linked
    with pytest.raises(InvalidParameterError, match=r"figures\['items'\]: cannot read"):
        render_report_section(analysis, {"items": tmp_path / "missing.png"})
    document = render_report(analysis, {"items": png})
    assert document.startswith("<!DOCTYPE html>") and embedded in document
    parse(document)


def test_report_escapes_labels_and_paths():
    hostile = hostile_instrument()
    responses = simulate_responses(30, rng=0, instrument=hostile)
    result = analyze(responses)
    section = render_report_section(result, {"<items>": 'figs/"q".png'}, embed_images=False)
    parse(section)
    assert "<b>" not in section and "<script>" not in section
    assert "&lt;b&gt;acted&lt;/b&gt;" in section
    assert 'src="figs/&quot;q&quot;.png"' in section
    assert "&lt;items&gt;" in section


def test_report_shows_the_weighting(analysis):
    responses = simulate_responses(100, rng=12)
    population = read_population_shares(
        "age_band,share\n18_24,0.12\n25_34,0.17\n35_44,0.17\n45_54,0.17\n55_plus,0.37\n", default_instrument()
    )
    section = render_report_section(analyze(responses, population=population))
    parse(section)
    assert "Post-stratification by age_band" in section
    assert "weighted Wilson" in section and "design effect" in section
