"""Shared ranking: top-k per row of a score block, seen items excluded, ties broken by lower item index.

Every model ranks through :func:`top_k`, so no two models can differ in how they exclude or order items.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.sparse as sp

__all__ = ["DEFAULT_BLOCK_BYTES", "chunk_rows", "exclude_seen", "single_torch_thread", "top_k", "top_k_sparse"]

DEFAULT_BLOCK_BYTES = 32 * 2**20
"""Target size of one dense score block; bounds peak memory whatever the number of users."""


@contextlib.contextmanager
def single_torch_thread():
    """Rank with one torch thread (restored after): torch's OpenMP pool and the BLAS pool that scores the blocks
    would otherwise spin against each other on the same cores between blocks (measured 2x slower on 2 cores)."""
    torch = _torch()
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def chunk_rows(n_items: int, itemsize: int = 8, block_bytes: int = DEFAULT_BLOCK_BYTES) -> int:
    """How many users to score at once so that one dense block stays near ``block_bytes``."""
    return max(1, int(block_bytes // max(1, n_items * itemsize)))


def exclude_seen(block: np.ndarray, seen: sp.csr_array) -> None:
    """Set ``block[i, j] = -inf`` in place wherever ``seen[i, j]`` is stored (``seen`` has ``block``'s shape)."""
    if seen.nnz:
        rows = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
        block[rows, seen.indices] = -np.inf


def top_k(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best items of each row, best first, ties broken by lower item index.

    Exact whichever backend selects: torch's multi-threaded ``topk`` for large blocks when torch is installed,
    numpy's ``argpartition`` otherwise; rows whose ``k``-th value ties with an item outside the selection are
    recomputed exactly, so both give the same answer.

    Parameters
    ----------
    block : ndarray of shape (n_rows, n_items)
        Finite scores; ``-inf`` marks excluded items. Not modified.
    k : int >= 1

    Returns
    -------
    item_idx : ndarray of int64, shape (n_rows, min(k, n_items))
        Item indices, best first; ``-1`` where a row has fewer than ``k`` non-excluded items.
    scores : ndarray of shape (n_rows, min(k, n_items))
        Their scores (``-inf`` where ``item_idx`` is ``-1``).
    """
    n_rows, n_items = block.shape
    kk = min(int(k), n_items)
    if n_rows == 0 or kk == 0:
        return np.empty((n_rows, kk), np.int64), np.empty((n_rows, kk), block.dtype)
    if kk == n_items:
        items = np.broadcast_to(np.arange(n_items), (n_rows, n_items)).copy()
        values = block.copy()
    elif block.size >= _TORCH_MIN_SIZE and _torch() is not None:
        items, values = _top_torch(block, kk)
    else:
        items, values = _top_numpy(block, kk)
    order = np.lexsort((items, -values), axis=1)
    items = np.take_along_axis(items, order, axis=1).astype(np.int64, copy=False)
    values = np.take_along_axis(values, order, axis=1)
    items[np.isneginf(values)] = -1
    return items, values


def top_k_sparse(
    scores: sp.csr_array, k: int, seen: sp.csr_array | None = None, dtype=np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_k` of the dense block ``scores.toarray()`` with ``-inf`` at ``seen``, without the dense block.

    For models whose scores are sparse (item-kNN: an item scores only when it neighbours one of the user's items):
    every item ``scores`` does not store scores exactly 0. Per row the answer is the stored positive scores
    (larger first, then lower index), then zero-score items in increasing index order, then the stored negative
    scores, cut at ``k``; seen items are never listed. That is the dense ranking exactly (tested), at a cost that
    grows with the stored entries rather than with ``n_rows * n_items``.

    Parameters
    ----------
    scores : csr_array of shape (n_rows, n_items)
        Finite scores.
    k : int >= 1
    seen : csr_array of shape (n_rows, n_items), optional
        Items to leave out of each row (stored entries; values ignored).
    dtype : numpy dtype, default float64
        Of the returned scores.

    Returns
    -------
    item_idx, scores : ndarray of shape (n_rows, min(k, n_items))
        As :func:`top_k`: best first, ``-1`` / ``-inf`` where a row has fewer than ``k`` items left.
    """
    scores = sp.csr_array(scores)
    n_rows, n_items = scores.shape
    kk = min(int(k), n_items)
    items = np.full((n_rows, kk), -1, np.int64)
    values = np.full((n_rows, kk), -np.inf, dtype)
    if n_rows == 0 or kk == 0:
        return items, values
    scores.sum_duplicates()
    row = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(scores.indptr))
    col = scores.indices.astype(np.int64)
    val = scores.data.astype(dtype, copy=False)
    seen_keys = _row_keys(seen, n_items) if seen is not None else np.empty(0, np.int64)
    if seen_keys.size:
        keys = row * n_items + col
        position = np.minimum(np.searchsorted(seen_keys, keys), seen_keys.size - 1)
        unseen = seen_keys[position] != keys
        row, col, val = row[unseen], col[unseen], val[unseen]
    nonzero = val != 0
    row, col, val = row[nonzero], col[nonzero], val[nonzero]
    order = np.lexsort((col, -val, row))  # per row: positives best first, then negatives best first
    row, col, val = row[order], col[order], val[order]
    starts = np.searchsorted(row, np.arange(n_rows + 1))
    rank = np.arange(row.size) - starts[row]
    n_positive = np.bincount(row[val > 0], minlength=n_rows)
    take = (val > 0) & (rank < kk)
    items[row[take], rank[take]] = col[take]
    values[row[take], rank[take]] = val[take]
    seen_starts = np.searchsorted(seen_keys, np.arange(n_rows + 1) * n_items)
    for r in np.flatnonzero(n_positive < kk).tolist():  # rows that need zero-score (and maybe negative) items
        filled = int(n_positive[r])
        stored = col[starts[r] : starts[r + 1]]
        excluded = np.union1d(stored, seen_keys[seen_starts[r] : seen_starts[r + 1]] - r * n_items)
        candidates = np.arange(min(n_items, kk - filled + excluded.size))
        zeros = candidates[~np.isin(candidates, excluded)][: kk - filled]
        items[r, filled : filled + zeros.size] = zeros
        values[r, filled : filled + zeros.size] = 0.0
        filled += zeros.size
        negative_start = starts[r] + int(n_positive[r])
        more = min(kk - filled, starts[r + 1] - negative_start)
        if more > 0:
            items[r, filled : filled + more] = col[negative_start : negative_start + more]
            values[r, filled : filled + more] = val[negative_start : negative_start + more]
    return items, values


def top_k_shared(
    item_scores: np.ndarray, k: int, seen: sp.csr_array | None = None, dtype=np.float64, ranking=None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_k` of ``item_scores`` repeated on every row with ``-inf`` at ``seen``, without the dense block.

    For models that score every user alike (popularity): one global ranking (higher score first, then lower
    index) is walked past each row's seen items, so only its first ``k + max_row_seen`` entries are looked at and
    the cost is ``n_rows * (k + max_row_seen)`` rather than ``n_rows * n_items``. Same answer as :func:`top_k`
    (tested).

    Parameters
    ----------
    item_scores : ndarray of shape (n_items,)
        Finite scores.
    k : int >= 1
    seen : csr_array of shape (n_rows, n_items), optional
        Items to leave out of each row (stored entries); without it every row is the global top ``k``.
    dtype : numpy dtype, default float64
    ranking : ndarray of int, optional
        The global ranking's head, ``lexsort((arange(n_items), -item_scores))`` cut at no fewer than
        ``min(n_items, k + max_row_seen)`` entries (pass it to rank several chunks of rows with one sort).

    Returns
    -------
    item_idx, scores : ndarray of shape (n_rows, min(k, n_items))
        As :func:`top_k`: best first, ``-1`` / ``-inf`` where a row has fewer than ``k`` items left.
    """
    item_scores = np.asarray(item_scores)
    n_items = item_scores.size
    kk = min(int(k), n_items)
    n_rows = 0 if seen is None else seen.shape[0]
    seen = sp.csr_array(seen) if seen is not None else None
    per_row = np.diff(seen.indptr) if seen is not None else np.zeros(0, np.int64)
    width = min(n_items, kk + (int(per_row.max()) if per_row.size else 0))
    if ranking is None:
        ranking = np.lexsort((np.arange(n_items), -item_scores))
    order = np.asarray(ranking)[:width]  # the global ranking's head
    if seen is None:
        return order[None, :kk].copy(), item_scores[order[None, :kk]].astype(dtype)
    rank = np.full(n_items, -1, np.int64)
    rank[order] = np.arange(width)
    marked = np.zeros((n_rows, width), bool)  # seen items within the head
    row = np.repeat(np.arange(n_rows, dtype=np.int64), per_row)
    where = rank[seen.indices]
    marked[row[where >= 0], where[where >= 0]] = True
    first = np.argsort(marked, axis=1, kind="stable")[:, :kk]  # the first kk unseen positions of each row, in order
    items = order[first]
    ok = ~np.take_along_axis(marked, first, axis=1)
    items = np.where(ok, items, -1)
    values = np.where(ok, item_scores[np.maximum(items, 0)].astype(dtype), -np.inf).astype(dtype)
    return items, values


def _row_keys(matrix: sp.csr_array, n_items: int) -> np.ndarray:
    """Sorted keys ``row * n_items + column`` of the stored entries of ``matrix``."""
    matrix = sp.csr_array(matrix)
    if matrix.nnz == 0:
        return np.empty(0, np.int64)
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return np.unique(rows * n_items + matrix.indices.astype(np.int64))


_TORCH_MIN_SIZE = 1 << 16


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency; numpy serves when it is absent
        return None
    return torch


_GROUP = 32


def _top_torch(block, kk):
    """Top ``kk`` through group maxima: the ``kk`` best items lie in the ``kk`` groups of ``_GROUP`` consecutive
    items with the largest maxima (ties to the lower group), so only those groups are ranked exactly. A row whose
    ``kk``-th and ``kk + 1``-th group maxima tie is ranked by :func:`_top_numpy` instead."""
    torch = _torch()
    n_rows, n_items = block.shape
    n_groups = n_items // _GROUP
    if n_groups <= kk + 1:
        return _top_numpy(block, kk)
    scores = torch.from_numpy(block)
    maxima = scores[:, : n_groups * _GROUP].view(n_rows, n_groups, _GROUP).amax(dim=2)
    best, groups = torch.topk(maxima, kk + 1, dim=1, sorted=True)
    best, groups = best.numpy(), groups.numpy()[:, :kk]
    columns = (groups[:, :, None] * _GROUP + np.arange(_GROUP)).reshape(n_rows, kk * _GROUP)
    if n_groups * _GROUP < n_items:  # the last, partial group is always a candidate
        rest = np.arange(n_groups * _GROUP, n_items)
        columns = np.hstack([columns, np.broadcast_to(rest, (n_rows, rest.size))])
    values = np.take_along_axis(block, columns, axis=1)
    order = np.lexsort((columns, -values), axis=1)[:, :kk]
    items = np.take_along_axis(columns, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    ambiguous = np.flatnonzero(best[:, kk - 1] == best[:, kk])
    if ambiguous.size:
        items[ambiguous], values[ambiguous] = _top_numpy(block[ambiguous], kk)
    return items, values


def _top_numpy(block, kk):
    n_items = block.shape[1]
    items = np.argpartition(block, n_items - kk, axis=1)[:, n_items - kk :]
    values = np.take_along_axis(block, items, axis=1)
    threshold = values.min(axis=1)
    ambiguous = np.flatnonzero((block >= threshold[:, None]).sum(axis=1) > kk)
    _fix_ties(block, items, values, ambiguous, threshold, kk)
    return items, values


def _fix_ties(block, items, values, rows, threshold, kk):
    """For ``rows`` whose ``kk``-th value is tied: all strictly better items, then the lowest tied indices."""
    if rows.size == 0:
        return
    sub = block[rows]
    level = threshold[rows][:, None]
    better = sub > level
    tied = sub == level
    needed = kk - better.sum(axis=1)
    chosen = better | (tied & (np.cumsum(tied, axis=1) <= needed[:, None]))
    _, columns = np.nonzero(chosen)  # row-major: each row's kk chosen items in increasing index order
    columns = columns.reshape(rows.size, kk)
    items[rows] = columns
    values[rows] = np.take_along_axis(sub, columns, axis=1)
