"""Benchmark: top-10 recommendations for every user of a 200k x 50k factor model, against the dense products.

Builds a synthetic catalogue (``--users`` x ``--items``, default 200,000 x 50,000) with ``--seen`` training
interactions per user (default 20, uniform) and random float32 factors of ``--factors`` dimensions (default 64),
then times, in the same process and alternating over ``--repeats`` runs:

* candidate: ``model.recommend(all users, k=10)`` through the shared ``Recommender`` path — chunked dense scores
  (about 64 MB per block), seen items set to -inf, exact top-k with ties broken by lower item index;
* baseline: the equivalent dense matrix products alone — the same user chunks, ``U[chunk] @ V.T`` into a
  reused buffer, nothing ranked or excluded.

Peak memory is the process's resident high-water mark (VmHWM, reset through ``/proc/self/clear_refs`` before
each timed part), and the increase over the resident size before it. Targets (issue 5): time ratio <= 2,
peak under 2 GB. BLAS and torch use the machine's cores (both parts alike). A script, not a test.

Usage::

    .venv/bin/python benchmarks/bench_scoring.py
    .venv/bin/python benchmarks/bench_scoring.py --users 20000 --repeats 1   # a quick run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import machine
from recollective.data import Interactions
from recollective.models import Recommender
from recollective.models._ranking import DEFAULT_BLOCK_BYTES, chunk_rows


class RandomFactors(Recommender):
    """A factor model with random float32 factors (the shape of ALS/BPR scoring, without training)."""

    name = "random-factors"
    score_dtype = np.float32

    def __init__(self, factors: int = 64, rng: int = 0):
        self.factors = factors
        self.rng = rng

    def _fit(self, matrix, interactions, params):
        generator = np.random.default_rng(params["rng"])
        n_users, n_items = matrix.shape
        self.user_factors_ = generator.standard_normal((n_users, params["factors"]), dtype=np.float32)
        self.item_factors_ = generator.standard_normal((n_items, params["factors"]), dtype=np.float32)

    def _score_block(self, user_idx):
        return self.user_factors_[user_idx] @ self.item_factors_.T


def dense_products(model: RandomFactors) -> float:
    """The baseline: the same chunks of dense products, nothing else. Returns a checksum."""
    step = chunk_rows(model.n_items_, 4, DEFAULT_BLOCK_BYTES)
    buffer = np.empty((step, model.n_items_), dtype=np.float32)
    checksum = 0.0
    for start in range(0, model.n_users_, step):
        rows = model.user_factors_[start : start + step]
        out = buffer[: rows.shape[0]]
        np.matmul(rows, model.item_factors_.T, out=out)
        checksum += float(out[0, 0])
    return checksum


def memory() -> dict:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM")}


def reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux, or not allowed: the peak then includes setup
        Path("/proc/self/clear_refs").write_text("5")


def timed(function) -> dict:
    reset_peak()
    before = memory()["VmRSS"]
    started, cpu = time.perf_counter(), time.process_time()
    function()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = memory()["VmHWM"]
    return {"wall": wall, "cpu": cpu, "peak": peak, "increase": peak - before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--seen", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    generator = np.random.default_rng(0)
    rows = np.repeat(np.arange(args.users), args.seen)
    cols = generator.integers(0, args.items, rows.size)
    keys = np.unique(rows.astype(np.int64) * args.items + cols)
    rows, cols = keys // args.items, keys % args.items
    # every item id appears so the vocabulary has all items: the last user row lists them all is avoided by
    # building through indices directly
    interactions = Interactions.from_arrays(rows, cols, np.ones(rows.size))
    model = RandomFactors(factors=args.factors).fit(interactions)
    users = np.arange(model.n_users_)
    print(f"{model.n_users_:,} users x {model.n_items_:,} items, {interactions.n_interactions:,} seen; "
          f"{args.factors} float32 factors", file=sys.stderr)
    model.recommend(users[:1000], k=10)  # warm up (imports torch)
    results = {"candidate": [], "baseline": []}
    for repeat in range(args.repeats):
        results["baseline"].append(timed(lambda: dense_products(model)))
        results["candidate"].append(timed(lambda: model.recommend(users, k=10)))
        print(f"repeat {repeat + 1}: baseline {results['baseline'][-1]['wall']:.2f} s, "
              f"candidate {results['candidate'][-1]['wall']:.2f} s", file=sys.stderr)
    summary = {}
    for name, runs in results.items():
        summary[name] = {
            "wall_s": statistics.median(r["wall"] for r in runs),
            "cpu_s": statistics.median(r["cpu"] for r in runs),
            "peak_bytes": max(r["peak"] for r in runs),
            "increase_bytes": max(r["increase"] for r in runs),
        }
    summary["ratio_wall"] = summary["candidate"]["wall_s"] / summary["baseline"]["wall_s"]
    summary["machine"] = machine()
    summary["shape"] = {"users": model.n_users_, "items": model.n_items_, "factors": args.factors,
                        "seen": interactions.n_interactions}
    if args.json:
        print(json.dumps(summary))
        return
    gib = 2**30
    for name in ("baseline", "candidate"):
        part = summary[name]
        print(f"{name:9s}  wall {part['wall_s']:7.2f} s  cpu {part['cpu_s']:7.2f} s  "
              f"peak {part['peak_bytes'] / gib:.2f} GiB (+{part['increase_bytes'] / gib:.2f} GiB)")
    print(f"ratio candidate / baseline (wall): {summary['ratio_wall']:.2f}  (target <= 2); load {os.getloadavg()}")


if __name__ == "__main__":
    main()
