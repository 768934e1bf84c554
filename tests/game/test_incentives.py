"""Incentives: payoffs, individual rationality, free riders, minimal sub-collectives and the critical mass.

The planted answers use MISSION's instance (rank-2 majority block 4 x 3, rank-1 minority block 2 x 2, alpha 1%
above s_1(R_min)) with majority members uprating minority item 4 by x = 1, inside every single member's Pareto
window (tests/game/test_windows.py: each singleton's window is about [0.26, 5.005]). There:

* any single member makes the learner keep a third direction; the two minority users then get item 4, so the
  welfare gain is R*[4, 4] + R*[5, 4] = 0.6 + 0.48 = 1.08, and the member keeps utility 5;
* each member reports x = 1 != R*[u, 4] = 0: one strategic action each;
* so a lone member's margin for staying is 0 + lambda * 1.08 - c: individually rational iff c <= 1.08 lambda;
* a member of a collective that still works without it changes nobody's utility by leaving: margin -c, a free
  rider as soon as c > 0.

Observed on this instance (and asserted below as observations, not derivations): at x = 1 the pairs {0, 1} and
{2, 3} and the whole majority {0, 1, 2, 3} leave the learner at k* = 2 — their reports do not add a direction
above alpha — while every other non-empty sub-collective works with the same outcome as a singleton.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from recollective.errors import DataError, InvalidParameterError
from recollective.game import CollectiveStrategy, GameInstance, compare_utilities, majority_minority, outcome
from recollective.game.incentives import (
    CriticalMassResult,
    IncentiveReport,
    action_counts,
    critical_mass,
    incentives,
    minimal_subcollectives,
    payoffs,
)
from strategies import MISSION_ALPHA, MISSION_R_TRUE, majority_minority_instances, n_examples

GAIN = 0.6 + 0.48  # R*[4, 4] + R*[5, 4]
FAILING = {(0, 1), (2, 3), (0, 1, 2, 3)}  # sub-collectives that leave k* = 2 at x = 1 (observed)


def mission(members, x=1.0, target=4):
    return np.array(MISSION_R_TRUE), CollectiveStrategy(list(members), [target], x)


# ---------------------------------------------------------------------------------------------- payoffs


def test_payoffs_weigh_others_welfare_and_charge_actions():
    utilities = np.array([5.0, 1.0, 0.0, 2.0])
    actions = np.array([2, 0, 0, 1])
    result = payoffs(utilities, actions, altruism=0.5, cost=0.25)
    # pi_u = w_u + 0.5 * (SW - w_u) - 0.25 * a_u with SW = 8
    assert_array_equal(result, [5.0 + 1.5 - 0.5, 1.0 + 3.5, 0.0 + 4.0, 2.0 + 3.0 - 0.25])
    assert_array_equal(payoffs(utilities, actions), utilities)  # selfish and free
    assert_array_equal(payoffs(utilities, np.zeros(4), altruism=1.0), np.full(4, 8.0))  # utilitarian: SW


def test_action_counts_skip_truthful_entries():
    R = np.array(MISSION_R_TRUE)
    counts = action_counts(R, CollectiveStrategy([0, 4], [3, 4], 0.5))
    # user 4 truly rates item 3 at 0.5: that entry is not a strategic action
    assert_array_equal(counts, [2, 0, 0, 0, 1, 0])


# --------------------------------------------------------------------------------- planted: MISSION instance


def test_every_subcollective_of_the_majority_at_x_1_matches_the_observation():
    R = np.array(MISSION_R_TRUE)
    truthful = outcome(R, alpha=MISSION_ALPHA)
    assert_array_equal(truthful.utilities, [5, 5, 5, 5, 0, 0])
    for size in range(1, 5):
        for members in itertools.combinations(range(4), size):
            after = outcome(R, CollectiveStrategy(members, [4], 1.0).apply(R), MISSION_ALPHA).utilities
            expected = [5, 5, 5, 5, 0, 0] if members in FAILING else [5, 5, 5, 5, 0.6, 0.48]
            assert_array_equal(after, expected), members


@pytest.mark.parametrize("altruism, cost, rational", [(0.0, 0.0, True), (0.1, 0.108, True), (0.1, 0.11, False)])
def test_a_lone_member_is_rational_iff_cost_at_most_lambda_times_the_gain(altruism, cost, rational):
    report = incentives(*mission([0]), MISSION_ALPHA, altruism=altruism, cost=cost)
    assert isinstance(report, IncentiveReport)
    (member,) = report.members
    assert (member.user_idx, member.n_actions) == (0, 1)
    assert member.own_change == 0.0
    assert member.others_change == pytest.approx(GAIN, abs=1e-15)
    assert member.margin == pytest.approx(altruism * GAIN - cost, abs=1e-15)
    assert member.is_rational is rational
    assert member.is_pivotal and not member.is_free_rider  # without it nothing happens
    assert report.meets_criterion and report.is_stable is rational
    assert report.comparison.welfare_change == pytest.approx(GAIN, abs=1e-15)
    assert_array_equal(report.nonmember_free_riders, [4, 5])  # the minority gains without acting
    assert report.harmed_users.size == 0


def test_redundant_members_free_ride_once_acting_costs_something():
    report = incentives(*mission([0, 2]), MISSION_ALPHA, altruism=0.1, cost=0.05)
    assert report.meets_criterion
    for member in report.members:
        # leaving leaves a singleton that works just as well: nobody's utility moves
        assert (member.own_change, member.others_change) == (0.0, 0.0)
        assert member.margin == pytest.approx(-0.05, abs=1e-15)
        assert member.meets_without and not member.is_pivotal
        assert member.is_free_rider and not member.is_rational
    assert_array_equal(report.free_riders, [0, 2])
    assert report.rational_members.size == 0
    assert not report.is_stable
    # payoffs: each member 5 + 0.1 * (SW - 5) - 0.05 with SW = 20 + 1.08
    assert report.payoffs[0] == pytest.approx(5 + 0.1 * (15 + GAIN) - 0.05, abs=1e-12)
    assert report.truthful_payoffs[0] == pytest.approx(5 + 0.1 * 15, abs=1e-12)

    free = incentives(*mission([0, 2]), MISSION_ALPHA, altruism=0.1, cost=0.0)
    assert free.free_riders.size == 0 and free.is_stable  # indifferent members are rational, not free riders


def test_a_member_whose_departure_restores_the_effect_is_neither_pivotal_nor_a_free_rider():
    # {0, 1} fails (observed); {1} alone works, so member 0 staying costs everyone else the gain
    report = incentives(*mission([0, 1]), MISSION_ALPHA, altruism=0.5, cost=0.0)
    assert not report.meets_criterion
    member = report.members[0]
    assert member.others_change == pytest.approx(-GAIN, abs=1e-15)
    assert member.margin == pytest.approx(-0.5 * GAIN, abs=1e-15)
    assert member.meets_without and not member.is_pivotal and not member.is_free_rider
    assert not member.is_rational


def test_minimal_subcollectives_of_the_whole_majority():
    result = minimal_subcollectives(*mission([0, 1, 2, 3]), MISSION_ALPHA)
    assert not result.meets and result.greedy is None  # the whole majority fails at x = 1
    assert result.exact and result.n_meeting == 15 - len(FAILING)
    assert result.minimum_size == 1
    assert [s.tolist() for s in result.minimum] == [[0], [1], [2], [3]]
    assert [s.tolist() for s in result.inclusion_minimal] == [[0], [1], [2], [3]]
    assert result.is_monotone is False  # {0} works, {0, 1} does not
    assert result.greedy_is_minimum is False


def test_greedy_removal_drops_the_last_listed_member_on_ties():
    result = minimal_subcollectives(*mission([0, 2, 3]), MISSION_ALPHA)
    # {0,2,3}: dropping 0 leaves {2,3} (fails); dropping 2 or 3 keeps the gain 1.08 -> tie -> drop 3, then 2
    assert result.greedy.tolist() == [0]
    assert result.greedy_removed == (3, 2)
    assert result.minimum_size == 1 and result.greedy_is_minimum


def test_pareto_criterion_rejects_a_strategy_that_flips_a_members_top_item():
    # x = 6 lies above every singleton's window: the member's own top item becomes the target (utility 0)
    R, strategy = mission([0], x=6.0)
    effective = incentives(R, strategy, MISSION_ALPHA, altruism=1.0)
    member = effective.members[0]
    assert member.own_change == -5.0
    assert member.others_change == pytest.approx(GAIN, abs=1e-15)
    assert effective.comparison.welfare_change == pytest.approx(GAIN - 5.0, abs=1e-14)
    assert not effective.meets_criterion  # welfare falls
    assert_array_equal(effective.harmed_users, [0])
    # the utilitarian margin (lambda = 1, c = 0) is SW(C) - SW(C \ u)
    assert member.margin == pytest.approx(effective.comparison.welfare_change, abs=1e-14)
    # a very altruistic member (lambda = 5) would still stay: 5 * 1.08 > 5
    assert incentives(R, strategy, MISSION_ALPHA, altruism=5.0).members[0].is_rational
    R, strategy = mission([0], x=2.0)
    assert incentives(R, strategy, MISSION_ALPHA, criterion="pareto").meets_criterion


def test_welfare_gain_threshold():
    R, strategy = mission([0])
    assert incentives(R, strategy, MISSION_ALPHA, welfare_gain=1.08).meets_criterion  # within rtol
    assert not incentives(R, strategy, MISSION_ALPHA, welfare_gain=1.1).meets_criterion


def test_critical_mass_on_the_mission_instance():
    costs = np.array([0.0, 0.05, 0.1, 0.15, 0.3])
    altruisms = np.array([0.0, 0.1, 0.2])
    result = critical_mass(*mission([0, 1, 2, 3]), MISSION_ALPHA, costs=costs, altruisms=altruisms)
    assert isinstance(result, CriticalMassResult)
    assert result.exact
    assert_array_equal(result.prefix_meets, [True, False, True, False])  # {0}, {0,1}, {0,1,2}, all
    np.testing.assert_allclose(result.prefix_gains, [GAIN, 0.0, GAIN, 0.0], rtol=0, atol=1e-14)
    # one member suffices iff c <= 1.08 lambda; larger prefixes contain a free rider once c > 0
    expected = np.where(costs[None, :] <= GAIN * altruisms[:, None], 1, -1)
    assert_array_equal(result.prefix_size, expected)
    assert_array_equal(result.exact_size, expected)
    assert result.exact_members[2][2].tolist() == [0]  # first in the candidate order
    np.testing.assert_allclose(result.prefix_break_even[:, 0], GAIN * altruisms, rtol=1e-14)
    assert np.isnan(result.prefix_break_even[:, 1]).all()  # {0, 1} fails the criterion
    assert result.n_evaluations == 16  # every subset once, whatever the grid


def test_prefix_order_and_evaluation_count_without_exact():
    R, strategy = mission([0, 1, 2, 3])
    result = critical_mass(R, strategy, MISSION_ALPHA, order=[3, 2, 1, 0], exact=False)
    assert result.exact_size is None and result.exact_members is None
    assert_array_equal(result.order, [3, 2, 1, 0])
    assert_array_equal(result.prefix_meets, [True, False, True, False])  # {3}, {2,3} fails, ...
    # subsets evaluated: truthful, the 4 prefixes, and P_k \ u for u before the last of each meeting prefix
    assert result.n_evaluations == 1 + 4 + 0 + 2
    bigger = critical_mass(
        R, strategy, MISSION_ALPHA, order=[3, 2, 1, 0], exact=False, costs=np.linspace(0, 1, 7), altruisms=[0, 1]
    )
    assert bigger.n_evaluations == result.n_evaluations


def test_altruism_can_raise_the_critical_mass_when_the_member_hurts_others():
    """A rank-1 learner (alpha = 3 between s_2 = 2.08 and s_1 = 4.07) recommends every user the item with the
    largest entry of the leading right singular vector: item 1 under truthful play (utilities (0, 3, 0)). User 0
    exaggerates its liking of item 2 (reports 3 instead of 2): the leading vector tips to item 2 and everyone
    gets it (utilities (2, 1, 1)). User 0 gains 2, the others lose 1 in total: the margin is 2 - lambda - c, so
    the break-even cost is 2 - lambda and the critical mass rises from 1 to none as lambda grows."""
    R = np.array([[1.0, 0.0, 2.0], [2.0, 3.0, 1.0], [1.0, 0.0, 1.0]])
    strategy = CollectiveStrategy([0], [2], 3.0)
    report = incentives(R, strategy, 3.0, altruism=0.5, cost=1.5)
    (member,) = report.members
    assert (member.own_change, member.others_change) == (2.0, -1.0)
    assert member.margin == 0.0 and member.is_rational and member.is_pivotal
    assert report.comparison.welfare_change == 1.0

    altruisms = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    result = critical_mass(R, strategy, 3.0, costs=[0.0, 1.0, 1.5, 2.0, 2.5], altruisms=altruisms)
    np.testing.assert_allclose(result.prefix_break_even[:, 0], 2.0 - altruisms, rtol=0, atol=1e-15)
    assert_array_equal(
        result.exact_size,
        [[1, 1, 1, 1, -1], [1, 1, 1, -1, -1], [1, 1, 1, -1, -1], [1, 1, -1, -1, -1], [1, 1, -1, -1, -1]],
    )


def test_per_member_uprating_values_follow_the_members_through_any_order():
    # member 0 reports 0.1, below its window (~0.265): alone it changes nothing; member 2 reports 1.0 and works
    R = np.array(MISSION_R_TRUE)
    strategy = CollectiveStrategy([0, 2], [4], np.array([[0.1], [1.0]]))
    first_two = critical_mass(R, strategy, MISSION_ALPHA, order=[2, 0])
    assert_array_equal(first_two.prefix_meets, [True, True])
    assert_array_equal(first_two.prefix_size, [[1]])
    first_zero = critical_mass(R, strategy, MISSION_ALPHA, order=[0, 2])
    assert_array_equal(first_zero.prefix_meets, [False, True])
    np.testing.assert_allclose(first_zero.prefix_gains, [0.0, GAIN], rtol=0, atol=1e-14)
    # at c = 0, lambda = 0 both members of {0, 2} are indifferent: rational, so the prefix of 2 qualifies
    assert_array_equal(first_zero.prefix_size, [[2]])
    assert_array_equal(first_zero.exact_size, [[1]])
    assert first_zero.exact_members[0][0].tolist() == [2]


# ------------------------------------------------------------------------------------------------ validation


def test_invalid_arguments_name_the_argument():
    R, strategy = mission([0, 1])
    cases = [
        ({"altruism": -0.1}, "altruism"),
        ({"cost": float("nan")}, "cost"),
        ({"welfare_gain": -1}, "welfare_gain"),
        ({"criterion": "nash"}, "criterion"),
        ({"max_exact": -1}, "max_exact"),
        ({"exact": "yes"}, "exact"),
    ]
    for kwargs, name in cases:
        with pytest.raises(InvalidParameterError, match=name):
            incentives(R, strategy, MISSION_ALPHA, **kwargs)
    with pytest.raises(InvalidParameterError, match="costs"):
        critical_mass(R, strategy, MISSION_ALPHA, costs=[0.1, -1])
    with pytest.raises(InvalidParameterError, match="altruisms"):
        critical_mass(R, strategy, MISSION_ALPHA, altruisms=[])
    with pytest.raises(InvalidParameterError, match="order"):
        critical_mass(R, strategy, MISSION_ALPHA, order=[0, 2])
    with pytest.raises(InvalidParameterError, match="members"):
        incentives(R, CollectiveStrategy([0, 9], [4], 1.0), MISSION_ALPHA)
    with pytest.raises(InvalidParameterError, match="strategy"):
        incentives(R, ([0], [4], 1.0), MISSION_ALPHA)
    with pytest.raises(DataError, match="R_true"):
        incentives(np.full((6, 5), np.nan), strategy, MISSION_ALPHA)


def test_exact_enumeration_limit():
    R = np.array(MISSION_R_TRUE)
    strategy = CollectiveStrategy([0, 1, 2, 3], [4], 1.0)
    with pytest.raises(InvalidParameterError, match="max_exact = 3"):
        minimal_subcollectives(R, strategy, MISSION_ALPHA, exact=True, max_exact=3)
    with pytest.raises(InvalidParameterError, match="max_exact"):
        critical_mass(R, strategy, MISSION_ALPHA, exact=True, max_exact=3)
    automatic = minimal_subcollectives(R, strategy, MISSION_ALPHA, max_exact=3)
    assert not automatic.exact and automatic.minimum_size is None and automatic.minimum == ()
    assert critical_mass(R, strategy, MISSION_ALPHA, max_exact=3).exact_size is None


# ------------------------------------------------------------------------------------- properties, brute force


def brute_force(R, alpha, members, targets, x, altruism, cost, welfare_gain=0.0):
    """Independent reference: every subset through the public one-shot engine."""
    base = outcome(R, alpha=alpha).utilities
    tol = 1e-9 * max(1.0, float(R.max()))

    def utilities(subset):
        if not subset:
            return base
        return outcome(R, CollectiveStrategy(list(subset), targets, x).apply(R), alpha).utilities

    def meets(subset):
        gain = compare_utilities(base, utilities(subset)).welfare_change
        return gain > 0 and gain >= welfare_gain - tol

    def rational(subset):
        after = utilities(subset)
        for u in subset:
            before = utilities(tuple(v for v in subset if v != u))
            own = after[u] - before[u]
            others = math.fsum(np.delete(after - before, u))
            actions = sum(1 for t in targets if R[u, t] != x)
            if own + altruism * others - cost * actions < -tol:
                return False
        return True

    for size in range(1, len(members) + 1):
        for subset in itertools.combinations(members, size):
            if meets(subset) and rational(subset):
                return size
    return -1


def none_last(sizes: np.ndarray) -> np.ndarray:
    """Sizes with "none" (-1) mapped above every real size, so that orderings compare."""
    return np.where(sizes < 0, 10**6, sizes)


@st.composite
def incentive_cases(draw):
    instance = draw(majority_minority_instances(6, 4, 3, minority_rank=1))
    majority = instance.majority_users.tolist()
    members = draw(st.lists(st.sampled_from(majority), min_size=1, max_size=4, unique=True))
    target = draw(st.sampled_from(instance.minority_items.tolist()))
    x = draw(st.floats(0.05, 2.0)) * float(instance.R_true.max())
    costs = sorted(draw(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4)))
    altruisms = sorted(draw(st.lists(st.floats(0.0, 2.0), min_size=1, max_size=3)))
    return instance, members, [target], x, costs, altruisms


MISSION_CASE = (
    GameInstance(np.array(MISSION_R_TRUE), MISSION_ALPHA),
    [0, 1, 2, 3],
    [4],
    1.0,
    [0.0, 0.1, 0.2],
    [0.0, 0.1],
)


@settings(max_examples=n_examples(60))
@example(MISSION_CASE)
@given(incentive_cases())
def test_critical_mass_matches_brute_force_and_is_monotone_in_cost(case):
    instance, members, targets, x, costs, altruisms = case
    strategy = CollectiveStrategy(members, targets, x)
    result = critical_mass(
        instance.R_true, strategy, instance.alpha, costs=costs, altruisms=altruisms, order=members, exact=True
    )
    for i, altruism in enumerate(altruisms):
        for j, cost in enumerate(costs):
            assert result.exact_size[i, j] == brute_force(
                instance.R_true, instance.alpha, members, targets, x, altruism, cost
            )
    for sizes in (none_last(result.prefix_size), none_last(result.exact_size)):
        assert np.all(np.diff(sizes, axis=1) >= 0)  # more cost never lowers the critical mass
    # subsets include prefixes: the exact critical mass is never larger
    assert np.all(none_last(result.exact_size) <= none_last(result.prefix_size))
    assert result.n_evaluations <= 2 ** len(members)


@settings(max_examples=n_examples(60))
@example(MISSION_CASE)
@given(incentive_cases())
def test_more_altruism_lowers_the_critical_mass_when_nobody_hurts_others(case):
    """Margins are affine in lambda with slope others_change: when no member of any qualifying subset lowers
    the others' welfare, more altruism can only help. (With a negative slope it can hurt: a member whose
    report flips a non-member away from their favourite is less willing to act the more it cares.)"""
    instance, members, targets, x, _, _ = case
    altruisms = np.array([0.0, 0.05, 0.2, 1.0])
    costs = np.array([0.0, 0.02, 0.1])
    strategy = CollectiveStrategy(members, targets, x)
    result = critical_mass(
        instance.R_true, strategy, instance.alpha, costs=costs, altruisms=altruisms, order=members, exact=True
    )
    slopes_non_negative = True
    for size in range(1, len(members) + 1):
        for subset in itertools.combinations(members, size):
            sub = incentives(instance.R_true, CollectiveStrategy(list(subset), targets, x), instance.alpha)
            if sub.meets_criterion and any(m.others_change < 0 for m in sub.members):
                slopes_non_negative = False
    sizes = none_last(result.exact_size)
    if slopes_non_negative:
        assert np.all(np.diff(sizes, axis=0) <= 0)


@settings(max_examples=n_examples(60))
@example(MISSION_CASE)
@given(incentive_cases())
def test_greedy_is_one_minimal_and_agrees_with_exact_when_provably_optimal(case):
    instance, members, targets, x, _, _ = case
    R, alpha = instance.R_true, instance.alpha
    strategy = CollectiveStrategy(members, targets, x)
    result = minimal_subcollectives(R, strategy, alpha, exact=True)
    report = incentives(R, strategy, alpha, altruism=1.0)
    assert result.meets == report.meets_criterion
    if result.greedy is not None:
        greedy = result.greedy.tolist()
        assert incentives(R, CollectiveStrategy(greedy, targets, x), alpha).meets_criterion
        for u in greedy:  # 1-minimal: no single member can leave
            rest = [v for v in greedy if v != u]
            assert not rest or not incentives(R, CollectiveStrategy(rest, targets, x), alpha).meets_criterion
        assert result.minimum_size <= len(greedy)
        assert result.greedy_is_minimum == (len(greedy) == result.minimum_size)
        if result.is_monotone:  # then 1-minimal is inclusion-minimal
            assert any(s.tolist() == greedy for s in result.inclusion_minimal)
        singletons_work = all(
            incentives(R, CollectiveStrategy([u], targets, x), alpha).meets_criterion for u in members
        )
        if result.is_monotone and singletons_work:  # greedy must end at a singleton, which is optimal
            assert result.greedy_is_minimum
    # lambda = 1, c = 0: a member's margin is the welfare its departure would cost
    for member in report.members:
        assert member.margin == pytest.approx(member.own_change + member.others_change, abs=1e-12)


# ------------------------------------------------------------------------------- a generated 75 x 50 instance


def test_twelve_candidates_on_the_default_generated_instance():
    """``majority_minority(rng=0)`` (the CLI's ``game generate --seed 0``), majority users 0..11 uprating minority
    item 45 by x = 1.5, below the single-member window (about [3.16, 3.93] for user 13): observed numbers."""
    instance = majority_minority(rng=0)
    R, alpha = instance.R_true, instance.alpha
    strategy = CollectiveStrategy(list(range(12)), [45], 1.5)
    result = critical_mass(R, strategy, alpha, costs=[0.0, 0.1, 0.2, 0.5], altruisms=[0.0, 0.05, 0.1])
    # five joiners are needed before the learner keeps a third direction; the 10th pushes a member's top away
    assert_array_equal(result.prefix_meets, [False] * 4 + [True] * 8)
    np.testing.assert_allclose(result.prefix_gains[4:9], 4.92178, rtol=1e-5)
    assert_array_equal(result.prefix_size, [[-1, -1, -1, -1], [5, 5, -1, -1], [5, 5, 5, -1]])
    assert_array_equal(result.exact_size, [[5, -1, -1, -1], [5, 5, 5, -1], [5, 5, 5, 5]])
    assert result.n_evaluations == 2**12

    # the break-even cost of prefix 5 is its weakest member's benefit own + lambda * others
    prefix = incentives(R, CollectiveStrategy(list(range(5)), [45], 1.5), alpha)
    for i, altruism in enumerate(result.altruisms):
        weakest = min(m.own_change + altruism * m.others_change for m in prefix.members)
        expected = weakest if weakest >= 0 else np.nan
        np.testing.assert_allclose(result.prefix_break_even[i, 4], expected, rtol=1e-12)
    assert all(m.is_pivotal for m in prefix.members)  # a minimal prefix: every member is needed

    sub = minimal_subcollectives(R, strategy, alpha)
    assert sub.greedy.tolist() == [0, 2, 3, 4, 6] and sub.minimum_size == 5 and sub.greedy_is_minimum
    assert (len(sub.minimum), len(sub.inclusion_minimal), sub.is_monotone) == (755, 759, True)
