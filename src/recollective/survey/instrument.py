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
from typing import Any

from pydantic import ValidationError

from recollective.errors import ConfigError, plain_message
from recollective.survey import _schema
from recollective.survey._schema import RESPONDENT_ID, Instrument
from recollective.survey._schema_checks import check_references

__all__ = ["DEFAULT_INSTRUMENT_FILE", *_schema.__all__, "default_instrument", "instrument_from_dict", "load_instrument"]


def __getattr__(name: str):
    """The schema's models (:mod:`recollective.survey._schema`) keep their import path through this module."""
    if name in _schema.__all__:
        return getattr(_schema, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Name of the packaged schema inside :mod:`recollective.survey`.
DEFAULT_INSTRUMENT_FILE = "questionnaire_v1.toml"
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
        message = plain_message(item["msg"])
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
