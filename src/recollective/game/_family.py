"""Fast exact evaluation of the one-parameter strategy family R~(x) = B + x 1_C 1_T^T.

B is R* with the collective's block C x T set to 0, so every member reports the same scalar x on every target.
The Gram matrix on the smaller side is quadratic in x,

    R~(x)^T R~(x) = B^T B + x (h 1_T^T + 1_T h^T) + x^2 |C| 1_T 1_T^T,   h = B^T 1_C,

so each x costs one symmetric eigen-decomposition of a min(m, n)-square matrix (only its top eigenpairs)
instead of a full SVD of the m x n matrix. Where the Gram's rounding error (about p eps s_1^2 / s) could decide
k*, or for the TVR rule (which needs every singular value), the point is re-evaluated with a full SVD.

When B has small numerical rank r (singular values above ``10 p eps s_1(B)``; block-diagonal low-rank worlds),
there is an exact shortcut: with B = U S V^T (rank r), a = U alpha + |a_perp| a_hat and b = V beta + |b_perp| b_hat,

    R~(x) = [U, a_hat] [[S + x alpha beta^T, x |b_perp| alpha], [x |a_perp| beta^T, x |a_perp| |b_perp|]] [V, b_hat]^T,

so the singular values and vectors of R~(x) come from the SVD of an (r + 1) x (r + 1) core. The tail of B that
is dropped is below LAPACK's own rounding of a full SVD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from recollective.game._certificates import certified_radius, user_margins
from recollective.game._outcome import DEFAULT_TIE_RTOL, top_items, truncated_reconstruction
from recollective.game._rank_rules import FixedRank, RankRule, RetainedVariation

__all__ = ["FamilyPoint", "RankOneFamily"]


@dataclass(frozen=True, eq=False)
class FamilyPoint:
    """The outcome of the family at one x: enough to compare, certify and report."""

    x: float
    rank: int
    top_items: np.ndarray
    utilities: np.ndarray
    radius_x: float  # k* and every utility are certified constant on (x - radius_x, x + radius_x)

    def same_outcome(self, other: FamilyPoint) -> bool:
        """Same k* and the same utility for every user (top items may differ among equal-utility items)."""
        return self.rank == other.rank and np.array_equal(self.utilities, other.utilities)


class RankOneFamily:
    """Evaluate the learner on R~(x) for many x after one O(m n min(m, n)) precomputation.

    Parameters
    ----------
    R_true : ndarray of shape (n_users, n_items)
    members, targets : ndarray of int
        The collective C and its targets T (validated by the caller).
    rule : RankRule
    tie_rtol : float
    revealed_rest : ndarray of shape (n_users, n_items), optional
        What is revealed outside the block C x T (default ``R_true``: everyone else truthful); another
        collective's reports go here. Utilities are always read from ``R_true``.
    """

    def __init__(self, R_true, members, targets, rule: RankRule, tie_rtol: float = DEFAULT_TIE_RTOL, *,
                 revealed_rest=None):
        self.R_true = R_true
        self.members = np.asarray(members)
        self.targets = np.asarray(targets)
        self.rule = rule
        self.tie_rtol = tie_rtol
        n_users, n_items = R_true.shape
        self.base = (R_true if revealed_rest is None else revealed_rest).copy()
        self.base[np.ix_(self.members, self.targets)] = 0.0
        self.a = np.zeros(n_users)
        self.a[self.members] = 1.0
        self.b = np.zeros(n_items)
        self.b[self.targets] = 1.0
        self.right = n_users >= n_items  # Gram on the item side
        if self.right:
            self.gram0 = self.base.T @ self.base
            self.h = self.base.T @ self.a
            self.u, self.count = self.b, float(self.members.size)
        else:
            self.gram0 = self.base @ self.base.T
            self.h = self.base @ self.b
            self.u, self.count = self.a, float(self.targets.size)
        self.p = min(n_users, n_items)
        self.core = self._low_rank_core()
        self.base_row_sq = np.einsum("ij,ij->i", self.base, self.base)
        # Perturbation between two x's: (dx) 1_C 1_T^T, spectral norm |dx| sqrt(|C||T|); member rows take
        # |dx| sqrt(|T|) of it.
        self.spectral_per_x = math.sqrt(self.members.size * self.targets.size)
        self.row_share = self.a / math.sqrt(self.members.size)
        self.exact_only = isinstance(rule, RetainedVariation)
        self._n_top = 4
        self.n_evaluations = 0

    def _low_rank_core(self):
        """Bases and coefficients of the exact core (see the module docstring), or None when B is not low rank."""
        U, s, Vt = np.linalg.svd(self.base, full_matrices=False)
        floor = 10 * self.p * np.finfo(float).eps * (s[0] if s.size else 0.0)
        r = int(np.count_nonzero(s > floor))
        if r + 1 > self.p // 2:
            return None
        U, s, V = U[:, :r], s[:r], Vt[:r].T
        left, a_coef = _extend_basis(U, self.a)
        right, b_coef = _extend_basis(V, self.b)
        return left, right, s, a_coef, b_coef

    def revealed(self, x: float) -> np.ndarray:
        R = self.base.copy()
        R[np.ix_(self.members, self.targets)] = x
        return R

    def _top_eigen(self, x: float):
        # gram0 + x (h u^T + u h^T) + x^2 c u u^T  =  gram0 + w u^T + u w^T  with  w = x h + (x^2 c / 2) u
        w = x * self.h + (0.5 * x * x * self.count) * self.u
        gram = self.gram0 + np.outer(w, self.u)
        gram += np.outer(self.u, w)
        while True:
            q = min(self._n_top, self.p)
            lam, vec = scipy.linalg.eigh(gram, subset_by_index=[self.p - q, self.p - 1])
            s = np.sqrt(np.clip(lam[::-1], 0.0, None))
            rank = self.rule.rank(s)
            if rank < q or q == self.p:
                self._n_top = max(4, rank + 3)
                return s, vec[:, ::-1], rank
            self._n_top = min(self.p, 2 * q)

    def evaluate(self, x: float, certify: bool = True) -> FamilyPoint:
        """Outcome at ``x`` with its certified radius in units of x (0 when ``certify`` is False)."""
        self.n_evaluations += 1
        fixed_full = isinstance(self.rule, FixedRank) and self.rule.k >= self.p
        if self.exact_only or fixed_full:
            return self._evaluate_exact(x, certify)
        if self.core is not None:
            return self._evaluate_core(x, certify)
        s, vec, rank = self._top_eigen(x)
        boundary = [v for v in (s[rank - 1] if rank else 0.0, s[rank] if rank < s.size else 0.0) if v > 0]
        gram_error = 10 * self.p * np.finfo(float).eps * s[0] ** 2 / min(boundary, default=max(s[0], 1e-300))
        if not isinstance(self.rule, FixedRank) and self.rule.rank_radius(s, 1) <= gram_error:
            return self._evaluate_exact(x, certify)
        basis = vec[:, :rank]
        if self.right:  # R^ = R~ V V^T with R~ V = B V + x a (b^T V)
            projected = self.base @ basis + x * np.outer(self.a, self.b @ basis)
            R_hat = projected @ basis.T
        else:  # R^ = U U^T R~ with U^T R~ = U^T B + x (U^T a) b^T
            projected = basis.T @ self.base + x * np.outer(basis.T @ self.a, self.b)
            R_hat = basis @ projected
        return self._point(x, s, rank, R_hat, certify)

    def _evaluate_core(self, x: float, certify: bool) -> FamilyPoint:
        left, right, s_base, a_coef, b_coef = self.core
        core = np.zeros((left.shape[1], right.shape[1]))
        r = s_base.size
        core[:r, :r] = np.diag(s_base)
        core += x * np.outer(a_coef, b_coef)
        U_c, s_c, Vt_c = np.linalg.svd(core)
        s = np.zeros(self.p)
        s[: s_c.size] = s_c[: self.p]
        rank = self.rule.rank(s)
        R_hat = ((left @ U_c[:, :rank]) * s_c[:rank]) @ (right @ Vt_c[:rank].T).T
        return self._point(x, s, rank, R_hat, certify)

    def _evaluate_exact(self, x: float, certify: bool) -> FamilyPoint:
        rank, s, R_hat = truncated_reconstruction(self.revealed(x), self.rule)
        return self._point(x, s, rank, R_hat, certify)

    def _point(self, x, s, rank, R_hat, certify) -> FamilyPoint:
        top = top_items(R_hat, self.tie_rtol)
        utilities = self.R_true[np.arange(top.size), top]
        if not certify:
            return FamilyPoint(float(x), int(rank), top, utilities, 0.0)
        # ||R~(x)[u]||^2 = ||B[u]||^2 + x^2 |T| on member rows
        row_norms = np.sqrt(self.base_row_sq + (x * x * self.targets.size) * self.a)
        certificate = certified_radius(
            s,
            rank,
            R_hat,
            top,
            row_norms,
            self.rule,
            row_share=self.row_share,
            perturbation_rank=1,
            tie_rtol=self.tie_rtol,
            margins=user_margins(R_hat, top, self.R_true),
        )
        return FamilyPoint(float(x), int(rank), top, utilities, certificate.radius / self.spectral_per_x)


def _extend_basis(basis: np.ndarray, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[basis, unit residual of ``vector``] and the coefficients of ``vector`` in it (residual dropped if ~0)."""
    coef = basis.T @ vector
    residual = vector - basis @ coef
    norm = float(np.linalg.norm(residual))
    if norm <= 1e-12 * max(1.0, float(np.linalg.norm(vector))):
        return basis, coef
    return np.column_stack([basis, residual / norm]), np.append(coef, norm)
