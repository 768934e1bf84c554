"""Parquet in and out: interactions from any Parquet file with a column mapping; our own export format.

The export is ``NAME.parquet`` with columns ``user_id``, ``item_id``, ``value`` and, when the interactions
have one, ``order`` (row-major: by user index, then item index), plus ``NAME.items.parquet`` (``item_id`` and
the metadata columns) when there is item metadata. Files are written to a temporary name in the same folder and
renamed into place only when all of them are complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from recollective._files import new_file_mode, require_regular
from recollective.data._arrow import to_numpy
from recollective.data._columns import NumberColumn
from recollective.data._interactions import Interactions
from recollective.data._validation import LoadResult, RawData, Source, assemble, check_columns, show_number
from recollective.errors import DataError, InvalidParameterError, clip, quoted

__all__ = [
    "item_metadata_from_table",
    "read_parquet_interactions",
    "sibling_items_path",
    "write_interactions_parquet",
]

_BATCH_ROWS = 1 << 20


def sibling_items_path(path: Path) -> Path | None:
    """``NAME.items.parquet`` beside ``NAME.parquet``, when it exists."""
    if not path.name.endswith(".parquet") or path.name.endswith(".items.parquet"):
        return None
    candidate = path.with_name(path.name[: -len(".parquet")] + ".items.parquet")
    return candidate if candidate.is_file() else None


def _open_parquet(path: Path, source: Source) -> pq.ParquetFile:
    require_regular(path, "the Parquet file")  # a FIFO would block pyarrow's open, a device never end
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise source.error(
            f"not a Parquet file ({' '.join(str(exc).split())}); pass --format for another format"
        ) from None


def read_parquet_interactions(path: Path, spec, items_path: Path | None = None) -> LoadResult:
    """Interactions from a Parquet file; ``spec`` is a checked ``TableSpec`` (its text options are ignored).

    Problems name the row (1-based) and column; with ``spec.skip_bad_lines`` bad rows are skipped and counted.
    """
    source = Source(str(path), unit="row")
    parquet = _open_parquet(path, source)
    schema = parquet.schema_arrow
    check_columns(source, list(schema.names), spec.wanted())
    for column in (spec.user_col, spec.item_col):
        kind = schema.field(column).type
        if not (pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise source.error(f"holds {kind} values; ids must be integers or strings", column=column)
    for column in (spec.rating_col, spec.order_col):
        if column is not None:
            kind = schema.field(column).type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                raise source.error(f"holds {kind} values; expected numbers", column=column)
    columns = [c for c in (spec.user_col, spec.item_col, spec.rating_col, spec.order_col) if c is not None]
    raw = RawData(
        values=NumberColumn() if spec.rating_col is not None else None,
        order=NumberColumn() if spec.order_col is not None else None,
        lines=NumberColumn(),
    )
    offset = 0
    try:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=columns):
            _add_batch(batch, offset, spec, source, raw)
            offset += batch.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise source.error(f"cannot be read ({' '.join(str(exc).split())})") from None
    metadata = item_metadata_from_table(items_path, spec.item_col) if items_path is not None else None
    return assemble(raw, source, "parquet", duplicates=spec.duplicates, id_type=spec.id_type, item_metadata=metadata)


def _add_batch(batch: pa.RecordBatch, offset: int, spec, source: Source, raw: RawData) -> None:
    n = batch.num_rows
    first_bad = n
    message = column_name = None
    bad = np.zeros(n, dtype=bool)
    checks = []
    for column, what in ((spec.user_col, "user"), (spec.item_col, "item")):
        array = batch.column(column)
        missing = to_numpy(array.is_null())
        checks.append((column, missing, f"missing {what} id"))
        if not pa.types.is_integer(array.type):
            empty = to_numpy(pc.fill_null(pc.equal(array, ""), False))
            checks.append((column, empty, f"empty {what} id; every row needs one"))
    for column, what in ((spec.rating_col, "rating"), (spec.order_col, "order")):
        if column is None:
            continue
        array = batch.column(column)
        checks.append((column, to_numpy(array.is_null()), f"missing {what}"))
        values = to_numpy(pc.fill_null(array.cast(pa.float64()), 0.0))
        checks.append((column, ~np.isfinite(values), "{value} is not a finite number"))
        if what == "rating" and spec.rating_range is not None:
            low, high = spec.rating_range
            outside = (values < low) | (values > high)
            range_text = f"[{show_number(low)}, {show_number(high)}]"
            checks.append((column, outside, "{value} is outside the rating range " + range_text))
    for column, mask, text in checks:
        if mask.any():
            bad |= mask
            row = int(np.argmax(mask))
            if row < first_bad:
                first_bad, column_name = row, column
                value = batch.column(column)[row].as_py()
                message = text.format(value=show_number(value) if isinstance(value, float | int) else repr(value))
    if first_bad < n:
        if not spec.skip_bad_lines:
            raise source.error(message, offset + first_bad + 1, column_name)
        raw.n_bad_lines += int(bad.sum())
        batch = batch.filter(pa.array(~bad))
    raw.users.add(batch.column(spec.user_col))
    raw.items.add(batch.column(spec.item_col))
    if spec.rating_col is not None:
        raw.values.add(batch.column(spec.rating_col).cast(pa.float64()))
    if spec.order_col is not None:
        raw.order.add(batch.column(spec.order_col).cast(pa.float64()))
    raw.lines.add(offset + 1 + np.flatnonzero(~bad))
    raw.n_rows += batch.num_rows


def item_metadata_from_table(
    path: Path, item_col: str = "item_id", sep: str = ",", encoding: str = "utf-8"
) -> Callable[[np.ndarray], dict]:
    """Metadata columns (title, authors, ...) of a Parquet or delimited items table, as a function of the item ids.

    The table's id column is ``item_col`` or else ``item_id``; items missing from it get None. A delimited table
    is read with ``sep`` and ``encoding`` (the interactions file's ``--sep`` and ``--encoding``).
    """
    path = Path(path)
    source = Source(str(path), unit="row" if path.suffix == ".parquet" else "line")
    require_regular(path, "the items table (--items)")
    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        elif len(sep) == 1:
            table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(encoding=encoding),
                                  parse_options=pcsv.ParseOptions(delimiter=sep))
        else:
            table = _literal_split_table(path, sep, encoding, source)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        hint = "; is it the same --sep and --encoding as the interactions file?" if path.suffix != ".parquet" else ""
        raise source.error(f"cannot be read as an items table ({clip(' '.join(str(exc).split()))}){hint}") from None
    binary = [name for name in table.column_names if pa.types.is_binary(table.schema.field(name).type)]
    if binary and path.suffix != ".parquet":  # pyarrow keeps text that is not valid in the encoding as bytes
        raise source.error(
            f"column {quoted(binary[0])} is not valid {encoding} text; pass the file's encoding (--encoding, e.g. "
            "latin-1)"
        )
    id_col = item_col if item_col in table.column_names else "item_id"
    check_columns(source, table.column_names, {"--item-col": id_col})
    ids = to_numpy(table.column(id_col))
    others = {name: to_numpy(table.column(name)) for name in table.column_names if name != id_col}

    def metadata(item_ids: np.ndarray) -> dict:
        keys = ids
        if item_ids.dtype.kind in "iu" and keys.dtype.kind not in "iu":
            keys = np.array([int(k) if str(k).lstrip("-").isdigit() else -(2**62) for k in keys])
        elif item_ids.dtype.kind not in "iu" and keys.dtype.kind in "iu":
            keys = keys.astype(str).astype(object)
        position = {k: i for i, k in enumerate(keys.tolist())}
        at = np.array([position.get(k, -1) for k in item_ids.tolist()], dtype=np.int64)
        columns = {}
        for name, values in others.items():
            column = np.full(item_ids.size, None, dtype=object)
            column[at >= 0] = values[at[at >= 0]]
            columns[name] = column
        return columns

    return metadata


def _literal_split_table(path: Path, sep: str, encoding: str, source: Source) -> pa.Table:
    """A table of strings from a file whose separator is several characters (``::``, no quoting)."""
    from recollective._files import read_regular

    lines = [(number, line) for number, line in enumerate(read_regular(path).decode(encoding).splitlines(), 1) if line]
    if not lines:
        raise source.error("the file is empty; expected a header line naming the columns, then one line per item")
    header = [name.strip() for name in lines[0][1].split(sep)]
    rows = []
    for number, line in lines[1:]:
        fields = line.split(sep)
        if len(fields) != len(header):
            raise source.error(f"{len(fields)} fields separated by {sep!r} but the header has {len(header)}", number)
        rows.append(fields)
    return pa.table({name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(header)})


def write_interactions_parquet(interactions: Interactions, out: Path) -> list[Path]:
    """Write ``out`` (and ``NAME.items.parquet`` when there is item metadata) atomically; return the paths."""
    out = Path(out)
    if not out.name.endswith(".parquet") or out.name.endswith(".items.parquet"):
        raise InvalidParameterError(f"the output file must end in .parquet (not .items.parquet); got {str(out)!r}")
    if not out.parent.is_dir():
        raise DataError(f"{out}: the folder {out.parent} does not exist; create it first")
    rows, cols, values, order = interactions.to_coo()
    columns = {
        "user_id": _id_array(interactions.users.ids[rows]),
        "item_id": _id_array(interactions.items.ids[cols]),
        "value": pa.array(values, type=pa.float64()),
    }
    if order is not None:
        columns["order"] = pa.array(order, type=pa.float64())
    tables = {out: pa.table(columns)}
    if interactions.item_metadata is not None:
        items = {"item_id": _id_array(interactions.items.ids)}
        for name, column in interactions.item_metadata.items():
            items[name] = pa.array(np.asarray(column).tolist())
        tables[out.with_name(out.name[: -len(".parquet")] + ".items.parquet")] = pa.table(items)
    temporary: dict[Path, Path] = {}
    try:
        for target, table in tables.items():
            handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.fchmod(handle, new_file_mode())  # mkstemp makes it 0600; the output gets the usual permissions
            os.close(handle)
            temporary[target] = Path(name)
            pq.write_table(table, name)
        for target, name in temporary.items():
            os.replace(name, target)
    finally:
        for name in temporary.values():
            if name.exists():
                name.unlink()
    return list(tables)


def _id_array(ids: np.ndarray) -> pa.Array:
    return pa.array(
        ids.tolist() if ids.dtype == object else ids, type=pa.string() if ids.dtype == object else pa.int64()
    )
