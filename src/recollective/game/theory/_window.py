"""Effective windows through the exact evaluator of THEORY.md (the fast path of :func:`effective_window`).

When the instance has the structure of THEORY.md §1 (majority–minority, rank-one minority block, gap condition),
one target item and a collective of majority users, the outcome at each x comes from
:class:`~recollective.game.theory._evaluator.ExactEvaluator` (O((m1 + n1) k1) per x plus rows that are close to a
tie) instead of a decomposition of an n_users x n_items matrix. The method:

1. k* changes at exactly one point, x_k (Theorem 2.1): k* = k1 for x <= x_k and k1 + 1 above. The scan holds
   x_k and the next float above it, so that breakpoint is exact.
2. Evaluate ``n_scan`` equally spaced points of [0, x_max] (the secular roots of Theorem 2.2 for all of them
   in one vectorised bisection).
3. Bisect every cell whose ends have different outcomes (k* or some user's utility) until it is narrower than
   ``rtol * max(|x|, max R*)``, as :func:`effective_window` does; the midpoint of the last bracket is reported.

Guarantee: every breakpoint is within ``tolerance`` of a true change of the outcome (x_k exactly); a change
that starts and ends inside one scan cell (width x_max / (n_scan - 1)) could be missed, so every scan cell with
equal ends is listed in ``uncertified`` (merged into intervals). With the default n_scan = 2049 the scan is four
times finer than :func:`effective_window`'s ``min_cell`` and contains all of its grid points.

Otherwise (structure not detected, several targets, a non-absolute rank rule) the call falls back to
:func:`effective_window` and records why.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, fields

import numpy as np
from threadpoolctl import threadpool_limits

from recollective.game._family import FamilyPoint
from recollective.game._outcome import DEFAULT_TIE_RTOL, outcome
from recollective.game._rank_rules import AbsoluteThreshold, RankRule
from recollective.game._windows import WindowResult, check_window_arguments, effective_window, window_fields
from recollective.game.theory._evaluator import ExactEvaluator
from recollective.game.theory._spectral import spectral_data
from recollective.game.theory._structure import DEFAULT_STRUCTURE_RTOL, detect_structure

__all__ = ["TheoryWindowResult", "theory_window"]


@dataclass(frozen=True, eq=False)
class TheoryWindowResult(WindowResult):
    """A :class:`WindowResult` with how it was computed.

    Attributes
    ----------
    method : str
        ``"theory"`` (the exact evaluator) or ``"effective_window"`` (the fallback).
    fallback_reason : str
        Why the theory did not apply (empty when ``method == "theory"``).
    x_k : float
        The retention threshold of Theorem 2.1 (NaN on the fallback).
    n_scan : int
        Points of the scan (0 on the fallback).
    """

    method: str = "theory"
    fallback_reason: str = ""
    x_k: float = math.nan
    n_scan: int = 0

    def as_dict(self) -> dict:
        document = super().as_dict()
        document.update(
            {"method": self.method, "fallback_reason": self.fallback_reason, "x_k": self.x_k, "n_scan": self.n_scan}
        )
        return document


def _fallback(reason: str, R_true, members, targets, rule, x_max, rtol, tie_rtol) -> TheoryWindowResult:
    result = effective_window(R_true, members, targets, rule, x_max, rtol=rtol, tie_rtol=tie_rtol)
    values = {f.name: getattr(result, f.name) for f in fields(WindowResult)}
    return TheoryWindowResult(**values, method="effective_window", fallback_reason=reason)


def _point(evaluator: ExactEvaluator, x: float) -> FamilyPoint:
    point = evaluator.evaluate(x)
    return FamilyPoint(point.x, point.rank, point.top_items, point.utilities, 0.0)


def theory_window(
    R_true,
    members,
    target,
    alpha: RankRule | float,
    x_max: float = 10.0,
    rtol: float = 1e-6,
    *,
    n_scan: int = 2049,
    tie_rtol: float = DEFAULT_TIE_RTOL,
    user_group=None,
    item_group=None,
    structure_rtol: float = DEFAULT_STRUCTURE_RTOL,
) -> TheoryWindowResult:
    """Effective and Pareto windows of "members report x on the target", through the exact evaluator.

    Same question and same result type as :func:`effective_window` (a :class:`WindowResult` with two extra
    fields); see the module docstring for the method and its guarantee.

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
    members : array-like of int
        The collective C.
    target : int or array-like of int
        The target item t (several targets fall back to :func:`effective_window`).
    alpha : float or RankRule
        The learner's threshold (another rank rule falls back).
    x_max : float, default=10.0
    rtol : float, default=1e-6
        Breakpoints are accurate to ``rtol * max(|x|, max R*)``.
    n_scan : int, default=2049
        Points of the scan of [0, x_max].
    user_group, item_group : array-like of {0, 1}, optional
        Group labels for :func:`detect_structure` (recovered from the support of R* when omitted).
    structure_rtol : float, default=1e-10
        Tolerance of the structure detection.

    Returns
    -------
    TheoryWindowResult

    Notes
    -----
    Runs with BLAS pinned to one thread (threadpoolctl), the two large SVDs included: the rest is small kernels,
    and on a shared machine a multi-threaded SVD can be orders of magnitude slower (benchmarks/README.md).
    """
    R_true, rule, members, targets, x_max = check_window_arguments(
        R_true, members, target, alpha, x_max, rtol, n_scan, "n_scan", targets_name="target"
    )
    with threadpool_limits(limits=1, user_api="blas"):  # small kernels; a shared machine punishes BLAS threads
        return _window(
            R_true, members, targets, rule, x_max, rtol, tie_rtol, int(n_scan), user_group, item_group, structure_rtol
        )


def _window(R_true, members, targets, rule, x_max, rtol, tie_rtol, n_scan, user_group, item_group, structure_rtol):
    args = (R_true, members, targets, rule, x_max, rtol, tie_rtol)
    if targets.size != 1:
        return _fallback(f"{targets.size} target items: the theory covers one target", *args)
    if not isinstance(rule, AbsoluteThreshold):
        return _fallback(f"rank rule {rule.name}: the theory covers the absolute threshold (s > alpha)", *args)
    structure = detect_structure(
        R_true,
        rule.parameter,
        members=members,
        target=int(targets[0]),
        user_group=user_group,
        item_group=item_group,
        structure_rtol=structure_rtol,
    )
    if not structure.ok:
        return _fallback(structure.reason, *args)
    spectral = spectral_data(structure, members, int(targets[0]))
    baseline = outcome(R_true, None, rule, tie_rtol=tie_rtol)
    evaluator = ExactEvaluator(R_true, spectral, tie_rtol)
    x_scale = float(R_true.max()) if R_true.max() > 0 else 1.0
    points, uncertified, tolerance = _scan(evaluator, x_max, n_scan, rtol, x_scale)
    return TheoryWindowResult(
        **window_fields(points, baseline, members, targets, x_max, tolerance, uncertified, evaluator.n_evaluations),
        method="theory",
        x_k=spectral.x_k,
        n_scan=n_scan,
    )


def _scan(evaluator: ExactEvaluator, x_max: float, n_scan: int, rtol: float, x_scale: float):
    x_k = evaluator.spectral.x_k
    xs = np.linspace(0.0, x_max, n_scan)
    if 0.0 <= x_k < x_max:
        xs = np.union1d(xs, [x_k, np.nextafter(x_k, math.inf)])
    points: dict[float, FamilyPoint] = {}
    previous = None
    for start in range(0, xs.size, 256):  # chunks bound the memory; equal consecutive outcomes share arrays
        chunk = xs[start : start + 256]
        ranks, tops, utilities = evaluator.evaluate_many(chunk)
        for i, x in enumerate(chunk):
            same = previous is not None and previous.rank == ranks[i] and np.array_equal(previous.top_items, tops[i])
            if same:
                point = FamilyPoint(float(x), previous.rank, previous.top_items, previous.utilities, 0.0)
            else:
                point = FamilyPoint(float(x), int(ranks[i]), tops[i].copy(), utilities[i].copy(), 0.0)
            points[float(x)] = previous = point
    tolerance = 0.0
    uncertified: list[tuple[float, float]] = []
    stack = [(float(a), float(b)) for a, b in itertools.pairwise(xs)]
    while stack:
        a, b = stack.pop()
        if points[a].same_outcome(points[b]):
            if uncertified and uncertified[-1][0] == b:
                uncertified[-1] = (a, uncertified[-1][1])
            else:
                uncertified.append((a, b))
            continue
        width = b - a
        if width <= rtol * max(abs(b), x_scale):
            tolerance = max(tolerance, width / 2)
            continue
        mid = 0.5 * (a + b)
        if mid <= a or mid >= b:
            continue
        points[mid] = _point(evaluator, mid)
        stack.extend([(a, mid), (mid, b)])
    return points, _merge_cells(uncertified), tolerance


def _merge_cells(cells: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(cells):
        if merged and merged[-1][1] >= lo:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged
