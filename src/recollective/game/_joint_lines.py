"""Exact joint windows along one line of the (x1, x2) plane: one collective's value varies, the other's is fixed.

Along the line "collective a reports x, collective b reports v" the revealed matrix is

    R~(x) = (R* with b's cells at v) with a's cells at max(x, v) where both claim a cell, x elsewhere.

Without shared cells this is the one-parameter family B + x 1_{C_a} 1_{T_a}^T of the single-collective window, so
the same certified refinement (:func:`recollective.game._windows._refine`, :class:`RankOneFamily`) applies with
``revealed_rest`` = R* with b's cells at v. With shared cells the line splits at x = v: above v every cell of a
varies (again a product block); below v only a's cells outside b's block vary, a 0/1 mask M that need not be a
product, and :class:`MaskFamily` evaluates it with a full SVD and certifies with the same radius (the perturbation
between two x's is (dx) M, spectral norm |dx| ||M||_2, row u's share ||M[u]|| / ||M||_2, rank <= rank M).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from recollective.game._certificates import certified_radius, user_margins
from recollective.game._family import FamilyPoint, RankOneFamily
from recollective.game._outcome import top_items, truncated_reconstruction
from recollective.game._rank_rules import RankRule
from recollective.game._strategy import CollectiveStrategy
from recollective.game._windows import _refine

__all__ = ["LinePiece", "MaskFamily", "line_pieces"]


class MaskFamily:
    """Outcomes of R~(x) = rest with the cells of ``mask`` set to x, each by a full SVD, with certified radii."""

    def __init__(self, R_true, rest, mask: np.ndarray, rule: RankRule, tie_rtol: float):
        self.R_true = R_true
        self.rest = rest
        self.mask = mask
        self.rule = rule
        self.tie_rtol = tie_rtol
        values = mask.astype(np.float64)
        self.spectral_per_x = float(np.linalg.norm(values, 2))
        self.row_share = np.linalg.norm(values, axis=1) / self.spectral_per_x
        self.perturbation_rank = int(np.linalg.matrix_rank(values))
        self.n_evaluations = 0

    def evaluate(self, x: float, certify: bool = True) -> FamilyPoint:
        self.n_evaluations += 1
        revealed = np.where(self.mask, x, self.rest)
        rank, s, R_hat = truncated_reconstruction(revealed, self.rule)
        top = top_items(R_hat, self.tie_rtol)
        utilities = self.R_true[np.arange(top.size), top]
        radius = 0.0
        if certify:
            certificate = certified_radius(
                s, rank, R_hat, top, np.linalg.norm(revealed, axis=1), self.rule, row_share=self.row_share,
                perturbation_rank=self.perturbation_rank, tie_rtol=self.tie_rtol,
                margins=user_margins(R_hat, top, self.R_true),
            )
            radius = certificate.radius / self.spectral_per_x
        return FamilyPoint(float(x), int(rank), top, utilities, radius)


class _Shifted:
    """A family seen on [lo, hi] as [0, hi - lo] (``_refine`` always starts at 0)."""

    def __init__(self, family, lo: float):
        self.family = family
        self.lo = lo

    @property
    def n_evaluations(self) -> int:
        return self.family.n_evaluations

    def evaluate(self, t: float, certify: bool = True) -> FamilyPoint:
        return self.family.evaluate(self.lo + t, certify)


@dataclass(frozen=True, eq=False)
class LinePiece:
    """A maximal interval [lo, hi] of the varying value on which the joint outcome is one and the same.

    ``utilities`` and ``top_items`` are ndarrays of shape (n_users,).
    """

    lo: float
    hi: float
    rank: int
    top_items: np.ndarray
    utilities: np.ndarray


def _cell_mask(shape, collective: CollectiveStrategy) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[np.ix_(collective.members, collective.targets)] = True
    return mask


def _segment_family(R_true, varying: CollectiveStrategy, mask, rest, rule, tie_rtol):
    """The family over the varying cells ``mask``: :class:`RankOneFamily` when they form varying's whole block."""
    if mask.sum() == varying.members.size * varying.targets.size:
        return RankOneFamily(R_true, varying.members, varying.targets, rule, tie_rtol, revealed_rest=rest)
    return MaskFamily(R_true, rest, mask, rule, tie_rtol)


def line_pieces(R_true, varying: CollectiveStrategy, fixed: CollectiveStrategy, value: float, rule: RankRule,
                x_max: float, *, rtol: float, n_initial: int, min_cell: float, tie_rtol: float):
    """Pieces of the joint outcome for the varying collective's x in [0, x_max], the other reporting ``value``.

    Returns ``(pieces, tolerance, uncertified, n_evaluations)`` with the guarantee of
    :func:`recollective.game.effective_window`: breakpoints within ``tolerance``, every piece certified constant
    except inside the ``uncertified`` cells.
    """
    shape = R_true.shape
    rest = R_true.copy()
    rest[np.ix_(fixed.members, fixed.targets)] = value
    own, other = _cell_mask(shape, varying), _cell_mask(shape, fixed)
    shared = own & other
    segments = []  # (lo, hi, varying mask)
    split = min(value, x_max) if shared.any() and value > 0 else 0.0
    if split > 0:
        segments.append((0.0, split, own & ~shared))
    if split < x_max:
        segments.append((split, x_max, own))
    x_scale = float(R_true.max()) if R_true.max() > 0 else 1.0
    points: list[FamilyPoint] = []
    uncertified: list[tuple[float, float]] = []
    tolerance, n_evaluations = 0.0, 0
    with threadpool_limits(limits=1, user_api="blas"):
        for lo, hi, mask in segments:
            if not mask.any():  # nothing varies: one outcome on the whole segment
                rank, _, R_hat = truncated_reconstruction(rest, rule)
                top = top_items(R_hat, tie_rtol)
                constant = FamilyPoint(lo, int(rank), top, R_true[np.arange(top.size), top], 0.0)
                points += [constant, replace(constant, x=hi)]
                n_evaluations += 1
                continue
            family = _Shifted(_segment_family(R_true, varying, mask, rest, rule, tie_rtol), lo)
            share = max(3, int(np.ceil(n_initial * (hi - lo) / x_max)))
            found, cells, reached = _refine(family, hi - lo, share, min_cell, rtol, x_scale)
            points += [replace(found[t], x=lo + t) for t in sorted(found)]
            uncertified += [(lo + a, lo + b) for a, b in cells]
            tolerance = max(tolerance, reached)
            n_evaluations += family.n_evaluations
    return _group(points, x_max), tolerance, sorted(uncertified), n_evaluations


def _group(points: list[FamilyPoint], x_max: float) -> list[LinePiece]:
    """Consecutive points with the same outcome form a piece; boundaries at the midpoints between pieces."""
    points = sorted(points, key=lambda p: p.x)
    groups: list[list[FamilyPoint]] = [[points[0]]]
    for point in points[1:]:
        if point.same_outcome(groups[-1][-1]):
            groups[-1].append(point)
        else:
            groups.append([point])
    pieces = []
    for index, group in enumerate(groups):
        lo = 0.0 if index == 0 else 0.5 * (groups[index - 1][-1].x + group[0].x)
        hi = x_max if index == len(groups) - 1 else 0.5 * (group[-1].x + groups[index + 1][0].x)
        if hi > lo:
            first = group[0]
            pieces.append(LinePiece(lo, hi, first.rank, first.top_items, first.utilities))
    return pieces
