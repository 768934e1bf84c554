"""Joint windows of two collectives: where in the (x1, x2) plane both work and the joint play is Pareto.

Status of a point (x1, x2) (collective k reports the scalar x_k on its targets; shared cells take the larger value;
definitions of :mod:`recollective.game._joint`):

* ``joint_effective`` / ``joint_pareto``: the joint outcome against truthful play;
* ``solo_effective[k]``: collective k acting alone at x_k is effective (the single-collective window);
* ``marginal_effective[k]``: the joint outcome beats the other collective acting alone (k's action, given the
  other's, raises welfare);
* the **joint window** is where ``joint_pareto`` holds and both collectives are effective (alone): both would work
  on their own and together nobody is worse off than under truthful play. Status codes 0-3: not effective;
  effective but not Pareto; Pareto but outside the joint window; in the joint window.

Two computations (see docs/collectives.md for what each guarantees):

* **Lines** (exact): for fixed x2 the joint outcome along x1 is found by the certified refinement of the
  single-collective window (:mod:`recollective.game._joint_lines`), and vice versa; the solo outcome of the
  varying collective comes from its own :func:`effective_window`. Breakpoints are accurate to the stated tolerance
  and every segment is certified constant outside the listed uncertified cells.
* **Cells** (certified where the certificate reaches, sampled elsewhere): the square [0, x_max]^2 is cut into
  ``n_cells`` x ``n_cells`` cells. A cell's status is *certified* when a quadtree of at most ``max_depth`` levels
  covers it with boxes whose centre certificate (:func:`certified_radius` for the box's perturbation: entries of
  collective k's cells move by at most the box's half-width in x_k, so ||E||_2 <= ||E||_F) proves the joint
  outcome constant on the box, whose solo outcomes are certified constant along each axis the same way, and all
  boxes share one status. Otherwise the cell is *sampled*: its status is the one at its centre, and ``mixed``
  says the evaluated boxes disagreed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from recollective.errors import InvalidParameterError
from recollective.game._certificates import certified_radius, user_margins
from recollective.game._checks import check_alpha, check_preferences
from recollective.game._joint import JointStrategy, reveal
from recollective.game._joint_lines import line_pieces
from recollective.game._outcome import DEFAULT_TIE_RTOL, Outcome, outcome, top_items, truncated_reconstruction
from recollective.game._pareto import compare_utilities
from recollective.game._rank_rules import RankRule
from recollective.game._strategy import CollectiveStrategy
from recollective.game._windows import WindowResult, check_window_arguments, effective_window

__all__ = ["STATUS_NAMES", "JointLine", "JointSegment", "JointStatus", "JointWindowResult", "joint_window"]

STATUS_NAMES = ("not effective", "effective, not Pareto", "Pareto, outside the joint window", "joint window")


@dataclass(frozen=True)
class JointStatus:
    """The status of one point (x1, x2) (module docstring)."""

    joint_effective: bool
    joint_pareto: bool
    solo_effective: tuple[bool, bool]
    marginal_effective: tuple[bool, bool]

    @property
    def in_window(self) -> bool:
        return self.joint_pareto and all(self.solo_effective)

    @property
    def code(self) -> int:
        """0 not effective, 1 effective not Pareto, 2 Pareto outside the joint window, 3 joint window."""
        return 3 if self.in_window else 2 if self.joint_pareto else 1 if self.joint_effective else 0

    @classmethod
    def from_utilities(cls, truthful, joint, solo1, solo2) -> JointStatus:
        """From the utilities (ndarrays of shape (n_users,)) of truthful, joint and solo play."""
        comparison = compare_utilities(truthful, joint)
        return cls(
            joint_effective=comparison.is_effective,
            joint_pareto=comparison.is_pareto_effective,
            solo_effective=(compare_utilities(truthful, solo1).is_effective,
                            compare_utilities(truthful, solo2).is_effective),
            marginal_effective=(compare_utilities(solo2, joint).is_effective,
                                compare_utilities(solo1, joint).is_effective),
        )

    def as_dict(self) -> dict:
        return {
            "status": STATUS_NAMES[self.code],
            "code": self.code,
            "in_window": self.in_window,
            "joint_effective": self.joint_effective,
            "joint_pareto": self.joint_pareto,
            "solo_effective": list(self.solo_effective),
            "marginal_effective": list(self.marginal_effective),
        }


@dataclass(frozen=True, eq=False)
class JointSegment:
    """An interval of the varying value on which the joint outcome and the status are constant."""

    lo: float
    hi: float
    rank: int
    social_welfare: float
    status: JointStatus

    def as_dict(self) -> dict:
        return {"lo": self.lo, "hi": self.hi, "k_star": self.rank, "social_welfare": self.social_welfare,
                **self.status.as_dict()}


@dataclass(frozen=True, eq=False)
class JointLine:
    """The exact statuses along one line: collective ``varying`` (0 or 1) reports x in [0, x_max], the other
    reports ``value``."""

    varying: int
    value: float
    segments: tuple[JointSegment, ...]
    window_intervals: list[tuple[float, float]]
    pareto_intervals: list[tuple[float, float]]
    tolerance: float
    uncertified: list[tuple[float, float]]
    n_evaluations: int

    def as_dict(self) -> dict:
        return {
            "varying": self.varying,
            "value": self.value,
            "window_intervals": [list(i) for i in self.window_intervals],
            "pareto_intervals": [list(i) for i in self.pareto_intervals],
            "segments": [s.as_dict() for s in self.segments],
            "tolerance": self.tolerance,
            "uncertified": [list(i) for i in self.uncertified],
            "n_evaluations": self.n_evaluations,
        }


@dataclass(frozen=True, eq=False)
class JointWindowResult:
    """Joint windows of two collectives over [0, x_max]^2 (module docstring).

    Attributes
    ----------
    collectives : tuple of two CollectiveStrategy
        As given (their upratings mark the point ``at``).
    truthful : Outcome
    solo_windows : tuple of two WindowResult
        Each collective acting alone, x in [0, x_max] (the axes' windows).
    lines : tuple of JointLine
        Exact statuses along lines of fixed x2 (``varying`` = 0) and fixed x1 (``varying`` = 1).
    edges : ndarray of shape (n_cells + 1,)
        Cell edges, the same on both axes.
    status : ndarray of shape (n_cells, n_cells)
        Status code of cell [i, j] = [x1 cell, x2 cell] (0-3, :data:`STATUS_NAMES`).
    certified, mixed : ndarray of bool, shape (n_cells, n_cells)
        Status proved for the whole cell; evaluated boxes inside the cell disagreed (a boundary crosses it).
    at : JointStatus
        The exact status at the collectives' own uprating values.
    n_evaluations : int
        Joint-outcome evaluations (lines and cells; solo windows not counted).
    """

    collectives: tuple[CollectiveStrategy, CollectiveStrategy]
    x_max: float
    truthful: Outcome
    solo_windows: tuple[WindowResult, WindowResult]
    lines: tuple[JointLine, ...]
    edges: np.ndarray
    status: np.ndarray
    certified: np.ndarray
    mixed: np.ndarray
    at: JointStatus
    n_evaluations: int

    def counts(self) -> dict:
        """Cells per status: {name: {"certified": n, "sampled": n}}."""
        return {
            name: {"certified": int(np.count_nonzero((self.status == code) & self.certified)),
                   "sampled": int(np.count_nonzero((self.status == code) & ~self.certified))}
            for code, name in enumerate(STATUS_NAMES)
        }

    def as_dict(self) -> dict:
        return {
            "collectives": [{"members": c.members.tolist(), "targets": c.targets.tolist(), "uprating": c.uprating}
                            for c in self.collectives],
            "x_max": self.x_max,
            "truthful_k_star": self.truthful.rank,
            "truthful_social_welfare": self.truthful.social_welfare,
            "solo_windows": [{"pareto_intervals": [list(i) for i in w.pareto_intervals],
                              "effective_intervals": [list(i) for i in w.effective_intervals],
                              "tolerance": w.tolerance} for w in self.solo_windows],
            "at": self.at.as_dict(),
            "lines": [line.as_dict() for line in self.lines],
            "cells": {
                "edges": self.edges.tolist(),
                "status": self.status.tolist(),
                "certified": self.certified.tolist(),
                "mixed": self.mixed.tolist(),
                "counts": self.counts(),
            },
            "status_names": list(STATUS_NAMES),
            "n_evaluations": self.n_evaluations,
        }


def pareto_margins(R_hat, top, R_true, before, after) -> np.ndarray:
    """Score margins that keep "after is a Pareto improvement on before" (ndarray of shape (n_users,)).

    Every user's top item must keep beating the items that would leave the user below ``before`` (utility
    R*[u, i] < before[u]); one gaining user (the one with the widest such margin) must keep beating every item
    that would not leave it strictly above ``before``. A perturbation that closes none of these margins cannot end
    the Pareto improvement, even when top items change among items that keep it.
    """
    users = np.arange(R_hat.shape[0])
    score = R_hat[users, top]
    weak = score - np.where(R_true < before[:, None], R_hat, -np.inf).max(axis=1)
    strict = score - np.where(R_true <= before[:, None], R_hat, -np.inf).max(axis=1)
    gainers = np.flatnonzero(after > before)
    margins = weak.copy()
    best = gainers[np.argmax(strict[gainers])]
    margins[best] = strict[best]
    return margins


class _Evaluator:
    """Exact joint and solo outcomes at points of the plane, with the box certificates of the module docstring."""

    def __init__(self, R_true, collectives, rule: RankRule, tie_rtol: float, truthful: Outcome):
        self.R_true = R_true
        self.collectives = collectives
        self.rule = rule
        self.tie_rtol = tie_rtol
        self.truthful = truthful
        shape = R_true.shape
        masks = []
        for c in collectives:
            mask = np.zeros(shape, dtype=bool)
            mask[np.ix_(c.members, c.targets)] = True
            masks.append(mask)
        self.masks = masks
        shared = masks[0] & masks[1]
        self.only = [masks[0] & ~shared, masks[1] & ~shared]
        self.shared = shared
        union = masks[0] | masks[1]
        self.perturbation_rank = int(min(np.any(union, axis=1).sum(), np.any(union, axis=0).sum()))
        self._solo_cache: list[dict] = [{}, {}]
        self.n_evaluations = 0

    def _evaluate(self, x1: float | None, x2: float | None):
        """Outcome when collective 1 reports x1 and collective 2 reports x2 (None: that collective is truthful);
        the masks give the same R~ as :func:`reveal` without rebuilding the strategies."""
        revealed = self.R_true.copy()
        if x1 is None or x2 is None:
            k, x = (1, x2) if x1 is None else (0, x1)
            revealed[self.masks[k]] = x
        else:
            revealed[self.only[0]] = x1
            revealed[self.only[1]] = x2
            revealed[self.shared] = max(x1, x2)
        rank, s, R_hat = truncated_reconstruction(revealed, self.rule)
        top = top_items(R_hat, self.tie_rtol)
        return revealed, rank, s, R_hat, top, self.R_true[np.arange(top.size), top]

    def _radius(self, evaluated, row_share, perturbation_rank, pareto: bool) -> float:
        """Certified radius keeping k* and either every utility or (``pareto``) the Pareto improvement."""
        revealed, rank, s, R_hat, top, utilities = evaluated
        if pareto:
            margins = pareto_margins(R_hat, top, self.R_true, self.truthful.utilities, utilities)
        else:
            margins = user_margins(R_hat, top, self.R_true)
        return certified_radius(
            s, rank, R_hat, top, np.linalg.norm(revealed, axis=1), self.rule, row_share=row_share,
            perturbation_rank=perturbation_rank, tie_rtol=self.tie_rtol, margins=margins,
        ).radius

    def solo(self, k: int, x: float):
        """(utilities, effective, radius in x keeping the solo outcome's effectiveness) of collective k alone."""
        cache = self._solo_cache[k]
        if x not in cache:
            collective = self.collectives[k]
            evaluated = self._evaluate(*((x, None) if k == 0 else (None, x)))
            comparison = compare_utilities(self.truthful.utilities, evaluated[-1])
            per_x = math.sqrt(collective.members.size * collective.targets.size)
            share = self.masks[k].any(axis=1) / math.sqrt(collective.members.size)
            radius = self._radius(evaluated, share, 1, comparison.is_pareto_effective) / per_x
            cache[x] = (evaluated[-1], comparison.is_effective, radius)
        return cache[x]

    def box(self, x1: float, x2: float, h1: float, h2: float) -> tuple[JointStatus, bool]:
        """Status at (x1, x2) and whether it is certified on [x1 +- h1] x [x2 +- h2]."""
        self.n_evaluations += 1
        evaluated = self._evaluate(x1, x2)
        (solo1, effective1, radius1), (solo2, effective2, radius2) = self.solo(0, x1), self.solo(1, x2)
        status = JointStatus.from_utilities(self.truthful.utilities, evaluated[-1], solo1, solo2)
        # Codes 0-1 depend on the joint outcome only; code 2 also on a solo that is not effective staying so,
        # code 3 on both solos staying effective.
        if status.code == 3 and (radius1 <= h1 or radius2 <= h2):
            return status, False
        if status.code == 2 and not ((not effective1 and radius1 > h1) or (not effective2 and radius2 > h2)):
            return status, False
        # Entries of collective k's own cells move by <= h_k, shared cells by <= max(h1, h2): ||E||_2 <= ||E||_F.
        rows = (self.only[0].sum(axis=1) * h1**2 + self.only[1].sum(axis=1) * h2**2
                + self.shared.sum(axis=1) * max(h1, h2) ** 2)
        eps = math.sqrt(float(rows.sum()))
        if eps == 0:
            return status, True
        radius = self._radius(evaluated, np.sqrt(rows) / eps, self.perturbation_rank, status.joint_pareto)
        return status, radius > eps


def _cell(evaluator: _Evaluator, a1, b1, a2, b2, depth: int, max_depth: int):
    """(statuses of the evaluated boxes, all boxes certified) for the box [a1, b1] x [a2, b2]; the first status is
    the box centre's."""
    status, certified = evaluator.box(0.5 * (a1 + b1), 0.5 * (a2 + b2), 0.5 * (b1 - a1), 0.5 * (b2 - a2))
    if certified or depth >= max_depth:
        return [status.code], certified
    m1, m2 = 0.5 * (a1 + b1), 0.5 * (a2 + b2)
    codes, all_certified = [status.code], True
    for lo1, hi1 in ((a1, m1), (m1, b1)):
        for lo2, hi2 in ((a2, m2), (m2, b2)):
            sub, ok = _cell(evaluator, lo1, hi1, lo2, hi2, depth + 1, max_depth)
            codes += sub
            all_certified &= ok
    return codes, all_certified


def _merge(segments, predicate) -> list[tuple[float, float]]:
    intervals: list[tuple[float, float]] = []
    for segment in segments:
        if not predicate(segment):
            continue
        if intervals and intervals[-1][1] == segment.lo:
            intervals[-1] = (intervals[-1][0], segment.hi)
        else:
            intervals.append((segment.lo, segment.hi))
    return intervals


def _line(R_true, collectives, varying: int, value: float, rule, x_max, solo_window: WindowResult, truthful,
          options) -> JointLine:
    fixed = 1 - varying
    pieces, tolerance, uncertified, n_evaluations = line_pieces(
        R_true, collectives[varying], collectives[fixed], value, rule, x_max, **options
    )
    fixed_solo = outcome(R_true, reveal(R_true, [collectives[fixed].with_uprating(value)]), rule,
                         tie_rtol=options["tie_rtol"]).utilities
    cuts = sorted({0.0, x_max, *(p.lo for p in pieces), *(p.lo for p in solo_window.pieces)})
    segments: list[JointSegment] = []
    for lo, hi in itertools.pairwise(cuts):
        if hi <= lo:
            continue
        middle = 0.5 * (lo + hi)
        piece = next(p for p in pieces if middle < p.hi or p is pieces[-1])
        solo = solo_window.piece_at(middle).utilities
        pair = (solo, fixed_solo) if varying == 0 else (fixed_solo, solo)
        status = JointStatus.from_utilities(truthful.utilities, piece.utilities, *pair)
        welfare = math.fsum(piece.utilities)
        if segments and segments[-1].status == status and segments[-1].rank == piece.rank and \
                segments[-1].social_welfare == welfare:
            last = segments[-1]
            segments[-1] = JointSegment(last.lo, hi, last.rank, last.social_welfare, status)
        else:
            segments.append(JointSegment(lo, hi, piece.rank, welfare, status))
    return JointLine(
        varying=varying,
        value=float(value),
        segments=tuple(segments),
        window_intervals=_merge(segments, lambda s: s.status.in_window),
        pareto_intervals=_merge(segments, lambda s: s.status.joint_pareto),
        tolerance=max(tolerance, solo_window.tolerance),
        uncertified=sorted([*uncertified, *solo_window.uncertified]),
        n_evaluations=n_evaluations,
    )


def joint_window(
    R_true,
    collectives: JointStrategy | Sequence[CollectiveStrategy],
    alpha: RankRule | float,
    x_max: float = 10.0,
    *,
    n_cells: int = 24,
    max_depth: int = 2,
    lines: tuple[Sequence[float], Sequence[float]] | None = None,
    rtol: float = 1e-6,
    n_initial: int = 65,
    min_cell: float | None = None,
    tie_rtol: float = DEFAULT_TIE_RTOL,
) -> JointWindowResult:
    """Joint windows of two collectives: exact along lines, certified or sampled on a cell grid.

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R*.
    collectives : JointStrategy or sequence of two CollectiveStrategy
        The two collectives (members, targets); their scalar upratings mark the point reported as ``at``.
    alpha : float or RankRule
    x_max : float, default=10.0
        Both uprating values range over [0, x_max].
    n_cells : int, default=24
        Cells per axis of the grid.
    max_depth : int, default=2
        Quadtree levels tried inside a cell before it is reported as sampled.
    lines : (values of x2, values of x1), optional
        Fixed values of the exact lines: lines along x1 at each x2 given first, then along x2 at each x1. Default:
        0, x_max/5, ..., 4 x_max/5 on both, plus the collectives' own upratings.
    rtol, n_initial, min_cell, tie_rtol
        As in :func:`recollective.game.effective_window` (for the lines and the solo windows).

    Returns
    -------
    JointWindowResult

    Raises
    ------
    InvalidParameterError
        Not exactly two collectives, a non-scalar uprating, an index out of range, x_max <= 0, n_cells < 1.
    """
    R_true = check_preferences(R_true)
    joint = collectives if isinstance(collectives, JointStrategy) else JointStrategy(tuple(collectives))
    if joint.n_collectives != 2:
        raise InvalidParameterError(
            f"a joint window needs exactly two collectives; got {joint.n_collectives}"
        )
    joint.check_against(*R_true.shape)
    pair = joint.collectives
    for index, c in enumerate(pair):
        if not isinstance(c.uprating, float):
            raise InvalidParameterError(f"collective {index}: a joint window needs one scalar uprating value")
    _, rule, _, _, x_max = check_window_arguments(R_true, pair[0].members, pair[0].targets, alpha, x_max, rtol,
                                                  n_initial, "n_initial")
    if int(n_cells) < 1 or int(max_depth) < 0:
        raise InvalidParameterError(f"n_cells must be >= 1 and max_depth >= 0; got {n_cells!r}, {max_depth!r}")
    min_cell = x_max / 512 if min_cell is None else check_alpha(min_cell, "min_cell")
    truthful = outcome(R_true, None, rule, tie_rtol=tie_rtol)
    solo_windows = tuple(
        effective_window(R_true, c.members, c.targets, rule, x_max, rtol=rtol, n_initial=n_initial,
                         min_cell=min_cell, tie_rtol=tie_rtol, baseline=truthful)
        for c in pair
    )
    if lines is None:
        default = [i * x_max / 5 for i in range(5)]
        lines = tuple(sorted({*default, *([min(pair[fixed].uprating, x_max)])}) for fixed in (1, 0))
    options = {"rtol": rtol, "n_initial": int(n_initial), "min_cell": min_cell, "tie_rtol": tie_rtol}
    found = []
    for varying in (0, 1):
        for value in lines[varying]:
            value = check_alpha(value, "lines")
            if value > x_max:
                raise InvalidParameterError(f"line value {value!r} lies outside [0, x_max = {x_max:g}]")
            found.append(_line(R_true, pair, varying, value, rule, x_max, solo_windows[varying], truthful, options))

    evaluator = _Evaluator(R_true, pair, rule, tie_rtol, truthful)
    n = int(n_cells)
    edges = np.linspace(0.0, x_max, n + 1)
    status = np.zeros((n, n), dtype=np.int64)
    certified = np.zeros((n, n), dtype=bool)
    mixed = np.zeros((n, n), dtype=bool)
    with threadpool_limits(limits=1, user_api="blas"):
        for i in range(n):
            for j in range(n):
                codes, ok = _cell(evaluator, edges[i], edges[i + 1], edges[j], edges[j + 1], 0, int(max_depth))
                status[i, j] = codes[0]
                mixed[i, j] = len(set(codes)) > 1
                certified[i, j] = ok and not mixed[i, j]
    report_at = _status_at(R_true, pair, rule, tie_rtol, truthful)
    return JointWindowResult(
        collectives=pair,
        x_max=x_max,
        truthful=truthful,
        solo_windows=solo_windows,
        lines=tuple(found),
        edges=edges,
        status=status,
        certified=certified,
        mixed=mixed,
        at=report_at,
        n_evaluations=evaluator.n_evaluations + sum(line.n_evaluations for line in found),
    )


def _status_at(R_true, pair, rule, tie_rtol, truthful) -> JointStatus:
    def utilities(collectives):
        return outcome(R_true, reveal(R_true, collectives), rule, tie_rtol=tie_rtol).utilities

    return JointStatus.from_utilities(truthful.utilities, utilities(pair), utilities(pair[:1]), utilities(pair[1:]))
