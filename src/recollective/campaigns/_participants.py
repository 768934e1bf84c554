"""Who takes part: the participant selection policies of a :class:`Campaign`."""

from __future__ import annotations

import numpy as np

from recollective._random import as_generator
from recollective.campaigns._spec import Campaign
from recollective.data import Interactions
from recollective.errors import InvalidParameterError

__all__ = ["checked_pool", "closest_order", "eligible_users", "select_participants", "user_embedding"]


def eligible_users(campaign: Campaign, interactions: Interactions, audience: np.ndarray) -> np.ndarray:
    """Sorted user indices the policy may draw from.

    ``audience``: user indices who would like the targets (held-out positives on a target, or a world's truth).
    """
    n_users = interactions.n_users
    everyone = np.arange(n_users)
    outside = np.setdiff1d(everyone, audience)
    policy = campaign.participants
    if policy == "random":
        return everyone
    if policy in ("majority", "closest"):
        return outside
    if policy == "fans":
        targets = np.asarray(campaign.targets)
        csc = interactions.matrix.tocsc()
        fans = np.unique(np.concatenate([csc.indices[csc.indptr[t] : csc.indptr[t + 1]] for t in targets]))
        return fans.astype(np.int64)
    members = np.asarray(campaign.members, dtype=np.int64)
    bad = members[(members < 0) | (members >= n_users)]
    if bad.size:
        raise InvalidParameterError(
            f"campaign.members: user index {int(bad[0])} is out of range (the data has {n_users} users)"
        )
    return members


def checked_pool(
    campaign: Campaign, interactions: Interactions, audience: np.ndarray, exclude=None
) -> tuple[np.ndarray, int]:
    """(eligible users, how many the size asks for); InvalidParameterError when the policy cannot supply them.

    ``exclude``: users taken out of the pool (those already acting in an earlier collective of a composed
    campaign); explicit members are never excluded. Cheap (no embedding, no draw): experiments call it for every
    policy and size before anything is stored.
    """
    audience = np.asarray(audience, dtype=np.int64)
    pool = eligible_users(campaign, interactions, audience)
    wanted = campaign.n_selected(interactions.n_users)
    if campaign.participants == "explicit":
        return pool, pool.size
    taken = 0
    if exclude is not None and len(exclude):
        kept = np.setdiff1d(pool, np.asarray(exclude, dtype=np.int64))
        taken, pool = pool.size - kept.size, kept
    if wanted > pool.size:
        busy = f" ({taken} more already act in an earlier collective)" if taken else ""
        raise InvalidParameterError(
            f"campaign.size asks for {wanted} participants but policy {campaign.participants!r} has only "
            f"{pool.size} eligible users{busy}; lower the size or choose another policy"
        )
    if campaign.participants == "closest" and audience.size == 0:
        raise InvalidParameterError(
            'campaign.participants="closest" needs a non-empty target audience to be close to'
        )
    return pool, wanted


def select_participants(
    campaign: Campaign,
    interactions: Interactions,
    audience: np.ndarray,
    rng: np.random.Generator | int | None = 0,
    *,
    embedding: np.ndarray | None = None,
    exclude=None,
) -> np.ndarray:
    """The selected participants (sorted user indices), before the participation draw.

    Parameters
    ----------
    campaign : Campaign
    interactions : Interactions
        The training interactions.
    audience : ndarray of int
        Users who would like the targets.
    rng : Generator, int or None
    embedding : ndarray of shape (n_users, d), optional
        User embedding for ``closest`` (default: :func:`user_embedding` of the interactions).
    exclude : array-like of int, optional
        Users the policy may not draw (see :func:`checked_pool`).

    Raises
    ------
    InvalidParameterError
        When the campaign asks for more participants than the policy has eligible users.
    """
    generator = as_generator(rng)
    audience = np.asarray(audience, dtype=np.int64)
    pool, wanted = checked_pool(campaign, interactions, audience, exclude)
    if campaign.participants == "explicit":
        return pool
    if campaign.participants != "closest":
        return np.sort(generator.choice(pool, wanted, replace=False))
    points = user_embedding(interactions, rng=generator) if embedding is None else np.asarray(embedding)
    return np.sort(closest_order(points, audience, pool)[:wanted])


def closest_order(points: np.ndarray, audience: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``pool`` ranked by cosine similarity of its rows of ``points`` to the audience's mean unit vector (most
    similar first, lower index on ties): the order the ``closest`` policy draws from."""
    norms = np.linalg.norm(points, axis=1)
    unit = points / np.where(norms > 0, norms, 1.0)[:, None]
    centre = unit[audience].mean(axis=0)
    similarity = unit[pool] @ centre
    return pool[np.lexsort((pool, -similarity))]


def user_embedding(interactions: Interactions, dim: int = 32, rng: np.random.Generator | int | None = 0) -> np.ndarray:
    """Users' coordinates ``U_d S_d`` in the top-``dim`` truncated SVD of the training matrix (shape (n_users, d))."""
    from recollective.data._worlds import truncated_svd

    dim = max(1, min(dim, min(interactions.matrix.shape) - 1))
    u, s, _ = truncated_svd(interactions.matrix, dim, rng)
    return u * s
