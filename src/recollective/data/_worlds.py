"""Worlds with known truth: true preferences R* in factor form and the interactions sampled from them.

Two kinds (MISSION, "Data"):

* :func:`majority_minority_world` — a synthetic book world: users and items split into a majority and a minority
  group with R* block diagonal (``r*_{u,i} = 0`` across groups unless ``cross_affinity > 0``), Zipf-like item
  popularity, items grouped into authors (the minority's authors are the under-represented ones). It is the
  project's embedded default data: no files needed. It scales to about 500k users x 50k items x 10M interactions
  because R* is never materialized: interactions are drawn user chunk by user chunk from the low-rank model.
* :func:`fitted_world` — a semi-synthetic world: a rank-``rank`` truncated SVD of a real dataset defines
  ``R* = max(0, U S V^T)``, and interactions are resampled from it (each user keeps their number of interactions).

A user *likes* an item when ``R*[u, i] >= like_threshold`` (the world's audience rule).
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from recollective._random import as_generator
from recollective.data._interactions import Interactions
from recollective.data._preprocess import from_csr_parts
from recollective.data._vocabulary import Vocabulary
from recollective.errors import DataError, InvalidParameterError

__all__ = ["World", "fitted_world", "majority_minority_world", "truncated_svd"]

logger = logging.getLogger(__name__)

MAJORITY, MINORITY = 0, 1
_DRAWS_PER_CHUNK = 1 << 21  # with-replacement draws held at once while sampling (bounds memory, not results)
_DENSE_CELLS = 1 << 22  # cells of R* held at once when rows are computed densely


@dataclass(frozen=True, eq=False)
class World:
    """A world whose true preferences are known.

    ``R* = user_factors @ item_factors.T`` (clipped at 0 when ``clip_negative``), never stored unless asked for.

    Attributes
    ----------
    kind : str
        "majority_minority" or "fitted".
    interactions : Interactions
        What users revealed, sampled from the model.
    user_factors : ndarray of shape (n_users, rank)
    item_factors : ndarray of shape (n_items, rank)
    like_threshold : float
        A user likes item i when ``R*[u, i] >= like_threshold``.
    clip_negative : bool
        Whether R* is ``max(0, U V^T)`` (fitted worlds) rather than ``U V^T`` (non-negative factors).
    user_group, item_group : ndarray of int of shape (n_users,) / (n_items,), or None
        0 = majority, 1 = minority (synthetic worlds).
    params : dict
        The generator's arguments, for provenance.
    """

    kind: str
    interactions: Interactions
    user_factors: np.ndarray
    item_factors: np.ndarray
    like_threshold: float
    clip_negative: bool = False
    user_group: np.ndarray | None = None
    item_group: np.ndarray | None = None
    params: dict = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return int(self.user_factors.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_factors.shape[0])

    @property
    def rank(self) -> int:
        return int(self.user_factors.shape[1])

    def preference_rows(self, user_idx) -> np.ndarray:
        """Rows of R*: ndarray of shape (len(user_idx), n_items)."""
        return self._clip(np.asarray(self.user_factors[np.asarray(user_idx, dtype=np.int64)] @ self.item_factors.T))

    def preferences(self, max_cells: int = 50_000_000) -> np.ndarray:
        """The dense R*, ndarray of shape (n_users, n_items); DataError when it has more than ``max_cells``."""
        if self.n_users * self.n_items > max_cells:
            raise DataError(
                f"R* has {self.n_users} x {self.n_items} = {self.n_users * self.n_items} cells, more than "
                f"max_cells={max_cells}; use preference_rows(user_idx) in chunks or raise max_cells"
            )
        return self.preference_rows(np.arange(self.n_users))

    def audience(self, item_idx, threshold: float | None = None) -> np.ndarray:
        """Sorted user indices who like at least one of ``item_idx`` (``R*[u, i] >= threshold``)."""
        threshold = self.like_threshold if threshold is None else float(threshold)
        item_idx = np.asarray(item_idx, dtype=np.int64)
        if item_idx.size == 0:
            return np.empty(0, np.int64)
        items = self.item_factors[item_idx].T
        chunk = max(1, _DENSE_CELLS // item_idx.size)
        liked = np.zeros(self.n_users, dtype=bool)
        for start in range(0, self.n_users, chunk):
            block = self._clip(self.user_factors[start : start + chunk] @ items)
            liked[start : start + chunk] = (block >= threshold).any(axis=1)
        return np.flatnonzero(liked)

    def audience_counts(self, threshold: float | None = None) -> np.ndarray:
        """Per item, how many users like it: ndarray of int of shape (n_items,). Costs one pass over R*."""
        threshold = self.like_threshold if threshold is None else float(threshold)
        counts = np.zeros(self.n_items, dtype=np.int64)
        chunk = max(1, _DENSE_CELLS // max(1, self.n_items))
        for start in range(0, self.n_users, chunk):
            counts += (self._clip(self.user_factors[start : start + chunk] @ self.item_factors.T) >= threshold).sum(0)
        return counts

    @cached_property
    def liked_share(self) -> float:
        """Share of (user, item) cells with ``R* >= like_threshold``, estimated on up to 2^20 random cells."""
        generator = np.random.default_rng(0)
        n_cells = min(1 << 20, self.n_users * self.n_items)
        users = generator.integers(0, self.n_users, n_cells)
        items = generator.integers(0, self.n_items, n_cells)
        values = self._clip(np.einsum("ij,ij->i", self.user_factors[users], self.item_factors[items]))
        return float(np.mean(values >= self.like_threshold))

    def _clip(self, values: np.ndarray) -> np.ndarray:
        return np.maximum(values, 0.0, out=values) if self.clip_negative else values

    def as_dict(self) -> dict:
        """A JSON-ready summary (no arrays)."""
        summary = {
            "kind": self.kind,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_interactions": self.interactions.n_interactions,
            "rank": self.rank,
            "like_threshold": self.like_threshold,
            "params": dict(self.params),
        }
        if self.user_group is not None:
            summary["n_minority_users"] = int((self.user_group == MINORITY).sum())
        if self.item_group is not None:
            summary["n_minority_items"] = int((self.item_group == MINORITY).sum())
        return summary


# --------------------------------------------------------------------------------------------- synthetic
def majority_minority_world(
    n_users: int = 2000,
    n_items: int = 1000,
    n_interactions: int = 40_000,
    *,
    minority_share: float = 0.2,
    minority_item_share: float = 0.2,
    rank_majority: int = 4,
    rank_minority: int = 2,
    cross_affinity: float = 0.0,
    popularity_exponent: float = 1.0,
    minority_popularity: float = 1.0,
    books_per_author: float = 4.0,
    activity_sigma: float = 0.8,
    min_user_interactions: int = 5,
    values: str = "implicit",
    rating_noise: float = 0.5,
    like_threshold: float = 0.5,
    rng: np.random.Generator | int | None = 0,
) -> World:
    """A synthetic majority–minority book world (MISSION: majority–minority preferences), embedded default data.

    Parameters
    ----------
    n_users, n_items, n_interactions : int
        Sizes; ``n_interactions`` is met exactly (each user has at least ``min_user_interactions`` and at most
        half of the items they can like). Tested up to 200k x 20k x 2M; 500k x 50k x 10M works in about a minute
        and a few hundred MB, because R* is never materialized.
    minority_share, minority_item_share : float in (0, 1)
        Share of users / items in the minority group. Users ``[0, n_majority)`` and items ``[0, n_majority_items)``
        are the majority; the rest the minority.
    rank_majority, rank_minority : int >= 1
        Latent dimensions ("genres") of each group. A user's taste is a Dirichlet(0.5) mixture over their group's
        dimensions; an item loads Beta(5, 2) on one main dimension and Beta(1, 6) on its group's others, so
        ``0 <= R* <= 1``.
    cross_affinity : float in [0, 1), default 0
        Weight of a user's taste on the other group's dimensions; 0 makes R* exactly block diagonal.
    popularity_exponent : float >= 0, default 1
        Zipf exponent of item popularity within each group (popularity of the item of rank r is ``r^-a``).
    minority_popularity : float > 0, default 1
        Multiplies the popularity of minority items (matters when ``cross_affinity > 0``).
    books_per_author : float >= 1
        Mean number of books per author (1 + geometric); authors never span groups, so minority authors are the
        under-represented ones.
    activity_sigma : float >= 0
        Log-normal spread of users' numbers of interactions.
    values : {"implicit", "rating"}
        1.0 per interaction, or a 1–5 star rating ``round(1 + 4 R* + N(0, rating_noise^2))`` clipped to [1, 5].
    like_threshold : float, default 0.5
    rng : Generator, int or None, default 0

    Returns
    -------
    World
        Interactions with ``order`` (a day in [0, 1000), increasing along each user's history) and item metadata
        ``title``, ``authors``, ``primary_author``, ``group`` ("majority" / "minority").

    Notes
    -----
    A user's history is a successive sample without replacement with ``P(i | u) ∝ R*[u, i] * popularity_i``:
    drawn exactly as a mixture over latent dimensions (choose dimension r with probability
    ``∝ U[u, r] sum_i V[i, r] pop_i``, then an item with probability ``∝ V[i, r] pop_i``), keeping first
    occurrences; users still short after the with-replacement draws finish with a Gumbel top-k on their dense row.
    """
    _check_positive_int(n_users, "n_users", 2)
    _check_positive_int(n_items, "n_items", 2)
    _check_positive_int(n_interactions, "n_interactions", 1)
    _check_positive_int(rank_majority, "rank_majority", 1)
    _check_positive_int(rank_minority, "rank_minority", 1)
    _check_positive_int(min_user_interactions, "min_user_interactions", 0)
    for name, value in (("minority_share", minority_share), ("minority_item_share", minority_item_share)):
        if not 0.0 < float(value) < 1.0:
            raise InvalidParameterError(f"{name} must be strictly between 0 and 1; got {value!r}")
    if not 0.0 <= float(cross_affinity) < 1.0:
        raise InvalidParameterError(f"cross_affinity must be in [0, 1); got {cross_affinity!r}")
    for name, value, low in (
        ("popularity_exponent", popularity_exponent, 0.0),
        ("activity_sigma", activity_sigma, 0.0),
        ("rating_noise", rating_noise, 0.0),
        ("books_per_author", books_per_author, 1.0),
    ):
        if not (math.isfinite(float(value)) and float(value) >= low):
            raise InvalidParameterError(f"{name} must be a finite number >= {low:g}; got {value!r}")
    if not (math.isfinite(float(minority_popularity)) and float(minority_popularity) > 0):
        raise InvalidParameterError(f"minority_popularity must be a finite number > 0; got {minority_popularity!r}")
    if values not in ("implicit", "rating"):
        raise InvalidParameterError(f"values must be 'implicit' or 'rating'; got {values!r}")
    params = {
        "n_users": n_users,
        "n_items": n_items,
        "n_interactions": n_interactions,
        "minority_share": minority_share,
        "minority_item_share": minority_item_share,
        "rank_majority": rank_majority,
        "rank_minority": rank_minority,
        "cross_affinity": cross_affinity,
        "popularity_exponent": popularity_exponent,
        "minority_popularity": minority_popularity,
        "books_per_author": books_per_author,
        "activity_sigma": activity_sigma,
        "min_user_interactions": min_user_interactions,
        "values": values,
        "rating_noise": rating_noise,
        "like_threshold": like_threshold,
    }
    generator = as_generator(rng)
    n_minority_users = min(n_users - 1, max(1, round(minority_share * n_users)))
    n_minority_items = min(n_items - 1, max(1, round(minority_item_share * n_items)))
    user_group = np.zeros(n_users, np.int8)
    user_group[n_users - n_minority_users :] = MINORITY
    item_group = np.zeros(n_items, np.int8)
    item_group[n_items - n_minority_items :] = MINORITY
    rank = rank_majority + rank_minority
    dims = {MAJORITY: np.arange(rank_majority), MINORITY: rank_majority + np.arange(rank_minority)}

    user_factors = np.zeros((n_users, rank))
    item_factors = np.zeros((n_items, rank))
    for group, other in ((MAJORITY, MINORITY), (MINORITY, MAJORITY)):
        users = np.flatnonzero(user_group == group)
        own = generator.dirichlet(np.full(dims[group].size, 0.5), size=users.size)
        user_factors[np.ix_(users, dims[group])] = (1.0 - cross_affinity) * own
        if cross_affinity > 0:
            away = generator.dirichlet(np.full(dims[other].size, 0.5), size=users.size)
            user_factors[np.ix_(users, dims[other])] = cross_affinity * away
        items = np.flatnonzero(item_group == group)
        loadings = generator.beta(1.0, 6.0, size=(items.size, dims[group].size))
        main = generator.integers(0, dims[group].size, items.size)
        loadings[np.arange(items.size), main] = generator.beta(5.0, 2.0, size=items.size)
        item_factors[np.ix_(items, dims[group])] = loadings

    popularity = np.empty(n_items)
    for group in (MAJORITY, MINORITY):
        items = np.flatnonzero(item_group == group)
        ranks = generator.permutation(items.size) + 1.0
        popularity[items] = ranks**-popularity_exponent
    popularity[item_group == MINORITY] *= minority_popularity

    reachable = np.where(
        user_group == MAJORITY,
        n_items - n_minority_items if cross_affinity == 0 else n_items,
        n_minority_items if cross_affinity == 0 else n_items,
    )
    counts = _allocate(n_users, n_interactions, reachable // 2, min_user_interactions, activity_sigma, generator)
    item_ids = np.arange(n_items)
    metadata = _book_metadata(item_ids, item_group, books_per_author, generator)
    interactions = _sample_from_factors(
        user_factors,
        item_factors,
        popularity,
        counts,
        values,
        rating_noise,
        Vocabulary(np.arange(n_users), "user"),
        Vocabulary(item_ids, "item"),
        metadata,
        generator,
    )
    return World(
        "majority_minority",
        interactions,
        user_factors,
        item_factors,
        float(like_threshold),
        False,
        user_group,
        item_group,
        params,
    )


# ------------------------------------------------------------------------------------------ semi-synthetic
def fitted_world(
    interactions: Interactions,
    rank: int = 20,
    *,
    binarize: bool = True,
    like_share: float | None = None,
    rng: np.random.Generator | int | None = 0,
) -> World:
    """A semi-synthetic world: a low-rank model fitted to real interactions defines R*; interactions are resampled.

    Parameters
    ----------
    interactions : Interactions
        The real data; the world keeps its users, items (indices, ids) and item metadata.
    rank : int >= 1, default 20
        Rank of the truncated SVD (``scipy.sparse.linalg.svds(solver="propack")`` with ``v0`` from ``rng``).
    binarize : bool, default True
        Fit the 0/1 interaction pattern (R* is then a propensity to interact) instead of the stored values.
    like_share : float in (0, 1), optional
        Share of (user, item) cells that count as liked; ``like_threshold`` is the matching quantile of R*
        (estimated on up to 2^20 random cells). Default: the data's density, so the world has as many liked pairs
        as the data has interactions.
    rng : Generator, int or None, default 0

    Returns
    -------
    World
        ``R* = max(0, U S V^T)`` with ``user_factors = U S`` and ``item_factors = V``; interactions are sampled
        without replacement with ``P(i | u) ∝ R*[u, i]``, each user keeping their number of interactions (fewer
        when R* has fewer positive cells in their row), implicit (1.0), ``order`` = position in the sampled history.
    """
    if not isinstance(interactions, Interactions):
        raise InvalidParameterError(f"interactions must be an Interactions; got {type(interactions).__name__}")
    max_rank = min(interactions.n_users, interactions.n_items) - 1
    _check_positive_int(rank, "rank", 1)
    if rank > max_rank:
        raise InvalidParameterError(
            f"rank must be at most min(n_users, n_items) - 1 = {max_rank} for this data; got {rank}"
        )
    if interactions.n_interactions == 0:
        raise DataError("cannot fit a world to interactions with no stored entries")
    like_share = interactions.density if like_share is None else float(like_share)
    if not 0.0 < like_share < 1.0:
        raise InvalidParameterError(f"like_share must be strictly between 0 and 1; got {like_share!r}")
    generator = as_generator(rng)
    matrix = interactions.matrix.astype(np.float64)
    if binarize:
        matrix = sp.csr_array((np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape)
    u, s, vt = truncated_svd(matrix, rank, generator)
    user_factors = u * s
    item_factors = np.ascontiguousarray(vt.T)
    n_cells = min(1 << 20, interactions.n_users * interactions.n_items)
    users = generator.integers(0, interactions.n_users, n_cells)
    items = generator.integers(0, interactions.n_items, n_cells)
    sample = np.maximum(np.einsum("ij,ij->i", user_factors[users], item_factors[items]), 0.0)
    like_threshold = float(np.quantile(sample, 1.0 - like_share))
    counts = np.diff(interactions.matrix.indptr)
    sampled = _sample_dense(user_factors, item_factors, counts, generator)
    indptr, indices, positions = sampled
    world_interactions = from_csr_parts(
        np.diff(indptr),
        indices,
        np.ones(indices.size),
        positions,
        interactions.users,
        interactions.items,
        interactions.item_metadata,
    )
    params = {"rank": rank, "binarize": binarize, "like_share": like_share, "singular_values": s.tolist()}
    logger.debug("fitted_world: rank %d, like_threshold %.4g", rank, like_threshold)
    return World("fitted", world_interactions, user_factors, item_factors, like_threshold, True, None, None, params)


def truncated_svd(matrix, rank: int, rng: np.random.Generator | int | None = 0):
    """Top-``rank`` singular triplets of a sparse matrix, largest first, with deterministic signs.

    ``svds(solver="propack")`` with ``v0`` drawn from ``rng``; values sorted descending and each pair of singular
    vectors flipped so the largest-magnitude entry of the left vector is positive (scikit-learn's ``svd_flip``).

    PROPACK allocates Lanczos bases of ``(n_rows + n_cols + 1) x 10 rank`` float64 (scipy's default length, which
    it needs: it does not restart). Where that exceeds ``LANCZOS_BASIS_BYTES`` the triplets come from
    ``svds(solver="arpack")`` instead, which restarts and holds about ``2 rank + 1`` vectors of the shorter side.
    (A 4.5M x 10.4M matrix at rank 32 asks PROPACK for 38 GB, 25 GiB of it in one array, which a 24 GB machine
    refuses.) Below that size nothing changes.

    Returns
    -------
    u : ndarray of shape (n_rows, rank)
    s : ndarray of shape (rank,)
    vt : ndarray of shape (rank, n_cols)
    """
    generator = as_generator(rng)
    if not lanczos_bases_fit(matrix.shape, rank):
        u, s, vt = spla.svds(matrix, k=rank, solver="arpack", v0=generator.standard_normal(min(matrix.shape)))
    else:
        v0 = generator.standard_normal(matrix.shape[0])
        try:
            u, s, vt = spla.svds(matrix, k=rank, solver="propack", v0=v0)
        except np.linalg.LinAlgError:  # repeated singular values (a disconnected graph) need a longer Lanczos run
            kmax = min(min(matrix.shape), max(100, 20 * rank))
            u, s, vt = spla.svds(matrix, k=rank, solver="propack", v0=v0, maxiter=kmax)
    order = np.argsort(-s, kind="stable")
    u, s, vt = u[:, order], s[order], vt[order]
    signs = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(rank)])
    signs[signs == 0] = 1.0
    return u * signs, s, vt * signs[:, None]


LANCZOS_BASIS_BYTES = 8 * 2**30
"""The most :func:`truncated_svd` lets PROPACK allocate for its Lanczos bases; above it ARPACK serves."""


def lanczos_bases_fit(shape: tuple[int, int], rank: int) -> bool:
    """Whether PROPACK's bases for a top-``rank`` SVD of a ``shape`` matrix, ``(n_rows + n_cols + 1) x 10 rank``
    float64, fit ``LANCZOS_BASIS_BYTES``."""
    return 8 * (shape[0] + shape[1] + 1) * 10 * rank <= LANCZOS_BASIS_BYTES


# ------------------------------------------------------------------------------------------------ helpers
def _allocate(n_users, total, cap, minimum, sigma, generator) -> np.ndarray:
    """Per-user interaction counts summing to ``total``: ``minimum`` each, the rest by log-normal activity,
    capped at ``cap`` (excess moved to users with room)."""
    cap = np.asarray(cap, dtype=np.int64)
    if total > int(cap.sum()):
        raise InvalidParameterError(
            f"n_interactions={total} is more than the users can hold (at most {int(cap.sum())}: each user "
            "interacts with at most half the items they can like); lower n_interactions or add items"
        )
    base = np.minimum(min(minimum, total // n_users), cap)
    activity = generator.lognormal(0.0, sigma, n_users)
    counts = base + generator.multinomial(total - int(base.sum()), activity / activity.sum())
    for _ in range(100):
        excess = np.maximum(counts - cap, 0)
        if not excess.any():
            break
        counts -= excess
        room = np.where(counts < cap, activity, 0.0)
        counts += generator.multinomial(int(excess.sum()), room / room.sum())
    else:  # pragma: no cover - the loop above moves the excess within a few rounds
        raise DataError("could not allocate interactions to users within their caps")
    return counts


def _book_metadata(item_ids, item_group, books_per_author, generator) -> dict:
    """Titles and authors: each group's items, shuffled, are dealt to authors of 1 + geometric books."""
    n_items = item_ids.size
    authors = np.empty(n_items, dtype=object)
    for group, label in ((MAJORITY, "Majority"), (MINORITY, "Minority")):
        items = generator.permutation(np.flatnonzero(item_group == group))
        sizes = generator.geometric(1.0 / books_per_author, size=max(1, items.size))  # >= 1, mean books_per_author
        author_of = np.repeat(np.arange(sizes.size), sizes)[: items.size]
        width = len(str(int(author_of[-1]) + 1)) if items.size else 1
        names = np.array([f"{label} Author {j + 1:0{width}d}" for j in range(int(author_of[-1]) + 1)], dtype=object)
        authors[items] = names[author_of]
    titles = np.array([f"Book {i}" for i in item_ids.tolist()], dtype=object)
    groups = np.where(item_group == MINORITY, "minority", "majority").astype(object)
    return {"title": titles, "authors": authors.copy(), "primary_author": authors, "group": groups}


def _sample_from_factors(
    user_factors, item_factors, popularity, counts, values, rating_noise, users, items, metadata, generator
) -> Interactions:
    """Interactions with ``P(i | u) ∝ (U V^T)[u, i] * popularity_i``, successive sampling without replacement,
    user chunk by user chunk (memory bounded by _DRAWS_PER_CHUNK draws and _DENSE_CELLS cells of R*)."""
    n_users = user_factors.shape[0]
    n_items = item_factors.shape[0]
    weighted = item_factors * popularity[:, None]  # (n_items, rank)
    mass = weighted.sum(axis=0)  # W_r
    item_cdf = np.cumsum(weighted, axis=0) / np.where(mass > 0, mass, 1.0)
    item_cdf = np.ascontiguousarray(item_cdf.T)  # (rank, n_items)
    total = int(counts.sum())
    indptr = np.zeros(n_users + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(total, np.int32 if n_items < 2**31 else np.int64)
    data = np.ones(total) if values == "implicit" else np.empty(total)
    order = np.empty(total)
    draws = np.ceil(counts * 1.25).astype(np.int64) + 4
    starts = _chunk_starts(draws, _DRAWS_PER_CHUNK)
    for start, stop in itertools.pairwise(starts):
        chunk_counts = counts[start:stop]
        chunk_items = _draw_chunk(
            user_factors[start:stop], item_factors, popularity, mass, item_cdf, chunk_counts, draws[start:stop],
            generator,
        )  # fmt: skip
        local_rows = np.repeat(np.arange(stop - start), chunk_counts)
        # items come in sampled order within each user: give the j-th the user's j-th smallest random day
        times = np.sort(generator.random(chunk_items.size) * 1000.0 + local_rows * 1000.0) - local_rows * 1000.0
        by_column = np.lexsort((chunk_items, local_rows))
        lo, hi = indptr[start], indptr[stop]
        indices[lo:hi] = chunk_items[by_column]
        order[lo:hi] = times[by_column]
        if values == "rating":
            truth = np.einsum("ij,ij->i", user_factors[start:stop][local_rows], item_factors[chunk_items])
            stars = np.rint(1.0 + 4.0 * truth + rating_noise * generator.standard_normal(truth.size))
            data[lo:hi] = np.clip(stars, 1.0, 5.0)[by_column]
    return from_csr_parts(counts, indices, data, order, users, items, metadata)


def _draw_chunk(user_factors, item_factors, popularity, mass, item_cdf, counts, draws, generator):
    """Items of one user chunk, row-major and in sampled order within each user.

    Draws with replacement from each user's mixture and keeps first occurrences (a successive sample without
    replacement); users still short draw again (the same sequence, continued) for a few rounds, and the last few
    finish with a Gumbel top-k on their dense row, drawn items excluded.
    """
    n_local = user_factors.shape[0]
    n_items = item_factors.shape[0]
    component_cdf = np.cumsum(user_factors * mass, axis=1)
    component_cdf /= component_cdf[:, -1:]
    component_cdf[:, -1] = 1.0
    got = np.zeros(n_local, np.int64)
    kept_rows, kept_items, kept_positions = [], [], []
    users = np.arange(n_local)
    user_draws = draws
    for round_ in range(4):
        draw_rows = np.repeat(users, user_draws)
        drawn = _mixture_draws(component_cdf, item_cdf, draw_rows, generator)
        keys = draw_rows * n_items + drawn
        if round_:
            taken = np.sort(np.concatenate(kept_rows) * n_items + np.concatenate(kept_items))
            slot = np.minimum(np.searchsorted(taken, keys), taken.size - 1)
            fresh = taken[slot] != keys
            draw_rows, drawn, keys = draw_rows[fresh], drawn[fresh], keys[fresh]
        first = _first_occurrences(keys)
        first_rows = draw_rows[first]
        row_start = np.searchsorted(first_rows, np.arange(n_local))
        position = got[first_rows] + np.arange(first.size) - row_start[first_rows]
        keep = position < counts[first_rows]
        kept_rows.append(first_rows[keep])
        kept_items.append(drawn[first[keep]])
        kept_positions.append(position[keep])
        got += np.bincount(first_rows[keep], minlength=n_local)
        users = np.flatnonzero(got < counts)
        if users.size == 0:
            break
        user_draws = 4 * (counts[users] - got[users]) + 8
    kept_rows = np.concatenate(kept_rows)
    kept_items = np.concatenate(kept_items)
    kept_positions = np.concatenate(kept_positions)
    if users.size:
        extra_rows, extra_items, extra_positions = _finish_short(
            user_factors, item_factors, popularity, counts, got, users, kept_rows, kept_items, generator
        )
        kept_rows = np.concatenate([kept_rows, extra_rows])
        kept_items = np.concatenate([kept_items, extra_items])
        kept_positions = np.concatenate([kept_positions, extra_positions])
    if not np.array_equal(np.bincount(kept_rows, minlength=n_local), counts):  # pragma: no cover - by construction
        raise DataError("internal error: a user got fewer distinct items than allocated")
    return kept_items[np.lexsort((kept_positions, kept_rows))]


def _first_occurrences(keys) -> np.ndarray:
    """Sorted indices of the first occurrence of each distinct key."""
    ordering = np.argsort(keys, kind="stable")
    ordered = keys[ordering]
    is_first = np.ones(ordered.size, dtype=bool)
    is_first[1:] = ordered[1:] != ordered[:-1]
    return np.sort(ordering[is_first])


def _mixture_draws(component_cdf, item_cdf, draw_rows, generator) -> np.ndarray:
    """One item per entry of ``draw_rows``: a latent dimension from the row's ``component_cdf``, then an item from
    that dimension's ``item_cdf``."""
    rank = component_cdf.shape[1]
    n_items = item_cdf.shape[1]
    flat_cdf = (component_cdf + np.arange(component_cdf.shape[0])[:, None]).ravel()
    component = np.searchsorted(flat_cdf, draw_rows + generator.random(draw_rows.size), side="right")
    component = np.minimum(component - draw_rows * rank, rank - 1)
    uniforms = generator.random(draw_rows.size)
    drawn = np.empty(draw_rows.size, np.int64)
    for r in range(rank):
        hits = component == r
        drawn[hits] = np.searchsorted(item_cdf[r], uniforms[hits], side="right")
    return np.minimum(drawn, n_items - 1, out=drawn)


def _finish_short(user_factors, item_factors, popularity, counts, got, short, kept_rows, kept_items, generator):
    """Continue the successive sample of users still short: Gumbel top-k on their dense rows, drawn items
    excluded."""
    n_items = item_factors.shape[0]
    rows_out, items_out, positions_out = [], [], []
    block = max(1, _DENSE_CELLS // n_items)
    in_short = np.isin(kept_rows, short)
    taken_rows, taken_items = kept_rows[in_short], kept_items[in_short]
    for begin in range(0, short.size, block):
        users = short[begin : begin + block]
        weights = (user_factors[users] @ item_factors.T) * popularity
        local = np.searchsorted(users, taken_rows)
        mine = (local < users.size) & (users[np.minimum(local, users.size - 1)] == taken_rows)
        weights[local[mine], taken_items[mine]] = 0.0
        rows, items, ranks = _gumbel_top(weights, counts[users] - got[users], generator)
        rows_out.append(users[rows])
        items_out.append(items)
        positions_out.append(got[users][rows] + ranks)
    return np.concatenate(rows_out), np.concatenate(items_out), np.concatenate(positions_out)


def _gumbel_top(weights, needed, generator):
    """Successive sampling without replacement of ``needed[j]`` columns of row j with probability ∝ weights
    (Gumbel top-k; rows with fewer positive weights give all of them). Returns (row, column, rank) arrays."""
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(generator.random(weights.shape)))
    keys[weights <= 0] = -np.inf
    width = min(int(needed.max()) if needed.size else 0, weights.shape[1])
    if width == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    if width < weights.shape[1]:
        top = np.argpartition(-keys, width - 1, axis=1)[:, :width]
    else:
        top = np.broadcast_to(np.arange(width), keys.shape)
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1, kind="stable"), axis=1)
    ranks = np.broadcast_to(np.arange(width), top.shape)
    rows = np.broadcast_to(np.arange(weights.shape[0])[:, None], top.shape)
    valid = (ranks < needed[:, None]) & np.isfinite(np.take_along_axis(keys, top, axis=1))
    return rows[valid], top[valid], ranks[valid]


def _sample_dense(user_factors, item_factors, counts, generator):
    """CSR parts (indptr, sorted indices, positions) of a successive sample with ``P(i | u) ∝ max(0, U V^T)``."""
    n_users = user_factors.shape[0]
    n_items = item_factors.shape[0]
    block = max(1, _DENSE_CELLS // n_items)
    row_counts = np.zeros(n_users, np.int64)
    index_parts, position_parts = [], []
    for start in range(0, n_users, block):
        weights = np.maximum(user_factors[start : start + block] @ item_factors.T, 0.0)
        rows, items, ranks = _gumbel_top(weights, counts[start : start + block], generator)
        ordering = np.lexsort((items, rows))
        row_counts[start : start + block] = np.bincount(rows, minlength=weights.shape[0])
        index_parts.append(items[ordering])
        position_parts.append(ranks[ordering].astype(np.float64))
    indptr = np.zeros(n_users + 1, np.int64)
    np.cumsum(row_counts, out=indptr[1:])
    return indptr, np.concatenate(index_parts), np.concatenate(position_parts)


def _chunk_starts(weights, budget) -> np.ndarray:
    """Boundaries [0, ..., n] of consecutive chunks whose summed ``weights`` stay within ``budget`` (at least one
    element each)."""
    cumulative = np.cumsum(weights)
    starts = [0]
    while starts[-1] < weights.size:
        base = cumulative[starts[-1] - 1] if starts[-1] else 0
        stop = int(np.searchsorted(cumulative, base + budget, side="right"))
        starts.append(max(stop, starts[-1] + 1))
    return np.asarray(starts)


def _check_positive_int(value, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}; got {value!r}")
