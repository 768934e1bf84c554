"""Coverage, ARP, APLT, Gini and entropy of exposure: hand-computed cases and independent formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from recollective.errors import DataError, InvalidParameterError
from recollective.metrics import (
    average_popularity_per_user,
    exposure_counts,
    exposure_entropy,
    exposure_gini,
    item_coverage,
    item_popularity,
    long_tail_items,
    long_tail_share_per_user,
    mean_over_users,
)

# Six items with training popularity 10, 5, 3, 1, 1, 0 (20 interactions).
POPULARITY = np.array([10, 5, 3, 1, 1, 0])
LISTS = np.array([[0, 1, 3], [0, 2, -1], [4, 5, 0], [-1, -1, -1]])


def train_matrix() -> sp.csr_array:
    rows = np.concatenate([np.arange(count) for count in POPULARITY])
    cols = np.repeat(np.arange(POPULARITY.size), POPULARITY)
    return sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(12, POPULARITY.size))


def test_item_popularity_counts_stored_entries():
    assert_array_equal(item_popularity(train_matrix()), POPULARITY)


def test_exposure_and_coverage():
    assert_array_equal(exposure_counts(LISTS, 6), [3, 1, 1, 1, 1, 1])
    assert item_coverage(LISTS, 6) == 1.0
    assert item_coverage(LISTS, 6, k=1) == pytest.approx(2 / 6)  # items 0 and 4
    assert item_coverage(LISTS, 10) == pytest.approx(6 / 10)


def test_average_recommendation_popularity():
    per_user = average_popularity_per_user(LISTS, POPULARITY)
    assert_allclose(per_user, [(10 + 5 + 1) / 3, (10 + 3) / 2, (1 + 0 + 10) / 3, math.nan])
    assert mean_over_users(per_user) == pytest.approx((16 / 3 + 13 / 2 + 11 / 3) / 3)
    assert_allclose(average_popularity_per_user(LISTS, POPULARITY, k=1), [10, 10, 1, math.nan])


def test_long_tail_by_share_of_interactions_and_of_items():
    # 20% of 20 interactions = 4: item 0 alone (10) holds it.
    assert_array_equal(long_tail_items(POPULARITY), [False, True, True, True, True, True])
    # 60% = 12: items 0 and 1 (15) are the shortest prefix reaching it.
    assert_array_equal(long_tail_items(POPULARITY, 0.6), [False, False, True, True, True, True])
    # Exactly 75% = 15 is reached by items 0 and 1.
    assert_array_equal(long_tail_items(POPULARITY, 0.75), [False, False, True, True, True, True])
    # By items: ceil(0.5 * 6) = 3 head items; ties (items 3 and 4) are broken by the lower index.
    assert_array_equal(long_tail_items(POPULARITY, 0.5, by="items"), [False, False, False, True, True, True])
    assert_array_equal(long_tail_items([1, 1, 1, 1], 0.5, by="items"), [False, False, True, True])
    # Items without interactions are always in the tail; no interactions at all: everything is tail.
    assert_array_equal(long_tail_items([0, 2, 0], 0.99, by="items"), [True, False, True])
    assert long_tail_items([0, 0]).all()


def test_long_tail_share_per_user():
    tail = long_tail_items(POPULARITY)
    assert_allclose(long_tail_share_per_user(LISTS, tail), [2 / 3, 1 / 2, 2 / 3, math.nan])


def test_gini_and_entropy_of_exposure():
    uniform = np.array([[0, 1], [2, 3]])
    assert exposure_gini(uniform, 4) == pytest.approx(0.0)
    assert exposure_entropy(uniform, 4) == pytest.approx(math.log(4))
    assert exposure_entropy(uniform, 4, normalized=True) == pytest.approx(1.0)
    one_item = np.array([[2], [2], [2]])
    assert exposure_gini(one_item, 5) == pytest.approx(1 - 1 / 5)
    assert exposure_entropy(one_item, 5) == 0.0
    # Half the catalogue unexposed: Gini of counts (1, 1, 0, 0) is 1/2; entropy ln 2, normalised by ln 4.
    assert exposure_gini(np.array([[0], [1]]), 4) == pytest.approx(0.5)
    assert exposure_entropy(np.array([[0], [1]]), 4, normalized=True) == pytest.approx(0.5)
    empty = np.full((2, 2), -1)
    assert math.isnan(exposure_gini(empty, 3)) and math.isnan(exposure_entropy(empty, 3))
    assert math.isnan(exposure_entropy(np.array([[0]]), 1, normalized=True))


@st.composite
def catalogue_lists(draw):
    n_items = draw(st.integers(1, 8))
    width = draw(st.integers(1, n_items))
    rows = draw(st.lists(st.permutations(range(n_items)), min_size=1, max_size=6))
    lists = np.array([row[:width] for row in rows], dtype=np.int64)
    return lists, n_items


@given(catalogue_lists())
def test_gini_and_entropy_equal_independent_formulas(case):
    from scipy.stats import entropy

    lists, n_items = case
    counts = np.bincount(lists.ravel(), minlength=n_items).astype(float)
    mean_abs_difference = np.abs(counts[:, None] - counts[None, :]).sum()
    assert exposure_gini(lists, n_items) == pytest.approx(mean_abs_difference / (2 * n_items * counts.sum()), abs=1e-12)
    assert exposure_entropy(lists, n_items) == pytest.approx(entropy(counts), abs=1e-12)
    assert 0 <= exposure_gini(lists, n_items) <= 1 - 1 / n_items + 1e-12


def test_bad_input_raises():
    with pytest.raises(InvalidParameterError, match="n_items must be an integer >= 1"):
        item_coverage(LISTS, 0)
    with pytest.raises(DataError, match="out of range: the catalogue has 5 items"):
        item_coverage(LISTS, 5)
    with pytest.raises(DataError, match="popularity must be finite and non-negative"):
        average_popularity_per_user(LISTS, -POPULARITY)
    with pytest.raises(DataError, match="out of range"):
        average_popularity_per_user(LISTS, POPULARITY[:4])
    with pytest.raises(InvalidParameterError, match="head_share must be strictly between 0 and 1; got 1"):
        long_tail_items(POPULARITY, 1)
    with pytest.raises(InvalidParameterError, match="by must be one of"):
        long_tail_items(POPULARITY, by="users")
    with pytest.raises(DataError, match="tail must be a 1-D boolean mask"):
        long_tail_share_per_user(LISTS, POPULARITY)
    with pytest.raises(DataError, match="scipy sparse"):
        item_popularity(np.ones((2, 2)))
