"""Detection metrics by hand, and ``evaluate_coordination`` on a small majority–minority world."""

import json

import numpy as np
import pytest

from recollective.adversarial._attacks import Attack
from recollective.adversarial._detectors import Detector, make_detector
from recollective.adversarial._evaluate import detection_metrics, evaluate_coordination, flag_users, roc_auc
from recollective.adversarial._study import training_injection
from recollective.campaigns import Campaign
from recollective.campaigns import test_users as held_out_users
from recollective.data import Interactions
from recollective.errors import InvalidParameterError
from recollective.metrics import ndcg_at_k
from recollective.models import make_model

TARGET = (99,)  # a minority book: 27 training ratings, 7 users with it held out


class Oracle(Detector):
    """Test-only detector that knows the answer: users from ``first_suspect`` on score 1, the others 0."""

    name = "oracle"

    def __init__(self, first_suspect=0):
        self.first_suspect = first_suspect

    def _score(self, interactions, params):
        return (np.arange(interactions.n_users) >= self.first_suspect).astype(float)


@pytest.fixture(scope="module")
def als(split):
    return make_model("als").fit(split[0])


@pytest.fixture(scope="module")
def itemknn(split):
    return make_model("itemknn").fit(split[0])


# ------------------------------------------------------------------------------------------ detection metrics
def test_detection_metrics_match_hand_computed_values():
    scores = np.array([0.9, 0.8, 0.8, 0.1, 0.5, 0.3])
    # flag 3 of 6: users 0, 1, 2 (the tie 0.8 / 0.8 is inside the cut); coordinated 0, 2, 4; benign 1
    metrics = detection_metrics(scores, [0, 2, 4], flag_share=0.5, benign=[1])
    assert metrics["flagged"] == 3
    assert metrics["threshold"] == 0.8
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 / 3)
    # positive-negative pairs won: 0.9 beats 3, 0.8 beats 2 and ties 1, 0.5 beats 2 -> 7.5 of 9
    assert metrics["roc_auc"] == pytest.approx(7.5 / 9)
    assert metrics["fpr"] == pytest.approx(1 / 3)
    assert metrics["benign_flagged_share"] == 1.0
    assert metrics["ordinary_flagged_share"] == 0.0  # users 3 and 5
    json.dumps(metrics, allow_nan=False)


def test_ties_are_broken_by_lower_index_and_the_count_rounds_half_up_with_at_least_one():
    scores = np.array([0.5, 0.8, 0.8, 0.8, 0.1])
    np.testing.assert_array_equal(flag_users(scores, 0.4), [1, 2])  # 2 of 5: the first two of the tied 0.8s
    np.testing.assert_array_equal(flag_users(scores, 0.5), [1, 2, 3])  # 2.5 rounds up to 3
    np.testing.assert_array_equal(flag_users(scores, 0.01), [1])  # at least one
    mask = np.array([False, False, False, True, False])
    metrics = detection_metrics(scores, mask, flag_share=0.4)
    assert metrics["precision"] == 0.0 and metrics["recall"] == 0.0 and metrics["f1"] == 0.0
    assert metrics["benign_flagged_share"] is None
    assert metrics["ordinary_flagged_share"] == metrics["fpr"] == pytest.approx(2 / 4)


def test_undefined_metrics_are_none_when_a_class_is_empty():
    metrics = detection_metrics(np.array([0.3, 0.2, 0.1]), [], flag_share=0.5)
    assert metrics["recall"] is None and metrics["f1"] is None and metrics["roc_auc"] is None
    assert metrics["precision"] == 0.0 and metrics["fpr"] == pytest.approx(2 / 3)
    assert roc_auc(np.array([0.1, 0.2]), np.array([True, True])) is None


def test_roc_auc_equals_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, 200).astype(float)  # many ties
    labels = rng.random(200) < 0.2
    assert roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores), abs=1e-12)


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.1, True, "0.1"])
def test_flag_shares_outside_the_open_unit_interval_are_rejected(share):
    with pytest.raises(InvalidParameterError, match="flag_share must be"):
        detection_metrics(np.array([0.1, 0.2]), [0], flag_share=share)


# ------------------------------------------------------------------------------------------ evaluation
def test_a_large_average_attack_raises_harm_and_the_trained_features_detector_flags_it(split, als):
    train, test = split
    injected, labels = training_injection(train, n_targets=1, budget=400, filler_size=20, exclude=TARGET, rng=5)
    features = make_detector("features").fit(injected, labels)
    attack = Attack("average", TARGET, size=60, filler_size=30)
    outcome = evaluate_coordination(
        als, train, test, attack, detectors={"features": features}, rng=0, flag_shares=(0.2,)
    )
    summary = outcome.summary
    assert summary["n_accounts"] == summary["n_fake"] == 60
    assert summary["n_actions"] == 60 * 31
    assert summary["harm_after"] > summary["harm_before"] + 0.05
    assert summary["roc_auc_features"] > 0.95
    (row,) = outcome.rows
    assert row["recall"] > 0.9 and row["precision"] > 0.7
    assert row["harm_avoided"] > 0.05  # filtering the flagged accounts removes most of the harm
    json.dumps({**summary, "rows": outcome.rows}, allow_nan=False)


def test_a_benign_campaign_raises_audience_exposure(split, als):
    train, test = split
    campaign = Campaign(TARGET, participants="closest", size=40, rating=5.0)
    outcome = evaluate_coordination(als, train, test, campaign, detectors=[make_detector("fraudar")], rng=0,
                                    flag_shares=(0.05, 0.1))
    summary = outcome.summary
    assert summary["action"] == "benign" and summary["accounts"] == "real" and summary["n_fake"] == 0
    assert summary["n_accounts"] == 40 and summary["n_actions"] == 40
    assert summary["benefit_after"] > summary["benefit_before"]
    np.testing.assert_array_equal(outcome.coordinated, outcome.application.acting)
    for row in outcome.rows:  # for a campaign the participants are the benign ones: recall = their flagged share
        assert row["benign_flagged_share"] == row["recall"]
        assert row["benefit_lost"] == pytest.approx(summary["benefit_after"] - row["benefit_filtered"])


def test_filtering_exactly_the_fake_accounts_restores_the_baseline(split, itemknn):
    train, test = split
    attack = Attack("bandwagon", TARGET, size=30, filler_size=10)
    share = 30 / (train.n_users + 30)  # flags exactly the 30 appended accounts
    outcome = evaluate_coordination(
        itemknn, train, test, attack, detectors=[Oracle(first_suspect=train.n_users)], rng=0, flag_shares=(share,)
    )
    summary, (row,) = outcome.summary, outcome.rows
    assert summary["roc_auc_oracle"] == 1.0
    assert row["precision"] == row["recall"] == 1.0 and row["ordinary_flagged_share"] == 0.0
    assert row["n_removed"] == summary["n_actions"]
    assert summary["benefit_after"] != summary["benefit_before"] or summary["harm_after"] != summary["harm_before"]
    for measure in ("benefit", "harm", "ndcg", "hit_rate", "ndcg_audience", "ndcg_outside"):
        assert row[f"{measure}_filtered"] == pytest.approx(summary[f"{measure}_before"], abs=1e-12)


def test_fake_accounts_are_never_evaluated(split, itemknn):
    train, test = split
    outcome = evaluate_coordination(itemknn, train, test, Attack("random", TARGET, size=25, filler_size=10), rng=1)
    summary, users = outcome.summary, held_out_users(test)
    assert outcome.application.interactions.n_users == train.n_users + 25
    assert summary["n_test_users"] == users.size and users.max() < train.n_users
    refitted = make_model("itemknn").fit(outcome.application.interactions)  # item-kNN cosine refits exactly
    lists, _ = refitted.recommend(users, 10)
    assert summary["ndcg_after"] == pytest.approx(np.nanmean(ndcg_at_k(lists, test.matrix[users])), abs=1e-12)
    assert outcome.rows == [] and summary["detectors"] == []


def test_a_detector_that_needs_an_order_is_skipped_with_a_note(split, itemknn):
    train, test = split
    unordered = Interactions(train.matrix, train.users, train.items)
    outcome = evaluate_coordination(itemknn, unordered, test, Attack("random", TARGET, size=5, filler_size=5),
                                    detectors=["burst", "fraudar"], rng=0, flag_shares=(0.1,))
    assert outcome.summary["skipped_detectors"] == ["burst"]
    assert "burst" in outcome.summary["notes"][0] and "order" in outcome.summary["notes"][0]
    assert [row["detector"] for row in outcome.rows] == ["fraudar"]


def test_bad_inputs_get_clear_errors(split, itemknn):
    train, test = split
    attack = Attack("random", TARGET, size=5, filler_size=5)
    with pytest.raises(InvalidParameterError, match=r"action must be a recollective\.campaigns\.Campaign"):
        evaluate_coordination(itemknn, train, test, {"kind": "random"})
    with pytest.raises(InvalidParameterError, match="unknown detector 'nope'"):
        evaluate_coordination(itemknn, train, test, attack, detectors=["nope"])
    with pytest.raises(InvalidParameterError, match="flag_share must be strictly between 0 and 1"):
        evaluate_coordination(itemknn, train, test, attack, flag_shares=(0.1, 1.0))
    with pytest.raises(InvalidParameterError, match="'features' is a supervised detector; fit it first"):
        evaluate_coordination(itemknn, train, test, attack, detectors=["features"])
    with pytest.raises(InvalidParameterError, match="used twice"):
        evaluate_coordination(itemknn, train, test, attack, detectors=["pca", "pca"])
    with pytest.raises(InvalidParameterError, match="k must be an integer"):
        evaluate_coordination(itemknn, train, test, attack, k=0)
