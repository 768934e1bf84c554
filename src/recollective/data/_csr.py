"""CSR building blocks shared by ``Interactions`` and the loaders: the structure of (row, col) entries in
O(n) without a sort when rows come grouped, float64 gathers without a full-size temporary, duplicate resolution."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recollective.errors import DataError

__all__ = ["csr_structure", "find", "frozen", "gather_float64", "lookup", "resolve_duplicates"]


def frozen(matrix: sp.csr_array) -> sp.csr_array:
    matrix.sort_indices()
    for array in (matrix.data, matrix.indices, matrix.indptr):
        array.flags.writeable = False
    return matrix


def csr_structure(rows, cols, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """(indptr, indices, permutation) of the CSR holding the (row, col) entries, or None when a pair repeats.

    ``permutation[k]`` is the input position of the k-th stored entry, or None when the input is already in
    CSR order (rows ascending, columns strictly ascending within a row: then ``indices`` is ``cols`` itself).
    O(n) plus per-row index sorts.
    """
    rows = np.asarray(rows)
    cols = np.asarray(cols)
    n = int(rows.size)
    n_rows = shape[0]
    index_dtype = np.int32 if max(shape[1], n) < 2**31 else np.int64
    if n and np.all(rows[1:] >= rows[:-1]):  # grouped by user, as most files are: no sort across rows
        # row starts by binary search: np.bincount would first copy rows to int64
        indptr = np.searchsorted(rows, np.arange(n_rows + 1, dtype=rows.dtype)).astype(index_dtype)
        indices = cols.astype(index_dtype, copy=False)
        ascending = indices[1:] > indices[:-1]
        ascending |= rows[1:] != rows[:-1]
        if ascending.all():
            return indptr, indices, None
        del ascending
        positions = np.arange(n, dtype=index_dtype)
        pattern = sp.csr_array((positions, indices.copy(), indptr), shape=shape)
        pattern.sort_indices()
        same = pattern.indices[1:] == pattern.indices[:-1]
        starts = indptr[1:-1]
        same[starts[(starts > 0) & (starts < n)] - 1] = False  # a row's first entry may equal the last one's
        if same.any():
            return None
        return indptr, pattern.indices, pattern.data
    positions = np.arange(n, dtype=index_dtype)
    pattern = sp.csr_array((positions, (rows, cols)), shape=shape)  # sums repeated pairs: nnz < n
    if pattern.nnz != n:
        return None
    return pattern.indptr, pattern.indices, pattern.data


def gather_float64(values: np.ndarray, perm: np.ndarray | None, block: int = 1 << 20) -> np.ndarray:
    """``values[perm]`` as float64, built block by block (no full-size temporary in the input's dtype)."""
    if perm is None:
        return values.astype(np.float64, copy=False)
    out = np.empty(perm.size, dtype=np.float64)
    for start in range(0, perm.size, block):
        out[start : start + block] = values[perm[start : start + block]]
    return out


def lookup(matrix: sp.csr_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Stored values at (rows, cols), NaN where nothing is stored."""
    n_items = matrix.shape[1]
    coo = matrix.tocoo()
    found, at = find(coo.row.astype(np.int64) * n_items + coo.col, rows * n_items + cols)
    out = np.full(rows.size, np.nan)
    out[found] = coo.data[at[found]]
    return out


def find(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, position) of each key in ascending ``sorted_keys``."""
    at = np.searchsorted(sorted_keys, keys)
    at_clipped = np.minimum(at, max(0, sorted_keys.size - 1))
    found = (at < sorted_keys.size) & (sorted_keys[at_clipped] == keys) if sorted_keys.size else at < 0
    return found, at_clipped


def resolve_duplicates(rows, cols, values, order, n_items, policy) -> np.ndarray:
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
