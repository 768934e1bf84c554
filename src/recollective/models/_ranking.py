"""Shared ranking: top-k per row of a score block, seen items excluded, ties broken by lower item index.

Every model ranks through :func:`top_k`, so no two models can differ in how they exclude or order items.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["DEFAULT_BLOCK_BYTES", "chunk_rows", "exclude_seen", "top_k"]

DEFAULT_BLOCK_BYTES = 64 * 2**20
"""Target size of one dense score block; bounds peak memory whatever the number of users."""


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


_TORCH_MIN_SIZE = 1 << 16


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency; numpy serves when it is absent
        return None
    return torch


def _top_torch(block, kk):
    """Top ``kk`` by ``torch.topk`` on ``kk + 1``: a row whose ``kk``-th and ``kk + 1``-th values differ is exact."""
    torch = _torch()
    values, items = torch.topk(torch.from_numpy(block), kk + 1, dim=1, sorted=True)
    values, items = values.numpy(), items.numpy()
    ambiguous = np.flatnonzero(values[:, kk - 1] == values[:, kk])
    items, values = items[:, :kk].copy(), values[:, :kk].copy()
    _fix_ties(block, items, values, ambiguous, values[:, kk - 1].copy(), kk)
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
