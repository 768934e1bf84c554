"""Cross-field checks of a questionnaire schema that pydantic cannot express (references between questions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recollective.errors import ConfigError

if TYPE_CHECKING:
    from recollective.survey._schema import Instrument, Question

__all__ = ["check_references"]


def check_references(instrument: Instrument, reserved: str) -> None:
    """Cross-field checks pydantic cannot express; raise ConfigError naming the dotted field."""
    source = instrument.source

    def fail(field: str, message: str) -> None:
        parts = field.split(".")
        if parts[0] == "questions" and len(parts) > 1:
            field += f" (question {instrument.questions[int(parts[1])].id!r})"
        raise ConfigError(f"{source}: {field}: {message}")

    def check_options_within(field: str, name: str, question: Question, must: str) -> None:
        """``name`` names a multi-choice question seen so far (``must`` says what it must name) that offers every
        option of ``question``."""
        outer = seen.get(name)
        if outer is None or outer.type != "multi_choice":
            fail(field, f"{name!r} must name {must}")
        missing = [value for value in question.option_values if value not in outer.option_values]
        if missing:
            fail(field, f"options {missing} of {question.id!r} are not options of {outer.id!r}")

    section_ids = [section.id for section in instrument.sections]
    for index, section_id in enumerate(section_ids):
        if section_id in section_ids[:index]:
            fail(f"sections.{index}.id", f"duplicate section id {section_id!r}")
    seen: dict[str, Question] = {}
    for index, question in enumerate(instrument.questions):
        where = f"questions.{index}"
        if question.id == reserved:
            fail(f"{where}.id", f"{reserved!r} is reserved for the respondent column; rename the question")
        if question.id in seen:
            fail(f"{where}.id", f"duplicate question id {question.id!r}")
        if question.section not in section_ids:
            fail(f"{where}.section", f"unknown section {question.section!r}; known: {', '.join(section_ids)}")
        if index and section_ids.index(question.section) < section_ids.index(instrument.questions[index - 1].section):
            fail(
                f"{where}.section",
                f"{question.section!r} comes after section {instrument.questions[index - 1].section!r}; list the "
                "questions section by section, in the order of [[sections]]",
            )
        _check_question_shape(question, where, fail)
        if question.ask_if is not None:
            gate = seen.get(question.ask_if.question)
            if gate is None:
                fail(
                    f"{where}.ask_if.question",
                    f"{question.ask_if.question!r} is not a question before {question.id!r}; ask_if must refer "
                    "to an earlier question",
                )
            if gate.type == "scale":
                fail(f"{where}.ask_if.question", f"{gate.id!r} is a scale; ask_if needs a choice question")
            for value in question.ask_if.equals:
                if value not in gate.option_values:
                    fail(f"{where}.ask_if.equals", f"{value!r} is not an option of {gate.id!r} ({gate.expected()})")
        if question.within is not None:
            check_options_within(f"{where}.within", question.within, question, "an earlier multi-choice question")
        seen[question.id] = question

    analysis = instrument.analysis
    headline = seen.get(analysis.headline)
    if headline is None or headline.type != "yes_no" or not headline.required or headline.ask_if is not None:
        fail("analysis.headline", f"{analysis.headline!r} must name a required yes/no question asked of everyone")
    names: list[str] = []
    for index, breakdown in enumerate(analysis.breakdowns):
        where = f"analysis.breakdowns.{index}"
        if breakdown.name in names:
            fail(f"{where}.name", f"duplicate breakdown name {breakdown.name!r}")
        names.append(breakdown.name)
        question = seen.get(breakdown.question)
        if question is None or question.type != "multi_choice":
            fail(f"{where}.question", f"{breakdown.question!r} must name a multi-choice question")
        if breakdown.among is not None:
            check_options_within(f"{where}.among", breakdown.among, question, "a multi-choice question")
    for index, test in enumerate(analysis.tests):
        where = f"analysis.tests.{index}"
        outcome = seen.get(test.outcome)
        if outcome is None or outcome.type != "yes_no":
            fail(f"{where}.outcome", f"{test.outcome!r} must name a yes/no question")
        by = seen.get(test.by)
        if by is None or by.type not in ("yes_no", "single_choice") or by.id == outcome.id:
            fail(f"{where}.by", f"{test.by!r} must name another yes/no or single-choice question")


def _check_question_shape(question: Question, where: str, fail) -> None:
    kind = question.type
    if kind in ("single_choice", "multi_choice"):
        smallest = 2 if kind == "single_choice" else 1
        if len(question.options) < smallest:
            fail(f"{where}.options", f"a {kind} question needs at least {smallest} option(s)")
        values = [option.value for option in question.options]
        duplicates = sorted({value for value in values if values.count(value) > 1})
        if duplicates:
            fail(f"{where}.options", f"duplicate option value(s) {duplicates}")
    elif question.options:
        fail(f"{where}.options", f"a {kind} question takes no options (yes/no questions have Yes and No)")
    if kind == "scale":
        if question.min is None or question.max is None or not question.min < question.max:
            fail(f"{where}.min", f"a scale needs integers min < max; got min={question.min}, max={question.max}")
        if question.max - question.min > 100:
            fail(f"{where}.max", "a scale may span at most 100 points")
    elif question.min is not None or question.max is not None or question.min_label or question.max_label:
        fail(f"{where}.min", f"min, max and their labels are for scale questions, not {kind}")
    if question.when_skipped is not None and (kind != "yes_no" or question.ask_if is None):
        fail(f"{where}.when_skipped", "when_skipped is for yes/no questions behind ask_if")
    if question.within is not None and kind not in ("single_choice", "multi_choice"):
        fail(f"{where}.within", f"within is for choice questions, not {kind}")
