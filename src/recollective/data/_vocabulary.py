"""Vocabularies: stable maps between external ids (``user_id``, ``item_id``) and contiguous indices."""

from __future__ import annotations

import numpy as np

from recollective.errors import DataError, quoted

__all__ = ["Vocabulary", "encode_ids"]

# Integer ids in [0, max] are indexed through a lookup table when max is at most this many times the number of
# ids (or below _LUT_FLOOR): O(n) instead of a sort.
_LUT_FACTOR = 8
_LUT_FLOOR = 1 << 22


class Vocabulary:
    """External ids in index order; ``number`` / ``numbers`` map ids to indices, ``ids`` is read-only.

    Parameters
    ----------
    ids : array-like
        Distinct external ids (ints or strings); index i is ``ids[i]``.
    name : str
        What the ids are ("user", "item"), for error messages.
    """

    def __init__(self, ids, name: str = "id"):
        array = np.asarray(ids)
        if array.ndim != 1:
            raise DataError(f"{name} ids must be one-dimensional; got shape {array.shape}")
        if array.dtype.kind == "U":
            array = array.astype(object)
        unique = np.unique(array) if array.size else array
        if unique.size != array.size:
            raise DataError(f"{name} ids must be distinct; {array.size - unique.size} duplicate(s)")
        array = array.copy()
        array.flags.writeable = False
        self._ids = array
        self.name = name
        self._index_cache: dict | None = None

    @classmethod
    def _trusted(cls, ids: np.ndarray, name: str) -> Vocabulary:
        """A vocabulary over ids already known to be distinct (no check, no copy); ``ids`` becomes read-only."""
        vocabulary = cls.__new__(cls)
        ids.flags.writeable = False
        vocabulary._ids = ids
        vocabulary.name = name
        vocabulary._index_cache = None
        return vocabulary

    @classmethod
    def encode(cls, values, name: str = "id") -> tuple[Vocabulary, np.ndarray]:
        """The vocabulary of the distinct ``values`` (sorted) and the index of every value in it.

        Returns
        -------
        vocabulary : Vocabulary
        idx : ndarray of shape (len(values),), int32 when it fits, else int64
        """
        ids, idx = encode_ids(values)
        return cls._trusted(ids, name), idx

    @property
    def _index(self) -> dict:
        # built on first lookup: loading a large file never needs it
        if self._index_cache is None:
            self._index_cache = {value: i for i, value in enumerate(self._ids.tolist())}
        return self._index_cache

    @property
    def ids(self) -> np.ndarray:
        return self._ids

    def __len__(self) -> int:
        return int(self._ids.size)

    def __contains__(self, external_id) -> bool:
        return external_id in self._index

    def number(self, external_id) -> int:
        """Index of one id; DataError naming the id when it is unknown."""
        try:
            return self._index[external_id]
        except (KeyError, TypeError):
            raise DataError(f"unknown {self.name} id {quoted(external_id)}") from None

    def numbers(self, external_ids, missing: str = "error") -> np.ndarray:
        """Indices of many ids; ``missing="negative"`` gives -1 for unknown ids instead of raising."""
        if missing not in ("error", "negative"):
            raise ValueError(f"missing must be 'error' or 'negative'; got {missing!r}")
        values = np.asarray(external_ids).tolist()
        index = self._index
        out = np.fromiter((index.get(v, -1) for v in values), dtype=np.int64, count=len(values))
        if missing == "error" and (out < 0).any():
            bad = values[int(np.flatnonzero(out < 0)[0])]
            raise DataError(f"unknown {self.name} id {quoted(bad)} ({int((out < 0).sum())} unknown in all)")
        return out

    def extended(self, new_ids) -> Vocabulary:
        """A vocabulary with ``new_ids`` (not yet present) appended after the existing ones."""
        index = self._index
        fresh = [v for v in dict.fromkeys(np.asarray(new_ids).tolist()) if v not in index]
        if not fresh:
            return self
        kind = self._ids.dtype.kind
        if self._ids.size and kind in "iu" and not all(isinstance(v, int) for v in fresh):
            raise DataError(f"new {self.name} ids {fresh[:3]!r} are not integers like the existing ids")
        dtype = self._ids.dtype if self._ids.size else None
        return Vocabulary(np.concatenate([self._ids, np.asarray(fresh, dtype=dtype)]), self.name)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and np.array_equal(self._ids, other._ids)

    def __hash__(self):
        return hash((self.name, len(self)))

    def __repr__(self) -> str:
        return f"Vocabulary({self.name}, {len(self)} ids)"


def encode_ids(values, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ids and the index of each value among them (``np.unique(..., return_inverse=True)``).

    Non-negative integers with a moderate maximum go through a lookup table (O(n)); strings through
    pyarrow's hash-based dictionary encoding; anything else through ``np.unique``.

    ``overwrite=True`` lets an int32 ``values`` array be turned into its indices in place (no second copy).

    Returns
    -------
    ids : ndarray of shape (n_distinct,)
        int64 for integer input, object (str) for strings.
    idx : ndarray of shape (len(values),)
        int32 when ``n_distinct`` fits, else int64.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise DataError(f"ids must be one-dimensional; got shape {array.shape}")
    if array.size == 0:
        empty = np.empty(0, dtype=np.int64 if array.dtype.kind in "iuf" else object)
        return empty, np.empty(0, dtype=np.int32)
    if array.dtype.kind in "iu":
        low, high = int(array.min()), int(array.max())
        if low >= 0 and high < max(_LUT_FLOOR, _LUT_FACTOR * array.size):
            present = np.zeros(high + 1, dtype=bool)
            present[array] = True
            ids = np.flatnonzero(present)
            index_dtype = np.int32 if ids.size < 2**31 else np.int64
            lookup = np.cumsum(present, dtype=index_dtype)
            lookup -= 1
            if overwrite and array.dtype == index_dtype and array.flags.writeable:
                for start in range(0, array.size, 1 << 20):  # in place, block by block
                    block = array[start : start + (1 << 20)]
                    block[:] = lookup[block]
                return ids.astype(np.int64, copy=False), array
            return ids.astype(np.int64, copy=False), lookup[array]
        ids, idx = np.unique(array, return_inverse=True)
        return ids.astype(np.int64, copy=False), _narrow(idx, ids.size)
    if array.dtype.kind in "UO":
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            strings = pa.array(array, type=pa.string())
            if isinstance(strings, pa.ChunkedArray):  # large numpy unicode arrays convert in chunks
                strings = strings.combine_chunks()
            encoded = pc.dictionary_encode(strings)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            encoded = None
        if encoded is not None:
            from recollective.data._arrow import to_numpy

            return sort_dictionary(to_numpy(encoded.dictionary), to_numpy(encoded.indices))
    ids, idx = np.unique(array, return_inverse=True)
    return (ids.astype(object) if ids.dtype.kind == "U" else ids), _narrow(idx, ids.size)


def sort_dictionary(dictionary: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort a dictionary encoding: (sorted dictionary, indices into it)."""
    order = np.argsort(dictionary, kind="stable")
    rank = np.empty(order.size, dtype=np.int32 if order.size < 2**31 else np.int64)
    rank[order] = np.arange(order.size, dtype=rank.dtype)
    return dictionary[order], rank[indices]


def _narrow(idx: np.ndarray, n_distinct: int) -> np.ndarray:
    return idx.astype(np.int32 if n_distinct < 2**31 else np.int64, copy=False).reshape(-1)
