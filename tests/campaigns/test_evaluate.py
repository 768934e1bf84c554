"""``evaluate_campaign``, the noise floor, sweeps and the planner on small data with a planted structure."""

import numpy as np
import pytest

from recollective.campaigns import (
    Campaign,
    estimate_noise_floor,
    evaluate_campaign,
    plan_campaign,
    summarize_rows,
    sweep_campaigns,
    target_audience,
)
from recollective.data._splits import random_holdout
from recollective.errors import DataError, InvalidParameterError
from recollective.models import make_model
from taste_groups import reading_split


@pytest.fixture(scope="module")
def split():
    """120 readers in two taste groups over 40 books; book 39 (group B) is rare in training."""
    return reading_split()


def test_campaign_raises_target_exposure_without_hurting_accuracy_much(split):
    train, test = split
    target = (int(train.items.numbers(np.array([39]))[0]),)
    audience = target_audience(test, target)
    baseline = make_model("itemknn").fit(train)
    seen_before = baseline.seen_
    outcome = evaluate_campaign(baseline, train, test, Campaign(targets=target, participants="closest", size=20),
                                k=5, rng=0)
    summary = outcome.summary
    assert baseline.seen_ is seen_before  # the baseline was not refitted in place
    assert summary["audience_size"] == audience.size > 0
    assert summary["n_participants"] == 20 and summary["n_actions"] == 20
    assert summary["target_exposure_after"] > summary["target_exposure_before"]
    assert summary["amplification_after"] > summary["amplification_before"]
    assert abs(summary["ndcg_after"] - summary["ndcg_before"]) < 0.05
    shares = summary["better_share"] + summary["unchanged_share"] + summary["worse_share"]
    assert shares == pytest.approx(1.0)
    np.testing.assert_allclose(outcome.utility_before.mean(), summary["ndcg_before"])
    assert sum(b["share_before"] for b in summary["externality_bins"]) <= 1.0 + 1e-9


def test_deterministic_models_have_a_zero_noise_floor_and_stochastic_ones_do_not(split):
    train, test = split
    assert estimate_noise_floor(make_model("ease"), train, test, 5) == 0.0
    floor = estimate_noise_floor(make_model("als", factors=8, iterations=3), train, test, 5, seeds=(0, 1))
    assert floor > 0.0


def test_unfitted_baseline_is_an_error(split):
    train, test = split
    with pytest.raises(DataError, match="fitted baseline"):
        evaluate_campaign(make_model("popularity"), train, test, Campaign(targets=(1,)))


def test_sweep_rows_and_intervals(split):
    train, test = split
    target = (int(train.items.numbers(np.array([39]))[0]),)
    template = Campaign(targets=target, participants="closest")
    rows = sweep_campaigns({"knn": make_model("itemknn")}, train, test, template, sizes=[5, 20], seeds=[0, 1],
                           noise_floor=False)
    assert len(rows) == 4
    summary = summarize_rows(rows)
    assert len(summary) == 2
    for row in summary:
        assert row["target_exposure_after_low"] <= row["target_exposure_after"] <= row["target_exposure_after_high"]
    big = next(r for r in summary if r["size"] == 20)
    small = next(r for r in summary if r["size"] == 5)
    assert big["target_exposure_after"] >= small["target_exposure_after"]
    with pytest.raises(InvalidParameterError, match="at least one size"):
        sweep_campaigns({"knn": make_model("itemknn")}, train, test, Campaign(targets=target), sizes=[], seeds=[0])


def test_planner_picks_the_smallest_feasible_collective(split):
    train, test = split
    target = (int(train.items.numbers(np.array([39]))[0]),)
    plan = plan_campaign(make_model("itemknn"), train, test, Campaign(targets=target), goal_exposure=0.3,
                         max_participant_loss=1.0, sizes=[2, 10, 30], participants=["closest", "random"],
                         seeds=[0, 1], k=5)
    assert plan.feasible
    feasible = [r for r in plan.rows if r["feasible"]]
    assert plan.best["n_participants"] == min(r["n_participants"] for r in feasible)
    assert plan.best["target_exposure_after"] >= 0.3
    assert "readers" in plan.text and "95% CI" in plan.text
    impossible = plan_campaign(make_model("popularity"), train, test, Campaign(targets=target), goal_exposure=0.9,
                               sizes=[2], participants=["random"], seeds=[0], k=5)
    assert not impossible.feasible and impossible.text.startswith("No evaluated collective")


def test_worlds_measure_utility_on_true_preferences():
    from recollective.data._worlds import majority_minority_world

    world = majority_minority_world(n_users=300, n_items=120, n_interactions=6000, rng=0)
    train, test = random_holdout(world.interactions, 0.2, rng=0)
    minority_items = np.flatnonzero(world.item_group == 1)
    popularity = np.bincount(train.matrix.indices, minlength=train.n_items)
    targets = tuple(int(t) for t in minority_items[np.argsort(popularity[minority_items], kind="stable")[:2]])
    baseline = make_model("itemknn").fit(train)
    outcome = evaluate_campaign(baseline, train, test, Campaign(targets=targets, participants="closest", size=30),
                                k=5, rng=0, world=world)
    summary = outcome.summary
    assert summary["utility"] == "true DCG@k"
    np.testing.assert_array_equal(outcome.users, np.arange(world.n_users))
    np.testing.assert_array_equal(outcome.audience, world.audience(np.array(targets)))
    lists, _ = baseline.recommend(np.arange(world.n_users), 5)
    R = world.preferences()
    expected = (np.take_along_axis(R, lists, axis=1) / np.log2(np.arange(2, 7))).sum(axis=1)
    np.testing.assert_allclose(outcome.utility_before, expected)
    assert summary["welfare_before"] == pytest.approx(expected.sum())
    assert summary["target_exposure_after"] >= summary["target_exposure_before"]
    with pytest.raises(DataError, match="the world has"):
        small = majority_minority_world(n_users=200, n_items=120, n_interactions=4000, rng=1)
        evaluate_campaign(baseline, train, test, Campaign(targets=targets), world=small)


def test_hit_rates_overall_and_per_group_match_the_ranking_metrics(split):
    from recollective.metrics import ranking_metrics_per_user

    train, test = split
    target = (int(train.items.numbers(np.array([39]))[0]),)
    baseline = make_model("itemknn").fit(train)
    outcome = evaluate_campaign(baseline, train, test, Campaign(targets=target, participants="closest", size=20),
                                k=5, rng=0)
    summary = outcome.summary
    lists, _ = baseline.recommend(outcome.users, 5)
    hits = ranking_metrics_per_user(lists, test.matrix[outcome.users], 5)["hit_rate"]
    assert summary["hit_rate_before"] == pytest.approx(np.nanmean(hits))
    in_audience = np.isin(outcome.users, outcome.audience)
    assert summary["hit_rate_audience_before"] == pytest.approx(np.nanmean(hits[in_audience]))
    assert summary["hit_rate_majority_before"] == pytest.approx(np.nanmean(hits[~in_audience]))
    assert 0.0 <= summary["hit_rate_after"] <= 1.0
    reached = np.isin(lists[~in_audience], target).any(axis=1)
    assert summary["target_exposure_majority_before"] == pytest.approx(reached.mean())
