"""Effective windows: the exact set of uprating values x for which a collective strategy works.

For a collective C and targets T, the family "members report x on every target, everything else truthful"
(R~(x) = R* off the block C x T, x on it) is compared with truthful play for x in [0, x_max]. The outcome is
piecewise constant in x: it changes only where k* changes (a singular value of R~(x) crosses the rank rule's
threshold) or where some user's argmax changes. The window is the union of the pieces where the strategy is
effective (SW strictly up) or Pareto-effective (nobody worse off, somebody better off).

Method (certified refinement):

1. Evaluate an initial grid of ``n_initial`` points with :class:`~recollective.game._family.RankOneFamily`
   (one top-eigenpair Gram decomposition per x), each with a certified radius r(x) (see
   :mod:`recollective.game._certificates`; the perturbation between two x's is rank one with spectral norm
   |dx| sqrt(|C| |T|)) within which neither k* nor any top item can change.
2. A cell [a, b] whose end points have the same outcome and r(a) + r(b) > b - a is *certified*: the outcome is
   constant on all of it. A cell whose ends differ is bisected until it is narrower than
   ``rtol * max(|x|, max R*)``; its midpoint is reported as a breakpoint, so each endpoint is accurate to that
   tolerance. Other cells are split until certified or narrower than ``min_cell``.
3. Guarantee: every piece is certified constant except the cells listed in ``uncertified`` (same outcome at
   both ends, narrower than ``min_cell``, where an excursion narrower than the cell could hide); breakpoints
   are located to the stated tolerance. Isolated points (exact ties at a single x) are not reported.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_alpha, check_indices, check_preferences
from recollective.game._family import FamilyPoint, RankOneFamily
from recollective.game._outcome import DEFAULT_TIE_RTOL, Outcome, outcome
from recollective.game._pareto import compare_utilities
from recollective.game._rank_rules import RankRule, as_rank_rule
from recollective.game._records import record

__all__ = ["WindowPiece", "WindowResult", "effective_window"]


@dataclass(frozen=True, eq=False)
class WindowPiece:
    """A maximal interval of x on which the strategy's outcome is one and the same.

    ``utilities`` is an ndarray of shape (n_users,); changes are against truthful play.
    """

    lo: float
    hi: float
    rank: int
    top_items: np.ndarray
    utilities: np.ndarray
    social_welfare: float
    welfare_change: float
    n_better: int
    n_worse: int
    members_worst_change: float
    is_effective: bool
    is_pareto_effective: bool

    def as_dict(self) -> dict:
        return record(self, drop=("top_items", "utilities"))


@dataclass(frozen=True, eq=False)
class WindowResult:
    """The effective and Pareto windows of one (C, T) over x in [0, x_max].

    Attributes
    ----------
    effective_intervals, pareto_intervals : list of (lo, hi)
        Unions of adjacent pieces where the strategy is effective / Pareto-effective.
    pieces : tuple of WindowPiece
    baseline : Outcome
        Truthful play.
    tolerance : float
        Absolute accuracy of every breakpoint, ``rtol * max(|x|, max R*)`` at its largest.
    uncertified : list of (lo, hi)
        Cells the certificate could not cover (see the module docstring).
    n_evaluations : int
    """

    members: np.ndarray
    targets: np.ndarray
    x_max: float
    baseline: Outcome
    pieces: tuple[WindowPiece, ...]
    effective_intervals: list[tuple[float, float]]
    pareto_intervals: list[tuple[float, float]]
    tolerance: float
    uncertified: list[tuple[float, float]]
    n_evaluations: int

    def piece_at(self, x: float) -> WindowPiece:
        """The piece containing ``x`` (at a breakpoint, the piece to its right)."""
        if not 0 <= x <= self.x_max:
            raise InvalidParameterError(f"x = {x!r} lies outside the examined range [0, {self.x_max:g}]")
        for piece in self.pieces:
            if x < piece.hi:
                return piece
        return self.pieces[-1]

    def as_dict(self) -> dict:
        return {
            "members": self.members.tolist(),
            "targets": self.targets.tolist(),
            "x_max": self.x_max,
            "effective_intervals": [list(i) for i in self.effective_intervals],
            "pareto_intervals": [list(i) for i in self.pareto_intervals],
            "pieces": [p.as_dict() for p in self.pieces],
            "truthful_k_star": self.baseline.rank,
            "truthful_social_welfare": self.baseline.social_welfare,
            "tolerance": self.tolerance,
            "uncertified": [list(i) for i in self.uncertified],
            "n_evaluations": self.n_evaluations,
        }


def window_fields(points, baseline: Outcome, members, targets, x_max: float, tolerance: float, uncertified,
                  n_evaluations: int) -> dict:
    """The fields of a :class:`WindowResult` from the evaluated points: the pieces and the merged windows."""
    pieces = _pieces(points, baseline, members, x_max)
    return {
        "members": members, "targets": targets, "x_max": x_max, "baseline": baseline, "pieces": tuple(pieces),
        "effective_intervals": _merge(pieces, "is_effective"),
        "pareto_intervals": _merge(pieces, "is_pareto_effective"),
        "tolerance": tolerance, "uncertified": uncertified, "n_evaluations": n_evaluations,
    }


def _merge(pieces, flag: str) -> list[tuple[float, float]]:
    intervals: list[tuple[float, float]] = []
    for piece in pieces:
        if not getattr(piece, flag):
            continue
        if intervals and intervals[-1][1] == piece.lo:
            intervals[-1] = (intervals[-1][0], piece.hi)
        else:
            intervals.append((piece.lo, piece.hi))
    return intervals


def check_window_arguments(R_true, members, targets, alpha, x_max, rtol, n_points, n_name, targets_name="targets"):
    """Validate the arguments shared by the window searches; returns (R_true, rule, members, targets, x_max)."""
    R_true = check_preferences(R_true)
    rule = as_rank_rule(alpha)
    members = check_indices(members, R_true.shape[0], "members", "user")
    targets = check_indices(targets, R_true.shape[1], targets_name, "item")
    x_max = check_alpha(x_max, "x_max")
    if x_max <= 0:
        raise InvalidParameterError(f"x_max must be > 0; got {x_max!r}")
    if not 0 < rtol < 1:
        raise InvalidParameterError(f"rtol must lie in (0, 1); got {rtol!r}")
    if int(n_points) < 2:
        raise InvalidParameterError(f"{n_name} must be >= 2; got {n_points!r}")
    return R_true, rule, members, targets, x_max


def effective_window(
    R_true,
    members,
    targets,
    alpha: RankRule | float,
    x_max: float = 10.0,
    *,
    rtol: float = 1e-6,
    n_initial: int = 65,
    min_cell: float | None = None,
    tie_rtol: float = DEFAULT_TIE_RTOL,
    baseline: Outcome | None = None,
) -> WindowResult:
    """Exact effective and Pareto windows of "members report x on targets" for x in [0, x_max].

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R*.
    members, targets : array-like of int
        The collective C and the target items T.
    alpha : float or RankRule
        The learner's rank rule.
    x_max : float, default=10.0
        Upper end of the uprating values examined.
    rtol : float, default=1e-6
        Breakpoints are accurate to ``rtol * max(|x|, max R*)``.
    n_initial : int, default=65
        Points of the initial grid.
    min_cell : float, optional
        Width below which an uncertified cell with equal ends is accepted as constant (default x_max / 512).
    baseline : Outcome, optional
        Truthful outcome, when the caller already has it.

    Returns
    -------
    WindowResult
    """
    R_true, rule, members, targets, x_max = check_window_arguments(
        R_true, members, targets, alpha, x_max, rtol, n_initial, "n_initial"
    )
    min_cell = x_max / 512 if min_cell is None else check_alpha(min_cell, "min_cell")
    baseline = outcome(R_true, None, rule, tie_rtol=tie_rtol) if baseline is None else baseline

    family = RankOneFamily(R_true, members, targets, rule, tie_rtol)
    x_scale = float(R_true.max()) if R_true.max() > 0 else 1.0
    # Each evaluation works on small matrices, where a multi-threaded BLAS only adds overhead.
    with threadpool_limits(limits=1, user_api="blas"):
        points, uncertified, tolerance = _refine(family, x_max, int(n_initial), min_cell, rtol, x_scale)
    return WindowResult(**window_fields(points, baseline, members, targets, x_max, tolerance, sorted(uncertified),
                                        family.n_evaluations))


def _refine(family: RankOneFamily, x_max, n_initial, min_cell, rtol, x_scale):
    """Certified refinement (module docstring): the evaluated points, the uncertified cells, the tolerance."""
    points: dict[float, FamilyPoint] = {}
    for x in np.linspace(0.0, x_max, n_initial):
        points[float(x)] = family.evaluate(float(x))
    xs = sorted(points)
    stack = list(itertools.pairwise(xs))
    uncertified: list[tuple[float, float]] = []
    tolerance = 0.0
    while stack:
        a, b = stack.pop()
        pa, pb = points[a], points[b]
        width = b - a
        same = pa.same_outcome(pb)
        if same:
            if pa.radius_x + pb.radius_x > width:
                continue
            if width <= min_cell:
                uncertified.append((a, b))
                continue
        else:
            xtol = rtol * max(abs(b), x_scale)
            if width <= xtol:
                tolerance = max(tolerance, width / 2)
                continue
        mid = 0.5 * (a + b)
        if mid <= a or mid >= b:  # floating-point floor
            continue
        # A radius only helps a cell that could still be certified before reaching min_cell; where the ends'
        # radii are far below the cell width the halves will not be certified either (saves the margin pass).
        hopeful = same and width / 2 > min_cell and pa.radius_x + pb.radius_x >= width / 16
        points[mid] = family.evaluate(mid, certify=hopeful)
        stack.extend([(a, mid), (mid, b)])

    return points, uncertified, tolerance


def _pieces(points: dict[float, FamilyPoint], baseline: Outcome, members: np.ndarray, x_max: float):
    """Group consecutive points with the same outcome into pieces; boundaries at bracket midpoints."""
    xs = sorted(points)
    groups: list[list[float]] = [[xs[0]]]
    for x in xs[1:]:
        if points[x].same_outcome(points[groups[-1][-1]]):
            groups[-1].append(x)
        else:
            groups.append([x])
    pieces = []
    for index, group in enumerate(groups):
        lo = 0.0 if index == 0 else 0.5 * (groups[index - 1][-1] + group[0])
        hi = x_max if index == len(groups) - 1 else 0.5 * (group[-1] + groups[index + 1][0])
        point = points[group[0]]
        comparison = compare_utilities(baseline.utilities, point.utilities)
        change = point.utilities[members] - baseline.utilities[members]
        pieces.append(
            WindowPiece(
                lo=lo,
                hi=hi,
                rank=point.rank,
                top_items=point.top_items,
                utilities=point.utilities,
                social_welfare=baseline.social_welfare + comparison.welfare_change,
                welfare_change=comparison.welfare_change,
                n_better=comparison.n_better,
                n_worse=comparison.n_worse,
                members_worst_change=float(change.min()),
                is_effective=comparison.is_effective,
                is_pareto_effective=comparison.is_pareto_effective,
            )
        )
    return pieces
