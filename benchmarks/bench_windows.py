"""Benchmark: exact effective windows against a hand-written grid of full evaluations.

Builds a 2,000 x 500 majority–minority instance (MISSION.md, "The one-shot game"), takes a collective of 20
majority users and one minority target, and times in the same run

(a) ``effective_window(R_true, members, targets, alpha, x_max=10)`` — the candidate, and
(b) the baseline a user would write by hand: ``--grid`` points over [0, x_max], each a full evaluation
    ``outcome(R_true, strategy.with_uprating(x).apply(R_true), alpha)`` compared with the truthful outcome by
    ``compare_outcomes``, the grid's classification turned into intervals.

It prints both times, their ratio, the number of evaluations, and whether the two answers agree up to the
grid's resolution: every grid point farther than one grid step from an interior endpoint of our intervals must
be classified the same way by both (mismatches are listed). It also compares the grid's per-user utilities
with the window piece that contains each grid point (a stricter check than the two flags), and times one full
``outcome()`` of the instance (median of ``--repeats``).

BLAS threads are pinned with threadpoolctl (``--threads``, default 1) and recorded. This is a script, not a
test: no timing assertions live in ``tests/`` (STYLE.md item 23).

Usage::

    .venv/bin/python benchmarks/bench_windows.py            # full run (a few minutes on 2 cores)
    .venv/bin/python benchmarks/bench_windows.py --quick    # smoke run: 200-point grid, one window run
    .venv/bin/python benchmarks/bench_windows.py --json     # one JSON document on stdout
    .venv/bin/python benchmarks/bench_windows.py --profile 15   # add a cProfile of effective_window
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import recollective.game
from _common import blas_pools, code_version, log, machine, print_provenance, profiled, window_parser
from recollective.game import (
    CollectiveStrategy,
    compare_outcomes,
    effective_window,
    majority_minority,
    outcome,
    singular_value_gap,
)

FLAGS = ("is_effective", "is_pareto_effective")


def parse_args(argv=None) -> argparse.Namespace:
    parser = window_parser(__doc__, "a 200-point grid (unless --grid is given)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the outcome() timing (default 5)")
    parser.add_argument(
        "--window-repeats", type=int, default=None, help="repeats of effective_window, median (default 3; 1 quick)"
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.0,
        help="noise inside the blocks (default 0: exactly low-rank blocks, the exact-core path; > 0 makes the "
        "blocks full rank and exercises the Gram path)",
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the top N cProfile rows")
    args = parser.parse_args(argv)
    if args.grid is None:
        args.grid = 200 if args.quick else 2000
    if args.window_repeats is None:
        args.window_repeats = 1 if args.quick else 3
    if args.grid < 2:
        parser.error(f"--grid must be >= 2; got {args.grid}")
    return args


def build_instance(seed: int, n_members: int, noise: float = 0.0):
    instance = majority_minority(1800, 200, 450, 50, majority_rank=5, minority_scale=0.15, noise=noise, rng=seed)
    gap = singular_value_gap(instance.R_true, instance.user_group, instance.item_group, instance.alpha, 5)
    if not gap.holds:
        raise SystemExit(f"the singular-value gap does not hold: {gap}")
    members = instance.majority_users[:n_members]
    minority_items = instance.minority_items
    # The minority item the minority users like most (largest column sum of R*), a natural campaign target.
    target = int(minority_items[np.argmax(instance.R_true[:, minority_items].sum(axis=0))])
    return instance, gap, members, np.array([target])


def intervals_from_grid(xs: np.ndarray, flags: np.ndarray, x_max: float) -> list[tuple[float, float]]:
    """Runs of True grid points as intervals; an endpoint is the midpoint between the points that differ."""
    intervals = []
    n = xs.size
    i = 0
    while i < n:
        if not flags[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and flags[j + 1]:
            j += 1
        lo = 0.0 if i == 0 else 0.5 * (xs[i - 1] + xs[i])
        hi = x_max if j == n - 1 else 0.5 * (xs[j] + xs[j + 1])
        intervals.append((float(lo), float(hi)))
        i = j + 1
    return intervals


def interior_endpoints(intervals, x_max: float) -> np.ndarray:
    ends = [e for interval in intervals for e in interval if 0.0 < e < x_max]
    return np.array(sorted(ends))


def run_grid(R_true, strategy, alpha, xs):
    """The hand-written baseline: a full outcome and a Pareto comparison per grid point."""
    truthful = outcome(R_true, None, alpha)
    flags = np.zeros((len(FLAGS), xs.size), dtype=bool)
    utilities = np.empty((xs.size, R_true.shape[0]))
    for index, x in enumerate(xs):
        strategic = outcome(R_true, strategy.with_uprating(float(x)).apply(R_true), alpha)
        comparison = compare_outcomes(truthful, strategic)
        flags[0, index] = comparison.is_effective
        flags[1, index] = comparison.is_pareto_effective
        utilities[index] = strategic.utilities
    return flags, utilities


def compare(result, xs, grid_flags, grid_utilities, x_max):
    step = float(xs[1] - xs[0])
    report = {"grid_step": step, "flags": {}}
    all_agree = True
    breakpoints = np.array([piece.lo for piece in result.pieces[1:]])
    for row, flag in enumerate(FLAGS):
        ours = result.effective_intervals if flag == "is_effective" else result.pareto_intervals
        theirs = intervals_from_grid(xs, grid_flags[row], x_max)
        ends = interior_endpoints(ours, x_max)
        our_flags = np.array([getattr(result.piece_at(float(x)), flag) for x in xs])
        far = np.ones(xs.size, dtype=bool) if ends.size == 0 else np.min(np.abs(xs[:, None] - ends), axis=1) > step
        bad = np.flatnonzero(far & (our_flags != grid_flags[row]))
        same_count = len(ours) == len(theirs)
        ends_close = same_count and all(
            abs(a - b) <= step + result.tolerance
            for (a0, a1), (b0, b1) in zip(ours, theirs, strict=True)
            for a, b in ((a0, b0), (a1, b1))
        )
        agree = bad.size == 0 and ends_close
        all_agree &= agree
        report["flags"][flag] = {
            "ours": [list(i) for i in ours],
            "grid": [list(i) for i in theirs],
            "agree": bool(agree),
            "endpoints_within_one_step": bool(ends_close),
            "n_points_checked": int(far.sum()),
            "mismatches": [
                {"x": float(xs[i]), "ours": bool(our_flags[i]), "grid": bool(grid_flags[row, i])} for i in bad
            ],
        }
    # Stricter: the grid's utilities equal those of the piece containing the point, away from any breakpoint.
    far = (
        np.ones(xs.size, dtype=bool)
        if breakpoints.size == 0
        else np.min(np.abs(xs[:, None] - breakpoints), axis=1) > step
    )
    utility_bad = [
        {
            "x": float(x),
            "n_users_differ": int(np.count_nonzero(result.piece_at(float(x)).utilities != grid_utilities[i])),
            "welfare_gap": math.fsum(grid_utilities[i]) - result.piece_at(float(x)).social_welfare,
        }
        for i, x in enumerate(xs)
        if far[i] and not np.array_equal(result.piece_at(float(x)).utilities, grid_utilities[i])
    ]
    report["utilities"] = {"n_points_checked": int(far.sum()), "mismatches": utility_bad}
    report["agree"] = bool(all_agree)
    return report


def profile_window(R_true, members, targets, alpha, x_max, top: int) -> str:
    return profiled(lambda: effective_window(R_true, members, targets, alpha, x_max=x_max), top)


def main(argv=None) -> int:
    args = parse_args(argv)
    host = machine()  # before the run: the load average then is other processes' load
    version = code_version(recollective.game)  # at start: the sources this process has imported
    instance, gap, members, targets = build_instance(args.seed, args.members, args.noise)
    R_true, alpha, x_max = instance.R_true, instance.alpha, args.x_max
    strategy = CollectiveStrategy(members, targets, 0.0)
    xs = np.linspace(0.0, x_max, args.grid)
    log(
        f"instance {R_true.shape[0]} x {R_true.shape[1]}, alpha = {alpha:.4f}, gap holds: {gap.holds} "
        f"(s_5(R_maj) = {gap.s_majority:.3f} > alpha >= s_1(R_min) = {gap.s_minority:.3f}); "
        f"{members.size} members, target item {int(targets[0])}"
    )
    with threadpool_limits(limits=args.threads, user_api="blas"):
        blas = blas_pools()
        outcome(R_true, None, alpha)  # warm-up (BLAS buffers, page faults)
        outcome_times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            outcome(R_true, None, alpha)
            outcome_times.append(time.perf_counter() - start)
        log(f"outcome(): median {statistics.median(outcome_times) * 1e3:.1f} ms over {args.repeats}")

        window_times = []
        for _ in range(args.window_repeats):
            start = time.perf_counter()
            result = effective_window(R_true, members, targets, alpha, x_max=x_max)
            window_times.append(time.perf_counter() - start)
        window_time = statistics.median(window_times)
        log(f"effective_window: {window_time:.2f} s, {result.n_evaluations} evaluations")

        log(f"grid baseline: {args.grid} full evaluations ...")
        start = time.perf_counter()
        grid_flags, grid_utilities = run_grid(R_true, strategy, alpha, xs)
        grid_time = time.perf_counter() - start
        log(f"grid baseline: {grid_time:.2f} s")

        profile = profile_window(R_true, members, targets, alpha, x_max, args.profile) if args.profile else None

    agreement = compare(result, xs, grid_flags, grid_utilities, x_max)
    summary = {
        "machine": host,
        "code": version,
        "blas": blas,
        "threads": args.threads,
        "instance": {
            "shape": list(R_true.shape),
            "seed": args.seed,
            "noise": args.noise,
            "alpha": alpha,
            "gap": gap.as_dict(),
            "members": members.tolist(),
            "targets": targets.tolist(),
        },
        "x_max": x_max,
        "outcome_seconds_median": statistics.median(outcome_times),
        "outcome_seconds": outcome_times,
        "window_seconds": window_time,
        "window_seconds_all": window_times,
        "window_evaluations": result.n_evaluations,
        "window_pieces": len(result.pieces),
        "window_tolerance": result.tolerance,
        "window_uncertified_cells": len(result.uncertified),
        "window_uncertified_length": math.fsum(hi - lo for lo, hi in result.uncertified),
        "grid_points": args.grid,
        "grid_seconds": grid_time,
        "grid_evaluations": args.grid + 1,  # + the truthful outcome
        "speedup": grid_time / window_time,
        "agreement": agreement,
    }
    if profile is not None:
        summary["profile"] = profile
    if args.json:
        print(json.dumps(summary, allow_nan=False, sort_keys=True, indent=2))
        return 0

    print_provenance(summary["machine"], version, blas, args.threads)
    print(f"instance: {R_true.shape[0]} x {R_true.shape[1]}, alpha = {alpha:.6g}, gap holds = {gap.holds}")
    print(f"collective: {members.size} majority users, target item {int(targets[0])}, x in [0, {x_max:g}]")
    print(f"one full outcome(): {summary['outcome_seconds_median'] * 1e3:.1f} ms (median of {args.repeats})")
    print(
        f"(a) effective_window: {window_time:.3f} s, {result.n_evaluations} evaluations, "
        f"{len(result.pieces)} pieces, breakpoint tolerance {result.tolerance:.3g}, "
        f"{len(result.uncertified)} uncertified cells covering {summary['window_uncertified_length']:.4g}"
    )
    print(f"(b) grid of {args.grid} full evaluations: {grid_time:.3f} s, {args.grid + 1} evaluations")
    print(f"speed-up (b) / (a): {summary['speedup']:.1f}x")
    for flag, info in agreement["flags"].items():
        print(f"{flag}: ours {info['ours']}")
        print(f"{' ' * len(flag)}  grid {info['grid']}")
        print(
            f"{' ' * len(flag)}  agree: {info['agree']} (endpoints within one step: "
            f"{info['endpoints_within_one_step']}; {info['n_points_checked']} points checked, "
            f"{len(info['mismatches'])} mismatches)"
        )
        for miss in info["mismatches"][:20]:
            print(f"    mismatch at x = {miss['x']:.6g}: ours {miss['ours']}, grid {miss['grid']}")
    utilities = agreement["utilities"]
    print(
        f"per-user utilities vs the containing piece: {len(utilities['mismatches'])} mismatches in "
        f"{utilities['n_points_checked']} points farther than one step from a breakpoint"
    )
    for miss in utilities["mismatches"][:20]:
        print(
            f"    x = {miss['x']:.6g}: {miss['n_users_differ']} users differ, "
            f"SW(grid) - SW(piece) = {miss['welfare_gap']:.3g}"
        )
    print(f"intervals agree up to the grid's resolution: {agreement['agree']}")
    if profile is not None:
        print(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
