"""The fast evaluator along R~(x) = B + x 1_C 1_T^T agrees with a full evaluation, on both of its paths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recollective.game import AbsoluteThreshold, CollectiveStrategy, RelativeThreshold, majority_minority, outcome
from recollective.game._family import RankOneFamily


def _family_matches_full_evaluation(R_true, members, targets, rule, xs):
    family = RankOneFamily(R_true, np.asarray(members), np.asarray(targets), rule)
    for x in xs:
        point = family.evaluate(float(x))
        full = outcome(R_true, CollectiveStrategy(members, targets, float(x)).apply(R_true), rule)
        assert point.rank == full.rank, x
        np.testing.assert_array_equal(point.utilities, full.utilities)
        np.testing.assert_array_equal(point.top_items, full.top_items)
    return family


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.floats(0.0, 12.0))
def test_low_rank_worlds_take_the_exact_core_path(seed, n_members, x):
    instance = majority_minority(30, 8, 20, 6, majority_rank=2, rng=seed)
    family = _family_matches_full_evaluation(
        instance.R_true, list(range(n_members)), [21], AbsoluteThreshold(instance.alpha), [0.0, x, 2 * x]
    )
    assert family.core is not None
    assert family.core[0].shape[1] <= 4  # rank 2 + rank 1 blocks, plus the members' direction


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 12.0))
def test_full_rank_worlds_take_the_gram_path(seed, x):
    instance = majority_minority(30, 8, 20, 6, majority_rank=2, noise=0.3, rng=seed)
    family = _family_matches_full_evaluation(
        instance.R_true, [0, 1, 2], [20, 22], AbsoluteThreshold(instance.alpha), [0.0, x]
    )
    assert family.core is None


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_relative_rule_and_wide_matrices(noise):
    rng = np.random.default_rng(7)
    R = rng.uniform(0, 1, (6, 3)) @ rng.uniform(0, 1, (3, 25))  # fewer users than items: the left-side Gram
    if noise:
        R = np.maximum(R + rng.normal(0, noise, R.shape), 0)
    _family_matches_full_evaluation(R, [1, 4], [3], RelativeThreshold(0.2), np.linspace(0, 6, 13))
