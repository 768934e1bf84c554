"""The online matrix-completion game: consistency with the one-shot engine, recovery, collectives, errors."""

import numpy as np
import pytest

from recollective.errors import InvalidParameterError
from recollective.game import AbsoluteThreshold, CollectiveStrategy, majority_minority, outcome
from recollective.game.online import (
    CollectiveInLoop,
    OnlineConfig,
    build,
    latent_preferences,
    run_online,
    simulate,
    soft_impute,
    summarise,
    usvt,
)


@pytest.fixture(scope="module")
def instance():
    return majority_minority(rng=0)


@pytest.mark.parametrize("estimator", ["usvt", "als"])
def test_full_observation_without_noise_matches_the_one_shot_engine(instance, estimator):
    config = OnlineConfig(rounds=6, explore_rounds=2, observe_prob=1.0, estimator=estimator)
    run = simulate(instance.R_true, instance.alpha, config, seed=3)
    expected = outcome(instance.R_true, None, instance.alpha)
    assert run.final_rank == expected.rank
    if estimator == "usvt":  # USVT at alpha on fully observed data *is* the one-shot learner
        np.testing.assert_array_equal(run.final_top_items, expected.top_items)
        assert run.welfare[-1] == pytest.approx(expected.social_welfare, rel=1e-12)
        assert run.minority_welfare[-1] == 0.0  # suppression
    else:  # ALS refines the same rank-k* fit; it must serve the same welfare up to its ridge bias
        assert run.welfare[-1] == pytest.approx(expected.social_welfare, rel=0.02)


def test_reports_are_what_the_learner_sees(instance):
    strategy = CollectiveStrategy([13], [45], 3.6)
    reported = strategy.apply(instance.R_true)
    config = OnlineConfig(rounds=4, explore_rounds=1, observe_prob=1.0)
    static = simulate(instance.R_true, instance.alpha, config, R_reported=reported, user_group=instance.user_group)
    in_loop = simulate(
        instance.R_true,
        instance.alpha,
        config,
        collective=CollectiveInLoop(members=[13], targets=[45], uprating=3.6),
        user_group=instance.user_group,
    )
    expected = outcome(instance.R_true, reported, instance.alpha)
    for run in (static, in_loop):
        np.testing.assert_array_equal(run.final_top_items, expected.top_items)
        assert run.final_rank == expected.rank == 3
        assert run.minority_welfare[-1] == pytest.approx(expected.utilities[instance.minority_users].sum())
        assert run.minority_welfare[-1] > 0


def test_completion_error_falls_as_exploration_grows():
    R = latent_preferences(120, 60, 3, rng=1) * 4
    errors = []
    for explore in (5, 20, 80):
        config = OnlineConfig(rounds=explore, explore_rounds=explore, noise=0.05)
        summary = run_online(R, 1.0, config, seeds=range(4))
        errors.append(summary.completion_error.mean[0])
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.5 * errors[0]


def test_soft_impute_recovers_a_low_rank_matrix_from_half_its_entries():
    rng = np.random.default_rng(0)
    R = latent_preferences(80, 40, 2, rng=2) * 5
    mask = rng.random(R.shape) < 0.5
    completion = soft_impute(np.where(mask, R, 0.0), mask, shrinkage=0.5, max_iter=300, tol=1e-7)
    error = np.linalg.norm(completion.R_hat - R) / np.linalg.norm(R)
    baseline = usvt(np.where(mask, R, 0.0), mask, AbsoluteThreshold(5.0))
    assert error < 0.05
    assert error < np.linalg.norm(baseline.R_hat - R) / np.linalg.norm(R)


def test_same_seed_same_numbers_and_common_random_numbers(instance):
    config = OnlineConfig(rounds=30, explore_rounds=10, noise=0.2)
    a = simulate(instance.R_true, instance.alpha, config, seed=5)
    b = simulate(instance.R_true, instance.alpha, config, seed=5)
    np.testing.assert_array_equal(a.welfare, b.welfare)
    np.testing.assert_array_equal(a.final_top_items, b.final_top_items)
    c = simulate(instance.R_true, instance.alpha, config, seed=6)
    assert not np.array_equal(a.welfare, c.welfare)
    # A collective nobody joins changes nothing: the exploration draws and noise are shared.
    idle = CollectiveInLoop(members=[13], targets=[45], uprating=3.6, participation=0.0)
    d = simulate(instance.R_true, instance.alpha, config, collective=idle, seed=5)
    np.testing.assert_array_equal(a.welfare, d.welfare)
    assert d.participants.size == 0


def test_budgeted_seeking_adds_observations_of_the_targets(instance):
    config = OnlineConfig(rounds=5, explore_rounds=5)
    seeking = CollectiveInLoop(members=[0, 1, 2], targets=[45, 46], uprating=3.0, budget=2)
    run = simulate(instance.R_true, instance.alpha, config, collective=seeking, seed=1)
    plain = simulate(instance.R_true, instance.alpha, config, seed=1)
    assert run.observed_fraction > plain.observed_fraction
    np.testing.assert_array_equal(run.participants, [0, 1, 2])


def test_rank_and_predictions_start_after_exploration(instance):
    config = OnlineConfig(rounds=8, explore_rounds=3, slate_size=3, epsilon=0.2, refit_every=2)
    run = simulate(instance.R_true, instance.alpha, config, seed=0)
    assert (run.rank[:3] == -1).all() and (run.rank[3:] >= 0).all()
    assert np.isnan(run.predicted_engagement[:3]).all() and np.isfinite(run.predicted_engagement[3:]).all()
    for series in (run.retained_variation_per_round, run.fit_error_per_round):
        assert np.isnan(series[:3]).all() and np.isfinite(series[3:]).all()
    assert ((run.retained_variation_per_round[3:] > 0) & (run.retained_variation_per_round[3:] <= 1)).all()
    assert (run.regret >= -1e-12).all()


def test_summaries_have_student_t_intervals():
    samples = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    summary = summarise(samples)
    np.testing.assert_allclose(summary.mean, [3.0, 2.0])
    np.testing.assert_allclose(summary.half_width, [4.302652729911275 * 2 / np.sqrt(3), 0.0])
    assert np.isnan(summarise(samples[:1]).half_width).all()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rounds": 0}, "rounds: Input should be greater than or equal to 1"),
        ({"rounds": 5, "explore_rounds": 6}, "explore_rounds (6) must be <= rounds (5)"),
        ({"observe_prob": 1.5}, "observe_prob: Input should be less than or equal to 1"),
        ({"noise": -1}, "noise: Input should be greater than or equal to 0"),
        ({"estimator": "svd++"}, "estimator: Input should be 'usvt', 'softimpute' or 'als'"),
        ({"bogus": 1}, "bogus: Extra inputs are not permitted"),
    ],
)
def test_bad_configs_name_the_field(values, message):
    with pytest.raises(InvalidParameterError) as info:
        build(OnlineConfig, **values)
    assert message in str(info.value)


def test_bad_inputs(instance):
    config = OnlineConfig(rounds=2, explore_rounds=1)
    with pytest.raises(InvalidParameterError, match="finite"):
        simulate(np.array([[1.0, np.nan]]), 1.0, config)
    with pytest.raises(InvalidParameterError, match="members: user index 99 is out of range"):
        simulate(instance.R_true, 1.0, config, collective=CollectiveInLoop(members=[99], targets=[0], uprating=1))
    with pytest.raises(InvalidParameterError, match="R_reported has shape"):
        simulate(instance.R_true, 1.0, config, R_reported=np.ones((2, 2)))
    with pytest.raises(InvalidParameterError, match="seed"):
        simulate(instance.R_true, 1.0, config, seed=-1)


def test_seeking_with_noise_keeps_common_random_numbers(instance):
    # A member who seeks the target but reports its true value changes nothing the learner sees on other pairs.
    # (With the seeking noise drawn from the shared stream, every later draw shifted and about a third of the
    # users' final recommendations changed.)
    truth = float(instance.R_true[13, 45])
    seeker = CollectiveInLoop(members=[13], targets=[45], uprating=truth, budget=1)
    config = OnlineConfig(rounds=110, explore_rounds=100, noise=0.1)
    for seed in range(3):
        plain = simulate(instance.R_true, instance.alpha, config, seed=seed)
        seeking = simulate(instance.R_true, instance.alpha, config, collective=seeker, seed=seed)
        np.testing.assert_array_equal(plain.final_top_items, seeking.final_top_items)
        np.testing.assert_array_equal(plain.welfare, seeking.welfare)


def test_user_group_is_validated(instance):
    config = OnlineConfig(rounds=2, explore_rounds=1)
    for labels in ([1, 1, 0], np.full(instance.R_true.shape[0], 2)):
        with pytest.raises(InvalidParameterError, match="user_group must hold 75 labels"):
            simulate(instance.R_true, 1.0, config, user_group=labels)


def test_als_rank_is_capped(instance):
    config = OnlineConfig(rounds=3, explore_rounds=3, noise=0.3, estimator="als", als_max_rank=5)
    run = simulate(instance.R_true, 0.5, config, seed=0)
    assert run.final_rank == 5


def test_seeking_only_collective_reports_only_what_it_seeks(instance):
    # Full observation for one round: the member is seen once on item 45 (truthfully: 0), then seeks it 20 times
    # reporting 3.6, so the learner's mean there is 20 * 3.6 / 21 = 3.43, inside the one-shot window [3.157, 3.930].
    config = OnlineConfig(rounds=3, explore_rounds=1, observe_prob=1.0)
    passive = CollectiveInLoop(members=[13], targets=[45], uprating=3.6, report_when_met=False)
    seeking = CollectiveInLoop(members=[13], targets=[45], uprating=3.6, report_when_met=False, budget=20)
    plain = simulate(instance.R_true, instance.alpha, config, seed=2)
    idle = simulate(instance.R_true, instance.alpha, config, collective=passive, seed=2)
    np.testing.assert_array_equal(idle.final_top_items, plain.final_top_items)
    acted = simulate(instance.R_true, instance.alpha, config, collective=seeking, seed=2)
    expected = outcome(
        instance.R_true, CollectiveStrategy([13], [45], 20 * 3.6 / 21).apply(instance.R_true), instance.alpha
    )
    assert plain.final_rank == 2 and acted.final_rank == expected.rank == 3
    np.testing.assert_array_equal(acted.final_top_items, expected.top_items)
