"""The UCSD Goodreads Book Graph (Wan & McAuley, RecSys 2018): interactions as JSON lines, plain or gzip.

Each line is one shelf entry: ``user_id`` (hex string), ``book_id`` (a Goodreads id, as a string), ``is_read``,
``rating`` (0 = no rating, else 1–5) and dates such as ``"Wed Mar 29 00:12:52 -0700 2017"`` (``date_added``,
``date_updated``, ``read_at``, ``started_at``; the last two are often empty). ``signal`` says what an
interaction is. The file is streamed in 16 MiB segments parsed by ``pyarrow.json`` and only the selected rows are
kept, compactly, so the young-adult file (about 35M lines) needs memory for what is kept, not for the file.
A line that is not valid, or a value of the wrong type or out of range, sends the reader to an exact
line-by-line pass (Python's ``json``) that names the line and field — or skips and counts bad lines.

Book metadata (``goodreads_books*.json[.gz]``: ``book_id``, ``title``, ``authors`` as a list of
``{"author_id", "role"}``) and author names (``goodreads_book_authors.json[.gz]``: ``author_id``, ``name``) are
read when given, keeping only the books that were loaded.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pjson

from recollective.data._arrow import to_numpy
from recollective.data._columns import NumberColumn
from recollective.data._goodreads_books import book_metadata
from recollective.data._interactions import Interactions
from recollective.data._text import iter_lines, iter_segments
from recollective.data._validation import (
    LoadResult,
    NeedsExactPass,
    RawData,
    Source,
    assemble,
    check_duplicates_policy,
)
from recollective.errors import InvalidParameterError, clip, quoted

__all__ = ["GOODREADS_ORDER_FIELDS", "GOODREADS_SIGNALS", "load_goodreads", "read_goodreads"]

GOODREADS_SIGNALS = ("rating", "read", "shelved")
GOODREADS_ORDER_FIELDS = ("date_added", "date_updated", "read_at", "started_at")
DATE_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_DATE_EXAMPLE = "Wed Mar 29 00:12:52 -0700 2017"
_SIGNAL_FILTER = {
    "rating": "keeping rows with rating > 0 (--signal rating)",
    "read": "keeping rows with is_read true (--signal read)",
}
_CHUNK_LINES = 1 << 16


def read_goodreads(
    path,
    *,
    signal: str = "rating",
    order: str | None = "date_added",
    books_path=None,
    authors_path=None,
    duplicates: str = "error",
    skip_bad_lines: bool = False,
) -> LoadResult:
    """Read Goodreads interactions (JSON lines, plain or .gz).

    Parameters
    ----------
    path : path-like
        ``goodreads_interactions_<genre>.json[.gz]``.
    signal : {"rating", "read", "shelved"}
        What an interaction is: "rating" keeps rows with ``rating > 0`` and uses the rating (explicit, 1–5);
        "read" keeps rows with ``is_read`` and uses 1.0 (implicit); "shelved" keeps every row, value 1.0.
    order : {"date_added", "date_updated", "read_at", "started_at"} or None (or "none")
        The date kept as ``Interactions.order`` (Unix seconds; NaN where the field is empty).
    books_path, authors_path : path-like, optional
        Book metadata and author names; item metadata then holds ``title``, ``authors`` (names joined by
        ", ") and ``primary_author`` (the first author without a role such as "Illustrator", else the first).
    duplicates : {"error", "last", "max"}
        For a (user, book) pair on several lines with different values.
    skip_bad_lines : bool
        Skip and count malformed lines instead of failing on the first one.
    """
    if order == "none":
        order = None
    if signal not in GOODREADS_SIGNALS:
        raise InvalidParameterError(f"signal must be one of {', '.join(GOODREADS_SIGNALS)} (--signal); got {signal!r}")
    if order is not None and order not in GOODREADS_ORDER_FIELDS:
        raise InvalidParameterError(
            f"order must be one of {', '.join(GOODREADS_ORDER_FIELDS)} or None (--order-field); got {order!r}"
        )
    check_duplicates_policy(duplicates)
    path = Path(path)
    source = Source(str(path), column_word="field")
    options = {
        "duplicates": duplicates,
        "value_name": "rating" if signal == "rating" else "value",
        "order_name": order or "order",
        "filter_description": _SIGNAL_FILTER.get(signal),
    }
    if books_path is not None:
        options["item_metadata"] = book_metadata(Path(books_path), authors_path)
    try:
        raw = _read_fast(path, signal, order)
        return assemble(raw, source, "goodreads", **options)
    except NeedsExactPass:
        raw = _read_exact(path, source, signal, order, skip_bad_lines)
        return assemble(raw, source, "goodreads", **options)


def load_goodreads(path, **options) -> Interactions:
    """:func:`read_goodreads`'s interactions alone."""
    return read_goodreads(path, **options).interactions


def _new_raw(signal: str, order: str | None, exact: bool) -> RawData:
    return RawData(
        values=NumberColumn() if signal == "rating" else None,
        order=NumberColumn() if order is not None else None,
        lines=NumberColumn() if exact else None,
    )


# --------------------------------------------------------------------------------------------- fast path
def _read_fast(path: Path, signal: str, order: str | None) -> RawData:
    fields = [("user_id", pa.string()), ("book_id", pa.string()), ("rating", pa.int64()), ("is_read", pa.bool_())]
    if order is not None:
        fields.append((order, pa.string()))
    parse_options = pjson.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore")
    read_options = pjson.ReadOptions(use_threads=True, block_size=1 << 22)
    raw = _new_raw(signal, order, exact=False)
    pool = pa.default_memory_pool()
    for segment in iter_segments(path):
        try:
            table = pjson.read_json(pa.BufferReader(segment), read_options=read_options, parse_options=parse_options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise NeedsExactPass() from None
        del segment
        _add_table(table, signal, order, raw)
        del table
        pool.release_unused()
    return raw


def _add_table(table: pa.Table, signal: str, order: str | None, raw: RawData) -> None:
    names = ["user_id", "book_id", "rating", "is_read"] + ([order] if order else [])
    if any(table.column(name).null_count for name in names):
        raise NeedsExactPass()
    rating = to_numpy(table.column("rating"))
    if rating.size and (rating.min() < 0 or rating.max() > 5):
        raise NeedsExactPass()
    for name in ("user_id", "book_id"):
        if pc.any(pc.equal(table.column(name), "")).as_py():
            raise NeedsExactPass()
    dates = None
    if order is not None:
        text = table.column(order).combine_chunks()
        dates = _fixed_width_dates(text)
        if dates is None:  # not all in the exact fixed-width layout: the general (slower) parser
            parsed = pc.strptime(text, format=DATE_FORMAT, unit="s", error_is_null=True)
            n_empty = pc.sum(pc.equal(text, "")).as_py() or 0
            if parsed.null_count != n_empty:
                raise NeedsExactPass()
            dates = to_numpy(pc.cast(parsed, pa.int64())).astype(np.float64)
    keep = None
    if signal == "rating":
        keep = rating > 0
    elif signal == "read":
        keep = to_numpy(table.column("is_read"))
    n = table.num_rows
    if keep is not None and not keep.all():
        mask = pa.array(keep)
        table = table.filter(mask)
        rating = rating[keep]
        dates = None if dates is None else dates[keep]
    raw.users.add(table.column("user_id"))
    raw.items.add(table.column("book_id"))
    if raw.values is not None:
        raw.values.add(rating)
    if raw.order is not None:
        raw.order.add(dates)
    raw.n_rows += n
    raw.n_filtered += n - table.num_rows


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = np.array([int.from_bytes(m.encode(), "big") for m in _MONTH_NAMES])
_MONTH_ORDER = np.argsort(_MONTHS)
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_DIGITS = np.array([8, 9, 11, 12, 14, 15, 17, 18, 21, 22, 23, 24, 26, 27, 28, 29])


def _fixed_width_dates(text: pa.Array) -> np.ndarray | None:
    """Unix seconds of dates like "Wed Mar 29 00:12:52 -0700 2017" (NaN for ""), read straight from the
    string bytes: every Goodreads date has exactly this 30-byte layout. None if any value does not."""
    if not pa.types.is_string(text.type):
        return None
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    lengths = np.diff(offsets)
    present = lengths == 30
    if text.null_count or not np.all(present | (lengths == 0)):
        return None
    out = np.full(len(text), np.nan)
    if not present.any():
        return out
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    chars = data[offsets[:-1][present, None] + np.arange(30)]  # (n, 30) uint8
    digits = chars[:, _DIGITS].astype(np.int64) - 48
    if (
        (digits < 0).any()
        or (digits > 9).any()
        or not np.all(chars[:, [3, 7, 10, 19, 25]] == 32)
        or not np.all(chars[:, [13, 16]] == 58)
        or not np.all((chars[:, 20] == 43) | (chars[:, 20] == 45))
    ):
        return None
    letters = chars[:, 4:7].astype(np.int64)
    month_code = (letters[:, 0] << 16) | (letters[:, 1] << 8) | letters[:, 2]
    at = np.searchsorted(_MONTHS[_MONTH_ORDER], month_code)
    at = np.minimum(at, 11)
    month = _MONTH_ORDER[at] + 1
    if not np.all(_MONTHS[month - 1] == month_code):
        return None
    day = digits[:, 0] * 10 + digits[:, 1]
    hour, minute, second = (digits[:, k] * 10 + digits[:, k + 1] for k in (2, 4, 6))
    zone_hours, zone_minutes = digits[:, 8] * 10 + digits[:, 9], digits[:, 10] * 10 + digits[:, 11]
    year = digits[:, 12] * 1000 + digits[:, 13] * 100 + digits[:, 14] * 10 + digits[:, 15]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[month - 1] + (leap & (month == 2))
    if np.any((day < 1) | (day > month_days) | (hour > 23) | (minute > 59) | (second > 59) | (zone_minutes > 59)):
        return None
    sign = np.where(chars[:, 20] == 45, -1, 1)
    # days from the civil date (H. Hinnant's algorithm), then seconds, then back to UTC
    y = year - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    local = days * 86400 + hour * 3600 + minute * 60 + second
    out[present] = local - sign * (zone_hours * 3600 + zone_minutes * 60)
    return out


# -------------------------------------------------------------------------------------------- exact path
class _BadLine(Exception):
    def __init__(self, message: str, field: str | None = None):
        self.message, self.field = message, field


def _read_exact(path: Path, source: Source, signal: str, order: str | None, skip_bad_lines: bool) -> RawData:
    raw = _new_raw(signal, order, exact=True)
    chunk: dict[str, list] = {"users": [], "items": [], "values": [], "order": [], "lines": []}
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            user, book, rating, is_read, date = _parse(line, order)
        except _BadLine as bad:
            if not skip_bad_lines:
                raise source.error(bad.message, number, bad.field) from None
            raw.n_bad_lines += 1
            continue
        raw.n_rows += 1
        if (signal == "rating" and rating == 0) or (signal == "read" and not is_read):
            raw.n_filtered += 1
            continue
        chunk["users"].append(user)
        chunk["items"].append(book)
        chunk["values"].append(rating)
        chunk["order"].append(date)
        chunk["lines"].append(number)
        if len(chunk["lines"]) >= _CHUNK_LINES:
            raw.add_chunk(chunk)
    raw.add_chunk(chunk)
    return raw


def _parse(line: bytes, order: str | None):
    """(user_id, book_id, rating, is_read, date in Unix seconds or NaN) of one line; _BadLine if malformed."""
    try:
        record = json.loads(line)
    except UnicodeDecodeError as exc:
        raise _BadLine(f"byte 0x{line[exc.start]:02x} is not valid UTF-8 (JSON files are UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise _BadLine(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise _BadLine(f"expected a JSON object {{...}}, got {type(record).__name__ if record is not None else 'null'}")
    required = ["user_id", "book_id", "rating", "is_read"] + ([order] if order else [])
    for name in required:
        if name not in record:
            present = clip(", ".join(record)) or "none"
            raise _BadLine(f"no field {name!r}; the line has the fields {present}")
    user, book = record["user_id"], record["book_id"]
    for name, value in (("user_id", user), ("book_id", book)):
        if not isinstance(value, str):
            raise _BadLine(f"{clip(json.dumps(value))} is not a string; ids are quoted strings", name)
        if value == "":
            raise _BadLine("empty id; every line needs one", name)
    rating = record["rating"]
    if not isinstance(rating, int) or isinstance(rating, bool):
        raise _BadLine(f"{clip(json.dumps(rating))} is not an integer from 0 to 5 (0 = not rated)", "rating")
    if not 0 <= rating <= 5:
        raise _BadLine(f"{rating} is outside 0 to 5 (0 = not rated)", "rating")
    is_read = record["is_read"]
    if not isinstance(is_read, bool):
        raise _BadLine(f"{clip(json.dumps(is_read))} is not true or false", "is_read")
    date = np.nan
    if order is not None:
        text = record[order]
        if not isinstance(text, str):
            raise _BadLine(f"{clip(json.dumps(text))} is not a date string like {_DATE_EXAMPLE!r}", order)
        if text:
            try:
                date = float(int(datetime.strptime(text, DATE_FORMAT).timestamp()))
            except ValueError:
                raise _BadLine(f"{quoted(text)} is not a date like {_DATE_EXAMPLE!r}", order) from None
    return user, book, float(rating), is_read, date
