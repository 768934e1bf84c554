"""Reading small CSV files with errors that name the row and column.

Rows are numbered as in a spreadsheet: the header is row 1, the first response row 2 (a quoted field that spans
lines still counts as one row). Columns are named by their header (``column 'acted_any'``) or, in the header
row itself or past its end, by their 1-based position.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from recollective.errors import DataError

__all__ = ["read_csv_records", "read_source"]

_BOM = b"\xef\xbb\xbf"


def read_source(path: str | Path) -> bytes:
    """The bytes of ``path``; DataError when it is missing, a directory or unreadable."""
    from recollective._files import read_regular

    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory; give a CSV file")
    return read_regular(path, "a CSV file")  # a FIFO or device is refused, never waited on or read forever


def _locate(prefix: str) -> tuple[int, int]:
    """(row, 1-based field) of the character that follows ``prefix`` in a CSV text."""
    if not prefix:
        return 1, 1
    records = list(csv.reader(io.StringIO(prefix, newline="")))
    open_quote = prefix.count('"') % 2 == 1
    if prefix.endswith(("\n", "\r")) and not open_quote:
        return len(records) + 1, 1
    return max(len(records), 1), max(len(records[-1]) if records else 1, 1)


def _column_name(header: list[str] | None, row: int, field: int) -> str:
    if header is not None and row > 1 and field <= len(header):
        return f"column {header[field - 1]!r}"
    return f"column {field}"


def read_csv_records(data: bytes | str, source: str) -> list[tuple[int, list[str]]]:
    """Decode UTF-8 (an initial byte-order mark is allowed) and split into CSV records.

    Returns
    -------
    list of (row, fields)
        Every record including the header (row 1); blank lines are dropped but keep their row numbers.

    Raises
    ------
    DataError
        ``source: row R, column C: ...`` for bytes that are not UTF-8 and for NUL characters (often a UTF-16
        file); ``source: row 1, ...`` for an empty file.
    """
    if isinstance(data, bytes):
        if data.startswith(_BOM):
            data = data[len(_BOM) :]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            prefix = data[: exc.start].decode("utf-8")
            row, field = _locate(prefix)
            header = _header_of(prefix) if row > 1 else None
            hint = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
            raise DataError(
                f"{source}: row {row}, {_column_name(header, row, field)}: byte {data[exc.start]:#04x} is not "
                f"valid UTF-8{hint}; save the file as UTF-8 CSV"
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    if not text.strip():
        raise DataError(f"{source}: row 1, column 1: the file is empty; expected a header row and data rows")
    nul = text.find("\x00")
    if nul >= 0:
        row, field = _locate(text[:nul])
        header = _header_of(text[:nul]) if row > 1 else None
        raise DataError(
            f"{source}: row {row}, {_column_name(header, row, field)}: contains a NUL character (is the file "
            "UTF-16?); save it as UTF-8 CSV"
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    row = 0
    try:
        for fields in reader:
            row += 1
            if fields and any(field.strip() for field in fields):
                records.append((row, fields))
    except csv.Error as exc:  # pragma: no cover - the reader is lenient; kept for unusual dialect errors
        raise DataError(f"{source}: row {row + 1}, column 1: not readable as CSV ({exc})") from None
    return records


def _header_of(prefix: str) -> list[str] | None:
    records = list(csv.reader(io.StringIO(prefix, newline="")))
    return [field.strip() for field in records[0]] if records else None
