"""The exact path for delimited text: line by line with the ``csv`` module, naming the line and column of the
first malformed line (or skipping and counting malformed lines). Slower than the pyarrow fast path (a few
microseconds a line) and used only when the fast path meets something it cannot place exactly."""

from __future__ import annotations

import numpy as np

from recollective.data._columns import NumberColumn
from recollective.data._text import iter_lines, split_fields, undecodable
from recollective.data._validation import RawData, Source, show_number
from recollective.errors import quoted

__all__ = ["read_exact"]

_CHUNK_LINES = 1 << 16


def read_exact(data, spec, names: list[str], header_line: int, source: Source) -> RawData:
    """Read line by line; the first malformed line is a DataError naming it, or is skipped and counted."""
    n_fields = len(names)
    user_at, item_at = names.index(spec.user_col), names.index(spec.item_col)
    rating_at = names.index(spec.rating_col) if spec.rating_col is not None else None
    order_at = names.index(spec.order_col) if spec.order_col is not None else None
    raw = RawData(
        values=NumberColumn() if rating_at is not None else None,
        order=NumberColumn() if order_at is not None or spec.order_by_position else None,
        lines=NumberColumn(),
    )
    chunk: dict[str, list] = {"users": [], "items": [], "values": [], "order": [], "lines": []}
    position = 0
    sep_name = "a tab" if spec.sep == "\t" else repr(spec.sep)
    for number, line in iter_lines(data):
        if number <= header_line or not line:
            continue
        try:
            user, item, value, order = _parse_line(
                line, spec, names, n_fields, sep_name, user_at, item_at, rating_at, order_at
            )
        except _BadLine as bad:
            if not spec.skip_bad_lines:
                raise source.error(bad.message, number, bad.column) from None
            raw.n_bad_lines += 1
            continue
        chunk["users"].append(user)
        chunk["items"].append(item)
        chunk["values"].append(value)
        chunk["order"].append(position if spec.order_by_position else order)
        chunk["lines"].append(number)
        position += 1
        raw.n_rows += 1
        if len(chunk["lines"]) >= _CHUNK_LINES:
            raw.add_chunk(chunk)
    raw.add_chunk(chunk)
    return raw


class _BadLine(Exception):
    def __init__(self, message: str, column: str | None = None):
        self.message, self.column = message, column


def _parse_line(line, spec, names, n_fields, sep_name, user_at, item_at, rating_at, order_at):
    """(user, item, value, order) of a good line; _BadLine(message, column) for a bad one."""
    text = line.decode(spec.encoding, errors="surrogateescape")
    try:
        fields_ = split_fields(text, spec.sep)
    except ValueError:
        raise _BadLine('unclosed quote: a value that starts with " must end with " on the same line') from None
    if len(fields_) != n_fields:
        if len(fields_) < n_fields:
            hint = "(a line cut short?)"
        else:
            hint = f"(quote values that contain {sep_name})" if len(spec.sep) == 1 else "(a separator inside a value?)"
        expected = f"the header has {n_fields}" if spec.names is None else f"expected {n_fields}"
        raise _BadLine(f"{len(fields_)} fields separated by {sep_name} but {expected} {hint}")
    parsed = []
    for at, what in ((user_at, "user"), (item_at, "item")):
        value = fields_[at]
        byte = undecodable(value)
        if byte is not None:
            raise _BadLine(_undecodable_message(byte, spec.encoding), names[at])
        if value == "":
            raise _BadLine(f"empty {what} id; every line needs one", names[at])
        parsed.append(value)
    for at, what in ((rating_at, "rating"), (order_at, "order")):
        if at is None:
            parsed.append(None)
            continue
        text_value = fields_[at]
        byte = undecodable(text_value)
        if byte is not None:
            raise _BadLine(_undecodable_message(byte, spec.encoding), names[at])
        if text_value.strip() == "":
            raise _BadLine(f"empty {what}; every line needs one", names[at])
        try:
            number_value = float(text_value)
        except ValueError:
            raise _BadLine(f"{quoted(text_value)} is not a number", names[at]) from None
        if not np.isfinite(number_value):
            raise _BadLine(f"{quoted(text_value)} is not a finite number", names[at])
        if what == "rating" and spec.rating_range is not None:
            low, high = spec.rating_range
            if not low <= number_value <= high:
                raise _BadLine(
                    f"{show_number(number_value)} is outside the rating range [{show_number(low)}, "
                    f"{show_number(high)}]",
                    names[at],
                )
        parsed.append(number_value)
    return tuple(parsed)


def _undecodable_message(byte: int, encoding: str) -> str:
    return f"byte 0x{byte:02x} is not valid {encoding}; pass the file's encoding (--encoding, e.g. latin-1)"
