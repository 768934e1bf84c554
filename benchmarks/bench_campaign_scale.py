"""Benchmark: one campaign on a million-rating, item-heavy file, full scoring against the lean evaluation.

Each case runs in a fresh process the steps of ``recollective campaign run --participants closest --size 0.01``:
read the CSV (generic path), split (random hold-out of 20% per user, seed 0), resolve ``--target-items`` and
their audience, fit the baseline, estimate the noise floor (a second fit, seeds 0 and 1,000,003) and evaluate the
campaign (``evaluate_campaign``, rng 0). ``full`` scores every test user (``score_users="all"``, what every
campaign did before the lean evaluation); ``lean`` scores the audience, the participants and a seeded sample of
``--sample-size`` test users (the default). For each (model, path) it prints the wall time of each step and of the
whole case, and the process's peak resident memory (``ru_maxrss``, data and model included). Then, per model, it
checks that the lean numbers equal the full path's on the same users: the per-user utilities before and after of
every user the lean path scored, and every number of the audience and the participants.

Make the data first (seeded, 1.19M ratings, 106,820 users, 252,748 items; see scripts/make_large_ratings.py)::

    .venv/bin/python scripts/make_large_ratings.py --out /tmp/goodbooks_tiled.csv
    .venv/bin/python benchmarks/bench_campaign_scale.py --data /tmp/goodbooks_tiled.csv --threads 2
    .venv/bin/python benchmarks/bench_campaign_scale.py --data FILE --paths lean --models itemknn   # one case

``--cli`` adds, per model, the wall time and peak memory of the real command (``recollective campaign run ...
--json``, lean, its defaults otherwise). A script, not a test.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import ROOT, code_version, log, machine, new_parser

GROUP_KEYS = ("audience_size", "n_selected", "n_participants", "n_actions", "n_participants_in_test",
              "participants_better_share", "participants_worse_share", "participants_unchanged_share")
GROUP_PREFIXES = ("target_exposure", "discounted_exposure", "target_ndcg", "ndcg_audience", "hit_rate_audience",
                  "ndcg_participants", "hit_rate_participants")
SHOWN = ("ndcg_before", "ndcg_after", "target_exposure_before", "target_exposure_after", "noise_floor")


def run_case(args) -> dict:
    """One (model, path) case in this process; writes the per-user utilities to ``args.case_out``."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    with threadpool_limits(args.threads, "blas"):
        from recollective.campaigns import Campaign, estimate_noise_floor, evaluate_campaign
        from recollective.data import read_interactions
        from recollective.data._splits import split_interactions
        from recollective.data._targets import explicit_targets
        from recollective.models import make_model

        times = {}
        step = time.perf_counter()
        data = read_interactions(args.data).interactions
        train, test = split_interactions(data, "random-holdout", 0.2, rng=args.seed)
        targets = explicit_targets(train, item_ids=args.target_items.split(","), audience_from=test)
        times["load_s"] = time.perf_counter() - step
        model = make_model(args.case_model)
        if "rng" in model.get_params():
            model.set_params(rng=args.seed)
        step = time.perf_counter()
        baseline = model.fit(train)
        times["fit_s"] = time.perf_counter() - step
        scoring = {"score_users": "all"} if args.case_path == "full" else {"sample_size": args.sample_size}
        step = time.perf_counter()
        floor = estimate_noise_floor(baseline.clone(), train, test, 10, seeds=(args.seed, args.seed + 1_000_003),
                                     fitted=baseline, **scoring)
        times["noise_floor_s"] = time.perf_counter() - step
        campaign = Campaign(targets=tuple(int(t) for t in targets.item_idx), participants="closest", size=0.01)
        step = time.perf_counter()
        outcome = evaluate_campaign(baseline, train, test, campaign, k=10, rng=args.seed,
                                    audience=targets.audience.user_idx, noise_floor=floor, **scoring)
        times["evaluate_s"] = time.perf_counter() - step
    times["total_s"] = time.perf_counter() - started
    np.savez(args.case_out, users=outcome.users, before=outcome.utility_before, after=outcome.utility_after)
    summary = {key: value for key, value in outcome.summary.items() if key != "externality_bins"}
    return {"model": args.case_model, "path": args.case_path, **times,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "shape": list(train.matrix.shape), "n_ratings": int(data.matrix.nnz), "summary": summary}


def run_cli(args, model: str) -> dict:
    """``recollective campaign run`` (lean) in a child process: its wall time and peak memory."""
    command = [str(ROOT / ".venv" / "bin" / "recollective"), "campaign", "run", "--data", str(args.data),
               "--model", model, "--participants", "closest", "--size", "0.01", "--target-items", args.target_items,
               "--seed", str(args.seed), "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"campaign run failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    result = json.loads(done.stdout)
    return {"model": model, "wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            / 1024, "ndcg_before": result["ndcg_before"], "n_sampled_users": result.get("n_sampled_users")}


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def compare(full: dict, lean: dict, full_npz: Path, lean_npz: Path) -> dict:
    """Whether the lean case's numbers equal the full case's on the users the lean case scored."""
    a, b = np.load(full_npz), np.load(lean_npz)
    rows = np.searchsorted(a["users"], b["users"])
    found = bool(np.array_equal(a["users"][np.minimum(rows, a["users"].size - 1)], b["users"]))
    utilities = found and bool(np.array_equal(a["before"][rows], b["before"]) and
                               np.array_equal(a["after"][rows], b["after"]))
    keys = [key for key in full["summary"] if key in GROUP_KEYS or
            (key.startswith(GROUP_PREFIXES) and "majority" not in key)]
    differing = [key for key in keys if not _same(full["summary"][key], lean["summary"][key])]
    return {"model": full["model"], "scored_users": int(b["users"].size), "utilities_equal": utilities,
            "group_numbers_compared": len(keys), "group_numbers_differing": differing}


def main(argv=None) -> int:
    parser = new_parser(__doc__, "--paths lean only")
    parser.add_argument("--data", type=Path, required=False, help="ratings CSV (user_id,item_id,rating)")
    parser.add_argument("--models", default="als,itemknn,puresvd")
    parser.add_argument("--paths", default="full,lean")
    parser.add_argument("--target-items", default="100005,100006", help="raw item ids of the targets")
    parser.add_argument("--sample-size", type=int, default=None, help="lean sample (default: the library's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cli", action="store_true", help="also time `recollective campaign run` per model")
    parser.add_argument("--case-model", help=argparse_hidden())
    parser.add_argument("--case-path", help=argparse_hidden())
    parser.add_argument("--case-out", type=Path, help=argparse_hidden())
    args = parser.parse_args(argv)
    if args.sample_size is None:
        from recollective.campaigns._population import DEFAULT_SAMPLE_SIZE

        args.sample_size = DEFAULT_SAMPLE_SIZE
    if args.case_model:
        print(json.dumps(run_case(args), default=float))
        return 0
    if args.data is None:
        parser.error("--data FILE is required (make it with scripts/make_large_ratings.py)")
    import recollective

    host, code = machine(), code_version(recollective)
    paths = ["lean"] if args.quick else args.paths.split(",")
    results, comparisons, cli = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for model in args.models.split(","):
            cases = {}
            for path in paths:
                out = Path(folder) / f"{model}_{path}.npz"
                log(f"{model} {path} ...")
                command = [sys.executable, __file__, "--data", str(args.data), "--threads", str(args.threads),
                           "--target-items", args.target_items, "--sample-size", str(args.sample_size), "--seed",
                           str(args.seed), "--case-model", model, "--case-path", path, "--case-out", str(out)]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode:
                    raise SystemExit(f"{model} {path} failed: {done.stderr.strip()[-800:]}")
                cases[path] = json.loads(done.stdout.strip().splitlines()[-1])
                results.append(cases[path])
                log(f"  {cases[path]['total_s']:.1f} s, {cases[path]['peak_rss_mb']:.0f} MB")
            if "full" in cases and "lean" in cases:
                comparisons.append(compare(cases["full"], cases["lean"], Path(folder) / f"{model}_full.npz",
                                           Path(folder) / f"{model}_lean.npz"))
            if args.cli:
                log(f"{model} campaign run (CLI) ...")
                cli.append(run_cli(args, model))
    document = {"machine": host, "code": code, "threads": args.threads, "sample_size": args.sample_size,
                "data": str(args.data), "results": results, "comparisons": comparisons, "cli": cli,
                "load_average_1min_end": __import__("os").getloadavg()[0]}
    if args.json:
        print(json.dumps(document, default=float, sort_keys=True))
        return 0
    first = results[0]
    print(f"data: {args.data}: {first['n_ratings']} ratings, {first['shape'][0]} users x {first['shape'][1]} items "
          f"(training part {first['summary']['n_test_users']} test users); lean sample {args.sample_size}")
    print(f"machine: {host['cpu']}, {host['n_cpus']} CPUs; 1-min load {host['load_average_1min']:.2f} at start, "
          f"{document['load_average_1min_end']:.2f} at end; BLAS threads {args.threads}; code {code['commit']} "
          f"(src modified: {code['src_modified']})")
    print(f"{'model':8} {'path':5} {'load':>6} {'fit':>7} {'floor':>7} {'evaluate':>9} {'total':>8} {'peak MB':>8} "
          f"{'scored':>7}  " + " ".join(f"{key:>22}" for key in SHOWN))
    for row in results:
        summary = row["summary"]
        print(f"{row['model']:8} {row['path']:5} {row['load_s']:6.1f} {row['fit_s']:7.1f} {row['noise_floor_s']:7.1f} "
              f"{row['evaluate_s']:9.1f} {row['total_s']:8.1f} {row['peak_rss_mb']:8.0f} "
              f"{summary['n_scored_users']:7d}  " + " ".join(f"{summary[key]:22.6f}" for key in SHOWN))
    by_case = {(row["model"], row["path"]): row for row in results}
    for item in comparisons:
        full, lean = by_case[(item["model"], "full")], by_case[(item["model"], "lean")]
        print(f"{item['model']}: lean/full time {lean['total_s'] / full['total_s']:.3f} "
              f"({full['total_s'] / lean['total_s']:.1f}x faster), peak {lean['peak_rss_mb']:.0f} vs "
              f"{full['peak_rss_mb']:.0f} MB; per-user utilities of the {item['scored_users']} scored users equal: "
              f"{item['utilities_equal']}; {item['group_numbers_compared']} audience/participant numbers, differing: "
              f"{item['group_numbers_differing'] or 'none'}")
    for row in cli:
        print(f"campaign run --model {row['model']} (lean): {row['wall_s']:.1f} s wall, peak {row['peak_rss_mb']:.0f} "
              f"MB (largest child so far)")
    return 0


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
