"""Minimal sub-collectives: greedy removal, and exact enumeration of all 2^n subsets for small collectives.

Definitions (reconstruction; see :mod:`recollective.game.incentives` and docs/incentives.md): a sub-collective S
of C is *1-minimal* when it meets the criterion and no S \\ u does (greedy removal finds one); the exact search
lists every minimum-size one and every *inclusion-minimal* one (no proper subset meets the criterion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recollective.game._checks import check_preferences
from recollective.game._outcome import DEFAULT_TIE_RTOL
from recollective.game._rank_rules import RankRule, as_rank_rule
from recollective.game._records import record
from recollective.game._strategy import CollectiveStrategy
from recollective.game.incentives._core import (
    DEFAULT_MAX_EXACT,
    DEFAULT_RTOL,
    SubsetGame,
    check_criterion,
    check_strategy,
    check_tolerance,
    check_weight,
    positions,
    resolve_exact,
    single_threaded_blas,
)

__all__ = ["SubCollectives", "minimal_subcollectives"]


@dataclass(frozen=True, eq=False)
class SubCollectives:
    """Minimal sub-collectives of C that meet the criterion.

    Attributes
    ----------
    meets : bool
        The whole collective C meets the criterion (greedy removal starts from it).
    greedy : ndarray of int or None
        User indices (sorted) left by greedy removal: repeatedly drop the member whose departure keeps the
        criterion met with the largest welfare gain (ties: the member listed last); None when C does not meet it.
        The result is 1-minimal: no single member can leave.
    greedy_removed : tuple of int
        Members removed, in order.
    exact : bool
        Whether all 2^n sub-collectives were enumerated (the fields below are empty when not).
    n_meeting : int or None
        Sub-collectives that meet the criterion.
    minimum_size : int or None
        Size of the smallest one (None when none meets it or not exact).
    minimum : tuple of ndarray
        Every sub-collective of that size (user indices, sorted).
    inclusion_minimal : tuple of ndarray
        Every sub-collective that meets the criterion while none of its proper subsets does.
    is_monotone : bool or None
        Adding a member to a sub-collective that meets the criterion always keeps it met (then greedy's answer
        is inclusion-minimal).
    greedy_is_minimum : bool or None
        Greedy found a minimum-size sub-collective.
    """

    meets: bool
    greedy: np.ndarray | None
    greedy_removed: tuple[int, ...]
    exact: bool
    n_meeting: int | None
    minimum_size: int | None
    minimum: tuple[np.ndarray, ...]
    inclusion_minimal: tuple[np.ndarray, ...]
    is_monotone: bool | None
    greedy_is_minimum: bool | None

    def as_dict(self) -> dict:
        return record(self)


def setup_game(R_true, strategy, alpha, welfare_gain, criterion, tie_rtol, rtol) -> SubsetGame:
    R_true = check_preferences(R_true, "R_true")
    strategy = check_strategy(strategy, R_true.shape)
    rule: RankRule = as_rank_rule(alpha)
    return SubsetGame(
        R_true,
        strategy,
        strategy.members,
        rule,
        welfare_gain=check_weight(welfare_gain, "welfare_gain"),
        criterion=check_criterion(criterion),
        tie_rtol=check_tolerance(tie_rtol, "tie_rtol"),
        rtol=check_tolerance(rtol, "rtol"),
    )


def _greedy(game: SubsetGame) -> tuple[int | None, tuple[int, ...]]:
    mask = game.full
    if not game.meets(mask):
        return None, ()
    removed = []
    while True:
        options = [(game.gain(mask & ~(1 << p)), p) for p in positions(mask) if game.meets(mask & ~(1 << p))]
        if not options:
            return mask, tuple(removed)
        _, p = max(options)
        mask &= ~(1 << p)
        removed.append(int(game.members[p]))


def _enumerate(game: SubsetGame) -> dict:
    n = game.n_members
    masks = np.arange(1 << n)
    meets = np.array([False] + [game.meets(int(m)) for m in masks[1:]])
    sizes = np.array([int(m).bit_count() for m in masks])
    below = np.zeros(masks.size, dtype=bool)  # some proper subset meets the criterion (sub < m: filled first)
    for m in range(1, 1 << n):
        for p in positions(m):
            sub = m & ~(1 << p)
            if meets[sub] or below[sub]:
                below[m] = True
                break
    monotone = True
    for p in range(n):
        bit = 1 << p
        without = masks[(masks & bit) == 0]
        if np.any(meets[without] & ~meets[without | bit]):
            monotone = False
            break
    meeting = np.flatnonzero(meets)
    minimum_size = int(sizes[meeting].min()) if meeting.size else None
    key = sorted(meeting.tolist(), key=lambda m: (sizes[m], positions(m)))
    return {
        "n_meeting": int(meeting.size),
        "minimum_size": minimum_size,
        "minimum": tuple(game.users(m) for m in key if sizes[m] == minimum_size),
        "inclusion_minimal": tuple(game.users(m) for m in key if not below[m]),
        "is_monotone": monotone,
    }


def find_subcollectives(game: SubsetGame, exact: bool) -> SubCollectives:
    greedy_mask, removed = _greedy(game)
    found = {"n_meeting": None, "minimum_size": None, "minimum": (), "inclusion_minimal": (), "is_monotone": None}
    if exact:
        found = _enumerate(game)
    greedy_is_minimum = None
    if exact:
        greedy_is_minimum = greedy_mask is not None and greedy_mask.bit_count() == found["minimum_size"]
    return SubCollectives(
        meets=greedy_mask is not None,
        greedy=None if greedy_mask is None else game.users(greedy_mask),
        greedy_removed=removed,
        exact=exact,
        greedy_is_minimum=greedy_is_minimum,
        **found,
    )


@single_threaded_blas
def minimal_subcollectives(
    R_true,
    strategy: CollectiveStrategy,
    alpha: RankRule | float = 1.0,
    *,
    welfare_gain: float = 0.0,
    criterion: str = "effective",
    exact: bool | None = None,
    max_exact: int = DEFAULT_MAX_EXACT,
    tie_rtol: float = DEFAULT_TIE_RTOL,
    rtol: float = DEFAULT_RTOL,
) -> SubCollectives:
    """Minimal sub-collectives of ``strategy.members`` that still meet the criterion.

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R*.
    strategy : CollectiveStrategy
        The collective C, its targets T and uprating values x; a sub-collective S reports the same values.
    alpha : float or RankRule, default=1.0
        The learner's rank rule.
    welfare_gain : float, default=0.0
        G >= 0: S must raise social welfare strictly and by at least G.
    criterion : {"effective", "pareto"}, default="effective"
        "pareto" also requires that nobody's utility falls.
    exact : bool or None, default=None
        Enumerate all 2^n sub-collectives; None = when n_members <= ``max_exact``.
    max_exact : int, default=12
        Largest collective enumerated; ``exact=True`` above it raises.
    tie_rtol : float, default=1e-9
        The top-item tie rule's tolerance.
    rtol : float, default=1e-9
        Gains within ``rtol * max(1, max R*)`` of G count as reaching it.

    Returns
    -------
    SubCollectives

    Raises
    ------
    InvalidParameterError
        Bad weights, criterion, limits, or ``exact=True`` with more than ``max_exact`` members.
    DataError
        ``R_true`` is not a finite, non-negative matrix.
    """
    game = setup_game(R_true, strategy, alpha, welfare_gain, criterion, tie_rtol, rtol)
    return find_subcollectives(game, resolve_exact(exact, game.n_members, max_exact))
