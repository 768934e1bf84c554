"""``Interactions``: what users revealed, as an immutable sparse users x items matrix with id maps.

Values are ratings (explicit) or 1.0 (implicit); an optional ``order`` holds a timestamp or position per
interaction (aligned with the matrix's stored entries); ``items`` holds item metadata (title, authors,
primary_author, ...) as columns aligned with item indices. Nothing is ever mutated: ``with_added`` and
``without`` return a new object and the :class:`Delta` a model needs to refit incrementally.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recollective.data._vocabulary import Vocabulary
from recollective.errors import DataError

__all__ = ["DUPLICATE_POLICIES", "Delta", "Interactions"]

DUPLICATE_POLICIES = ("error", "last", "max")


@dataclass(frozen=True, eq=False)
class Delta:
    """What changed between two Interactions (indices refer to the new object's vocabularies).

    Attributes
    ----------
    added_users, added_items : ndarray of int
        Pairs that were added or whose value changed.
    added_values : ndarray of float
    removed_users, removed_items : ndarray of int
        Pairs that were removed.
    n_new_users, n_new_items : int
        Users / items appended to the vocabularies.
    """

    added_users: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    added_items: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    added_values: np.ndarray = field(default_factory=lambda: np.empty(0))
    removed_users: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    removed_items: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    n_new_users: int = 0
    n_new_items: int = 0

    @property
    def changed_users(self) -> np.ndarray:
        return np.unique(np.concatenate([self.added_users, self.removed_users]))

    @property
    def changed_items(self) -> np.ndarray:
        return np.unique(np.concatenate([self.added_items, self.removed_items]))


def _frozen(matrix: sp.csr_array) -> sp.csr_array:
    matrix.sort_indices()
    for array in (matrix.data, matrix.indices, matrix.indptr):
        array.flags.writeable = False
    return matrix


@dataclass(frozen=True, eq=False)
class Interactions:
    """Users x items interactions.

    Attributes
    ----------
    matrix : scipy.sparse.csr_array of shape (n_users, n_items), float64
        Read-only; explicit zeros are not stored.
    users, items : Vocabulary
        External ids of rows and columns.
    order : scipy.sparse.csr_array or None
        Timestamp or position of each interaction, with exactly the sparsity pattern of ``matrix``.
    item_metadata : dict of str -> ndarray of shape (n_items,), or None
        Item columns such as ``title``, ``authors``, ``primary_author``.
    """

    matrix: sp.csr_array
    users: Vocabulary
    items: Vocabulary
    order: sp.csr_array | None = None
    item_metadata: dict | None = None

    def __post_init__(self):
        n_users, n_items = self.matrix.shape
        if n_users != len(self.users) or n_items != len(self.items):
            raise DataError(
                f"matrix shape {self.matrix.shape} does not match {len(self.users)} users x {len(self.items)} items"
            )
        if self.order is not None and (self.order.shape != self.matrix.shape or self.order.nnz != self.matrix.nnz):
            raise DataError("order must have exactly the sparsity pattern of the matrix")
        if self.item_metadata is not None:
            for name, column in self.item_metadata.items():
                if len(column) != n_items:
                    raise DataError(f"item metadata column {name!r} has {len(column)} rows for {n_items} items")

    # ----------------------------------------------------------------------------------------------- building
    @classmethod
    def from_arrays(
        cls,
        user_ids,
        item_ids,
        values=None,
        order=None,
        *,
        item_metadata: dict | None = None,
        item_vocabulary_ids=None,
        duplicates: str = "error",
    ) -> Interactions:
        """Build from parallel arrays of external ids, values (default 1.0) and an optional order.

        ``duplicates`` decides repeated (user, item) pairs: "error", "last" (the last in input order — or the
        latest by ``order`` when given) or "max". ``item_vocabulary_ids`` fixes the item vocabulary (e.g. every
        book in the catalogue, also those nobody read); its order must match ``item_metadata``.
        """
        if duplicates not in DUPLICATE_POLICIES:
            raise DataError(f"duplicates must be one of {', '.join(DUPLICATE_POLICIES)}; got {duplicates!r}")
        user_ids = np.asarray(user_ids)
        item_ids = np.asarray(item_ids)
        n = user_ids.size
        if item_ids.size != n:
            raise DataError(f"{n} user ids but {item_ids.size} item ids")
        values = np.ones(n) if values is None else np.asarray(values, dtype=np.float64)
        if values.size != n or (order is not None and np.asarray(order).size != n):
            raise DataError("user ids, item ids, values and order must have the same length")
        if not np.isfinite(values).all():
            raise DataError(f"{int((~np.isfinite(values)).sum())} value(s) are NaN or infinite")
        users = Vocabulary(np.unique(user_ids), "user")
        items = Vocabulary(np.unique(item_ids) if item_vocabulary_ids is None else item_vocabulary_ids, "item")
        rows = users.numbers(user_ids)
        cols = items.numbers(item_ids)
        order_values = None if order is None else np.asarray(order, dtype=np.float64)
        keep = _resolve_duplicates(rows, cols, values, order_values, len(items), duplicates)
        rows, cols, values = rows[keep], cols[keep], values[keep]
        matrix = sp.csr_array((values, (rows, cols)), shape=(len(users), len(items)))
        order_matrix = None
        if order_values is not None:
            order_matrix = sp.csr_array((order_values[keep], (rows, cols)), shape=matrix.shape)
            order_matrix = _frozen(order_matrix)
        return cls(_frozen(matrix), users, items, order_matrix, item_metadata)

    # ---------------------------------------------------------------------------------------------- reading
    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_interactions(self) -> int:
        return int(self.matrix.nnz)

    @property
    def density(self) -> float:
        return self.n_interactions / max(1, self.n_users * self.n_items)

    def to_coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(user_idx, item_idx, values, order or None), row-major."""
        coo = self.matrix.tocoo()
        order = None if self.order is None else self.order.tocoo().data
        return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data, order

    # --------------------------------------------------------------------------------------------- changing
    def with_added(self, user_ids, item_ids, values=None, order=None) -> tuple[Interactions, Delta]:
        """A new object with these interactions added (existing pairs take the new value) and the delta."""
        user_ids = np.asarray(user_ids)
        item_ids = np.asarray(item_ids)
        values = np.ones(user_ids.size) if values is None else np.asarray(values, dtype=np.float64)
        users = self.users.extended(user_ids)
        items = self.items.extended(item_ids)
        rows, cols = users.numbers(user_ids), items.numbers(item_ids)
        old_rows, old_cols, old_values, old_order = self.to_coo()
        all_rows = np.concatenate([old_rows, rows])
        all_cols = np.concatenate([old_cols, cols])
        all_values = np.concatenate([old_values, values])
        if self.order is not None:
            new_order = np.full(rows.size, np.nan) if order is None else np.asarray(order, dtype=np.float64)
            all_order = np.concatenate([old_order, new_order])
        else:
            all_order = None
        keep = _resolve_duplicates(all_rows, all_cols, all_values, None, len(items), "last")
        shape = (len(users), len(items))
        matrix = sp.csr_array((all_values[keep], (all_rows[keep], all_cols[keep])), shape=shape)
        order_matrix = None
        if all_order is not None:
            order_matrix = _frozen(sp.csr_array((all_order[keep], (all_rows[keep], all_cols[keep])), shape=shape))
        metadata = self.item_metadata
        if metadata is not None and len(items) > self.n_items:
            extra = len(items) - self.n_items
            metadata = {
                k: np.concatenate([np.asarray(v), np.full(extra, None, dtype=object)]) for k, v in metadata.items()
            }
        new = Interactions(_frozen(matrix), users, items, order_matrix, metadata)
        delta = Delta(
            added_users=rows,
            added_items=cols,
            added_values=values,
            n_new_users=len(users) - self.n_users,
            n_new_items=len(items) - self.n_items,
        )
        return new, delta

    def without(self, user_idx, item_idx) -> tuple[Interactions, Delta]:
        """A new object without these (user_idx, item_idx) pairs (absent pairs are ignored) and the delta."""
        user_idx = np.asarray(user_idx, dtype=np.int64)
        item_idx = np.asarray(item_idx, dtype=np.int64)
        rows, cols, values, order = self.to_coo()
        drop = np.isin(rows * self.n_items + cols, user_idx * self.n_items + item_idx)
        keep = ~drop
        matrix = sp.csr_array((values[keep], (rows[keep], cols[keep])), shape=self.matrix.shape)
        order_matrix = None
        if order is not None:
            order_matrix = _frozen(sp.csr_array((order[keep], (rows[keep], cols[keep])), shape=self.matrix.shape))
        new = Interactions(_frozen(matrix), self.users, self.items, order_matrix, self.item_metadata)
        return new, Delta(removed_users=rows[drop], removed_items=cols[drop])


def _resolve_duplicates(rows, cols, values, order, n_items, policy) -> np.ndarray:
    """Indices of the entries to keep, one per (row, col), by ``policy``."""
    keys = rows.astype(np.int64) * max(1, n_items) + cols
    if policy == "max":
        ranking = np.lexsort((values, keys))
    elif order is not None:
        ranking = np.lexsort((np.arange(keys.size), order, keys))
    else:
        ranking = np.lexsort((np.arange(keys.size), keys))
    sorted_keys = keys[ranking]
    last = np.ones(sorted_keys.size, dtype=bool)
    last[:-1] = sorted_keys[1:] != sorted_keys[:-1]
    if policy == "error" and not last.all():
        dup = int(ranking[int(np.flatnonzero(~last)[0]) + 1])  # the repeated occurrence
        raise DataError(
            f"duplicate (user, item) pair at input row {dup + 1} ({int((~last).sum())} duplicate(s) in all); "
            "choose a duplicate policy: last or max"
        )
    return np.sort(ranking[last])
