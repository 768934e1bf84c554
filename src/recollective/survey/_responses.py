"""Survey responses: a CSV validated against the instrument, cell by cell, with errors naming row and column.

The CSV has a header with ``respondent_id`` and one column per question id (any order, none missing, none
extra), then one row per respondent. A cell holds an option code (``yes``/``no`` for yes/no questions), option
codes joined by ``;`` for a multi-choice question, an integer for a scale, or nothing: no answer, or a question
that was not asked because of its ``ask_if``. Surrounding spaces are ignored; codes are case-sensitive.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from recollective.errors import DataError
from recollective.survey._csv import read_csv_records, read_source
from recollective.survey.instrument import RESPONDENT_ID, Instrument, Question, load_instrument, suggest

__all__ = ["MULTI_SEPARATOR", "Responses", "load_responses", "read_responses", "responses_to_csv", "write_responses"]

#: Separator of the option codes in a multi-choice cell.
MULTI_SEPARATOR = ";"
_MAX_ID_LENGTH = 128

Answer = str | tuple[str, ...] | int | None


@dataclass(frozen=True)
class Responses:
    """Validated responses, one column of answers per question.

    Attributes
    ----------
    instrument : Instrument
        The schema the responses were validated against.
    respondent_ids : tuple of str, length n_respondents
        Unique, in file order.
    rows : tuple of int, length n_respondents
        The spreadsheet row of each respondent in the source file (header = row 1).
    answers : Mapping[str, tuple]
        Question id -> one answer per respondent: an option code (yes/no and single choice), a tuple of codes in
        schema order (multi choice), an int (scale), or None (no answer, or not asked).
    source : str
        Where the responses came from.
    """

    instrument: Instrument
    respondent_ids: tuple[str, ...]
    rows: tuple[int, ...]
    answers: Mapping[str, tuple[Answer, ...]]
    source: str = "<responses>"
    _asked: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_respondents(self) -> int:
        return len(self.respondent_ids)

    def asked(self, question_id: str) -> tuple[bool | None, ...]:
        """Per respondent: True when the question was asked, False when ``ask_if`` skipped it, None when the
        gating question itself is unanswered (unknown)."""
        if question_id not in self._asked:
            question = self.instrument.question(question_id)
            if question.ask_if is None:
                result = (True,) * self.n_respondents
            else:
                gate = self.answers[question.ask_if.question]
                gate_asked = self.asked(question.ask_if.question)
                result = tuple(
                    was_asked if was_asked is not True else None if answer is None else answer in question.ask_if.equals
                    for answer, was_asked in zip(gate, gate_asked, strict=True)
                )
            self._asked[question_id] = result
        return self._asked[question_id]


def _parse_cell(question: Question, raw: str, row_answers: dict[str, Answer], error) -> Answer:
    """The answer in one cell; ``error(message)`` builds the DataError naming the row and column."""
    value = raw.strip()
    asked = True
    if question.ask_if is not None:
        gate_answer = row_answers.get(question.ask_if.question)
        asked = gate_answer is not None and gate_answer in question.ask_if.equals
        if not asked and value:
            shown = "blank" if gate_answer is None else repr(gate_answer)
            condition = " or ".join(repr(v) for v in question.ask_if.equals)
            raise error(
                f"answered ({value!r}) although the question is asked only when {question.ask_if.question!r} is "
                f"{condition}, and it is {shown} here; leave the cell empty"
            )
    if not value:
        if asked and question.required:
            raise error(f"required answer is missing; expected {question.expected()}")
        return None
    if question.type == "scale":
        try:
            number = int(value)
        except ValueError:
            raise error(f"{value!r} is not {question.expected()}") from None
        if not question.min <= number <= question.max:
            raise error(f"{number} is out of range; expected {question.expected()}")
        return number
    allowed = question.option_values
    if question.type == "multi_choice":
        parts = [part.strip() for part in value.split(MULTI_SEPARATOR)]
        chosen = [part for part in parts if part]
        if not chosen:
            if question.required:
                raise error(f"required answer is missing; expected {question.expected()}")
            return None
    else:
        chosen = [value]
    for code in chosen:
        if code not in allowed:
            raise error(f"unknown option {code!r}{suggest(code, allowed)}; expected {question.expected()}")
    duplicates = sorted({code for code in chosen if chosen.count(code) > 1})
    if duplicates:
        raise error(f"option {duplicates[0]!r} is given more than once")
    if question.within is not None:
        outer = row_answers.get(question.within) or ()
        outside = [code for code in chosen if code not in outer]
        if outside:
            raise error(
                f"{outside[0]!r} is not among the answers to {question.within!r} "
                f"({MULTI_SEPARATOR.join(outer) or 'blank'}); choose among those"
            )
    if question.type == "multi_choice":
        return tuple(code for code in allowed if code in chosen)
    return chosen[0]


def _check_header(header: list[str], instrument: Instrument, source: str) -> dict[str, int]:
    """Column index of every expected column; raise naming row 1 and the column."""
    expected = instrument.columns
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        where = f"{source}: row 1, column {index + 1}"
        if not name:
            raise DataError(f"{where}: empty column name; the header must be {RESPONDENT_ID} and the question ids")
        if name in positions:
            raise DataError(f"{where} ({name!r}): duplicate column {name!r} (also column {positions[name] + 1})")
        if name not in expected:
            raise DataError(
                f"{where} ({name!r}): unknown column {name!r}{suggest(name, expected)}; instrument "
                f"{instrument.label} has the columns {', '.join(expected)}"
            )
        positions[name] = index
    for name in expected:
        if name not in positions:
            raise DataError(
                f"{source}: row 1, column {name!r}: missing column; instrument {instrument.label} needs the "
                f"columns {', '.join(expected)}"
            )
    return positions


def read_responses(data: bytes | str, instrument: Instrument | None = None, source: str = "<string>") -> Responses:
    """Validate response CSV content (bytes or text) against ``instrument`` (default: the packaged one).

    Parameters
    ----------
    data : bytes or str
        The CSV content; bytes must be UTF-8 (an initial byte-order mark is allowed).
    instrument : Instrument, optional
        The schema; default :func:`~recollective.survey.default_instrument`.
    source : str
        The name used in error messages (a file name).

    Returns
    -------
    Responses

    Raises
    ------
    DataError
        One line, ``source: row R, column 'C': what is wrong; what is expected``, for the first problem in file
        order: undecodable bytes, an empty file, missing / unknown / duplicate columns, a row with too few or
        too many fields, an empty or duplicate respondent id, an unknown option, a missing required answer, an
        answer to a question that was not asked, a choice outside its ``within`` question, a scale value out
        of range, or a file with no response rows.
    """
    instrument = load_instrument() if instrument is None else instrument
    records = read_csv_records(data, source)
    header_row, header = records[0]
    header = [name.strip() for name in header]
    positions = _check_header(header, instrument, source)
    if len(records) == 1:
        raise DataError(
            f"{source}: row {header_row + 1}, column {RESPONDENT_ID!r}: no responses; the file has a header but "
            "no response rows"
        )
    ids: list[str] = []
    first_seen: dict[str, int] = {}
    rows: list[int] = []
    columns: dict[str, list[Answer]] = {question.id: [] for question in instrument.questions}
    width = len(header)
    for row, fields in records[1:]:
        if len(fields) < width:
            raise DataError(
                f"{source}: row {row}, column {header[len(fields)]!r}: missing; the row has {len(fields)} fields "
                f"but the header has {width} (a line cut short, or an unclosed quote?)"
            )
        if len(fields) > width:
            raise DataError(
                f"{source}: row {row}, column {width + 1}: extra field {fields[width]!r}; the row has "
                f"{len(fields)} fields but the header has {width} (quote values that contain commas)"
            )
        respondent = fields[positions[RESPONDENT_ID]].strip()
        where = f"{source}: row {row}, column {RESPONDENT_ID!r}"
        if not respondent:
            raise DataError(f"{where}: empty respondent id; every row needs a unique id")
        if len(respondent) > _MAX_ID_LENGTH:
            raise DataError(f"{where}: respondent id longer than {_MAX_ID_LENGTH} characters")
        if respondent in first_seen:
            raise DataError(
                f"{where}: duplicate respondent id {respondent!r} (first in row {first_seen[respondent]}); ids "
                "must be unique"
            )
        first_seen[respondent] = row
        row_answers: dict[str, Answer] = {}
        for question in instrument.questions:

            def error(message: str, _row=row, _column=question.id) -> DataError:
                return DataError(f"{source}: row {_row}, column {_column!r}: {message}")

            answer = _parse_cell(question, fields[positions[question.id]], row_answers, error)
            row_answers[question.id] = answer
            columns[question.id].append(answer)
        ids.append(respondent)
        rows.append(row)
    answers = MappingProxyType({key: tuple(values) for key, values in columns.items()})
    return Responses(instrument, tuple(ids), tuple(rows), answers, source)


def load_responses(path: str | Path, instrument: Instrument | None = None) -> Responses:
    """Read and validate a response CSV file; see :func:`read_responses` for the format and the errors."""
    return read_responses(read_source(path), instrument, str(path))


def _cell(answer: Answer) -> str:
    if answer is None:
        return ""
    if isinstance(answer, tuple):
        return MULTI_SEPARATOR.join(answer)
    return str(answer)


def responses_to_csv(responses: Responses) -> str:
    """The responses as CSV text in the canonical column order (reads back to equal responses)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(responses.instrument.columns)
    for index, respondent in enumerate(responses.respondent_ids):
        question_ids = responses.instrument.question_ids
        writer.writerow([respondent, *(_cell(responses.answers[qid][index]) for qid in question_ids)])
    return buffer.getvalue()


def write_responses(responses: Responses, path: str | Path) -> Path:
    """Write the responses as a UTF-8 CSV (through a temporary file and a rename); parents are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(responses_to_csv(responses), encoding="utf-8", newline="")
    temporary.replace(path)
    return path
