"""Several collectives at once: joint outcomes, each collective's part, and joint windows.

Checked against independent paths: the single-collective engine (``outcome``, ``compare_outcomes``,
``effective_window``) for one collective, a brute-force numpy SVD of the joint R~ on random instances, and exact
``joint_outcome`` evaluations at points sampled inside the joint window's lines and certified cells.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from numpy.testing import assert_array_equal

from recollective.errors import InvalidParameterError
from recollective.game import (
    CollectiveStrategy,
    JointStrategy,
    compare_outcomes,
    effective_window,
    joint_outcome,
    joint_window,
    outcome,
)
from strategies import MISSION_ALPHA, MISSION_R_TRUE, is_generic, mission_case, n_examples, window_cases

# --------------------------------------------------------------------------------- one collective = the engine


@given(window_cases())
@example(mission_case())
@settings(max_examples=n_examples(40))
def test_one_collective_is_the_single_engine(case):
    rule = case.alpha
    truthful = outcome(case.R_true, alpha=rule)
    for x in np.linspace(0.0, case.x_max, 7):
        strategy = CollectiveStrategy(list(case.members), list(case.targets), float(x))
        single = outcome(case.R_true, strategy.apply(case.R_true), rule)
        report = joint_outcome(case.R_true, [strategy], rule)
        joint = report.outcome
        assert joint.rank == single.rank
        assert_array_equal(joint.top_items, single.top_items)
        assert_array_equal(joint.utilities, single.utilities)
        assert joint.social_welfare == single.social_welfare
        assert joint.platform == single.platform
        expected = compare_outcomes(truthful, single)
        (effect,) = report.collectives
        assert report.comparison == expected
        assert effect.solo_comparison == expected
        assert effect.marginal == expected
        assert effect.versus_solo.welfare_change == 0.0 and effect.versus_solo.n_worse == 0
        assert report.interaction_effect == 0.0
        assert_array_equal(JointStrategy((strategy,)).apply(case.R_true), strategy.apply(case.R_true))


def test_one_collective_windows_are_the_single_engine():
    """Twin collectives (same members and targets): the line x2 = 0 is the single-collective family, so its
    pieces and Pareto intervals are effective_window's; on the diagonal x1 = x2 the joint play is the single one."""
    case = mission_case(0, 4)
    c = CollectiveStrategy(list(case.members), list(case.targets), 1.0)
    single = effective_window(case.R_true, list(case.members), list(case.targets), case.alpha, 8.0)
    result = joint_window(case.R_true, [c, c], case.alpha, 8.0, n_cells=2, max_depth=0, lines=((0.0,), ()))
    (line,) = result.lines
    assert line.pareto_intervals == single.pareto_intervals
    assert result.solo_windows[0].pareto_intervals == single.pareto_intervals
    assert result.solo_windows[0].effective_intervals == single.effective_intervals
    assert line.tolerance == single.tolerance
    for segment in line.segments:
        piece = single.piece_at(0.5 * (segment.lo + segment.hi))
        assert segment.rank == piece.rank
        assert segment.social_welfare == pytest.approx(piece.social_welfare, abs=1e-12)
        assert segment.status.joint_pareto == piece.is_pareto_effective
    for x in (0.1, 1.0, 3.0, 6.0):
        twin = joint_outcome(case.R_true, [c.with_uprating(x), c.with_uprating(x)], case.alpha)
        alone = outcome(case.R_true, c.with_uprating(x).apply(case.R_true), case.alpha)
        assert_array_equal(twin.outcome.utilities, alone.utilities)
        assert twin.overlap_cells == 1


# ---------------------------------------------------------------------------------- brute force, 240 instances


def _brute_reveal(R, collectives):
    revealed = R.copy()
    best = {}
    for members, targets, x in collectives:
        for u in members:
            for t in targets:
                best[(u, t)] = max(best.get((u, t), -math.inf), x)
    for (u, t), x in best.items():
        revealed[u, t] = x
    return revealed


def _brute_utilities(R, revealed, alpha):
    U, s, Vt = np.linalg.svd(revealed)
    k = int(np.sum(s > alpha))
    R_hat = (U[:, :k] * s[:k]) @ Vt[:k]
    return k, R[np.arange(R.shape[0]), np.argmax(R_hat, axis=1)]


def _flags(before, after):
    gain = float(np.sum(after) - np.sum(before))
    return gain > 1e-12, bool(np.all(after >= before) and np.any(after > before)), gain


def test_joint_evaluation_equals_brute_force_svd():
    rng = np.random.default_rng(2026)
    checked = 0
    while checked < 240:
        m, n = rng.integers(3, 8), rng.integers(3, 7)
        R = rng.random((m, n)) * (rng.random((m, n)) < 0.7) * 5
        collectives = []
        for _ in range(rng.integers(2, 4)):
            members = sorted(rng.choice(m, rng.integers(1, 3), replace=False).tolist())
            targets = sorted(rng.choice(n, rng.integers(1, 3), replace=False).tolist())
            collectives.append((members, targets, float(rng.uniform(0, 6))))
        s = np.linalg.svd(R, compute_uv=False)
        k = rng.integers(1, s.size)
        alpha = float(s[k] + rng.uniform(0.2, 0.8) * (s[k - 1] - s[k]))
        worlds = [_brute_reveal(R, collectives), R]
        worlds += [_brute_reveal(R, [c]) for c in collectives]
        worlds += [_brute_reveal(R, collectives[:j] + collectives[j + 1:]) for j in range(len(collectives))]
        if not all(is_generic(world, alpha) for world in worlds):
            continue  # a knife-edge rank or a tie: the tie rule would decide, not the definitions
        checked += 1
        k_joint, joint = _brute_utilities(R, worlds[0], alpha)
        _, truthful = _brute_utilities(R, R, alpha)
        report = joint_outcome(R, [CollectiveStrategy(*c) for c in collectives], alpha)
        assert report.outcome.rank == k_joint
        assert_array_equal(report.outcome.utilities, joint)
        assert report.outcome.social_welfare == pytest.approx(joint.sum(), abs=1e-12)
        effective, pareto, gain = _flags(truthful, joint)
        assert (report.comparison.is_effective, report.comparison.is_pareto_effective) == (effective, pareto)
        solo_gains = []
        for j, effect in enumerate(report.collectives):
            _, solo = _brute_utilities(R, worlds[2 + j], alpha)
            _, without = _brute_utilities(R, worlds[2 + len(collectives) + j], alpha)
            e, p, g = _flags(truthful, solo)
            solo_gains.append(g)
            assert (effect.solo_comparison.is_effective, effect.solo_comparison.is_pareto_effective) == (e, p)
            assert effect.solo.social_welfare == pytest.approx(solo.sum(), abs=1e-12)
            assert effect.marginal.is_effective == _flags(without, joint)[0]
            assert effect.marginal.is_pareto_effective == _flags(without, joint)[1]
            assert effect.versus_solo.welfare_change == pytest.approx(joint.sum() - solo.sum(), abs=1e-9)
        assert report.interaction_effect == pytest.approx(gain - sum(solo_gains), abs=1e-9)
        assert report.overlap_cells == int(np.sum(_claims(R.shape, collectives) > 1))


def _claims(shape, collectives):
    counts = np.zeros(shape, dtype=int)
    for members, targets, _ in collectives:
        counts[np.ix_(members, targets)] += 1
    return counts


def test_shared_cells_take_the_largest_value():
    R = np.array(MISSION_R_TRUE)
    joint = JointStrategy((CollectiveStrategy([0, 1], [3, 4], 2.0), CollectiveStrategy([1, 2], [4], 5.0)))
    revealed = joint.apply(R)
    assert revealed[1, 4] == 5.0 and revealed[0, 4] == 2.0 and revealed[1, 3] == 2.0 and revealed[2, 4] == 5.0
    assert revealed[2, 3] == R[2, 3]
    assert joint.overlap_cells(R.shape) == 1
    assert_array_equal(joint.apply_without(R, 1), joint.collectives[0].apply(R))


# ------------------------------------------------------------------------------------------- joint windows


def _exact_status(R, pair, alpha, x1, x2):
    report = joint_outcome(R, [pair[0].with_uprating(x1), pair[1].with_uprating(x2)], alpha)
    solo = tuple(effect.solo_comparison.is_effective for effect in report.collectives)
    pareto = report.comparison.is_pareto_effective
    code = 3 if pareto and all(solo) else 2 if pareto else 1 if report.comparison.is_effective else 0
    return code, report


# (members 1, targets 1, members 2, targets 2, cells certified in the joint window at least)
WINDOW_CASES = {
    "different targets": ([0], [4], [2], [3], 5),
    "same target, same sub-community": ([0], [4], [1], [4], 5),
    "shared cells": ([0, 1], [3, 4], [1, 2], [4], 0),
}


@pytest.fixture(scope="module", params=list(WINDOW_CASES))
def window(request):
    m1, t1, m2, t2, n_certified = WINDOW_CASES[request.param]
    pair = (CollectiveStrategy(m1, t1, 1.0), CollectiveStrategy(m2, t2, 2.0))
    R = np.array(MISSION_R_TRUE)
    result = joint_window(R, pair, MISSION_ALPHA, 3.0, n_cells=6, max_depth=3, lines=((0.0, 1.6), (2.4,)))
    return R, pair, result, n_certified


def test_certified_cells_hold_at_sampled_points(window):
    R, pair, result, expected = window
    rng = np.random.default_rng(7)
    edges = result.edges
    n_certified = 0
    for i, j in zip(*np.nonzero(result.certified), strict=True):
        n_certified += 1
        for x1, x2 in zip(rng.uniform(edges[i], edges[i + 1], 4), rng.uniform(edges[j], edges[j + 1], 4),
                          strict=True):
            code, report = _exact_status(R, pair, MISSION_ALPHA, x1, x2)
            assert code == result.status[i, j], f"cell {(i, j)} at {(x1, x2)}"
            if code >= 2:
                assert report.comparison.is_pareto_effective and report.comparison.n_worse == 0
    assert np.count_nonzero(result.certified & (result.status == 3)) >= expected
    assert n_certified == np.count_nonzero(result.certified)
    # The point the collectives give is evaluated exactly.
    code, _ = _exact_status(R, pair, MISSION_ALPHA, 1.0, 2.0)
    assert result.at.code == code


def test_line_segments_hold_at_sampled_points(window):
    R, pair, result, _ = window
    n_checked = 0
    for line in result.lines:
        margin = 10 * line.tolerance + 1e-9
        for segment in line.segments:
            if segment.hi - segment.lo <= 4 * margin:
                continue
            for x in np.linspace(segment.lo + margin, segment.hi - margin, 3):
                point = (x, line.value) if line.varying == 0 else (line.value, x)
                code, report = _exact_status(R, pair, MISSION_ALPHA, *point)
                assert code == segment.status.code, f"line {line.varying}@{line.value}, x = {x}"
                assert report.outcome.rank == segment.rank
                assert report.collectives[1 - line.varying].marginal.is_effective == \
                    segment.status.marginal_effective[1 - line.varying]
                n_checked += 1
    assert n_checked >= 3 * len(result.lines)


def test_same_target_same_sub_community_interfere():
    """Users 0 and 1 of MISSION's instance both uprate minority item 4: each alone is Pareto-effective at 1.6,
    but together at (1.6, 1.6) the learner keeps no new direction (docs/collectives.md, Corollary J1)."""
    R = np.array(MISSION_R_TRUE)
    pair = (CollectiveStrategy([0], [4], 1.6), CollectiveStrategy([1], [4], 1.6))
    report = joint_outcome(R, pair, MISSION_ALPHA)
    assert all(effect.solo_comparison.is_pareto_effective for effect in report.collectives)
    assert report.outcome.rank == 2 and report.truthful.rank == 2
    assert not report.comparison.is_effective
    assert report.interaction_effect == pytest.approx(-2 * report.collectives[0].solo_comparison.welfare_change)


def test_joint_window_rejects_bad_input():
    R = np.array(MISSION_R_TRUE)
    c = CollectiveStrategy([0], [4], 1.0)
    with pytest.raises(InvalidParameterError, match="exactly two collectives; got 1"):
        joint_window(R, [c], MISSION_ALPHA, 8.0)
    with pytest.raises(InvalidParameterError, match="collective 1: targets: item index 9 is out of range"):
        joint_window(R, [c, CollectiveStrategy([1], [9], 1.0)], MISSION_ALPHA, 8.0)
    with pytest.raises(InvalidParameterError, match="x_max must be > 0"):
        joint_window(R, [c, c], MISSION_ALPHA, 0.0)
    with pytest.raises(InvalidParameterError, match="at least one collective"):
        joint_outcome(R, [], MISSION_ALPHA)
    with pytest.raises(InvalidParameterError, match="outside"):
        joint_window(R, [c, c], MISSION_ALPHA, 8.0, lines=((9.0,), ()))
