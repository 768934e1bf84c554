"""Per-user accuracy metrics: hand-computed cases, a loop reference, scikit-learn's NDCG, properties, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import example, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from recollective.errors import DataError, InvalidParameterError
from recollective.metrics import (
    RANKING_METRICS,
    average_precision_at_k,
    hit_rate_at_k,
    mean_over_users,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics_per_user,
    recall_at_k,
    reciprocal_rank_at_k,
)

# Three users over four items: user 0 hits at ranks 1 and 3, user 1 has no truth, user 2 hits at ranks 2 and 3.
LISTS = np.array([[3, 1, 0], [2, -1, -1], [0, 1, 2]])
TRUTH = sp.csr_array(np.array([[1, 0, 0, 1], [0, 0, 0, 0], [0, 1, 1, 0]], dtype=float))
LOG3, LOG4 = math.log2(3), math.log2(4)


def test_hand_computed_values():
    nan = math.nan
    assert_allclose(precision_at_k(LISTS, TRUTH), [2 / 3, nan, 2 / 3])
    assert_allclose(recall_at_k(LISTS, TRUTH), [1.0, nan, 1.0])
    assert_allclose(
        ndcg_at_k(LISTS, TRUTH), [(1 + 1 / LOG4) / (1 + 1 / LOG3), nan, (1 / LOG3 + 1 / LOG4) / (1 + 1 / LOG3)]
    )
    assert_allclose(hit_rate_at_k(LISTS, TRUTH), [1.0, nan, 1.0])
    assert_allclose(reciprocal_rank_at_k(LISTS, TRUTH), [1.0, nan, 0.5])
    assert_allclose(average_precision_at_k(LISTS, TRUTH), [(1 + 2 / 3) / 2, nan, (1 / 2 + 2 / 3) / 2])
    # At k = 1: user 0 hits at rank 1, user 2 misses.
    assert_allclose(precision_at_k(LISTS, TRUTH, 1), [1.0, nan, 0.0])
    assert_allclose(recall_at_k(LISTS, TRUTH, 1), [0.5, nan, 0.0])
    assert_allclose(ndcg_at_k(LISTS, TRUTH, 1), [1.0, nan, 0.0])
    assert_allclose(reciprocal_rank_at_k(LISTS, TRUTH, 1), [1.0, nan, 0.0])
    assert_allclose(precision_at_k(LISTS, TRUTH, 1, denominator="min"), [1.0, nan, 0.0])


def test_recall_divides_by_all_relevant_and_precision_min_by_the_cap():
    # One user with 4 relevant items, 2 of them in a list of 3: recall 2/4 (not 2/min(3, 4)).
    truth = sp.csr_array(np.array([[1, 1, 1, 1, 0, 0]], dtype=float))
    lists = np.array([[0, 5, 2]])
    assert_allclose(recall_at_k(lists, truth), [0.5])
    assert_allclose(precision_at_k(lists, truth), [2 / 3])
    # A user with 1 relevant item retrieved: precision@3 is 1/3, implicit's capped precision is 1.
    single = sp.csr_array(np.array([[0, 0, 1, 0, 0, 0]], dtype=float))
    assert_allclose(precision_at_k(lists, single), [1 / 3])
    assert_allclose(precision_at_k(lists, single, denominator="min"), [1.0])
    assert_allclose(ndcg_at_k(np.array([[4, 2, 0]]), single), [1 / LOG3])  # ideal DCG over min(k, 1) = 1 rank


def test_threshold_keeps_only_high_values_and_explicit_zeros_count_without_it():
    truth = sp.csr_array(np.array([[5.0, 2.0, 4.0, 0.0]]))
    truth_with_zero = sp.csr_array((np.array([0.0]), (np.array([0]), np.array([3]))), shape=(1, 4))
    lists = np.array([[1, 2, 3]])
    assert_allclose(recall_at_k(lists, truth), [2 / 3])
    assert_allclose(recall_at_k(lists, truth, relevance_threshold=4), [1 / 2])
    assert_allclose(recall_at_k(lists, truth_with_zero), [1.0])


def test_duplicate_truth_entries_are_merged_and_interactions_are_accepted():
    from recollective.data import Interactions

    coo = sp.coo_array((np.ones(3), (np.array([0, 0, 0]), np.array([1, 1, 2]))), shape=(1, 4))
    assert_allclose(recall_at_k(np.array([[1, 0]]), coo), [0.5])
    data = Interactions.from_arrays(np.array(["u", "u", "v"]), np.array(["a", "b", "a"]))
    assert_allclose(recall_at_k(np.array([[1], [0]]), data), [0.5, 1.0])


def test_ranking_metrics_per_user_matches_the_single_metrics():
    result = ranking_metrics_per_user(LISTS, TRUTH, 2)
    assert set(result) == {*RANKING_METRICS, "n_relevant"}
    assert_array_equal(result["n_relevant"], [2, 0, 2])
    for name, function in [
        ("precision", precision_at_k),
        ("recall", recall_at_k),
        ("ndcg", ndcg_at_k),
        ("hit_rate", hit_rate_at_k),
        ("reciprocal_rank", reciprocal_rank_at_k),
        ("average_precision", average_precision_at_k),
    ]:
        assert_allclose(result[name], function(LISTS, TRUTH, 2), equal_nan=True)


def test_empty_truth_gives_nan_and_the_mean_skips_it():
    values = ndcg_at_k(LISTS, TRUTH)
    assert math.isnan(values[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mean_over_users(values) == pytest.approx((values[0] + values[2]) / 2, rel=1e-12)


def test_no_user_with_truth_gives_nan_per_user():
    empty = sp.csr_array((2, 4))
    for function in (precision_at_k, recall_at_k, ndcg_at_k, hit_rate_at_k, reciprocal_rank_at_k):
        assert np.isnan(function(np.array([[0, 1], [2, 3]]), empty)).all()


# ------------------------------------------------------------------------------------------------ references
def reference(lists: np.ndarray, relevant: np.ndarray, k: int) -> dict:
    """Every metric by plain loops over users and ranks (independent of the vectorised code)."""
    out = {name: [] for name in RANKING_METRICS}
    for row, truth_row in zip(lists, relevant, strict=True):
        liked = set(np.flatnonzero(truth_row).tolist())
        if not liked:
            for name in out:
                out[name].append(math.nan)
            continue
        hits = [int(item) in liked for item in row[:k]]
        first = next((rank for rank, hit in enumerate(hits, start=1) if hit), None)
        dcg = sum(1 / math.log2(rank + 1) for rank, hit in enumerate(hits, start=1) if hit)
        idcg = sum(1 / math.log2(rank + 1) for rank in range(1, min(k, len(liked)) + 1))
        running, ap = 0, 0.0
        for rank, hit in enumerate(hits, start=1):
            if hit:
                running += 1
                ap += running / rank
        out["precision"].append(sum(hits) / k)
        out["recall"].append(sum(hits) / len(liked))
        out["ndcg"].append(dcg / idcg)
        out["hit_rate"].append(float(any(hits)))
        out["reciprocal_rank"].append(0.0 if first is None else 1 / first)
        out["average_precision"].append(ap / min(k, len(liked)))
    return {name: np.array(values) for name, values in out.items()}


@st.composite
def lists_and_truth(draw, padding: bool = True):
    """(lists (n_users, width) with -1 padding at the end, dense 0/1 truth (n_users, n_items))."""
    n_items = draw(st.integers(1, 9))
    n_users = draw(st.integers(1, 6))
    width = draw(st.integers(1, n_items))
    lists = np.full((n_users, width), -1, dtype=np.int64)
    for user in range(n_users):
        length = draw(st.integers(0 if padding else width, width))
        lists[user, :length] = draw(st.permutations(range(n_items)))[:length]
    truth = np.array(
        draw(st.lists(st.lists(st.booleans(), min_size=n_items, max_size=n_items), min_size=n_users, max_size=n_users)),
        dtype=float,
    )
    return lists, truth


@given(lists_and_truth(), st.integers(1, 9))
@example((LISTS, TRUTH.toarray()), 3).via("the hand-computed case")
def test_metrics_equal_the_loop_reference(case, k):
    lists, truth = case
    k = min(k, lists.shape[1])
    ours = ranking_metrics_per_user(lists, sp.csr_array(truth), k)
    expected = reference(lists, truth, k)
    for name in RANKING_METRICS:
        assert_allclose(ours[name], expected[name], rtol=1e-12, atol=1e-15, equal_nan=True, err_msg=name)


@given(lists_and_truth())
def test_metric_properties(case):
    lists, truth = case
    matrix = sp.csr_array(truth)
    n_relevant = truth.sum(axis=1)
    defined = n_relevant > 0
    previous_recall = np.zeros(lists.shape[0])
    for k in range(1, lists.shape[1] + 1):
        result = ranking_metrics_per_user(lists, matrix, k)
        for name in RANKING_METRICS:
            values = result[name]
            assert_array_equal(np.isnan(values), ~defined)
            assert np.all((values[defined] >= 0) & (values[defined] <= 1 + 1e-12)), name
        # precision * k and recall * n_relevant both count the hits.
        assert_allclose((result["precision"] * k)[defined], (result["recall"] * n_relevant)[defined], atol=1e-12)
        assert np.all(result["reciprocal_rank"][defined] <= result["hit_rate"][defined])
        assert_array_equal(result["ndcg"][defined] > 0, result["hit_rate"][defined] > 0)
        assert np.all(result["recall"][defined] >= previous_recall[defined] - 1e-12)  # recall is monotone in k
        previous_recall = result["recall"]


@given(st.integers(1, 8), st.integers(1, 8), st.integers(0, 4), st.data())
def test_ndcg_is_one_when_the_relevant_items_lead_the_list(n_relevant, k, extra, data):
    n_items = n_relevant + k + extra
    order = np.array(data.draw(st.permutations(range(n_items))))
    relevant_items, others = order[:n_relevant], order[n_relevant:]
    lists = np.concatenate([relevant_items, others])[:k].reshape(1, -1)
    truth = np.zeros((1, n_items))
    truth[0, relevant_items] = 1
    assert ndcg_at_k(lists, sp.csr_array(truth))[0] == pytest.approx(1.0, rel=1e-12)
    assert precision_at_k(lists, sp.csr_array(truth), denominator="min")[0] == pytest.approx(1.0)


@given(lists_and_truth(padding=False), st.data())
def test_ndcg_equals_scikit_learn(case, data):
    from sklearn.metrics import ndcg_score

    lists, truth = case
    n_users, n_items = truth.shape
    k = data.draw(st.integers(1, lists.shape[1]))
    # Distinct scores whose ranking starts with each list: listed items on top in list order, the rest below.
    scores = np.empty_like(truth)
    for user in range(n_users):
        rest = np.setdiff1d(np.arange(n_items), lists[user])
        scores[user, lists[user]] = 2 * n_items - np.arange(lists.shape[1])
        scores[user, rest] = -1.0 - np.array(data.draw(st.permutations(range(rest.size))), dtype=float)
    ours = ndcg_at_k(lists, sp.csr_array(truth), k)
    defined = truth.sum(axis=1) > 0
    for user in np.flatnonzero(defined):
        expected = ndcg_score(truth[[user]], scores[[user]], k=k) if n_items > 1 else 1.0
        assert ours[user] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    if defined.sum() and n_items > 1:
        assert mean_over_users(ours) == pytest.approx(ndcg_score(truth[defined], scores[defined], k=k), rel=1e-12)


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("lists", "truth", "k", "error", "match"),
    [
        (LISTS, TRUTH, 0, InvalidParameterError, "k must be an integer >= 1; got 0"),
        (LISTS, TRUTH, True, InvalidParameterError, "k must be an integer"),
        (LISTS, TRUTH, 2.0, InvalidParameterError, "k must be an integer"),
        (LISTS, TRUTH, 4, InvalidParameterError, "k=4 but the lists hold only 3 items"),
        (LISTS[:2], TRUTH, None, DataError, "truth has 3 rows but item_idx has 2"),
        (LISTS[0], TRUTH, None, DataError, r"2-D array.*reshape\(1, -1\)"),
        (np.array([[0, -2]]), TRUTH[[0]], None, DataError, r"item_idx\[0, 1\] = -2"),
        (np.array([[0, 4]]), TRUTH[[0]], None, DataError, r"item_idx\[0, 1\] = 4 is out of range.*4 items"),
        (np.array([[1, 1]]), TRUTH[[0]], None, DataError, "recommends item 1 more than once"),
        (np.array([[1.0, 2.0]]), TRUTH[[0]], None, DataError, "integer item indices"),
        (LISTS, TRUTH.toarray(), None, DataError, "scipy sparse users x items matrix"),
        (np.array([[0]]), sp.csr_array(np.array([[np.nan]])), None, DataError, "non-finite"),
    ],
)
def test_bad_input_raises(lists, truth, k, error, match):
    with pytest.raises(error, match=match):
        recall_at_k(lists, truth, k)


def test_bad_threshold_and_denominator_raise():
    with pytest.raises(InvalidParameterError, match="relevance_threshold must be a finite number"):
        recall_at_k(LISTS, TRUTH, relevance_threshold=math.nan)
    with pytest.raises(InvalidParameterError, match="denominator must be one of"):
        precision_at_k(LISTS, TRUTH, denominator="n_relevant")


def test_repeated_padding_is_allowed():
    assert_allclose(recall_at_k(np.array([[-1, -1, 2]]), TRUTH[[2]]), [0.5])
