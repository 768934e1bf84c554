"""Benchmark: factor models' top-10 over a norm-ordered prefix of the items against the dense ranking.

On the tiled goodbooks-10k stand-in of ``bench_scale.py`` (``--size`` interactions, default 2M: about 179k users x
420k items), fits ALS and PureSVD (defaults, seed 0) on a 20% random hold-out's training part and ranks the top 10
unseen items of ``--users`` sampled users (default 4,000, seed 0) twice in the same process, alternating
``--repeats`` times:

* candidate: ``model.recommend`` (``top_k_factors``: the highest-norm items first, pruned by Cauchy-Schwarz; the
  users it cannot decide are ranked densely);
* baseline: ``model._recommend_dense``, the chunked dense scores and ``top_k`` every model used before.

It prints the median times, their ratio, whether the lists are identical and how far the scores differ, how many
users were left to the dense path and how many items the prefix held at most. A script, not a test::

    .venv/bin/python benchmarks/bench_factor_ranking.py                    # 2M interactions, about 2 min
    .venv/bin/python benchmarks/bench_factor_ranking.py --size 1e7 --models als
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "scripts"))

from _common import blas_pools, code_version, log, machine, new_parser, print_provenance  # noqa: E402


def main(argv=None) -> int:
    parser = new_parser(__doc__, "0.2M interactions, 500 users, one repeat")
    parser.add_argument("--size", type=float, default=2e6, help="interactions of the stand-in (default 2e6)")
    parser.add_argument("--users", type=int, default=4000, help="users ranked (default 4000)")
    parser.add_argument("--models", default="als,puresvd", help="comma-separated (default als,puresvd)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each path (default 3)")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.users, args.repeats = 2e5, 500, 1
    from threadpoolctl import threadpool_limits

    import recollective
    from bench_scale import _tiled
    from recollective.data import Interactions
    from recollective.data._splits import split_interactions
    from recollective.models import make_model

    host, code = machine(), code_version(recollective)
    with threadpool_limits(args.threads, "blas"):
        data = Interactions.from_arrays(*_tiled(args.size))
        train, _ = split_interactions(data, "random-holdout", 0.2, rng=0)
        users = np.random.default_rng(0).choice(train.n_users, min(args.users, train.n_users), replace=False)
        log(f"stand-in: {data.n_interactions:,} interactions, {train.n_users:,} users x {train.n_items:,} items")
        rows = []
        for name in args.models.split(","):
            model = make_model(name, rng=0)
            started = time.perf_counter()
            model.fit(train)
            log(f"{name}: fitted in {time.perf_counter() - started:.1f} s")
            model.recommend(users[:1], 10)  # builds the norm order once, as a second call on the same fit would find
            model._recommend_dense(users[:1], 10, True, 32 * 2**20, np.empty((1, 10), np.int64),
                                   np.empty((1, 10), model.score_dtype))  # imports torch outside the timings
            pruned, dense = [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                items, scores = model.recommend(users, 10)
                pruned.append(time.perf_counter() - started)
                dense_items = np.empty_like(items)
                dense_scores = np.empty_like(scores)
                started = time.perf_counter()
                model._recommend_dense(users, 10, True, 32 * 2**20, dense_items, dense_scores)
                dense.append(time.perf_counter() - started)
            undecided = _undecided(model, users)
            row = {
                "model": name, "users": int(users.size), "pruned_s": statistics.median(pruned),
                "dense_s": statistics.median(dense), "identical_lists": bool(np.array_equal(items, dense_items)),
                "max_score_difference": float(np.abs(scores.astype(np.float64) - dense_scores).max()),
                "undecided_users": int(undecided), "prefix_items": int(model._norm_order_._head.shape[1]),
                "n_items": int(train.n_items),
            }
            row["ratio"] = row["dense_s"] / row["pruned_s"]
            rows.append(row)
            log(f"{name}: prefix {row['pruned_s']:.2f} s, dense {row['dense_s']:.2f} s ({row['ratio']:.1f}x)")
    result = {"machine": host, "code": code, "threads": args.threads, "size": args.size,
              "n_interactions": int(data.n_interactions), "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_provenance(host, code, blas_pools(), args.threads)
    print(f"stand-in: {data.n_interactions:,} interactions, {train.n_users:,} x {train.n_items:,}; top 10 of "
          f"{users.size:,} users, median of {args.repeats}")
    print("| model | prefix path | dense path | ratio | identical lists | max score difference | left to dense | "
          "prefix held |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['model']} | {row['pruned_s']:.2f} s | {row['dense_s']:.2f} s | **{row['ratio']:.1f}x** | "
              f"{'yes' if row['identical_lists'] else 'NO'} | {row['max_score_difference']:.1e} | "
              f"{row['undecided_users']} of {row['users']:,} | {row['prefix_items']:,} of {row['n_items']:,} items |")
    return 0


def _undecided(model, users) -> int:
    """How many of ``users`` the prefix path leaves to the dense one."""
    from recollective.models import _factor_ranking

    _, _, undecided = _factor_ranking.top_k_factors(
        model._factor_users(users), model._norm_order_, 10, model.seen_[users], model._finish_scores,
        model._prune_cutoff, model.score_dtype)
    return int(undecided.sum())


if __name__ == "__main__":
    raise SystemExit(main())
