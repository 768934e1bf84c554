"""Collective strategies (MISSION.md): R~ = R* except R~[u, t] = x_{u,t} for members u and targets t."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from recollective.errors import InvalidParameterError
from recollective.game import CollectiveStrategy, compare_outcomes, outcome
from strategies import mission_case, preference_matrices


def test_apply_writes_the_uprating_on_the_block_only():
    R = np.arange(12, dtype=float).reshape(3, 4)
    original = R.copy()
    revealed = CollectiveStrategy([2, 0], [3, 1], 7.5).apply(R)
    expected = original.copy()
    expected[0, 1] = expected[0, 3] = expected[2, 1] = expected[2, 3] = 7.5
    assert_array_equal(revealed, expected)
    assert_array_equal(R, original)  # the input is not modified
    assert revealed is not R


def test_matrix_uprating_follows_sorted_indices():
    R = np.zeros((3, 3))
    strategy = CollectiveStrategy([2, 0], [1], [[1.0], [2.0]])  # rows are members 0 then 2
    assert_array_equal(strategy.members, [0, 2])
    revealed = strategy.apply(R)
    assert (revealed[0, 1], revealed[2, 1]) == (1.0, 2.0)
    assert revealed.sum() == 3.0


def test_strategy_is_plain_data():
    strategy = CollectiveStrategy(np.array([3, 1]), 4, 2)
    assert strategy.n_members == 2
    assert isinstance(strategy.uprating, float)
    assert strategy.as_dict() == {"members": [1, 3], "targets": [4], "uprating": 2.0}
    json.dumps(strategy.as_dict())
    other = strategy.with_uprating(0.5)
    assert other.uprating == 0.5 and strategy.uprating == 2.0
    assert_array_equal(other.members, strategy.members)
    assert_array_equal(CollectiveStrategy([2.0, 0.0], [1.0]).members, [0, 2])  # integral floats are indices
    matrix = CollectiveStrategy([0], [1, 2], [[0.5, 1.5]])
    assert matrix.as_dict()["uprating"] == [[0.5, 1.5]]


@given(preference_matrices(min_side=2, max_side=5), st.data())
def test_reporting_the_truth_changes_nothing(R, data):
    n_users, n_items = R.shape
    members = data.draw(st.lists(st.integers(0, n_users - 1), min_size=1, unique=True), label="members")
    targets = data.draw(st.lists(st.integers(0, n_items - 1), min_size=1, unique=True), label="targets")
    strategy = CollectiveStrategy(members, targets, R[np.ix_(sorted(members), sorted(targets))])
    revealed = strategy.apply(R)
    assert_array_equal(revealed, R)
    comparison = compare_outcomes(outcome(R, alpha=1.0), outcome(R, revealed, 1.0))
    assert (comparison.welfare_change, comparison.n_better, comparison.n_worse) == (0.0, 0, 0)


def test_a_strategy_on_the_mission_instance_helps_the_minority():
    case = mission_case()
    truthful = outcome(case.R_true, alpha=case.alpha)
    strategy = CollectiveStrategy(case.members, case.targets, 2.0)
    manipulated = outcome(case.R_true, strategy.apply(case.R_true), case.alpha)
    comparison = compare_outcomes(truthful, manipulated)
    assert (truthful.rank, manipulated.rank) == (2, 3)
    assert comparison.is_pareto_effective
    assert comparison.n_better == 2  # the two minority users
    assert comparison.welfare_change == pytest.approx(case.R_true[4, 4] + case.R_true[5, 4], abs=0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CollectiveStrategy([], [0]), "members is empty; give at least one user index"),
        (lambda: CollectiveStrategy([0], []), "targets is empty; give at least one item index"),
        (lambda: CollectiveStrategy([0, 0], [1]), "members lists user index 0 more than once"),
        (lambda: CollectiveStrategy([-1], [1]), "members: user index -1 is out of range"),
        (lambda: CollectiveStrategy([0], [-2]), "targets: item index -2 is out of range"),
        (lambda: CollectiveStrategy([0], [0], -1.0), "uprating values must be finite and >= 0; got -1.0"),
        (lambda: CollectiveStrategy([0], [0], float("nan")), "must be finite and >= 0"),
        (lambda: CollectiveStrategy([0, 1], [0], [1.0, 2.0]), "shape (n_members, n_targets) = (2, 1); got shape (2,)"),
        (lambda: CollectiveStrategy([0, 1], [0], [[1.0, 2.0]]), "got shape (1, 2)"),
        (lambda: CollectiveStrategy([0.5], [0]), "members must be integer user indices"),
        (lambda: CollectiveStrategy([0], ["a"]), "targets must be integer item indices"),
        (lambda: CollectiveStrategy([0], [0], "high"), "uprating must be numeric (x >= 0); got 'high'"),
    ],
)
def test_bad_strategies_raise(build, message):
    with pytest.raises(InvalidParameterError) as info:
        build()
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("members", "targets", "message"),
    [
        ([0, 3], [1], "members: user index 3 is out of range; valid user indices are 0..2"),
        ([0], [4], "targets: item index 4 is out of range; valid item indices are 0..3"),
    ],
)
def test_out_of_range_indices_raise_when_applied(members, targets, message):
    strategy = CollectiveStrategy(members, targets, 1.0)
    with pytest.raises(InvalidParameterError) as info:
        strategy.apply(np.ones((3, 4)))
    assert message in str(info.value)
