"""The lean campaign evaluation (``score_users="needed"``): a seeded sample of the test users plus the audience and
the participants in full, every number equal to the full evaluation's on the same users; the noise floor's cache."""

import math

import numpy as np
import pytest

from recollective.campaigns import Campaign, estimate_noise_floor, evaluate_campaign, target_audience
from recollective.campaigns import test_users as held_out_users
from recollective.campaigns._noise_floor import clear_noise_floor_cache
from recollective.campaigns._population import ci95_halfwidth, evaluation_population
from recollective.errors import InvalidParameterError
from recollective.metrics import item_coverage, ranking_metrics_per_user
from recollective.models import make_model
from taste_groups import reading_split

SAMPLE = 40
"""Test users sampled out of the 120 readers: a strict sample, so the lean path differs from the full one."""

GROUP_KEYS = ("audience_size", "n_selected", "n_participants", "n_actions", "n_participants_in_test")
GROUP_PREFIXES = ("target_exposure", "discounted_exposure", "target_ndcg", "ndcg_audience", "hit_rate_audience",
                  "ndcg_participants", "hit_rate_participants")


@pytest.fixture(scope="module")
def split():
    return reading_split()


@pytest.fixture(scope="module", params=["itemknn", "als", "puresvd"])
def runs(request, split):
    """(model name, baseline, campaign, full outcome, lean outcome) on the reading data."""
    train, test = split
    params = {"als": {"factors": 8, "iterations": 3}, "puresvd": {"n_factors": 6}}.get(request.param, {})
    baseline = make_model(request.param, **params).fit(train)
    target = (int(train.items.numbers(np.array([39]))[0]),)
    campaign = Campaign(targets=target, participants="closest", size=20)
    full = evaluate_campaign(baseline, train, test, campaign, k=5, rng=0, score_users="all", noise_floor=0.01)
    lean = evaluate_campaign(baseline, train, test, campaign, k=5, rng=0, sample_size=SAMPLE, noise_floor=0.01)
    return request.param, baseline, campaign, full, lean


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def test_the_population_is_a_seeded_uniform_sample_of_the_test_users():
    candidates = np.arange(0, 300, 3)
    first = evaluation_population(candidates, "needed", 25, sample_seed=7)
    np.testing.assert_array_equal(first, evaluation_population(candidates, "needed", 25, sample_seed=7))
    assert first.size == 25 and np.all(np.diff(first) > 0) and np.isin(first, candidates).all()
    assert not np.array_equal(first, evaluation_population(candidates, "needed", 25, sample_seed=8))
    np.testing.assert_array_equal(evaluation_population(candidates, "all", 25), candidates)
    np.testing.assert_array_equal(evaluation_population(candidates, "needed", 100), candidates)
    with pytest.raises(InvalidParameterError, match="score_users must be one of needed, all; got 'some'"):
        evaluation_population(candidates, "some", 25)
    with pytest.raises(InvalidParameterError, match="sample_size must be an integer >= 1; got 0"):
        evaluation_population(candidates, "needed", 0)


def test_ci95_halfwidth_is_the_normal_interval_with_the_finite_population_correction():
    values = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    expected = 1.959963984540054 * values.std(ddof=1) / math.sqrt(5) * math.sqrt((20 - 5) / 19)
    assert ci95_halfwidth(values, 20) == pytest.approx(expected, rel=1e-12)
    assert ci95_halfwidth(values, 5) == 0.0  # the whole population: no sampling error
    assert math.isnan(ci95_halfwidth(np.array([1.0]), 20))


def test_lean_scores_the_sample_the_audience_and_the_participants(runs, split):
    _, _, campaign, full, lean = runs
    _, test = split
    population = evaluation_population(held_out_users(test), "needed", SAMPLE, 0)
    np.testing.assert_array_equal(lean.population, population)
    assert lean.summary["n_sampled_users"] == SAMPLE < lean.summary["n_test_users"] == full.summary["n_test_users"]
    audience = target_audience(test, campaign.targets)
    scored = np.union1d(population, np.union1d(audience, lean.application.acting))
    assert lean.summary["n_scored_users"] == scored.size < full.summary["n_scored_users"]
    np.testing.assert_array_equal(lean.users, held_out_users(test)[np.isin(held_out_users(test), scored)])


def test_lean_per_user_utilities_equal_the_full_paths_on_every_scored_user(runs):
    _, _, _, full, lean = runs
    rows = np.searchsorted(full.users, lean.users)
    np.testing.assert_array_equal(full.users[rows], lean.users)
    np.testing.assert_array_equal(lean.utility_before, full.utility_before[rows])
    np.testing.assert_array_equal(lean.utility_after, full.utility_after[rows])
    np.testing.assert_array_equal(lean.application.acting, full.application.acting)


def test_group_numbers_are_the_full_paths_exactly(runs):
    _, _, _, full, lean = runs
    group = [key for key in full.summary if key.startswith(GROUP_PREFIXES) and "majority" not in key]
    keys = [*GROUP_KEYS, *group, "participants_better_share", "participants_worse_share",
            "participants_unchanged_share"]
    assert len(keys) >= 20
    for key in keys:
        assert _same(lean.summary[key], full.summary[key]), key


def test_population_numbers_are_the_full_paths_on_the_sampled_users(runs, split):
    _, baseline, campaign, full, lean = runs
    train, test = split
    population = lean.population
    in_population = np.isin(full.users, population)
    before_lists, _ = baseline.recommend(population, 5)
    per_user = ranking_metrics_per_user(before_lists, test.matrix[population], 5)
    summary = lean.summary
    assert summary["ndcg_before"] == pytest.approx(np.mean(full.utility_before[in_population]), rel=0, abs=1e-12)
    assert summary["ndcg_after"] == pytest.approx(np.mean(full.utility_after[in_population]), rel=0, abs=1e-12)
    assert summary["recall_before"] == pytest.approx(np.nanmean(per_user["recall"]), rel=0, abs=1e-12)
    assert summary["hit_rate_before"] == pytest.approx(np.nanmean(per_user["hit_rate"]), rel=0, abs=1e-12)
    assert summary["coverage_before"] == item_coverage(before_lists, train.n_items)
    majority = in_population & ~np.isin(full.users, lean.audience)
    assert summary["ndcg_majority_before"] == pytest.approx(np.mean(full.utility_before[majority]), abs=1e-12)
    reached = np.isin(before_lists[~np.isin(population, lean.audience)], campaign.targets).any(axis=1)
    assert summary["target_exposure_majority_before"] == pytest.approx(reached.mean(), abs=1e-12)
    change = (full.utility_after - full.utility_before)[in_population]
    floor = 0.01
    assert summary["better_share"] == pytest.approx(np.mean(change > floor), abs=1e-12)
    assert summary["worse_share"] == pytest.approx(np.mean(change < -floor), abs=1e-12)
    n_test = full.summary["n_test_users"]
    assert summary["welfare_before"] == pytest.approx(full.utility_before[in_population].sum() * n_test / SAMPLE,
                                                      abs=1e-9)
    assert summary["ndcg_before_ci95"] == pytest.approx(ci95_halfwidth(full.utility_before[in_population], n_test))
    assert summary["ndcg_before_ci95"] > 0.0 and full.summary["ndcg_before_ci95"] == 0.0
    # the full path's sampled numbers sit within a few half-widths of the sample's (a loose sanity bound)
    assert abs(summary["ndcg_before"] - full.summary["ndcg_before"]) < 3 * summary["ndcg_before_ci95"] + 1e-12


def test_same_sample_seed_same_numbers_and_another_seed_another_sample(runs, split):
    _, baseline, campaign, _, lean = runs
    train, test = split
    again = evaluate_campaign(baseline, train, test, campaign, k=5, rng=0, sample_size=SAMPLE, noise_floor=0.01)
    for key, value in lean.summary.items():
        if key != "externality_bins":
            assert _same(again.summary[key], value), key
    other = evaluate_campaign(baseline, train, test, campaign, k=5, rng=0, sample_size=SAMPLE, sample_seed=1,
                              noise_floor=0.01)
    assert not np.array_equal(other.population, lean.population)


def test_a_sample_as_large_as_the_test_users_is_the_full_evaluation(split):
    train, test = split
    baseline = make_model("itemknn").fit(train)
    campaign = Campaign(targets=(int(train.items.numbers(np.array([39]))[0]),), participants="closest", size=20)
    full = evaluate_campaign(baseline, train, test, campaign, k=5, rng=0, score_users="all")
    lean = evaluate_campaign(baseline, train, test, campaign, k=5, rng=0, sample_size=held_out_users(test).size)
    for key, value in full.summary.items():
        assert _same(lean.summary[key], value) if key != "externality_bins" else lean.summary[key] == value, key
    with pytest.raises(InvalidParameterError, match="score_users"):
        evaluate_campaign(baseline, train, test, campaign, score_users="everyone")


def test_noise_floor_on_the_sample_and_cached_in_the_process(split, monkeypatch):
    train, test = split
    clear_noise_floor_cache()
    model = make_model("als", factors=8, iterations=3)
    fitted = model.clone().set_params(rng=0).fit(train)
    floor = estimate_noise_floor(model, train, test, 5, seeds=(0, 1), fitted=fitted, sample_size=SAMPLE)
    population = evaluation_population(held_out_users(test), "needed", SAMPLE, 0)
    other = model.clone().set_params(rng=1).fit(train)
    utilities = [ranking_metrics_per_user(m.recommend(population, 5)[0], test.matrix[population], 5)["ndcg"]
                 for m in (fitted, other)]
    assert floor == float(np.quantile(np.abs(utilities[0] - utilities[1]), 0.95))
    full = estimate_noise_floor(model, train, test, 5, seeds=(0, 1), fitted=fitted, score_users="all")
    assert full != floor

    def no_fit(self, interactions):
        raise AssertionError("the cached noise floor was computed again")

    monkeypatch.setattr(type(model), "fit", no_fit)
    assert estimate_noise_floor(model, train, test, 5, seeds=(0, 1), fitted=fitted, sample_size=SAMPLE) == floor
    with pytest.raises(AssertionError, match="computed again"):  # other seeds, other data: not the cached value
        estimate_noise_floor(model, train, test, 5, seeds=(0, 2), fitted=fitted, sample_size=SAMPLE)
    clear_noise_floor_cache()
    with pytest.raises(AssertionError, match="computed again"):
        estimate_noise_floor(model, train, test, 5, seeds=(0, 1), fitted=fitted, sample_size=SAMPLE)


def test_recommend_lists_reuses_the_last_lists_of_the_same_fit(split, monkeypatch):
    from recollective.campaigns._utility import recommend_lists

    train, _ = split
    model = make_model("itemknn").fit(train)
    first = np.arange(0, 60)
    np.testing.assert_array_equal(recommend_lists(model, first, 5), model.recommend(first, 5)[0])
    asked = []
    original = type(model).recommend

    def counting(self, user_idx, k=10, **options):
        asked.append(np.asarray(user_idx).size)
        return original(self, user_idx, k, **options)

    monkeypatch.setattr(type(model), "recommend", counting)
    wider = np.arange(0, 120, 1)
    lists = recommend_lists(model, wider, 5)
    assert asked == [60]  # only the users not scored before
    np.testing.assert_array_equal(lists, original(model, wider, 5)[0])
    recommend_lists(model, wider, 3)  # another k: scored again
    assert asked == [60, 120]
    model.set_params(n_neighbors=3).fit(train)  # another fit of the same object: nothing reused
    refitted = recommend_lists(model, wider, 3)
    assert asked == [60, 120, 120]
    np.testing.assert_array_equal(refitted, original(model, wider, 3)[0])
