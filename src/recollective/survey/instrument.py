"""The survey instrument: a versioned questionnaire schema read from TOML and validated on load.

The packaged instrument (``questionnaire_v1.toml``) is our **reconstruction** of the questionnaire behind the
survey in Fedorova, Kitch & Podimata (arXiv 2506.04525; about 100 respondents, about 32% had acted to influence
what others are recommended). Their questionnaire is not available, so the questions were written from the
public descriptions of the study (MISSION.md); docs/survey.md lists them.

A schema has four parts (docs/survey.md, "The instrument"):

``[instrument]``
    ``id``, ``version``, ``title``, and optional ``description``, ``consent``, ``reconstruction_note``.
``[[sections]]``
    ``id``, ``title``, optional ``intro``; questions are grouped by section in file order.
``[[questions]]``
    ``id`` (lower-case ``[a-z][a-z0-9_]*``, the response CSV's column name), ``section``, ``type``
    (``yes_no``, ``single_choice``, ``multi_choice`` or ``scale``), ``text``, ``required``, optional ``short``
    (a label for tables and plots) and ``help``;
    ``options`` (``{value, label}``, codes ``[a-z0-9_]+``) for the choice types; ``min``/``max`` (and labels)
    for a scale; ``ask_if = {question, equals}`` to ask a question only after given answers to an earlier one;
    ``within`` (answers must be among those chosen in an earlier multi-choice question); ``when_skipped`` (a
    yes/no question behind ``ask_if`` whose answer is implied when it is not asked, e.g. "no" for a behaviour
    asked only of those who acted at all).
``[analysis]``
    ``headline`` (an unconditional, required yes/no question), ``[[analysis.breakdowns]]`` (``name``,
    ``title``, a multi-choice ``question``, optional ``among``: a multi-choice question whose answer per option
    defines that option's denominator) and ``[[analysis.tests]]`` (``outcome`` yes/no, ``by`` yes/no or
    single-choice).

Unknown keys are errors; every problem is reported as ``file: dotted.field: message``.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recollective.errors import ConfigError
from recollective.survey._schema_checks import check_references

__all__ = [
    "DEFAULT_INSTRUMENT_FILE",
    "RESPONDENT_ID",
    "AnalysisSpec",
    "AssociationSpec",
    "Breakdown",
    "Condition",
    "Instrument",
    "InstrumentInfo",
    "Option",
    "Question",
    "Section",
    "default_instrument",
    "instrument_from_dict",
    "load_instrument",
]

#: Name of the packaged schema inside :mod:`recollective.survey`.
DEFAULT_INSTRUMENT_FILE = "questionnaire_v1.toml"
#: The first column of every response CSV.
RESPONDENT_ID = "respondent_id"

_CODE = r"^[a-z0-9_]+$"
_QUESTION_ID = r"^[a-z][a-z0-9_]*$"
_FROZEN = ConfigDict(extra="forbid", frozen=True)

QuestionType = Literal["yes_no", "single_choice", "multi_choice", "scale"]


class Option(BaseModel):
    """One answer option: the code written in the response CSV and the label shown on the form."""

    model_config = _FROZEN
    value: str = Field(pattern=_CODE, max_length=64)
    label: str = Field(min_length=1)


YES_NO_OPTIONS = (Option(value="yes", label="Yes"), Option(value="no", label="No"))


class Condition(BaseModel):
    """``ask_if``: the question is asked only when ``question`` was answered with one of ``equals``."""

    model_config = _FROZEN
    question: str
    equals: tuple[str, ...] = Field(min_length=1)


class Section(BaseModel):
    model_config = _FROZEN
    id: str = Field(pattern=_QUESTION_ID)
    title: str = Field(min_length=1)
    intro: str = ""


class Question(BaseModel):
    """One question. ``choices`` gives its options (yes/no questions have the implicit Yes and No)."""

    model_config = _FROZEN
    id: str = Field(pattern=_QUESTION_ID, max_length=64)
    section: str
    type: QuestionType
    text: str = Field(min_length=1)
    short: str = Field(default="", max_length=80)
    required: bool = False
    help: str = ""
    options: tuple[Option, ...] = ()
    ask_if: Condition | None = None
    when_skipped: Literal["yes", "no"] | None = None
    within: str | None = None
    min: int | None = None
    max: int | None = None
    min_label: str = ""
    max_label: str = ""

    @property
    def title(self) -> str:
        """``short`` when given, else the question id (for tables and plots)."""
        return self.short or self.id

    @property
    def choices(self) -> tuple[Option, ...]:
        """The answer options: ``options``, or Yes and No for a yes/no question, or none for a scale."""
        return YES_NO_OPTIONS if self.type == "yes_no" else self.options

    @property
    def option_values(self) -> tuple[str, ...]:
        """The option codes, in schema order."""
        return tuple(option.value for option in self.choices)

    def label_of(self, value: str) -> str:
        """The label of option ``value`` (the code itself when unknown)."""
        return next((option.label for option in self.choices if option.value == value), value)

    def expected(self) -> str:
        """What a valid cell holds, for error messages."""
        if self.type == "scale":
            return f"an integer from {self.min} to {self.max}"
        values = ", ".join(self.option_values)
        if self.type == "multi_choice":
            return f"one or more of {values}, separated by ';'"
        return f"one of: {values}"


class InstrumentInfo(BaseModel):
    model_config = _FROZEN
    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    consent: str = ""
    reconstruction_note: str = ""


class Breakdown(BaseModel):
    """Share of each option of a multi-choice ``question``; denominators from ``among`` when given."""

    model_config = _FROZEN
    name: str = Field(pattern=_QUESTION_ID)
    title: str = ""
    question: str
    among: str | None = None


class AssociationSpec(BaseModel):
    """A test of association between a yes/no ``outcome`` and a grouping question ``by``."""

    model_config = _FROZEN
    outcome: str
    by: str


class AnalysisSpec(BaseModel):
    model_config = _FROZEN
    headline: str
    breakdowns: tuple[Breakdown, ...] = ()
    tests: tuple[AssociationSpec, ...] = ()


class Instrument(BaseModel):
    """A validated questionnaire. Build it with :func:`load_instrument` (or :func:`default_instrument`).

    Attributes
    ----------
    info : InstrumentInfo
        The ``[instrument]`` table: id, version, title and the texts shown on the form.
    sections, questions : tuple
        In file order; every question's ``section`` is one of the sections.
    analysis : AnalysisSpec
        The headline question, the breakdowns and the association tests that :func:`~recollective.survey.analyze`
        reports.
    source : str
        Where the schema was read from (for error messages).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    info: InstrumentInfo = Field(alias="instrument")
    sections: tuple[Section, ...] = Field(min_length=1)
    questions: tuple[Question, ...] = Field(min_length=1)
    analysis: AnalysisSpec
    source: str = "<instrument>"

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(question.id for question in self.questions)

    @property
    def columns(self) -> tuple[str, ...]:
        """The response CSV's columns: ``respondent_id`` then every question id, in schema order."""
        return (RESPONDENT_ID, *self.question_ids)

    @property
    def yes_no_questions(self) -> tuple[Question, ...]:
        return tuple(question for question in self.questions if question.type == "yes_no")

    @property
    def label(self) -> str:
        """``id version``, for messages and reports."""
        return f"{self.info.id} {self.info.version}"

    def question(self, question_id: str) -> Question:
        """The question with id ``question_id``; raise ConfigError naming the known ids otherwise."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise ConfigError(
            f"{self.source}: no question {question_id!r} in instrument {self.label}; known: "
            + ", ".join(self.question_ids)
        )


def _format_validation_error(error: ValidationError, data: dict, source: str) -> str:
    """One line: ``source: dotted.field (question 'id'): message; ...`` (indices are 0-based, as in pydantic)."""
    parts = []
    questions = data.get("questions")
    for item in error.errors():
        loc = item["loc"]
        field = ".".join(str(part) for part in loc) or "(top level)"
        if len(loc) > 1 and loc[0] == "questions" and isinstance(loc[1], int) and isinstance(questions, list):
            entry = questions[loc[1]] if loc[1] < len(questions) else None
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                field += f" (question {entry['id']!r})"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key; remove it or check its spelling"
        parts.append(f"{field}: {message}")
    return f"{source}: " + "; ".join(parts)


def instrument_from_dict(data: dict[str, Any], source: str = "<instrument>") -> Instrument:
    """Validate a schema already parsed into Python objects (e.g. by ``tomllib``).

    Raises
    ------
    ConfigError
        Naming ``source`` and each offending dotted field (``questions.4.ask_if.equals: ...``).
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the schema must be a table (dict); got {type(data).__name__}")
    if "source" in data:
        raise ConfigError(f"{source}: source: unknown key; remove it or check its spelling")
    try:
        instrument = Instrument.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, data, source)) from None
    check_references(instrument, reserved=RESPONDENT_ID)
    return instrument


def load_instrument(path: str | Path | None = None) -> Instrument:
    """Read and validate a questionnaire schema (TOML); ``None`` gives the packaged version-1 instrument.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file in the format described in this module's docstring.

    Returns
    -------
    Instrument

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML (line and column given) or breaks the schema.
    """
    if path is None:
        return default_instrument()
    from recollective._files import read_regular

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such file; give the path of a questionnaire schema (.toml)")
    data = read_regular(path, "a questionnaire schema (.toml)", ConfigError)  # FIFOs and devices refused
    return _parse_toml(data, str(path))


def _parse_toml(data: bytes, source: str) -> Instrument:
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {' '.join(str(exc).split())}") from None
    return instrument_from_dict(parsed, source)


@functools.cache
def default_instrument() -> Instrument:
    """The packaged instrument (``questionnaire_v1.toml``), loaded once."""
    data = resources.files("recollective.survey").joinpath(DEFAULT_INSTRUMENT_FILE).read_bytes()
    return _parse_toml(data, DEFAULT_INSTRUMENT_FILE)


def suggest(value: str, candidates) -> str:
    """`` (did you mean 'x'?)`` for a near miss among ``candidates``, else an empty string."""
    import difflib

    lowered = {candidate.lower(): candidate for candidate in candidates}
    if value.lower() in lowered:
        return f" (did you mean {lowered[value.lower()]!r}? codes are case-sensitive)"
    match = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.75)
    return f" (did you mean {match[0]!r}?)" if match else ""
