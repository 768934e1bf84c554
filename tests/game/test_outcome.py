"""The learner's outcome (MISSION.md, "The one-shot game"): k*, R^, top items, utilities, welfare, platform."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from recollective.errors import DataError, InvalidParameterError
from recollective.game import DEFAULT_TIE_RTOL, FixedRank, outcome, top_items
from strategies import (
    GenericGame,
    generic_games,
    integer_matrices,
    preference_matrices,
    reference_top_items,
    truncate,
)

# ------------------------------------------------------------------------------------------------ definitions


@given(preference_matrices(max_side=6), st.floats(0, 15))
def test_outcome_follows_the_definitions(R, alpha):
    result = outcome(R, alpha=alpha)
    s, rank, R_hat = truncate(R, alpha)
    scale = max(1.0, float(s[0]))
    assert_allclose(result.singular_values, s, rtol=0, atol=1e-12 * scale)
    if np.min(np.abs(s - alpha)) > 1e-12 * scale:  # away from the knife edge both learners agree on k*
        assert result.rank == rank
        assert_allclose(result.R_hat, R_hat, rtol=0, atol=1e-11 * scale)
    users = np.arange(R.shape[0])
    assert_array_equal(result.top_items, top_items(result.R_hat))
    assert_array_equal(result.utilities, R[users, result.top_items])  # exact copies of R* entries
    assert result.social_welfare == math.fsum(result.utilities)
    assert result.platform.realised_engagement == result.social_welfare
    assert result.platform.predicted_engagement == math.fsum(result.R_hat[users, result.top_items])
    assert result.platform.fit_error == pytest.approx(np.linalg.norm(R - result.R_hat), rel=1e-12, abs=1e-12)
    total = s.sum()
    expected_tvr = result.singular_values[: result.rank].sum() / total if total > 0 else 1.0
    assert result.platform.retained_variation == pytest.approx(expected_tvr, rel=1e-12)
    # Every user's top item is a maximiser of its row of R^ (up to the tie tolerance).
    tol = DEFAULT_TIE_RTOL * max(1.0, float(np.abs(result.R_hat).max()))
    assert np.all(result.R_hat[users, result.top_items] >= result.R_hat.max(axis=1) - tol)


@given(preference_matrices(max_side=5), st.floats(0, 15))
def test_truthful_play_is_the_default_and_changes_nothing(R, alpha):
    implicit = outcome(R, alpha=alpha)
    explicit = outcome(R, R.copy(), alpha)
    assert implicit.rank == explicit.rank
    assert_array_equal(implicit.top_items, explicit.top_items)
    assert_array_equal(implicit.utilities, explicit.utilities)
    assert implicit.social_welfare == explicit.social_welfare
    assert_array_equal(implicit.R_hat, explicit.R_hat)


def test_social_welfare_is_summed_exactly():
    # Utilities (1e16, 1, 1): a left-to-right float sum gives 1e16, the exact sum is 1e16 + 2. Users reveal the
    # identity, so each gets its own item, and are scored on R*.
    R = np.diag([1e16, 1.0, 1.0])
    result = outcome(R, np.eye(3), alpha=0.5)
    assert_array_equal(result.top_items, [0, 1, 2])
    assert_array_equal(result.utilities, [1e16, 1.0, 1.0])
    assert (1e16 + 1.0) + 1.0 == 1e16  # the naive sum loses both ones
    assert result.social_welfare == 1e16 + 2.0


def test_docstring_example_numbers():
    R = np.array([[3.0, 1.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 0.5]])
    result = outcome(R, alpha=1.0)
    assert result.rank == 1
    assert_array_equal(result.top_items, [0, 0, 0])
    assert result.social_welfare == 5.0
    summary = result.as_dict()
    assert summary["k_star"] == 1 and summary["top_items"] == [0, 0, 0]
    json.dumps(summary, allow_nan=False)  # JSON-ready


# ------------------------------------------------------------------------------------- permutation invariance


@given(generic_games(max_side=5), st.data())
def test_outcome_is_invariant_under_permuting_users_and_items(game: GenericGame, data):
    R, alpha = game.R, game.alpha
    n_users, n_items = R.shape
    users = np.array(data.draw(st.permutations(range(n_users)), label="user order"))
    items = np.array(data.draw(st.permutations(range(n_items)), label="item order"))
    before = outcome(R, alpha=alpha)
    after = outcome(R[users][:, items], alpha=alpha)  # new user a is old user users[a]; new item b is old items[b]
    assert after.rank == before.rank
    assert_allclose(after.singular_values, before.singular_values, rtol=1e-12, atol=1e-12)
    assert_array_equal(items[after.top_items], before.top_items[users])
    assert_array_equal(after.utilities, before.utilities[users])
    assert after.social_welfare == before.social_welfare  # same multiset of utilities, exact sum
    assert_allclose(
        after.R_hat, before.R_hat[users][:, items], rtol=0, atol=1e-11 * max(1.0, before.singular_values[0])
    )
    assert after.platform.predicted_engagement == pytest.approx(before.platform.predicted_engagement, rel=1e-12)


# ---------------------------------------------------------------------------------------------- degenerate


@pytest.mark.parametrize("alpha", [0.0, 0.5, 3.0])
def test_all_zero_matrix_keeps_nothing_and_recommends_item_zero(alpha):
    result = outcome(np.zeros((3, 4)), alpha=alpha)
    assert result.rank == 0
    assert_array_equal(result.singular_values, np.zeros(3))
    assert_array_equal(result.R_hat, np.zeros((3, 4)))
    assert_array_equal(result.top_items, [0, 0, 0])
    assert_array_equal(result.utilities, [0.0, 0.0, 0.0])
    assert result.social_welfare == 0.0
    assert result.platform.predicted_engagement == 0.0
    assert result.platform.fit_error == 0.0
    assert result.platform.retained_variation == 1.0  # documented convention when sum(s) = 0


def test_rank_one_matrix():
    a = np.array([1.0, 2.0, 0.5])
    b = np.array([0.2, 0.9, 0.4, 0.9001])
    R = np.outer(a, b)
    s1 = np.linalg.norm(a) * np.linalg.norm(b)
    kept = outcome(R, alpha=0.99 * s1)
    assert kept.rank == 1
    assert kept.singular_values[0] == pytest.approx(s1, rel=1e-14)
    assert_allclose(kept.singular_values[1:], 0.0, atol=1e-14)
    assert_allclose(kept.R_hat, R, rtol=0, atol=1e-14)
    assert_array_equal(kept.top_items, [3, 3, 3])  # argmax b for every user
    assert kept.social_welfare == pytest.approx(a.sum() * 0.9001, rel=1e-15)
    assert kept.platform.fit_error == pytest.approx(0.0, abs=1e-14)
    dropped = outcome(R, alpha=s1 * 1.0001)
    assert dropped.rank == 0
    assert_array_equal(dropped.top_items, [0, 0, 0])  # zero R^: all tie, all column norms 0, lowest index
    assert_allclose(dropped.utilities, a * 0.2, rtol=1e-15)
    assert dropped.platform.fit_error == pytest.approx(s1, rel=1e-14)


def test_one_by_one_matrix():
    kept = outcome([[3.0]], alpha=2.0)
    assert (kept.rank, kept.top_items.tolist(), kept.social_welfare) == (1, [0], 3.0)
    assert_allclose(kept.R_hat, [[3.0]], rtol=1e-15)
    assert kept.platform.retained_variation == 1.0
    dropped = outcome([[3.0]], alpha=3.0)  # s_1 = 3 is not > 3
    assert (dropped.rank, dropped.top_items.tolist(), dropped.social_welfare) == (0, [0], 3.0)
    assert dropped.platform.fit_error == 3.0
    assert dropped.platform.predicted_engagement == 0.0
    assert dropped.platform.retained_variation == 0.0
    zero = outcome([[0.0]], alpha=0.0)
    assert (zero.rank, zero.social_welfare) == (0, 0.0)


# ------------------------------------------------------------------------------------------------------ ties


def test_strict_argmax_decides_without_a_tie():
    assert_array_equal(top_items(np.array([[1.0, 3.0, 2.0], [5.0, 0.0, 4.999]])), [1, 0])


def test_tie_goes_to_the_larger_column_l1_norm():
    # User 0 ties items 0 and 1; column l1 norms are 1 and 2, so item 1 wins although it has the higher index.
    R = np.array([[1.0, 1.0], [0.0, 1.0]])
    result = outcome(R, alpha=0.0)
    assert result.rank == 2
    assert_array_equal(result.top_items, [1, 1])
    assert_array_equal(top_items(R), [1, 1])


def test_tie_in_score_and_column_norm_goes_to_the_lower_index():
    # User 0 ties items 1 and 2 (score 3), whose columns both have l1 norm 4: the lower index, 1, wins.
    # User 1 ties all three items (score 1); item 0's column norm is 2, so items 1 and 2 are preferred, then 1.
    R = np.array([[1.0, 3.0, 3.0], [1.0, 1.0, 1.0]])
    assert_array_equal(top_items(R), [1, 1])
    result = outcome(R, alpha=0.0)
    assert_array_equal(result.top_items, [1, 1])
    assert_array_equal(result.utilities, [3.0, 1.0])
    assert_array_equal(top_items(R[:, [0, 2, 1]]), [1, 1])  # swapping the tied columns keeps "lower index"


def test_scores_within_the_tie_tolerance_tie():
    # Item 0 is ahead by 1e-12 (inside 1e-9 * max(1, 5)), so the l1 rule sends user 0 to item 1.
    R = np.array([[1.0 + 1e-12, 1.0], [0.0, 5.0]])
    assert_array_equal(top_items(R), [1, 1])
    assert_array_equal(top_items(R, tie_rtol=0.0), [0, 1])  # no tolerance: the strict argmax
    ahead = np.array([[1.0 + 1e-6, 1.0], [0.0, 5.0]])  # ahead by far more than 5e-9
    assert_array_equal(top_items(ahead), [0, 1])


def test_tie_tolerance_is_relative_to_the_largest_score():
    # With scores near 1e6 the tolerance is 1e-9 * 1e6 = 1e-3: a lead of 1e-4 is a tie, a lead of 1e-2 is not.
    tied = np.array([[1e6 + 1e-4, 1e6], [0.0, 1e6]])
    assert_array_equal(top_items(tied), [1, 1])
    clear = np.array([[1e6 + 1e-2, 1e6], [0.0, 1e6]])
    assert_array_equal(top_items(clear), [0, 1])


@given(integer_matrices(max_side=5, max_value=3))
def test_tie_break_matches_the_reference_rule_on_exact_ties(R):
    assert_array_equal(top_items(R), reference_top_items(R))
    # The learner keeps every nonzero direction at alpha = 0, so R^ = R up to rounding and the rule still applies.
    assert_array_equal(outcome(R, alpha=0.0).top_items, reference_top_items(R))
    assert_array_equal(outcome(R, alpha=FixedRank(10)).top_items, reference_top_items(R))


@given(integer_matrices(max_side=5, max_value=2))
def test_tie_break_is_deterministic(R):
    first = outcome(R, alpha=0.5)
    again = outcome(R.copy(), alpha=0.5)
    assert_array_equal(first.top_items, again.top_items)
    assert_array_equal(first.utilities, again.utilities)


# ------------------------------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    ("R", "message"),
    [
        ([[1.0, -0.5], [0.0, 1.0]], "R_true contains 1 negative value(s), first -0.5 at [user 0, item 1]"),
        ([[1.0, 0.0], [np.nan, 1.0]], "R_true contains 1 NaN or infinite value(s), first at [user 1, item 0]"),
        ([[1.0, np.inf]], "NaN or infinite"),
        ([1.0, 2.0, 3.0], "R_true must be a 2-D matrix (users x items); got an array of shape (3,)"),
        (np.ones((2, 2, 2)), "must be a 2-D matrix"),
        (np.zeros((0, 3)), "R_true is empty (shape (0, 3))"),
        ([["a", "b"]], "R_true must be a numeric matrix"),
    ],
)
def test_bad_preferences_raise_data_error_naming_the_problem(R, message):
    with pytest.raises(DataError) as info:
        outcome(R, alpha=1.0)
    assert message in str(info.value)


def test_bad_revealed_matrix_raises_data_error():
    R = np.ones((2, 3))
    with pytest.raises(DataError, match=r"R_revealed has shape \(3, 2\) but R_true has shape \(2, 3\)"):
        outcome(R, np.ones((3, 2)), 1.0)
    revealed = R.copy()
    revealed[0, 1] = -2.0
    with pytest.raises(DataError, match=r"R_revealed contains 1 negative value\(s\), first -2 at \[user 0, item 1\]"):
        outcome(R, revealed, 1.0)
    revealed = R.copy()
    revealed[1, 2] = np.nan
    with pytest.raises(
        DataError, match=r"R_revealed contains 1 NaN or infinite value\(s\), first at \[user 1, item 2\]"
    ):
        outcome(R, revealed, 1.0)


@pytest.mark.parametrize("alpha", [-1.0, -1e-300, float("nan"), float("inf"), "abc", None])
def test_bad_alpha_raises_invalid_parameter_error(alpha):
    with pytest.raises(InvalidParameterError, match="alpha must be a"):
        outcome(np.ones((2, 2)), alpha=alpha)
