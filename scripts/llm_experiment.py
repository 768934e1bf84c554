"""Issue 21's LLM experiment: the retrain and continue refit protocols side by side, and docs/llm.md's tables.

Three steps, each a subcommand::

    python scripts/llm_experiment.py run [--out runs]        # the four configs below, resumable (about 1 h on CPU)
    python scripts/llm_experiment.py rows [--out runs]       # run folders -> docs/results/llm/llm_protocols.csv
    python scripts/llm_experiment.py tables                  # that CSV -> the Markdown tables of docs/llm.md

The configs ``configs/goodbooks_llm_cpu100_{continue,retrain}_{tail,mid}.toml`` differ only in the LLM's
``refit_mode`` and the targets' popularity (``targets.head_share``). ``run`` executes them in one process, seed by
seed, so a (targets, seed) baseline and its noise floor (a second baseline with another seed) are fitted and
scored once and serve both refit modes (the runner's baseline cache ignores refit-only hyper-parameters); each
config's rows land in its own run folder, exactly as ``recollective run CONFIG --out runs`` would write them (run
that afterwards: it finds every cell stored). The committed CSV holds one row per (refit_mode, targets, model,
seed); ``tables`` prints means with 95 % t-intervals over seeds, derived from that CSV alone.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
MODES = ("retrain", "continue")
LEVELS = ("tail", "mid")
ROWS = ROOT / "docs" / "results" / "llm" / "llm_protocols.csv"
KEYS = ("refit_mode", "targets", "model", "seed")


def config_path(mode: str, level: str) -> Path:
    return CONFIGS / f"goodbooks_llm_cpu100_{mode}_{level}.toml"


def load_experiment_config(path: Path):
    from recollective.experiments import load_experiment_config as load

    return load(path)


# ------------------------------------------------------------------------------------------------------- run
def run(out: Path, levels, seeds) -> None:
    from recollective.experiments import run_experiment

    started = time.perf_counter()
    for level in levels:
        configs = {mode: load_experiment_config(config_path(mode, level)) for mode in ("continue", "retrain")}
        for seed in seeds if seeds else configs["continue"].seeds:
            for config in configs.values():
                t0 = time.perf_counter()
                result = run_experiment(config.model_copy(update={"seeds": [seed]}), out)
                _log(f"{config.name} seed {seed}: ran {result['ran']}, stored {result['stored']} cells in "
                     f"{time.perf_counter() - t0:.0f} s (load {os.getloadavg()[0]:.2f}; "
                     f"{(time.perf_counter() - started) / 60:.1f} min so far)")
        for config in configs.values():  # the whole grid: nothing left to run, the manifest lists every cell
            result = run_experiment(config, out)
            _log(f"{config.name}: {result['stored']} of {result['total']} cells stored")


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S', time.gmtime())} {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------------ rows
def rows(out: Path, path: Path = ROWS) -> list[dict]:
    """One row per stored cell of the four run folders, with ``refit_mode`` and ``targets`` (tail / mid) and the
    run's target books; written to ``path`` (sorted by the keys)."""
    table = []
    for mode in MODES:
        for level in LEVELS:
            config = load_experiment_config(config_path(mode, level))
            run_dir = out / config.name
            if not run_dir.is_dir():
                _log(f"{run_dir}: not there, skipped")
                continue
            for row in stored_rows(config, run_dir):
                table.append({"refit_mode": mode, "targets": level, "readers": config.data.sample_users,
                              **{k: v for k, v in row.items() if k not in ("cell", "participants", "position")}})
    table.sort(key=lambda r: (MODES.index(r["refit_mode"]), LEVELS.index(r["targets"]), r["model"], r["seed"]))
    columns = list(dict.fromkeys(key for row in table for key in row))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        for row in table:
            writer.writerow({k: _cell_text(row.get(k)) for k in columns})
    _log(f"{path}: {len(table)} rows")
    return table


def stored_rows(config, run_dir: Path) -> list[dict]:
    """The rows of ``config``'s cells found in ``run_dir``'s rows files (grid order; cells not run yet are absent).

    Read file by file rather than through the manifest, whose cell list is the last run's (``run`` runs one seed
    at a time); files the manifest records are checked against their SHA-256 first.
    """
    import json

    import pyarrow.parquet as pq

    from recollective.experiments import cell_hash, expand_cells
    from recollective.experiments._store import file_sha256

    recorded = json.loads((run_dir / "manifest.json").read_text()).get("files", {})
    for name, record in recorded.items():
        if (run_dir / name).is_file() and file_sha256(run_dir / name) != record["sha256"]:
            raise SystemExit(f"{run_dir / name}: altered after the run wrote it (SHA-256 differs from the manifest)")
    order = {cell_hash(config, cell): index for index, cell in enumerate(expand_cells(config))}
    found = {}
    for path in sorted(run_dir.glob("rows-*.parquet")):
        for row in pq.read_table(path).to_pylist():
            if row["cell"] in order and row["cell"] not in found:
                found[row["cell"]] = row
    return [found[h] for h in sorted(found, key=order.__getitem__)]


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


# ---------------------------------------------------------------------------------------------------- tables
def read_rows(path: Path = ROWS) -> list[dict]:
    with path.open() as handle:
        out = []
        for row in csv.DictReader(handle):
            parsed = {}
            for key, value in row.items():
                if key in ("refit_mode", "targets", "model", "size"):
                    parsed[key] = value
                elif value == "":
                    parsed[key] = math.nan
                else:
                    parsed[key] = float(value)
            out.append(parsed)
    return out


def t_interval(values) -> tuple[float, float, int]:
    """(mean, half-width of the 95 % t-interval, n) over the finite values (half-width NaN for n < 2)."""
    from scipy import stats

    values = [v for v in values if not math.isnan(v)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, 0
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan, n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n), n


def fmt(mean: float, half: float, digits: int = 3) -> str:
    if math.isnan(mean):
        return "–"
    text = f"{mean:.{digits}f}"
    return text if math.isnan(half) else f"{text} ± {half:.{digits}f}"


def select(table, **where) -> list[dict]:
    return [row for row in table if all(row[k] == v for k, v in where.items())]


def stat(table, metric: str, **where) -> tuple[float, float, int]:
    return t_interval([row[metric] for row in select(table, **where)])


def delta(table, metric: str, **where) -> tuple[float, float, int]:
    """After minus before of ``metric`` per seed (``metric_after - metric_before``), as a t-interval."""
    return t_interval([row[f"{metric}_after"] - row[f"{metric}_before"] for row in select(table, **where)])


MAIN = [  # (label, metric or (metric, "before"/"after"/"delta"), digits)
    ("target exposure in the audience, before", "target_exposure_before", 3),
    ("target exposure in the audience, after", "target_exposure_after", 3),
    ("target exposure outside the audience, after", "target_exposure_majority_after", 3),
    ("amplification, after", "amplification_after", 0),
    ("HR@10 majority, before", "hit_rate_majority_before", 3),
    ("HR@10 majority, after", "hit_rate_majority_after", 3),
    ("HR@10 majority, change", ("hit_rate_majority", "delta"), 3),
    ("NDCG@10 majority, change", ("ndcg_majority", "delta"), 3),
    ("HR@10 audience, change", ("hit_rate_audience", "delta"), 3),
    ("NDCG@10 audience, change", ("ndcg_audience", "delta"), 3),
    ("NDCG@10 participants, change", ("ndcg_participants", "delta"), 3),
    ("held-out hits in all lists, before", "hits_before", 1),
    ("held-out hits in all lists, after", "hits_after", 1),
    ("held-out hits, change", ("hits", "delta"), 1),
    ("noise floor (NDCG@10)", "noise_floor", 3),
    ("readers worse off beyond the floor", "worse_share", 3),
    ("readers better off beyond the floor", "better_share", 3),
    ("participants worse off beyond the floor", "participants_worse_share", 3),
]


def value(table, metric, digits, **where) -> str:
    if isinstance(metric, tuple):
        mean, half, _ = delta(table, metric[0], **where)
    else:
        mean, half, _ = stat(table, metric, **where)
    return fmt(mean, half, digits)


def protocol_table(table, level: str, model: str = "llm") -> str:
    """The retrain-vs-continue table of one target level (rows: measures; columns: the two refit modes)."""
    seeds = {mode: len(select(table, refit_mode=mode, targets=level, model=model)) for mode in MODES}
    lines = [f"| {model}, {level} targets | retrain ({seeds['retrain']} seeds) | "
             f"continue ({seeds['continue']} seeds) |", "|---|---|---|"]
    for label, metric, digits in MAIN:
        cells = [value(table, metric, digits, refit_mode=mode, targets=level, model=model) for mode in MODES]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def models_table(table, level: str) -> str:
    """Every model under both refit modes (the CF models' rows are the same in both configs)."""
    lines = ["| model | refit | seeds | exposure before → after | HR@10 majority before → after | "
             "NDCG@10 all before → after | worse off | noise floor |", "|---|---|---|---|---|---|---|---|"]
    for model in ("popularity", "als", "llm"):
        for mode in MODES:
            where = {"refit_mode": mode, "targets": level, "model": model}
            n = len(select(table, **where))
            if not n:
                continue
            lines.append(
                f"| {model} | {mode} | {n} | {value(table, 'target_exposure_before', 3, **where)} → "
                f"{value(table, 'target_exposure_after', 3, **where)} | "
                f"{value(table, 'hit_rate_majority_before', 3, **where)} → "
                f"{value(table, 'hit_rate_majority_after', 3, **where)} | "
                f"{value(table, 'ndcg_before', 3, **where)} → {value(table, 'ndcg_after', 3, **where)} | "
                f"{value(table, 'worse_share', 3, **where)} | {value(table, 'noise_floor', 3, **where)} |")
    return "\n".join(lines)


GROUPS = [("all test readers", "hit_rate", "ndcg"), ("majority (outside the audience)", "hit_rate_majority",
           "ndcg_majority"), ("audience", "hit_rate_audience", "ndcg_audience"),
          ("participants", None, "ndcg_participants")]


def groups_table(table, level: str, model: str = "llm") -> str:
    """Accuracy per group, before → after, under both refit modes (the before values share one baseline)."""
    lines = [f"| {model}, {level} targets | measure | retrain: before → after | continue: before → after |",
             "|---|---|---|---|"]
    for group, hit_rate, ndcg in GROUPS:
        for label, metric in (("HR@10", hit_rate), ("NDCG@10", ndcg)):
            if metric is None:
                continue
            cells = []
            for mode in MODES:
                where = {"refit_mode": mode, "targets": level, "model": model}
                cells.append(f"{value(table, f'{metric}_before', 3, **where)} → "
                             f"{value(table, f'{metric}_after', 3, **where)}")
            lines.append(f"| {group} | {label} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def levels_table(table, model: str = "llm") -> str:
    """The two target popularity levels side by side under both refit modes (the summary of the experiment)."""
    lines = ["| targets | refit | seeds | audience | exposure in the audience, before → after | exposure outside, "
             "after | HR@10 majority, change | held-out hits, change | worse off beyond the floor |",
             "|---|---|---|---|---|---|---|---|---|"]
    for level in LEVELS:
        for mode in MODES:
            where = {"refit_mode": mode, "targets": level, "model": model}
            n = len(select(table, **where))
            if not n:
                continue
            lines.append(
                f"| {level} | {mode} | {n} | {value(table, 'audience_size', 0, **where)} | "
                f"{value(table, 'target_exposure_before', 3, **where)} → "
                f"{value(table, 'target_exposure_after', 3, **where)} | "
                f"{value(table, 'target_exposure_majority_after', 3, **where)} | "
                f"{value(table, ('hit_rate_majority', 'delta'), 3, **where)} | "
                f"{value(table, ('hits', 'delta'), 1, **where)} | {value(table, 'worse_share', 3, **where)} |")
    return "\n".join(lines)


def tables(path: Path = ROWS) -> str:
    table = read_rows(path)
    parts = ["### Summary: both target levels, both refit modes (LLM)", "", levels_table(table), ""]
    for level in LEVELS:
        if not select(table, targets=level, model="llm"):
            continue
        parts += [f"### {level} targets: the LLM under both refit modes", "", protocol_table(table, level), "",
                  f"### {level} targets: accuracy per group", "", groups_table(table, level), "",
                  f"### {level} targets: every model", "", models_table(table, level), ""]
    return "\n".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p_run = commands.add_parser("run", help="run the four configs (resumable)")
    p_run.add_argument("--out", type=Path, default=ROOT / "runs")
    p_run.add_argument("--levels", nargs="+", choices=LEVELS, default=list(LEVELS))
    p_run.add_argument("--seeds", nargs="+", type=int, default=None)
    p_rows = commands.add_parser("rows", help="rebuild the CSV from the run folders")
    p_rows.add_argument("--out", type=Path, default=ROOT / "runs")
    p_rows.add_argument("--csv", type=Path, default=ROWS)
    p_tables = commands.add_parser("tables", help="print docs/llm.md's tables from the CSV")
    p_tables.add_argument("--csv", type=Path, default=ROWS)
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.out, args.levels, args.seeds)
    elif args.command == "rows":
        rows(args.out, args.csv)
    else:
        print(tables(args.csv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
