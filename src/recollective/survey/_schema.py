"""The questionnaire schema's pydantic models (loaded and checked by :mod:`recollective.survey.instrument`, whose
docstring describes the format; cross-field checks in :mod:`recollective.survey._schema_checks`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from recollective.errors import ConfigError

__all__ = [
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
]

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
