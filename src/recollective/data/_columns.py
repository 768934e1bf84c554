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

    def append(self, chunk: np.ndarray, dtype=None) -> None:
        """Append ``chunk``, stored as ``dtype`` (default its own; the caller checked the cast is exact)."""
        dtype = np.dtype(dtype or chunk.dtype)
        if self.array is None:
            capacity = max(self.capacity_hint, chunk.size, 1024)
            self.array = np.empty(capacity, dtype=dtype)  # untouched pages cost no memory
        elif dtype != self.array.dtype:
            self._widen(np.result_type(self.array.dtype, dtype))
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
        if array.dtype == np.int32:
            self._ints.append(array)
        elif array.dtype.kind in "iu":
            fits = not array.size or (array.min() >= _INT32.min and array.max() <= _INT32.max)
            self._ints.append(array, np.int32 if fits else np.int64)
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
        return encode_ids(self._ints.take(), overwrite=True)

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
    """Numbers (ratings, timestamps, line numbers), kept float32 or int32 when that is exact.

    The values live in a float64 buffer sized for the whole column, the compact 4-byte values packed in its
    first half (untouched pages cost no memory). ``finish()`` widens them to float64 in place, from the end
    backwards, so the float64 column never coexists with a compact copy.
    """

    def __init__(self, capacity_hint: int = 0):
        self._buffer: np.ndarray | None = None  # float64, the capacity
        self._dtype: np.dtype | None = None  # how the values are stored in it
        self.size = 0
        self.capacity_hint = capacity_hint

    def reserve(self, n: int) -> None:
        """Expect about ``n`` values in all (a hint)."""
        self.capacity_hint = n

    def _stored(self) -> np.ndarray:
        """The buffer seen in the stored dtype (all of its capacity)."""
        return self._buffer.view(self._dtype)

    def add(self, chunk) -> None:
        if isinstance(chunk, pa.ChunkedArray):
            for piece in chunk.chunks:
                self.add(piece)
            return
        if isinstance(chunk, pa.Array):
            chunk = to_numpy(chunk)
        values, dtype = _compact(np.asarray(chunk))
        if self._buffer is None:
            self._buffer = np.empty(max(self.capacity_hint, values.size, 1024), dtype=np.float64)
            self._dtype = dtype
        elif dtype != self._dtype:
            wider = np.result_type(self._dtype, dtype)
            if wider.itemsize == 8:  # int64 is kept as float64: the column ends as float64 anyway
                self._widen_in_place()
            else:
                self._dtype = wider
        needed = self.size + values.size
        if needed > self._buffer.size:
            grown = np.empty(max(needed, self._buffer.size + self._buffer.size // 4), dtype=np.float64)
            grown.view(self._dtype)[: self.size] = self._stored()[: self.size]
            self._buffer = grown
        self._stored()[self.size : needed] = values
        self.size = needed

    def _widen_in_place(self) -> None:
        """Turn the stored 4-byte values into float64 in the same buffer, last block first (a block's output
        covers only inputs at or after its own start, all read by then)."""
        if self._dtype == np.float64:
            return
        if self._dtype.itemsize == 4:
            compact, wide = self._stored(), self._buffer
            block = 1 << 16
            for stop in range(self.size, 0, -block):
                start = max(0, stop - block)
                wide[start:stop] = compact[start:stop].astype(np.float64)  # read (copied) before written
        else:
            self._buffer[: self.size] = self._buffer.view(self._dtype)[: self.size].astype(np.float64)
        self._dtype = np.dtype(np.float64)

    def finish(self, compact: bool = False) -> np.ndarray:
        """All values, emptying the column: float64 (widened in place), or as kept when ``compact``."""
        if self._buffer is None:
            return np.empty(0, dtype=np.float64)
        if not compact:
            self._widen_in_place()
        out = self._stored()[: self.size]
        self._buffer, self._dtype, self.size = None, None, 0
        return out


def _compact(array: np.ndarray) -> tuple[np.ndarray, np.dtype]:
    """(values, dtype to store them in): the narrowest of int32, float32, int64 / float64 that holds ``array``
    exactly (the cast happens when the values are copied into the column)."""
    if array.dtype.kind in "iu":
        fits = not array.size or (array.min() >= _INT32.min and array.max() <= _INT32.max)
        return array, np.dtype(np.int32 if fits else np.int64)
    array = array.astype(np.float64, copy=False)
    narrow = array.astype(np.float32)
    if np.array_equal(narrow, array):
        return narrow, narrow.dtype
    del narrow
    if array.size and array.min() >= _INT32.min and array.max() <= _INT32.max:
        as_int = array.astype(np.int32)
        if np.array_equal(as_int, array):
            return as_int, as_int.dtype
    return array, array.dtype
