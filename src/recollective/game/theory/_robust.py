"""Robustness to block-diagonal noise (THEORY.md §6, Proposition 4.2; §7 step 7) and the robust uprating value.

For R*' = R* + E with E = blockdiag(E_A, E_B), ||E||_2 <= eps and R*' >= 0, the strategy (C, t, x) stays
Pareto-effective when

* (R1) eps < sigma_k1 - alpha and eps <= alpha - sigma_B;
* (R2) eps < s_{k1+1} - alpha and eps <= alpha - s_{k1+2}  (singular values of the manipulated R~);
* (R3) min_u g_u > 4 eps and min_u A[u, j*_u] > 2 eps  (g_u: the truthful gap of majority user u);
* (R4) min_u M_u > 2 Delta(eps) and min_u M^B_u > 2 Delta(eps)  (margins of the manipulated R^, Lemma 4.1 with
  k = k1 + 1: Delta(eps) = min{2 (s_{k+1} + eps), eps + eps (s_1 + s_{k+1})/(s_k - s_{k+1} - eps)});
* (R5) min_{u, j} B[u, j] > eps.

Each condition is monotone in eps, so the certified radius eps_cert is the smallest of the per-condition limits
(R4's in closed form: Delta(eps) < M/2 iff eps < max(M/4 - s_{k+1}, the smaller root of
eps^2 - (g + s_1 + s_{k+1} + M/2) eps + g M/2 = 0), g = s_k - s_{k+1}). Every eps < eps_cert is certified.
The robust uprating value maximises eps_cert over the Pareto window (on a grid of points of each interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from recollective.game._records import record
from recollective.game.theory._evaluator import ExactEvaluator

__all__ = ["RobustUprating", "RobustnessRadius", "robust_uprating", "robustness_radius"]


@dataclass(frozen=True)
class RobustnessRadius:
    """The certified radius of Proposition 4.2 at one x.

    Attributes
    ----------
    x : float
    radius : float
        eps_cert: every block-diagonal E with ||E||_2 < radius (and R* + E >= 0) keeps the strategy
        Pareto-effective. 0 when a condition fails at eps = 0.
    binding : str
        The condition whose limit is smallest (``"R1"`` ... ``"R5"``).
    limits : dict
        Each condition's own limit on eps.
    reason : str
        Why the radius is 0 (empty otherwise).
    """

    x: float
    radius: float
    binding: str
    limits: dict = field(default_factory=dict)
    reason: str = ""

    def as_dict(self) -> dict:
        return record(self)


def _delta_limit(M: float, s_1: float, s_k: float, s_next: float) -> float:
    """sup {eps >= 0 : 2 Delta(eps) < M} for Delta of Lemma 4.1."""
    if M <= 0:
        return 0.0
    first = M / 4.0 - s_next
    g = s_k - s_next
    b = g + s_1 + s_next + M / 2.0
    second = g * M / (b + math.sqrt(max(b * b - 2.0 * g * M, 0.0))) if g > 0 else 0.0
    return max(first, second, 0.0)


def robustness_radius(evaluator: ExactEvaluator, x: float) -> RobustnessRadius:
    """Certified radius eps_cert(x) of Proposition 4.2 (block-diagonal noise).

    Parameters
    ----------
    evaluator : ExactEvaluator
    x : float
        An uprating value with k* = k1 + 1 (otherwise the radius is 0 with the reason).

    Returns
    -------
    RobustnessRadius
    """
    x = float(x)
    sp = evaluator.spectral
    st = sp.structure
    k1, alpha = st.k1, st.alpha
    if evaluator.rank(x) != k1 + 1:
        return RobustnessRadius(x, 0.0, "R2", reason="k* = k1 at this x: the new direction is not retained")
    s = evaluator.singular_values(x)
    s_1, s_k, s_next = float(s[0]), float(s[k1]), float(s[k1 + 1]) if s.size > k1 + 1 else 0.0
    R = evaluator.R_true
    A = R[np.ix_(st.majority_users, st.majority_items)]
    B = R[np.ix_(st.minority_users, st.minority_items)]
    j_star = np.argmax(A, axis=1)
    rows = np.arange(A.shape[0])
    a_star = A[rows, j_star]
    rest = A.copy()
    rest[rows, j_star] = -np.inf
    g = a_star - rest.max(axis=1, initial=-np.inf)
    R_hat = evaluator.dense_scores(x)
    maj = R_hat[st.majority_users]
    target_scores = maj[rows, st.majority_items[j_star]]
    maj_rest = maj.copy()
    maj_rest[rows, st.majority_items[j_star]] = -np.inf
    M = target_scores - maj_rest.max(axis=1)
    mino = R_hat[st.minority_users]
    M_B = mino[:, st.minority_items].max(axis=1) - mino[:, st.majority_items].max(axis=1)
    margin = float(min(M.min(), M_B.min()))
    limits = {
        "R1": min(float(st.sigma[-1]) - alpha, alpha - st.sigma_B),
        "R2": min(s_k - alpha, alpha - s_next),
        "R3": min(float(g.min()) / 4.0, float(a_star.min()) / 2.0),
        "R4": _delta_limit(margin, s_1, s_k, s_next),
        "R5": float(B.min()),
    }
    binding = min(limits, key=limits.get)
    radius = max(0.0, limits[binding])
    reason = ""
    if radius == 0.0:
        reason = f"condition {binding} fails at eps = 0 (limit {limits[binding]:.3g})"
        if binding == "R4" and margin <= 0:
            reason += ": the strategy is not Pareto-effective at this x (a margin of R^ is <= 0)"
    return RobustnessRadius(x, radius, binding, limits, reason)


@dataclass(frozen=True)
class RobustUprating:
    """The robust uprating value: argmax of eps_cert(x) over the Pareto window above x_k (a grid of points per
    interval; among equal radii, the point farthest from the interval's ends)."""

    x: float
    radius: RobustnessRadius | None
    interval: tuple[float, float] | None
    n_points: int
    reason: str = ""

    def as_dict(self) -> dict:
        return record(self)


def robust_uprating(evaluator: ExactEvaluator, intervals, n_points: int = 64) -> RobustUprating:
    """argmax_x eps_cert(x) over the given Pareto intervals above x_k (THEORY.md §7 step 7).

    Parameters
    ----------
    evaluator : ExactEvaluator
    intervals : list of (lo, hi)
        The Pareto window (e.g. ``theory_window(...).pareto_intervals``).
    n_points : int, default=64
        Interior points tried per interval (equally spaced, end points excluded).

    Returns
    -------
    RobustUprating
        ``x`` is NaN when the window is empty.
    """
    best: RobustnessRadius | None = None
    best_interval, best_depth = None, 0.0
    x_k = evaluator.spectral.x_k
    for lo, hi in intervals:
        if hi <= x_k:  # Pareto with k* = k1 (Remark 2.7): Proposition 4.2 does not apply
            continue
        for x in np.linspace(max(lo, x_k), hi, n_points + 2)[1:-1]:
            radius = robustness_radius(evaluator, float(x))
            depth = min(x - lo, hi - x)  # equal radii (a binding R1 does not depend on x): prefer the centre
            if best is None or (radius.radius, depth) > (best.radius, best_depth):
                best, best_depth, best_interval = radius, depth, (float(lo), float(hi))
    if best is None:
        reason = "the Pareto window is empty" if not intervals else "the Pareto window lies below x_k (Remark 2.7)"
        return RobustUprating(math.nan, None, None, 0, reason=reason)
    return RobustUprating(best.x, best, best_interval, n_points)
