"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"), with a Woodbury refit.

Closed form: ``G = X.T @ X + lambda I``, ``P = G^{-1}``, ``B = I - P diag(1 / diag(P))`` (zero diagonal), scores
``X[users] @ B``. ``B`` itself is never stored: ``X @ B = X - (X @ P) diag(1 / diag(P))``, so the model keeps
``P`` alone (one dense n_items x n_items matrix).
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.linalg import get_blas_funcs, lapack

from recollective.errors import DataError, NotFittedError
from recollective.models._base import Recommender
from recollective.models._params import Boolean, Integer, OneOf, Real

__all__ = ["EASE"]

logger = logging.getLogger(__name__)

_BLOCK = 1024
"""Rows per block when a dense n_items x n_items matrix is updated or mirrored in place."""

WOODBURY_MAX_SHARE = 1 / 8
"""``refit`` uses the Woodbury update while the update's rank ``2 |T|`` is at most this share of n_items."""


_GER_MAX_RANK = 6
"""Up to this rank a Woodbury update of ``P`` is applied as rank-one BLAS updates of the whole matrix in place (one
pass over ``P`` each); above it, the upper triangle by blocked products and then mirrored."""


def _subtract_woodbury(p: np.ndarray, left: np.ndarray, inner: np.ndarray) -> None:
    """``P -= left^T inner^{-1} left`` in place; ``P`` stays symmetric to rounding.

    ``left`` (r, n) is ``U^T P``, ``inner`` (r, r) the symmetric Woodbury matrix ``K``. With ``K = Q Λ Q^T`` the term
    is ``Σ_r sign(λ_r) w_r w_r^T``, ``w_r = |λ_r|^{-1/2} q_r^T left``: up to rank :data:`_GER_MAX_RANK` each term is
    one in-place BLAS rank-one update of the whole matrix, which adds the same product ``w_i w_j`` to ``(i, j)`` and
    ``(j, i)`` (equal up to the kernel's rounding: FMA or not), instead of updating one triangle and mirroring it
    by a transposed copy of the whole matrix (3-4x slower at 10,000 items, memory-bound)."""
    dtype = p.dtype
    rank, n = left.shape
    if rank <= _GER_MAX_RANK and p.flags.c_contiguous:
        values, vectors = np.linalg.eigh(inner)
        w = ((vectors.T @ left.astype(np.float64)) / np.sqrt(np.abs(values))[:, None]).astype(dtype)
        ger = get_blas_funcs("ger", dtype=dtype)
        view = p.T  # Fortran-ordered view: BLAS updates P in place
        for r in range(rank):
            out = ger(-float(np.sign(values[r])), w[r], w[r], a=view, overwrite_a=True)
            if not np.shares_memory(out, p):  # BLAS had to copy: write the result back
                p[...] = out.T
                view = p.T
        return
    right = np.linalg.solve(inner, left.astype(np.float64)).astype(dtype)  # K^{-1} U^T P
    left = left.astype(dtype)
    for start in range(0, n, _BLOCK):  # the upper triangle, then mirror
        stop = min(start + _BLOCK, n)
        p[start:stop, start:] -= left[:, start:stop].T @ right[:, start:]
    _mirror(p, "upper")


def _mirror(matrix: np.ndarray, source: str = "upper") -> None:
    """Make the square ``matrix`` symmetric in place by copying its ``source`` triangle onto the other, by blocks."""
    n = matrix.shape[0]
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        block = matrix[start:stop, start:stop]
        below = np.tril_indices(stop - start, -1)
        if source == "upper":
            matrix[stop:, start:stop] = matrix[start:stop, stop:].T
            block[below] = block.T[below]
        else:
            matrix[start:stop, stop:] = matrix[stop:, start:stop].T
            block.T[below] = block[below]


def _spd_inverse(gram: np.ndarray) -> np.ndarray:
    """Inverse of the symmetric positive definite C-ordered ``gram`` by Cholesky (LAPACK potrf + potri), in place.

    potrf + potri take about half the time of ``np.linalg.inv`` (LU) at 10,000 items (measured: 53 s vs 94 s
    on two cores, float64) and need no second n x n buffer.
    """
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (gram,))
    # gram is symmetric: its transpose is the same matrix in Fortran order, which LAPACK overwrites in place
    factor, info = potrf(gram.T, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise DataError(
            f"ease: X.T @ X + regularization * I is not numerically positive definite (LAPACK info "
            f"{info}); increase regularization"
        )
    inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:  # pragma: no cover - potri fails only on a singular factor, which potrf has ruled out
        raise DataError(f"ease: the Cholesky inverse failed (LAPACK info {info}); increase regularization")
    result = np.ascontiguousarray(inverse.T)  # no copy: the factor was written over gram
    _mirror(result, "lower")  # LAPACK's (Fortran) upper triangle is the C-order lower triangle
    return result


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder: a dense item-item weight matrix with zero diagonal, in closed form.

    Parameters
    ----------
    regularization : float > 0, default 500
        ``lambda``, added to the diagonal of ``X.T @ X``. It scales with ``X.T @ X`` (number of users, size of
        the values): on goodbooks-10k's 2,672-user sample with ratings as values, recall@10 on a random 20%
        holdout is 0.329 / 0.340 / 0.348 / 0.346 at lambda 200 / 500 / 1000 / 2000; with ``binary=True`` it is
        0.353 / 0.343 / 0.314 at 50 / 200 / 500.
    binary : bool, default False
        ``X`` holds 1 for every stored interaction instead of its value.
    dtype : {"float64", "float32"}, default "float64"
        Precision of ``P`` (float32 halves memory and takes about 0.7x the time; scores are returned as float64
        either way).
    max_items : int >= 1, default 20000
        Largest catalogue accepted: ``P`` is a dense n_items x n_items matrix (10,000 items: 0.8 GB in float64,
        20,000: 3.2 GB, and about as much again while it is inverted). A larger catalogue is refused when ``fit``
        starts, before anything of that size is allocated, by one ``DataError`` line naming the size, the limit
        and the alternatives (a k-core, a larger ``max_items``, or item-kNN's sparse similarities).

    Attributes
    ----------
    inverse_gram_ : ndarray of shape (n_items, n_items)
        ``P = (X.T @ X + lambda I)^{-1}``, symmetric.
    inverse_diagonal_ : ndarray of shape (n_items,)
        ``diag(P)``.

    Notes
    -----
    ``refit`` updates ``P`` by the Sherman–Morrison–Woodbury identity. With ``X' = X + D`` (``D`` nonzero only in
    the changed users' rows and the changed items' columns ``T``), ``G' - G`` is nonzero only in the rows and
    columns ``T``: with ``E = (G' - G)[:, T]`` (n x |T|) and ``S`` the columns ``T`` of the identity,
    ``G' - G = U M U.T``, ``U = [E, S]``, ``M = [[0, I], [I, -E[T]]]``, ``M^{-1} = [[E[T], I], [I, 0]]``, and
    ``P' = P - P U (M^{-1} + U.T P U)^{-1} U.T P`` — O(n_items^2 |T|) instead of O(n_items^3). Removals and
    changed values are the same algebra. When ``2 |T| > n_items / 8`` the refit is a cold fit. When no more users
    than items changed (one participant adding a few books), the update runs over the users' rows instead:
    ``G' - G = R R^T - O O^T`` (rows after and before), rank ``2 |users|``, whose ``P U`` costs
    ``O(n_items nnz)`` rather than a dense ``P E``. ``P`` is
    symmetric after every update (the upper triangle is updated and mirrored).

    On goodbooks-10k (9,990 items, two cores, float64): cold fit 30-35 s (potrf + potri; ``np.linalg.inv`` took
    94 s), refit after 1% of users add the same 2 items 0.46-0.55 s, max |B_refit - B_cold| / max |B_cold| =
    8.5e-16 after one refit and 1.0e-14 after 20 chained ones (float32: 4.3e-7 and 1.9e-6).
    """

    name = "ease"
    parameter_rules: ClassVar[dict] = {
        "regularization": Real(low=0.0, low_closed=False),
        "binary": Boolean(),
        "dtype": OneOf(("float64", "float32")),
        "max_items": Integer(low=1),
    }
    refit_tolerance = (
        "Woodbury update of P: max |B_refit - B_cold| <= 1e-8 * max |B_cold| and the same bound on scores in "
        "float64 (measured 8.5e-16 on goodbooks-10k, 1e-14 after 20 chained refits), 1e-4 in float32 (measured "
        "4.3e-7); a cold fit when 2|T| > n_items / 8"
    )

    def __init__(
        self, regularization: float = 500.0, binary: bool = False, dtype: str = "float64", max_items: int = 20_000
    ):
        self.regularization = regularization
        self.binary = binary
        self.dtype = dtype
        self.max_items = max_items

    # ------------------------------------------------------------------------------------------ helpers
    @staticmethod
    def _values(matrix: sp.csr_array, params: dict) -> sp.csr_array:
        if not params["binary"]:
            return matrix
        return sp.csr_array((np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape)

    def _check_size(self, n_items: int, params: dict) -> None:
        if n_items > params["max_items"]:
            gigabytes = n_items**2 * np.dtype(params["dtype"]).itemsize / 1e9
            raise DataError(
                f"{self.name}: EASE builds a dense n_items x n_items matrix ({n_items} items => {gigabytes:.1f} GB "
                f"in {params['dtype']}, about twice that while inverting); max_items is {params['max_items']}: "
                "keep fewer items first (k-core, --k-core-items N), raise max_items (--param max_items=N) if the "
                "memory is there, or use itemknn, whose item x item matrix is sparse"
            )

    # ------------------------------------------------------------------------------------------ fitting
    def _fit(self, matrix, interactions, params):
        n_items = matrix.shape[1]
        self._check_size(n_items, params)
        x = self._values(matrix, params)
        x_t = x.T.tocsr()
        gram = np.empty((n_items, n_items), params["dtype"])
        for start in range(0, n_items, _BLOCK):  # dense X.T @ X a block of rows at a time: no sparse n x n copy
            gram[start : start + _BLOCK] = sp.csr_array(x_t[start : start + _BLOCK] @ x).toarray()
        gram[np.diag_indices(n_items)] += params["regularization"]
        self.inverse_gram_ = _spd_inverse(gram)
        self.inverse_diagonal_ = np.diagonal(self.inverse_gram_).copy()

    def _refit(self, matrix, interactions, delta, params):
        changed = delta.changed_items
        n_items = matrix.shape[1]
        if 2 * changed.size > WOODBURY_MAX_SHARE * n_items:
            logger.info(
                "%s refit: %d changed items of %d; a cold fit is cheaper than a Woodbury update",
                self.name,
                changed.size,
                n_items,
            )
            self._forget_learned()
            self._fit(matrix, interactions, params)
            return
        if changed.size == 0:
            return
        if 0 < delta.changed_users.size <= changed.size:
            self._refit_rows(matrix, delta.changed_users, params)
            return
        dtype = np.dtype(params["dtype"])
        new, old = self._values(matrix, params), self._values(self.seen_, params)
        # E = (G' - G)[:, T], shape (n_items, |T|)
        change = sp.csr_array(new.T.tocsr()[changed] @ new) - sp.csr_array(old.T.tocsr()[changed] @ old)
        e = change.toarray().T  # float64
        p = self.inverse_gram_
        m = changed.size
        pu = np.empty((n_items, 2 * m), dtype)
        pu[:, :m] = p @ e.astype(dtype)
        pu[:, m:] = p[:, changed]
        u_t_p_u = np.empty((2 * m, 2 * m))
        u_t_p_u[:m, :m] = e.T @ pu[:, :m]
        u_t_p_u[:m, m:] = e.T @ pu[:, m:]
        u_t_p_u[m:, :m] = u_t_p_u[:m, m:].T
        u_t_p_u[m:, m:] = pu[changed, m:]
        inner = u_t_p_u
        inner[:m, :m] += e[changed]
        inner[:m, m:] += np.eye(m)
        inner[m:, :m] += np.eye(m)
        inner = (inner + inner.T) / 2
        _subtract_woodbury(p, pu.T, inner)  # P -= PU K^{-1} (PU).T
        self.inverse_diagonal_ = np.diagonal(p).copy()

    def _refit_rows(self, matrix, users, params):
        """Woodbury over the changed users' rows: ``G' - G = R R^T - O O^T`` (``R``, ``O``: their rows after and
        before, as columns), rank ``2 |users|``; ``P U`` costs ``O(n nnz)`` instead of a dense ``P E``."""
        dtype = np.dtype(params["dtype"])
        u = users.size
        new = self._values(sp.csr_array(matrix[users]), params)
        old = self._values(sp.csr_array(self.seen_[users]), params)
        u_t = sp.csr_array(sp.vstack([new, old]))  # U^T, shape (2u, n)
        p = self.inverse_gram_
        u_t_p = np.asarray(u_t.astype(dtype) @ p, dtype=np.float64)  # U^T P = (P U)^T, shape (2u, n)
        inner = np.asarray(u_t @ u_t_p.T)  # U^T P U
        inner[np.arange(u), np.arange(u)] += 1.0  # + C^{-1}, C = diag(I, -I)
        inner[np.arange(u, 2 * u), np.arange(u, 2 * u)] -= 1.0
        inner = (inner + inner.T) / 2
        _subtract_woodbury(p, u_t_p, inner)  # P -= (PU) K^{-1} (U^T P)
        self.inverse_diagonal_ = np.diagonal(p).copy()

    # ------------------------------------------------------------------------------------------ scoring
    def item_weights(self) -> np.ndarray:
        """``B = I - P diag(1 / diag(P))``, ndarray of shape (n_items, n_items) with zero diagonal (a new array)."""
        if not self.is_fitted():
            raise NotFittedError(f"this {self.name} model is not fitted yet; call fit(interactions) first")
        weights = -self.inverse_gram_ / self.inverse_diagonal_
        np.fill_diagonal(weights, 0.0)
        return weights

    def _score_block(self, user_idx):
        x = self._values(self.seen_[user_idx], self.params_)
        p = self.inverse_gram_
        scores = np.asarray(x.astype(p.dtype) @ p, dtype=np.float64)
        scores /= -self.inverse_diagonal_
        scores[np.repeat(np.arange(user_idx.size), np.diff(x.indptr)), x.indices] += x.data
        return scores
