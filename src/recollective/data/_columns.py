"""Columns accumulated chunk by chunk in compact form, so a loader's memory follows what it keeps.

Readers (the pyarrow fast path and the exact line-by-line path alike) push each chunk of parsed values into
these accumulators and drop the chunk. Integer ids are kept as int32 when they fit, string ids as int32 codes
into per-chunk dictionaries, numbers as float32 or int32 when that is exact (else float64). Each column is one
growing array (reserved from a size hint, so it is written once and never concatenated); ``finish`` turns
them into the arrays ``Interactions`` is built from.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recollective.data._arrow import to_numpy
from recollective.data._vocabulary import encode_ids

__all__ = ["IdColumn", "NumberColumn"]

_INT_PATTERN = "^-?[0-9]{1,18}$"
_INT32 = np.iinfo(np.int32)


class _Growing:
    """One array that chunks are appended to; capacity grows by a quarter (or to the size hint)."""

    def __init__(self, capacity_hint: int = 0):
        self.array: np.ndarray | None = None
        self.size = 0
        self.capacity_hint = capacity_hint

    def append(self, chunk: np.ndarray) -> None:
        if self.array is None:
            capacity = max(self.capacity_hint, chunk.size, 1024)
            self.array = np.empty(capacity, dtype=chunk.dtype)  # untouched pages cost no memory
        elif chunk.dtype != self.array.dtype:
            self._widen(np.result_type(self.array.dtype, chunk.dtype))
        needed = self.size + chunk.size
        if needed > self.array.size:
            grown = np.empty(max(needed, self.array.size + self.array.size // 4), dtype=self.array.dtype)
            grown[: self.size] = self.array[: self.size]
            self.array = grown
        self.array[self.size : needed] = chunk
        self.size = needed

    def _widen(self, dtype) -> None:
        if dtype == np.float64 or (dtype.kind == "f" and self.array.dtype.kind == "i"):
            dtype = np.dtype(np.float64)
        wider = np.empty(self.array.size, dtype=dtype)
        wider[: self.size] = self.array[: self.size]
        self.array = wider

    def take(self) -> np.ndarray:
        """The values (a view trimmed to size), emptying the accumulator."""
        if self.array is None:
            return np.empty(0, dtype=np.float64)
        out = self.array[: self.size]
        self.array, self.size = None, 0
        return out


class IdColumn:
    """External ids of one column (user or item), accumulated chunk by chunk."""

    def __init__(self, capacity_hint: int = 0):
        self._ints = _Growing(capacity_hint)
        self._codes = _Growing(capacity_hint)
        self._dictionaries: list[pa.Array] = []
        self._code_sizes: list[int] = []

    @property
    def size(self) -> int:
        return self._ints.size + self._codes.size

    def reserve(self, n: int) -> None:
        """Expect about ``n`` ids in all (a hint: the column grows past it when needed)."""
        self._ints.capacity_hint = self._codes.capacity_hint = n

    def add(self, chunk) -> None:
        """Append ids: a pyarrow (chunked) array or an ndarray of ints or strings, without nulls."""
        if isinstance(chunk, pa.ChunkedArray):
            for piece in chunk.chunks:
                self.add(piece)
            return
        if isinstance(chunk, pa.Array):
            if pa.types.is_integer(chunk.type):
                chunk = to_numpy(chunk)
            else:
                self._add_strings(chunk)
                return
        array = np.asarray(chunk)
        if array.dtype.kind in "iu":
            if array.size and (array.min() < _INT32.min or array.max() > _INT32.max):
                self._ints.append(array.astype(np.int64, copy=False))
            else:
                self._ints.append(array.astype(np.int32))
        else:
            self._add_strings(pa.array(array, type=pa.string()))

    def _add_strings(self, chunk: pa.Array) -> None:
        if not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            chunk = chunk.cast(pa.string())
        encoded = pc.dictionary_encode(chunk)
        self._codes.append(to_numpy(encoded.indices).astype(np.int32, copy=False))
        self._dictionaries.append(encoded.dictionary)
        self._code_sizes.append(len(chunk))

    def has_empty_string(self) -> bool:
        """Whether some id is the empty string."""
        return any(len(d) and pc.any(pc.equal(d, "")).as_py() for d in self._dictionaries)

    def finish(self, id_type: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """(sorted distinct ids, index of every id), emptying the accumulator.

        ``id_type`` "auto" turns string ids that are all integer literals into int64 ids (as the fast path
        reads them); "str" keeps every id a string.
        """
        if self._ints.size and self._dictionaries:
            raise AssertionError("ids read both as numbers and as strings")  # no reader does this
        if self._ints.size and id_type == "str":
            self._add_strings(pa.array(self._ints.take().astype(str), type=pa.string()))
        if self._dictionaries:
            return self._finish_strings(id_type)
        return encode_ids(self._ints.take())

    def _finish_strings(self, id_type: str) -> tuple[np.ndarray, np.ndarray]:
        distinct = pc.unique(pa.chunked_array(self._dictionaries, type=pa.string()).combine_chunks())
        strings = to_numpy(distinct)
        keys = strings
        if id_type == "auto" and len(distinct) and pc.all(pc.match_substring_regex(distinct, _INT_PATTERN)).as_py():
            as_ints = to_numpy(pc.cast(distinct, pa.int64()))
            if np.unique(as_ints).size == as_ints.size:  # "7" and "07" would merge: keep strings then
                keys = as_ints
        order = np.argsort(keys, kind="stable")
        ids = keys[order]
        lookup_set = pa.array(strings[order], type=pa.string())
        index_dtype = np.int32 if ids.size < 2**31 else np.int64
        codes = self._codes.take()
        out = np.empty(codes.size, dtype=index_dtype)
        start = 0
        for size, chunk_dictionary in zip(self._code_sizes, self._dictionaries, strict=True):
            mapping = to_numpy(pc.index_in(chunk_dictionary, value_set=lookup_set))
            out[start : start + size] = mapping.astype(index_dtype, copy=False)[codes[start : start + size]]
            start += size
        self._dictionaries, self._code_sizes = [], []
        return ids, out


class NumberColumn:
    """Numbers (ratings, timestamps, line numbers), kept float32 or int32 when that is exact."""

    def __init__(self, capacity_hint: int = 0):
        self._values = _Growing(capacity_hint)

    @property
    def size(self) -> int:
        return self._values.size

    def reserve(self, n: int) -> None:
        """Expect about ``n`` values in all (a hint)."""
        self._values.capacity_hint = n

    def add(self, chunk) -> None:
        if isinstance(chunk, pa.ChunkedArray):
            for piece in chunk.chunks:
                self.add(piece)
            return
        if isinstance(chunk, pa.Array):
            chunk = to_numpy(chunk)
        self._values.append(_compact(np.asarray(chunk)))

    def finish(self, compact: bool = False) -> np.ndarray:
        """All values: float64, or the compact dtype they were kept in when ``compact``."""
        values = self._values.take()
        return values if compact else values.astype(np.float64)


def _compact(array: np.ndarray) -> np.ndarray:
    """The narrowest of int32, float32, int64/float64 that holds ``array`` exactly."""
    if array.dtype.kind in "iu":
        if not array.size or (array.min() >= _INT32.min and array.max() <= _INT32.max):
            return array.astype(np.int32, copy=False)
        return array.astype(np.int64, copy=False)
    array = array.astype(np.float64, copy=False)
    narrow = array.astype(np.float32)
    if np.array_equal(narrow, array):
        return narrow
    del narrow
    if array.size and array.min() >= _INT32.min and array.max() <= _INT32.max:
        as_int = array.astype(np.int32)
        if np.array_equal(as_int, array):
            return as_int
    return array
