"""evaluate_lists / evaluate_model: the reported keys equal the single metrics; only test users are recommended for."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp

from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError
from recollective.metrics import (
    UndefinedMetricWarning,
    average_popularity_per_user,
    evaluate_lists,
    evaluate_model,
    exposure_entropy,
    exposure_gini,
    group_means,
    item_popularity,
    long_tail_items,
    long_tail_share_per_user,
    mean_over_users,
    ranking_metrics_per_user,
)
from recollective.models import Popularity

LISTS = np.array([[3, 1, 0], [2, -1, -1], [0, 1, 2], [4, 0, 1]])
TRUTH = sp.csr_array(np.array([[1, 0, 0, 1, 0], [0, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 0, 1]], dtype=float))
TRAIN = sp.csr_array(np.array([[0, 1, 1, 0, 1], [1, 1, 0, 1, 0], [1, 0, 0, 0, 1], [1, 1, 1, 0, 0]], dtype=float))
CLI_KEYS = {"recall", "ndcg", "precision", "hit_rate", "coverage", "n_test_users"}


def test_evaluate_lists_equals_the_single_metrics():
    result = evaluate_lists(LISTS, TRUTH, 2, train=TRAIN)
    per_user = ranking_metrics_per_user(LISTS, TRUTH, 2)
    assert set(result) >= CLI_KEYS
    assert result["k"] == 2 and result["n_evaluated_users"] == 4 and result["n_test_users"] == 3
    for key, name in [
        ("precision", "precision"),
        ("recall", "recall"),
        ("ndcg", "ndcg"),
        ("hit_rate", "hit_rate"),
        ("mrr", "reciprocal_rank"),
        ("map", "average_precision"),
    ]:
        assert result[key] == pytest.approx(mean_over_users(per_user[name]), rel=1e-12), key
    # Hand values at k = 2: user 0 hits at rank 1 (of 2 relevant), user 2 at rank 2 (of 2), user 3 at rank 1 (of 1).
    assert result["recall"] == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)
    assert result["mrr"] == pytest.approx((1 + 1 / 2 + 1) / 3)
    assert result["coverage"] == pytest.approx(5 / 5)
    popularity = item_popularity(TRAIN)
    top2 = LISTS[:, :2]
    assert result["arp"] == pytest.approx(mean_over_users(average_popularity_per_user(top2, popularity)))
    tail = long_tail_items(popularity)
    assert result["aplt"] == pytest.approx(mean_over_users(long_tail_share_per_user(top2, tail)))
    assert result["gini"] == pytest.approx(exposure_gini(top2, 5))
    assert result["entropy"] == pytest.approx(exposure_entropy(top2, 5))
    assert result["entropy_normalized"] == pytest.approx(exposure_entropy(top2, 5, normalized=True))
    json.dumps(result, allow_nan=True)


def test_evaluate_lists_without_train_has_no_popularity_keys_and_k_defaults_to_width():
    result = evaluate_lists(LISTS, TRUTH)
    assert result["k"] == 3 and "arp" not in result and "aplt" not in result
    assert result["gini"] == pytest.approx(exposure_gini(LISTS, 5))
    assert result["coverage"] == pytest.approx(5 / 5)
    assert evaluate_lists(LISTS, TRUTH, 1)["coverage"] == pytest.approx(4 / 5)  # items 3, 2, 0, 4


def test_evaluate_lists_per_group():
    labels = np.array(["a", "b", "a", "b"])
    result = evaluate_lists(LISTS, TRUTH, groups=labels)
    per_user = ranking_metrics_per_user(LISTS, TRUTH)
    assert result["groups"]["a"]["n_evaluated_users"] == 2 and result["groups"]["b"]["n_test_users"] == 1
    assert result["groups"]["a"]["ndcg"] == pytest.approx(group_means(per_user["ndcg"], labels)["a"])
    assert result["groups"]["b"]["recall"] == pytest.approx(1.0)
    numbered = evaluate_lists(LISTS, TRUTH, groups={0: [0], 1: [1]})
    assert set(numbered["groups"]) == {"0", "1"}
    assert math.isnan(numbered["groups"]["1"]["ndcg"])


def test_no_test_user_warns_once_and_gives_nan():
    with pytest.warns(UndefinedMetricWarning, match="none of the 4 evaluated users") as record:
        result = evaluate_lists(LISTS, sp.csr_array((4, 5)))
    assert len(record) == 1
    assert result["n_test_users"] == 0 and math.isnan(result["recall"]) and result["coverage"] == 1.0


def test_evaluate_lists_bad_input_raises():
    with pytest.raises(DataError, match="train has 4 items but truth has 5"):
        evaluate_lists(LISTS, TRUTH, train=TRAIN[:, :4])
    with pytest.raises(DataError, match="truth has 4 rows but item_idx has 3"):
        evaluate_lists(LISTS[:3], TRUTH)
    with pytest.raises(InvalidParameterError, match="k must be an integer >= 1"):
        evaluate_lists(LISTS, TRUTH, 0)
    with pytest.raises(DataError, match="out of range"):
        evaluate_lists(LISTS, TRUTH[:, :4])
    with pytest.raises(InvalidParameterError, match="head_share must be strictly between 0 and 1; got 0"):
        evaluate_lists(LISTS, TRUTH, train=TRAIN, head_share=0)


# ------------------------------------------------------------------------------------------------ models
def split() -> tuple[Interactions, sp.csr_array]:
    """Eight users x six items (ids = indices); users 0-4 have held-out items, users 5-7 none."""
    rng = np.random.default_rng(3)
    dense = (rng.random((8, 6)) < 0.4).astype(float)
    dense[:, 0] = 1.0  # every user has a training item, so the user vocabulary is 0..7 in order
    held = np.zeros_like(dense)
    for user, item in [(0, 5), (1, 4), (1, 3), (2, 2), (3, 5), (4, 1)]:
        dense[user, item], held[user, item] = 0.0, 1.0
    train = Interactions.from_arrays(*np.nonzero(dense), item_vocabulary_ids=np.arange(6))
    assert np.array_equal(np.asarray(train.users.ids), np.arange(8))
    return train, sp.csr_array(held)


def test_evaluate_model_recommends_only_for_test_users_and_equals_evaluate_lists():
    train, test = split()
    model = Popularity().fit(train)
    calls = []
    original = model.recommend

    def spy(user_idx, k=10, **kwargs):
        calls.append(np.asarray(user_idx).copy())
        return original(user_idx, k, **kwargs)

    model.recommend = spy
    result = evaluate_model(model, train, test, k=3)
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [0, 1, 2, 3, 4])
    lists, _ = original(np.arange(5), 3)
    expected = evaluate_lists(lists, test[np.arange(5)], 3, train=train)
    assert result == pytest.approx(expected, rel=1e-12)
    assert result["n_evaluated_users"] == 5 and result["n_test_users"] == 5


def test_evaluate_model_pads_short_lists_and_restricts_groups():
    train, test = split()
    model = Popularity().fit(train)
    result = evaluate_model(model, train, test, k=10)  # six items only: lists are padded to k = 10
    assert result["k"] == 10
    lists, _ = model.recommend(np.arange(5), 10)
    padded = np.pad(lists, ((0, 0), (0, 10 - lists.shape[1])), constant_values=-1)
    assert result["precision"] == pytest.approx(evaluate_lists(padded, test[np.arange(5)])["precision"])
    labels = np.array(["x", "y", "x", "y", "x", "y", "y", "y"])
    grouped = evaluate_model(model, train, test, k=2, groups=labels)
    assert grouped["groups"]["x"]["n_evaluated_users"] == 3 and grouped["groups"]["y"]["n_evaluated_users"] == 2
    chosen = evaluate_model(model, train, test, k=2, users=[0, 5, 6])
    assert chosen["n_evaluated_users"] == 3 and chosen["n_test_users"] == 1


def test_evaluate_model_shape_mismatch_raises():
    train, test = split()
    model = Popularity().fit(train)
    with pytest.raises(DataError, match=r"train has shape \(8, 6\) but test has \(8, 5\)"):
        evaluate_model(model, train, test[:, :5], k=2)
    with pytest.raises(DataError, match="user index 8 is out of range"):
        evaluate_model(model, train, test, k=2, users=[8])
    other = Popularity().fit(Interactions.from_arrays(np.array([0, 1]), np.array([0, 1])))
    with pytest.raises(DataError, match="fitted on 2 users x 2 items"):
        evaluate_model(other, train, test, k=2)


def test_evaluate_model_refuses_a_split_with_no_test_user():
    train, _ = split()
    model = Popularity().fit(train)
    with pytest.raises(DataError) as error:  # tiny data: every metric would be undefined
        evaluate_model(model, train, sp.csr_array(train.matrix.shape))
    assert str(error.value) == ("nothing to evaluate: the test part holds no interaction (0 held out for 8 user(s)); "
                                "use more data, a larger --test-fraction")
    low = sp.lil_array(train.matrix.shape)
    low[0, 5] = 2.0
    with pytest.raises(DataError, match=r"no interaction at or above 4 \(1 held out for 8 user\(s\)\); .* or a lower "
                                        r"--relevance-threshold$"):
        evaluate_model(model, train, low.tocsr(), relevance_threshold=4)
