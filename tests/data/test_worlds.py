"""Worlds with known truth: the synthetic majority–minority world and worlds fitted to real data."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pyarrow.csv as pv
import pytest
import scipy.sparse as sp

from recollective.data import Interactions, Vocabulary
from recollective.data._worlds import (
    _sample_from_factors,
    fitted_world,
    majority_minority_world,
    truncated_svd,
)
from recollective.errors import DataError, InvalidParameterError


@pytest.fixture(scope="module")
def world():
    return majority_minority_world(600, 300, 9000, rng=3)


def _goodbooks(shared_data) -> Interactions:
    folder = shared_data / "goodbooks-10k"
    ratings = pv.read_csv(folder / "ratings_random.csv")
    books = pv.read_csv(folder / "books.csv", convert_options=pv.ConvertOptions(include_columns=["book_id", "authors"]))
    authors = np.array(books["authors"].to_pylist(), dtype=object)
    metadata = {"authors": authors, "primary_author": np.array([a.split(",")[0].strip() for a in authors], object)}
    return Interactions.from_arrays(
        ratings["user_id"].to_numpy(),
        ratings["book_id"].to_numpy(),
        ratings["rating"].to_numpy(),
        np.arange(len(ratings)),
        item_metadata=metadata,
        item_vocabulary_ids=books["book_id"].to_numpy(),
    )


# ------------------------------------------------------------------------------------------ synthetic world
def test_default_world_sizes_groups_and_block_diagonal_truth(world):
    data = world.interactions
    assert (data.n_users, data.n_items, data.n_interactions) == (600, 300, 9000)
    assert world.kind == "majority_minority" and world.rank == 6
    assert (world.user_group == 1).sum() == 120 and (world.item_group == 1).sum() == 60
    np.testing.assert_array_equal(world.user_group, np.repeat([0, 1], [480, 120]))
    truth = world.preferences()
    assert truth.shape == (600, 300) and truth.min() >= 0 and truth.max() <= 1
    cross = world.user_group[:, None] != world.item_group[None, :]
    assert np.all(truth[cross] == 0)  # r* = 0 across groups
    assert (truth[~cross] > 0).all()
    dense = data.matrix.toarray()
    assert dense[cross].sum() == 0  # nobody reads across groups
    assert np.diff(data.matrix.indptr).min() >= 5
    assert data.order.data.min() >= 0 and data.order.data.max() < 1000
    assert 0.05 < world.liked_share < 0.3
    assert world.as_dict()["n_minority_users"] == 120


def test_world_authors_never_span_groups_and_metadata_is_complete(world):
    meta = world.interactions.item_metadata
    assert set(meta) == {"title", "authors", "primary_author", "group"}
    assert meta["title"][7] == "Book 7"
    for author in set(meta["primary_author"]):
        groups = set(meta["group"][meta["primary_author"] == author])
        assert len(groups) == 1 and author.startswith(groups.pop().capitalize())
    n_authors = len(set(meta["primary_author"]))
    assert 300 / 4 * 0.7 < n_authors < 300 / 4 * 1.3  # books_per_author = 4 on average


def test_world_same_seed_same_world_other_seed_other_world():
    first = majority_minority_world(200, 100, 2000, rng=11)
    second = majority_minority_world(200, 100, 2000, rng=11)
    third = majority_minority_world(200, 100, 2000, rng=12)
    assert (first.interactions.matrix != second.interactions.matrix).nnz == 0
    np.testing.assert_array_equal(first.interactions.order.data, second.interactions.order.data)
    np.testing.assert_array_equal(first.user_factors, second.user_factors)
    assert (first.interactions.matrix != third.interactions.matrix).nnz > 0


def test_zipf_popularity_concentrates_interactions():
    def top_decile_share(exponent):
        data = majority_minority_world(1000, 500, 20_000, popularity_exponent=exponent, rng=5).interactions
        counts = np.sort(np.bincount(data.matrix.indices, minlength=500))[::-1]
        return counts[:50].sum() / counts.sum()

    flat, zipf = top_decile_share(0.0), top_decile_share(1.0)
    assert flat < 0.25 < 0.45 < zipf


def test_cross_affinity_and_minority_popularity_let_groups_mix():
    def majority_share_on_minority_items(minority_popularity):
        world = majority_minority_world(
            1000, 400, 20_000, cross_affinity=0.3, minority_popularity=minority_popularity, rng=2
        )
        cross = world.user_group[:, None] != world.item_group[None, :]
        assert world.preferences()[cross].min() > 0
        dense = world.interactions.matrix.toarray()[world.user_group == 0]
        return dense[:, world.item_group == 1].sum() / dense.sum()

    equal, suppressed = majority_share_on_minority_items(1.0), majority_share_on_minority_items(0.2)
    assert 0 < suppressed < equal / 2


def test_rating_world_has_stars_that_follow_the_truth():
    world = majority_minority_world(500, 200, 8000, values="rating", rating_noise=0.3, rng=4)
    data = world.interactions
    assert set(np.unique(data.matrix.data)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    rows = np.repeat(np.arange(data.n_users), np.diff(data.matrix.indptr))
    truth = np.einsum("ij,ij->i", world.user_factors[rows], world.item_factors[data.matrix.indices])
    assert np.corrcoef(truth, data.matrix.data)[0, 1] > 0.8


def test_sampler_is_an_exact_successive_sample():
    # 6 items, 2 per user, identical users: compare inclusion frequencies with the exact successive-sampling law
    weights = np.array([8.0, 4.0, 2.0, 1.0, 1.0, 0.5])
    n_users = 40_000
    user_factors = np.ones((n_users, 1))
    item_factors = weights[:, None] / weights.max()
    popularity = np.ones(6)
    data = _sample_from_factors(
        user_factors,
        item_factors,
        popularity,
        np.full(n_users, 2),
        "implicit",
        0.0,
        Vocabulary(np.arange(n_users), "user"),
        Vocabulary(np.arange(6), "item"),
        None,
        np.random.default_rng(0),
    )
    p = weights / weights.sum()
    exact = np.zeros(6)
    for i, j in itertools.permutations(range(6), 2):
        probability = p[i] * p[j] / (1 - p[i])
        exact[i] += probability
        exact[j] += probability
    observed = np.bincount(data.matrix.indices, minlength=6) / n_users
    np.testing.assert_allclose(observed, exact, atol=0.01)


def test_sampler_users_short_after_draws_finish_exactly():
    # one dominant item: with-replacement draws rarely reach 5 of 6 items, so the dense fallback runs
    weights = np.array([1000.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    data = _sample_from_factors(
        np.ones((3000, 1)),
        weights[:, None],
        np.ones(6),
        np.full(3000, 5),
        "implicit",
        0.0,
        Vocabulary(np.arange(3000), "user"),
        Vocabulary(np.arange(6), "item"),
        None,
        np.random.default_rng(1),
    )
    assert (np.diff(data.matrix.indptr) == 5).all()
    counts = np.bincount(data.matrix.indices, minlength=6)
    assert counts[0] == 3000  # the dominant item is (almost surely) always taken
    np.testing.assert_allclose(counts[1:] / 3000, 4 / 5, atol=0.04)  # symmetric among the others


def test_audience_and_counts_match_the_dense_truth(world):
    truth = world.preferences()
    targets = np.flatnonzero(world.item_group == 1)[:5]
    np.testing.assert_array_equal(world.audience(targets), np.flatnonzero((truth[:, targets] >= 0.5).any(axis=1)))
    np.testing.assert_array_equal(world.audience(targets, 0.3), np.flatnonzero((truth[:, targets] >= 0.3).any(1)))
    np.testing.assert_array_equal(world.audience_counts(), (truth >= 0.5).sum(axis=0))
    assert set(world.audience(targets)) <= set(np.flatnonzero(world.user_group == 1))
    assert world.audience([]).size == 0
    np.testing.assert_allclose(world.preference_rows([3, 5]), truth[[3, 5]])


def test_preferences_refuses_to_materialize_a_large_truth(world):
    with pytest.raises(DataError, match=r"R\* has 600 x 300 = 180000 cells, more than max_cells=1000"):
        world.preferences(max_cells=1000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_users": 1}, "n_users must be an integer >= 2; got 1"),
        ({"minority_share": 1.0}, "minority_share must be strictly between 0 and 1"),
        ({"cross_affinity": 1.0}, r"cross_affinity must be in \[0, 1\)"),
        ({"values": "stars"}, "values must be 'implicit' or 'rating'"),
        ({"n_interactions": 10**6}, "n_interactions=1000000 is more than the users can hold"),
        ({"popularity_exponent": -1}, "popularity_exponent must be a finite number >= 0"),
    ],
)
def test_world_parameters_are_checked(kwargs, message):
    arguments = {"n_users": 100, "n_items": 50, "n_interactions": 500, **kwargs}
    with pytest.raises(InvalidParameterError, match=message):
        majority_minority_world(**arguments)


def test_large_factor_world_is_sampled_in_bounded_memory():
    # 200k users x 20k items: a dense R* would take 32 GB; the sampler stays within a few hundred MB
    tracemalloc.start()
    try:
        world = majority_minority_world(200_000, 20_000, 2_000_000, rng=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    data = world.interactions
    assert (data.n_users, data.n_items, data.n_interactions) == (200_000, 20_000, 2_000_000)
    assert peak < 400 * 2**20
    assert data.matrix.has_sorted_indices
    sample = data.matrix[:2000].toarray()
    assert sample[np.ix_(world.user_group[:2000] == 0, world.item_group == 1)].sum() == 0


# ----------------------------------------------------------------------------------------- fitted worlds
def test_truncated_svd_matches_the_dense_svd():
    matrix = np.random.default_rng(0).random((40, 25))
    u, s, vt = truncated_svd(matrix, 5, rng=0)
    np.testing.assert_allclose(s, np.linalg.svd(matrix, compute_uv=False)[:5], rtol=1e-10)
    np.testing.assert_allclose(u.T @ u, np.eye(5), atol=1e-8)
    best = np.linalg.svd(matrix)
    np.testing.assert_allclose((u * s) @ vt, (best[0][:, :5] * best[1][:5]) @ best[2][:5], atol=1e-8)
    assert (u[np.abs(u).argmax(axis=0), range(5)] > 0).all()


def test_matrices_too_large_for_propacks_bases_get_the_same_triplets_from_arpack(monkeypatch):
    """Above LANCZOS_BASIS_BYTES (at 50M interactions PROPACK asked for 25 GB in one array) truncated_svd takes
    ARPACK's restarted Lanczos: the same singular values and rank-20 reconstruction to rounding."""
    from recollective.data import _worlds

    rng = np.random.default_rng(1)
    mask = rng.random((3000, 2000)) < 0.02
    matrix = sp.csr_array(((rng.random((3000, 40)) * np.exp(-np.arange(40) / 6)) @ rng.random((40, 2000))) * mask)
    assert _worlds.lanczos_bases_fit(matrix.shape, 20)
    u, s, vt = truncated_svd(matrix, 20, rng=0)
    monkeypatch.setattr(_worlds, "LANCZOS_BASIS_BYTES", 8 * 5001 * 10 * 20 - 1)
    assert not _worlds.lanczos_bases_fit(matrix.shape, 20)
    other_u, other_s, other_vt = truncated_svd(matrix, 20, rng=0)
    np.testing.assert_allclose(other_s, s, rtol=1e-12)
    np.testing.assert_allclose((other_u * other_s) @ other_vt, (u * s) @ vt, atol=1e-7)
    np.testing.assert_allclose(other_u.T @ other_u, np.eye(20), atol=1e-10)
    assert (other_u[np.abs(other_u).argmax(axis=0), range(20)] > 0).all()  # the same sign convention


def test_fitted_world_recovers_a_planted_low_rank_world():
    source = majority_minority_world(800, 300, 16_000, rng=8)
    fitted = fitted_world(source.interactions, rank=6, rng=0)
    assert fitted.kind == "fitted" and fitted.clip_negative
    assert fitted.interactions.users == source.interactions.users
    assert fitted.interactions.item_metadata is source.interactions.item_metadata
    truth = fitted.preferences()
    assert truth.min() == 0
    cross = source.user_group[:, None] != source.item_group[None, :]
    assert truth[cross].mean() < 0.05 * truth[~cross].mean()  # the block structure survives the fit
    np.testing.assert_array_equal(
        np.diff(fitted.interactions.matrix.indptr), np.diff(source.interactions.matrix.indptr)
    )
    assert fitted.liked_share == pytest.approx(source.interactions.density, rel=0.05)
    again = fitted_world(source.interactions, rank=6, rng=0)
    assert (again.interactions.matrix != fitted.interactions.matrix).nnz == 0


def test_fitted_world_rank_is_checked():
    data = majority_minority_world(50, 20, 300, rng=0).interactions
    with pytest.raises(InvalidParameterError, match="rank must be at most min"):
        fitted_world(data, rank=20)


def test_goodbooks_fitted_world(shared_data):
    data = _goodbooks(shared_data)
    world = fitted_world(data, rank=20, rng=0)
    singular_values = np.array(world.params["singular_values"])
    assert (np.diff(singular_values) <= 0).all() and singular_values[0] > 100
    sampled = world.interactions
    assert sampled.items == data.items and sampled.users == data.users
    assert sampled.n_interactions == data.n_interactions  # every user keeps their count
    assert world.liked_share == pytest.approx(data.density, rel=0.05)
    # the model ranks what real users read above random cells
    rows = np.repeat(np.arange(data.n_users), np.diff(data.matrix.indptr))
    observed = np.einsum("ij,ij->i", world.user_factors[rows], world.item_factors[data.matrix.indices])
    assert np.mean(observed >= world.like_threshold) > 10 * world.liked_share  # measured: 0.37 vs 0.011
    overlap = sampled.matrix.multiply(data.matrix).nnz / data.n_interactions
    assert 0.1 < overlap < 0.5  # resampled, not copied (measured: 0.145)
