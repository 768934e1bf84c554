"""The exact evaluator of THEORY.md (§7 step 4): the learner's outcome at any x from one SVD of A.

Every row of R^ has the form (Lemma 0, Theorem 2.2)

* majority user u:  A[u, j] + sum_r kappa_{u,r} xi^(r)_j on majority items j, tau_u on the target t, and
  rho_u d_j / ||d_{-t}|| on the other minority items j;
* minority user u:  c_u times one common row (xi^B on majority items, tau^B on t, rho^B d_j/||d_{-t}|| elsewhere),

where A is the rank-k1 majority block of the detected structure. Two ways give the coefficients:

* **Theorem 2.2** (x > x_k, n2 >= 2): one removed triplet, mu = s_{k1+2}^2 from the secular equation by bisection
  (:func:`secular_root`), xi = x V (Sigma^2 - mu)^{-1} Sigma P, phi = x U Sigma^2 (Sigma^2 - mu)^{-1} P,
  pi_u = (x - phi_u)/N, and the score table of THEORY.md §4;
* **Lemma 0** (every other x, and n2 = 1): R~ = Z H^T with Z of shape (n_users, k1 + 2); the SVD of a
  (k1 + 3) x (k1 + 2) matrix (Z = Q R(x), Q computed once) gives every singular value of R~ and the removed
  directions.

Top items follow MISSION's tie rule exactly (the rule of :func:`top_items`): a user whose best item beats every
rival by more than the largest possible tie tolerance, tie_rtol * max(1, max_u ||R~[u]||), is decided from
bounds on its row in O(k1) (each rival majority item is bounded by the second-largest A[u, j] plus the extreme
values of the corrections); the other rows are formed (O(n_items) each); rows still within the exact tolerance
of a tie go through the column-l1 rule, with the column l1 norms of R^ in closed form when the majority block of
R^ is provably non-negative (else summed), and the whole R^ is formed only when -min R^ could set the tolerance.
Batches of x are evaluated together (the secular roots in one vectorised bisection, the Lemma 0 SVDs stacked).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recollective.game._outcome import DEFAULT_TIE_RTOL, top_items
from recollective.game._records import record
from recollective.game.theory._spectral import SpectralData, secular_root

__all__ = ["ExactEvaluator", "TheoryPoint"]

_CHUNK = 128


@dataclass(frozen=True, eq=False)
class TheoryPoint:
    """The outcome of the strategy at one x, from the exact evaluator.

    Attributes
    ----------
    x : float
    rank : int
        k* (Theorem 2.1).
    method : str
        ``"theorem 2.2"`` (secular root and score table) or ``"lemma 0"`` (the reduced SVD).
    mu : float
        s_{k1+2}(R~)^2 on the Theorem 2.2 path, NaN otherwise.
    top_items, utilities, top_scores : ndarray of shape (n_users,)
        top(u), w_u = R*[u, top(u)] and R^[u, top(u)].
    social_welfare : float
    n_row_evaluations : int
        Users whose row had to be formed (not decided from bounds).
    """

    x: float
    rank: int
    method: str
    mu: float
    top_items: np.ndarray
    utilities: np.ndarray
    top_scores: np.ndarray
    social_welfare: float
    n_row_evaluations: int

    def as_dict(self) -> dict:
        return record(self, drop=("top_scores", "n_row_evaluations"), predicted_engagement=math.fsum(self.top_scores))


@dataclass(eq=False)
class _Scores:
    """Coefficients of R^ for a batch of B values of x (module docstring); r corrections per majority row."""

    xs: np.ndarray  # (B,)
    rank: int
    method: str
    mu: np.ndarray  # (B,)
    kappa: np.ndarray  # (B, m1, r)
    xis: np.ndarray  # (B, r, n1)
    tau: np.ndarray  # (B, m1)
    rho: np.ndarray  # (B, m1)
    xi_B: np.ndarray  # (B, n1)
    tau_B: np.ndarray  # (B,)
    rho_B: np.ndarray  # (B,)


class ExactEvaluator:
    """Exact outcomes of "C uprates t by x" on a detected structure, after one O(SVD of A) precomputation.

    Parameters
    ----------
    R_true : ndarray of shape (n_users, n_items)
        R* (utilities are read from it).
    spectral : SpectralData
    tie_rtol : float, default=1e-9
        MISSION's tie tolerance.
    """

    def __init__(self, R_true: np.ndarray, spectral: SpectralData, tie_rtol: float = DEFAULT_TIE_RTOL):
        st = spectral.structure
        self.R_true = R_true
        self.spectral = spectral
        self.tie_rtol = tie_rtol
        self.maj_u, self.min_u = st.majority_users, st.minority_users
        self.maj_i, self.min_i = st.majority_items, st.minority_items
        self.m1, self.n1, self.k1, self.n2 = self.maj_u.size, self.maj_i.size, st.k1, self.min_i.size
        self.t, self.t_pos, self.mask = spectral.target, spectral.target_position, spectral.member_mask
        self.V = st.V
        self.US = st.U * st.sigma
        self.A = self.US @ st.V.T  # the model's rank-k1 majority block
        order = np.argsort(-self.A, axis=1, kind="stable")
        self.j_star = order[:, 0]
        rows = np.arange(self.m1)
        self.a_top = self.A[rows, self.j_star]
        self.a_second = self.A[rows, order[:, 1]] if self.n1 > 1 else np.full(self.m1, -np.inf)
        self.a_min = self.A.min(axis=1)
        self.a_colsum = self.A.sum(axis=0)
        row_sq = np.einsum("ij,ij->i", self.A, self.A)
        self.sq_members = float(row_sq[self.mask].max(initial=0.0))
        self.sq_others = float(row_sq[~self.mask].max(initial=0.0))
        self.c = st.c
        self.c_l1, self.c_min, self.c_max = float(self.c.sum()), float(self.c.min()), float(self.c.max())
        d = st.d
        self.d_t = float(d[self.t_pos])
        self.others = np.delete(self.min_i, self.t_pos)  # minority items j != t (item indices of R*)
        self.g = np.delete(d, self.t_pos) / spectral.d_rest_norm if self.n2 > 1 else np.zeros(0)
        self.g_max = float(self.g.max()) if self.g.size else -np.inf
        self.g_min = float(self.g.min()) if self.g.size else np.inf
        self.K = self.k1 + (2 if self.n2 > 1 else 1)
        # Lemma 0: Z(x) = Z0 + x e_C e_{k1}^T, rows majority then minority; [Z0, e_C] = Q R once.
        m = self.m1 + self.min_u.size
        Z0 = np.zeros((m, self.K))
        Z0[: self.m1, : self.k1] = self.US
        Z0[self.m1 :, self.k1] = self.c * self.d_t
        if self.n2 > 1:
            Z0[self.m1 :, self.k1 + 1] = self.c * spectral.d_rest_norm
        e_C = np.zeros(m)
        e_C[: self.m1] = self.mask
        self.Q, self.Rq = np.linalg.qr(np.column_stack([Z0, e_C]))
        self.z_B = Z0[self.m1] / self.c[0]
        self.n_users, self.n_items = R_true.shape
        self.users = np.arange(self.n_users)
        self.n_evaluations = 0

    # -- coefficients ---------------------------------------------------------------------------------------

    def rank(self, x: float) -> int:
        """k* by Theorem 2.1."""
        sp = self.spectral
        return self.k1 + int(sp.c_eff > 0 and x > sp.x_k)

    def uses_theorem_2_2(self, x: float) -> bool:
        return self.n2 > 1 and self.rank(x) == self.k1 + 1

    def _reduced(self, xs: np.ndarray):
        R = np.broadcast_to(self.Rq[:, : self.K], (xs.size, *self.Rq[:, : self.K].shape)).copy()
        R[:, :, self.k1] += xs[:, None] * self.Rq[None, :, self.K]
        return np.linalg.svd(R, full_matrices=False)

    def singular_values(self, x: float) -> np.ndarray:
        """Every singular value of R~(x), descending: the k1 + 2 of Lemma 0 and A's neglected tail."""
        _, s, _ = self._reduced(np.array([float(x)]))
        return np.sort(np.concatenate([s[0], self.spectral.structure.sigma_tail]))[::-1]

    def scores(self, xs, mus=None) -> _Scores:
        """Coefficients of R^ at ``xs`` (all in one regime: all on the Theorem 2.2 path, or all of one k*)."""
        xs = np.atleast_1d(np.asarray(xs, dtype=np.float64))
        if self.uses_theorem_2_2(float(xs[0])):
            mus = secular_root(self.spectral, xs) if mus is None else np.asarray(mus, dtype=np.float64)
            return self._scores_theorem(xs, mus)
        return self._scores_reduced(xs, self.rank(float(xs[0])))

    def _scores_theorem(self, xs: np.ndarray, mu: np.ndarray) -> _Scores:
        sp = self.spectral
        st = sp.structure
        sigma2 = st.sigma**2
        inv = 1.0 / (sigma2[None, :] - mu[:, None])  # (B, k1)
        xi = xs[:, None] * ((st.sigma * sp.P * inv) @ self.V.T)  # (B, n1)
        Y = sp.gamma * sp.delta / (sp.gamma**2 - mu)
        N = 1.0 + np.einsum("bj,bj->b", xi, xi) + Y * Y
        phi = xs[:, None] * ((sigma2 * sp.P * inv) @ st.U.T)  # (B, m1)
        pi = (xs[:, None] - phi) / N[:, None]
        kappa = np.where(self.mask, pi, -phi / N[:, None])
        omega = self.d_t * mu / (sp.gamma**2 - mu)  # |omega|
        return _Scores(
            xs=xs,
            rank=self.k1 + 1,
            method="theorem 2.2",
            mu=mu,
            kappa=kappa[:, :, None],
            xis=xi[:, None, :],
            tau=np.where(self.mask, xs[:, None] - pi, phi / N[:, None]),
            rho=kappa * Y[:, None],
            xi_B=-(omega / N)[:, None] * xi,
            tau_B=self.d_t + omega / N,
            rho_B=sp.d_rest_norm - omega * Y / N,
        )

    def _scores_reduced(self, xs: np.ndarray, rank: int) -> _Scores:
        Ur, s, Wt = self._reduced(xs)
        drop = np.arange(rank, s.shape[1])
        W_drop = np.transpose(Wt[:, drop, :], (0, 2, 1))  # (B, K, r)
        kappa = -np.einsum("mk,bkd->bmd", self.Q[: self.m1], Ur[:, :, drop] * s[:, None, drop])
        xis = np.einsum("nk,bkd->bdn", self.V, W_drop[:, : self.k1, :])
        tau = xs[:, None] * self.mask + np.einsum("bmd,bd->bm", kappa, W_drop[:, self.k1, :])
        rho = np.zeros((xs.size, self.m1))
        if self.n2 > 1:
            rho = np.einsum("bmd,bd->bm", kappa, W_drop[:, self.k1 + 1, :])
        y_B = self.z_B - np.einsum("bkd,bd->bk", W_drop, np.einsum("bkd,k->bd", W_drop, self.z_B))
        return _Scores(
            xs=xs,
            rank=rank,
            method="lemma 0",
            mu=np.full(xs.size, np.nan),
            kappa=kappa,
            xis=xis,
            tau=tau,
            rho=rho,
            xi_B=y_B[:, : self.k1] @ self.V.T,
            tau_B=y_B[:, self.k1],
            rho_B=y_B[:, self.k1 + 1] if self.n2 > 1 else np.zeros(xs.size),
        )

    # -- scores -----------------------------------------------------------------------------------------------

    def _patterns(self, sc: _Scores) -> np.ndarray:
        pattern = np.zeros((sc.xs.size, self.n_items))
        pattern[:, self.maj_i] = sc.xi_B
        pattern[:, self.t] = sc.tau_B
        pattern[:, self.others] = sc.rho_B[:, None] * self.g
        return pattern

    def _rows(self, sc: _Scores, b: int, rows: np.ndarray) -> np.ndarray:
        out = np.zeros((rows.size, self.n_items))
        out[:, self.maj_i] = self.A[rows] + sc.kappa[b, rows] @ sc.xis[b]
        out[:, self.t] = sc.tau[b, rows]
        out[:, self.others] = np.outer(sc.rho[b, rows], self.g)
        return out

    def dense_scores(self, x: float) -> np.ndarray:
        """R^(x), ndarray of shape (n_users, n_items), formed from the coefficients (O(n_users n_items k1))."""
        sc = self.scores(x)
        return self._dense(sc, 0)

    def _dense(self, sc: _Scores, b: int) -> np.ndarray:
        R_hat = np.zeros((self.n_users, self.n_items))
        R_hat[self.maj_u] = self._rows(sc, b, np.arange(self.m1))
        R_hat[self.min_u] = np.outer(self.c, self._patterns(sc)[b])
        return R_hat

    # -- top items ------------------------------------------------------------------------------------------

    def evaluate(self, x: float, mu: float | None = None) -> TheoryPoint:
        """The exact outcome at ``x`` (``mu``: the secular root, when already known)."""
        sc = self.scores([float(x)], None if mu is None else [mu])
        top, top_scores, n_rows = self._decide(sc)
        utilities = self.R_true[self.users, top[0]]
        return TheoryPoint(
            x=float(x),
            rank=sc.rank,
            method=sc.method,
            mu=float(sc.mu[0]),
            top_items=top[0],
            utilities=utilities,
            top_scores=top_scores[0],
            social_welfare=math.fsum(utilities),
            n_row_evaluations=int(n_rows[0]),
        )

    def evaluate_many(self, xs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(k*, top items, utilities) at every x in ``xs``: arrays of shape (n,), (n, n_users), (n, n_users)."""
        xs = np.asarray(xs, dtype=np.float64)
        ranks = np.array([self.rank(float(x)) for x in xs], dtype=np.int64)
        theorem = np.array([self.uses_theorem_2_2(float(x)) for x in xs], dtype=bool)
        tops = np.empty((xs.size, self.n_users), dtype=np.int64)
        for group in (np.flatnonzero(theorem), *(np.flatnonzero(~theorem & (ranks == r)) for r in np.unique(ranks))):
            for start in range(0, group.size, _CHUNK):
                index = group[start : start + _CHUNK]
                tops[index] = self._decide(self.scores(xs[index]))[0]
        return ranks, tops, self.R_true[self.users[None, :], tops]

    def _decide(self, sc: _Scores):
        """Top items and their scores for each x of the batch (module docstring)."""
        self.n_evaluations += sc.xs.size
        B = sc.xs.size
        x2 = sc.xs**2
        tol_ub = self.tie_rtol * np.maximum.reduce(
            [np.ones(B), np.sqrt(np.maximum(self.sq_others, self.sq_members + x2)), np.full(B, self.c_max)]
        )
        kappa, xis = sc.kappa, sc.xis
        xi_max, xi_min = xis.max(axis=2, initial=-np.inf), xis.min(axis=2, initial=np.inf)  # (B, r)
        hi = np.maximum(kappa * xi_max[:, None, :], kappa * xi_min[:, None, :]).sum(axis=2)
        best = self.a_top + np.einsum("bmr,brm->bm", kappa, xis[:, :, self.j_star])
        rival = np.maximum(self.a_second + hi, sc.tau)
        if self.g.size:
            rival = np.maximum(rival, np.maximum(sc.rho * self.g_max, sc.rho * self.g_min))
        decided = best - rival > tol_ub[:, None]
        patterns = self._patterns(sc)
        p_arg = np.argmax(patterns, axis=1)
        p_max = patterns[np.arange(B), p_arg]
        masked = patterns.copy()
        masked[np.arange(B), p_arg] = -np.inf
        p_second = masked.max(axis=1)
        p_decided = self.c_min * (p_max - p_second) > tol_ub
        top = np.empty((B, self.n_users), dtype=np.int64)
        top_scores = np.empty((B, self.n_users))
        top[:, self.maj_u] = self.maj_i[self.j_star]
        top_scores[:, self.maj_u] = best
        top[:, self.min_u] = p_arg[:, None]
        top_scores[:, self.min_u] = p_max[:, None] * self.c
        n_rows = np.count_nonzero(~decided, axis=1)
        pair_b, pair_u = np.nonzero(~decided)
        clear = np.ones(B, dtype=bool)
        if pair_b.size:  # form the undecided rows of the whole batch at once
            rows = np.zeros((pair_b.size, self.n_items))
            rows[:, self.maj_i] = self.A[pair_u] + np.einsum("pr,prn->pn", kappa[pair_b, pair_u], xis[pair_b])
            rows[:, self.t] = sc.tau[pair_b, pair_u]
            rows[:, self.others] = sc.rho[pair_b, pair_u][:, None] * self.g
            arg = np.argmax(rows, axis=1)
            first = rows[np.arange(pair_b.size), arg]
            rows[np.arange(pair_b.size), arg] = -np.inf
            ambiguous = first - rows.max(axis=1) <= tol_ub[pair_b]
            top[pair_b, self.maj_u[pair_u]] = arg
            top_scores[pair_b, self.maj_u[pair_u]] = first
            clear[pair_b[ambiguous]] = False
        for b in np.flatnonzero(~clear | ~p_decided):
            self._resolve(sc, b, decided[b], best[b], patterns[b], top[b], top_scores[b])
        return top, top_scores, n_rows

    def _resolve(self, sc: _Scores, b: int, decided, best, pattern, top, top_scores) -> None:
        """Exact top items at one x where bounds did not decide every row (in place)."""
        undecided = np.flatnonzero(~decided)
        rows = self._rows(sc, b, undecided)
        arg = np.argmax(rows, axis=1)
        first = rows[np.arange(undecided.size), arg]
        p_arg = int(np.argmax(pattern))
        row_max = np.concatenate([best[decided], first, self.c * pattern[p_arg]])
        # a lower bound on min R^ decides whether -min R^ can set the tolerance
        kappa, xis = sc.kappa[b], sc.xis[b]
        lo = np.minimum(kappa * xis.max(axis=1, initial=-np.inf), kappa * xis.min(axis=1, initial=np.inf))
        low_A = self.a_min + lo.sum(axis=1)
        lowest = min(
            float(low_A.min()),
            float(sc.tau[b].min()),
            float(np.minimum(sc.rho[b] * self.g_max, sc.rho[b] * self.g_min).min()) if self.g.size else 0.0,
            float(min(self.c_max * pattern.min(), self.c_min * pattern.min())),
        )
        scale = max(1.0, float(np.abs(row_max).max()))
        if -lowest > scale:
            R_hat = self._dense(sc, b)
            top[:] = top_items(R_hat, self.tie_rtol)
            top_scores[:] = R_hat[self.users, top]
            return
        tol = self.tie_rtol * scale
        top[self.maj_u[undecided]] = arg
        top_scores[self.maj_u[undecided]] = first
        tied_rows = [(self.maj_u[undecided[i]], rows[i] >= first[i] - tol) for i in range(undecided.size)]
        tied_rows = [(u, items) for u, items in tied_rows if np.count_nonzero(items) > 1]
        near = pattern[None, :] >= pattern[p_arg] - tol / self.c[:, None]
        c_tied = np.flatnonzero(np.count_nonzero(near, axis=1) > 1)
        if not tied_rows and not c_tied.size:
            return
        col_l1 = self._column_l1(sc, b, low_A, pattern)
        l1_tol = self.tie_rtol * max(1.0, float(col_l1.max()))

        def winner(items: np.ndarray) -> int:
            best_l1 = col_l1[items].max()
            return int(np.argmax(items & (col_l1 >= best_l1 - l1_tol)))

        for u, items in tied_rows:
            j = winner(items)
            top[u] = j
            top_scores[u] = rows[np.searchsorted(self.maj_u[undecided], u), j]
        for i in c_tied:
            j = winner(pattern >= pattern[p_arg] - tol / self.c[i])
            top[self.min_u[i]] = j
            top_scores[self.min_u[i]] = self.c[i] * pattern[j]

    def _column_l1(self, sc: _Scores, b: int, low_A: np.ndarray, pattern: np.ndarray) -> np.ndarray:
        """Column l1 norms of R^ (closed form when the majority block of R^ is non-negative)."""
        col = self.c_l1 * np.abs(pattern)
        if low_A.min() >= 0:
            col[self.maj_i] += self.a_colsum + sc.kappa[b].sum(axis=0) @ sc.xis[b]
        else:
            col[self.maj_i] += np.abs(self.A + sc.kappa[b] @ sc.xis[b]).sum(axis=0)
        col[self.t] += np.abs(sc.tau[b]).sum()
        col[self.others] += np.abs(sc.rho[b]).sum() * self.g
        return col
