"""Explicit-to-implicit conversion and k-core filtering: hand-computed cases, invariants, goodbooks-10k."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pv
import pytest

from recollective.data import Interactions
from recollective.data._preprocess import k_core, sample_users, to_implicit
from recollective.errors import DataError, InvalidParameterError


def _random_interactions(n_users=60, n_items=40, density=0.08, seed=0, metadata=True):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    users, items = np.nonzero(mask)
    ratings = rng.integers(1, 6, users.size).astype(float)
    order = rng.permutation(users.size).astype(float)
    item_ids = np.arange(n_items) + 100
    meta = None
    if metadata:
        meta = {"title": np.array([f"Book {i}" for i in item_ids], dtype=object)}
    return Interactions.from_arrays(
        users + 1000, items + 100, ratings, order, item_metadata=meta, item_vocabulary_ids=item_ids
    )


def _degrees(interactions):
    csr = interactions.matrix
    return np.diff(csr.indptr), np.bincount(csr.indices, minlength=interactions.n_items)


def _naive_core(dense, k_user, k_item):
    """Remove one failing user or item at a time until none fails (the definition, slowly)."""
    users = set(range(dense.shape[0]))
    items = set(range(dense.shape[1]))
    changed = True
    while changed:
        changed = False
        for u in sorted(users):
            if sum(dense[u, i] != 0 for i in items) < k_user:
                users.discard(u)
                changed = True
                break
        for i in sorted(items):
            if sum(dense[u, i] != 0 for u in users) < k_item:
                items.discard(i)
                changed = True
                break
    return sorted(users), sorted(items)


# --------------------------------------------------------------------------------------------- to_implicit
def test_to_implicit_keeps_ratings_at_or_above_threshold_as_ones():
    data = Interactions.from_arrays(
        ["a", "a", "b", "b", "c"], [1, 2, 1, 3, 2], [5.0, 3.0, 4.0, 1.0, 2.0], order=[10, 11, 12, 13, 14]
    )
    implicit = to_implicit(data, 4.0)
    assert implicit.users == data.users and implicit.items == data.items
    assert implicit.n_interactions == 2
    np.testing.assert_array_equal(implicit.matrix.toarray(), [[1, 0, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(implicit.order.toarray(), [[10, 0, 0], [12, 0, 0], [0, 0, 0]])
    kept = to_implicit(data, 3.0, keep_values=True)
    np.testing.assert_array_equal(kept.matrix.toarray(), [[5, 3, 0], [4, 0, 0], [0, 0, 0]])
    assert not kept.matrix.data.flags.writeable
    assert data.n_interactions == 5  # the input is untouched


def test_to_implicit_rejects_a_non_number_threshold():
    data = _random_interactions()
    with pytest.raises(InvalidParameterError, match="threshold must be a number; got 'high'"):
        to_implicit(data, "high")
    with pytest.raises(InvalidParameterError, match="threshold must be finite"):
        to_implicit(data, float("nan"))


# -------------------------------------------------------------------------------------------------- k_core
def test_k_core_cascades_on_a_hand_example():
    # u3 has one interaction -> dropped (k_user=2); then item 30 keeps only u1 -> dropped (k_item=2);
    # then u1 has one interaction left -> dropped; u0, u2 with items 10, 20 remain.
    pairs = [("u0", 10), ("u0", 20), ("u1", 10), ("u1", 30), ("u2", 10), ("u2", 20), ("u3", 30)]
    data = Interactions.from_arrays([u for u, _ in pairs], [i for _, i in pairs])
    core = k_core(data, k_user=2, k_item=2)
    assert core.users.ids.tolist() == ["u0", "u2"]
    assert core.items.ids.tolist() == [10, 20]
    np.testing.assert_array_equal(core.matrix.toarray(), np.ones((2, 2)))


@pytest.mark.parametrize(("k_user", "k_item", "seed"), [(3, 2, 0), (4, 4, 1), (2, 5, 2), (1, 1, 3)])
def test_k_core_equals_the_naive_definition_and_meets_both_bounds(k_user, k_item, seed):
    data = _random_interactions(density=0.12, seed=seed)
    core = k_core(data, k_user=k_user, k_item=k_item)
    user_degree, item_degree = _degrees(core)
    assert user_degree.min() >= k_user and item_degree.min() >= k_item
    users, items = _naive_core(data.matrix.toarray(), k_user, k_item)
    assert core.users.ids.tolist() == data.users.ids[users].tolist()
    assert core.items.ids.tolist() == data.items.ids[items].tolist()
    np.testing.assert_array_equal(core.matrix.toarray(), data.matrix.toarray()[np.ix_(users, items)])
    np.testing.assert_array_equal(core.order.toarray(), data.order.toarray()[np.ix_(users, items)])
    assert core.item_metadata["title"].tolist() == [f"Book {i}" for i in core.items.ids]
    again = k_core(core, k_user=k_user, k_item=k_item)  # idempotent
    assert again.n_interactions == core.n_interactions and again.users == core.users


def test_k_core_zero_bounds_keep_everything_and_one_drops_empty_items():
    data = _random_interactions(n_items=200, density=0.01)
    assert k_core(data, 0, 0).n_interactions == data.n_interactions
    assert k_core(data, 0, 0).n_items == 200
    n_read = int((_degrees(data)[1] > 0).sum())
    assert n_read < 200
    assert k_core(data, 0, 1).n_items == n_read


def test_k_core_that_removes_everything_says_so():
    data = _random_interactions(n_users=10, n_items=10, density=0.2)
    with pytest.raises(DataError, match=r"k_user=50, k_item=1 leaves no interactions \(input: \d+ users, 10 items"):
        k_core(data, k_user=50, k_item=1)


@pytest.mark.parametrize("bad", [-1, 2.5, "3", True])
def test_k_core_rejects_bad_bounds(bad):
    with pytest.raises(InvalidParameterError, match="k_user must be an integer >= 0"):
        k_core(_random_interactions(), k_user=bad)


# ------------------------------------------------------------------------------------------------ real data
def test_goodbooks_implicit_and_core_counts(shared_data):
    table = pv.read_csv(shared_data / "goodbooks-10k" / "ratings_random.csv")
    ratings = table["rating"].to_numpy()
    data = Interactions.from_arrays(
        table["user_id"].to_numpy(), table["book_id"].to_numpy(), ratings, order=np.arange(len(ratings))
    )
    assert (data.n_users, data.n_items, data.n_interactions) == (2672, 9990, 298_176)
    implicit = to_implicit(data, 4.0)
    assert implicit.n_interactions == int(pc.sum(pc.greater_equal(table["rating"], 4)).as_py())
    core = k_core(implicit, k_user=10, k_item=10)
    user_degree, item_degree = _degrees(core)
    assert user_degree.min() >= 10 and item_degree.min() >= 10
    assert core.n_interactions < implicit.n_interactions


def test_sample_users_keeps_whole_histories_of_a_seeded_sample():
    rng = np.random.default_rng(0)
    users = rng.integers(0, 50, 600)
    items = rng.integers(0, 30, 600)
    data = Interactions.from_arrays(users, items, np.ones(600), duplicates="last")
    sample = sample_users(data, 20, rng=3)
    assert sample.n_users == 20 and sample.n_items == data.n_items
    again = sample_users(data, 20, rng=3)
    np.testing.assert_array_equal(sample.users.ids, again.users.ids)
    rows = data.users.numbers(sample.users.ids)
    assert sample.n_interactions == data.matrix[rows].nnz
    np.testing.assert_array_equal(sample.matrix.toarray(), data.matrix[rows].toarray())
    assert not np.array_equal(sample_users(data, 20, rng=4).users.ids, sample.users.ids)


@pytest.mark.parametrize("bad", [0, 51, 2.5, "ten"])
def test_sample_users_rejects_impossible_sizes(bad):
    data = Interactions.from_arrays([0, 1], [0, 1], [1.0, 1.0])
    with pytest.raises(InvalidParameterError, match="sample_users"):
        sample_users(data, bad)
