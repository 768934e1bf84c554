"""Everything THEORY.md says about one instance and strategy, in one call (what ``recollective game theory`` prints).

:func:`theory_report` runs THEORY.md §7 in order: structure detection (§1), spectral data and x_k (step 1), the
retention test at x (step 2, Theorem 2.1), the closed-form window of Theorem 1 (step 3), the exact window from
the fast evaluator (step 4), the pointwise certificates (Theorem 1(c), Corollary 2.3 crude and refined; step 5) at
x and on a grid, the platform statements (step 6, Propositions 3.1-3.2) and the certified radius of
Proposition 4.2 with the robust uprating value (step 7). When the structure is not detected it says why and
reports the window of the brute-force search instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_alpha, check_indices, check_preferences
from recollective.game._outcome import DEFAULT_TIE_RTOL
from recollective.game.theory._certificates import (
    MajorityBlock,
    PointCertificate,
    Theorem1Interval,
    corollary_2_3,
    theorem1_interval,
    theorem1_refined,
)
from recollective.game.theory._evaluator import ExactEvaluator
from recollective.game.theory._platform import PlatformStatements, platform_statements
from recollective.game.theory._robust import RobustnessRadius, RobustUprating, robust_uprating, robustness_radius
from recollective.game.theory._spectral import RetentionTest, SpectralData, retention_test, spectral_data
from recollective.game.theory._structure import DEFAULT_STRUCTURE_RTOL, StructureResult, detect_structure
from recollective.game.theory._window import TheoryWindowResult, theory_window

__all__ = ["TheoryReport", "certified_runs", "theory_report"]

TESTS = ("theorem 1 (c)", "corollary 2.3 crude", "corollary 2.3 refined")


@dataclass(frozen=True, eq=False)
class TheoryReport:
    """The result of :func:`theory_report` (fields are None where the structure was not detected).

    Attributes
    ----------
    x : float or None
        The uprating value examined: the one asked for, else the robust uprating value (None when the window
        is empty and none was asked for).
    x_source : str
        ``"given"``, ``"robust"`` or ``"none"``.
    x_in_pareto_window : bool or None
        Whether x lies in the exact Pareto window (None when x is None or beyond x_max).
    certified_runs : dict
        test -> list of [lo, hi]: runs of consecutive grid points (``n_grid`` points of (0, x_max]) that the
        pointwise test certifies. A claim about those grid points, not about the gaps between them.
    """

    structure: StructureResult
    window: TheoryWindowResult
    x: float | None
    x_source: str
    spectral: SpectralData | None = None
    retention: RetentionTest | None = None
    theorem1: Theorem1Interval | None = None
    certificates: tuple[PointCertificate, ...] = ()
    certified_runs: dict | None = None
    n_grid: int = 0
    platform: PlatformStatements | None = None
    robustness: RobustnessRadius | None = None
    robust: RobustUprating | None = None
    x_in_pareto_window: bool | None = None

    def as_dict(self) -> dict:
        def maybe(value):
            return None if value is None else value.as_dict()

        return {
            "structure": self.structure.as_dict(),
            "spectral": maybe(self.spectral),
            "x": self.x,
            "x_source": self.x_source,
            "x_in_pareto_window": self.x_in_pareto_window,
            "retention": maybe(self.retention),
            "theorem1": maybe(self.theorem1),
            "certificates": [c.as_dict() for c in self.certificates],
            "certified_runs": self.certified_runs,
            "n_grid": self.n_grid,
            "window": self.window.as_dict(),
            "platform": maybe(self.platform),
            "robustness": maybe(self.robustness),
            "robust_uprating": maybe(self.robust),
        }


def _certify(test: str, spectral: SpectralData, x: float, A: MajorityBlock) -> PointCertificate:
    if test == "theorem 1 (c)":
        return theorem1_refined(spectral, x)
    return corollary_2_3(spectral, x, A, refined=test.endswith("refined"))


def certified_runs(spectral: SpectralData, A, xs: np.ndarray) -> dict:
    """Runs of consecutive points of ``xs`` that each pointwise test certifies: test -> list of [lo, hi].

    ``A`` is the majority block of R* (an ndarray or a :class:`MajorityBlock`).
    """
    A = A if isinstance(A, MajorityBlock) else MajorityBlock.of(A)
    runs: dict[str, list[list[float]]] = {}
    for test in TESTS:
        flags = [_certify(test, spectral, float(x), A).certified for x in xs]
        found: list[list[float]] = []
        for x, flag, previous in zip(xs, flags, [False, *flags[:-1]], strict=True):
            if flag and previous:
                found[-1][1] = float(x)
            elif flag:
                found.append([float(x), float(x)])
        runs[test] = found
    return runs


def theory_report(
    R_true,
    alpha: float,
    members,
    target: int,
    *,
    x: float | None = None,
    x_max: float = 10.0,
    n_grid: int = 400,
    user_group=None,
    item_group=None,
    structure_rtol: float = DEFAULT_STRUCTURE_RTOL,
    tie_rtol: float = DEFAULT_TIE_RTOL,
) -> TheoryReport:
    """Apply every statement of THEORY.md to one instance and strategy (module docstring).

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
    alpha : float
    members : array-like of int
        The collective C (majority users).
    target : int
        The target item t (a minority item).
    x : float, optional
        Uprating value to examine; by default the robust uprating value (argmax of Proposition 4.2's radius
        over the Pareto window).
    x_max : float, default=10.0
        Range [0, x_max] of the window and of the certificate grid.
    n_grid : int, default=400
        Points of (0, x_max] on which the pointwise certificates are evaluated.
    user_group, item_group : array-like of {0, 1}, optional
        Group labels (recovered from the support of R* when omitted).

    Returns
    -------
    TheoryReport

    Notes
    -----
    Runs with BLAS pinned to one thread (threadpoolctl): the work is small kernels and two SVDs, and on a shared
    machine a multi-threaded SVD can be orders of magnitude slower (benchmarks/README.md).
    """
    R_true = check_preferences(R_true)
    alpha = check_alpha(alpha)
    members = check_indices(members, R_true.shape[0], "members", "user")
    targets = check_indices(target, R_true.shape[1], "target", "item")
    if targets.size != 1:
        raise InvalidParameterError(f"the theory covers one target item; got {targets.size}")
    if x is not None:
        x = check_alpha(x, "x")
    if int(n_grid) < 1:
        raise InvalidParameterError(f"n_grid must be >= 1; got {n_grid!r}")
    with threadpool_limits(limits=1, user_api="blas"):  # small kernels; a shared machine punishes BLAS threads
        return _report(
            R_true,
            alpha,
            members,
            int(targets[0]),
            x,
            x_max,
            int(n_grid),
            structure_rtol,
            tie_rtol,
            {"user_group": user_group, "item_group": item_group},
        )


def _report(R_true, alpha, members, target, x, x_max, n_grid, structure_rtol, tie_rtol, groups) -> TheoryReport:
    window = theory_window(
        R_true, members, target, alpha, x_max, tie_rtol=tie_rtol, structure_rtol=structure_rtol, **groups
    )
    structure = detect_structure(R_true, alpha, members=members, target=target, structure_rtol=structure_rtol, **groups)
    inside = None if x is None or x > window.x_max else bool(window.piece_at(x).is_pareto_effective)
    if not structure.ok:
        return TheoryReport(structure, window, x, "given" if x is not None else "none", x_in_pareto_window=inside)
    spectral = spectral_data(structure, members, target)
    evaluator = ExactEvaluator(R_true, spectral, tie_rtol)
    robust = robust_uprating(evaluator, window.pareto_intervals)
    source = "given"
    if x is None:
        x, source = (robust.x, "robust") if robust.radius is not None else (None, "none")
    inside = None if x is None or x > window.x_max else bool(window.piece_at(x).is_pareto_effective)
    A = MajorityBlock.of(R_true[np.ix_(structure.majority_users, structure.majority_items)])
    xs = np.linspace(0.0, window.x_max, int(n_grid) + 1)[1:]
    return TheoryReport(
        structure=structure,
        window=window,
        x=x,
        x_source=source,
        spectral=spectral,
        retention=None if x is None else retention_test(spectral, x),
        theorem1=theorem1_interval(spectral),
        certificates=() if x is None else tuple(_certify(test, spectral, x, A) for test in TESTS),
        certified_runs=certified_runs(spectral, A, xs),
        n_grid=int(n_grid),
        platform=None if x is None else platform_statements(evaluator, x),
        robustness=None if x is None else robustness_radius(evaluator, x),
        robust=robust,
        x_in_pareto_window=inside,
    )
