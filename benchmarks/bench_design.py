"""Benchmark: one exact marginal gain of the strategy search versus one cold refit, and a whole design on goodbooks.

Part 1 (gain): goodbooks-10k, random 20% hold-out (seed 0), targets = the books of the long-tail author with the
largest audience (``longtail_targets(by="author")``), audience = test users with a held-out target. One pool member
(the first non-audience user) adds every target with rating 5. For EASE and item-kNN (defaults), the candidate is
:func:`recollective.campaigns.design.target_gains` (the change of the audience's target scores, closed form) and the
baseline is what it replaces: a cold fit on the changed data and the audience's target scores. Printed: the
median time of each (``--repeats``; the cold fit of EASE takes ~30 s, so it is timed ``--cold-repeats`` times),
their ratio, and the largest absolute difference between the two answers. Target (issue 18): >= 100x, 1e-9.

Part 2 (design): ``design_campaign`` with ``--max-participants`` (default 50) for item-kNN and EASE, end to end
(noise floor, screen, search with every construction, cold-fit verification), wall time, and each
construction's search time. Target: within 5 minutes on 2 cores.

Usage::

    .venv/bin/python benchmarks/bench_design.py [--data ../shared/data/goodbooks-10k] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import recollective
from _common import code_version, log, machine, median_time
from recollective.campaigns import target_audience
from recollective.campaigns.design import design_campaign, target_gains
from recollective.data import load_interactions
from recollective.data._splits import split_interactions
from recollective.data._targets import explicit_targets, longtail_targets
from recollective.models import make_model

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "goodbooks-10k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cold-repeats", type=int, default=2)
    parser.add_argument("--max-participants", type=int, default=50)
    parser.add_argument("--models", default="itemknn,ease")
    parser.add_argument("--skip-design", action="store_true", help="Part 1 only.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    loaded = load_interactions(args.data)
    data = getattr(loaded, "interactions", loaded)
    train, test = split_interactions(data, "random-holdout", 0.2, rng=0)
    author = longtail_targets(train, audience_from=test, by="author").details["table"][0]["name"]
    targets = np.asarray(explicit_targets(train, authors=[author], audience_from=test).item_idx)
    audience = target_audience(test, targets)
    participant = int(np.setdiff1d(np.arange(train.n_users), audience)[0])
    rows = sp.csr_array((np.full(targets.size, 5.0), targets, [0, targets.size]), shape=(1, train.n_items))
    changed, _ = train.with_added(np.repeat(train.users.ids[participant], targets.size), train.items.ids[targets],
                                  np.full(targets.size, 5.0))
    log(f"{train.n_users} users x {train.n_items} items; targets: {targets.size} book(s) by {author}; audience "
        f"{audience.size}")
    results = []
    for name in args.models.split(","):
        model = make_model(name).fit(train)
        base = model.score(audience)[:, targets]
        _, first_seconds, _ = median_time(
            lambda m=model: target_gains(m, audience, targets, [participant], rows)[0], 1
        )  # the first call also prepares the per-state data (item-kNN: W^T and column norms)
        gains, gain_seconds, _ = median_time(
            lambda m=model: target_gains(m, audience, targets, [participant], rows)[0], args.repeats
        )
        cold, cold_seconds, _ = median_time(
            lambda n=name, b=base: make_model(n).fit(changed).score(audience)[:, targets] - b, args.cold_repeats
        )
        row = {"model": name, "first_gain_seconds": first_seconds, "gain_seconds": gain_seconds,
               "cold_refit_seconds": cold_seconds, "speedup": cold_seconds / gain_seconds,
               "speedup_first": cold_seconds / first_seconds,
               "max_abs_difference": float(np.abs(gains - cold).max()), "max_abs_change": float(np.abs(cold).max())}
        log(f"{name}: gain {gain_seconds * 1e3:.2f} ms (first call {first_seconds * 1e3:.2f} ms), cold refit "
            f"{cold_seconds:.2f} s, {row['speedup']:.0f}x ({row['speedup_first']:.0f}x against the first call), "
            f"max |difference| {row['max_abs_difference']:.2e} (largest change {row['max_abs_change']:.3g})")
        if args.skip_design:
            results.append(row)
            continue
        started = time.perf_counter()
        design = design_campaign(model, train, test, targets, audience=audience,
                                 max_participants=args.max_participants)
        row["design_seconds"] = time.perf_counter() - started
        row["design_participants"] = len(design.actions)
        row["design_exposure_before"] = design.verified["target_exposure_before"]
        row["design_exposure_after"] = design.verified["target_exposure_after"]
        row["design_constructions"] = {c: {"seconds": v["seconds"], "exposure": v["exposure"]}
                                       for c, v in design.constructions.items()}
        row["design_screened"] = len(design.screened)
        log(f"{name}: campaign design ({args.max_participants} max) {row['design_seconds']:.0f} s, "
            f"{len(design.actions)} participants ({design.construction}), reach "
            f"{row['design_exposure_before']:.1%} -> {row['design_exposure_after']:.1%} (cold fit); "
            f"{len(design.screened)} screened out; searches: "
            + ", ".join(f"{c} {v['seconds']:.0f} s" for c, v in design.constructions.items()))
        results.append(row)
    host, code = machine(), code_version(recollective)
    log(f"machine: {host['cpu']}, {host['n_cpus']} CPUs, load average at the end {host['load_average_1min']:.2f}; "
        f"commit {code['commit']}")
    if args.json:
        print(json.dumps({"machine": host, "code": code, "results": results}, indent=2))


if __name__ == "__main__":
    main()
