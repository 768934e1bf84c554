"""The learner's outcome: k*, R^, top items, utilities, social welfare and platform utilities.

Definitions (MISSION.md, "The one-shot game"; a reconstruction of Fedorova, Kitch & Podimata, arXiv 2506.04525):

* k* is given by the rank rule (default: the number of singular values of R~ strictly greater than alpha);
  R^ is the rank-k* truncated SVD of R~ (the zero matrix when k* = 0).
* top(u) = argmax_i R^[u, i]; scores within ``tie_rtol * max(1, max|R^|)`` of the row maximum tie, and ties go
  to the item whose column of R^ has the larger l1 norm (norms within the same tolerance count as equal),
  then to the lower item index.
* w_u = R*[u, top(u)]; social welfare SW = sum_u w_u.
* Platform utilities (the paper's list is unknown; all four are reported): predicted engagement
  sum_u R^[u, top(u)]; realised engagement = SW; retained variation TVR(k*) = sum_{j<=k*} s_j / sum_j s_j;
  fit error ||R~ - R^||_F.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from recollective.game._checks import check_preferences, check_revealed
from recollective.game._rank_rules import RankRule, as_rank_rule
from recollective.game._records import record

__all__ = ["DEFAULT_TIE_RTOL", "Outcome", "PlatformUtilities", "outcome", "top_items"]

DEFAULT_TIE_RTOL = 1e-9


@dataclass(frozen=True)
class PlatformUtilities:
    """The four platform utilities of an outcome (see the module docstring)."""

    predicted_engagement: float
    realised_engagement: float
    retained_variation: float
    fit_error: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Outcome:
    """What the learner recommends when users reveal R~, scored against the true preferences R*.

    Attributes
    ----------
    rank : int
        k*, the number of singular directions the learner keeps.
    singular_values : ndarray of shape (min(n_users, n_items),)
        Singular values of R~, descending.
    R_hat : ndarray of shape (n_users, n_items)
        The rank-k* truncated SVD of R~ (the learner's predicted preferences).
    top_items : ndarray of shape (n_users,)
        top(u), the item recommended to each user (0-based).
    utilities : ndarray of shape (n_users,)
        w_u = R*[u, top(u)].
    social_welfare : float
        SW = sum_u w_u (summed exactly with ``math.fsum``).
    platform : PlatformUtilities
    """

    rank: int
    singular_values: np.ndarray
    R_hat: np.ndarray
    top_items: np.ndarray
    utilities: np.ndarray
    social_welfare: float
    platform: PlatformUtilities

    @property
    def n_users(self) -> int:
        return int(self.top_items.size)

    def as_dict(self) -> dict:
        """JSON-ready summary (no matrices)."""
        return record(self, drop=("R_hat",), rename={"platform": "platform_utilities"})


def top_items(R_hat: np.ndarray, tie_rtol: float = DEFAULT_TIE_RTOL) -> np.ndarray:
    """top(u) for every row of ``R_hat`` (ndarray of shape (n_users, n_items)) with MISSION's tie-break.

    Returns an int64 ndarray of shape (n_users,).
    """
    R_hat = np.asarray(R_hat, dtype=np.float64)
    top = np.argmax(R_hat, axis=1)
    if R_hat.shape[1] == 1:
        return top.astype(np.int64)
    row_max = R_hat[np.arange(R_hat.shape[0]), top]
    tol = tie_rtol * max(1.0, float(np.abs(row_max).max(initial=0.0)), -float(R_hat.min(initial=0.0)))
    tied = R_hat >= (row_max - tol)[:, None]
    rows = np.flatnonzero(np.count_nonzero(tied, axis=1) > 1)
    if rows.size:  # only rows with a tie need the column-norm rule
        col_l1 = np.abs(R_hat).sum(axis=0)
        l1_tol = tie_rtol * max(1.0, float(col_l1.max(initial=0.0)))
        tied = tied[rows]
        best_l1 = np.where(tied, col_l1[None, :], -np.inf).max(axis=1)
        winners = tied & (col_l1[None, :] >= (best_l1 - l1_tol)[:, None])
        top[rows] = np.argmax(winners, axis=1)  # first True = lowest index
    return top.astype(np.int64)


def truncated_reconstruction(R: np.ndarray, rule: RankRule) -> tuple[int, np.ndarray, np.ndarray]:
    """(k*, singular values, R^) of ``R`` under ``rule`` via a thin SVD (LAPACK gesdd)."""
    U, s, Vt = np.linalg.svd(R, full_matrices=False)
    rank = rule.rank(s)
    R_hat = (U[:, :rank] * s[:rank]) @ Vt[:rank] if rank else np.zeros_like(R)
    return rank, s, R_hat


def assemble_outcome(
    R_true: np.ndarray,
    R_revealed: np.ndarray,
    rank: int,
    singular_values: np.ndarray,
    R_hat: np.ndarray,
    tie_rtol: float = DEFAULT_TIE_RTOL,
) -> Outcome:
    """Build an :class:`Outcome` from a learner's reconstruction (shared by every evaluation path)."""
    top = top_items(R_hat, tie_rtol)
    users = np.arange(R_true.shape[0])
    utilities = R_true[users, top]
    welfare = math.fsum(utilities)
    total = float(np.sum(singular_values))
    retained = float(np.sum(singular_values[:rank])) / total if total > 0 else 1.0
    platform = PlatformUtilities(
        predicted_engagement=math.fsum(R_hat[users, top]),
        realised_engagement=welfare,
        retained_variation=retained,
        fit_error=float(np.linalg.norm(R_revealed - R_hat)),
    )
    return Outcome(
        rank=int(rank),
        singular_values=np.asarray(singular_values, dtype=np.float64),
        R_hat=R_hat,
        top_items=top,
        utilities=utilities,
        social_welfare=welfare,
        platform=platform,
    )


def outcome(
    R_true,
    R_revealed=None,
    alpha: RankRule | float = 1.0,
    *,
    tie_rtol: float = DEFAULT_TIE_RTOL,
) -> Outcome:
    """Evaluate the one-shot game: the learner fits ``R_revealed`` (R~), users are scored on ``R_true`` (R*).

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R*, finite and >= 0.
    R_revealed : array-like of shape (n_users, n_items), optional
        What users reveal, R~; truthful play (R~ = R*) when omitted.
    alpha : float or RankRule, default=1.0
        The learner's rank rule; a number is the paper's absolute threshold alpha.
    tie_rtol : float, default=1e-9
        Relative tolerance of the top-item tie rule.

    Returns
    -------
    Outcome

    Examples
    --------
    >>> import numpy as np
    >>> from recollective.game import outcome
    >>> R = np.array([[3.0, 1.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 0.5]])
    >>> result = outcome(R, alpha=1.0)
    >>> result.rank, result.top_items.tolist(), result.social_welfare
    (1, [0, 0, 0], 5.0)
    """
    R_true = check_preferences(R_true, "R_true")
    R_revealed = R_true if R_revealed is None else check_revealed(R_revealed, R_true.shape, "R_revealed")
    rule = as_rank_rule(alpha)
    rank, s, R_hat = truncated_reconstruction(R_revealed, rule)
    return assemble_outcome(R_true, R_revealed, rank, s, R_hat, tie_rtol)
