"""Effective windows: the uprating values x for which "members report x on the targets" is (Pareto-)effective.

Every claim of a :class:`WindowResult` is checked against the exact, independent path
``compare_outcomes(outcome(R*), outcome(R*, strategy.apply(R*), alpha))``: points inside reported intervals are
effective, points in the gaps are not, effectiveness flips at each interior endpoint, and a dense grid agrees
with the reported pieces everywhere except within the stated tolerance of a breakpoint.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import example, given, settings
from numpy.testing import assert_array_equal

from recollective.errors import InvalidParameterError
from recollective.game import (
    CollectiveStrategy,
    FixedRank,
    RelativeThreshold,
    RetainedVariation,
    WindowResult,
    compare_outcomes,
    effective_window,
    outcome,
)
from strategies import (
    MISSION_C,
    MISSION_D,
    WindowCase,
    mission_case,
    n_examples,
    window_cases,
)


class ExactPath:
    """The brute-force evaluator: a full SVD of R~(x) for every x, compared with truthful play."""

    def __init__(self, case: WindowCase, rule=None):
        self.case = case
        self.rule = case.alpha if rule is None else rule
        self.strategy = CollectiveStrategy(case.members, case.targets, 0.0)
        self.baseline = outcome(case.R_true, alpha=self.rule)

    def outcome(self, x: float):
        revealed = self.strategy.with_uprating(x).apply(self.case.R_true)
        return outcome(self.case.R_true, revealed, self.rule)

    def compare(self, x: float):
        return compare_outcomes(self.baseline, self.outcome(x))


def window_of(case: WindowCase, rule=None, **kwargs) -> WindowResult:
    alpha = case.alpha if rule is None else rule
    return effective_window(case.R_true, list(case.members), list(case.targets), alpha, case.x_max, **kwargs)


def gaps(intervals: list[tuple[float, float]], x_max: float) -> list[tuple[float, float]]:
    """The complement of ``intervals`` in [0, x_max]."""
    out, start = [], 0.0
    for lo, hi in intervals:
        if lo > start:
            out.append((start, lo))
        start = hi
    if start < x_max:
        out.append((start, x_max))
    return out


def inner_points(lo: float, hi: float, margin: float) -> list[float]:
    """Points of (lo, hi) farther than ``margin`` from both ends (none when the interval is too narrow)."""
    points = [lo + f * (hi - lo) for f in (0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999)]
    points += [lo + 2 * margin, hi - 2 * margin]
    return sorted(x for x in points if lo + margin < x < hi - margin)


def check_intervals(result: WindowResult, exact: ExactPath, flag: str) -> int:
    """Check one family of intervals (``flag`` = is_effective / is_pareto_effective) against the exact path;
    return the number of interior endpoints checked."""
    intervals = result.pareto_intervals if flag == "is_pareto_effective" else result.effective_intervals
    x_max, tol = result.x_max, result.tolerance
    margin = tol + 1e-12 * x_max
    for lo, hi in intervals:
        assert 0.0 <= lo < hi <= x_max
        for x in inner_points(lo, hi, margin):
            assert getattr(exact.compare(x), flag), f"x = {x!r} inside reported ({lo}, {hi}) is not {flag}"
    for lo, hi in gaps(intervals, x_max):
        for x in inner_points(lo, hi, margin):
            assert not getattr(exact.compare(x), flag), f"x = {x!r} in the gap ({lo}, {hi}) is {flag}"
    # Effectiveness flips at every interior endpoint: test just left and right of it.
    ends = sorted({e for interval in intervals for e in interval} - {0.0, x_max})
    if ends:
        assert tol > 0, "interior endpoints were reported without a tolerance"
    offset = 10 * tol
    all_ends = [0.0, *ends, x_max]
    for position, e in enumerate(ends, start=1):
        if e - all_ends[position - 1] <= 2 * offset or all_ends[position + 1] - e <= 2 * offset:
            continue  # a neighbouring piece narrower than the offset: the flip is checked by inner points
        left = getattr(exact.compare(e - offset), flag)
        right = getattr(exact.compare(e + offset), flag)
        assert left != right, f"{flag} does not flip at the reported endpoint {e!r} (offset {offset:g})"
        inside_right = any(lo == e for lo, _ in intervals)
        assert right == inside_right
    return len(ends)


def check_against_dense_grid(result: WindowResult, exact: ExactPath, n_points: int = 801) -> None:
    """Every grid point farther than the tolerance from a piece boundary has the outcome of its piece."""
    boundaries = np.array([piece.lo for piece in result.pieces[1:]])
    margin = result.tolerance + 1e-12 * result.x_max
    for x in np.linspace(0.0, result.x_max, n_points):
        if boundaries.size and np.min(np.abs(boundaries - x)) <= margin:
            continue
        piece = result.piece_at(x)
        observed = exact.outcome(x)
        assert observed.rank == piece.rank, f"k* at x = {x!r}"
        assert_array_equal(observed.utilities, piece.utilities, err_msg=f"utilities at x = {x!r}")
        comparison = compare_outcomes(exact.baseline, observed)
        assert comparison.is_effective == piece.is_effective
        assert comparison.is_pareto_effective == piece.is_pareto_effective


def check_structure(result: WindowResult) -> None:
    pieces = result.pieces
    assert pieces[0].lo == 0.0 and pieces[-1].hi == result.x_max
    for before, after in itertools.pairwise(pieces):
        assert before.hi == after.lo and before.lo < before.hi
        assert before.rank != after.rank or not np.array_equal(before.utilities, after.utilities)
    for piece in pieces:
        assert piece.social_welfare == pytest.approx(float(np.sum(piece.utilities)), rel=1e-12, abs=1e-12)
        assert piece.welfare_change == pytest.approx(
            piece.social_welfare - result.baseline.social_welfare, rel=1e-9, abs=1e-12
        )
        if piece.is_pareto_effective:
            assert piece.is_effective and piece.n_worse == 0 and piece.n_better > 0
    json.dumps(result.as_dict(), allow_nan=False)


# ------------------------------------------------------------------------------------- MISSION's instance


def x_k(case: WindowCase) -> float:
    """THEORY.md Theorem 2.1: the exact uprating value past which the learner keeps one more direction
    (majority block A of rank k1 = 2, minority block c d^T, one target t)."""
    A = case.R_true[:4, :3]
    U, sigma, _ = np.linalg.svd(A, full_matrices=False)
    U, sigma = U[:, :2], sigma[:2]
    coalition = np.zeros(4)
    coalition[list(case.members)] = 1.0
    P = U.T @ coalition
    alpha = case.alpha
    c_eff = coalition.sum() - np.sum(P**2 * sigma**2 / (sigma**2 - alpha**2))
    s_B2 = np.sum(MISSION_C**2) * np.sum(MISSION_D**2)
    delta2 = np.sum(MISSION_C**2) * MISSION_D[case.targets[0] - 3] ** 2
    return float(alpha * np.sqrt((alpha**2 - s_B2) / ((alpha**2 - s_B2 + delta2) * c_eff)))


@pytest.mark.parametrize(("member", "target"), [(0, 4), (0, 3), (2, 4), (3, 3)])
def test_mission_instance_window(member, target):
    case = mission_case(member, target)
    exact = ExactPath(case)
    truthful = exact.baseline
    assert truthful.rank == 2
    assert_array_equal(truthful.top_items, [0, 0, 2, 2, 0, 0])
    assert_array_equal(truthful.utilities, [5.0, 5.0, 5.0, 5.0, 0.0, 0.0])

    result = window_of(case)
    assert len(result.pareto_intervals) == 1
    lo, hi = result.pareto_intervals[0]
    assert result.effective_intervals == result.pareto_intervals  # here every effective x is a Pareto one
    tol = result.tolerance
    assert 0 < tol <= 1e-6 * case.x_max

    # The lower end is the closed-form retention threshold x_k, and k* steps from k_maj = 2 to 3 there.
    assert lo == pytest.approx(x_k(case), abs=tol + 1e-12)
    assert 0.2 < lo < 0.4
    below, above = exact.outcome(lo - 10 * tol), exact.outcome(lo + 10 * tol)
    assert (below.rank, above.rank) == (2, 3)
    assert not compare_outcomes(truthful, below).is_pareto_effective

    # Inside: minority users get minority items, nobody loses, the two minority users gain.
    for x in np.linspace(lo, hi, 9)[1:-1]:
        inside = exact.outcome(x)
        comparison = compare_outcomes(truthful, inside)
        assert inside.rank == 3
        assert set(inside.top_items[4:].tolist()) <= {3, 4}
        assert comparison.is_pareto_effective
        assert (comparison.n_better, comparison.n_worse, comparison.worst_change) == (2, 0, 0.0)
        assert comparison.welfare_change == pytest.approx(inside.utilities[4:].sum(), abs=1e-15)
        # THEORY.md Prop. 3.1: retained variation rises and the fit error falls once the direction is kept.
        assert inside.platform.retained_variation > truthful.platform.retained_variation
        assert inside.platform.fit_error < truthful.platform.fit_error

    # Too large an x: the member's own top item flips to the target (utility 0 < 5) and Pareto breaks.
    assert 4.9 < hi < 5.1  # about max_j A[member, j] = 5
    inside, beyond = exact.outcome(hi - 10 * tol), exact.outcome(hi + 10 * tol)
    assert inside.top_items[member] == truthful.top_items[member]
    assert beyond.top_items[member] == target
    assert beyond.utilities[member] == 0.0
    comparison = compare_outcomes(truthful, beyond)
    assert not comparison.is_pareto_effective and not comparison.is_effective
    assert comparison.worst_change == -5.0

    check_intervals(result, exact, "is_pareto_effective")
    check_intervals(result, exact, "is_effective")
    check_structure(result)


def test_mission_instance_piece_structure():
    """Uprating item 3 (not the minority's favourite): just past x_k the minority first lands on item 4, then
    moves to the target; both are Pareto pieces, merged into one interval."""
    case = mission_case(0, 3)
    result = window_of(case)
    summary = [(piece.rank, piece.top_items.tolist(), piece.is_pareto_effective) for piece in result.pieces]
    assert summary == [
        (2, [0, 0, 2, 2, 0, 0], False),
        (3, [0, 0, 2, 2, 4, 4], True),
        (3, [0, 0, 2, 2, 3, 3], True),
        (3, [3, 0, 2, 2, 3, 3], False),
    ]
    middle = result.pieces[1]
    assert result.piece_at(middle.lo) is middle  # a breakpoint belongs to the piece on its right
    assert result.piece_at(0.5 * (middle.lo + middle.hi)) is middle
    assert result.piece_at(case.x_max) is result.pieces[-1]
    assert middle.welfare_change == pytest.approx(case.R_true[4, 4] + case.R_true[5, 4], abs=1e-15)
    assert result.pieces[2].welfare_change == pytest.approx(case.R_true[4, 3] + case.R_true[5, 3], abs=1e-15)
    assert result.pieces[-1].members_worst_change == -5.0


def test_finer_rtol_agrees_within_the_stated_tolerances():
    case = mission_case(1, 4)
    coarse = window_of(case, rtol=1e-4)
    fine = window_of(case, rtol=1e-10)
    assert fine.tolerance < 1e-8 < coarse.tolerance <= 1e-4 * case.x_max
    assert len(coarse.pareto_intervals) == len(fine.pareto_intervals) == 1
    for a, b in zip(coarse.pareto_intervals[0], fine.pareto_intervals[0], strict=True):
        assert a == pytest.approx(b, abs=coarse.tolerance + fine.tolerance)


# ----------------------------------------------------------------------------------------- random instances


@pytest.mark.slow
@settings(max_examples=n_examples(30))
@example(mission_case(0, 4))
@example(mission_case(3, 3))
@given(window_cases())
def test_window_endpoints_are_where_effectiveness_flips(case: WindowCase):
    result = window_of(case)
    exact = ExactPath(case)
    assert result.baseline.social_welfare == exact.baseline.social_welfare
    check_structure(result)
    check_intervals(result, exact, "is_pareto_effective")
    check_intervals(result, exact, "is_effective")


@pytest.mark.slow
@settings(max_examples=n_examples(20))
@example(mission_case(0, 4))
@given(window_cases())
def test_window_matches_a_dense_grid(case: WindowCase):
    result = window_of(case)
    check_against_dense_grid(result, ExactPath(case))


@pytest.mark.parametrize(
    "rule",
    [FixedRank(3), FixedRank(2), RelativeThreshold(0.15), RetainedVariation(0.12)],
    ids=["fixed3", "fixed2", "relative", "tvr"],
)
def test_window_under_other_rank_rules_matches_a_dense_grid(rule):
    case = mission_case(1, 4)
    result = window_of(case, rule)
    exact = ExactPath(case, rule)
    check_structure(result)
    check_against_dense_grid(result, exact, n_points=401)
    check_intervals(result, exact, "is_pareto_effective")


def test_window_with_two_members_and_two_targets():
    case = WindowCase(mission_case().R_true, mission_case().alpha, (0, 2), (3, 4), 8.0)
    result = window_of(case)
    exact = ExactPath(case)
    check_structure(result)
    check_intervals(result, exact, "is_pareto_effective")
    check_intervals(result, exact, "is_effective")
    check_against_dense_grid(result, exact, n_points=401)


def test_no_change_means_no_window():
    # A member "uprating" a majority item it already rates at its maximum within [0, x_max] can only lose.
    R = np.array([[5.0, 1.0], [1.0, 4.0]])
    result = effective_window(R, [0], [1], 1.5, x_max=0.5)
    assert result.pareto_intervals == [] and result.effective_intervals == []
    assert len(result.pieces) == 1 and result.pieces[0].n_worse == 0 and result.pieces[0].n_better == 0
    assert result.tolerance == 0.0


# ------------------------------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"members": [4, 9]},
            InvalidParameterError,
            "members: user index 9 is out of range; valid user indices are 0..5",
        ),
        ({"members": [-1]}, InvalidParameterError, "members: user index -1 is out of range"),
        ({"targets": [5]}, InvalidParameterError, "targets: item index 5 is out of range; valid item indices are 0..4"),
        ({"targets": [3, 3]}, InvalidParameterError, "more than once"),
        ({"members": []}, InvalidParameterError, "members is empty"),
        ({"members": [0.5]}, InvalidParameterError, "members must be integer user indices"),
        ({"alpha": -1.0}, InvalidParameterError, "alpha must be a finite number >= 0"),
        ({"x_max": 0.0}, InvalidParameterError, "x_max must be > 0"),
        ({"x_max": -2.0}, InvalidParameterError, "x_max must be a finite number >= 0"),
        ({"rtol": 0.0}, InvalidParameterError, "rtol must lie in (0, 1)"),
        ({"n_initial": 1}, InvalidParameterError, "n_initial must be >= 2"),
    ],
)
def test_bad_window_arguments_raise(kwargs, error, message):
    arguments = {"members": [0], "targets": [4], "alpha": mission_case().alpha, "x_max": 10.0}
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        effective_window(mission_case().R_true, **arguments)
    assert message in str(info.value)
