"""Benchmark: exact windows through the closed-form evaluator (THEORY.md) against the brute-force searches.

Builds the 2,000 x 500 majority–minority instance of ``bench_windows.py`` with a rank-one minority block
(``majority_minority(1800, 200, 450, 50, majority_rank=5, minority_rank=1, minority_scale=0.15, rng=1)``,
``--alpha-position`` places alpha between s_1(R_min) and s_5(R_maj)), takes the first ``--members`` majority users
and the minority item with the largest column sum as the target, and times in the same run

(a) ``theory_window(R_true, members, target, alpha, x_max)`` — the exact evaluator (candidate);
(b) ``effective_window(R_true, members, [target], alpha, x_max)`` — the brute-force window search;
(c) ``--grid`` equally spaced x in [0, x_max], each a full ``outcome()`` compared with truthful play.

It checks that (a) and (b) report the same intervals (same number, endpoints within the sum of their stated
tolerances) and the same pieces, and that the grid classifies every point farther than one grid step from an
endpoint as (a) does. BLAS threads are pinned with threadpoolctl (``--threads``, default 1).

``--coverage N`` instead measures, on N random instances of each THEORY.md family, the share of the true
Pareto window that each sufficient condition certifies (a 2,000-point grid per instance; the true window
from the exact evaluator, which the tests check against brute force).

Usage::

    .venv/bin/python benchmarks/bench_theory.py                       # full run (about 4 minutes on 2 cores)
    .venv/bin/python benchmarks/bench_theory.py --quick               # 200-point grid
    .venv/bin/python benchmarks/bench_theory.py --alpha-position 0.001   # an instance with a Pareto window
    .venv/bin/python benchmarks/bench_theory.py --coverage 300        # coverage of the certificates
    .venv/bin/python benchmarks/bench_theory.py --json                # one JSON document on stdout
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import recollective.game
from _common import code_version, log, machine, median_time, window_parser
from recollective.game import CollectiveStrategy, compare_outcomes, effective_window, majority_minority, outcome
from recollective.game.theory import theory_window

FLAGS = ("is_effective", "is_pareto_effective")


def parse_args(argv=None) -> argparse.Namespace:
    parser = window_parser(__doc__, "a 200-point grid and one repeat")
    parser.add_argument("--alpha-position", type=float, default=0.1, help="alpha's place in the gap (default 0.1)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats of (a) and (b), median (default 5; 1 quick)")
    parser.add_argument("--coverage", type=int, default=0, metavar="N", help="measure certificate coverage instead")
    parser.add_argument("--coverage-grid", type=int, default=2000, help="grid points per instance (default 2000)")
    args = parser.parse_args(argv)
    if args.grid is None:
        args.grid = 200 if args.quick else 2000
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    return args


def intervals_from_grid(xs: np.ndarray, flags: np.ndarray, x_max: float) -> list[tuple[float, float]]:
    intervals = []
    i = 0
    while i < xs.size:
        if not flags[i]:
            i += 1
            continue
        j = i
        while j + 1 < xs.size and flags[j + 1]:
            j += 1
        lo = 0.0 if i == 0 else 0.5 * (xs[i - 1] + xs[i])
        hi = x_max if j == xs.size - 1 else 0.5 * (xs[j] + xs[j + 1])
        intervals.append((float(lo), float(hi)))
        i = j + 1
    return intervals


def same_intervals(ours, theirs, tolerance: float) -> tuple[bool, float]:
    if len(ours) != len(theirs):
        return False, float("inf")
    worst = max(
        (abs(a - c) for (lo, hi), (lo2, hi2) in zip(ours, theirs, strict=True) for a, c in ((lo, lo2), (hi, hi2))),
        default=0.0,
    )
    return worst <= tolerance, worst


def compare_windows(ours, theirs) -> dict:
    tolerance = ours.tolerance + theirs.tolerance
    report = {"tolerance": tolerance}
    for flag, name in (("pareto_intervals", "pareto"), ("effective_intervals", "effective")):
        agree, worst = same_intervals(getattr(ours, flag), getattr(theirs, flag), tolerance)
        report[name] = {
            "ours": getattr(ours, flag),
            "effective_window": getattr(theirs, flag),
            "agree": agree,
            "largest_endpoint_difference": worst,
        }
    same_pieces = len(ours.pieces) == len(theirs.pieces) and all(
        np.array_equal(p.utilities, q.utilities) and p.rank == q.rank
        for p, q in zip(ours.pieces, theirs.pieces, strict=True)
    )
    report["same_pieces"] = bool(same_pieces)
    report["n_pieces"] = [len(ours.pieces), len(theirs.pieces)]
    return report


def run_grid(R_true, strategy, alpha, xs):
    truthful = outcome(R_true, None, alpha)
    flags = np.zeros((len(FLAGS), xs.size), dtype=bool)
    for index, x in enumerate(xs):
        comparison = compare_outcomes(truthful, outcome(R_true, strategy.with_uprating(float(x)).apply(R_true), alpha))
        flags[:, index] = comparison.is_effective, comparison.is_pareto_effective
    return flags


def compare_grid(result, xs, flags, x_max) -> dict:
    step = float(xs[1] - xs[0])
    report = {"grid_step": step}
    for row, flag in enumerate(FLAGS):
        ours = result.effective_intervals if flag == "is_effective" else result.pareto_intervals
        ends = np.array([e for interval in ours for e in interval if 0.0 < e < x_max])
        far = np.ones(xs.size, dtype=bool) if ends.size == 0 else np.abs(xs[:, None] - ends[None, :]).min(1) > step
        our_flags = np.array([getattr(result.piece_at(float(x)), flag) for x in xs])
        mismatches = np.flatnonzero(far & (our_flags != flags[row]))
        report[flag] = {
            "grid_intervals": intervals_from_grid(xs, flags[row], x_max),
            "points_checked": int(far.sum()),
            "mismatches": [float(xs[i]) for i in mismatches],
        }
    return report


def benchmark(args) -> dict:
    instance = majority_minority(
        1800,
        200,
        450,
        50,
        majority_rank=5,
        minority_rank=1,
        minority_scale=0.15,
        alpha_position=args.alpha_position,
        rng=args.seed,
    )
    R_true, alpha = instance.R_true, instance.alpha
    members = instance.majority_users[: args.members]
    minority = instance.minority_items
    target = int(minority[np.argmax(R_true[:, minority].sum(axis=0))])
    document = {
        "instance": {
            "shape": list(R_true.shape),
            "alpha": alpha,
            "alpha_position": args.alpha_position,
            "members": int(members.size),
            "target": target,
            "x_max": args.x_max,
        }
    }
    log(f"instance {R_true.shape}, alpha = {alpha:.6g}, {members.size} members, target {target}")
    with threadpool_limits(limits=args.threads, user_api="blas"):
        theory, t_theory, all_theory = median_time(
            lambda: theory_window(R_true, members, target, alpha, args.x_max), args.repeats
        )
        log(
            f"(a) theory_window: {t_theory:.3f} s (median of {args.repeats}), {theory.n_evaluations} evaluations, "
            f"method {theory.method}"
        )
        brute, t_brute, all_brute = median_time(
            lambda: effective_window(R_true, members, [target], alpha, args.x_max), args.repeats
        )
        log(f"(b) effective_window: {t_brute:.3f} s (median of {args.repeats}), {brute.n_evaluations} evaluations")
        xs = np.linspace(0.0, args.x_max, args.grid)
        start = time.perf_counter()
        flags = run_grid(R_true, CollectiveStrategy(members, [target], 0.0), alpha, xs)
        t_grid = time.perf_counter() - start
        log(f"(c) {args.grid}-point grid: {t_grid:.2f} s")
    document["theory_window"] = {
        "seconds": t_theory,
        "all_seconds": all_theory,
        "n_evaluations": theory.n_evaluations,
        "method": theory.method,
        "x_k": theory.x_k,
        "tolerance": theory.tolerance,
        "pareto": theory.pareto_intervals,
        "effective": theory.effective_intervals,
    }
    document["effective_window"] = {
        "seconds": t_brute,
        "all_seconds": all_brute,
        "n_evaluations": brute.n_evaluations,
        "tolerance": brute.tolerance,
    }
    document["grid"] = {"seconds": t_grid, "points": args.grid, "evaluations": args.grid + 1}
    document["speedup"] = {"grid_over_theory": t_grid / t_theory, "effective_window_over_theory": t_brute / t_theory}
    document["agreement_with_effective_window"] = compare_windows(theory, brute)
    document["agreement_with_grid"] = compare_grid(theory, xs, flags, args.x_max)
    return document


def coverage(n_instances: int, n_grid: int, progress) -> dict:
    """Share of the true Pareto window certified by each sufficient condition, on both THEORY.md families.

    The families are the tests' (``tests/game/test_theory.py``: ``rank_one_case``, ``general_case``). For each
    instance the true window is the set of grid points (``n_grid`` points of (0, 2 max R*]) where the exact
    evaluator finds the strategy Pareto-effective; coverage is the share of those points a test certifies.
    """
    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root / "tests"), str(root / "tests" / "game")]
    from test_theory import cases, evaluator  # the tests' instance families

    from recollective.game.theory import corollary_2_3, theorem1_interval, theorem1_refined

    tests = ("theorem 1 interval", "theorem 1 refined", "corollary 2.3 crude", "corollary 2.3 refined")
    report = {}
    for family in ("rank_one", "general"):
        shares = {test: [] for test in tests}
        fires = dict.fromkeys(tests, 0)
        violations = dict.fromkeys(tests, 0)
        n_window = 0
        start = time.perf_counter()
        for case in cases(family, n_instances):
            ev = evaluator(case)
            data = ev.spectral
            st = data.structure
            A = case.R[np.ix_(st.majority_users, st.majority_items)]
            xs = np.linspace(0.0, 2.0 * float(case.R.max()), n_grid + 1)[1:]
            baseline = ev.evaluate(0.0).utilities
            _, _, utilities = ev.evaluate_many(xs)
            window = np.all(utilities >= baseline, axis=1) & np.any(utilities > baseline, axis=1)
            interval = theorem1_interval(data)
            certified = {
                "theorem 1 interval": np.array([interval.contains(x) for x in xs]),
                "theorem 1 refined": np.array([theorem1_refined(data, x).certified for x in xs]),
                "corollary 2.3 crude": np.array([corollary_2_3(data, x, A, refined=False).certified for x in xs]),
                "corollary 2.3 refined": np.array([corollary_2_3(data, x, A).certified for x in xs]),
            }
            for test in tests:
                violations[test] += int(np.count_nonzero(certified[test] & ~window))
            if not window.any():
                continue
            n_window += 1
            for test in tests:
                if test.startswith("theorem 1") and not interval.applicable:
                    continue  # Theorem 1 is stated for rank-one A only
                fires[test] += bool(certified[test].any())
                shares[test].append(np.count_nonzero(certified[test] & window) / np.count_nonzero(window))
        progress(f"{family}: {n_instances} instances in {time.perf_counter() - start:.1f} s")
        report[family] = {
            "instances": n_instances,
            "instances_with_window": n_window,
            "grid_points": n_grid,
            "tests": {
                test: {
                    "applicable_instances_with_window": len(shares[test]),
                    "violations": violations[test],
                    "fires": fires[test],
                    "coverage_mean": float(np.mean(shares[test])) if shares[test] else None,
                    "coverage_median": float(np.median(shares[test])) if shares[test] else None,
                    "coverage_p10": float(np.percentile(shares[test], 10)) if shares[test] else None,
                }
                for test in tests
            },
        }
    return report


def main(argv=None) -> None:
    args = parse_args(argv)
    document = {"machine": machine(), "code": code_version(recollective.game), "threads": args.threads}
    if args.coverage:
        with threadpool_limits(limits=args.threads, user_api="blas"):
            document["coverage"] = coverage(args.coverage, args.coverage_grid, log)
    else:
        document.update(benchmark(args))
    if args.json:
        print(json.dumps(document, sort_keys=True, default=float))
        return
    summary(document)


def summary(document: dict) -> None:
    """Human-readable summary on stdout."""
    print(f"machine: {document['machine']}")
    print(f"code: {document['code']}, BLAS threads {document['threads']}")
    if "coverage" in document:
        for family, report in document["coverage"].items():
            print(
                f"{family}: {report['instances_with_window']} of {report['instances']} instances have a window "
                f"({report['grid_points']}-point grid)"
            )
            for test, row in report["tests"].items():
                if not row["applicable_instances_with_window"]:
                    print(f"  {test}: not applicable")
                    continue
                print(
                    f"  {test}: violations {row['violations']}, fires {row['fires']} of "
                    f"{row['applicable_instances_with_window']}, coverage mean {row['coverage_mean']:.3f} / "
                    f"median {row['coverage_median']:.3f} / 10th pct {row['coverage_p10']:.3f}"
                )
        return
    inst, theory, brute, grid = (document[k] for k in ("instance", "theory_window", "effective_window", "grid"))
    print(
        f"instance {inst['shape']}, alpha = {inst['alpha']:.6g} (position {inst['alpha_position']}), "
        f"{inst['members']} members, target {inst['target']}, x in [0, {inst['x_max']}]"
    )
    print(
        f"(a) theory_window:    {theory['seconds']:.3f} s (median), {theory['n_evaluations']} evaluations, "
        f"x_k = {theory['x_k']:.6g}"
    )
    print(f"(b) effective_window: {brute['seconds']:.3f} s (median), {brute['n_evaluations']} evaluations")
    print(f"(c) grid:             {grid['seconds']:.2f} s, {grid['evaluations']} outcome() calls")
    speed = document["speedup"]
    print(
        f"speed-up: {speed['grid_over_theory']:.1f}x over the grid, {speed['effective_window_over_theory']:.2f}x "
        "over effective_window"
    )
    agreement = document["agreement_with_effective_window"]
    for name in ("pareto", "effective"):
        row = agreement[name]
        print(
            f"{name}: ours {row['ours']} vs effective_window {row['effective_window']}: agree {row['agree']} "
            f"(largest endpoint difference {row['largest_endpoint_difference']:.3g}, tolerance "
            f"{agreement['tolerance']:.3g})"
        )
    print(f"same pieces (k* and utilities): {agreement['same_pieces']} {agreement['n_pieces']}")
    for flag, row in document["agreement_with_grid"].items():
        if flag == "grid_step":
            continue
        print(
            f"grid {flag}: {row['grid_intervals']}; {row['points_checked']} points checked, "
            f"{len(row['mismatches'])} mismatches"
        )


if __name__ == "__main__":
    main()
