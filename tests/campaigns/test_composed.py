"""Composed campaigns (several collectives at once), the interaction effect, and demotion campaigns."""

import copy
import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from rare_books import two_rare_books
from recollective.campaigns import (
    Campaign,
    apply_campaign,
    apply_campaigns,
    evaluate_campaign,
    evaluate_composed,
    interaction_rows,
    summarize_interactions,
    target_audience,
)
from recollective.campaigns import test_users as held_out_users
from recollective.campaigns._composed import collective_generators
from recollective.errors import InvalidParameterError
from recollective.models import make_model
from taste_groups import reading_split


@pytest.fixture(scope="module")
def world():
    train, test = two_rare_books()
    book_a, book_b = (int(i) for i in train.items.numbers(np.array([19, 39])))
    return train, test, book_a, book_b


@pytest.fixture(scope="module")
def knn(world):
    return make_model("itemknn").fit(world[0])


def _same(a, b):
    """Equal dicts, NaN equal to NaN, every number compared exactly."""
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float) and math.isnan(a[key]):
            assert isinstance(b[key], float) and math.isnan(b[key]), key
        else:
            assert a[key] == b[key], key


# ------------------------------------------------------------------------------------------ one collective
@pytest.mark.parametrize("model", ["itemknn", "puresvd", "als"])
@pytest.mark.parametrize(
    "spec",
    [
        {"participants": "closest", "size": 12},
        {"participants": "random", "size": 0.1, "participation": 0.7, "budget": 1},
        {"participants": "fans", "size": 5, "action": "remove"},
        {"participants": "majority", "size": 9, "action": "rate_low", "rating": 1.0},
    ],
)
def test_one_collective_is_todays_campaign(world, model, spec):
    train, test, book_a, book_b = world
    baseline = make_model(model, **({"factors": 8, "iterations": 3} if model == "als" else {})).fit(train)
    campaign = Campaign(targets=(book_a, book_b), **spec)
    today = evaluate_campaign(baseline, train, test, campaign, k=5, rng=3, noise_floor=0.01)
    composed = evaluate_composed(baseline, train, test, [campaign], k=5, rng=3, noise_floor=0.01)
    (entry,) = composed.collectives
    _same(entry["joint"], today.summary)
    _same(entry["solo"], today.summary)
    assert entry["interaction"] == 0.0 and entry["spillover"] == 0.0
    assert entry["effect_joint"] == entry["effect_solo"] == (today.summary["target_exposure_after"]
                                                             - today.summary["target_exposure_before"])
    applied = apply_campaigns([campaign], train, [today.audience], rng=3)
    single = apply_campaign(campaign, train, today.audience, rng=3)
    assert (applied.interactions.matrix != single.interactions.matrix).nnz == 0
    for name in ("added_users", "added_items", "added_values", "removed_users", "removed_items"):
        np.testing.assert_array_equal(getattr(applied.delta, name), getattr(single.delta, name))
    np.testing.assert_array_equal(applied.parts[0].acting, single.acting)


@pytest.mark.parametrize("score_users", ["needed", "all"])
def test_one_collective_is_todays_campaign_on_a_sample_too(world, knn, score_users):
    train, test, book_a, book_b = world
    campaign = Campaign(targets=(book_a, book_b), participants="closest", size=6)
    n_test = held_out_users(test).size
    lean = {"score_users": score_users, "sample_size": n_test // 3, "sample_seed": 4}
    today = evaluate_campaign(knn, train, test, campaign, k=5, rng=3, **lean)
    composed = evaluate_composed(knn, train, test, [campaign], k=5, rng=3, **lean)
    _same(composed.collectives[0]["joint"], today.summary)
    assert (today.summary["n_sampled_users"] < n_test) == (score_users == "needed")
    assert composed.overall["n_sampled_users"] == today.summary["n_sampled_users"]


def test_several_collectives_score_the_sample_and_every_group_member(world, knn):
    train, test, book_a, book_b = world
    campaigns = [Campaign(targets=(book_a,), participants="closest", size=5),
                 Campaign(targets=(book_b,), participants="closest", size=5)]
    n_test = held_out_users(test).size
    lean = evaluate_composed(knn, train, test, campaigns, k=5, rng=1, sample_size=n_test // 4)
    full = evaluate_composed(knn, train, test, campaigns, k=5, rng=1, score_users="all")
    for small, every in zip(lean.collectives, full.collectives, strict=True):
        assert small["joint"]["n_scored_users"] < every["joint"]["n_scored_users"]
        assert small["joint"]["n_sampled_users"] == n_test // 4 and every["joint"]["n_sampled_users"] == n_test
        for key in ("exposure_before", "exposure_solo", "exposure_joint", "interaction"):  # group numbers: in full
            assert small[key] == every[key], key
        for key in ("target_exposure_after", "ndcg_participants_after", "participants_worse_share"):
            assert small["joint"][key] == every["joint"][key], key
    with pytest.raises(InvalidParameterError, match="score_users must be one of needed, all"):
        evaluate_composed(knn, train, test, campaigns, score_users="some")


# ------------------------------------------------------------------------------------------ two collectives
def test_two_collectives_with_disjoint_targets_give_each_its_numbers(world, knn):
    train, test, book_a, book_b = world
    first = Campaign(targets=(book_a,), participants="closest", size=15)
    second = Campaign(targets=(book_b,), participants="closest", size=25)
    outcome = evaluate_composed(knn, train, test, [first, second], k=5, rng=7, names=["A", "B"])
    gens = collective_generators(7, 2)
    for j, campaign in enumerate((first, second)):  # alone: exactly evaluate_campaign with that collective's draws
        alone = evaluate_campaign(knn, train, test, campaign, k=5, rng=gens[j])
        _same(outcome.collectives[j]["solo"], alone.summary)
    # the joint run by hand: apply both, refit, and measure each collective's own audience
    audiences = [target_audience(test, (book_a,)), target_audience(test, (book_b,))]
    joint = apply_campaigns([first, second], train, audiences, rng=7)
    model = copy.deepcopy(knn).refit(joint.interactions, joint.delta)
    for j, (book, audience) in enumerate(zip((book_a, book_b), audiences, strict=True)):
        lists = model.recommend(audience, 5)[0]
        assert outcome.collectives[j]["exposure_joint"] == float(np.isin(lists, [book]).any(axis=1).mean())
        assert outcome.collectives[j]["audience_size"] == audience.size > 0
    a, b = outcome.collectives
    assert a["effect_solo"] > 0 and b["effect_solo"] > 0
    assert joint.n_shared_users == 0 and joint.n_contested_cells == 0
    assert not np.intersect1d(joint.parts[0].acting, joint.parts[1].acting).size
    for entry in (a, b):  # the definitions, from the exposure matrix
        row = {r["state"]: r[entry["name"]] for r in outcome.exposure}
        solo_sum = (row["solo:A"] - row["before"]) + (row["solo:B"] - row["before"])
        assert entry["interaction"] == pytest.approx(row["joint"] - row["before"] - solo_sum, abs=1e-15)
        # different taste groups: the other collective barely touches this one's audience
        assert abs(entry["interaction"]) <= 0.1
    assert outcome.overall["n_collectives"] == 2 and outcome.overall["overlap"] == "disjoint"


def test_the_same_collective_twice_interacts_by_minus_its_effect(world, knn):
    """Shared participants, the same cells at the same value: the joint data are the solo data, so the joint
    effect is one solo effect and the interaction is minus one solo effect."""
    train, test, book_a, _ = world
    campaign = Campaign(targets=(book_a,), participants="closest", size=15)
    outcome = evaluate_composed(knn, train, test, [campaign, campaign], k=5, rng=0, overlap="shared")
    first, second = outcome.collectives
    assert first["effect_solo"] > 0
    assert first["effect_joint"] == first["effect_solo"] == second["effect_solo"]
    assert first["interaction"] == pytest.approx(-first["effect_solo"], abs=1e-15)
    assert first["efficacy_drop"] == 0.0
    assert outcome.joint.n_shared_users == 15 and outcome.joint.n_contested_cells == 15
    disjoint = apply_campaigns([campaign, campaign], train, [target_audience(test, (book_a,))] * 2, rng=0)
    assert disjoint.n_shared_users == 0 and disjoint.parts[1].acting.size == 15


def test_cells_claimed_twice_take_the_larger_value_and_writes_beat_removals(world):
    train, _, book_a, _ = world
    fan = int(train.matrix.tocsc()[:, [book_a]].indices[0])
    low = Campaign(targets=(book_a,), participants="explicit", members=(2, 4, fan), rating=2.0)
    high = dataclasses.replace(low, rating=4.5)
    drop = Campaign(targets=(book_a,), participants="explicit", members=(fan,), action="remove")
    audiences = [np.empty(0, np.int64)] * 2
    for pair in ((low, high), (high, low)):
        applied = apply_campaigns(list(pair), train, audiences, rng=0, overlap="shared")
        assert applied.interactions.matrix[[2, 4, fan], [book_a] * 3].tolist() == [4.5, 4.5, 4.5]
        assert applied.n_contested_cells == 3
    kept = apply_campaigns([drop, low], train, audiences, rng=0, overlap="shared")
    assert kept.interactions.matrix[fan, book_a] == 2.0 and kept.delta.removed_users.size == 0
    gone = apply_campaigns([drop], train, audiences[:1], rng=0)
    assert gone.interactions.matrix[fan, book_a] == 0.0
    np.testing.assert_array_equal(gone.delta.removed_users, [fan])


def test_disjoint_collectives_run_out_of_users_with_a_clear_error(world):
    train, test, book_a, _ = world
    audience = target_audience(test, (book_a,))
    outside = train.n_users - audience.size
    campaigns = [Campaign(targets=(book_a,), participants="majority", size=outside - 3),
                 Campaign(targets=(book_a,), participants="majority", size=5)]
    with pytest.raises(InvalidParameterError, match=r"has only 3 eligible users \(\d+ more already act"):
        apply_campaigns(campaigns, train, [audience, audience], rng=0)
    assert apply_campaigns(campaigns, train, [audience, audience], rng=0, overlap="shared").n_shared_users > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rng": None}, "non-negative int seed"),
        ({"rng": np.random.default_rng(0)}, "non-negative int seed"),
        ({"overlap": "disjiont"}, "did you mean 'disjoint'"),
        ({"names": ["x", "x"]}, "distinct names"),
        ({"what_if": "refti"}, "did you mean 'refit'"),
    ],
)
def test_bad_composed_arguments(world, knn, kwargs, message):
    train, test, book_a, book_b = world
    campaigns = [Campaign(targets=(book_a,)), Campaign(targets=(book_b,))]
    with pytest.raises(InvalidParameterError, match=message):
        evaluate_composed(knn, train, test, campaigns, **kwargs)
    with pytest.raises(InvalidParameterError, match="at least one Campaign"):
        evaluate_composed(knn, train, test, [])


def test_cold_fits_agree_with_an_exact_refit_and_differ_from_an_approximate_one(world, knn):
    """item-kNN's refit is bitwise a cold fit, so what_if="fit" changes nothing; ALS's is approximate: with cold
    fits the joint run is a cold fit of the joint data, checked by hand."""
    train, test, book_a, book_b = world
    campaigns = [Campaign(targets=(book_a,), participants="closest", size=15),
                 Campaign(targets=(book_b,), participants="closest", size=25)]
    by_refit = evaluate_composed(knn, train, test, campaigns, k=5, rng=2)
    by_fit = evaluate_composed(knn, train, test, campaigns, k=5, rng=2, what_if="fit")
    assert by_fit.exposure == by_refit.exposure and by_fit.overall["what_if"] == "fit"
    als = make_model("als", factors=8, iterations=3).fit(train)
    outcome = evaluate_composed(als, train, test, campaigns, k=5, rng=2, what_if="fit")
    cold = als.clone().fit(outcome.joint.interactions)
    audience = target_audience(test, (book_b,))
    assert outcome.collectives[1]["exposure_joint"] == float(
        np.isin(cold.recommend(audience, 5)[0], [book_b]).any(axis=1).mean())


# ------------------------------------------------------------------------------------------ intervals
def test_summary_over_seeds_is_the_t_interval_and_the_drop_a_ratio_of_means():
    rows = [{"model": "m", "collective": "A", "effect_solo": s, "effect_joint": j, "efficacy_drop": 1 - j / s}
            for s, j in ((0.4, 0.1), (0.5, 0.2), (0.3, 0.3))]
    (summary,) = summarize_interactions(rows, by=("model", "collective"), metrics=("effect_solo", "effect_joint"))
    values = np.array([0.4, 0.5, 0.3])
    half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / math.sqrt(3)
    assert summary["effect_solo"] == pytest.approx(0.4)
    assert summary["effect_solo_low"] == pytest.approx(0.4 - half) and summary["effect_solo_high"] == pytest.approx(
        0.4 + half)
    assert summary["efficacy_drop"] == pytest.approx(1 - 0.2 / 0.4)
    assert summary["drop_min"] == pytest.approx(0.0) and summary["drop_max"] == pytest.approx(0.75)
    assert summary["effective_alone"] and summary["n_seeds"] == 3


def test_interaction_rows_are_flat(world, knn):
    train, test, book_a, book_b = world
    outcome = evaluate_composed(knn, train, test, [Campaign(targets=(book_a,), participants="closest", size=10),
                                                   Campaign(targets=(book_b,), participants="closest", size=20)],
                                k=5, rng=1)
    rows = interaction_rows(outcome, dataset="toy", model="itemknn", seed=1)
    assert [r["collective"] for r in rows] == ["c1", "c2"]
    assert rows[1]["size"] == 20 and rows[0]["dataset"] == "toy" and rows[0]["action"] == "add"
    assert all(not isinstance(v, dict | list) for r in rows for v in r.values())


# ------------------------------------------------------------------------------------------ demotion
def _target_scores(model, users, item):
    return model.score(users)[:, item]


@pytest.mark.parametrize("action", ["remove", "rate_low"])
def test_demotion_lowers_the_targets_score_and_rank(world, knn, action):
    """Fans drop the target (or rate it 1): its item-kNN score falls for the audience, and fewer of them see it."""
    train, test, book_a, _ = world
    audience = target_audience(test, (book_a,))
    campaign = Campaign(targets=(book_a,), participants="fans", size=10, action=action, rating=1.0)
    outcome = evaluate_campaign(knn, train, test, campaign, k=10, rng=0)
    application = outcome.application
    assert application.n_actions == 10
    if action == "remove":
        assert application.delta.removed_users.size == 10 and application.added_users.size == 0
        assert all(application.interactions.matrix[u, book_a] == 0 for u in application.acting)
    else:
        assert all(application.interactions.matrix[u, book_a] == 1.0 for u in application.acting)
    after = copy.deepcopy(knn).refit(application.interactions, application.delta)
    before_scores = _target_scores(knn, audience, book_a)
    after_scores = _target_scores(after, audience, book_a)
    assert (after_scores <= before_scores + 1e-12).all() and after_scores.mean() < before_scores.mean()
    ranks_before = (knn.score(audience) > before_scores[:, None]).sum(axis=1)
    ranks_after = (after.score(audience) > after_scores[:, None]).sum(axis=1)
    assert ranks_after.mean() > ranks_before.mean()
    exposure = outcome.summary["target_exposure_after"], outcome.summary["target_exposure_before"]
    assert exposure[0] < exposure[1] if action == "remove" else exposure[0] <= exposure[1]


def test_demotion_specs_are_checked(world):
    train, test, book_a, _ = world
    with pytest.raises(InvalidParameterError, match=r"campaign\.action"):
        Campaign(targets=(1,), action="boycott")
    with pytest.raises(InvalidParameterError, match=r"campaign\.position"):
        Campaign(targets=(1,), action="remove", position="random")
    with pytest.raises(InvalidParameterError, match=r"campaign\.rating=5 is not low"):
        apply_campaign(Campaign(targets=(book_a,), action="rate_low"), train, target_audience(test, (book_a,)))
    assert "action" not in Campaign(targets=(1,)).as_dict()  # today's documents are unchanged
    assert Campaign(targets=(1,), action="remove").as_dict()["action"] == "remove"


def test_reading_split_campaign_is_unchanged_by_the_composition_rules():
    """The existing taste-group data (every rating 5): an add campaign through both paths, bitwise."""
    train, test = reading_split()
    target = (int(train.items.numbers(np.array([39]))[0]),)
    baseline = make_model("ease").fit(train)
    campaign = Campaign(targets=target, participants="closest", size=20)
    _same(evaluate_composed(baseline, train, test, [campaign], k=5, rng=0).collectives[0]["joint"],
          evaluate_campaign(baseline, train, test, campaign, k=5, rng=0).summary)
