"""The critical mass of a collective as a function of the cost per action and the altruism weight.

Definition (reconstruction; see docs/incentives.md): for an altruism weight lambda and a cost c per strategic
action, the *critical mass* is the size of the smallest sub-collective S of the candidates that meets the
criterion (social welfare strictly up, by at least G; nobody worse off under "pareto") while every member of S is
individually rational in S (pi_u(S) >= pi_u(S \\ u)). Two searches:

* *prefix*: S ranges over the prefixes of the ordered candidate list (the first k candidates join);
* *exact*: S ranges over all 2^n subsets of the candidates (n <= ``max_exact``).

Each sub-collective's outcome is computed once and reused for every (lambda, c): the members' margins are affine
in (lambda, c), so the grid costs array arithmetic, not evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recollective.game._checks import check_preferences
from recollective.game._outcome import DEFAULT_TIE_RTOL
from recollective.game._rank_rules import RankRule, as_rank_rule
from recollective.game._strategy import CollectiveStrategy
from recollective.game.incentives._core import (
    DEFAULT_MAX_EXACT,
    DEFAULT_RTOL,
    SubsetGame,
    check_criterion,
    check_grid,
    check_order,
    check_strategy,
    check_tolerance,
    check_weight,
    positions,
    resolve_exact,
    single_threaded_blas,
)

__all__ = ["CriticalMassResult", "critical_mass"]

NOT_REACHED = -1


@dataclass(frozen=True, eq=False)
class CriticalMassResult:
    """Critical mass over a grid of altruism weights (rows) and costs per action (columns).

    Attributes
    ----------
    altruisms : ndarray of shape (n_altruisms,)
    costs : ndarray of shape (n_costs,)
    order : ndarray of shape (n_candidates,)
        Candidate user indices in the order they join (prefix k = the first k).
    targets : ndarray of int
    welfare_gain : float
        The required gain G.
    criterion : {"effective", "pareto"}
    prefix_gains : ndarray of shape (n_candidates,)
        SW(prefix k) - SW(truthful), k = 1..n_candidates.
    prefix_meets : ndarray of shape (n_candidates,) of bool
        Prefix k meets the criterion (costs aside).
    prefix_break_even : ndarray of shape (n_altruisms, n_candidates)
        Largest cost per action at which every member of prefix k is individually rational; NaN when prefix k
        does not meet the criterion or is not rational even at zero cost, inf when nobody in it pays.
    prefix_size : ndarray of shape (n_altruisms, n_costs) of int
        Prefix critical mass; -1 where no prefix qualifies.
    exact : bool
        Whether all subsets were searched.
    exact_size : ndarray of shape (n_altruisms, n_costs) of int, or None
        Exact critical mass; -1 where no subset qualifies.
    exact_members : tuple of tuple of (ndarray or None), or None
        ``exact_members[i][j]``: the smallest qualifying subset at (altruisms[i], costs[j]) (sorted user
        indices); among equal sizes, the one whose positions in ``order`` come first lexicographically.
    n_evaluations : int
        Distinct sub-collectives whose outcome was computed (truthful play included), whatever the grid size.
    """

    altruisms: np.ndarray
    costs: np.ndarray
    order: np.ndarray
    targets: np.ndarray
    welfare_gain: float
    criterion: str
    prefix_gains: np.ndarray
    prefix_meets: np.ndarray
    prefix_break_even: np.ndarray
    prefix_size: np.ndarray
    exact: bool
    exact_size: np.ndarray | None
    exact_members: tuple | None
    n_evaluations: int

    def as_dict(self) -> dict:
        def sizes(array):
            return None if array is None else [[None if v < 0 else int(v) for v in row] for row in array]

        return {
            "altruisms": self.altruisms.tolist(),
            "costs": self.costs.tolist(),
            "order": self.order.tolist(),
            "targets": self.targets.tolist(),
            "welfare_gain": self.welfare_gain,
            "criterion": self.criterion,
            "prefix_gains": self.prefix_gains.tolist(),
            "prefix_meets": self.prefix_meets.tolist(),
            "prefix_break_even": self.prefix_break_even.tolist(),
            "prefix_size": sizes(self.prefix_size),
            "exact": self.exact,
            "exact_size": sizes(self.exact_size),
            "exact_members": None
            if self.exact_members is None
            else [[None if s is None else s.tolist() for s in row] for row in self.exact_members],
            "n_evaluations": self.n_evaluations,
        }


def _first_feasible(meets: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Index of the first candidate (axis 0) that meets the criterion and is rational, per grid cell; -1 if none."""
    ok = meets[:, None, None] & feasible
    return np.where(ok.any(axis=0), ok.argmax(axis=0), NOT_REACHED)


@single_threaded_blas
def critical_mass(
    R_true,
    strategy: CollectiveStrategy,
    alpha: RankRule | float = 1.0,
    *,
    costs=(0.0,),
    altruisms=(0.0,),
    welfare_gain: float = 0.0,
    criterion: str = "effective",
    order=None,
    exact: bool | None = None,
    max_exact: int = DEFAULT_MAX_EXACT,
    tie_rtol: float = DEFAULT_TIE_RTOL,
    rtol: float = DEFAULT_RTOL,
) -> CriticalMassResult:
    """The smallest individually rational sub-collective that reaches a welfare gain, over a (lambda, c) grid.

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R*.
    strategy : CollectiveStrategy
        Candidates (``strategy.members``), targets T and uprating values x; every sub-collective reports the
        same values as in ``strategy``.
    alpha : float or RankRule, default=1.0
        The learner's rank rule.
    costs : array-like of float >= 0, default=(0.0,)
        Costs c per strategic action (one reported entry that differs from R*).
    altruisms : array-like of float >= 0, default=(0.0,)
        Altruism weights lambda.
    welfare_gain : float, default=0.0
        G >= 0: social welfare must rise strictly and by at least G (within ``rtol * max(1, max R*)``).
    criterion : {"effective", "pareto"}, default="effective"
        "pareto" also requires that nobody's utility falls.
    order : array-like of int, optional
        The candidates in joining order (a permutation of ``strategy.members``); default: ascending index.
    exact : bool or None, default=None
        Also search all 2^n subsets; None = when n_candidates <= ``max_exact``.
    max_exact : int, default=12
        Largest candidate set searched exactly; ``exact=True`` above it raises.
    tie_rtol : float, default=1e-9
        The top-item tie rule's tolerance.
    rtol : float, default=1e-9
        Relative tolerance of the rationality margins and of the welfare-gain threshold.

    Returns
    -------
    CriticalMassResult

    Raises
    ------
    InvalidParameterError
        Negative or non-finite costs, altruisms or G; an unknown criterion; ``order`` not a permutation of the
        members; ``exact=True`` with more than ``max_exact`` candidates.
    DataError
        ``R_true`` is not a finite, non-negative matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from recollective.game import CollectiveStrategy
    >>> from recollective.game.incentives import critical_mass
    >>> R = np.zeros((6, 5))
    >>> R[:4, :3] = [[5, 4, 0], [5, 4.25, 1.25], [0, 1, 5], [1.25, 2, 5]]
    >>> R[4:, 3:] = [[0.5, 0.6], [0.4, 0.48]]
    >>> result = critical_mass(R, CollectiveStrategy([0, 1, 2, 3], [4], 1.0), 1.0102,
    ...                        costs=[0.0, 0.1, 0.2], altruisms=[0.1])
    >>> result.prefix_size.tolist()
    [[1, 1, -1]]
    """
    R_true = check_preferences(R_true, "R_true")
    strategy = check_strategy(strategy, R_true.shape)
    costs = check_grid(costs, "costs")
    altruisms = check_grid(altruisms, "altruisms")
    members = check_order(order, strategy)
    game = SubsetGame(
        R_true,
        strategy,
        members,
        as_rank_rule(alpha),
        welfare_gain=check_weight(welfare_gain, "welfare_gain"),
        criterion=check_criterion(criterion),
        tie_rtol=check_tolerance(tie_rtol, "tie_rtol"),
        rtol=check_tolerance(rtol, "rtol"),
    )
    exact = resolve_exact(exact, game.n_members, max_exact)
    n = game.n_members
    grid = (altruisms.size, costs.size)

    def feasibility(masks) -> tuple[np.ndarray, np.ndarray]:
        meets = np.array([game.meets(m) for m in masks], dtype=bool)
        rational = np.zeros((len(masks), *grid), dtype=bool)
        for i, mask in enumerate(masks):
            if meets[i]:  # outcomes without each member are needed only where the criterion is met
                rational[i] = game.rational_grid(mask, altruisms, costs)
        return meets, rational

    exact_size = exact_members = None
    if exact:
        masks = sorted(range(1, 1 << n), key=lambda m: (m.bit_count(), positions(m)))
        meets, rational = feasibility(masks)
        first = _first_feasible(meets, rational)
        sizes = np.array([m.bit_count() for m in masks])
        exact_size = np.where(first >= 0, sizes[np.maximum(first, 0)], NOT_REACHED)
        exact_members = tuple(tuple(None if f < 0 else game.users(masks[f]) for f in row) for row in first.tolist())

    prefixes = [(1 << k) - 1 for k in range(1, n + 1)]
    meets, rational = feasibility(prefixes)
    first = _first_feasible(meets, rational)
    prefix_size = np.where(first >= 0, first + 1, NOT_REACHED)
    break_even = np.full((altruisms.size, n), np.nan)
    for k, mask in enumerate(prefixes):
        if meets[k]:
            break_even[:, k] = game.break_even_costs(mask, altruisms)
    return CriticalMassResult(
        altruisms=altruisms,
        costs=costs,
        order=members,
        targets=strategy.targets.copy(),
        welfare_gain=game.welfare_gain,
        criterion=game.criterion,
        prefix_gains=np.array([game.gain(m) for m in prefixes]),
        prefix_meets=meets,
        prefix_break_even=break_even,
        prefix_size=prefix_size.astype(np.int64),
        exact=exact,
        exact_size=None if exact_size is None else exact_size.astype(np.int64),
        exact_members=exact_members,
        n_evaluations=game.n_evaluations,
    )
