"""How the cost of a campaign grows with the data: load, fit, refit and campaign evaluation per model and size.

    .venv/bin/python benchmarks/bench_scale.py                                  # 1M, 2M, 5M interactions
    .venv/bin/python benchmarks/bench_scale.py --sizes 1e6,5e6,2e7,5e7 --timeout 1800
    .venv/bin/python benchmarks/bench_scale.py --quick                          # 0.1M and 0.2M, smoke test
    .venv/bin/python benchmarks/bench_scale.py --sizes 2e7 --models itemknn --append   # add to the last run

Data: the tiled goodbooks-10k stand-in of ``scripts/make_large_ratings.py`` (every ``--tiles`` copy of the 2,672
readers keeps 10% of each history; 70% of kept ratings move to the tile's own copy of the book), with as many tiles
as the size needs, so users and items grow with the interactions (about 11 ratings per user and 4.7 per item).
No public data set of 5M+ interactions is available offline. Each (size, model) runs in its own process, which
reports its peak resident memory after each step (``ru_maxrss``: the process's largest footprint so far):

- ``load``: the CSV through the generic reader (``load_interactions(path, format="csv")``), once per size;
- ``fit``: the model on a random 20% hold-out split's training part;
- ``refit``: after a collective of the 1% of users closest to the audience of three tile-copy books adds them;
- ``evaluate``: ``evaluate_campaign`` (lean scoring: the audience, the participants and a seeded sample of 5,000
  test users), refit included;
- ``plan``: one screening step of the strategy search (``target_gains`` for 256 candidates, the non-audience users
  nearest the audience each adding the three targets at 5, against the model fitted on the training part), for the
  models with closed-form gains.

Times are wall seconds on this machine; the exponents are least-squares slopes of log(time) and log(peak memory)
against log(interactions). Results go to ``--out`` (CSV, PNG/SVG figure); the table for benchmarks/README.md is
printed at the end. A step that runs past ``--timeout`` or fails is recorded as such, with its reason.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "scripts"))

from _common import code_version, log, machine, print_provenance  # noqa: E402

MODELS = ("popularity", "als", "itemknn", "puresvd", "ease")
SOURCE = HERE.parents[1] / "shared" / "data" / "goodbooks-10k" / "ratings_random.csv"
KEEP = 0.1


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _tiled(size: float, seed: int = 0):
    from make_large_ratings import tiled_ratings

    table = np.loadtxt(SOURCE, delimiter=",", skiprows=1, dtype=np.int64)
    tiles = max(1, round(size / (table.shape[0] * KEEP)))
    return tiled_ratings(table[:, 0], table[:, 1], table[:, 2], tiles=tiles, keep=KEEP, shared=0.3, perturb=0.2,
                         seed=seed)


def child(size: float, model_name: str, csv_path: str | None) -> None:
    """One (size, model): print one JSON line per finished step."""
    from recollective.campaigns import Campaign, evaluate_campaign, target_audience, user_embedding
    from recollective.campaigns._apply import apply_campaign
    from recollective.data import Interactions, load_interactions
    from recollective.data._splits import split_interactions
    from recollective.models import make_model

    def report(step, seconds, **extra):
        print(json.dumps({"step": step, "seconds": seconds, "peak_mb": _peak_mb(), **extra}), flush=True)

    if csv_path is not None:
        started = time.perf_counter()
        data = load_interactions(csv_path, format="csv", user_col="user_id", item_col="item_id", rating_col="rating")
        report("load", time.perf_counter() - started, n_interactions=data.n_interactions, n_users=data.n_users,
               n_items=data.n_items)
        return
    users, items, ratings = _tiled(size)
    data = Interactions.from_arrays(users, items, ratings)
    del users, items, ratings
    train, test = split_interactions(data, "random-holdout", 0.2, rng=0)
    counts = np.bincount(train.matrix.indices, minlength=train.n_items)
    copies = np.flatnonzero((train.items.ids >= 100_000) & (counts >= 20) & (counts <= 60))
    targets = tuple(int(t) for t in copies[:3])
    audience = target_audience(test, targets)
    model = make_model(model_name)
    if "rng" in model.get_params():
        model.set_params(rng=0)
    started = time.perf_counter()
    try:
        model.fit(train)
    except Exception as exc:  # a model that refuses the catalogue says why; recorded, not raised
        report("fit", math.nan, error=" ".join(str(exc).split())[:200])
        return
    report("fit", time.perf_counter() - started, n_interactions=data.n_interactions, n_users=data.n_users,
           n_items=data.n_items, audience=int(audience.size))
    embedding = user_embedding(train, rng=0)
    campaign = Campaign(targets=targets, participants="closest", size=0.01, rating=5.0)
    application = apply_campaign(campaign, train, audience, rng=0, embedding=embedding)
    started = time.perf_counter()
    model.refit(application.interactions, application.delta)
    report("refit", time.perf_counter() - started, n_participants=int(application.acting.size))
    model = make_model(model_name)
    if "rng" in model.get_params():
        model.set_params(rng=0)
    model.fit(train)
    started = time.perf_counter()
    outcome = evaluate_campaign(model, train, test, campaign, k=10, rng=0, audience=audience, embedding=embedding)
    report("evaluate", time.perf_counter() - started,
           exposure=[outcome.summary["target_exposure_before"], outcome.summary["target_exposure_after"]])
    _plan_step(model, train, audience, targets, embedding, report)


def _plan_step(model, train, audience, targets, embedding, report, n_candidates: int = 256) -> None:
    """One screening step of the strategy search: closed-form gains of ``n_candidates`` pool members."""
    import scipy.sparse as sp

    from recollective.campaigns._participants import closest_order
    from recollective.campaigns.design import gain_kind, target_gains

    if gain_kind(model) == "refit":
        report("plan", math.nan, error=f"{model.name} has no closed-form gains (searched by refit)")
        return
    pool = np.setdiff1d(np.arange(train.n_users), audience)
    candidates = closest_order(embedding, audience, pool)[:n_candidates]
    items = np.asarray(targets, dtype=np.int64)
    rows = sp.csr_array((np.full(candidates.size * items.size, 5.0), np.tile(items, candidates.size),
                         np.arange(0, candidates.size * items.size + 1, items.size)),
                        shape=(candidates.size, train.n_items))
    started = time.perf_counter()
    gains = target_gains(model, audience, items, candidates, rows)
    report("plan", time.perf_counter() - started, candidates=int(candidates.size),
           largest_gain=float(np.abs(gains).max()))


def _run_child(args: list[str], timeout: float) -> list[dict]:
    command = [sys.executable, __file__, "--child", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        lines = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        return [json.loads(line) for line in lines.splitlines() if line.startswith("{")] + [
            {"step": "timeout", "seconds": timeout, "error": f"stopped after {timeout:.0f} s"}]
    steps = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-1:])[:200]
        steps.append({"step": "crash", "seconds": math.nan, "error": f"exit {done.returncode}: {tail}"})
    return steps


def _exponents(rows: list[dict]) -> list[dict]:
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        for step in ("load", "fit", "refit", "evaluate", "plan"):
            points = [(r["n_interactions"], r["seconds"], r["peak_mb"]) for r in rows
                      if r["model"] == model and r["step"] == step and math.isfinite(r["seconds"]) and r["seconds"] > 0]
            if len(points) >= 2:
                x = np.log([p[0] for p in points])
                out.append({"model": model, "step": step, "time_exponent": float(np.polyfit(x, np.log(
                    [p[1] for p in points]), 1)[0]), "memory_exponent": float(np.polyfit(x, np.log(
                    [p[2] for p in points]), 1)[0]), "sizes": len(points)})
    return out


def _plot(rows: list[dict], path_stem: Path) -> None:
    import matplotlib as mpl
    from matplotlib.figure import Figure

    sys.path.insert(0, str(HERE.parent / "src"))
    from recollective.report._figures import STYLE, line_style, save_figure

    steps = ("load", "fit", "refit", "evaluate", "plan")
    models = list(dict.fromkeys(r["model"] for r in rows))
    sizes = sorted({r["n_interactions"] for r in rows if r["step"] == "fit" and math.isfinite(r["seconds"])})
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(11.0, 6.4), layout="constrained")
        axes = figure.subplots(2, 3).ravel()
        axes[-1].set_visible(False)
        for ax, step in zip(axes, steps, strict=False):
            for index, model in enumerate(models):
                points = sorted((r["n_interactions"], r["seconds"]) for r in rows if r["model"] == model
                                and r["step"] == step and math.isfinite(r["seconds"]))
                if points:
                    style = line_style(index, 0)
                    ax.plot(*zip(*points, strict=True), color=style["color"], marker=style["marker"],
                            linestyle=style["linestyle"], label=model)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(sizes, [_short(size) for size in sizes])  # the measured sizes only: no crowded labels
            ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
            ax.set_title({"load": "load (generic CSV reader)", "plan": "plan (256 candidates' gains)"}.get(step, step))
            ax.set_xlabel("interactions")
            ax.set_ylabel("wall time (s)")
        handles, labels = axes[1].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=len(labels))
        save_figure(figure, path_stem.with_suffix(".png"), path_stem.with_suffix(".svg"))


def _short(n: float) -> str:
    """``1,996,644`` -> ``2.0M``; ``507,148`` -> ``0.5M``."""
    return f"{n / 1e6:.1f}M" if n < 1e7 else f"{n / 1e6:.0f}M"


def _read_rows(path: Path) -> list[dict]:
    """The rows of a ``scale.csv`` written by :func:`main`, numbers as numbers."""
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("size", "n_interactions", "seconds", "peak_mb"):
            row[key] = float(row[key]) if row[key] else math.nan
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("SIZE", "MODEL", "CSV"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="1e6,2e6,5e6", help="interactions, comma-separated (default 1e6,2e6,5e6)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per (size, model) process")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "scale")
    parser.add_argument("--quick", action="store_true", help="0.1M and 0.2M interactions (a smoke test)")
    parser.add_argument("--replot", action="store_true", help="redraw the figure from --out's scale.csv, run nothing")
    parser.add_argument("--append", action="store_true",
                        help="keep --out's scale.csv rows of other (size, model) pairs: add sizes or models to a run")
    args = parser.parse_args(argv)
    if args.replot:
        _plot(_read_rows(args.out / "scale.csv"), args.out / "scale")
        return 0
    if args.child:
        size, model, csv_path = args.child
        child(float(size), model, None if csv_path == "-" else csv_path)
        return 0
    import recollective

    print_provenance(machine(), code_version(recollective), "as installed", 0)
    sizes = [1e5, 2e5] if args.quick else [float(s) for s in args.sizes.split(",")]
    models = args.models.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    kept = []
    if args.append and (args.out / "scale.csv").exists():
        kept = [r for r in _read_rows(args.out / "scale.csv")
                if not (r["size"] in sizes and (r["model"] in models or r["model"] == "csv reader"))]
    rows = []
    for size in sizes:
        csv_path = Path("/tmp") / f"recollective_scale_{int(size)}.csv"
        users, items, ratings = _tiled(size)
        with open(csv_path, "w") as handle:
            handle.write("user_id,item_id,rating\n")
            np.savetxt(handle, np.column_stack([users, items, ratings]), fmt="%d", delimiter=",")
        n = users.size
        del users, items, ratings
        for model in ["(load)", *models]:
            log(f"size {size:.0e} ({n:,} interactions): {model}")
            started = time.perf_counter()
            steps = _run_child([repr(size), model, str(csv_path) if model == "(load)" else "-"], args.timeout)
            meta = next((s for s in steps if "n_interactions" in s), {})
            for step in steps:
                row = {"size": size, "model": "csv reader" if model == "(load)" else model, "step": step["step"],
                       "n_interactions": meta.get("n_interactions", n), "n_users": meta.get("n_users"),
                       "n_items": meta.get("n_items"), "seconds": step["seconds"], "peak_mb": step.get("peak_mb"),
                       "error": step.get("error", "")}
                rows.append(row)
                log(f"  {row['step']}: {row['seconds']:.2f} s, peak {row['peak_mb'] or math.nan:.0f} MB "
                    f"{row['error']}".rstrip())
            log(f"  ({time.perf_counter() - started:.0f} s with data generation)")
        csv_path.unlink(missing_ok=True)
        with (args.out / "scale.csv").open("w", newline="") as handle:  # after every size: a stop keeps them
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(sorted(kept + rows, key=lambda r: r["size"]))
    rows = sorted(kept + rows, key=lambda r: r["size"])
    sizes = sorted({r["size"] for r in rows})
    exponents = _exponents(rows)
    with (args.out / "exponents.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["model", "step", "time_exponent", "memory_exponent", "sizes"])
        writer.writeheader()
        writer.writerows(exponents)
    _plot(rows, args.out / "scale")
    print("\n| model | step | " + " | ".join(f"{s:.0e}" for s in sizes) + " | time exponent | memory exponent |")
    print("|---|---|" + "---|" * len(sizes) + "---|---|")
    for e in exponents:
        cells = []
        for size in sizes:
            match = [r for r in rows if r["model"] == e["model"] and r["step"] == e["step"] and r["size"] == size]
            cells.append(f"{match[0]['seconds']:.1f} s / {match[0]['peak_mb']:.0f} MB" if match else "–")
        print(f"| {e['model']} | {e['step']} | " + " | ".join(cells)
              + f" | {e['time_exponent']:.2f} | {e['memory_exponent']:.2f} |")
    for r in rows:
        if r["error"]:
            print(f"{r['model']} at {r['size']:.0e}: {r['step']}: {r['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
