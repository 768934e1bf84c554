"""Who gains from taking part: individual rationality, free riders and minimal effective sub-collectives.

Definitions (reconstruction; see :mod:`recollective.game.incentives` and docs/incentives.md). With pi_u the
altruistic payoff net of action costs and C the collective:

* member u is *individually rational* when pi_u(C) >= pi_u(C \\ u): staying is at least as good as leaving
  while the others stay (margins within ``rtol * max(1, max R*)`` of zero count as zero);
* member u is *pivotal* when C meets the criterion and C \\ u does not;
* member u is a *free rider* when C and C \\ u both meet the criterion and u strictly prefers leaving: the
  strategy survives u's departure and u saves the cost of acting;
* a non-member v is a free rider when w_v(C) > w_v(truthful): v gains without acting.

Minimal sub-collectives are in :mod:`recollective.game.incentives._minimal`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recollective.game._outcome import DEFAULT_TIE_RTOL
from recollective.game._pareto import ParetoComparison
from recollective.game._rank_rules import RankRule
from recollective.game._records import record
from recollective.game._strategy import CollectiveStrategy
from recollective.game.incentives._core import (
    DEFAULT_MAX_EXACT,
    DEFAULT_RTOL,
    check_weight,
    payoffs,
    resolve_exact,
    single_threaded_blas,
)
from recollective.game.incentives._minimal import SubCollectives, find_subcollectives, setup_game

__all__ = ["IncentiveReport", "MemberIncentive", "incentives"]


@dataclass(frozen=True)
class MemberIncentive:
    """One member's incentive to stay in the collective while the others stay.

    Attributes
    ----------
    user_idx : int
    n_actions : int
        a_u, reported entries that differ from the member's true preferences.
    own_change : float
        w_u(C) - w_u(C \\ u).
    others_change : float
        sum_{v != u} (w_v(C) - w_v(C \\ u)), the welfare the member's participation gives everyone else.
    margin : float
        pi_u(C) - pi_u(C \\ u) = own_change + lambda * others_change - c * n_actions.
    is_rational : bool
        margin >= 0 (within tolerance).
    meets_without : bool
        C \\ u meets the criterion.
    is_pivotal : bool
        C meets the criterion and C \\ u does not.
    is_free_rider : bool
        C and C \\ u meet the criterion and the member strictly prefers leaving (margin < 0).
    """

    user_idx: int
    n_actions: int
    own_change: float
    others_change: float
    margin: float
    is_rational: bool
    meets_without: bool
    is_pivotal: bool
    is_free_rider: bool

    def as_dict(self) -> dict:
        return record(self)


@dataclass(frozen=True, eq=False)
class IncentiveReport:
    """Incentives of a collective at one altruism weight and one cost per action (see the module docstring).

    Attributes
    ----------
    strategy : CollectiveStrategy
    altruism, cost, welfare_gain : float
        lambda, c and the required welfare gain G.
    criterion : {"effective", "pareto"}
    truthful_welfare, welfare : float
        SW under truthful play and under the collective.
    comparison : ParetoComparison
        The collective's outcome against truthful play.
    meets_criterion : bool
    members : tuple of MemberIncentive
        One per member, in ascending user index.
    rational_members, free_riders : ndarray of int
        Members who are individually rational / free riders.
    nonmember_free_riders : ndarray of int
        Non-members whose utility rises without acting.
    harmed_users : ndarray of int
        Users (members or not) whose utility falls.
    payoffs, truthful_payoffs : ndarray of shape (n_users,)
        pi_u(C) and pi_u(truthful) (no actions, so no costs).
    subcollectives : SubCollectives
    n_evaluations : int
        Distinct sub-collectives evaluated (truthful play included).
    """

    strategy: CollectiveStrategy
    altruism: float
    cost: float
    welfare_gain: float
    criterion: str
    truthful_welfare: float
    welfare: float
    comparison: ParetoComparison
    meets_criterion: bool
    members: tuple[MemberIncentive, ...]
    rational_members: np.ndarray
    free_riders: np.ndarray
    nonmember_free_riders: np.ndarray
    harmed_users: np.ndarray
    payoffs: np.ndarray
    truthful_payoffs: np.ndarray
    subcollectives: SubCollectives
    n_evaluations: int

    @property
    def is_stable(self) -> bool:
        """No member gains by leaving alone (every member is individually rational)."""
        return all(member.is_rational for member in self.members)

    def as_dict(self) -> dict:
        return record(self, rename={"comparison": "versus_truthful"}, is_stable=self.is_stable)


@single_threaded_blas
def incentives(
    R_true,
    strategy: CollectiveStrategy,
    alpha: RankRule | float = 1.0,
    *,
    altruism: float = 0.0,
    cost: float = 0.0,
    welfare_gain: float = 0.0,
    criterion: str = "effective",
    exact: bool | None = None,
    max_exact: int = DEFAULT_MAX_EXACT,
    tie_rtol: float = DEFAULT_TIE_RTOL,
    rtol: float = DEFAULT_RTOL,
) -> IncentiveReport:
    """Individual rationality, free riders and minimal sub-collectives of one collective strategy.

    Each member's margin is pi_u(C) - pi_u(C \\ u) with pi_u = w_u + lambda * sum_{v != u} w_v - c * a_u: the
    one-shot outcome is recomputed without the member (the others keep reporting), so the margin includes what
    the member's reports do to the learner's rank, to everyone's top item and to the member's own.

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R*.
    strategy : CollectiveStrategy
        Members C, targets T, uprating values x.
    alpha : float or RankRule, default=1.0
        The learner's rank rule (a number is the absolute threshold alpha).
    altruism : float, default=0.0
        lambda >= 0, the weight on everyone else's welfare.
    cost : float, default=0.0
        c >= 0 per strategic action (one reported (member, target) entry that differs from R*).
    welfare_gain, criterion, exact, max_exact, tie_rtol, rtol
        As in :func:`~recollective.game.incentives.minimal_subcollectives`; ``rtol`` also decides when a margin
        counts as zero.

    Returns
    -------
    IncentiveReport

    Examples
    --------
    >>> import numpy as np
    >>> from recollective.game import CollectiveStrategy
    >>> from recollective.game.incentives import incentives
    >>> R = np.zeros((6, 5))
    >>> R[:4, :3] = [[5, 4, 0], [5, 4.25, 1.25], [0, 1, 5], [1.25, 2, 5]]
    >>> R[4:, 3:] = [[0.5, 0.6], [0.4, 0.48]]
    >>> report = incentives(R, CollectiveStrategy([0, 2], [4], 1.0), 1.0102, cost=0.05)
    >>> round(report.comparison.welfare_change, 2), report.free_riders.tolist()
    (1.08, [0, 2])
    """
    game = setup_game(R_true, strategy, alpha, welfare_gain, criterion, tie_rtol, rtol)
    altruism = check_weight(altruism, "altruism")
    cost = check_weight(cost, "cost")
    exact = resolve_exact(exact, game.n_members, max_exact)
    full = game.full
    after = game.utilities(full)
    meets = game.meets(full)
    inside, own, others = game.marginals(full)
    members = []
    for j, p in enumerate(inside):
        margin = own[j] + altruism * others[j] - cost * game.actions[p]
        rational = bool(margin >= -game.tol)
        meets_without = game.meets(full & ~(1 << p))
        members.append(
            MemberIncentive(
                user_idx=int(game.members[p]),
                n_actions=int(game.actions[p]),
                own_change=float(own[j]),
                others_change=float(others[j]),
                margin=float(margin),
                is_rational=rational,
                meets_without=meets_without,
                is_pivotal=meets and not meets_without,
                is_free_rider=meets and meets_without and not rational,
            )
        )
    n_actions = np.zeros(game.R_true.shape[0], dtype=np.int64)
    n_actions[game.members] = game.actions
    in_collective = np.zeros(game.R_true.shape[0], dtype=bool)
    in_collective[game.members] = True
    comparison = game.comparison(full)
    return IncentiveReport(
        strategy=strategy,
        altruism=altruism,
        cost=cost,
        welfare_gain=game.welfare_gain,
        criterion=game.criterion,
        truthful_welfare=math.fsum(game.baseline),
        welfare=math.fsum(after),
        comparison=comparison,
        meets_criterion=meets,
        members=tuple(members),
        rational_members=np.array([m.user_idx for m in members if m.is_rational], dtype=np.int64),
        free_riders=np.array([m.user_idx for m in members if m.is_free_rider], dtype=np.int64),
        nonmember_free_riders=np.flatnonzero(~in_collective & (after > game.baseline)),
        harmed_users=np.flatnonzero(after < game.baseline),
        payoffs=payoffs(after, n_actions, altruism=altruism, cost=cost),
        truthful_payoffs=payoffs(game.baseline, np.zeros_like(n_actions), altruism=altruism),
        subcollectives=find_subcollectives(game, exact),
        n_evaluations=game.n_evaluations,
    )
