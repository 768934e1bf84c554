"""The strategy-design experiment of docs/design.md: optimized vs closest vs random vs fans, on real data.

    python scripts/design_experiment.py run --data-root ../shared/data --out docs/results/design   # resumable
    python scripts/design_experiment.py ranked --data-root ../shared/data --out docs/results/design/ranked \
        --datasets goodbooks --models itemknn,als                                                     # ranked starts
    python scripts/design_experiment.py ranked --datasets goodbooks --models itemknn --exchange-rounds 24 \
        --out docs/results/design/exchanged                                  # + exchange (als: exchanged_als)
    python scripts/design_experiment.py ranked --datasets goodbooks --models itemknn --exchange-rounds 24 \
        --every-construction --sets 0,1,2,3,4 --out docs/results/design/exchanged_all_0   # (and 5-9 in _5)
    python scripts/design_experiment.py bounds --out docs/results/design                            # item-kNN bounds
    python scripts/design_experiment.py tables --out docs/results/design                            # tables + figure

Rules fixed before looking at any result:
- split: random hold-out of 20% of each dataset's interactions, seed 0; k = 10; utility = held-out NDCG@10.
- target sets: goodbooks-10k: set s (s = 0..9) is every book of the s-th long-tail author by audience size
  (``longtail_targets(by="author", min_audience=10)``); movielens-latest-small: set s is the long-tail items ranked
  3s, 3s+1, 3s+2 by audience size (``longtail_targets(by="item", min_audience=5)``).
- models: als, itemknn, ease, puresvd with their defaults (one baseline fit per model and dataset); sequential
  (movielens only, added last: ``run --datasets movielens --models sequential --out docs/results/design/sequential``).
- collective sizes N for closest, random and fans: 1%, 2%, 4% and 10% of users; optimized (``design_campaign``'s
  greedy search, every non-audience user willing, each adds every target with rating 5) is evaluated at N/2 and N
  for the first three sizes and at N/2 for 10%.
- for ease and itemknn (exact gains: the search's estimate is the cold-fit number) the search stops once it beats
  10% and every heuristic's exposure for the same cell; a larger size then reuses the whole plan
  (``n_participants`` says how many acted).
- every plan is evaluated by refitting on the changed data: a cold fit for als and puresvd; for ease and itemknn
  the model's refit, which equals a cold fit (Woodbury: max relative difference 1e-14; item-kNN: bitwise; both
  tested in tests/models). Rows are appended to rows.csv as each cell finishes; a rerun skips finished cells.
- ``screened`` (added with the pool screen, ``run --screen --policies ""``): the whole current search (greedy and
  ranked starts, constructions compared as ``search_strategy`` does) on the pool left after ``screen_pool`` (members
  whose own held-out NDCG@10 would fall from adding the targets, model held fixed, are left out), as
  ``design_campaign`` does before its repair loop; sizes and goal as for optimized. The committed ``optimized`` rows
  came from the greedy alone, which ``run`` without ``--screen`` still reproduces (``constructions=("greedy",)``).
- ``designed`` (``designed --datasets D --models M``; movielens PureSVD, then goodbooks item-kNN and EASE):
  ``design_campaign`` end to end (screen, every construction, 8 exchange trials, cold-fit verification, repair loop)
  with the participants' bound at the noise floor, at N/2 of 10% of users; the row holds the verified numbers of
  the plan it reports.
- ``ranked`` (added after the first run, when the greedy lost to closest on goodbooks ALS and item-kNN at 4-10%):
  the search with its ranked starts only (``constructions=("closest", "coread", "coread_per_reader")``), run
  separately for every size it is evaluated at (the same sizes as optimized), each plan evaluated as above. The
  tool's ``optimized`` runs both and keeps the better plan; the tables apply that rule
  to the two rows of each cell: the higher cold-fit exposure, ties to ranked (``search_strategy`` compares
  constructions by cold fits for approximate models and by its exact estimate, equal to a cold fit, otherwise).
- ``exchanged`` (added with the batch exchange, after the ranked starts still lost on goodbooks ALS and item-kNN at
  4-10%; ``ranked --exchange-rounds 24``): the ranked starts, then at most 24 exchange trials on the winning plan,
  at N/2 of the 4% and 10% sizes. The exchange's rule was changed once after a first run of these rows (single
  trades try 2x2 pairs; the batch starts again after kept trades; commit d69f1f3): the committed rows are the
  second run's. ``exchanged_all`` (``--every-construction``; goodbooks item-kNN, run after the second run left
  its 10% cell 0.1 point short; then movielens item-kNN and goodbooks ALS): every construction, the greedy
  included, as ``design_campaign`` runs them, then the same exchange.
"""

from __future__ import annotations

import argparse
import copy
import csv
import sys
import time
from pathlib import Path

import numpy as np

COLUMNS = ["dataset", "model", "target_set", "targets", "audience_size", "policy", "size", "n_participants",
           "target_exposure_before", "target_exposure_after", "ndcg_participants_before", "ndcg_participants_after",
           "participants_worse_share", "ndcg_majority_before", "ndcg_majority_after", "noise_floor",
           "search_estimate", "seconds"]
MODELS = ("als", "itemknn", "ease", "puresvd", "sequential")
SHARES = (0.01, 0.02, 0.04, 0.10)


def _datasets(root: Path, only=None):
    from recollective.data import load_interactions
    from recollective.data._splits import split_interactions
    from recollective.data._targets import explicit_targets, longtail_targets

    for name, folder, by, minimum in (("movielens", "movielens-latest-small", "item", 5),
                                      ("goodbooks", "goodbooks-10k", "author", 10)):
        if only and name not in only:
            continue
        loaded = load_interactions(root / folder)
        data = getattr(loaded, "interactions", loaded)
        train, test = split_interactions(data, "random-holdout", 0.2, rng=0)
        tail = longtail_targets(train, audience_from=test, by=by, min_audience=minimum)
        names = [row["name"] for row in tail.details["table"]]  # largest audience first
        if by == "author":
            sets = [np.asarray(explicit_targets(train, authors=[author], audience_from=test).item_idx)
                    for author in names[:10]]
        else:
            ranked = train.items.numbers(np.asarray(names[:30], dtype=train.items.ids.dtype))
            sets = [np.sort(ranked[3 * s : 3 * s + 3]) for s in range(10)]
        yield name, train, test, sets


def _rows_file(out: Path):
    """``out/rows.csv`` (created with its header if new) and the cells it already holds."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "rows.csv"
    done = set()
    if path.exists():
        with path.open() as handle:
            done = {(r["dataset"], r["model"], r["target_set"], r["policy"], r["size"]) for r in csv.DictReader(handle)}
    else:
        path.write_text(",".join(COLUMNS) + "\n")
    return path, done


def _baselines(name, train, test, only):
    """(model name, baseline fitted on ``train``, noise floor) for each model of the experiment in ``only``."""
    from recollective.campaigns import estimate_noise_floor
    from recollective.models import make_model

    for model_name in MODELS:
        if only and model_name not in only:
            continue
        started = time.perf_counter()
        fitted = make_model(model_name).fit(train)
        floor = estimate_noise_floor(make_model(model_name), train, test, 10, fitted=fitted)
        print(f"{name} {model_name}: baseline {time.perf_counter() - started:.1f} s, floor {floor:.4f}", flush=True)
        yield model_name, fitted, floor


def _evaluate(model, fitted, train, test, changed, delta, participants, audience, targets, floor):
    from recollective.campaigns.design import verify_plan

    after = None
    if model in ("ease", "itemknn"):
        after = copy.deepcopy(fitted).refit(changed, delta)
    return verify_plan(fitted, train, test, changed, participants, audience, targets, k=10, noise_floor=floor,
                       after=after)


def run(root: Path, out: Path, only: set | None, datasets: set | None = None,
        policies=("closest", "random", "fans"), screen: bool = False) -> None:
    """Heuristic rows and the greedy search's ``optimized`` rows; with ``screen``, ``screened`` rows instead: the
    whole search (greedy and ranked starts) on the pool left after :func:`screen_pool`, goal and sizes as for
    optimized, the heuristics read from ``out.parent`` (the main results folder)."""
    from recollective.campaigns import Campaign, apply_campaign, target_audience
    from recollective.campaigns._participants import eligible_users, user_embedding
    from recollective.campaigns.design import CONSTRUCTIONS, plan_with_delta, screen_pool, search_strategy

    label = "screened" if screen else "optimized"

    path, done = _rows_file(out)

    def write(row):
        with path.open("a", newline="") as handle:
            csv.writer(handle).writerow([row.get(c, "") for c in COLUMNS])
        print(" ".join(f"{c}={row[c]}" for c in ("dataset", "model", "target_set", "policy", "size",
                                                  "target_exposure_after")), flush=True)

    for name, train, test, sets in _datasets(root, datasets):
        sizes = [max(1, round(share * train.n_users)) for share in SHARES]
        embedding = user_embedding(train, rng=0)
        for model_name, fitted, floor in _baselines(name, train, test, only):
            for s, targets in enumerate(sets):
                audience = target_audience(test, targets)
                base = {"dataset": name, "model": model_name, "target_set": s,
                        "targets": " ".join(str(train.items.ids[t]) for t in targets), "audience_size": audience.size,
                        "noise_floor": floor}
                for policy in policies:
                    for size in sizes:
                        if (name, model_name, str(s), policy, str(size)) in done:
                            continue
                        campaign = Campaign(targets=tuple(int(t) for t in targets), participants=policy, size=size)
                        if size > eligible_users(campaign, train, audience).size:
                            continue
                        t0 = time.perf_counter()
                        app = apply_campaign(campaign, train, audience, 0, embedding=embedding)
                        row = _evaluate(model_name, fitted, train, test, app.interactions, app.delta, app.acting,
                                        audience, targets, floor)
                        write({**base, **row, "policy": policy, "size": size, "search_estimate": "",
                               "seconds": time.perf_counter() - t0})
                wanted = sorted({n // 2 for n in sizes} | set(sizes[:3]))
                if all((name, model_name, str(s), label, str(n)) in done for n in wanted):
                    continue
                t0 = time.perf_counter()
                pool = np.setdiff1d(np.arange(train.n_users), audience)
                if screen:
                    pool, dropped = screen_pool(fitted, train, test, targets, pool, value=5.0, k=10, noise_floor=floor)
                    print(f"{name} {model_name} set {s}: screen left out {dropped.size} of {pool.size + dropped.size}",
                          flush=True)
                # stop once the search's estimate beats every heuristic of this cell and 10%: later prefixes are
                # then the whole plan (rows keep the size asked for and the participants actually used)
                heuristics = [float(r["target_exposure_after"]) for r in _read(out.parent if screen else out)
                              if r["dataset"] == name and r["model"] == model_name and int(r["target_set"]) == s
                              and r["policy"] in ("closest", "random", "fans")]
                # only where the estimate is exact: an approximate estimate (als, puresvd) may stop short
                goal = min(1.0, max([0.10, *heuristics]) + 1e-9) if model_name in ("ease", "itemknn") else None
                found = search_strategy({"base": fitted}, train, targets, audience, pool,
                                        max_participants=max(wanted), values=(5.0,), k=10, goal_exposure=goal,
                                        constructions=CONSTRUCTIONS if screen else ("greedy",))
                search_seconds = time.perf_counter() - t0
                for n in wanted:
                    actions = found.actions[:n]
                    if (name, model_name, str(s), label, str(n)) in done or not actions:
                        continue
                    changed, delta = plan_with_delta(train, actions)
                    row = _evaluate(model_name, fitted, train, test, changed, delta, [a.user for a in actions],
                                    audience, targets, floor)
                    estimate = next((row["exposure"]["base"] for row in found.trace
                                     if row["n_participants"] == len(actions)), "")
                    write({**base, **row, "policy": label, "size": n, "search_estimate": estimate,
                           "seconds": search_seconds})


def ranked(root: Path, out: Path, only: set | None, datasets: set | None = None, exchange_rounds: int = 0,
           every_construction: bool = False, sets: set | None = None) -> None:
    """rows.csv of the ``ranked`` policy: the search's ranked starts alone, one search per evaluated size; with
    ``exchange_rounds``, the ``exchanged`` policy instead: the same plus the batch exchange on the winning plan, at
    N/2 of the 4% and 10% sizes (where the ranked starts lost to closest); with ``every_construction`` too, the
    ``exchanged_all`` policy: every construction (the greedy included, as ``design_campaign`` runs them), then the
    exchange. ``sets``: only these target sets (to split a run over processes)."""
    policy = ("exchanged_all" if every_construction else "exchanged") if exchange_rounds else "ranked"
    from recollective.campaigns import target_audience
    from recollective.campaigns.design import CONSTRUCTIONS, plan_with_delta, search_strategy

    constructions = CONSTRUCTIONS if every_construction else CONSTRUCTIONS[1:]

    path, done = _rows_file(out)
    for name, train, test, target_sets in _datasets(root, datasets):
        sizes = [max(1, round(share * train.n_users)) for share in SHARES]
        wanted = [n // 2 for n in sizes[2:]] if exchange_rounds else sorted({n // 2 for n in sizes} | set(sizes[:3]))
        for model_name, fitted, floor in _baselines(name, train, test, only):
            for s, targets in enumerate(target_sets):
                if sets is not None and s not in sets:
                    continue
                audience = target_audience(test, targets)
                pool = np.setdiff1d(np.arange(train.n_users), audience)
                for n in wanted:
                    if (name, model_name, str(s), policy, str(n)) in done:
                        continue
                    t0 = time.perf_counter()
                    found = search_strategy({"base": fitted}, train, targets, audience, pool, max_participants=n,
                                            values=(5.0,), k=10, constructions=constructions,
                                            exchange_rounds=exchange_rounds)
                    changed, delta = plan_with_delta(train, found.actions)
                    row = _evaluate(model_name, fitted, train, test, changed, delta, [a.user for a in found.actions],
                                    audience, targets, floor)
                    row = {"dataset": name, "model": model_name, "target_set": s,
                           "targets": " ".join(str(train.items.ids[t]) for t in targets),
                           "audience_size": audience.size, "noise_floor": floor, **row, "policy": policy,
                           "size": n, "search_estimate": _final_estimate(found),
                           "seconds": time.perf_counter() - t0}
                    with path.open("a", newline="") as handle:
                        csv.writer(handle).writerow([row.get(c, "") for c in COLUMNS])
                    print(f"{name} {model_name} set {s} n={n}: {found.construction} {found.stop_reason} "
                          f"{row['target_exposure_after']:.3f} ({row['seconds']:.1f} s)", flush=True)


def _final_estimate(found) -> float:
    """The search's own exposure estimate of the plan it returns (its last accepted exchange, if any)."""
    from recollective.campaigns.design import exchange_trials

    kept = [r for r in exchange_trials(found.trace) if r["accepted"]]
    return kept[-1]["exposure"]["base"] if kept else found.constructions[found.construction]["exposure"]


def designed(root: Path, out: Path, only: set | None, datasets: set | None = None, shares=(0.10,)) -> None:
    """rows.csv of the ``designed`` policy: ``design_campaign`` end to end (screen, every construction, cold-fit
    verification, repair loop) with the participants' bound at the noise floor (``max_participant_loss=None``),
    at N/2 for each share of users in ``shares``; the verified numbers are the row."""
    from recollective.campaigns import target_audience
    from recollective.campaigns.design import design_campaign

    path, done = _rows_file(out)
    for name, train, test, sets in _datasets(root, datasets):
        sizes = [max(1, round(share * train.n_users)) // 2 for share in shares]
        for model_name, fitted, floor in _baselines(name, train, test, only):
            for s, targets in enumerate(sets):
                audience = target_audience(test, targets)
                for n in sizes:
                    if (name, model_name, str(s), "designed", str(n)) in done:
                        continue
                    t0 = time.perf_counter()
                    design = design_campaign(fitted, train, test, targets, audience=audience, max_participants=n,
                                             k=10, noise_floor=floor, max_participant_loss=None)
                    row = {"dataset": name, "model": model_name, "target_set": s,
                           "targets": " ".join(str(train.items.ids[t]) for t in targets),
                           "audience_size": audience.size, **design.verified, "noise_floor": floor,
                           "policy": "designed", "size": n, "search_estimate": design.verified["predicted_exposure"],
                           "seconds": time.perf_counter() - t0}
                    with path.open("a", newline="") as handle:
                        csv.writer(handle).writerow([row.get(c, "") for c in COLUMNS])
                    print(f"{name} {model_name} set {s} n={n}: {design.construction}, {len(design.actions)} acting, "
                          f"feasible {design.feasible}, exposure {row['target_exposure_after']:.3f}, participants "
                          f"{row['ndcg_participants_before']:.4f} -> {row['ndcg_participants_after']:.4f} "
                          f"({row['seconds']:.0f} s)", flush=True)


def bounds(root: Path, out: Path) -> None:
    """bounds.csv: for item-kNN, the most any plan of N participants (each adding every target, rating 5) can
    reach (``exposure_upper_bound``), per dataset, target set and size."""
    from recollective.campaigns import target_audience
    from recollective.campaigns.design import exposure_upper_bound
    from recollective.models import make_model

    out.mkdir(parents=True, exist_ok=True)
    lines = ["dataset,model,target_set,size,exposure_upper_bound"]
    for name, train, test, sets in _datasets(root):
        fitted = make_model("itemknn").fit(train)
        sizes = [max(1, round(share * train.n_users)) for share in SHARES]
        for s, targets in enumerate(sets):
            audience = target_audience(test, targets)
            pool = np.setdiff1d(np.arange(train.n_users), audience)
            for n in sorted(set(sizes) | {n // 2 for n in sizes}):
                bound = exposure_upper_bound(fitted, audience, targets, pool, n, 5.0, k=10)
                lines.append(f"{name},itemknn,{s},{n},{bound!r}")
                print(lines[-1], flush=True)
    (out / "bounds.csv").write_text("\n".join(lines) + "\n")


def _read(out: Path) -> list[dict]:
    """Rows of ``out/rows.csv`` and of ``out/*/rows.csv`` (parts run as separate processes), one per cell."""
    rows, seen = [], set()
    for path in [out / "rows.csv", *sorted(out.glob("*/rows.csv"))]:
        if not path.exists():
            continue
        with path.open() as handle:
            for row in csv.DictReader(handle):
                key = (row["dataset"], row["model"], row["target_set"], row["policy"], row["size"])
                if key not in seen:
                    seen.add(key)
                    rows.append(row)
    for row in rows:
        for key in COLUMNS[4:]:
            if key != "policy" and row[key] != "":
                row[key] = float(row[key])
    return rows


def _median_interval(values, seed: int = 0, resamples: int = 2000):
    """Median and its 95% bootstrap percentile interval (seeded)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    draws = np.random.default_rng(seed).choice(values, size=(resamples, values.size), replace=True)
    medians = np.median(draws, axis=1)
    return float(np.median(values)), float(np.quantile(medians, 0.025)), float(np.quantile(medians, 0.975))


def tables(out: Path, figure: bool = True) -> None:
    """Markdown tables (stdout) and, with ``figure``, exposure_by_size.png / .svg from rows.csv."""
    rows = _read(out)
    index = {(r["dataset"], r["model"], int(r["target_set"]), r["policy"], int(r["size"])): r for r in rows}
    datasets = [d for d in ("goodbooks", "movielens") if any(r["dataset"] == d for r in rows)]
    print("### Optimized with N/2 participants against closest with N (cold-refit audience exposure)\n")
    print("greedy: the greedy search's plan; ranked: the ranked starts' plan (where run); optimized: of the two, the "
          "one with the higher cold-fit exposure (ties: ranked), the rule `search_strategy` applies (for EASE and "
          "item-kNN its exact estimate is the cold-fit number). Where run (`ranked --exchange-rounds 24`): ranked + "
          "exchange, the ranked starts' winner after the batch exchange; all + exchange (`--every-construction`), "
          "the winner of every construction (the greedy included, as `design_campaign` runs them) after the "
          "exchange; each as median [95% CI] and the sets where it is >= closest @ N.\n")
    print("| data | model | N (share of users) | sets | closest @ N, median [95% CI] | greedy @ N/2 | ranked @ N/2 | "
          "optimized @ N/2, median [95% CI] | sets where optimized @ N/2 >= closest @ N | ranked + exchange @ N/2 | "
          "sets | all + exchange @ N/2 | sets |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")

    def chosen(dataset, model, s, n):
        """The cell's plan under the search's rule: the ranked row when its cold-fit exposure is at least greedy's."""
        greedy, ranked_row = index.get((dataset, model, s, "optimized", n)), index.get((dataset, model, s, "ranked", n))
        key = "target_exposure_after"
        if ranked_row is None or (greedy is not None and greedy[key] > ranked_row[key]):
            return greedy
        return ranked_row

    for dataset in datasets:
        users = {"goodbooks": 2672, "movielens": 610}[dataset]
        sizes = [max(1, round(share * users)) for share in SHARES]
        for model in MODELS:
            for n in sizes:
                cells = [s for s in range(10) if (dataset, model, s, "closest", n) in index
                         and (dataset, model, s, "optimized", n // 2) in index]
                if not cells:
                    continue
                near = [index[(dataset, model, s, "closest", n)]["target_exposure_after"] for s in cells]
                best = [chosen(dataset, model, s, n // 2)["target_exposure_after"] for s in cells]
                parts = []
                for policy in ("optimized", "ranked"):
                    got = [index[(dataset, model, s, policy, n // 2)]["target_exposure_after"] for s in cells
                           if (dataset, model, s, policy, n // 2) in index]
                    parts.append(f"{np.median(got):.1%}" if len(got) == len(cells) else "–")
                c, o = _median_interval(near), _median_interval(best)
                wins = sum(b >= a for a, b in zip(near, best, strict=True))
                traded = []
                for policy in ("exchanged", "exchanged_all"):
                    found = [index.get((dataset, model, s, policy, n // 2)) for s in cells]
                    if not all(r is not None for r in found):
                        traded += ["–", "–"]
                        continue
                    e = _median_interval([r["target_exposure_after"] for r in found])
                    won = sum(r["target_exposure_after"] >= a for a, r in zip(near, found, strict=True))
                    traded += [f"{e[0]:.1%} [{e[1]:.1%}, {e[2]:.1%}]", f"{won}/{len(cells)}"]
                print(f"| {dataset} | {model} | {n} ({n / users:.0%}) | {len(cells)} | {c[0]:.1%} [{c[1]:.1%}, "
                      f"{c[2]:.1%}] | {parts[0]} | {parts[1]} | {o[0]:.1%} [{o[1]:.1%}, {o[2]:.1%}] | "
                      f"{wins}/{len(cells)} | " + " | ".join(traded) + " |")
    print("\n### Target sets where closest never passes 10% exposure within 10% of users\n")
    print("optimized here: the best of its rows and, where run, the all + exchange rows (`exchanged_all`) of at most "
          "5% of users.\n")
    print("| data | model | such sets | of them, optimized passes 10% (with at most 5% of users) | optimized's best "
          "exposure there, median |")
    print("|---|---|---|---|---|")
    for dataset in datasets:
        for model in MODELS:
            stuck, passed, best = 0, 0, []
            for s in range(10):
                mine = [r for r in rows if r["dataset"] == dataset and r["model"] == model
                        and int(r["target_set"]) == s]
                closest = [r["target_exposure_after"] for r in mine if r["policy"] == "closest"]
                optimized = [chosen(dataset, model, s, int(r["size"]))["target_exposure_after"] for r in mine
                             if r["policy"] == "optimized"]
                optimized += [r["target_exposure_after"] for r in mine if r["policy"] == "exchanged_all"
                              and r["size"] <= 0.05 * {"goodbooks": 2672, "movielens": 610}[dataset]]
                if not closest or not optimized or max(closest) > 0.10:
                    continue
                stuck += 1
                passed += max(optimized) > 0.10
                best.append(max(optimized))
            if stuck:
                print(f"| {dataset} | {model} | {stuck} | {passed} | {np.median(best):.1%} |")
    print("\n### Accuracy: participants and everyone else (optimized plans, all sizes)\n")
    print("| data | model | policy | plans | audience exposure, median | participants' NDCG change, median | worse off "
          "beyond the floor, median share | noise floor | majority NDCG change, median (max loss) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for dataset in datasets:
        for model in MODELS:
            for policy in ("optimized", "ranked", "exchanged", "exchanged_all", "screened", "designed"):
                mine = [r for r in rows if r["dataset"] == dataset and r["model"] == model and r["policy"] == policy]
                if not mine:
                    continue
                part = [r["ndcg_participants_after"] - r["ndcg_participants_before"] for r in mine
                        if r["ndcg_participants_before"] == r["ndcg_participants_before"]]
                worse = [r["participants_worse_share"] for r in mine if r["participants_worse_share"] != ""
                         and r["participants_worse_share"] == r["participants_worse_share"]]
                major = [r["ndcg_majority_after"] - r["ndcg_majority_before"] for r in mine]
                reach = np.median([r["target_exposure_after"] for r in mine])
                print(f"| {dataset} | {model} | {policy} | {len(mine)} | {reach:.1%} | {np.median(part):+.4f} | "
                      f"{np.median(worse):.0%} | {mine[0]['noise_floor']:.4f} | {np.median(major):+.5f} "
                      f"({min(major):+.5f}) |")
    _designed_table(rows, index, datasets)
    if figure:
        _figure(rows, out, datasets)


def _designed_table(rows, index, datasets) -> None:
    """The whole ``design_campaign`` (participants' bound at the floor) at N/2 against closest at N: reach and the
    participants' mean NDCG change of both."""
    print("\n### The whole campaign design against closest: reach and the participants' own accuracy\n")
    print("designed: `design_campaign` with the participants' bound at the noise floor (screen, every construction, "
          "8 exchange trials, cold fit, repair), at most N/2 readers; closest: N readers. Participants' change: the "
          "mean NDCG@10 change of a plan's participants with held-out books, median over the sets [95% CI]; "
          "'sets with a loss': plans whose participants' mean falls.\n")
    print("| data | model | N | sets | closest @ N: exposure | closest: participants' change | closest: sets with "
          "a loss | designed @ N/2: exposure | sets >= closest | designed: participants' change | designed: sets "
          "with a loss | acting | seconds per design |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for dataset in datasets:
        for model in MODELS:
            designed = [r for r in rows if r["dataset"] == dataset and r["model"] == model
                        and r["policy"] == "designed"]
            for half in sorted({int(r["size"]) for r in designed}):
                n = next((m for m in (2 * half, 2 * half + 1) if any(
                    (dataset, model, int(r["target_set"]), "closest", m) in index for r in designed)), None)
                cells = [r for r in designed if int(r["size"]) == half
                         and (dataset, model, int(r["target_set"]), "closest", n) in index]
                if not cells:
                    continue
                near = [index[(dataset, model, int(r["target_set"]), "closest", n)] for r in cells]

                def change(plans):
                    return [p["ndcg_participants_after"] - p["ndcg_participants_before"] for p in plans]

                c, d = _median_interval([r["target_exposure_after"] for r in near]), _median_interval(
                    [r["target_exposure_after"] for r in cells])
                cc, dc = _median_interval(change(near)), _median_interval(change(cells))
                won = sum(a["target_exposure_after"] >= b["target_exposure_after"] for a, b in zip(cells, near,
                                                                                                    strict=True))
                acting = [int(r["n_participants"]) for r in cells]
                seconds = [r["seconds"] for r in cells]
                print(f"| {dataset} | {model} | {n} | {len(cells)} | {c[0]:.1%} [{c[1]:.1%}, {c[2]:.1%}] | "
                      f"{cc[0]:+.4f} [{cc[1]:+.4f}, {cc[2]:+.4f}] | {sum(x < 0 for x in change(near))} | "
                      f"{d[0]:.1%} [{d[1]:.1%}, {d[2]:.1%}] | {won}/{len(cells)} | {dc[0]:+.4f} [{dc[1]:+.4f}, "
                      f"{dc[2]:+.4f}] | {sum(x < 0 for x in change(cells))} | {min(acting)}-{max(acting)} | "
                      f"{min(seconds):.0f}-{max(seconds):.0f} |")


def _figure(rows, out: Path, datasets) -> None:
    import matplotlib
    from matplotlib.figure import Figure

    from recollective.report._figures import BLACK, BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, STYLE, VERMILION

    colours = {"optimized": BLUE, "ranked": GREEN, "screened": PURPLE, "closest": ORANGE, "random": GREY,
               "fans": VERMILION}
    points = {"exchanged": (GREEN, "^", "ranked + exchange", 0.9), "exchanged_all": (SKY, "v", "all + exchange", 1.0),
              "designed": (BLACK, "s", "campaign design (participants' bound)", 1.1)}  # N/2 sizes only; x nudged
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(15, 3.2 * len(datasets) + 0.6), layout="constrained")
        axes_grid = figure.subplots(len(datasets), len(MODELS), squeeze=False, sharey=True)
        for r, dataset in enumerate(datasets):
            users = {"goodbooks": 2672, "movielens": 610}[dataset]
            for c, model in enumerate(MODELS):
                axes = axes_grid[r][c]
                for policy, colour in colours.items():
                    sizes = sorted({int(x["size"]) for x in rows if x["dataset"] == dataset and x["model"] == model
                                    and x["policy"] == policy})
                    stats = [_median_interval([x["target_exposure_after"] for x in rows if x["dataset"] == dataset
                                               and x["model"] == model and x["policy"] == policy
                                               and int(x["size"]) == n]) for n in sizes]
                    if not stats:
                        continue
                    shares = [n / users for n in sizes]
                    axes.plot(shares, [m for m, _, _ in stats], marker="o", ms=3, color=colour,
                              label="greedy" if policy == "optimized" else policy)
                    axes.fill_between(shares, [lo for _, lo, _ in stats], [hi for _, _, hi in stats], color=colour,
                                      alpha=0.15, lw=0)
                for policy, (colour, marker, label, nudge) in points.items():
                    sizes = sorted({int(x["size"]) for x in rows if x["dataset"] == dataset and x["model"] == model
                                    and x["policy"] == policy})
                    for n in sizes:
                        median, low, high = _median_interval([x["target_exposure_after"] for x in rows
                                                              if x["dataset"] == dataset and x["model"] == model
                                                              and x["policy"] == policy and int(x["size"]) == n])
                        axes.errorbar([nudge * n / users], [median], yerr=[[median - low], [high - median]],
                                      color=colour, marker=marker, ms=5, mfc="none", capsize=2, lw=1.0, ls="none",
                                      label=label)
                if not axes.lines:
                    axes.text(0.5, 0.5, "not run", ha="center", va="center", transform=axes.transAxes)
                    axes.set_xticks([])
                    axes.set_title(f"{dataset} · {model}")
                    continue
                axes.set_xscale("log")
                axes.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=1))
                axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
                axes.set_title(f"{dataset} · {model}")
                if r == len(datasets) - 1:
                    axes.set_xlabel("collective size (share of users)")
                if c == 0:
                    axes.set_ylabel("audience exposure (cold refit)")
        legend = {}
        for axes in axes_grid.flat:  # every series that appears in any panel
            for handle, label in zip(*axes.get_legend_handles_labels(), strict=True):
                legend.setdefault(label, handle)
        figure.legend(list(legend.values()), list(legend), loc="outside lower center", ncols=5)
        figure.savefig(out / "exposure_by_size.png", dpi=130, metadata={"Software": "recollective"})
        figure.savefig(out / "exposure_by_size.svg", metadata={"Date": None, "Creator": "recollective"})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run", "ranked", "designed", "bounds", "tables"))
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("docs/results/design"))
    parser.add_argument("--models", default="", help="comma-separated subset of als,itemknn,ease,puresvd,sequential")
    parser.add_argument("--datasets", default="", help="comma-separated subset of movielens,goodbooks")
    parser.add_argument("--policies", default="closest,random,fans", help="heuristic policies to evaluate")
    parser.add_argument("--exchange-rounds", type=int, default=0, help="ranked: exchanged rows (ranked starts, "
                                                                          "then this many exchange trials)")
    parser.add_argument("--every-construction", action="store_true",
                        help="ranked with --exchange-rounds: every construction, the greedy included (exchanged_all)")
    parser.add_argument("--sets", default="", help="ranked: only these target sets, comma-separated")
    parser.add_argument("--screen", action="store_true", help="run: screened rows (screen_pool, then the whole "
                                                               "search) instead of the greedy's optimized rows")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.data_root, args.out, set(filter(None, args.models.split(","))) or None,
            set(filter(None, args.datasets.split(","))) or None, tuple(filter(None, args.policies.split(","))),
            args.screen)
    elif args.command == "ranked":
        ranked(args.data_root, args.out, set(filter(None, args.models.split(","))) or None,
               set(filter(None, args.datasets.split(","))) or None, args.exchange_rounds, args.every_construction,
               {int(x) for x in args.sets.split(",") if x} or None)
    elif args.command == "designed":
        designed(args.data_root, args.out, set(filter(None, args.models.split(","))) or None,
                 set(filter(None, args.datasets.split(","))) or None)
    elif args.command == "bounds":
        bounds(args.data_root, args.out)
    else:
        tables(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
