"""Rank rules of the alpha-loss-tolerant learner (MISSION.md: k* and its variants) on planted spectra."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from recollective.errors import InvalidParameterError
from recollective.game import (
    AbsoluteThreshold,
    FixedRank,
    RelativeThreshold,
    RetainedVariation,
    as_rank_rule,
    outcome,
    rank_rule_from_name,
)
from strategies import preference_matrices

# A non-negative matrix with planted singular values (4, 3, 2, 1): a permuted diagonal. The rank-k truncation
# keeps the k largest entries and zeroes the rest, so every R^ below is known exactly.
PLANTED_S = np.array([4.0, 3.0, 2.0, 1.0])
_ROWS = [2, 0, 3, 1]
_COLS = [1, 3, 0, 4]
PLANTED = np.zeros((4, 5))
PLANTED[_ROWS, _COLS] = PLANTED_S


def planted_truncation(k: int) -> np.ndarray:
    R_hat = np.zeros_like(PLANTED)
    R_hat[_ROWS[:k], _COLS[:k]] = PLANTED_S[:k]
    return R_hat


def test_planted_matrix_has_the_planted_singular_values():
    assert_allclose(np.linalg.svd(PLANTED, compute_uv=False), PLANTED_S, rtol=0, atol=1e-14)
    assert_allclose(outcome(PLANTED, alpha=0.0).singular_values, PLANTED_S, rtol=0, atol=1e-14)


# alpha -> k*: strictly greater than alpha is kept, so alpha equal to a singular value drops it.
@pytest.mark.parametrize(
    ("alpha", "expected"),
    [(0.0, 4), (0.5, 4), (1.0, 3), (1.999, 3), (2.0, 2), (2.5, 2), (3.0, 1), (3.999, 1), (4.0, 0), (100.0, 0)],
)
def test_absolute_threshold_counts_singular_values_above_alpha(alpha, expected):
    assert AbsoluteThreshold(alpha).rank(PLANTED_S) == expected
    result = outcome(PLANTED, alpha=alpha)  # a float alpha means the absolute rule (the default)
    assert result.rank == expected
    assert_allclose(result.R_hat, planted_truncation(expected), rtol=0, atol=1e-13)
    assert result.platform.fit_error == pytest.approx(math.sqrt(np.sum(PLANTED_S[expected:] ** 2)), abs=1e-13)
    assert result.platform.retained_variation == pytest.approx(PLANTED_S[:expected].sum() / 10.0, abs=1e-15)


def test_default_alpha_is_one_and_absolute():
    assert outcome(PLANTED).rank == 3  # s = (4, 3, 2, 1): 1 is not > 1
    assert as_rank_rule(2.5) == AbsoluteThreshold(2.5)
    rule = RelativeThreshold(0.3)
    assert as_rank_rule(rule) is rule


@pytest.mark.parametrize(("k", "expected"), [(0, 0), (1, 1), (3, 3), (4, 4), (9, 4)])
def test_fixed_rank_keeps_k_directions_or_all_of_them(k, expected):
    assert FixedRank(k).rank(PLANTED_S) == expected
    result = outcome(PLANTED, alpha=FixedRank(k))
    assert result.rank == expected
    assert_allclose(result.R_hat, planted_truncation(expected), rtol=0, atol=1e-13)


# Relative: keep s_j > alpha * s_1 with s_1 = 4.
@pytest.mark.parametrize(
    ("alpha", "expected"), [(0.0, 4), (0.2, 4), (0.25, 3), (0.3, 3), (0.5, 2), (0.74, 2), (0.75, 1), (1.0, 0)]
)
def test_relative_threshold_scales_alpha_by_the_top_singular_value(alpha, expected):
    assert RelativeThreshold(alpha).rank(PLANTED_S) == expected
    assert outcome(PLANTED, alpha=RelativeThreshold(alpha)).rank == expected


# TVR(k) = (0.4, 0.7, 0.9, 1.0) for k = 1..4 (sum of s = 10); the smallest k with TVR(k) >= 1 - alpha.
# Equality counts (alpha = 0.3 and 0.1 land exactly on TVR(2) and TVR(3) up to rounding).
@pytest.mark.parametrize(
    ("alpha", "expected"),
    [(0.0, 4), (0.05, 4), (0.1, 3), (0.2, 3), (0.3, 2), (0.35, 2), (0.6, 1), (0.61, 1), (0.59, 2), (1.0, 0)],
)
def test_retained_variation_is_the_smallest_rank_reaching_one_minus_alpha(alpha, expected):
    assert RetainedVariation(alpha).rank(PLANTED_S) == expected
    result = outcome(PLANTED, alpha=RetainedVariation(alpha))
    assert result.rank == expected
    assert_allclose(result.R_hat, planted_truncation(expected), rtol=0, atol=1e-13)
    if expected:
        assert result.platform.retained_variation >= 1 - alpha - 1e-12


def test_rules_on_a_hand_computed_non_diagonal_spectrum():
    # [[2, 1], [1, 2]] has eigenvalues 3 and 1 (symmetric positive definite, so s = (3, 1));
    # [[3, 0], [4, 0]] has s = (5, 0).
    R = np.array([[2.0, 1.0], [1.0, 2.0]])
    assert_allclose(outcome(R, alpha=0.0).singular_values, [3.0, 1.0], rtol=1e-15)
    assert outcome(R, alpha=0.999).rank == 2
    assert outcome(R, alpha=1.001).rank == 1  # (s_2 computes to 1 + 2e-16, so alpha = 1 is a knife edge here)
    assert_allclose(outcome(R, alpha=1.001).R_hat, np.full((2, 2), 1.5), rtol=1e-14)  # 3 * u u^T, u = (1, 1)/sqrt2
    assert outcome(R, alpha=RelativeThreshold(1 / 3 - 1e-9)).rank == 2
    assert outcome(R, alpha=RelativeThreshold(0.34)).rank == 1
    assert outcome(R, alpha=RetainedVariation(0.25)).rank == 1  # TVR(1) = 3/4
    assert outcome(R, alpha=RetainedVariation(0.24)).rank == 2
    R = np.array([[3.0, 0.0], [4.0, 0.0]])
    assert_allclose(outcome(R, alpha=0.0).singular_values, [5.0, 0.0], rtol=0, atol=1e-15)
    assert outcome(R, alpha=0.0).rank == 1  # the zero singular value is never kept
    assert outcome(R, alpha=RetainedVariation(0.0)).rank == 1


@given(preference_matrices(max_side=6), st.floats(0, 20), st.floats(0, 20))
def test_rank_is_non_increasing_in_alpha(R, alpha_a, alpha_b):
    low, high = sorted((alpha_a, alpha_b))
    at_low, at_high = outcome(R, alpha=low), outcome(R, alpha=high)
    assert at_low.rank >= at_high.rank
    s = at_low.singular_values
    assert at_low.rank == np.count_nonzero(s > low)
    assert at_high.rank == np.count_nonzero(s > high)
    assert_allclose(s, np.linalg.svd(R, compute_uv=False), rtol=0, atol=1e-12 * max(1.0, s[0]))


@given(preference_matrices(max_side=6), st.floats(0, 1), st.floats(0, 1))
def test_relative_and_tvr_ranks_are_non_increasing_in_alpha(R, alpha_a, alpha_b):
    low, high = sorted((alpha_a, alpha_b))
    s = np.linalg.svd(R, compute_uv=False)
    assert RelativeThreshold(low).rank(s) >= RelativeThreshold(high).rank(s)
    assert RetainedVariation(low).rank(s) >= RetainedVariation(high).rank(s)
    # TVR's rank reaches 1 - alpha, and one direction fewer does not (up to the rule's 1e-12 slack).
    k = RetainedVariation(low).rank(s)
    if s.sum() > 0:
        cumulative = np.concatenate([[0.0], np.cumsum(s)]) / s.sum()
        assert cumulative[k] >= 1 - low - 1e-12
        if k > 0:
            assert cumulative[k - 1] < 1 - low + 1e-12


@given(preference_matrices(max_side=5), st.integers(0, 6))
def test_fixed_rank_truncation_matches_an_independent_svd(R, k):
    U, s, Vt = np.linalg.svd(R, full_matrices=False)
    kept = min(k, s.size)
    expected = (U[:, :kept] * s[:kept]) @ Vt[:kept]
    result = outcome(R, alpha=FixedRank(k))
    assert result.rank == kept
    assert_allclose(result.R_hat, expected, rtol=0, atol=1e-12 * max(1.0, s[0]))


def test_absolute_rank_radius_is_weyl_tight():
    # k* = 2 at alpha = 2.4: s_2 - alpha = 0.6, alpha - s_3 = 0.4 -> radius 0.4.
    assert AbsoluteThreshold(2.4).rank_radius(PLANTED_S) == pytest.approx(0.4, abs=1e-15)
    assert AbsoluteThreshold(2.8).rank_radius(PLANTED_S) == pytest.approx(0.2, abs=1e-15)
    assert AbsoluteThreshold(2.0).rank_radius(PLANTED_S) == 0.0  # alpha on a singular value
    assert AbsoluteThreshold(5.0).rank_radius(PLANTED_S) == pytest.approx(1.0)  # k* = 0: alpha - s_1
    assert FixedRank(2).rank_radius(PLANTED_S) == math.inf


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("absolute", 2.5, AbsoluteThreshold(2.5)),
        ("fixed", 3.0, FixedRank(3)),
        ("relative", 0.5, RelativeThreshold(0.5)),
        ("tvr", 0.1, RetainedVariation(0.1)),
    ],
)
def test_rank_rule_from_name(name, value, expected):
    rule = rank_rule_from_name(name, value)
    assert rule == expected
    assert rule.name == name
    assert rule.parameter == pytest.approx(value)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: rank_rule_from_name("median", 0.5), "unknown rank rule 'median'"),
        (lambda: rank_rule_from_name("fixed", 2.5), "integer k"),
        (lambda: FixedRank(-1), "k must be an integer >= 0"),
        (lambda: FixedRank(2.0), "k must be an integer >= 0"),
        (lambda: FixedRank(True), "k must be an integer >= 0"),
        (lambda: AbsoluteThreshold(-0.1), "alpha must be a finite number >= 0"),
        (lambda: AbsoluteThreshold(float("nan")), "alpha must be a finite number >= 0"),
        (lambda: RelativeThreshold(1.5), "relative alpha must lie in [0, 1]"),
        (lambda: RetainedVariation(1.01), "tvr alpha must lie in [0, 1]"),
        (lambda: as_rank_rule("0.5x"), "alpha must be a number >= 0"),
    ],
)
def test_invalid_rules_raise_naming_the_parameter(build, message):
    with pytest.raises(InvalidParameterError) as info:
        build()
    assert message in str(info.value)
