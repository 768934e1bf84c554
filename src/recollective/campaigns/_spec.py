"""A collective campaign as plain frozen data: which targets, who acts, doing what, with what budget.

The words match the one-shot game (MISSION.md): the *collective* (participants) uprates *target* items; here
"uprating" means adding (or overwriting) interactions with value ``rating`` in real interaction data, at a chosen
position of ordered histories.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recollective.errors import InvalidParameterError, did_you_mean

__all__ = ["ACTIONS", "PARTICIPANT_POLICIES", "POSITION_POLICIES", "Campaign"]

PARTICIPANT_POLICIES = ("random", "majority", "fans", "closest", "explicit")
"""random: any user; majority: users outside the target audience; fans: users who already interacted with a
target; closest: non-audience users nearest the audience in a latent embedding; explicit: ``members``."""

POSITION_POLICIES = ("append", "random", "after_low_anchor", "before_high_anchor")
"""Where an added interaction goes in an ordered history: after the latest; at a uniformly random gap; right
after the participant's least popular item (DirLoF, Baumann & Mendler-Dünner 2024); right before the
participant's most popular item (InClust, same source)."""

ACTIONS = ("add", "rate_low", "remove")
"""What each acting participant does to its targets: add: write ``rating`` (add the pair, or overwrite its value:
promotion, the default); rate_low: write ``rating``, which must be below the data's largest value (a demotion by
low ratings; on models that read any stored pair as positive evidence, a low rating written by a user who never had
the target still adds evidence for it); remove: drop the targets the participant has from its history (a demotion by
deletion; ``rating`` and ``position`` are not used)."""


@dataclass(frozen=True)
class Campaign:
    """What a collective does.

    Parameters
    ----------
    targets : tuple of int
        Target item indices (into the training vocabulary).
    participants : str, default "random"
        One of :data:`PARTICIPANT_POLICIES`.
    size : float or int, default 0.01
        A float in (0, 1): that share of all users (rounded, at least 1); an int >= 1: that many users.
    rating : float, default 5.0
        Value of each added interaction (the paper's uprating value).
    position : str, default "append"
        One of :data:`POSITION_POLICIES` (anything but "append" needs ordered interactions).
    budget : int or None, default None
        Targets each participant adds (drawn at random among the targets); None = every target.
    participation : float in (0, 1], default 1.0
        Probability that a selected participant actually acts.
    members : tuple of int, default ()
        The participants when ``participants="explicit"``.
    action : str, default "add"
        One of :data:`ACTIONS`. The default is the promotion every earlier campaign meant; ``as_dict`` names the
        action only when it is not "add", so earlier result documents are unchanged.
    """

    targets: tuple
    participants: str = "random"
    size: float | int = 0.01
    rating: float = 5.0
    position: str = "append"
    budget: int | None = None
    participation: float = 1.0
    members: tuple = ()
    action: str = "add"

    def __post_init__(self):
        targets = np.unique(np.asarray(self.targets, dtype=np.int64).reshape(-1)) if len(self.targets) else []
        if len(targets) == 0:
            raise InvalidParameterError("campaign.targets is empty: name at least one target item (or author)")
        object.__setattr__(self, "targets", tuple(int(t) for t in targets))
        if self.participants not in PARTICIPANT_POLICIES:
            raise InvalidParameterError(
                f"campaign.participants must be one of {', '.join(PARTICIPANT_POLICIES)}; got {self.participants!r}"
                f"{did_you_mean(self.participants, PARTICIPANT_POLICIES)}"
            )
        if self.position not in POSITION_POLICIES:
            raise InvalidParameterError(
                f"campaign.position must be one of {', '.join(POSITION_POLICIES)}; got {self.position!r}"
                f"{did_you_mean(self.position, POSITION_POLICIES)}"
            )
        if self.action not in ACTIONS:
            raise InvalidParameterError(
                f"campaign.action must be one of {', '.join(ACTIONS)}; got {self.action!r}"
                f"{did_you_mean(self.action, ACTIONS)}"
            )
        if self.action == "remove" and self.position != "append":
            raise InvalidParameterError(
                f"campaign.position={self.position!r} places added interactions; action 'remove' adds none "
                "(leave the position at append)"
            )
        size = self.size
        if isinstance(size, bool) or not isinstance(size, int | float | np.integer | np.floating):
            raise InvalidParameterError(f"campaign.size must be a share in (0, 1) or a count >= 1; got {size!r}")
        if isinstance(size, int | np.integer):
            if size < 1:
                raise InvalidParameterError(f"campaign.size as a count must be >= 1; got {size}")
            object.__setattr__(self, "size", int(size))
        elif not (0 < size < 1):
            raise InvalidParameterError(
                f"campaign.size as a share must lie in (0, 1) (give an int for a count of users); got {size!r}"
            )
        if not np.isfinite(self.rating):
            raise InvalidParameterError(f"campaign.rating must be a finite number; got {self.rating!r}")
        object.__setattr__(self, "rating", float(self.rating))
        if self.budget is not None and (
            isinstance(self.budget, bool) or not isinstance(self.budget, int | np.integer) or self.budget < 1
        ):
            raise InvalidParameterError(f"campaign.budget must be an integer >= 1 or None; got {self.budget!r}")
        if not (0 < self.participation <= 1):
            raise InvalidParameterError(f"campaign.participation must lie in (0, 1]; got {self.participation!r}")
        members = tuple(int(m) for m in np.unique(np.asarray(self.members, dtype=np.int64).reshape(-1)))
        object.__setattr__(self, "members", members)
        if self.participants == "explicit" and not members:
            raise InvalidParameterError('campaign.members is empty but campaign.participants is "explicit"')

    def n_selected(self, n_users: int) -> int:
        """How many participants the size asks for among ``n_users`` users."""
        if self.participants == "explicit":
            return len(self.members)
        if isinstance(self.size, int):
            return self.size
        return max(1, int(np.floor(self.size * n_users + 0.5)))

    def as_dict(self) -> dict:
        out = {
            "targets": list(self.targets),
            "participants": self.participants,
            "size": self.size,
            "rating": self.rating,
            "position": self.position,
            "budget": self.budget,
            "participation": self.participation,
            "members": list(self.members),
        }
        if self.action != "add":
            out["action"] = self.action
        return out
