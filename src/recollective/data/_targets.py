"""Target selection: which under-represented authors or items a collective should amplify, and who would like them.

Four methods (issue 4, item 5):

* :func:`explicit_targets` — a given list of item ids and/or author names;
* :func:`longtail_targets` — authors (or items) outside the popularity head that holds ``head_share`` of the
  interactions, with at least ``min_audience`` users who would like them;
* :func:`exposure_deficit_targets` — the largest gaps between held-out demand and a recommender's exposure;
* :func:`community_targets` — the items of a minority community found by spectral co-clustering of the user–item
  graph (the real-data analogue of MISSION's majority–minority worlds).

Every target set carries its :class:`Audience`: the users who would like it — those with a held-out positive on a
target in a test :class:`Interactions` (value ``>= threshold``; any stored entry when ``threshold`` is None), or
those with ``R*[u, t] >= threshold`` in a :class:`World` (default: the world's ``like_threshold``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recollective._checks import check_count, check_unit_share
from recollective._random import as_generator
from recollective.data._interactions import Interactions
from recollective.data._preprocess import primary_authors
from recollective.data._worlds import World, truncated_svd
from recollective.errors import DataError, InvalidParameterError, quoted

__all__ = [
    "Audience",
    "Communities",
    "TargetSet",
    "bipartite_communities",
    "community_targets",
    "explicit_targets",
    "exposure_deficit_targets",
    "longtail_targets",
    "popularity_lists",
]

logger = logging.getLogger(__name__)

_BY = ("author", "item")
_DENSE_CELLS = 1 << 22


@dataclass(frozen=True, eq=False)
class Audience:
    """The users who would like a target set.

    Attributes
    ----------
    source : str
        "held_out" (positives in a test Interactions) or "world" (true preference above a threshold).
    threshold : float or None
        Smallest held-out value or true preference that counts as liking; None = every held-out interaction.
    user_idx : ndarray of int of shape (n_users,)
        Sorted indices in the source's user vocabulary (a split keeps the training vocabulary).
    user_ids : ndarray of shape (n_users,)
    per_target : ndarray of int of shape (n_target_items,)
        How many users like each target item.
    n_pairs : int
        Liked (user, target item) pairs.
    """

    source: str
    threshold: float | None
    user_idx: np.ndarray
    user_ids: np.ndarray
    per_target: np.ndarray
    n_pairs: int

    @property
    def n_users(self) -> int:
        return int(self.user_idx.size)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "threshold": self.threshold,
            "n_users": self.n_users,
            "n_pairs": int(self.n_pairs),
            "user_ids": self.user_ids.tolist(),
        }


@dataclass(frozen=True, eq=False)
class TargetSet:
    """Chosen target items (with their authors) and their audience.

    Attributes
    ----------
    method : str
        "explicit", "longtail", "exposure" or "community".
    by : str
        "author" (whole authors were selected) or "item".
    item_idx : ndarray of int of shape (n_targets,)
        Sorted item indices into the interactions' item vocabulary.
    item_ids : ndarray of shape (n_targets,)
    authors : tuple of str
        The selected authors (``by="author"``), else the distinct primary authors of the target items.
    audience : Audience
    details : dict
        Method-specific numbers (JSON-ready), e.g. the head's share and size for the long tail.
    """

    method: str
    by: str
    item_idx: np.ndarray
    item_ids: np.ndarray
    authors: tuple
    audience: Audience
    details: dict = field(default_factory=dict)

    @property
    def n_targets(self) -> int:
        return int(self.item_idx.size)

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "by": self.by,
            "n_items": self.n_targets,
            "item_ids": self.item_ids.tolist(),
            "item_audience": self.audience.per_target.tolist(),
            "n_authors": len(self.authors),
            "authors": list(self.authors),
            "audience": self.audience.as_dict(),
            "details": self.details,
        }


@dataclass(frozen=True, eq=False)
class Communities:
    """A partition of users and items into communities of the bipartite user–item graph.

    Attributes
    ----------
    user_labels : ndarray of int of shape (n_users,)
        Community of each user; -1 for users without interactions.
    item_labels : ndarray of int of shape (n_items,)
        Community of each item; -1 for items without interactions.
    singular_values : ndarray of shape (n_communities,)
        Top singular values of the normalized adjacency ``D_u^-1/2 A D_i^-1/2`` (1 is the largest possible; one
        value 1 per connected component).
    inertia : float
        Within-community sum of squares of the spectral embedding.
    """

    user_labels: np.ndarray
    item_labels: np.ndarray
    singular_values: np.ndarray
    inertia: float

    @property
    def n_communities(self) -> int:
        return int(self.singular_values.size)

    def sizes(self, interactions: Interactions) -> list[dict]:
        """Per community: users, items and the share of interactions made by its users."""
        rows = np.repeat(self.user_labels, np.diff(interactions.matrix.indptr))
        total = max(1, interactions.n_interactions)
        return [
            {
                "community": c,
                "n_users": int((self.user_labels == c).sum()),
                "n_items": int((self.item_labels == c).sum()),
                "interaction_share": float((rows == c).sum() / total),
            }
            for c in range(self.n_communities)
        ]


# ------------------------------------------------------------------------------------------------ methods
def explicit_targets(
    interactions: Interactions,
    *,
    item_ids=None,
    authors=None,
    audience_from: Interactions | World,
    threshold: float | None = None,
) -> TargetSet:
    """Targets given by hand: the listed item ids plus every book by the listed authors.

    An author matches a book when the name equals its primary author or one of the comma-separated names in its
    ``authors`` column.

    Raises
    ------
    DataError
        For an unknown item id or an author with no book in the item metadata (named in the message).
    """
    item_ids = [] if item_ids is None else list(np.atleast_1d(np.asarray(item_ids, dtype=object)))
    authors = [] if authors is None else [str(a) for a in np.atleast_1d(np.asarray(authors, dtype=object))]
    if not item_ids and not authors:
        raise InvalidParameterError("explicit_targets needs item_ids or authors (or both); got neither")
    selected = np.zeros(interactions.n_items, dtype=bool)
    if item_ids:
        ids = np.asarray([_coerce_id(value, interactions.items.ids) for value in item_ids])
        selected[interactions.items.numbers(ids)] = True
    if authors:
        lists = _author_lists(interactions)
        for name in authors:
            books = np.fromiter((name in names for names in lists), dtype=bool, count=len(lists))
            if not books.any():
                raise DataError(
                    f"no book by author {quoted(name)} in the item metadata; check the spelling (names are matched "
                    "exactly)"
                )
            selected |= books
    item_idx = np.flatnonzero(selected)
    details = {"requested_item_ids": [_plain(v) for v in item_ids], "requested_authors": authors}
    by = "author" if authors and not item_ids else "item"
    chosen_authors = tuple(authors) if by == "author" else _distinct_authors(interactions, item_idx)
    return _target_set("explicit", by, interactions, item_idx, chosen_authors, audience_from, threshold, details)


def longtail_targets(
    interactions: Interactions,
    *,
    audience_from: Interactions | World,
    head_share: float = 0.8,
    min_audience: int = 10,
    by: str = "author",
    max_targets: int | None = None,
    threshold: float | None = None,
) -> TargetSet:
    """Authors (or items) in the popularity long tail that enough users would like.

    Authors are ranked by their number of interactions in ``interactions`` (ties by name); the *head* is the
    shortest prefix holding at least ``head_share`` of all interactions; the *long tail* is everyone else
    (including authors nobody interacted with). A tail author is a target when at least ``min_audience`` users
    would like one of their books; with ``max_targets``, the ones with the largest audience are kept.

    Parameters
    ----------
    interactions : Interactions
        The training data that defines popularity; needs author metadata when ``by="author"``.
    audience_from : Interactions or World
        Held-out interactions (same items) or a world over the same items.
    head_share : float in (0, 1), default 0.8
    min_audience : int >= 0, default 10
    by : {"author", "item"}
    max_targets : int >= 1, optional
        At most this many authors (items).
    threshold : float, optional
        See :class:`Audience`.

    Returns
    -------
    TargetSet
        ``details`` holds ``head_share`` (achieved), ``n_units``, ``n_head``, ``n_tail``, ``n_tail_eligible``,
        ``tail_interaction_share`` and a ``table`` of the chosen units (name, n_items, n_interactions, audience).
    """
    head_share = check_unit_share(head_share, "head_share")
    min_audience = check_count(min_audience, "min_audience", 0)
    if max_targets is not None:
        max_targets = check_count(max_targets, "max_targets", 1)
    by = _check_by(by)
    names, membership = _units(interactions, by)
    item_degree = np.bincount(interactions.matrix.indices, minlength=interactions.n_items)
    unit_degree = membership.T @ item_degree
    ranking, cumulative, n_head = _head(names, unit_degree, by, head_share)
    total = max(1, int(unit_degree.sum()))
    tail = ranking[n_head:]
    audience_counts = _unit_audience_counts(audience_from, threshold, membership, interactions)
    eligible = tail[audience_counts[tail] >= min_audience]
    eligible = eligible[np.lexsort((names[eligible].astype(str), -audience_counts[eligible]))]
    chosen = eligible if max_targets is None else eligible[:max_targets]
    item_idx = np.flatnonzero(np.asarray(membership[:, chosen].sum(axis=1)).ravel() > 0)
    table = [
        {
            "name": _plain(names[u]),
            "n_items": int(membership[:, [u]].nnz),
            "n_interactions": int(unit_degree[u]),
            "audience": int(audience_counts[u]),
        }
        for u in chosen
    ]
    details = {
        "head_share_requested": head_share,
        "head_share": float(cumulative[n_head - 1]) if names.size else 0.0,
        "n_units": int(names.size),
        "n_head": n_head,
        "n_tail": int(tail.size),
        "n_tail_eligible": int(eligible.size),
        "tail_interaction_share": float(unit_degree[tail].sum() / total),
        "min_audience": min_audience,
        "table": table,
    }
    authors = tuple(str(names[u]) for u in chosen) if by == "author" else _distinct_authors(interactions, item_idx)
    return _target_set("longtail", by, interactions, item_idx, authors, audience_from, threshold, details)


def exposure_deficit_targets(
    interactions: Interactions,
    recommendations,
    *,
    audience_from: Interactions | World,
    n_targets: int = 10,
    min_audience: int = 1,
    by: str = "item",
    exclude_head: float | None = None,
    threshold: float | None = None,
) -> TargetSet:
    """Items (or authors) whose demand most exceeds the exposure a baseline recommender gives them.

    ``demand share`` = the unit's liked (user, item) pairs / all liked pairs (held-out positives, or ``R* >=
    threshold`` in a world); ``exposure share`` = the unit's slots in the top-k lists / all filled slots;
    ``deficit = demand share - exposure share``. The ``n_targets`` units with the largest positive deficit and at
    least ``min_audience`` interested users are chosen.

    Parameters
    ----------
    interactions : Interactions
        Defines the items (and authors).
    recommendations : array-like of int of shape (n_lists, k)
        Item indices of each user's top-k list; negative entries are empty slots.
    audience_from : Interactions or World
    n_targets : int >= 1, default 10
    min_audience : int >= 0, default 1
    by : {"item", "author"}
    exclude_head : float in (0, 1), optional
        Leave out the popularity head holding this share of the reads in ``interactions`` (as in
        :func:`longtail_targets`), so that only long-tail units compete.
    threshold : float, optional
    """
    by = _check_by(by)
    if exclude_head is not None:
        exclude_head = check_unit_share(exclude_head, "exclude_head")
    n_targets = check_count(n_targets, "n_targets", 1)
    min_audience = check_count(min_audience, "min_audience", 0)
    try:
        lists = np.asarray(recommendations)
    except (TypeError, ValueError):
        raise DataError("recommendations must be an integer array of shape (n_users, k)") from None
    if lists.ndim != 2 or (lists.size and lists.dtype.kind not in "iu"):
        raise DataError(
            f"recommendations must be an integer array of shape (n_users, k) of item indices; got an array of "
            f"shape {lists.shape} and dtype {lists.dtype}"
        )
    if lists.size and lists.max() >= interactions.n_items:
        raise DataError(
            f"recommendations hold item index {int(lists.max())}, but there are only {interactions.n_items} items"
        )
    filled = lists[lists >= 0]
    if filled.size == 0:
        raise DataError("recommendations have no filled slot; nothing is exposed")
    names, membership = _units(interactions, by)
    exposure = membership.T @ np.bincount(filled, minlength=interactions.n_items)
    liked_pairs = _item_like_counts(audience_from, threshold, interactions)
    demand = membership.T @ liked_pairs
    audience_counts = _unit_audience_counts(audience_from, threshold, membership, interactions)
    if demand.sum() == 0:
        raise DataError("the audience source has no liked (user, item) pair; there is no demand to compare")
    demand_share = demand / demand.sum()
    exposure_share = exposure / filled.size
    deficit = demand_share - exposure_share
    eligible = (deficit > 0) & (audience_counts >= min_audience)
    n_head = 0
    if exclude_head is not None:
        item_degree = np.bincount(interactions.matrix.indices, minlength=interactions.n_items)
        ranking, _, n_head = _head(names, membership.T @ item_degree, by, exclude_head)
        eligible[ranking[:n_head]] = False
    candidates = np.flatnonzero(eligible)
    candidates = candidates[np.lexsort((candidates, -deficit[candidates]))][:n_targets]
    item_idx = np.flatnonzero(np.asarray(membership[:, candidates].sum(axis=1)).ravel() > 0)
    table = [
        {
            "name": _plain(names[u]),
            "demand": int(demand[u]),
            "demand_share": float(demand_share[u]),
            "exposure": int(exposure[u]),
            "exposure_share": float(exposure_share[u]),
            "deficit": float(deficit[u]),
            "audience": int(audience_counts[u]),
        }
        for u in candidates
    ]
    details = {
        "n_lists": int(lists.shape[0]),
        "k": int(lists.shape[1]),
        "n_slots": int(filled.size),
        "n_exposed_items": int(np.unique(filled).size),
        "n_liked_pairs": int(demand.sum()),
        "n_units_in_deficit": int((deficit > 0).sum()),
        "n_head_excluded": n_head,
        "table": table,
    }
    authors = tuple(str(names[u]) for u in candidates) if by == "author" else _distinct_authors(interactions, item_idx)
    return _target_set("exposure", by, interactions, item_idx, authors, audience_from, threshold, details)


def community_targets(
    interactions: Interactions,
    *,
    audience_from: Interactions | World,
    n_communities: int = 2,
    min_community_users: int = 10,
    max_targets: int | None = None,
    threshold: float | None = None,
    rng: np.random.Generator | int | None = 0,
) -> TargetSet:
    """The items of a minority community of the user–item graph (MISSION's majority–minority, found in data).

    Users and items are co-clustered by :func:`bipartite_communities`; the minority community is the one with
    the fewest users among those with at least ``min_community_users``; its items are the targets, ranked by how
    many of its users interacted with them (``max_targets`` keeps the first).

    Returns
    -------
    TargetSet
        ``details`` holds the community sizes, the minority's label and users, the singular values, and
        ``audience_in_community`` (the share of the audience inside the minority community).
    """
    min_community_users = check_count(min_community_users, "min_community_users", 1)
    if max_targets is not None:
        max_targets = check_count(max_targets, "max_targets", 1)
    communities = bipartite_communities(interactions, n_communities, rng=rng)
    sizes = communities.sizes(interactions)
    qualified = [s for s in sizes if s["n_users"] >= min_community_users and s["n_items"] > 0]
    if not qualified:
        raise DataError(
            f"no community has at least min_community_users={min_community_users} users and one item "
            f"(sizes: {[s['n_users'] for s in sizes]}); lower min_community_users or n_communities"
        )
    minority = min(qualified, key=lambda s: (s["n_users"], s["community"]))["community"]
    members = communities.user_labels == minority
    items = np.flatnonzero(communities.item_labels == minority)
    member_reads = np.bincount(
        interactions.matrix.indices[np.repeat(members, np.diff(interactions.matrix.indptr))],
        minlength=interactions.n_items,
    )[items]
    ranked = items[np.lexsort((items, -member_reads))]
    item_idx = np.sort(ranked if max_targets is None else ranked[:max_targets])
    details = {
        "n_communities": communities.n_communities,
        "communities": sizes,
        "minority_community": int(minority),
        "n_minority_users": int(members.sum()),
        "minority_user_ids": interactions.users.ids[members].tolist(),
        "singular_values": communities.singular_values.tolist(),
    }
    audience = _audience(audience_from, threshold, interactions, item_idx)
    in_community = _source_user_flags(audience_from, interactions, members)[audience.user_idx]
    details["audience_in_community"] = float(in_community.mean()) if in_community.size else math.nan
    authors = _distinct_authors(interactions, item_idx)
    item_ids = interactions.items.ids[item_idx]
    return TargetSet("community", "item", item_idx, item_ids, authors, audience, details)


def bipartite_communities(
    interactions: Interactions,
    n_communities: int = 2,
    *,
    n_init: int = 10,
    max_iter: int = 300,
    rng: np.random.Generator | int | None = 0,
) -> Communities:
    """Spectral co-clustering of the bipartite user–item graph (Dhillon 2001, with the top vectors kept).

    The 0/1 adjacency A (users x items, every stored interaction an edge) is normalized to
    ``An = D_u^-1/2 A D_i^-1/2``; its top ``n_communities`` singular vectors (``svds(solver="propack")``, ``v0``
    from ``rng``) give each user the point ``D_u^-1/2 u`` and each item ``D_i^-1/2 v``; k-means (k-means++
    initialisation, ``n_init`` restarts, seeded) on all points together assigns users and items to communities.
    A disconnected graph puts each component on its own point, so planted blocks are found exactly.
    """
    n_communities = check_count(n_communities, "n_communities", 2)
    generator = as_generator(rng)
    csr = interactions.matrix
    adjacency = sp.csr_array((np.ones(csr.nnz), csr.indices, csr.indptr), shape=csr.shape)
    user_degree = np.diff(csr.indptr).astype(np.float64)
    item_degree = np.bincount(csr.indices, minlength=interactions.n_items).astype(np.float64)
    users = np.flatnonzero(user_degree > 0)
    items = np.flatnonzero(item_degree > 0)
    if min(users.size, items.size) <= n_communities:
        raise DataError(
            f"{users.size} users and {items.size} items with interactions are too few for "
            f"n_communities={n_communities}; lower it"
        )
    core = adjacency[users][:, items]
    du = 1.0 / np.sqrt(user_degree[users])
    di = 1.0 / np.sqrt(item_degree[items])
    normalized = sp.diags_array(du) @ core @ sp.diags_array(di)
    u, s, vt = truncated_svd(sp.csr_array(normalized), n_communities, generator)
    points = np.vstack([u * du[:, None], vt.T * di[:, None]])
    points /= np.abs(points).max()
    labels, inertia = _kmeans(points, n_communities, generator, n_init=n_init, max_iter=max_iter)
    user_labels = np.full(interactions.n_users, -1, np.int64)
    item_labels = np.full(interactions.n_items, -1, np.int64)
    user_labels[users] = labels[: users.size]
    item_labels[items] = labels[users.size :]
    # relabel by decreasing number of users (ties: first user), so labels do not depend on the k-means start
    counts = np.bincount(labels[: users.size], minlength=n_communities)
    first_user = np.array(
        [np.argmax(labels[: users.size] == c) if counts[c] else users.size for c in range(n_communities)]
    )
    relabel = np.empty(n_communities, np.int64)
    relabel[np.lexsort((first_user, -counts))] = np.arange(n_communities)
    user_labels[users] = relabel[user_labels[users]]
    item_labels[items] = relabel[item_labels[items]]
    return Communities(user_labels, item_labels, s, float(inertia))


def popularity_lists(interactions: Interactions, k: int = 10) -> np.ndarray:
    """A baseline's top-k lists: each user's ``k`` most popular unseen items (ties by lower index).

    Returns
    -------
    ndarray of int of shape (n_users, k)
        Item indices; -1 pads a list when fewer than ``k`` unseen items exist.
    """
    k = check_count(k, "k", 1)
    csr = interactions.matrix
    degree = np.bincount(csr.indices, minlength=interactions.n_items)
    ranking = np.lexsort((np.arange(interactions.n_items), -degree))
    position = np.empty(interactions.n_items, np.int64)
    position[ranking] = np.arange(interactions.n_items)
    lists = np.full((interactions.n_users, k), -1, np.int64)
    longest = int(np.diff(csr.indptr).max()) if interactions.n_users else 0
    candidates = ranking[: k + longest]  # enough for any user: at most `longest` of them are seen
    for user in range(interactions.n_users):
        seen = position[csr.indices[csr.indptr[user] : csr.indptr[user + 1]]]
        free = np.ones(candidates.size, dtype=bool)
        free[seen[seen < candidates.size]] = False
        chosen = candidates[free][:k]
        lists[user, : chosen.size] = chosen
    return lists


# ------------------------------------------------------------------------------------------------ helpers
def _head(names, unit_degree, by, head_share):
    """Units by decreasing reads (ties by name for authors, index for items), the cumulative share of reads, and
    the size of the shortest prefix holding at least ``head_share``."""
    tiebreak = names.astype(str) if by == "author" else np.arange(names.size)
    ranking = np.lexsort((tiebreak, -unit_degree))
    cumulative = np.cumsum(unit_degree[ranking]) / max(1, int(unit_degree.sum()))
    n_head = min(int(np.searchsorted(cumulative, head_share - 1e-12, side="left") + 1), names.size)
    return ranking, cumulative, n_head


def _target_set(method, by, interactions, item_idx, authors, source, threshold, details) -> TargetSet:
    audience = _audience(source, threshold, interactions, item_idx)
    logger.debug("%s targets: %d items, audience %d users", method, item_idx.size, audience.n_users)
    item_ids = interactions.items.ids[item_idx]
    return TargetSet(method, by, item_idx, item_ids, tuple(authors), audience, details)


def _audience(source, threshold, interactions, item_idx) -> Audience:
    if isinstance(source, World):
        _check_world_items(source, interactions)
        level = source.like_threshold if threshold is None else float(threshold)
        per_target = np.zeros(item_idx.size, np.int64)
        liked = np.zeros(source.n_users, dtype=bool)
        if item_idx.size:
            chunk = max(1, _DENSE_CELLS // item_idx.size)
            targets = source.item_factors[item_idx].T
            for start in range(0, source.n_users, chunk):
                block = source._clip(source.user_factors[start : start + chunk] @ targets) >= level
                per_target += block.sum(axis=0)
                liked[start : start + chunk] = block.any(axis=1)
        user_idx = np.flatnonzero(liked)
        return Audience(
            "world", level, user_idx, source.interactions.users.ids[user_idx], per_target, int(per_target.sum())
        )
    positives = _positives(source, threshold, interactions)[:, item_idx]
    per_target = np.diff(positives.tocsc().indptr).astype(np.int64)
    user_idx = np.flatnonzero(np.diff(positives.indptr) > 0)
    level = None if threshold is None else float(threshold)
    return Audience("held_out", level, user_idx, source.users.ids[user_idx], per_target, int(positives.nnz))


def _positives(source, threshold, interactions) -> sp.csr_array:
    """Held-out positives as a 0/1 csr_array (source users x interactions' items)."""
    if not isinstance(source, Interactions):
        raise InvalidParameterError(
            f"audience_from must be a test Interactions or a World; got {type(source).__name__}"
        )
    csr = source.matrix
    keep = np.ones(csr.nnz, dtype=bool) if threshold is None else csr.data >= float(threshold)
    rows = np.repeat(np.arange(source.n_users), np.diff(csr.indptr))[keep]
    cols = csr.indices[keep]
    if source.items != interactions.items:
        cols = interactions.items.numbers(source.items.ids, missing="negative")[cols]
        rows, cols = rows[cols >= 0], cols[cols >= 0]
    return sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(source.n_users, interactions.n_items))


def _item_like_counts(source, threshold, interactions) -> np.ndarray:
    """Per item, how many users like it."""
    if isinstance(source, World):
        _check_world_items(source, interactions)
        return source.audience_counts(threshold)
    return np.asarray(_positives(source, threshold, interactions).sum(axis=0)).ravel()


def _unit_audience_counts(source, threshold, membership, interactions) -> np.ndarray:
    """Per unit (column of ``membership``, items x units), how many users like at least one of its items."""
    if isinstance(source, World):
        _check_world_items(source, interactions)
        level = source.like_threshold if threshold is None else float(threshold)
        counts = np.zeros(membership.shape[1], np.int64)
        chunk = max(1, _DENSE_CELLS // max(1, source.n_items))
        for start in range(0, source.n_users, chunk):
            liked = sp.csr_array(source.preference_rows(np.arange(start, min(start + chunk, source.n_users))) >= level)
            counts += np.diff((liked.astype(np.float64) @ membership).tocsc().indptr)
        return counts
    liked_units = _positives(source, threshold, interactions) @ membership
    return np.diff(sp.csc_array(liked_units).indptr).astype(np.int64)


def _source_user_flags(source, interactions, flags) -> np.ndarray:
    """``flags`` over the interactions' users, carried to the audience source's user vocabulary."""
    users = source.interactions.users if isinstance(source, World) else source.users
    if users == interactions.users:
        return flags
    index = interactions.users.numbers(users.ids, missing="negative")
    return np.where(index >= 0, flags[np.maximum(index, 0)], False)


def _check_world_items(world: World, interactions: Interactions) -> None:
    if world.interactions.items != interactions.items:
        raise DataError(
            f"the world's {world.n_items} items are not the items of these interactions ({interactions.n_items}); "
            "select targets on the world's own interactions (or a split of them)"
        )


def _units(interactions: Interactions, by: str) -> tuple[np.ndarray, sp.csc_array]:
    """Unit names and the items x units 0/1 membership matrix (authors by primary author, or items)."""
    n_items = interactions.n_items
    if by == "item":
        return interactions.items.ids, sp.csc_array(sp.identity(n_items, format="csc"))
    authors = primary_authors(interactions)
    if authors is None:
        raise DataError(
            "these interactions have no author metadata (primary_author or authors column); load the books file "
            "with them or select targets by item"
        )
    known = np.array([a is not None and a == a and str(a) != "" for a in authors], dtype=bool)
    names, inverse = np.unique(np.asarray(authors[known], dtype=str), return_inverse=True)
    membership = sp.csc_array(
        (np.ones(int(known.sum())), (np.flatnonzero(known), inverse.ravel())), shape=(n_items, names.size)
    )
    return names.astype(object), membership


def _author_lists(interactions: Interactions) -> list[set]:
    metadata = interactions.item_metadata or {}
    primary = primary_authors(interactions)
    if primary is None:
        raise DataError(
            "these interactions have no author metadata (primary_author or authors column); give item ids instead"
        )
    full = metadata.get("authors")
    lists = []
    for i in range(interactions.n_items):
        names = set()
        if primary[i] is not None:
            names.add(str(primary[i]))
        if full is not None and isinstance(full[i], str):
            names.update(name.strip() for name in full[i].split(",") if name.strip())
        lists.append(names)
    return lists


def _distinct_authors(interactions: Interactions, item_idx) -> tuple:
    authors = primary_authors(interactions)
    if authors is None:
        return ()
    return tuple(sorted({str(a) for a in authors[item_idx] if a is not None and a == a}))


def _kmeans(points, k, generator, *, n_init, max_iter) -> tuple[np.ndarray, float]:
    """Lloyd's k-means with k-means++ starts; the best of ``n_init`` runs by inertia."""
    best_labels, best_inertia = None, np.inf
    squared_norms = np.einsum("ij,ij->i", points, points)
    for _ in range(n_init):
        centers = _kmeans_plus_plus(points, squared_norms, k, generator)
        labels = np.full(points.shape[0], -1)
        for _ in range(max_iter):
            distances = squared_norms[:, None] - 2 * points @ centers.T + np.einsum("ij,ij->i", centers, centers)
            new_labels = np.argmin(distances, axis=1)
            if np.array_equal(new_labels, labels):
                break
            labels = new_labels
            for c in range(k):
                members = labels == c
                centers[c] = points[members].mean(axis=0) if members.any() else points[generator.integers(len(points))]
        inertia = float(np.sum((points - centers[labels]) ** 2))
        if inertia < best_inertia - 1e-12:
            best_labels, best_inertia = labels, inertia
    return best_labels, best_inertia


def _kmeans_plus_plus(points, squared_norms, k, generator) -> np.ndarray:
    centers = np.empty((k, points.shape[1]))
    centers[0] = points[generator.integers(points.shape[0])]
    closest = np.maximum(squared_norms - 2 * points @ centers[0] + centers[0] @ centers[0], 0.0)
    for c in range(1, k):
        total = closest.sum()
        index = (
            generator.integers(points.shape[0]) if total <= 0 else generator.choice(points.shape[0], p=closest / total)
        )
        centers[c] = points[index]
        distance = np.maximum(squared_norms - 2 * points @ centers[c] + centers[c] @ centers[c], 0.0)
        np.minimum(closest, distance, out=closest)
    return centers


def _coerce_id(value, vocabulary_ids):
    """An id given as text ("42") matches an integer vocabulary."""
    if vocabulary_ids.dtype.kind in "iu" and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise DataError(f"unknown item id {quoted(value)} (item ids here are integers)") from None
    return value


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _check_by(by) -> str:
    if by not in _BY:
        raise InvalidParameterError(f"by must be 'author' or 'item'; got {by!r}")
    return by
