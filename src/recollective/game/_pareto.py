"""Comparing two outcomes of the same users: who gains, who loses, Pareto and welfare effectiveness.

MISSION.md: a strategy is *effective* when social welfare strictly increases and *Pareto-effective* when
w_u(R~) >= w_u(R*) for every user, strictly for at least one. Utilities are copies of entries of R*, so the
comparison is exact (no tolerance); welfare differences are summed exactly with ``math.fsum``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.game._outcome import Outcome

__all__ = ["ParetoComparison", "compare_outcomes", "compare_utilities"]


@dataclass(frozen=True)
class ParetoComparison:
    """How ``after`` compares with ``before``, user by user.

    Attributes
    ----------
    welfare_change : float
        SW(after) - SW(before), computed exactly.
    n_better, n_unchanged, n_worse : int
        Users whose utility rose, stayed, fell.
    worst_change : float
        min_u (w_u(after) - w_u(before)); 0 for a weak Pareto improvement.
    is_effective : bool
        Social welfare strictly increased.
    is_pareto_effective : bool
        Nobody lost and somebody gained.
    """

    welfare_change: float
    n_better: int
    n_unchanged: int
    n_worse: int
    worst_change: float
    is_effective: bool
    is_pareto_effective: bool

    def as_dict(self) -> dict:
        return asdict(self)


def compare_utilities(before: np.ndarray, after: np.ndarray) -> ParetoComparison:
    """Compare per-user utilities (ndarrays of shape (n_users,)) of two outcomes."""
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    if before.shape != after.shape:
        raise InvalidParameterError(
            f"cannot compare outcomes of different users: shapes {before.shape} and {after.shape}"
        )
    change = after - before
    welfare_change = math.fsum(np.concatenate([after, -before]))
    n_better = int(np.count_nonzero(after > before))
    n_worse = int(np.count_nonzero(after < before))
    return ParetoComparison(
        welfare_change=welfare_change,
        n_better=n_better,
        n_unchanged=int(before.size - n_better - n_worse),
        n_worse=n_worse,
        worst_change=float(change.min()) if change.size else 0.0,
        is_effective=welfare_change > 0,
        is_pareto_effective=n_worse == 0 and n_better > 0,
    )


def compare_outcomes(before: Outcome, after: Outcome) -> ParetoComparison:
    """Pareto comparison of two outcomes of the same game (utilities measured on the same R*)."""
    return compare_utilities(before.utilities, after.utilities)
