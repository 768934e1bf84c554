import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recollective.models import _ranking
from recollective.models._ranking import exclude_seen, top_k


def brute_force(block, k):
    """Sort each row by (-score, item index); excluded items (-inf) become -1."""
    kk = min(k, block.shape[1])
    items = np.array([np.lexsort((np.arange(row.size), -row))[:kk] for row in block]).reshape(block.shape[0], kk)
    values = np.take_along_axis(block, items, axis=1)
    return np.where(np.isneginf(values), -1, items), values


@st.composite
def tied_blocks(draw):
    n_rows = draw(st.integers(1, 12))
    n_items = draw(st.integers(1, 40))
    block = draw(arrays(np.float64, (n_rows, n_items), elements=st.sampled_from([-np.inf, 0.0, 1.0, 2.0, 2.5])))
    return block, draw(st.integers(1, 45))


def assert_top_k(block, k, expected_items, expected_values, torch_min_size):
    """top_k with the torch path taken from blocks of ``torch_min_size`` entries on gives the expected answer."""
    old = _ranking._TORCH_MIN_SIZE
    _ranking._TORCH_MIN_SIZE = torch_min_size
    try:
        items, values = top_k(block, k)
    finally:
        _ranking._TORCH_MIN_SIZE = old
    np.testing.assert_array_equal(items, expected_items)
    np.testing.assert_array_equal(values, expected_values)


@given(tied_blocks())
def test_top_k_equals_brute_force_with_ties_and_exclusions(case):
    block, k = case
    expected_items, expected_values = brute_force(block, k)
    for min_size in (1, 10**12):  # torch path, numpy path
        assert_top_k(block, k, expected_items, expected_values, torch_min_size=min_size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_top_k_on_continuous_scores_matches_a_full_sort(dtype):
    rng = np.random.default_rng(3)
    block = rng.standard_normal((300, 2000)).astype(dtype)
    items, values = top_k(block, 25)
    expected = np.argsort(-block, axis=1, kind="stable")[:, :25]
    np.testing.assert_array_equal(items, expected)
    assert values.dtype == dtype


def test_exclude_seen_sets_minus_inf_only_at_stored_entries():
    import scipy.sparse as sp

    block = np.zeros((2, 4))
    exclude_seen(block, sp.csr_array(np.array([[1, 0, 0, 2], [0, 0, 3, 0]])))
    np.testing.assert_array_equal(np.isneginf(block), [[True, False, False, True], [False, False, True, False]])


@pytest.mark.parametrize("n_items", [1000, 1013])
def test_group_maxima_path_is_exact_with_ties_at_every_level(n_items):
    """Wide blocks go through the group-maxima torch path: many tied levels, excluded items and a partial last
    group must still give the brute-force answer (lower index first among ties)."""
    rng = np.random.default_rng(7)
    block = rng.integers(0, 6, size=(64, n_items)).astype(np.float64)
    block[rng.random(block.shape) < 0.2] = -np.inf
    block[:8, :] = 1.0  # rows that are one big tie
    block[8:12, : n_items - 3] = -np.inf  # rows with only 3 eligible items (at the partial end)
    for k in (1, 10, 40):
        expected_items, expected_values = brute_force(block, k)
        assert_top_k(block, k, expected_items, expected_values, torch_min_size=1)


@st.composite
def sparse_scores(draw):
    """(scores, seen, k): sparse scores with stored zeros, negatives and ties, and a seen pattern."""
    n_rows = draw(st.integers(1, 10))
    n_items = draw(st.integers(1, 30))
    dense = draw(arrays(np.float64, (n_rows, n_items), elements=st.sampled_from([0.0, 0.0, 0.0, -1.0, 0.5, 1.0, 2.0])))
    stored = draw(arrays(np.bool_, (n_rows, n_items)))  # stored entries (zeros among them stay explicit zeros)
    seen = draw(arrays(np.bool_, (n_rows, n_items)))
    rows, cols = np.nonzero(stored | (dense != 0))
    import scipy.sparse as sp

    scores = sp.csr_array((dense[rows, cols], (rows, cols)), shape=dense.shape)
    return scores, sp.csr_array(seen.astype(np.float64)), draw(st.integers(1, 35))


@given(sparse_scores())
def test_top_k_sparse_equals_top_k_of_the_dense_block(case):
    from recollective.models._ranking import top_k_sparse

    scores, seen, k = case
    block = scores.toarray()
    exclude_seen(block, seen)
    expected_items, expected_values = brute_force(block, k)
    items, values = top_k_sparse(scores, k, seen)
    np.testing.assert_array_equal(items, expected_items)
    np.testing.assert_array_equal(values, expected_values)
    items, values = top_k_sparse(scores, k)  # nothing excluded
    np.testing.assert_array_equal(items, brute_force(scores.toarray(), k)[0])


@st.composite
def shared_scores(draw):
    """(item scores, seen, k): one score vector with ties and negatives, and a seen pattern (some rows see all)."""
    n_rows = draw(st.integers(1, 10))
    n_items = draw(st.integers(1, 30))
    scores = draw(arrays(np.float64, (n_items,), elements=st.sampled_from([0.0, -1.0, 0.5, 1.0, 2.0, 7.0])))
    seen = draw(arrays(np.bool_, (n_rows, n_items)))
    import scipy.sparse as sp

    return scores, sp.csr_array(seen.astype(np.float64)), draw(st.integers(1, 35))


@given(shared_scores())
def test_top_k_shared_equals_top_k_of_the_repeated_block(case):
    from recollective.models._ranking import top_k_shared

    scores, seen, k = case
    block = np.repeat(scores[None, :], seen.shape[0], axis=0)
    exclude_seen(block, seen)
    expected_items, expected_values = brute_force(block, k)
    items, values = top_k_shared(scores, k, seen)
    np.testing.assert_array_equal(items, expected_items)
    np.testing.assert_array_equal(values, expected_values)
    items, values = top_k_shared(scores, k)  # nothing excluded: one row, the global top k
    np.testing.assert_array_equal(items, brute_force(scores[None, :], k)[0])


def test_popularity_recommends_the_dense_ranking_in_small_chunks():
    """Popularity's recommend walks one ranking (top_k_shared); chunked by block_bytes, it equals top_k of the
    dense scores with the seen items excluded, for users who have seen almost everything too."""
    import scipy.sparse as sp

    from recollective.data import Interactions
    from recollective.models import make_model

    rng = np.random.default_rng(3)
    dense = (rng.random((40, 25)) < 0.3).astype(np.float64)
    dense[0, :24] = 1.0  # one unseen item left
    dense[1, :] = 1.0  # none left
    rows, cols = np.nonzero(dense)
    data = Interactions.from_arrays(rows, cols, np.ones(rows.size))
    model = make_model("popularity").fit(data)
    block = model.score(np.arange(data.n_users))
    exclude_seen(block, sp.csr_array(data.matrix))
    for k in (1, 5, 30):
        expected = brute_force(block, k)
        for block_bytes in (16, 1 << 20):
            items, values = model.recommend(np.arange(data.n_users), k, block_bytes=block_bytes)
            np.testing.assert_array_equal(items, expected[0])
            np.testing.assert_array_equal(values, expected[1])
        items, _ = model.recommend(np.arange(data.n_users), k, exclude_seen=False)
        np.testing.assert_array_equal(items, brute_force(model.score(np.arange(data.n_users)), k)[0])
