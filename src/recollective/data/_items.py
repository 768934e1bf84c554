"""Small item tables (books.csv, movies.csv, u.item, movies.dat) read exactly, and item metadata from them.

These files have thousands of rows, so they are read with the ``csv`` module (or a literal split), which gives
every error its line number: a missing column, an id that is not an integer, an id given twice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from recollective.data._text import open_binary
from recollective.data._validation import Source, check_columns
from recollective.errors import DataError, quoted

__all__ = ["ItemTable", "read_item_table"]


class ItemTable:
    """Rows of an item table keyed by integer item id: ``rows[item_id] -> {column: text}``."""

    def __init__(self, path: Path, rows: dict[int, dict[str, str]]):
        self.path = path
        self.rows = rows

    @property
    def ids(self) -> np.ndarray:
        """The item ids, sorted."""
        return np.array(sorted(self.rows), dtype=np.int64)

    def metadata(self, columns: dict[str, Callable[[dict[str, str]], object]]) -> Callable[[np.ndarray], dict]:
        """A function of the loaded item ids giving one metadata column per entry of ``columns`` (name ->
        function of a row); DataError when a loaded item is not in the table."""

        def build(item_ids: np.ndarray) -> dict:
            missing = [i for i in item_ids.tolist() if i not in self.rows]
            if missing:
                raise DataError(
                    f"{self.path}: {len(missing)} rated item id(s) are not in this table, e.g. {missing[0]}; "
                    "is it from the same dataset?"
                )
            out = {}
            for name, extract in columns.items():
                out[name] = np.array([extract(self.rows[i]) for i in item_ids.tolist()] + [None], dtype=object)[:-1]
            return out

        return build


def read_item_table(
    path: Path,
    key: str,
    columns: list[str],
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    names: list[str] | None = None,
) -> ItemTable:
    """Read an item table: a header line (or ``names`` for a file without one), integer ids in ``key``, and
    the ``columns`` kept as text. ``sep`` longer than one character is split literally (no quoting)."""
    source = Source(str(path))
    with open_binary(path) as stream:
        raw = stream.read()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise source.error(
            f"byte 0x{raw[exc.start]:02x} is not valid {encoding}; pass the file's encoding (--encoding, e.g. latin-1)",
            line,
        ) from None
    lines = text.splitlines()
    if len(sep) == 1:
        records = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=True)
    else:
        records = (line.split(sep) for line in lines)
    rows: dict[int, dict[str, str]] = {}
    first_line: dict[int, int] = {}
    header = names
    reader_line = (lambda: records.line_num) if len(sep) == 1 else None
    count = 0
    try:
        for record in records:
            count += 1
            number = reader_line() if reader_line is not None else count
            if not record or record == [""]:
                continue
            if header is None:
                header = [name.strip().lstrip("\ufeff") for name in record]
                check_columns(source, header, {f"column {c}": c for c in [key, *columns]}, line=number)
                continue
            if len(record) < len(header):
                raise source.error(f"{len(record)} fields but {len(header)} columns (a line cut short?)", number)
            row = dict(zip(header, record, strict=False))
            try:
                item_id = int(row[key])
            except ValueError:
                raise source.error(f"{quoted(row[key])} is not an integer id", number, key) from None
            if item_id in rows:
                raise source.error(f"item {item_id} appears again (first on line {first_line[item_id]})", number, key)
            rows[item_id] = {name: row[name] for name in columns}
            first_line[item_id] = number
    except csv.Error as exc:
        raise source.error(f"malformed CSV ({exc})", reader_line()) from None
    if header is None:
        raise source.error("the file is empty; expected a header line naming the columns, then one line per item")
    return ItemTable(path, rows)
