"""Certified robustness radius of an outcome: a perturbation size below which nothing changes.

For revealed preferences R~ with singular values s, kept rank k = k*, reconstruction R^ = R~ Q (Q = V_k V_k^T
projects onto the top-k right singular subspace) and a perturbation E with ||E||_2 <= eps:

* **k* stays** when eps is below the rank rule's radius (Weyl: |s_j(R~ + E) - s_j(R~)| <= ||E||_2; for TVR also
  Mirsky: sum_j |ds_j| <= ||E||_*, at most rank(E) * eps).
* **Each user's top item stays** (in utility mode: each user's utility stays) when the row change of R^
  cannot close the user's score margin. Row u of
  R^' - R^ is R~[u](Q' - Q) + E[u] Q', so ||R^'[u] - R^[u]|| <= ||R~[u]|| rho + ||E[u]||, where
  rho = ||Q' - Q||_2 <= eps / (g - eps) with g = s_k - s_{k+1} (Wedin's sin-theta theorem, with Weyl's bound on
  the perturbed gap). A score difference moves by at most sqrt(2) times the row change, so the top item stays
  when margin_u > sqrt(2) (||R~[u]|| rho + ||E[u]||) + the tie tolerance of the perturbed R^. In utility
  mode the margin is taken over the items whose utility differs from the user's current one.
* When k* = 0 the reconstruction is the zero matrix and stays so while k* stays.

A user whose top item is decided by a tie (another item within the tie tolerance) has radius 0: any
perturbation may break the tie. The radius is a sufficient condition; ``tightness`` in the CLI compares it with
the smallest random perturbation found that does change the outcome.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recollective.game._outcome import DEFAULT_TIE_RTOL, Outcome
from recollective.game._rank_rules import RankRule, as_rank_rule
from recollective.game._records import record

__all__ = ["Certificate", "certified_radius", "outcome_radius"]

SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class Certificate:
    """A certified perturbation radius (spectral norm) and the constraint that binds it.

    Attributes
    ----------
    radius : float
        Every perturbation E with ||E||_2 < radius leaves k* and every top item unchanged.
    rank_radius : float
        The part due to the rank rule alone.
    binding : str
        ``"rank"``, ``"spectral gap"``, ``"tie at user u"``, ``"margin of user u"`` or ``"none"``.
    """

    radius: float
    rank_radius: float
    binding: str

    def as_dict(self) -> dict:
        return record(self)


def user_margins(R_hat: np.ndarray, top: np.ndarray, R_true: np.ndarray | None = None) -> np.ndarray:
    """Score margin of each user's top item (ndarray of shape (n_users,); inf when nothing competes).

    Without ``R_true``: margin_u = R^[u, top(u)] - max_{i != top(u)} R^[u, i] (the top item itself is safe).
    With ``R_true``: the maximum runs over items whose utility R*[u, i] differs from w_u (the utility is safe).
    """
    users = np.arange(R_hat.shape[0])
    if R_true is None:
        rivals = np.ones(R_hat.shape, dtype=bool)
        rivals[users, top] = False
    else:
        rivals = R_true != R_true[users, top][:, None]
    best_rival = np.where(rivals, R_hat, -np.inf).max(axis=1, initial=-np.inf)
    return R_hat[users, top] - best_rival


def certified_radius(
    singular_values: np.ndarray,
    rank: int,
    R_hat: np.ndarray,
    top: np.ndarray,
    row_norms: np.ndarray,
    rule: RankRule,
    *,
    row_share: np.ndarray | float = 1.0,
    perturbation_rank: int | None = None,
    tie_rtol: float = DEFAULT_TIE_RTOL,
    margins: np.ndarray | None = None,
) -> Certificate:
    """Certified radius for perturbations E with ||E||_2 < eps and ||E[u]|| <= row_share[u] * eps.

    Parameters
    ----------
    singular_values : ndarray of shape (p,)
        Descending singular values of R~ (at least the first k* + 1 of them when k* < p).
    rank : int
    R_hat : ndarray of shape (n_users, n_items)
    top : ndarray of shape (n_users,)
    row_norms : ndarray of shape (n_users,)
        ||R~[u]||.
    row_share : float or ndarray of shape (n_users,), default=1.0
        Bound on each row's share of the perturbation (1 for arbitrary E; 0 for rows E leaves alone).
    perturbation_rank : int, optional
        Bound on rank(E) (used by the TVR rule); defaults to min(n_users, n_items).
    """
    n_users, n_items = R_hat.shape
    s = np.asarray(singular_values, dtype=np.float64)
    r = perturbation_rank if perturbation_rank is not None else min(n_users, n_items)
    eps_rank = rule.rank_radius(s, r)
    if rank == 0:
        return Certificate(eps_rank, eps_rank, "rank")
    s_next = s[rank] if rank < s.size else 0.0
    # When every direction is kept, R^ = R~ and R^' = R~ + E: no subspace term.
    gap = s[rank - 1] - s_next if rank < min(n_users, n_items) else math.inf
    margins = user_margins(R_hat, top) if margins is None else margins
    share = np.broadcast_to(np.asarray(row_share, dtype=np.float64), (n_users,))
    scale = float(np.abs(R_hat).max(initial=0.0))

    def violated(eps: float) -> np.ndarray:
        rho = 0.0 if math.isinf(gap) else (eps / (gap - eps) if eps < gap else math.inf)
        change = row_norms * rho + share * eps
        shift = SQRT2 * change
        tie_tol = tie_rtol * max(1.0, scale + float(np.max(change, initial=0.0)))
        return ~(margins - shift > tie_tol)

    if violated(0.0).any():
        u = int(np.flatnonzero(violated(0.0))[0])
        return Certificate(0.0, eps_rank, f"tie at user {u}")
    hi = min(eps_rank, gap)
    if math.isinf(hi):  # no rank or subspace constraint: grow until a margin breaks
        hi = 1.0
        while not violated(hi).any():
            hi *= 2.0
            if hi > 1e300:
                return Certificate(math.inf, eps_rank, "none")
    elif not violated(hi * (1 - 1e-12)).any():
        return Certificate(float(hi), eps_rank, "rank" if eps_rank <= gap else "spectral gap")
    lo = 0.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if violated(mid).any():
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-12 * hi:
            break
    u = int(np.flatnonzero(violated(hi))[0])
    return Certificate(lo, eps_rank, f"margin of user {u}")


def outcome_radius(result: Outcome, R_revealed, alpha: RankRule | float, *, tie_rtol: float = DEFAULT_TIE_RTOL):
    """Certified radius of ``result`` (the outcome of R~ = ``R_revealed``) under arbitrary perturbations of R~."""
    R_revealed = np.asarray(R_revealed, dtype=np.float64)
    return certified_radius(
        result.singular_values,
        result.rank,
        result.R_hat,
        result.top_items,
        np.linalg.norm(R_revealed, axis=1),
        as_rank_rule(alpha),
        tie_rtol=tie_rtol,
    )
