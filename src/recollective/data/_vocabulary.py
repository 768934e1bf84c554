"""Vocabularies: stable maps between external ids (``user_id``, ``item_id``) and contiguous indices."""

from __future__ import annotations

import numpy as np

from recollective.errors import DataError

__all__ = ["Vocabulary"]


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
        self._index = {value: i for i, value in enumerate(array.tolist())}

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
            raise DataError(f"unknown {self.name} id {external_id!r}") from None

    def numbers(self, external_ids, missing: str = "error") -> np.ndarray:
        """Indices of many ids; ``missing="negative"`` gives -1 for unknown ids instead of raising."""
        if missing not in ("error", "negative"):
            raise ValueError(f"missing must be 'error' or 'negative'; got {missing!r}")
        values = np.asarray(external_ids).tolist()
        out = np.fromiter((self._index.get(v, -1) for v in values), dtype=np.int64, count=len(values))
        if missing == "error" and (out < 0).any():
            bad = values[int(np.flatnonzero(out < 0)[0])]
            raise DataError(f"unknown {self.name} id {bad!r} ({int((out < 0).sum())} unknown in all)")
        return out

    def extended(self, new_ids) -> Vocabulary:
        """A vocabulary with ``new_ids`` (not yet present) appended after the existing ones."""
        fresh = [v for v in dict.fromkeys(np.asarray(new_ids).tolist()) if v not in self._index]
        if not fresh:
            return self
        return Vocabulary(np.concatenate([self._ids, np.asarray(fresh, dtype=self._ids.dtype)]), self.name)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and np.array_equal(self._ids, other._ids)

    def __hash__(self):
        return hash((self.name, len(self)))

    def __repr__(self) -> str:
        return f"Vocabulary({self.name}, {len(self)} ids)"
