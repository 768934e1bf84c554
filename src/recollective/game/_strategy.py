"""Collective strategies: a collective C of users reports uprating values x on target items T.

MISSION.md: R~ = R* except R~[u, t] = x_{u,t} for u in C, t in T; a scalar x means all entries are equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_indices
from recollective.game._records import record

__all__ = ["CollectiveStrategy"]


@dataclass(frozen=True, eq=False)
class CollectiveStrategy:
    """Members of the collective, their target items and the uprating values they report.

    Parameters
    ----------
    members : array-like of int
        User indices of the collective C (0-based, distinct).
    targets : array-like of int
        Item indices of the targets T (0-based, distinct).
    uprating : float or array-like of shape (n_members, n_targets), default=1.0
        x >= 0: one value for all entries, or one per (member, target), in the order of the sorted indices.
    """

    members: np.ndarray
    targets: np.ndarray
    uprating: float | np.ndarray = field(default=1.0)

    def __post_init__(self):
        members = check_indices(self.members, None, "members", "user")
        targets = check_indices(self.targets, None, "targets", "item")
        try:
            values = np.asarray(self.uprating, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"uprating must be numeric (x >= 0); got {self.uprating!r}") from None
        if values.ndim not in (0, 2) or (values.ndim == 2 and values.shape != (members.size, targets.size)):
            raise InvalidParameterError(
                f"uprating must be a scalar or a matrix of shape (n_members, n_targets) = "
                f"{(members.size, targets.size)}; got shape {values.shape}"
            )
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise InvalidParameterError(f"uprating values must be finite and >= 0; got {self.uprating!r}")
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "uprating", float(values) if values.ndim == 0 else values)

    @property
    def n_members(self) -> int:
        return int(self.members.size)

    def with_uprating(self, uprating: float | np.ndarray) -> CollectiveStrategy:
        """The same collective and targets with other uprating values."""
        return CollectiveStrategy(self.members, self.targets, uprating)

    def check_against(self, n_users: int, n_items: int) -> None:
        """Raise InvalidParameterError when a member or target index is outside the game's matrix."""
        check_indices(self.members, n_users, "members", "user")
        check_indices(self.targets, n_items, "targets", "item")

    def apply(self, R_true: np.ndarray) -> np.ndarray:
        """R~: a copy of ``R_true`` (shape (n_users, n_items)) with the collective's reports written in."""
        self.check_against(*R_true.shape)
        revealed = np.array(R_true, dtype=np.float64, copy=True)
        revealed[np.ix_(self.members, self.targets)] = self.uprating
        return revealed

    def as_dict(self) -> dict:
        return record(self)
