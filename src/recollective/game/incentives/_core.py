"""Shared machinery of the incentive analysis: payoffs, validation and a cache of sub-collective outcomes.

Definitions (our reconstruction; the paper's text is unavailable, see docs/incentives.md):

* a strategic action is one reported (member, target) entry whose value differs from the member's true
  preference R*[u, t]; a member of C reporting on T takes ``a_u`` actions, a non-member none;
* the payoff of user u when the sub-collective S acts is
  pi_u(S) = w_u(S) + lambda * sum_{v != u} w_v(S) - c * a_u * [u in S],
  with w(S) the one-shot utilities when S (alone) reports its uprating values on T;
* S *meets the criterion* when SW(S) - SW(truthful) > 0, that gain is at least ``welfare_gain`` (within the
  tolerance below) and, for ``criterion="pareto"``, nobody's utility falls.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from threadpoolctl import threadpool_limits

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_alpha, check_indices, check_preferences
from recollective.game._outcome import DEFAULT_TIE_RTOL, top_items, truncated_reconstruction
from recollective.game._pareto import ParetoComparison, compare_utilities
from recollective.game._rank_rules import RankRule
from recollective.game._strategy import CollectiveStrategy

__all__ = ["action_counts", "payoffs"]

CRITERIA = ("effective", "pareto")
DEFAULT_MAX_EXACT = 12
DEFAULT_RTOL = 1e-9


# ------------------------------------------------------------------------------------------------ validation


def check_weight(value, name: str) -> float:
    """A finite number >= 0 (altruism weight lambda, cost per action c, welfare gain G)."""
    if isinstance(value, bool):
        raise InvalidParameterError(f"{name} must be a finite number >= 0; got {value!r}")
    return check_alpha(value, name)


def check_grid(values, name: str) -> np.ndarray:
    """A non-empty 1-D float64 array of finite numbers >= 0."""
    try:
        array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a list of numbers >= 0; got {values!r}") from None
    if array.ndim != 1 or array.size == 0:
        raise InvalidParameterError(f"{name} must be a non-empty list of numbers >= 0; got {values!r}")
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        raise InvalidParameterError(f"{name} must hold finite numbers >= 0; got {array[bad][0]!r} in {values!r}")
    return array


def check_criterion(criterion) -> str:
    if criterion not in CRITERIA:
        raise InvalidParameterError(f"criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    return criterion


def check_tolerance(value, name: str) -> float:
    number = check_weight(value, name)
    if number >= 1:
        raise InvalidParameterError(f"{name} must lie in [0, 1); got {value!r}")
    return number


def check_strategy(strategy, shape: tuple[int, int]) -> CollectiveStrategy:
    if not isinstance(strategy, CollectiveStrategy):
        raise InvalidParameterError(
            f"strategy must be a CollectiveStrategy(members, targets, uprating); got {type(strategy).__name__}"
        )
    strategy.check_against(*shape)
    return strategy


def check_order(order, strategy: CollectiveStrategy) -> np.ndarray:
    """The candidates in analysis order: ``order`` (a permutation of the members) or the sorted members."""
    if order is None:
        return strategy.members.copy()
    check_indices(order, None, "order", "user")  # integers, no duplicates
    ordered = np.atleast_1d(np.asarray(order)).astype(np.int64)
    if ordered.size != strategy.n_members or not np.array_equal(np.sort(ordered), strategy.members):
        raise InvalidParameterError(
            f"order must list every member of the collective exactly once ({strategy.members.tolist()}); "
            f"got {ordered.tolist()}"
        )
    return ordered


def resolve_exact(exact, n_members: int, max_exact) -> bool:
    """Whether to enumerate all 2^n sub-collectives: ``None`` = when n_members <= max_exact."""
    if isinstance(max_exact, bool) or not isinstance(max_exact, int | np.integer) or max_exact < 0:
        raise InvalidParameterError(f"max_exact must be an integer >= 0; got {max_exact!r}")
    if exact is None:
        return n_members <= max_exact
    if not isinstance(exact, bool | np.bool_):
        raise InvalidParameterError(f"exact must be True, False or None; got {exact!r}")
    if exact and n_members > max_exact:
        raise InvalidParameterError(
            f"exact enumeration visits all 2^{n_members} sub-collectives, above the limit max_exact = "
            f"{max_exact} members; raise max_exact (--max-exact; each extra member doubles the work) or pass "
            "exact=False (--no-exact)"
        )
    return bool(exact)


def single_threaded_blas(function):
    """Run ``function`` with BLAS/LAPACK limited to one thread.

    The incentive analysis computes thousands of small SVDs one after another; threaded LAPACK gains nothing on
    them and, on a busy machine, loses a factor of 100 or more to thread contention (observed: 0.2 ms versus
    47 ms for a 75 x 50 SVD with the two cores shared with other processes).
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with threadpool_limits(1, user_api="blas"):
            return function(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------------------------- public helpers


def action_counts(R_true, strategy: CollectiveStrategy) -> np.ndarray:
    """Strategic actions a_u per user: the member's reported (member, target) entries that differ from R*.

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R*.
    strategy : CollectiveStrategy
        Members C, targets T and uprating values x.

    Returns
    -------
    ndarray of shape (n_users,) of int64
        a_u = #{t in T : x_{u,t} != R*[u, t]} for u in C, 0 for non-members (reconstruction: an entry reported
        truthfully is not a strategic action and costs nothing).
    """
    R_true = check_preferences(R_true, "R_true")
    strategy = check_strategy(strategy, R_true.shape)
    counts = np.zeros(R_true.shape[0], dtype=np.int64)
    reported = strategy.apply(R_true)[np.ix_(strategy.members, strategy.targets)]
    truth = R_true[np.ix_(strategy.members, strategy.targets)]
    counts[strategy.members] = np.count_nonzero(reported != truth, axis=1)
    return counts


def payoffs(utilities, n_actions, *, altruism: float = 0.0, cost: float = 0.0) -> np.ndarray:
    """Altruistic payoffs pi_u = w_u + lambda * sum_{v != u} w_v - c * a_u.

    Parameters
    ----------
    utilities : array-like of shape (n_users,)
        One-shot utilities w_u = R*[u, top(u)] of an outcome.
    n_actions : array-like of shape (n_users,)
        Strategic actions a_u each user takes (:func:`action_counts`; 0 for non-members).
    altruism : float, default=0.0
        lambda >= 0, the weight a user puts on everyone else's welfare (reconstruction of the paper's
        "altruism"; lambda = 1 values every user's utility alike).
    cost : float, default=0.0
        c >= 0, the cost of one strategic action, in utility units.

    Returns
    -------
    ndarray of shape (n_users,)
    """
    w = np.asarray(utilities, dtype=np.float64)
    a = np.asarray(n_actions, dtype=np.float64)
    if w.ndim != 1 or a.shape != w.shape:
        raise InvalidParameterError(
            f"utilities and n_actions must be 1-D arrays of one value per user; got shapes {w.shape} and {a.shape}"
        )
    if not np.all(np.isfinite(w)) or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise InvalidParameterError("utilities must be finite and n_actions finite and >= 0")
    altruism = check_weight(altruism, "altruism")
    cost = check_weight(cost, "cost")
    welfare = math.fsum(w)
    return w + altruism * (welfare - w) - cost * a


# ------------------------------------------------------------------------------------------ the subset cache


def positions(mask: int) -> list[int]:
    """Bit positions set in ``mask`` (ascending)."""
    return [p for p in range(mask.bit_length()) if mask >> p & 1]


class SubsetGame:
    """Utilities of every sub-collective S of C, each evaluated once (cached by bitmask).

    Bit ``p`` of a mask stands for ``members[p]``, the p-th candidate in analysis order; mask 0 is truthful play.
    """

    def __init__(
        self,
        R_true: np.ndarray,
        strategy: CollectiveStrategy,
        members: np.ndarray,
        rule: RankRule,
        *,
        welfare_gain: float,
        criterion: str,
        tie_rtol: float = DEFAULT_TIE_RTOL,
        rtol: float = DEFAULT_RTOL,
    ):
        self.R_true = R_true
        self.targets = strategy.targets
        self.members = members
        self.rule = rule
        self.tie_rtol = tie_rtol
        self.welfare_gain = welfare_gain
        self.criterion = criterion
        rows = np.searchsorted(strategy.members, members)
        values = np.broadcast_to(np.asarray(strategy.uprating, dtype=np.float64), (members.size, self.targets.size))
        self.values = values[rows] if np.ndim(strategy.uprating) == 2 else values
        self.actions = action_counts(R_true, strategy)[members]
        self.tol = rtol * max(1.0, float(R_true.max()))
        self._utilities: dict[int, np.ndarray] = {}
        self._comparisons: dict[int, ParetoComparison] = {}
        self.baseline = self.utilities(0)

    @property
    def n_members(self) -> int:
        return int(self.members.size)

    @property
    def full(self) -> int:
        return (1 << self.n_members) - 1

    @property
    def n_evaluations(self) -> int:
        """Distinct sub-collectives evaluated so far (truthful play included)."""
        return len(self._utilities)

    def users(self, mask: int) -> np.ndarray:
        """User indices of the sub-collective, sorted."""
        return np.sort(self.members[positions(mask)])

    def utilities(self, mask: int) -> np.ndarray:
        cached = self._utilities.get(mask)
        if cached is None:
            revealed = self.R_true
            if mask:
                rows = positions(mask)
                revealed = self.R_true.copy()
                revealed[np.ix_(self.members[rows], self.targets)] = self.values[rows]
            _, _, R_hat = truncated_reconstruction(revealed, self.rule)
            top = top_items(R_hat, self.tie_rtol)
            cached = self.R_true[np.arange(self.R_true.shape[0]), top]
            cached.setflags(write=False)
            self._utilities[mask] = cached
        return cached

    def comparison(self, mask: int) -> ParetoComparison:
        cached = self._comparisons.get(mask)
        if cached is None:
            cached = self._comparisons[mask] = compare_utilities(self.baseline, self.utilities(mask))
        return cached

    def gain(self, mask: int) -> float:
        return self.comparison(mask).welfare_change

    def meets(self, mask: int) -> bool:
        """SW strictly up, by at least ``welfare_gain`` (within tol), and nobody worse off under "pareto"."""
        comparison = self.comparison(mask)
        gain = comparison.welfare_change
        if not (gain > 0 and gain >= self.welfare_gain - self.tol):
            return False
        return self.criterion == "effective" or comparison.n_worse == 0

    def marginals(self, mask: int) -> tuple[list[int], np.ndarray, np.ndarray]:
        """(positions in S, own change, others' change) when each member of S leaves while the rest stay.

        own[j] = w_u(S) - w_u(S \\ u) and others[j] = sum_{v != u} (w_v(S) - w_v(S \\ u)) for u = members[p_j].
        """
        inside = positions(mask)
        after = self.utilities(mask)
        own = np.empty(len(inside))
        others = np.empty(len(inside))
        for j, p in enumerate(inside):
            before = self.utilities(mask & ~(1 << p))
            change = after - before
            u = self.members[p]
            own[j] = change[u]
            change = change.copy()
            change[u] = 0.0
            others[j] = math.fsum(change)
        return inside, own, others

    def rational_grid(self, mask: int, altruisms: np.ndarray, costs: np.ndarray) -> np.ndarray:
        """Whether every member of S is individually rational, for each (lambda, c): shape (n_alt, n_cost)."""
        inside, own, others = self.marginals(mask)
        actions = self.actions[inside].astype(np.float64)
        margin = (
            own[:, None, None]
            + others[:, None, None] * altruisms[None, :, None]
            - actions[:, None, None] * costs[None, None, :]
        )
        return np.all(margin >= -self.tol, axis=0)

    def break_even_costs(self, mask: int, altruisms: np.ndarray) -> np.ndarray:
        """For each lambda, the largest cost c >= 0 at which every member of S is rational.

        NaN when some member is not rational even at c = 0; inf when no member takes a costly action.
        """
        inside, own, others = self.marginals(mask)
        actions = self.actions[inside].astype(np.float64)
        benefit = own[:, None] + others[:, None] * altruisms[None, :]  # (n_in, n_alt)
        out = np.full(altruisms.size, math.inf)
        free = actions == 0
        if free.any():
            out[np.any(benefit[free] < -self.tol, axis=0)] = math.nan
        if (~free).any():
            paying = actions[~free, None]
            # member j stays rational while c * a_j <= benefit_j + tol; rounding-level negatives count as 0
            reachable = np.min((benefit[~free] + self.tol) / paying, axis=0) >= 0
            limit = np.maximum(np.min(benefit[~free] / paying, axis=0), 0.0)
            out = np.where(reachable, np.minimum(out, limit), math.nan)
        return out
