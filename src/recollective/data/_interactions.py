"""``Interactions``: what users revealed, as an immutable sparse users x items matrix with id maps.

Values are ratings (explicit) or 1.0 (implicit); an optional ``order`` holds a timestamp or position per
interaction (aligned with the matrix's stored entries); ``items`` holds item metadata (title, authors,
primary_author, ...) as columns aligned with item indices. Nothing is ever mutated: ``with_added`` and
``without`` return a new object and the :class:`Delta` a model needs to refit incrementally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp

from recollective.data._csr import csr_structure, find, frozen, gather_float64, lookup, resolve_duplicates
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
        Pairs that were added or whose value (or order) changed, each once, in row-major order.
    added_values : ndarray of float
        Their values in the new object.
    removed_users, removed_items : ndarray of int
        Pairs that were removed, each once, in row-major order.
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


def _as_frozen_csr(matrix, what: str) -> sp.csr_array:
    """``matrix`` itself when it is a read-only float64 csr_array with sorted indices, else a frozen copy."""
    if not sp.issparse(matrix):
        raise DataError(f"{what} must be a scipy.sparse matrix; got {type(matrix).__name__}")
    if (
        isinstance(matrix, sp.csr_array)
        and matrix.dtype == np.float64
        and not any(a.flags.writeable for a in (matrix.data, matrix.indices, matrix.indptr))
    ):
        return matrix
    return frozen(sp.csr_array(matrix, dtype=np.float64, copy=True))


def _read_only(column) -> np.ndarray:
    array = np.asarray(column)
    if array.flags.writeable:
        array = array.copy()
        array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Interactions:
    """Users x items interactions.

    Attributes
    ----------
    matrix : scipy.sparse.csr_array of shape (n_users, n_items), float64
        Read-only, sorted indices. Every stored entry is an interaction, an observed zero included.
    users, items : Vocabulary
        External ids of rows and columns.
    order : scipy.sparse.csr_array or None
        Timestamp or position of each interaction, with exactly the sparsity pattern of ``matrix``.
    item_metadata : mapping of str -> ndarray of shape (n_items,), or None
        Read-only item columns such as ``title``, ``authors``, ``primary_author``.
    """

    matrix: sp.csr_array
    users: Vocabulary
    items: Vocabulary
    order: sp.csr_array | None = None
    item_metadata: dict | None = None

    def __post_init__(self):
        matrix = _as_frozen_csr(self.matrix, "matrix")
        object.__setattr__(self, "matrix", matrix)
        n_users, n_items = matrix.shape
        if n_users != len(self.users) or n_items != len(self.items):
            raise DataError(
                f"matrix shape {matrix.shape} does not match {len(self.users)} users x {len(self.items)} items"
            )
        if self.order is not None:
            order = _as_frozen_csr(self.order, "order")
            same_pattern = order.shape == matrix.shape and order.nnz == matrix.nnz
            if same_pattern and order.indices is not matrix.indices:
                same_pattern = np.array_equal(order.indptr, matrix.indptr) and np.array_equal(
                    order.indices, matrix.indices
                )
            if not same_pattern:
                raise DataError("order must have exactly the sparsity pattern of the matrix")
            object.__setattr__(self, "order", order)
        if self.item_metadata is not None:
            if isinstance(self.item_metadata, MappingProxyType) and all(
                isinstance(c, np.ndarray) and not c.flags.writeable and len(c) == n_items
                for c in self.item_metadata.values()
            ):
                return  # already frozen (shared with the object this one was derived from)
            columns = {}
            for name, column in self.item_metadata.items():
                if len(column) != n_items:
                    raise DataError(f"item metadata column {name!r} has {len(column)} rows for {n_items} items")
                columns[str(name)] = _read_only(column)
            object.__setattr__(self, "item_metadata", MappingProxyType(columns))

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
        users, rows = Vocabulary.encode(user_ids, "user")
        if item_vocabulary_ids is None:
            items, cols = Vocabulary.encode(item_ids, "item")
        else:
            items = Vocabulary(item_vocabulary_ids, "item")
            cols = items.numbers(item_ids)
        order_values = None if order is None else np.asarray(order, dtype=np.float64)
        return cls._from_indices(rows, cols, values, order_values, users, items, item_metadata, duplicates)

    @classmethod
    def _from_indices(
        cls, rows, cols, values, order, users, items, item_metadata=None, duplicates="error", structure=None
    ) -> Interactions:
        """Build from row / column indices into given vocabularies; ``duplicates`` as in ``from_arrays``.

        ``structure`` is ``csr_structure(rows, cols, shape)`` when the caller has it already.
        """
        shape = (len(users), len(items))
        if structure is None:
            structure = csr_structure(rows, cols, shape)
        if structure is None:
            keep = resolve_duplicates(rows, cols, values, order, len(items), duplicates)
            rows, cols, values = rows[keep], cols[keep], values[keep]
            order = None if order is None else order[keep]
            structure = csr_structure(rows, cols, shape)
        del rows, cols
        indptr, indices, perm = structure
        return cls._from_parts(
            {"indptr": indptr, "indices": indices, "perm": perm, "values": values, "order": order},
            users,
            items,
            item_metadata,
        )

    @classmethod
    def _from_parts(cls, parts: dict, users, items, item_metadata=None) -> Interactions:
        """Build from a CSR structure and unpermuted columns, taking them out of ``parts`` (indptr, indices,
        perm, values, order) so each is released as soon as it has been used: loading 10M interactions then
        needs little more memory than the result."""
        shape = (len(users), len(items))
        indptr, indices = parts.pop("indptr"), parts.pop("indices")
        data = gather_float64(parts.pop("values"), parts["perm"])  # values may be compact: gathered into float64
        matrix = frozen(sp.csr_array((data, indices, indptr), shape=shape))
        del data
        order = parts.pop("order")
        order_matrix = None
        if order is not None:
            order_data = gather_float64(order, parts["perm"])
            del order
            order_matrix = frozen(sp.csr_array((order_data, indices, indptr), shape=shape))
        parts.clear()
        return cls(matrix, users, items, order_matrix, item_metadata)

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
        """A new object with these interactions added (existing pairs take the new value) and the delta.

        Within the batch a repeated pair keeps its last value. New ids are appended to the vocabularies (and
        get empty metadata). When this object has an order, added interactions without one get NaN.
        """
        user_ids = np.asarray(user_ids).reshape(-1)
        item_ids = np.asarray(item_ids).reshape(-1)
        n = user_ids.size
        values = np.ones(n) if values is None else np.asarray(values, dtype=np.float64).reshape(-1)
        if item_ids.size != n or values.size != n or (order is not None and np.asarray(order).size != n):
            raise DataError("user ids, item ids, values and order must have the same length")
        if not np.isfinite(values).all():
            raise DataError(f"{int((~np.isfinite(values)).sum())} added value(s) are NaN or infinite")
        if order is not None and self.order is None:
            raise DataError("these interactions have no order; add without order, or build them with one")
        users = self.users.extended(user_ids)
        items = self.items.extended(item_ids)
        rows, cols = users.numbers(user_ids), items.numbers(item_ids)
        old_rows, old_cols, old_values, old_order = self.to_coo()
        all_rows = np.concatenate([old_rows, rows])
        all_cols = np.concatenate([old_cols, cols])
        all_values = np.concatenate([old_values, values])
        all_order = None
        if self.order is not None:
            new_order = np.full(n, np.nan) if order is None else np.asarray(order, dtype=np.float64).reshape(-1)
            all_order = np.concatenate([old_order, new_order])
        keep = resolve_duplicates(all_rows, all_cols, all_values, None, len(items), "last")
        metadata = self.item_metadata
        if metadata is not None and len(items) > self.n_items:
            extra = len(items) - self.n_items
            metadata = {
                k: np.concatenate([np.asarray(v, dtype=object), np.full(extra, None, dtype=object)])
                for k, v in metadata.items()
            }
        new = Interactions._from_indices(
            all_rows[keep],
            all_cols[keep],
            all_values[keep],
            None if all_order is None else all_order[keep],
            users,
            items,
            metadata,
        )
        # the pairs whose stored value (or order) differs from before
        batch_keys = np.unique(rows * len(items) + cols)
        b_rows, b_cols = batch_keys // len(items), batch_keys % len(items)
        new_values = lookup(new.matrix, b_rows, b_cols)
        old_found, old_at = find(old_rows * len(items) + old_cols, batch_keys)
        changed = ~old_found
        changed[old_found] = old_values[old_at[old_found]] != new_values[old_found]
        if self.order is not None:
            new_orders = lookup(new.order, b_rows, b_cols)
            same_order = old_order[old_at[old_found]] == new_orders[old_found]
            both_nan = np.isnan(old_order[old_at[old_found]]) & np.isnan(new_orders[old_found])
            changed[old_found] |= ~(same_order | both_nan)
        delta = Delta(
            added_users=b_rows[changed],
            added_items=b_cols[changed],
            added_values=new_values[changed],
            n_new_users=len(users) - self.n_users,
            n_new_items=len(items) - self.n_items,
        )
        return new, delta

    def without(self, user_idx, item_idx) -> tuple[Interactions, Delta]:
        """A new object without these (user_idx, item_idx) pairs (absent pairs are ignored) and the delta.

        The vocabularies are kept, so users and items left with no interaction keep their index.
        """
        user_idx = np.asarray(user_idx, dtype=np.int64).reshape(-1)
        item_idx = np.asarray(item_idx, dtype=np.int64).reshape(-1)
        if user_idx.size != item_idx.size:
            raise DataError(f"{user_idx.size} user indices but {item_idx.size} item indices")
        rows, cols, values, order = self.to_coo()
        drop = np.isin(rows * self.n_items + cols, user_idx * self.n_items + item_idx)
        keep = ~drop
        new = Interactions._from_indices(
            rows[keep],
            cols[keep],
            values[keep],
            None if order is None else order[keep],
            self.users,
            self.items,
            self.item_metadata,
        )
        return new, Delta(removed_users=rows[drop], removed_items=cols[drop])
