"""Boundary checks shared by the metrics: recommendation lists, ``k``, truth matrices, targets and audiences.

Every public metric validates its arguments once, here; the private helpers below each check trust their input.
Array problems raise :class:`~recollective.errors.DataError`, bad scalar arguments
:class:`~recollective.errors.InvalidParameterError`; each message names the argument and the value received.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from recollective._checks import check_unit_share
from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError

__all__ = [
    "check_audience",
    "check_item_range",
    "check_k",
    "check_lists",
    "check_matrix",
    "check_n_items",
    "check_relevance",
    "check_targets",
    "check_unit_share",
]

PADDING = -1
"""Marks an empty slot in a recommendation list (what ``Recommender.recommend`` returns past the last item)."""


def check_lists(item_idx, n_items: int | None = None, *, name: str = "item_idx") -> np.ndarray:
    """Recommendation lists as an int64 array of shape (n_users, width), best first, ``-1`` padding.

    Raises ``DataError`` when the array is not 2-D integer, holds an index below ``-1`` or at or above
    ``n_items``, or repeats an item within one list (a repeat would be counted twice by every metric).
    """
    lists = np.asarray(item_idx)
    if lists.ndim != 2:
        hint = " (for one user's list pass item_idx.reshape(1, -1))" if lists.ndim == 1 else ""
        raise DataError(f"{name} must be a 2-D array of shape (n_users, k); got shape {lists.shape}{hint}")
    if lists.size and not np.issubdtype(lists.dtype, np.integer):
        raise DataError(f"{name} must hold integer item indices (-1 for padding); got dtype {lists.dtype}")
    lists = lists.astype(np.int64, copy=False)
    if lists.size == 0:
        return lists
    low = lists < PADDING
    if low.any():
        row, col = np.argwhere(low)[0]
        raise DataError(f"{name}[{row}, {col}] = {lists[row, col]}: item indices must be >= 0, or -1 for an empty slot")
    if n_items is not None:
        check_item_range(lists, n_items, name=name)
    ordered = np.sort(lists, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if repeated.any():
        row, col = np.argwhere(repeated)[0]
        raise DataError(
            f"{name} row {row} recommends item {ordered[row, col + 1]} more than once; each list must hold "
            "distinct items"
        )
    return lists


def check_item_range(lists: np.ndarray, n_items: int, *, name: str = "item_idx") -> None:
    """Raise ``DataError`` when a checked list array holds an item index at or above ``n_items``."""
    high = lists >= n_items
    if high.any():
        row, col = np.argwhere(high)[0]
        raise DataError(
            f"{name}[{row}, {col}] = {lists[row, col]} is out of range: the catalogue has {n_items} items "
            f"(indices 0..{n_items - 1}); were the lists made for another matrix?"
        )


def check_k(k, width: int) -> int:
    """``k`` as an int in ``1..width``; ``None`` means the full width of the lists."""
    if k is None:
        if width < 1:
            raise InvalidParameterError("the recommendation lists are empty (width 0); nothing to evaluate")
        return width
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidParameterError(f"k must be an integer >= 1; got {k!r}")
    if k > width:
        raise InvalidParameterError(
            f"k={k} but the lists hold only {width} items per user; pass k <= {width}, or pad the lists "
            "with -1 to width k"
        )
    return int(k)


def check_n_items(n_items) -> int:
    if isinstance(n_items, bool) or not isinstance(n_items, int | np.integer) or n_items < 1:
        raise InvalidParameterError(f"n_items must be an integer >= 1 (the catalogue size); got {n_items!r}")
    return int(n_items)


def check_matrix(matrix, name: str) -> sp.csr_array:
    """A users x items matrix (scipy sparse or ``Interactions``) as a canonical CSR array with finite values."""
    if isinstance(matrix, Interactions):
        matrix = matrix.matrix
    if not sp.issparse(matrix):
        raise DataError(
            f"{name} must be a scipy sparse users x items matrix or an Interactions; got {type(matrix).__name__}"
        )
    csr = sp.csr_array(matrix)
    if not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    if csr.nnz and not np.all(np.isfinite(csr.data)):
        raise DataError(f"{name} holds non-finite values (NaN or inf); clean them before evaluating")
    return csr


def check_relevance(truth, n_users: int, relevance_threshold=None, *, name: str = "truth") -> sp.csr_array:
    """The relevant entries of ``truth`` (stored, and ``>= relevance_threshold`` when given) as a canonical CSR of ones.

    ``truth`` must have one row per recommended user (``n_users`` rows).
    """
    csr = check_matrix(truth, name)
    if csr.shape[0] != n_users:
        raise DataError(
            f"{name} has {csr.shape[0]} rows but item_idx has {n_users}; row u of {name} must be the held-out "
            "interactions of the user whose list is item_idx[u] (select them with truth[users])"
        )
    keep = np.ones(csr.nnz, dtype=bool)
    if relevance_threshold is not None:
        if (
            isinstance(relevance_threshold, bool)
            or not isinstance(relevance_threshold, int | float | np.integer | np.floating)
            or (not math.isfinite(relevance_threshold))
        ):
            raise InvalidParameterError(
                f"relevance_threshold must be a finite number or None; got {relevance_threshold!r}"
            )
        keep = csr.data >= relevance_threshold
    rows = np.repeat(np.arange(n_users), np.diff(csr.indptr))[keep]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_users))))
    relevant = sp.csr_array((np.ones(rows.size), csr.indices[keep], indptr), shape=csr.shape)
    relevant.has_canonical_format = True  # a subset of a canonical matrix, in the same order
    return relevant


def check_targets(targets, n_items: int | None = None) -> np.ndarray:
    """Target items as sorted unique int64 indices (from indices or a boolean mask over the catalogue)."""
    array = np.asarray(targets)
    if array.dtype == bool:
        if array.ndim != 1 or (n_items is not None and array.size != n_items):
            raise DataError(
                f"targets given as a boolean mask must have shape ({n_items if n_items else 'n_items'},); "
                f"got {array.shape}"
            )
        return np.flatnonzero(array).astype(np.int64)
    array = array.reshape(-1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"targets must be item indices (integers) or a boolean mask; got dtype {array.dtype}")
    array = np.unique(array.astype(np.int64))
    if array.size and array[0] < 0:
        raise DataError(f"targets must be item indices >= 0; got {array[0]}")
    if array.size and n_items is not None and array[-1] >= n_items:
        raise DataError(f"target item {array[-1]} is out of range: the catalogue has {n_items} items")
    return array


def check_audience(audience, n_users: int) -> np.ndarray:
    """An audience (``None`` = every user, a boolean mask, or user indices) as a boolean mask of shape (n_users,)."""
    if audience is None:
        return np.ones(n_users, dtype=bool)
    array = np.asarray(audience)
    if array.dtype == bool:
        if array.shape != (n_users,):
            raise DataError(f"audience given as a boolean mask must have shape ({n_users},); got {array.shape}")
        return array
    array = array.reshape(-1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"audience must be user row indices (integers) or a boolean mask; got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= n_users):
        bad = array[(array < 0) | (array >= n_users)][0]
        raise DataError(f"audience index {bad} is out of range: item_idx has {n_users} rows")
    mask = np.zeros(n_users, dtype=bool)
    mask[array] = True
    return mask
