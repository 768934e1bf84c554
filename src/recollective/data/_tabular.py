"""Any CSV / TSV / Parquet file of interactions, given a column mapping.

Text files are read twice at most. The fast path parses 16 MiB segments with ``pyarrow.csv`` (explicit column
types, only the mapped columns, all cores) and keeps each segment in compact form (``_columns``). When it meets
anything it cannot place exactly — a malformed line, a value that does not convert, NaN, a rating out of range,
a repeated (user, item) pair — the exact path reads the file line by line with the ``csv`` module, which names
the line and column of the first problem (or skips and counts malformed lines with ``skip_bad_lines``). Both
paths give identical results on valid files, and nothing is written anywhere while loading.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from recollective.data._arrow import to_numpy
from recollective.data._columns import NumberColumn
from recollective.data._csv_exact import read_exact
from recollective.data._interactions import Interactions
from recollective.data._text import (
    ascii_compatible,
    check_encoding,
    iter_segments,
    read_header,
)
from recollective.data._validation import (
    LoadResult,
    NeedsExactPass,
    RawData,
    Source,
    assemble,
    check_columns,
    check_duplicates_policy,
    check_rating_range,
)
from recollective.errors import DataError, InvalidParameterError

__all__ = ["TableSpec", "load_table", "read_table"]


@dataclass(frozen=True)
class TableSpec:
    """How to read a table of interactions.

    Parameters
    ----------
    user_col, item_col : str
        Columns of the user and item ids (ints or strings).
    rating_col : str or None
        Column of the values; None for implicit data (every value 1.0).
    order_col : str or None
        Column of a timestamp or position (a number), kept as ``Interactions.order``.
    sep : str
        Field separator: one character with CSV quoting (``,``, ``\\t``, ``;``), or a longer literal such as
        ``::`` (no quoting).
    encoding : str
        Text encoding of the file (a Python codec name).
    names : tuple of str or None
        The column names of a file without a header line.
    rating_range : (low, high) or None
        Inclusive range every rating must lie in; None accepts any finite number.
    id_type : {"auto", "str"}
        "auto" reads ids that are all integers as int64; "str" keeps them strings.
    duplicates : {"error", "last", "max"}
        What to do with rows that repeat a (user, item) pair with another value or order (exact duplicate rows
        are always dropped and counted).
    skip_bad_lines : bool
        Skip and count malformed lines instead of failing on the first.
    order_by_position : bool
        Without ``order_col``: use each row's position among the data rows (0, 1, ...) as its order, for files
        whose row order is meaningful (goodbooks-10k's ratings are sorted by time).
    """

    user_col: str = "user_id"
    item_col: str = "item_id"
    rating_col: str | None = None
    order_col: str | None = None
    sep: str = ","
    encoding: str = "utf-8"
    names: tuple[str, ...] | None = None
    rating_range: tuple[float, float] | None = None
    id_type: str = "auto"
    duplicates: str = "error"
    skip_bad_lines: bool = False
    order_by_position: bool = False

    def checked(self) -> TableSpec:
        """The spec with its options validated (InvalidParameterError naming the option)."""
        if not self.sep or "\n" in self.sep or "\r" in self.sep or '"' in self.sep:
            raise InvalidParameterError(
                f"--sep must be a non-empty separator without quotes or newlines; got {self.sep!r}"
            )
        if self.id_type not in ("auto", "str"):
            raise InvalidParameterError(f"id_type must be 'auto' or 'str'; got {self.id_type!r}")
        check_duplicates_policy(self.duplicates)
        if self.order_by_position and self.order_col is not None:
            raise InvalidParameterError("order_by_position and --order-col exclude each other; give one")
        names = tuple(self.names) if self.names is not None else None
        return replace(
            self,
            encoding=check_encoding(self.encoding),
            rating_range=check_rating_range(self.rating_range),
            names=names,
        )

    def wanted(self) -> dict[str, str | None]:
        return {
            "--user-col": self.user_col,
            "--item-col": self.item_col,
            "--rating-col": self.rating_col,
            "--order-col": self.order_col,
        }


FORMATS_BY_SUFFIX = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def read_table(path, format: str | None = None, *, items_path=None, **options) -> LoadResult:
    """Read a CSV, TSV or Parquet file of interactions; ``options`` are :class:`TableSpec` fields.

    ``format`` is "csv", "tsv" (``sep`` defaults to a tab) or "parquet"; by default it follows the suffix
    (``.gz`` ignored). ``items_path`` names a table of item metadata (an ``item_col`` column and any others,
    e.g. title, authors, primary_author); for Parquet, ``NAME.items.parquet`` beside ``NAME.parquet`` is used
    when present.
    """
    path = Path(path)
    unknown = set(options) - {f.name for f in fields(TableSpec)}
    if unknown:
        raise InvalidParameterError(f"unknown table option(s): {', '.join(sorted(unknown))}")
    if format is None:
        suffixes = [s for s in path.suffixes if s != ".gz"]
        format = FORMATS_BY_SUFFIX.get(suffixes[-1].lower() if suffixes else "", "csv")
    if format not in ("csv", "tsv", "parquet"):
        raise InvalidParameterError(f"table format must be csv, tsv or parquet; got {format!r}")
    if format == "tsv" and "sep" not in options:
        options["sep"] = "\t"
    spec = TableSpec(**options).checked()
    if format == "parquet":
        from recollective.data._parquet import read_parquet_interactions, sibling_items_path

        items_path = items_path if items_path is not None else sibling_items_path(path)
        return read_parquet_interactions(path, spec, items_path=items_path)
    metadata = None
    if items_path is not None:
        from recollective.data._parquet import item_metadata_from_table

        metadata = item_metadata_from_table(Path(items_path), spec.item_col, spec.sep, spec.encoding)
    return read_delimited(path, spec, format, item_metadata=metadata)


def load_table(path, format: str | None = None, **options) -> Interactions:
    """:func:`read_table`'s interactions alone."""
    return read_table(path, format, **options).interactions


def read_delimited(path: Path, spec: TableSpec, format: str, **assemble_options) -> LoadResult:
    """Read a delimited text file: the fast path, then the exact path if the fast one cannot finish."""
    source = Source(str(path))
    data: Path | bytes = path
    if not ascii_compatible(spec.encoding):
        data = _transcode(path, spec.encoding, source)
        spec = replace(spec, encoding="utf-8")
    if spec.names is not None:
        names, header_line = list(spec.names), 0
    else:
        names, header_line = read_header(data, spec.sep, spec.encoding, source)
    check_columns(source, names, spec.wanted(), spec.sep)
    try:
        raw = _read_fast(data, spec, names, header_line, source)
        return assemble(raw, source, format, duplicates=spec.duplicates, id_type=spec.id_type, **assemble_options)
    except NeedsExactPass:
        pass
    raw = read_exact(data, spec, names, header_line, source)
    return assemble(raw, source, format, duplicates=spec.duplicates, id_type=spec.id_type, **assemble_options)


def _transcode(path: Path, encoding: str, source: Source) -> bytes:
    """A file in a multi-byte encoding (UTF-16, UTF-32) as UTF-8 bytes, to be read like any other."""
    from recollective.data._text import open_binary

    with open_binary(path) as stream:
        raw = stream.read()
    try:
        return raw.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise source.error(
            f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid {encoding}; pass the file's encoding "
            "(--encoding)"
        ) from None


# --------------------------------------------------------------------------------------------- fast path
def _read_fast(data, spec: TableSpec, names: list[str], header_line: int, source: Source) -> RawData:
    try:
        return _read_fast_typed(data, spec, names, header_line, string_ids=False)
    except NeedsExactPass:
        raise
    except _IdsAreStrings:
        return _read_fast_typed(data, spec, names, header_line, string_ids=True)


class _IdsAreStrings(Exception):
    pass


def _read_fast_typed(data, spec, names, header_line, *, string_ids: bool) -> RawData:
    delimiter = spec.sep
    file_names = list(names)
    dummies: list[str] = []
    if len(spec.sep) > 1:
        if len(spec.sep) != 2 or spec.sep[1] != spec.sep[0]:
            raise NeedsExactPass()  # only doubled one-character separators (ml-1m's '::') have a fast path
        delimiter = spec.sep[0]
        file_names = []
        for i, name in enumerate(names):
            if i:
                dummies.append(f"\x00sep{i}")
                file_names.append(dummies[-1])
            file_names.append(name)
    # Types start narrow (int32 ids, int64 numbers: integers parse fastest and smallest) and widen for the
    # rest of the file at the first segment that needs it (int64 ids, float64 numbers); string ids restart.
    narrow = not string_ids and spec.id_type == "auto"
    types = {
        spec.user_col: pa.int32() if narrow else pa.string(),
        spec.item_col: pa.int32() if narrow else pa.string(),
    }
    numbers = [c for c in (spec.rating_col, spec.order_col) if c is not None]
    types.update({column: pa.int64() for column in numbers})
    if spec.rating_col is not None:
        types[spec.rating_col] = pa.float64()  # ratings are often fractional (half stars): no retry for them
    types.update({dummy: pa.string() for dummy in dummies})
    include = [spec.user_col, spec.item_col, *numbers, *dummies]
    read_options = pcsv.ReadOptions(
        column_names=file_names,
        use_threads=True,
        block_size=1 << 22,
        encoding="utf8" if spec.encoding == "utf-8" else spec.encoding,
    )
    parse_options = pcsv.ParseOptions(
        delimiter=delimiter, quote_char='"' if len(spec.sep) == 1 else False, newlines_in_values=False
    )
    raw = RawData(
        values=NumberColumn() if spec.rating_col is not None else None,
        order=NumberColumn() if spec.order_col is not None or spec.order_by_position else None,
    )
    pool = pa.default_memory_pool()
    for segment in _prefetched(iter_segments(data, header_line)):
        while True:
            convert_options = pcsv.ConvertOptions(
                column_types=types,
                include_columns=include,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                check_utf8=True,
            )
            try:
                table = pcsv.read_csv(
                    pa.BufferReader(segment),
                    read_options=read_options,
                    parse_options=parse_options,
                    convert_options=convert_options,
                )
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeError) as exc:
                if "conversion error" not in str(exc):
                    raise NeedsExactPass() from None
                wider = {
                    c: pa.float64() if c in numbers else pa.int64()
                    for c, t in types.items()
                    if t == pa.int32() or (c in numbers and t == pa.int64())
                }
                if wider:
                    types.update(wider)
                    continue
                if narrow:
                    raise _IdsAreStrings() from None
                raise NeedsExactPass() from None
        if raw.n_rows == 0 and not isinstance(data, bytes):
            raw.reserve(int(table.num_rows * data.stat().st_size / max(1, len(segment)) * 1.02) + 1024)
        del segment
        _check_and_add(table, spec, numbers, dummies, raw)
        del table
        pool.release_unused()  # hand the segment's memory back before the next one
    if raw.users.has_empty_string() or raw.items.has_empty_string():
        raise NeedsExactPass()
    return raw


def _check_and_add(table: pa.Table, spec: TableSpec, numbers: list[str], dummies: list[str], raw: RawData) -> None:
    """Add one parsed segment to ``raw``; NeedsExactPass at anything the exact path must explain."""
    if any(table.column(c).null_count for c in (spec.user_col, spec.item_col, *numbers)):
        raise NeedsExactPass()
    for column in (spec.user_col, spec.item_col):
        # a stray quote closed on a later line makes pyarrow read several lines as one value: the exact path,
        # which reads line by line, rejects (or skips and counts) them instead
        ids = table.column(column)
        if pa.types.is_string(ids.type) and pc.any(pc.match_substring(ids, "\n")).as_py():
            raise NeedsExactPass()
    for dummy in dummies:
        if table.column(dummy).null_count != len(table):
            raise NeedsExactPass()
    raw.users.add(table.column(spec.user_col))
    raw.items.add(table.column(spec.item_col))
    if spec.rating_col is not None:
        for chunk in table.column(spec.rating_col).chunks:
            values = to_numpy(chunk)
            if values.dtype.kind == "f" and not np.isfinite(values).all():
                raise NeedsExactPass()
            if spec.rating_range is not None and values.size:
                low, high = spec.rating_range
                if values.min() < low or values.max() > high:
                    raise NeedsExactPass()
            raw.values.add(values)
    if spec.order_col is not None:
        for chunk in table.column(spec.order_col).chunks:
            order = to_numpy(chunk)
            if order.dtype.kind == "f" and not np.isfinite(order).all():
                raise NeedsExactPass()
            raw.order.add(order)
    elif spec.order_by_position:
        raw.order.add(np.arange(raw.n_rows, raw.n_rows + table.num_rows))
    raw.n_rows += table.num_rows


def _prefetched(segments):
    """The same segments, the next one read by a helper thread while the current one is parsed."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="recollective-read") as reader:
        pending = reader.submit(next, segments, None)
        try:
            while True:
                segment = pending.result()
                if segment is None:
                    return
                pending = reader.submit(next, segments, None)
                yield segment
                del segment
        finally:
            with contextlib.suppress(DataError):  # the consumer stopped already; a late read error changes nothing
                pending.result()
            segments.close()
