"""``apply_campaign``: the interactions after a collective acts, and the delta a model refits from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recollective._random import as_generator
from recollective.campaigns._participants import select_participants
from recollective.campaigns._spec import Campaign
from recollective.data import Delta, Interactions
from recollective.errors import DataError, InvalidParameterError

__all__ = ["CampaignApplication", "apply_campaign"]


@dataclass(frozen=True, eq=False)
class CampaignApplication:
    """The result of applying a campaign.

    Attributes
    ----------
    interactions : Interactions
        The training interactions after the campaign (same vocabularies).
    delta : Delta
        What changed (for ``Recommender.refit``).
    selected : ndarray of int
        Participants chosen by the policy (sorted user indices).
    acting : ndarray of int
        Those who acted after the participation draw (sorted).
    added_users, added_items : ndarray of int
        Every (participant, target) action, one per added or overwritten interaction.
    """

    interactions: Interactions
    delta: Delta
    selected: np.ndarray
    acting: np.ndarray
    added_users: np.ndarray
    added_items: np.ndarray

    @property
    def n_actions(self) -> int:
        return int(self.added_users.size)


def apply_campaign(
    campaign: Campaign,
    interactions: Interactions,
    audience,
    rng: np.random.Generator | int | None = 0,
    *,
    embedding: np.ndarray | None = None,
) -> CampaignApplication:
    """Let the collective act on ``interactions`` (pure: returns new interactions and the delta).

    Each acting participant adds ``budget`` targets (all of them when ``budget`` is None) with value
    ``campaign.rating``; a pair the participant already had is overwritten (uprated). In ordered interactions the
    new interactions get order values that place them as ``campaign.position`` says.

    Raises
    ------
    InvalidParameterError
        Targets out of range, more participants than eligible users.
    DataError
        A position other than "append" on interactions without an order.
    """
    generator = as_generator(rng)
    targets = np.asarray(campaign.targets, dtype=np.int64)
    if targets.max() >= interactions.n_items:
        raise InvalidParameterError(
            f"campaign.targets: item index {int(targets.max())} is out of range (the data has "
            f"{interactions.n_items} items)"
        )
    if campaign.position != "append" and interactions.order is None:
        raise DataError(
            f"campaign.position={campaign.position!r} needs ordered interactions (a timestamp or position column) "
            "and these have none; use position append or load the data with an order column"
        )
    selected = select_participants(campaign, interactions, audience, generator, embedding=embedding)
    acting = selected[generator.random(selected.size) < campaign.participation]
    per_user = targets.size if campaign.budget is None else min(campaign.budget, targets.size)
    keys = generator.random((acting.size, targets.size))
    chosen = targets[np.argsort(keys, axis=1, kind="stable")[:, :per_user]]
    chosen.sort(axis=1)
    added_users = np.repeat(acting, per_user)
    added_items = chosen.reshape(-1)
    order = None
    if interactions.order is not None:
        order = _orders(campaign.position, interactions, acting, per_user, generator).reshape(-1)
    new, delta = interactions.with_added(
        interactions.users.ids[added_users],
        interactions.items.ids[added_items],
        np.full(added_users.size, campaign.rating),
        order,
    )
    return CampaignApplication(new, delta, selected, acting, added_users, added_items)


def _orders(position, interactions, acting, per_user, generator) -> np.ndarray:
    """Order values, shape (len(acting), per_user), placing each participant's additions as ``position`` says."""
    matrix, order = interactions.matrix, interactions.order
    popularity = np.bincount(matrix.indices, minlength=interactions.n_items)
    out = np.empty((acting.size, per_user))
    steps = (np.arange(per_user) + 1.0) / (per_user + 1.0)
    for row, user in enumerate(acting):
        start, stop = matrix.indptr[user], matrix.indptr[user + 1]
        times = order.data[start:stop]
        finite = np.isfinite(times)
        items, times = matrix.indices[start:stop][finite], times[finite]
        if times.size == 0:
            out[row] = np.arange(per_user, dtype=float)
            continue
        ordered = np.sort(times)
        if position == "append":
            out[row] = ordered[-1] + 1.0 + np.arange(per_user)
            continue
        if position == "random":
            gap = int(generator.integers(0, ordered.size + 1))
            lower = ordered[gap - 1] if gap > 0 else ordered[0] - 1.0
            upper = ordered[gap] if gap < ordered.size else ordered[-1] + 1.0
        elif position == "after_low_anchor":
            anchor = np.lexsort((items, popularity[items]))[0]  # least popular, lower index on ties
            lower = times[anchor]
            later = ordered[ordered > lower]
            upper = later[0] if later.size else lower + 1.0
        else:  # before_high_anchor
            anchor = np.lexsort((items, -popularity[items]))[0]  # most popular, lower index on ties
            upper = times[anchor]
            earlier = ordered[ordered < upper]
            lower = earlier[-1] if earlier.size else upper - 1.0
        out[row] = lower + (upper - lower) * steps
    return out
