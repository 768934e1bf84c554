"""Validation shared by every loader: where an error is, column checks, duplicates, emptiness, the result.

Errors are :class:`~recollective.errors.DataError` with one-line messages of the form
``{path}: line 12, column 'rating': 'five' is not a number`` — what is wrong, where, the value received and
what to do (naming the CLI option; the Python keyword has the same name with underscores).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from recollective.data._columns import IdColumn, NumberColumn
from recollective.data._csr import csr_structure
from recollective.data._interactions import DUPLICATE_POLICIES, Interactions
from recollective.data._vocabulary import Vocabulary
from recollective.errors import DataError, InvalidParameterError, clip, quoted

__all__ = [
    "LoadResult",
    "NeedsExactPass",
    "RawData",
    "Source",
    "assemble",
    "check_columns",
    "check_duplicates_policy",
    "check_rating_range",
    "show_number",
]


class NeedsExactPass(Exception):
    """A fast reader met something it cannot place exactly; the line-by-line reader will explain it."""


@dataclass(frozen=True)
class Source:
    """Where data comes from, for error messages: ``path``, the word for a record ("line" in text files, "row"
    in Parquet) and for a field ("column", or "field" in JSON)."""

    path: str
    unit: str = "line"
    column_word: str = "column"

    def at(self, line: int | None = None, column: str | None = None) -> str:
        where = []
        if line is not None:
            where.append(f"{self.unit} {line}")
        if column is not None:
            where.append(f"{self.column_word} {column!r}")
        return f"{self.path}: {', '.join(where)}" if where else self.path

    def error(self, message: str, line: int | None = None, column: str | None = None) -> DataError:
        return DataError(f"{self.at(line, column)}: {message}")


@dataclass
class RawData:
    """Parsed columns before validation of the whole: ids, values, order and (exact path) line numbers."""

    users: IdColumn = field(default_factory=IdColumn)
    items: IdColumn = field(default_factory=IdColumn)
    values: NumberColumn | None = None
    order: NumberColumn | None = None
    lines: NumberColumn | None = None
    n_rows: int = 0
    n_bad_lines: int = 0
    n_filtered: int = 0

    def reserve(self, n: int) -> None:
        """Expect about ``n`` rows in all, so each column is allocated once."""
        for column in (self.users, self.items, self.values, self.order, self.lines):
            if column is not None:
                column.reserve(n)

    def add_chunk(self, chunk: dict[str, list]) -> None:
        """Append parsed rows (lists under ``users``, ``items``, ``values``, ``order`` and ``lines``; a column this
        data does not keep is passed over) and empty the lists. ``n_rows`` is the reader's to count."""
        if not chunk["lines"]:
            return
        self.users.add(np.array(chunk["users"], dtype=object))
        self.items.add(np.array(chunk["items"], dtype=object))
        if self.values is not None:
            self.values.add(np.array(chunk["values"], dtype=np.float64))
        if self.order is not None:
            self.order.add(np.array(chunk["order"], dtype=np.float64))
        self.lines.add(np.array(chunk["lines"], dtype=np.int64))
        for values in chunk.values():
            values.clear()


@dataclass(frozen=True)
class LoadResult:
    """Loaded interactions and what loading them did.

    Attributes
    ----------
    interactions : Interactions
    path, format : str
    n_rows : int
        Data rows parsed (bad lines skipped with ``skip_bad_lines`` are not counted).
    n_bad_lines : int
        Malformed lines skipped (always 0 unless ``skip_bad_lines``).
    n_filtered : int
        Rows the loader's own selection dropped (e.g. Goodreads rows without a rating under ``signal="rating"``).
    n_duplicate_rows : int
        Exact duplicate rows dropped (same user, item, value and order as a later row).
    n_conflicting_rows : int
        Rows dropped by the duplicates policy (same pair, different value or order).
    """

    interactions: Interactions
    path: str
    format: str
    n_rows: int
    n_bad_lines: int = 0
    n_filtered: int = 0
    n_duplicate_rows: int = 0
    n_conflicting_rows: int = 0

    @property
    def n_distinct_rows(self) -> int:
        """Interactions after dropping exact duplicate rows, before any filtering: one per kept row, so
        ``interactions.n_interactions + n_conflicting_rows``."""
        return self.interactions.n_interactions + self.n_conflicting_rows


def check_duplicates_policy(duplicates: str) -> None:
    if duplicates not in DUPLICATE_POLICIES:
        raise InvalidParameterError(
            f"duplicates must be one of {', '.join(DUPLICATE_POLICIES)} (--duplicates); got {duplicates!r}"
        )


def check_rating_range(rating_range) -> tuple[float, float] | None:
    """``None`` or a (low, high) pair of finite floats with low <= high."""
    if rating_range is None:
        return None
    try:
        low, high = (float(v) for v in rating_range)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"rating_range must be two numbers (--rating-range LOW,HIGH); got {rating_range!r}"
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise InvalidParameterError(
            f"rating_range (--rating-range) must be finite with low <= high; got {rating_range!r}"
        )
    return low, high


def show_number(value: float) -> str:
    """A number as a person would write it: 4 rather than 4.0, 3.5, 1e+20."""
    value = float(value)
    if np.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}"


def check_columns(
    source: Source, available: list[str], wanted: dict[str, str | None], sep: str | None = None, line: int = 1
) -> None:
    """Every mapped column exists, once. ``wanted`` maps an option name ("--user-col", named in messages) or any
    other unique key (not named) to a column name; ``line`` is the header's line in a text file."""
    line = line if source.unit == "line" else None
    names = [name for name in wanted.values() if name is not None]
    for option, name in wanted.items():
        if name is None:
            continue
        label = f" ({option})" if option.startswith("--") else ""
        if names.count(name) > 1:
            options = [o for o, n in wanted.items() if n == name]
            raise InvalidParameterError(f"{' and '.join(options)} name the same column {name!r}; give distinct columns")
        if name not in available:
            listed = clip(", ".join(available)) if available else "none"
            hint = ""
            close = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
            if not close:
                close = [a for a in available if a.lower() == name.lower()]
            if close:
                hint = f"did you mean {quoted(close[0])}? "
            if sep is not None and len(available) == 1:
                other = next((c for c in (";", ",", "\t", "|", ":") if c != sep and c in available[0]), None)
                if other is not None:
                    raise source.error(
                        f"no column {name!r}{label}; the header has one column {quoted(available[0])}: "
                        f"is the separator {other!r}? pass --sep {other!r}",
                        line,
                    )
            raise source.error(f"no column {name!r}{label}; {hint}the columns are {listed}", line)
        positions = [i + 1 for i, a in enumerate(available) if a == name]
        if len(positions) > 1:
            raise source.error(
                f"column {name!r}{label} appears {len(positions)} times (columns "
                f"{', '.join(map(str, positions))}); rename the copies",
                line,
            )


def _show_id(value) -> str:
    return quoted(value) if isinstance(value, str) else str(value)


def assemble(
    raw: RawData,
    source: Source,
    format: str,
    *,
    duplicates: str = "error",
    id_type: str = "auto",
    value_name: str = "rating",
    order_name: str = "order",
    filter_description: str | None = None,
    item_metadata: Callable[[np.ndarray], dict | None] | None = None,
    item_vocabulary: Callable[[np.ndarray], np.ndarray] | None = None,
) -> LoadResult:
    """Validate the whole (emptiness, duplicates) and build the Interactions.

    Raises :class:`NeedsExactPass` when an error must name lines that the fast reader did not record.
    ``item_vocabulary`` may widen the item ids (a catalogue); ``item_metadata`` gives metadata columns aligned
    with the final item ids.
    """
    if raw.users.size == 0:
        if raw.n_rows == 0 and raw.n_bad_lines == 0:
            raise source.error(f"no interactions: the file has no data {source.unit}s")
        if raw.n_rows == 0:
            raise source.error(
                f"no interactions left: all {raw.n_bad_lines} data lines are malformed and were skipped "
                "(--skip-bad-lines); see the first one without that option"
            )
        raise source.error(
            f"no interactions left after {filter_description or 'filtering'}: "
            f"all {raw.n_rows} {source.unit}s were dropped"
        )
    user_ids, rows = raw.users.finish(id_type)
    item_ids, cols = raw.items.finish(id_type)
    users = Vocabulary._trusted(user_ids, "user")
    if item_vocabulary is not None:
        catalogue = np.union1d(np.asarray(item_vocabulary(item_ids), dtype=item_ids.dtype), item_ids)
        items = Vocabulary._trusted(catalogue, "item")
        cols = np.searchsorted(catalogue, item_ids).astype(cols.dtype)[cols]
    else:
        items = Vocabulary._trusted(item_ids, "item")
    shape = (len(users), len(items))
    structure = csr_structure(rows, cols, shape)
    n_exact = n_conflicting = 0
    # the columns live in ``parts`` only, so that building the matrix can release each once used
    if structure is not None and structure[2] is None:  # already in CSR order: widen in place, no gather
        n = rows.size
        del rows, cols  # before the columns grow to float64
        parts = {
            "values": raw.values.finish() if raw.values is not None else np.ones(n),
            "order": raw.order.finish() if raw.order is not None else None,
        }
        rows = cols = None
    else:
        parts = {
            "values": raw.values.finish(compact=True) if raw.values is not None else np.ones(rows.size, np.float32),
            "order": raw.order.finish(compact=True) if raw.order is not None else None,
        }
    if structure is None:
        lines = raw.lines.finish(compact=True) if raw.lines is not None else None
        keep, n_exact, n_conflicting = _deduplicate(
            rows, cols, parts["values"], parts["order"], lines, duplicates, source, users, items, value_name, order_name
        )
        del lines
        rows, cols = rows[keep], cols[keep]
        parts = {name: None if column is None else column[keep] for name, column in parts.items()}
        structure = csr_structure(rows, cols, shape)
    del rows, cols  # the structure holds what is needed of them
    parts["indptr"], parts["indices"], parts["perm"] = structure
    del structure
    metadata = item_metadata(items.ids) if item_metadata is not None else None
    interactions = Interactions._from_parts(parts, users, items, metadata)
    return LoadResult(
        interactions,
        source.path,
        format,
        n_rows=raw.n_rows,
        n_bad_lines=raw.n_bad_lines,
        n_filtered=raw.n_filtered,
        n_duplicate_rows=n_exact,
        n_conflicting_rows=n_conflicting,
    )


def _deduplicate(rows, cols, values, order, lines, policy, source, users, items, value_name, order_name):
    """(kept positions, n exact duplicates dropped, n conflicting rows dropped) or DataError by ``policy``.

    Exact duplicates (same pair, value and order) keep their last occurrence; then "last" keeps the latest
    row of a pair (by order, then position), "max" the largest value, "error" raises naming both lines.
    """
    n = rows.size
    keys = rows.astype(np.int64) * max(1, len(items)) + cols
    positions = np.arange(n)
    sort_keys = [positions]
    if order is not None:
        sort_keys.append(order)
    sort_keys += [values, keys]
    ranking = np.lexsort(sort_keys)
    sorted_keys = keys[ranking]
    same_key = sorted_keys[1:] == sorted_keys[:-1]
    exact = same_key & (values[ranking[1:]] == values[ranking[:-1]])
    if order is not None:
        a, b = order[ranking[1:]], order[ranking[:-1]]
        exact &= (a == b) | (np.isnan(a) & np.isnan(b))
    keep = np.ones(n, dtype=bool)
    keep[ranking[:-1][exact]] = False  # an exact duplicate yields to its last copy
    n_exact = int(exact.sum())
    kept = np.flatnonzero(keep)
    kept_keys = keys[kept]
    if policy == "error":
        by_position = np.lexsort((kept, kept_keys))
        k_sorted = kept_keys[by_position]
        repeat = np.flatnonzero(k_sorted[1:] == k_sorted[:-1])
        if repeat.size:
            later = kept[by_position[repeat + 1]]
            first_repeat = int(np.argmin(later))
            second = int(later[first_repeat])
            first = int(np.flatnonzero(keys == keys[second])[0])  # earliest row of the pair, exact copies too
            if lines is None:
                raise NeedsExactPass()
            user, item = users.ids[rows[second]], items.ids[cols[second]]
            if values[first] != values[second]:
                what = f"{value_name} ({show_number(values[first])} then {show_number(values[second])})"
            else:
                what = f"{order_name} ({show_number(order[first])} then {show_number(order[second])})"
            raise source.error(
                f"user {_show_id(user)} and item {_show_id(item)} again (first on {source.unit} "
                f"{int(lines[first])}) with a different {what}; choose a duplicates policy: last or max "
                "(--duplicates)",
                int(lines[second]),
            )
        return kept, n_exact, 0
    if policy == "max":
        ranking = np.lexsort((kept, values[kept], kept_keys))
    elif order is not None:
        ranking = np.lexsort((kept, order[kept], kept_keys))
    else:
        ranking = np.lexsort((kept, kept_keys))
    sorted_keys = kept_keys[ranking]
    last = np.ones(sorted_keys.size, dtype=bool)
    last[:-1] = sorted_keys[1:] != sorted_keys[:-1]
    final = np.sort(kept[ranking[last]])
    return final, n_exact, int(kept.size - final.size)
