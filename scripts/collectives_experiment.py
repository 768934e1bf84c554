"""The two-collectives experiment of docs/collectives.md: interference between collectives on real data.

    python scripts/collectives_experiment.py run --data-root ../shared/data --out docs/results/collectives
    python scripts/collectives_experiment.py attack --data-root ../shared/data --out docs/results/collectives
    python scripts/collectives_experiment.py tables --out docs/results/collectives

Rules fixed before looking at any result:
- data: movielens-latest-small and goodbooks-10k (../shared/data), random hold-out of 20% of each user's
  interactions; seeds 0, 1, 2 are the split seed (and the model seed of ALS); k = 10.
- target sets, chosen once on the seed-0 split: goodbooks: set s is every book of the s-th long-tail author by
  audience size (``longtail_targets(by="author", min_audience=10)``); movielens: set s is the long-tail items ranked
  3s, 3s+1, 3s+2 by audience size (``longtail_targets(by="item", min_audience=5)``); s = 0..7. Among the 28 pairs of
  sets, the *low-overlap* pair has the smallest Jaccard index of the two audiences (seed-0 test users), the
  *high-overlap* pair the largest (ties: the first pair in order). The same item ids are used for every seed.
- collectives: A on the pair's first set (the larger audience), 5% of users; B on the second, 10% of users; both
  ``participants="closest"`` (non-audience users nearest the audience in a 32-dimensional SVD embedding of the
  training matrix, seeded by the split seed), every target at rating 5, appended; ``overlap="disjoint"`` (B draws
  only from users not already acting in A).
- models: als, itemknn, ease, puresvd with their defaults, and sequential (added 2026-12-07, before any of its
  rows existed) with configs/goodbooks_campaign.toml's settings (12 epochs, patience 3; one torch thread). Every
  what-if run (each collective alone, both) is a cold fit on the changed data for als, puresvd and sequential, whose
  ``refit`` is approximate, and the model's ``refit`` for itemknn and ease, where it equals a cold fit (bitwise;
  1e-8 relative, docs/models.md). ``--refit-all`` uses ``refit`` for every model instead (collectives_refit.csv,
  beside_attack_refit.csv): the fast paths' own answer, kept to show how far the approximate refits move it.
- each cell (dataset, seed, model, pair) runs A alone, B alone and both (``evaluate_composed``); rows are appended
  to collectives.csv as each cell finishes and a rerun skips finished cells.
- attack: A of the low-overlap pair beside an ``average`` push attack with fake accounts on B's targets at A's
  budget (whole profiles of the targets and 20 fillers), als and itemknn; detectors pca and fraudar flag 1%, 2%,
  5% of users; rows in beside_attack.csv.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np

MODELS = ("als", "itemknn", "ease", "puresvd", "sequential")
COLD_MODELS = ("als", "puresvd", "sequential")
MODEL_PARAMS = {"sequential": {"epochs": 12, "patience": 3, "num_threads": 1}}
"""Settings other than the defaults: the sequential model as configs/goodbooks_campaign.toml trains it, on one torch
thread (it shares the two cores with other work; torch's threads slow down badly on busy cores)."""
"""Their ``refit`` is approximate (docs/models.md): every what-if run is a cold fit instead (unless --refit-all)."""
SEEDS = (0, 1, 2)
SIZES = (0.05, 0.10)
N_SETS = 8
ATTACK_MODELS = ("als", "itemknn")
FLAG_SHARES = (0.01, 0.02, 0.05)
COLUMNS = ["dataset", "seed", "model", "pair", "jaccard", "collective", "targets", "audience_size", "size", "action",
           "overlap", "n_shared_users", "exposure_before", "exposure_solo", "exposure_joint", "effect_solo",
           "effect_joint", "spillover", "interaction", "efficacy_drop", "n_participants_solo",
           "n_participants_joint", "participants_worse_share_joint", "worse_share_joint", "ndcg_before", "ndcg_joint",
           "noise_floor", "seconds"]
ATTACK_COLUMNS = ["dataset", "seed", "model", "detector", "flag_share", "n_benign", "n_attackers", "benign_actions",
                  "attack_actions", "audience_size", "benign_exposure_before", "benign_effect_alone",
                  "benign_effect_joint", "benign_effect_filtered", "attack_effect_alone", "attack_effect_joint",
                  "attack_effect_filtered", "benign_flagged_share", "attackers_flagged_share", "precision",
                  "ndcg_before", "ndcg_joint", "ndcg_filtered", "seconds"]


def _pairs(root: Path):
    """(name, data, [(pair name, jaccard, set A, set B)]) per dataset; sets hold raw item ids."""
    from recollective.campaigns import target_audience
    from recollective.data import load_interactions
    from recollective.data._splits import split_interactions
    from recollective.data._targets import explicit_targets, longtail_targets

    for name, folder, by, minimum in (("movielens", "movielens-latest-small", "item", 5),
                                      ("goodbooks", "goodbooks-10k", "author", 10)):
        loaded = load_interactions(root / folder)
        data = getattr(loaded, "interactions", loaded)
        train, test = split_interactions(data, "random-holdout", 0.2, rng=0)
        tail = longtail_targets(train, audience_from=test, by=by, min_audience=minimum)
        names = [row["name"] for row in tail.details["table"]]  # largest audience first
        if by == "author":
            sets = [np.asarray(explicit_targets(train, authors=[author], audience_from=test).item_idx)
                    for author in names[:N_SETS]]
        else:
            ranked = train.items.numbers(np.asarray(names[: 3 * N_SETS], dtype=train.items.ids.dtype))
            sets = [np.sort(ranked[3 * s : 3 * s + 3]) for s in range(N_SETS)]
        audiences = [target_audience(test, s) for s in sets]
        scored = []
        for a, b in itertools.combinations(range(len(sets)), 2):
            union = np.union1d(audiences[a], audiences[b]).size
            scored.append((np.intersect1d(audiences[a], audiences[b]).size / union, a, b))
        low = min(scored, key=lambda t: t[0])
        high = max(scored, key=lambda t: t[0])
        pairs = [(label, j, train.items.ids[sets[a]], train.items.ids[sets[b]])
                 for label, (j, a, b) in (("low-overlap", low), ("high-overlap", high))]
        yield name, data, pairs


def _done(path: Path, keys) -> set:
    if not path.exists():
        return set()
    with path.open() as handle:
        return {tuple(r[k] for k in keys) for r in csv.DictReader(handle)}


def _append(path: Path, columns, rows) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in columns})


def run(root: Path, out: Path, models, refit_all: bool = False) -> None:
    from recollective.campaigns import Campaign, estimate_noise_floor, evaluate_composed, interaction_rows
    from recollective.campaigns._participants import user_embedding
    from recollective.data._splits import split_interactions
    from recollective.models import make_model

    out.mkdir(parents=True, exist_ok=True)
    path = out / ("collectives_refit.csv" if refit_all else "collectives.csv")
    done = _done(path, ("dataset", "seed", "model", "pair"))
    started_all = time.perf_counter()
    for name, data, pairs in _pairs(root):
        for seed in SEEDS:
            train, test = split_interactions(data, "random-holdout", 0.2, rng=seed)
            embedding = user_embedding(train, rng=seed)
            for model_name in models:
                if all((name, str(seed), model_name, pair[0]) in done for pair in pairs):
                    continue
                t0 = time.perf_counter()
                model = make_model(model_name)
                model.set_params(**MODEL_PARAMS.get(model_name, {}))
                if "rng" in model.get_params():
                    model.set_params(rng=seed)
                fitted = model.fit(train)
                floor = estimate_noise_floor(model.clone(), train, test, 10, seeds=(seed, seed + 1000), fitted=fitted)
                fitted = _ColdRefit(fitted) if model_name in COLD_MODELS and not refit_all else fitted
                print(f"{name} seed {seed} {model_name}: baseline {time.perf_counter() - t0:.1f} s", flush=True)
                for label, jaccard, ids_a, ids_b in pairs:
                    if (name, str(seed), model_name, label) in done:
                        continue
                    t0 = time.perf_counter()
                    campaigns = [Campaign(targets=tuple(int(t) for t in train.items.numbers(ids)),
                                          participants="closest", size=size)
                                 for ids, size in ((ids_a, SIZES[0]), (ids_b, SIZES[1]))]
                    outcome = evaluate_composed(fitted, train, test, campaigns, k=10, rng=seed, names=["A", "B"],
                                                noise_floor=floor, embedding=embedding)
                    rows = interaction_rows(outcome, dataset=name, seed=seed, model=model_name, pair=label,
                                            jaccard=round(jaccard, 4), noise_floor=floor,
                                            seconds=round(time.perf_counter() - t0, 1))
                    for row in rows:  # raw ids in the file
                        index = 0 if row["collective"] == "A" else 1
                        row["targets"] = " ".join(str(i) for i in (ids_a, ids_b)[index])
                    _append(path, COLUMNS, rows)
                    print("  " + label + ": " + "; ".join(
                        f"{r['collective']} alone {r['effect_solo']:+.3f} together {r['effect_joint']:+.3f}"
                        for r in rows) + f" ({rows[0]['seconds']} s)", flush=True)
    print(f"run: {time.perf_counter() - started_all:.0f} s", flush=True)


def attack(root: Path, out: Path, models, refit_all: bool = False) -> None:
    from recollective.adversarial import Attack, evaluate_beside_attack
    from recollective.campaigns import Campaign, apply_campaign, target_audience
    from recollective.campaigns._participants import user_embedding
    from recollective.data._splits import split_interactions
    from recollective.models import make_model

    out.mkdir(parents=True, exist_ok=True)
    path = out / ("beside_attack_refit.csv" if refit_all else "beside_attack.csv")
    done = _done(path, ("dataset", "seed", "model"))
    started_all = time.perf_counter()
    for name, data, pairs in _pairs(root):
        _, _, ids_a, ids_b = pairs[0]  # the low-overlap pair
        for seed in SEEDS:
            train, test = split_interactions(data, "random-holdout", 0.2, rng=seed)
            embedding = user_embedding(train, rng=seed)
            targets_a = tuple(int(t) for t in train.items.numbers(ids_a))
            targets_b = tuple(int(t) for t in train.items.numbers(ids_b))
            campaign = Campaign(targets=targets_a, participants="closest", size=SIZES[0])
            budget = apply_campaign(campaign, train, target_audience(test, targets_a), seed,
                                    embedding=embedding).n_actions
            push = Attack(kind="average", targets=targets_b, filler_size=20, budget=budget)
            for model_name in models:
                if (name, str(seed), model_name) in done:
                    continue
                t0 = time.perf_counter()
                model = make_model(model_name)
                model.set_params(**MODEL_PARAMS.get(model_name, {}))
                if "rng" in model.get_params():
                    model.set_params(rng=seed)
                fitted = model.fit(train)
                fitted = _ColdRefit(fitted) if model_name in COLD_MODELS and not refit_all else fitted
                result = evaluate_beside_attack(fitted, train, test, campaign, push, detectors=("pca", "fraudar"),
                                                flag_shares=FLAG_SHARES, k=10, rng=seed, embedding=embedding)
                seconds = round(time.perf_counter() - t0, 1)
                summary = result["summary"]
                rows = [{"dataset": name, "seed": seed, "model": model_name, **summary, **row, "seconds": seconds}
                        for row in result["rows"]]
                _append(path, ATTACK_COLUMNS, rows)
                print(f"{name} seed {seed} {model_name}: benign alone {summary['benign_effect_alone']:+.3f} "
                      f"with attack {summary['benign_effect_joint']:+.3f}; attack {summary['attack_effect_joint']:+.3f}"
                      f" ({seconds} s)", flush=True)
    print(f"attack: {time.perf_counter() - started_all:.0f} s", flush=True)


class _ColdRefit:
    """A fitted model whose ``refit`` is a cold ``fit`` of a clone (to check the refit fast paths' effects)."""

    def __init__(self, model):
        self.model = model

    def is_fitted(self) -> bool:
        return self.model.is_fitted()

    def recommend(self, users, k):
        return self.model.recommend(users, k)

    def refit(self, interactions, delta):
        return _ColdRefit(self.model.clone().fit(interactions))


# ---------------------------------------------------------------------------------------------- tables
def _read(path: Path) -> list[dict]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key, value in row.items():
            if key in ("dataset", "model", "pair", "collective", "targets", "action", "overlap", "detector"):
                continue
            row[key] = float(value) if value != "" else None
    return rows


def _ci(summary, metric, scale=100.0, digits=1) -> str:
    """Mean and t-interval in points; the interval clipped to [-100, 100] (effects are differences of shares)."""
    mean, low, high = (summary[metric] * scale, summary[f"{metric}_low"] * scale, summary[f"{metric}_high"] * scale)
    low, high = max(low, -scale), min(high, scale)
    return f"{mean:+.{digits}f} ({low:+.{digits}f}, {high:+.{digits}f})"


def interference_tables(out: Path) -> str:
    """The markdown tables of docs/collectives.md, built from collectives.csv (and beside_attack.csv when present)."""
    from recollective.campaigns import summarize_interactions
    from recollective.campaigns._composed import INTERACTION_METRICS

    rows = _read(out / "collectives.csv")
    summary = summarize_interactions(rows, by=("dataset", "model", "pair", "collective"),
                                     metrics=(*INTERACTION_METRICS, "audience_size"))
    lines = ["| dataset | pair (audience Jaccard) | model | collective (size, audience) | effect alone, points "
             "(95% t-interval over seeds, clipped to ±100) | effect together | interaction | efficacy drop |",
             "|---|---|---|---|---|---|---|---|"]
    jaccard = {(r["dataset"], r["pair"]): r["jaccard"] for r in rows}
    meta = {(r["dataset"], r["pair"], r["collective"]): r for r in rows}
    for s in summary:
        row = meta[(s["dataset"], s["pair"], s["collective"])]
        drop = f"{s['efficacy_drop']:.0%}" if s["effective_alone"] else "– (not effective alone)"
        lines.append(
            f"| {s['dataset']} | {s['pair']} ({jaccard[(s['dataset'], s['pair'])]:.3f}) | {s['model']} | "
            f"{s['collective']} ({row['size']:.0%}, {s['audience_size']:.0f}) | {_ci(s, 'effect_solo')} | "
            f"{_ci(s, 'effect_joint')} | {_ci(s, 'interaction')} | {drop} |")
    lines += ["", "| model | collectives effective alone | efficacy drop, each (ratio of means over seeds) | "
                  "largest drop in a single seed | Karan et al. (FAccT 2025) |", "|---|---|---|---|---|"]
    for model in dict.fromkeys(s["model"] for s in summary):
        cells = [s for s in summary if s["model"] == model]
        effective = [s for s in cells if s["effective_alone"]]
        drops = ", ".join(f"{s['efficacy_drop']:.0%}" for s in effective) or "–"
        largest = max((s["drop_max"] for s in effective if not math.isnan(s["drop_max"])), default=math.nan)
        lines.append(f"| {model} | {len(effective)} of {len(cells)} | {drops} | "
                     f"{'–' if math.isnan(largest) else f'{largest:.0%}'} | up to 75% |")
    refit_path = out / "collectives_refit.csv"
    if refit_path.exists():
        lines += ["", "| dataset | model | pair | collective | effect alone: refit / cold fit, points | "
                      "effect together: refit / cold fit | interaction: refit / cold fit |",
                  "|---|---|---|---|---|---|---|"]
        fast = summarize_interactions([r for r in _read(refit_path) if r["model"] in COLD_MODELS],
                                      by=("dataset", "model", "pair", "collective"))
        cold_fits = {(s["dataset"], s["model"], s["pair"], s["collective"]): s for s in summary}
        for f in fast:
            c = cold_fits[(f["dataset"], f["model"], f["pair"], f["collective"])]
            lines.append(f"| {f['dataset']} | {f['model']} | {f['pair']} | {f['collective']} | "
                         + " | ".join(f"{100 * f[key]:+.1f} / {100 * c[key]:+.1f}"
                                      for key in ("effect_solo", "effect_joint", "interaction")) + " |")
    attack_path = out / "beside_attack.csv"
    if attack_path.exists():
        attack_rows = _read(attack_path)
        lines += ["", "| dataset | model | detector | flagged | benign effect: alone / with attack / filtered, "
                      "points | attack effect: with benign / filtered | benign participants flagged | attackers "
                      "flagged |",
                  "|---|---|---|---|---|---|---|---|"]
        groups: dict[tuple, list[dict]] = {}
        for r in attack_rows:
            groups.setdefault((r["dataset"], r["model"], r["detector"], r["flag_share"]), []).append(r)
        for (dataset, model, detector, share), members in groups.items():
            def mean(key, members=members):
                return float(np.mean([m[key] for m in members if m[key] is not None]))
            lines.append(
                f"| {dataset} | {model} | {detector} | {share:.0%} | {100 * mean('benign_effect_alone'):+.1f} / "
                f"{100 * mean('benign_effect_joint'):+.1f} / {100 * mean('benign_effect_filtered'):+.1f} | "
                f"{100 * mean('attack_effect_joint'):+.1f} / {100 * mean('attack_effect_filtered'):+.1f} | "
                f"{mean('benign_flagged_share'):.0%} | {mean('attackers_flagged_share'):.0%} |")
    attack_refit = out / "beside_attack_refit.csv"
    if attack_path.exists() and attack_refit.exists():
        lines += ["", "| dataset | model | benign effect alone: refit / cold fit, points | with the attack: refit / "
                      "cold fit | attack effect: refit / cold fit |", "|---|---|---|---|---|"]

        def means(path):
            groups: dict[tuple, list[dict]] = {}
            for r in _read(path):
                if r["model"] in COLD_MODELS and r["detector"] == "pca" and r["flag_share"] == FLAG_SHARES[0]:
                    groups.setdefault((r["dataset"], r["model"]), []).append(r)
            return {key: {m: float(np.mean([r[m] for r in members])) for m in ("benign_effect_alone",
                          "benign_effect_joint", "attack_effect_joint")} for key, members in groups.items()}

        fast, cold_fits = means(attack_refit), means(attack_path)
        for key, f in fast.items():
            lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(
                f"{100 * f[m]:+.1f} / {100 * cold_fits[key][m]:+.1f}" for m in f) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run", "attack", "tables"))
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("docs/results/collectives"))
    parser.add_argument("--models", default=None, help="comma-separated subset of the models")
    parser.add_argument("--refit-all", action="store_true",
                        help="every what-if run through refit (into collectives_refit.csv, beside_attack_refit.csv)")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.data_root, args.out, args.models.split(",") if args.models else MODELS, args.refit_all)
    elif args.command == "attack":
        attack(args.data_root, args.out, args.models.split(",") if args.models else ATTACK_MODELS, args.refit_all)
    else:
        print(interference_tables(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
