"""Exact top-k of factor models over a norm-ordered prefix of the items (``_factor_ranking``)."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from models.contract import with_changes
from recollective.data import Interactions
from recollective.models import ALS, BPR, PureSVD, _factor_ranking
from recollective.models._factor_ranking import NormOrder, prunes, top_k_factors
from recollective.models._ranking import exclude_seen, top_k


def _identity(block):
    return block.copy()


def _float32(block):
    return block.astype(np.float32)


def _plain_cutoff(kth):
    return np.where(kth > 0, kth, np.nan)


def _float32_cutoff(kth):
    return np.nextafter(np.asarray(kth, np.float32), np.float32(-np.inf)).astype(np.float64)


@st.composite
def factor_cases(draw):
    """Small integer factors (every product and sum exact, so ties are exact whatever BLAS's order), item columns
    repeated for ties, a seen pattern, k, and the first prefix's length."""
    n_rows = draw(st.integers(1, 8))
    rank = draw(st.integers(1, 4))
    n_items = draw(st.integers(1, 40))
    values = st.integers(-3, 3).map(float)
    users = draw(arrays(np.float64, (n_rows, rank), elements=values))
    items = draw(arrays(np.float64, (rank, n_items), elements=values))
    if n_items > 2 and draw(st.booleans()):  # duplicated items: equal norms and equal scores
        items[:, n_items // 2 :] = items[:, : n_items - n_items // 2]
    seen = sp.csr_array(draw(arrays(np.bool_, (n_rows, n_items))).astype(np.float64))
    return users, items, seen, draw(st.integers(1, 12)), draw(st.integers(1, 16)), draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(factor_cases())
def test_decided_rows_equal_the_dense_ranking(case):
    users, item_matrix, seen, k, first, rounded = case
    finish, cutoff, dtype = (_float32, _float32_cutoff, np.float32) if rounded else (_identity, _plain_cutoff,
                                                                                     np.float64)
    index = NormOrder(item_matrix)
    items, values, undecided = top_k_factors(users, index, k, seen, finish, cutoff, dtype, first=first,
                                             max_share=1.0, block_bytes=64)
    block = finish(users @ item_matrix)
    exclude_seen(block, seen)
    expected_items, expected_values = top_k(block, k)
    decided = ~undecided
    np.testing.assert_array_equal(items[decided], expected_items[decided])
    np.testing.assert_array_equal(values[decided], expected_values[decided])
    assert np.all(items[undecided] == -1)


def test_the_prefix_stays_short_when_item_norms_fall_off():
    """Item norms falling off like popularity: the top 10 of 200 users needs far fewer than the 50,000 items, and
    the answer is the dense one."""
    rng = np.random.default_rng(0)
    n_items, rank = 50_000, 16
    item_matrix = rng.standard_normal((rank, n_items)) / np.sqrt(1.0 + np.arange(n_items))  # Zipf-like norms
    item_matrix = item_matrix[:, rng.permutation(n_items)]
    users = rng.standard_normal((200, rank))
    seen = sp.random_array((200, n_items), density=0.001, rng=1, format="csr")
    index = NormOrder(item_matrix)
    items, values, undecided = top_k_factors(users, index, 10, seen, _identity, _plain_cutoff, first=256)
    block = users @ item_matrix
    exclude_seen(block, seen)
    expected_items, _ = top_k(block, 10)
    assert not undecided.any()
    np.testing.assert_array_equal(items, expected_items)
    np.testing.assert_allclose(values, np.take_along_axis(block, expected_items, axis=1), rtol=1e-12)
    assert index._head.shape[1] <= n_items // 8  # the prefix scored: at most an eighth of the items


def test_rows_without_a_positive_cutoff_are_left_to_the_dense_path():
    item_matrix = np.array([[1.0, 2.0, 3.0, 4.0]])
    users = np.array([[0.0], [-1.0], [1.0]])  # every score 0; every score negative; positive scores
    items, _, undecided = top_k_factors(users, NormOrder(item_matrix), 2, None, _identity, _plain_cutoff, first=1,
                                        max_share=1.0)
    np.testing.assert_array_equal(undecided, [True, True, False])
    np.testing.assert_array_equal(items[2], [3, 2])


def test_prunes_only_catalogues_larger_than_the_first_prefix_over_its_share():
    assert not prunes(10_000, 10)  # goodbooks-10k: 2,048 > 1,250 items, so the dense path ranks
    assert prunes(16_384, 10)
    assert not prunes(100_000, 10_000)


def _tail_heavy_interactions(n_users=120, n_items=400, seed=0):
    """Item popularity falling off with the index (as real catalogues), one user who has seen every item."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / (1.0 + np.arange(n_items))
    rows, cols = [], []
    for user in range(n_users):
        picked = rng.choice(n_items, size=rng.integers(3, 25), replace=False, p=weights / weights.sum())
        rows += [user] * picked.size
        cols += picked.tolist()
    rows += [n_users] * n_items
    cols += list(range(n_items))
    return Interactions.from_arrays(np.array(rows), np.array(cols), rng.integers(1, 6, len(rows)).astype(float))


@pytest.mark.parametrize("model", [ALS(factors=8, iterations=5, rng=0), BPR(factors=8, iterations=5, rng=0),
                                   PureSVD(n_factors=12, rng=0)], ids=["als", "bpr", "puresvd"])
def test_recommend_through_the_prefix_equals_the_dense_path(model, monkeypatch):
    """With the prefix path forced on a small catalogue, every model's recommend gives the dense lists (and
    scores to rounding), for every user, the one who has seen every item included, after a fit and after a
    refit (which must not rank with the fit's item order)."""
    data = _tail_heavy_interactions()
    changed, delta = with_changes(data, share=0.02, per_user=2)  # small: PureSVD refits by Rayleigh-Ritz
    model.fit(data)
    users = np.arange(data.n_users)
    for state in ("fit", "refit"):
        if state == "refit":
            model.refit(changed, delta)
        for k in (1, 10):
            expected_items = np.empty((users.size, k), np.int64)
            expected_scores = np.empty((users.size, k), model.score_dtype)
            model._recommend_dense(users, k, True, 1 << 20, expected_items, expected_scores)
            monkeypatch.setattr(_factor_ranking, "FIRST_PREFIX", 8)
            monkeypatch.setattr(_factor_ranking, "MAX_PREFIX_SHARE", 0.5)
            items, scores = model.recommend(users, k)
            monkeypatch.undo()
            assert model._norm_order_.source is model._factor_items()  # the prefix path ran, on this state
            np.testing.assert_array_equal(items, expected_items)
            np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)
            assert np.all(items[-1] == -1)  # nothing left for the user who has seen every item
