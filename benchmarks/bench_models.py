"""Benchmark: every recommender on goodbooks-10k — accuracy, popularity bias, fit and scoring time — and the
speed and accuracy of each refit fast path against a cold fit.

Part 1 (quality): a random 20% per-user holdout (seed 0) of ``ratings_random.csv`` (every held-out rating is
relevant); each model is fitted on the rest with its default hyper-parameters and recommends 10 unseen books to
every test user: recall@10, NDCG@10, item coverage, ARP, fit time and full-scoring time (all test users).

Part 2 (refit): a campaign-like delta — ``--delta-share`` (default 1%) of the users, drawn at random, each add the
same 2 target books (two books near the median popularity) with rating 5. For each model: the cold fit on the
changed data versus ``refit(changed, delta)`` from the model fitted before the change (median of ``--repeats``),
and how far the refit is from the cold fit: the largest absolute score difference relative to the largest
absolute cold score, and the mean top-10 overlap, over all users. Target (issue 5): cold / refit >= 10x within the
model's stated tolerance.

Part 3 (next-item, ``--part nextitem``): leave-last-out (each user's last row of ratings.csv, the file's reading
order) and next-item hit rate@10 for every model — the sequential model's home ground.

``--tile N`` replaces the data by N copies of it (user ids suffixed, 10% of each copy's ratings dropped at random),
a stand-in for the full goodbooks-10k (53,424 users) of which only a 5% user sample is in ../shared/data.

Usage::

    .venv/bin/python benchmarks/bench_models.py --data /work/shared/data/goodbooks-10k
    .venv/bin/python benchmarks/bench_models.py --models ease,itemknn --part refit
    .venv/bin/python benchmarks/bench_models.py --json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import log, machine
from recollective.data import load_interactions
from recollective.data._splits import random_holdout
from recollective.metrics import evaluate_model
from recollective.models import MODEL_NAMES, make_model

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "goodbooks-10k"


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def campaign_delta(train, share: float, seed: int):
    """``share`` of the users each add the same 2 books near the median popularity (rating 5)."""
    generator = np.random.default_rng(seed)
    counts = np.bincount(train.matrix.indices, minlength=train.n_items)
    by_count = np.argsort(counts, kind="stable")
    positive = by_count[counts[by_count] > 0]
    targets = positive[[positive.size // 2, positive.size // 2 + 1]]
    users = generator.choice(train.n_users, max(1, round(share * train.n_users)), replace=False)
    seen = train.matrix[users][:, targets].toarray() > 0
    pairs = [(u, t) for row, u in enumerate(users) for col, t in enumerate(targets) if not seen[row, col]]
    user_ids = train.users.ids[np.array([p[0] for p in pairs])]
    item_ids = train.items.ids[np.array([p[1] for p in pairs])]
    changed, delta = train.with_added(user_ids, item_ids, np.full(len(pairs), 5.0))
    return changed, delta, users, targets


def tile(data, times: int, seed: int = 0):
    """``times`` copies of ``data`` with distinct user ids, each missing a random 10% of its ratings."""
    from recollective.data import Interactions

    generator = np.random.default_rng(seed)
    rows, cols, values, order = data.to_coo()
    user_ids, item_ids = data.users.ids, data.items.ids
    parts = [], [], [], []
    for replica in range(times):
        keep = generator.random(rows.size) >= 0.1
        parts[0].append(np.char.add(user_ids[rows[keep]].astype(str), f"#{replica}"))
        parts[1].append(item_ids[cols[keep]])
        parts[2].append(values[keep])
        parts[3].append(order[keep] if order is not None else None)
    order_all = None if order is None else np.concatenate(parts[3])
    return Interactions.from_arrays(np.concatenate(parts[0]), np.concatenate(parts[1]), np.concatenate(parts[2]),
                                    order=order_all)


def next_item(data, names):
    """Leave-last-out next-item HR@10 per model (the last row of each user in file order is held out)."""
    from recollective.data._splits import leave_last_out

    train, test = leave_last_out(data, rng=0)
    rows = []
    for name in names:
        model, fit_s = timed(lambda name=name: make_model(name).fit(train))
        metrics = evaluate_model(model, train, test, 10)
        rows.append({"model": name, "split": "leave-last-out", "hit_rate": metrics["hit_rate"],
                     "ndcg": metrics["ndcg"], "n_test_users": metrics["n_test_users"], "fit_s": fit_s})
        log(f"{name}: next-item HR@10 {metrics['hit_rate']:.4f}, NDCG@10 {metrics['ndcg']:.4f}, fit {fit_s:.1f} s")
    return rows


def refit_distance(refitted, cold, n_users: int, k: int = 10) -> dict:
    users = np.arange(n_users)
    worst, top = 0.0, 0.0
    largest = 0.0
    overlaps = []
    step = 512
    for start in range(0, n_users, step):
        chunk = users[start : start + step]
        a, b = refitted.score(chunk).astype(np.float64), cold.score(chunk).astype(np.float64)
        worst = max(worst, float(np.abs(a - b).max()))
        largest = max(largest, float(np.abs(b).max()))
        ia, _ = refitted.recommend(chunk, k)
        ib, _ = cold.recommend(chunk, k)
        overlaps += [np.intersect1d(x[x >= 0], y[y >= 0]).size / k for x, y in zip(ia, ib, strict=True)]
    top = float(np.mean(overlaps))
    return {"max_abs_diff_rel": worst / largest if largest else 0.0, "top10_overlap": top}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument("--part", choices=("both", "quality", "refit", "nextitem"), default="both")
    parser.add_argument("--tile", type=int, default=1)
    parser.add_argument("--delta-share", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    data = load_interactions(args.data)
    if args.tile > 1:
        data = tile(data, args.tile)
    if args.part == "nextitem":
        rows = next_item(data, args.models.split(","))
        print(json.dumps({"rows": rows, "machine": machine()}))
        return
    train, test = random_holdout(data, 0.2, rng=0)
    log(f"{data.n_users:,} users x {data.n_items:,} items, {data.n_interactions:,} ratings; "
        f"train {train.n_interactions:,}, test {test.n_interactions:,}")
    make_model("popularity").fit(train).recommend(np.arange(10), 10)  # warm-up: imports torch (~1.4 s) untimed
    changed, delta, members, targets = campaign_delta(train, args.delta_share, seed=1)
    log(f"delta: {members.size} users add books {train.items.ids[targets].tolist()} ({delta.added_users.size} pairs)")
    rows = []
    for name in args.models.split(","):
        row = {"model": name}
        model, fit_s = timed(lambda name=name: make_model(name).fit(train))
        row["fit_s"] = fit_s
        if args.part in ("both", "quality"):
            metrics, score_s = timed(lambda model=model: evaluate_model(model, train, test, 10))
            row.update({key: metrics[key] for key in ("recall", "ndcg", "coverage", "arp", "n_test_users")})
            row["score_s"] = score_s
            log(f"{name}: recall@10 {row['recall']:.4f}, NDCG@10 {row['ndcg']:.4f}, coverage {row['coverage']:.3f}, "
                f"ARP {row['arp']:.1f}, fit {fit_s:.2f} s, scoring {score_s:.2f} s")
        if args.part in ("both", "refit"):
            cold_times, refit_times = [], []
            base_fit = make_model(name).fit(train)
            for _ in range(args.repeats):
                base = copy.deepcopy(base_fit)
                refitted, refit_s = timed(lambda base=base: base.refit(changed, delta))
                cold, cold_s = timed(lambda name=name: make_model(name).fit(changed))
                cold_times.append(cold_s)
                refit_times.append(refit_s)
            row["cold_fit_s"] = statistics.median(cold_times)
            row["refit_s"] = statistics.median(refit_times)
            row["speedup"] = row["cold_fit_s"] / row["refit_s"]
            row.update(refit_distance(refitted, cold, changed.n_users))
            row["tolerance"] = type(cold).refit_tolerance
            log(f"{name}: cold {row['cold_fit_s']:.3f} s, refit {row['refit_s']:.4f} s = {row['speedup']:.1f}x; "
                f"max |diff| / max |score| {row['max_abs_diff_rel']:.2e}, top-10 overlap {row['top10_overlap']:.3f}")
        rows.append(row)
    host = machine()
    if args.json:
        print(json.dumps({"rows": rows, "machine": host}))
        return
    for row in rows:
        print(json.dumps(row))
    print(f"machine: {host}")


if __name__ == "__main__":
    main()
