"""Exact top-k for factor models without scoring every item: items in decreasing norm, pruned by Cauchy-Schwarz.

A factor model scores user ``u`` and item ``i`` as ``finish(x_u . w_i)``: ``x_u`` a row of user factors, ``w_i``
a column of an item matrix ``W`` (r x n_items, float64), ``finish`` a non-decreasing map (a rounding to float32, or
setting rounding noise to exactly 0). The floating-point dot product obeys ``x_u . w_i <= |x_u| |w_i| (1 + r eps)``
whatever order BLAS sums it in, so once a user's k-th best score over the highest-norm items is ``t``, no item
whose bound ``|x_u| |w_i| (1 + margin)`` lies below the model's cutoff for ``t`` (``finish`` of anything below the
cutoff is below ``t``) can enter, or tie into, the user's top k. :func:`top_k_factors` scores a prefix of the items
in norm order (2,048 to start), reads each user's cutoff, and lengthens the prefix only for users whose bound
still reaches past it. On catalogues whose item norms fall off, as popularity does, a few thousand items decide
nearly every user (measured on a 420,354-item goodbooks stand-in: the median user needs 78 items under PureSVD,
1,226 under ALS; ``benchmarks/README.md``).

The answer is :func:`~recollective.models._ranking.top_k` of the user's scores over every item: the same items in
the same order (ties by lower item index). The scores come from a product over fewer columns, which BLAS may sum in
a different order than the full product, so they can differ from the dense block's in the last bit, as the dense
blocks of two different chunks of users already do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from recollective.models._ranking import DEFAULT_BLOCK_BYTES, top_k_sparse

__all__ = ["NormOrder", "prunes", "top_k_factors"]

FIRST_PREFIX = 2048
"""Items scored for every user first (the highest-norm ones)."""

MAX_PREFIX_SHARE = 0.125
"""Users whose bound reaches past this share of the items are left to the dense path (``undecided``)."""

BOUND_MARGIN = 1e-9
"""Relative slack on ``|x_u| |w_i|``: covers the dot product's and the norms' rounding for up to 10^6 factors."""


class NormOrder:
    """The items of an item matrix ``W`` (r x n_items) by decreasing column norm, ties by lower index.

    Attributes
    ----------
    source : ndarray of shape (r, n_items)
        ``W`` itself (held, so an index is rebuilt when a model replaces its matrix).
    order : ndarray of int64, shape (n_items,)
        Item indices, largest ``|w_i|`` first.
    norms : ndarray of shape (n_items,)
        ``|w_i|`` in that order (non-increasing).
    position : ndarray of int64, shape (n_items,)
        ``position[i]``: where item ``i`` sits in ``order``.
    """

    def __init__(self, item_matrix: np.ndarray):
        self.source = item_matrix
        norms = np.sqrt(np.einsum("ij,ij->j", item_matrix, item_matrix))
        self.order = np.lexsort((np.arange(norms.size), -norms)).astype(np.int64)
        self.norms = norms[self.order]
        self.position = np.empty_like(self.order)
        self.position[self.order] = np.arange(norms.size)
        self._head = np.ascontiguousarray(item_matrix[:, :0])

    @property
    def n_items(self) -> int:
        return int(self.order.size)

    def head(self, length: int) -> np.ndarray:
        """``W[:, order[:length]]`` (r x length), kept between calls and grown by doubling."""
        if self._head.shape[1] < length:
            grown = min(self.n_items, max(length, 2 * self._head.shape[1]))
            self._head = np.ascontiguousarray(self.source[:, self.order[:grown]])
        return self._head[:, :length]

    def reach(self, user_norms: np.ndarray, cutoff: np.ndarray) -> np.ndarray:
        """How many leading items each user must score: those with ``|x_u| |w_i| (1 + margin) >= cutoff``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            least = cutoff / (user_norms * (1.0 + BOUND_MARGIN))
        return np.searchsorted(-self.norms, -least, side="right")


def prunes(n_items: int, k: int) -> bool:
    """Whether :func:`top_k_factors` can decide any row: its first prefix (``FIRST_PREFIX``) fits within
    ``MAX_PREFIX_SHARE`` of the items."""
    return min(n_items, max(FIRST_PREFIX, 2 * int(k))) <= max(int(k), int(MAX_PREFIX_SHARE * n_items))


def top_k_factors(
    user_vectors: np.ndarray,
    index: NormOrder,
    k: int,
    seen: sp.csr_array | None,
    finish: Callable[[np.ndarray], np.ndarray],
    cutoff: Callable[[np.ndarray], np.ndarray],
    dtype=np.float64,
    *,
    first: int | None = None,
    max_share: float | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best items of ``finish(user_vectors @ index.source)`` per row, seen items out, over a norm prefix.

    Parameters
    ----------
    user_vectors : ndarray of shape (n_rows, r), float64
    index : NormOrder
        Of the item matrix the rows are scored against.
    k : int >= 1
    seen : csr_array of shape (n_rows, n_items), optional
        Items to leave out of each row.
    finish : callable
        Non-decreasing, elementwise: a float64 block of products -> a fresh, writable block of scores in ``dtype``.
    cutoff : callable
        The rows' k-th scores (ndarray of ``dtype``) -> float64 ``c`` with ``finish(x) < kth`` for every ``x < c``;
        NaN or ``c <= 0`` where none can be given (no pruning for that row).
    dtype : numpy dtype
        Of the scores ``finish`` returns.
    first : int, default ``FIRST_PREFIX``
        The first prefix's length (at least ``2 k`` is used).
    max_share : float, default ``MAX_PREFIX_SHARE``
        Rows that need more than this share of the items are not ranked here.
    block_bytes : int
        Peak size of one block of prefix scores.

    Returns
    -------
    item_idx, scores : ndarray of shape (n_rows, min(k, n_items))
        As :func:`~recollective.models._ranking.top_k` for the decided rows (best first, ties by lower index);
        ``-1`` / ``-inf`` in undecided rows.
    undecided : ndarray of bool, shape (n_rows,)
        Rows left for the dense path: their bound reaches past ``max_share`` of the items, their k-th score gives
        no positive cutoff, or they have fewer than ``k`` unseen items.
    """
    n_rows, n_items = user_vectors.shape[0], index.n_items
    kk = min(int(k), n_items)
    items = np.full((n_rows, kk), -1, np.int64)
    values = np.full((n_rows, kk), -np.inf, dtype)
    undecided = np.zeros(n_rows, bool)
    if n_rows == 0 or kk == 0:
        return items, values, undecided
    first = FIRST_PREFIX if first is None else int(first)
    limit = max(kk, int((MAX_PREFIX_SHARE if max_share is None else max_share) * n_items))
    user_norms = np.sqrt(np.einsum("ij,ij->i", user_vectors, user_vectors))
    seen = sp.csr_array(seen) if seen is not None else None
    pending = [(np.arange(n_rows), min(n_items, max(first, 2 * kk)))]
    while pending:
        rows, length = pending.pop()
        if length > limit:
            undecided[rows] = True
            continue
        step = max(1, block_bytes // (8 * length))
        for start in range(0, rows.size, step):
            chunk = rows[start : start + step]
            block = finish(user_vectors[chunk] @ index.head(length))
            if seen is not None:
                _exclude_in_prefix(block, seen[chunk], index.position, length)
            kth = np.partition(block, length - kk, axis=1)[:, length - kk]
            bound = np.asarray(cutoff(kth), dtype=np.float64)
            usable = np.isfinite(bound) & (bound > 0)
            reach = np.full(chunk.size, n_items, np.int64)
            reach[usable] = index.reach(user_norms[chunk[usable]], bound[usable])
            done = usable & (reach <= length)
            if done.any():  # every kept score is positive, so the sparse ranking of the candidates is exact
                items[chunk[done]], values[chunk[done]] = top_k_sparse(
                    _candidates(block[done], kth[done], index.order), kk, dtype=dtype)
            if length >= n_items:
                undecided[chunk[~done]] = True
                continue
            short = np.isneginf(kth)  # fewer than k unseen items in the prefix: a longer one may do
            undecided[chunk[~usable & ~short]] = True  # no positive cutoff from this prefix: the dense path ranks it
            again = ~done & (usable | short)
            wanted = np.maximum(np.where(usable, reach, 0)[again], 2 * length)
            lengths = np.minimum(n_items, length * 2 ** np.ceil(np.log2(wanted / length)).astype(np.int64))
            for longer in np.unique(lengths).tolist():
                pending.append((chunk[again][lengths == longer], int(longer)))
    return items, values, undecided


def _exclude_in_prefix(block: np.ndarray, seen: sp.csr_array, position: np.ndarray, length: int) -> None:
    """``-inf`` in ``block`` (rows of ``seen``, columns = the first ``length`` items in norm order) at seen items."""
    rows = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
    where = position[seen.indices]
    inside = where < length
    block[rows[inside], where[inside]] = -np.inf


def _candidates(block: np.ndarray, kth: np.ndarray, order: np.ndarray) -> sp.csr_array:
    """Each block row's scores at or above its k-th, at their item indices (``order`` maps block columns to items)."""
    row, column = np.nonzero(block >= kth[:, None])
    return sp.csr_array((block[row, column], (row, order[column])), shape=(block.shape[0], order.size))
