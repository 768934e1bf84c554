"""Benchmark: one small Woodbury update of EASE's dense inverse Gram matrix, in place versus upper triangle + mirror.

A campaign search commits one participant at a time, and each commit refits EASE by a rank-2 Woodbury update of
``P`` (n x n, float64): ``P -= (PU) K^{-1} (U^T P)``. The baseline is the update the model used before commit
041c629 (the upper triangle by blocked products, then a transposed copy onto the lower one); the candidate is
``recollective.models._ease._subtract_woodbury`` (in-place BLAS rank-one updates of the whole matrix from the
eigen form of ``K``). Both run on copies of one random symmetric positive definite ``P`` in the same process;
printed: the median time of each over ``--repeats`` updates, their ratio, and the largest difference between the two
results (relative to the largest entry).

Usage::

    .venv/bin/python benchmarks/bench_ease_update.py [--items 9990] [--rank 2] [--repeats 5] [--json]
"""

from __future__ import annotations

import json

import numpy as np
from threadpoolctl import threadpool_limits

import recollective
from _common import code_version, log, machine, median_time, new_parser
from recollective.models._ease import _BLOCK, _mirror, _subtract_woodbury


def _mirrored(p: np.ndarray, left: np.ndarray, inner: np.ndarray) -> None:
    """The former update: ``P -= left^T K^{-1} left`` on the upper triangle by blocks, then mirrored."""
    right = np.linalg.solve(inner, left)
    for start in range(0, p.shape[0], _BLOCK):
        stop = min(start + _BLOCK, p.shape[0])
        p[start:stop, start:] -= left[:, start:stop].T @ right[:, start:]
    _mirror(p, "upper")


def main() -> None:
    parser = new_parser(__doc__, "1,000 items, 2 repeats")
    parser.add_argument("--items", type=int, default=9990)
    parser.add_argument("--rank", type=int, default=2, help="Woodbury rank (2 per changed participant)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, repeats = (1000, 2) if args.quick else (args.items, args.repeats)
    rng = np.random.default_rng(0)
    factors = rng.standard_normal((n, 64))
    start = factors @ factors.T / 64 + np.eye(n)
    u = rng.standard_normal((args.rank, n)) * 0.1
    left = u @ start  # U^T P
    inner = u @ left.T + np.diag(np.where(np.arange(args.rank) % 2, -1.0, 1.0))
    inner = (inner + inner.T) / 2
    results = {}
    with threadpool_limits(args.threads, "blas"):
        for name, update in (("mirrored", _mirrored), ("in_place", _subtract_woodbury)):
            p = start.copy()
            _, seconds, times = median_time(lambda p=p, update=update: update(p, left, inner), repeats)
            results[name] = {"median_seconds": seconds, "seconds": times}
            log(f"{name}: {seconds:.3f} s per update (median of {repeats}, n = {n}, rank {args.rank})")
        once = {name: start.copy() for name in ("mirrored", "in_place")}
        _mirrored(once["mirrored"], left, inner)
        _subtract_woodbury(once["in_place"], left, inner)
    difference = float(np.abs(once["mirrored"] - once["in_place"]).max() / np.abs(start).max())
    ratio = results["mirrored"]["median_seconds"] / results["in_place"]["median_seconds"]
    log(f"in place is {ratio:.2f}x the mirrored update; max relative difference {difference:.1e}")
    host, code = machine(), code_version(recollective)
    log(f"machine: {host['cpu']}, {host['n_cpus']} CPUs, load average {host['load_average_1min']:.2f}, "
        f"{args.threads} BLAS thread(s); commit {code['commit']}")
    if args.json:
        print(json.dumps({"machine": host, "code": code, "items": n, "rank": args.rank, "threads": args.threads,
                          "results": results, "speedup": ratio, "max_relative_difference": difference}, indent=2))


if __name__ == "__main__":
    main()
