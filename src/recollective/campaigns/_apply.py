"""``apply_campaign``: the interactions after a collective acts, and the delta a model refits from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recollective._random import as_generator
from recollective.campaigns._participants import select_participants
from recollective.campaigns._spec import Campaign
from recollective.data import Delta, Interactions
from recollective.errors import DataError, InvalidParameterError

__all__ = ["CampaignApplication", "CampaignDraw", "apply_campaign", "draw_campaign", "write_draws"]


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
        Every (participant, target) action, one per added or overwritten interaction (actions add and rate_low).
    removed_users, removed_items : ndarray of int
        Every (participant, target) pair dropped from a history (action remove).
    """

    interactions: Interactions
    delta: Delta
    selected: np.ndarray
    acting: np.ndarray
    added_users: np.ndarray
    added_items: np.ndarray
    removed_users: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    removed_items: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    @property
    def n_actions(self) -> int:
        return int(self.added_users.size + self.removed_users.size)


@dataclass(frozen=True, eq=False)
class CampaignDraw:
    """What one collective will do, drawn but not yet written into the data (see :func:`draw_campaign`).

    Attributes
    ----------
    campaign : Campaign
    selected, acting : ndarray of int
        As in :class:`CampaignApplication`.
    users, items : ndarray of int
        The (participant, target) pairs it writes (add, rate_low) or drops (remove), row-major per participant.
    order : ndarray of float or None
        Order values of written pairs (ordered data only).
    """

    campaign: Campaign
    selected: np.ndarray
    acting: np.ndarray
    users: np.ndarray
    items: np.ndarray
    order: np.ndarray | None

    @property
    def removes(self) -> bool:
        return self.campaign.action == "remove"


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
    new interactions get order values that place them as ``campaign.position`` says. With ``action="remove"``
    each acting participant instead drops ``budget`` (default all) of the targets it has from its history.

    Raises
    ------
    InvalidParameterError
        Targets out of range, more participants than eligible users, a rate_low rating that is not low.
    DataError
        A position other than "append" on interactions without an order.
    """
    draw = draw_campaign(campaign, interactions, audience, as_generator(rng), embedding=embedding)
    new, delta, (part,) = write_draws([draw], interactions)
    return CampaignApplication(new, delta, draw.selected, draw.acting, *part)


def draw_campaign(
    campaign: Campaign,
    interactions: Interactions,
    audience,
    generator: np.random.Generator,
    *,
    embedding: np.ndarray | None = None,
    exclude=None,
) -> CampaignDraw:
    """Every random choice of one collective (participants, participation, budgets, positions), in that order.

    ``exclude``: users the participant policy may not draw (see :func:`select_participants`).
    """
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
    if campaign.action == "rate_low" and interactions.n_interactions:
        highest = float(interactions.matrix.data.max())
        if campaign.rating >= highest:
            raise InvalidParameterError(
                f"campaign.rating={campaign.rating:g} is not low for action 'rate_low': the data's values reach "
                f"{highest:g}; give a lower rating (e.g. the data's smallest value)"
            )
    selected = select_participants(campaign, interactions, audience, generator, embedding=embedding,
                                   exclude=exclude)
    acting = selected[generator.random(selected.size) < campaign.participation]
    per_user = targets.size if campaign.budget is None else min(campaign.budget, targets.size)
    keys = generator.random((acting.size, targets.size))
    if campaign.action == "remove":
        users, items = _removals(interactions, acting, targets, keys, per_user)
        return CampaignDraw(campaign, selected, acting, users, items, None)
    chosen = targets[np.argsort(keys, axis=1, kind="stable")[:, :per_user]]
    chosen.sort(axis=1)
    order = None
    if interactions.order is not None:
        order = _orders(campaign.position, interactions, acting, per_user, generator).reshape(-1)
    return CampaignDraw(campaign, selected, acting, np.repeat(acting, per_user), chosen.reshape(-1), order)


def write_draws(draws, interactions: Interactions) -> tuple[Interactions, Delta, list[tuple]]:
    """Write the draws of several collectives into ``interactions`` at once.

    A cell written by several collectives takes the **largest** value (ties: the earlier collective's value and
    order); a cell one collective drops and another writes is written (a removal counts as the smallest value).
    Returns (new interactions, delta, one ``(added_users, added_items, removed_users, removed_items)`` per draw:
    what that collective claimed).
    """
    writes = [d for d in draws if not d.removes]
    new, delta = interactions, Delta()
    if writes:
        users = np.concatenate([d.users for d in writes])
        items = np.concatenate([d.items for d in writes])
        values = np.concatenate([np.full(d.users.size, d.campaign.rating) for d in writes])
        order = None
        if interactions.order is not None:
            order = np.concatenate([d.order for d in writes])
        if len(writes) > 1:
            keep = _largest_per_cell(users * interactions.n_items + items, values)
            users, items, values = users[keep], items[keep], values[keep]
            order = None if order is None else order[keep]
        new, delta = interactions.with_added(
            interactions.users.ids[users], interactions.items.ids[items], values, order
        )
        written = set((users * interactions.n_items + items).tolist())
    else:
        written = set()
    removals = [d for d in draws if d.removes]
    if removals:
        users = np.concatenate([d.users for d in removals])
        items = np.concatenate([d.items for d in removals])
        free = np.array([int(key) not in written for key in users * interactions.n_items + items], dtype=bool)
        new, dropped = new.without(users[free], items[free])
        delta = Delta(delta.added_users, delta.added_items, delta.added_values, dropped.removed_users,
                      dropped.removed_items)
    empty = np.empty(0, np.int64)
    parts = [(empty, empty, d.users, d.items) if d.removes else (d.users, d.items, empty, empty) for d in draws]
    return new, delta, parts


def _largest_per_cell(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Positions to keep: per key the first occurrence of its largest value, in the order of first appearance."""
    order = np.lexsort((np.arange(keys.size), -values, keys))  # by key, largest value first, earlier first
    first = np.ones(keys.size, dtype=bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    return np.sort(order[first])


def _removals(interactions, acting, targets, keys, per_user) -> tuple[np.ndarray, np.ndarray]:
    """The (participant, target) pairs dropped: per participant ``per_user`` of the targets it has, drawn by
    ``keys``."""
    matrix = interactions.matrix
    has = np.zeros((acting.size, targets.size), dtype=bool)
    for row, user in enumerate(acting):
        has[row] = np.isin(targets, matrix.indices[matrix.indptr[user] : matrix.indptr[user + 1]])
    ranked = np.argsort(np.where(has, keys, np.inf), axis=1, kind="stable")[:, :per_user]
    chosen = np.where(np.take_along_axis(has, ranked, axis=1), targets[ranked], -1)
    chosen.sort(axis=1)
    users = np.repeat(acting, chosen.shape[1])
    items = chosen.reshape(-1)
    return users[items >= 0], items[items >= 0]


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
