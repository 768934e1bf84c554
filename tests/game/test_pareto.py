"""Pareto comparison of two outcomes (MISSION.md: effective = SW strictly up; Pareto-effective = nobody worse
off, somebody strictly better off)."""

import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_array_equal

from recollective.errors import InvalidParameterError
from recollective.game import compare_outcomes, compare_utilities, outcome
from strategies import preference_matrices


def exact_difference(before: np.ndarray, after: np.ndarray) -> float:
    """sum(after) - sum(before) in exact rational arithmetic, rounded once."""
    return float(sum(map(Fraction, after.tolist())) - sum(map(Fraction, before.tolist())))


def test_welfare_change_is_exact():
    # (1e16 + 2) - (1e16 + 1) is 1 exactly, but summing each side in floats first gives 2: 1e16 + 1 rounds to 1e16.
    before = np.array([1e16, 1.0])
    after = np.array([1e16, 2.0])
    assert after.sum() - before.sum() == 2.0
    comparison = compare_utilities(before, after)
    assert comparison.welfare_change == 1.0
    # Many users on very different scales: the change is the correctly rounded exact (rational) difference.
    rng = np.random.default_rng(7)
    before = rng.uniform(0, 1, 1000) * 10.0 ** rng.integers(-8, 9, 1000)
    after = before * rng.uniform(0.5, 1.5, 1000)
    assert compare_utilities(before, after).welfare_change == exact_difference(before, after)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # nothing changes: neither effective nor Pareto
        ([1.0, 2.0, 0.0], [1.0, 2.0, 0.0], (0.0, 0, 3, 0, 0.0, False, False)),
        # one user gains, nobody loses: Pareto-effective and effective
        ([1.0, 2.0, 0.0], [1.0, 2.0, 0.5], (0.5, 1, 2, 0, 0.0, True, True)),
        # a gain of 5 and a loss of 1: effective but not Pareto
        ([1.0, 2.0, 0.0], [0.0, 2.0, 5.0], (4.0, 1, 1, 1, -1.0, True, False)),
        # a gain of 1 and a loss of 1: welfare unchanged, neither
        ([1.0, 2.0, 0.0], [0.0, 2.0, 1.0], (0.0, 1, 1, 1, -1.0, False, False)),
        # only a loss: neither
        ([1.0, 2.0, 0.0], [1.0, 1.5, 0.0], (-0.5, 0, 2, 1, -0.5, False, False)),
    ],
)
def test_pareto_semantics(before, after, expected):
    comparison = compare_utilities(np.array(before), np.array(after))
    observed = (
        comparison.welfare_change,
        comparison.n_better,
        comparison.n_unchanged,
        comparison.n_worse,
        comparison.worst_change,
        comparison.is_effective,
        comparison.is_pareto_effective,
    )
    assert observed == expected
    assert json.loads(json.dumps(comparison.as_dict()))["n_better"] == expected[1]


pairs = st.integers(1, 8).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=st.floats(0, 5, allow_subnormal=False), fill=st.nothing()),
        arrays(np.float64, n, elements=st.floats(0, 5, allow_subnormal=False), fill=st.nothing()),
    )
)


@given(pairs)
def test_comparison_invariants(pair):
    before, after = pair
    comparison = compare_utilities(before, after)
    assert comparison.n_better + comparison.n_unchanged + comparison.n_worse == before.size
    assert comparison.n_better == np.count_nonzero(after > before)
    assert comparison.n_worse == np.count_nonzero(after < before)
    assert comparison.worst_change == np.min(after - before)
    assert comparison.welfare_change == exact_difference(before, after)
    assert comparison.is_effective == (comparison.welfare_change > 0)
    assert comparison.is_pareto_effective == (bool(np.all(after >= before)) and bool(np.any(after > before)))
    if comparison.is_pareto_effective:  # a Pareto improvement strictly raises welfare
        assert comparison.is_effective
    reverse = compare_utilities(after, before)
    assert reverse.welfare_change == -comparison.welfare_change
    assert (reverse.n_better, reverse.n_worse) == (comparison.n_worse, comparison.n_better)


@given(preference_matrices(max_side=5), st.floats(0, 10))
def test_an_outcome_compared_with_itself_changes_nothing(R, alpha):
    comparison = compare_outcomes(outcome(R, alpha=alpha), outcome(R, R, alpha))
    assert comparison.welfare_change == 0.0
    assert (comparison.n_better, comparison.n_worse, comparison.n_unchanged) == (0, 0, R.shape[0])
    assert not comparison.is_effective
    assert not comparison.is_pareto_effective


def test_compare_outcomes_uses_utilities_on_the_true_preferences():
    R_true = np.array([[3.0, 1.0], [0.0, 2.0]])
    truthful = outcome(R_true, alpha=0.5)
    assert_array_equal(truthful.utilities, [3.0, 2.0])
    # User 0 reports a love for item 1 and gets it (utility 1 < 3): one user worse off, welfare down by 2.
    manipulated = outcome(R_true, np.array([[0.0, 9.0], [0.0, 2.0]]), 0.5)
    assert_array_equal(manipulated.top_items, [1, 1])
    comparison = compare_outcomes(truthful, manipulated)
    assert comparison.welfare_change == -2.0
    assert (comparison.n_better, comparison.n_worse, comparison.worst_change) == (0, 1, -2.0)
    assert not comparison.is_effective and not comparison.is_pareto_effective


def test_comparing_different_users_raises():
    with pytest.raises(InvalidParameterError, match=r"different users: shapes \(2,\) and \(3,\)"):
        compare_utilities(np.zeros(2), np.zeros(3))
    with pytest.raises(InvalidParameterError, match="different users"):
        compare_outcomes(outcome(np.ones((2, 2))), outcome(np.ones((3, 2))))
