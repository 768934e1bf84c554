"""The report's sections on several collectives at once: each collective's effect alone and together, and the
game's joint window of two collectives.

Reads only what a run folder holds and never recomputes results:

- ``collectives.csv`` — rows of :func:`recollective.campaigns.interaction_rows`, one per collective per cell, with
  cell keys such as ``dataset``, ``model``, ``seed``, ``pair`` (written by ``recollective campaign run --campaign
  FILE --out DIR`` and by ``scripts/collectives_experiment.py``);
- ``beside_attack.csv`` — the experiment's benign collective beside a shilling attack, each alone, together and after
  each detector's filter (a table);
- ``joint_window.png/.svg/.csv`` — the figure of ``recollective game joint-window --plot DIR``.

Rows are averaged over seeds by :func:`recollective.campaigns.summarize_interactions` (95% t-intervals, clipped to
the quantity's range: effects and interactions are differences of shares, within [-1, 1]). The *effect* of a
collective is the change of target exposure in its own audience (share of the audience with a target in its top k);
*alone* means no other collective acted, *together* means all acted at once; the *interaction* is the joint effect
minus the sum of the solo effects on that audience, and the *efficacy drop* is ``1 - effect together / effect
alone`` (Karan et al., FAccT 2025, report drops of up to 75%).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from recollective.errors import DataError
from recollective.report._figures import BLACK, BLUE, STYLE, VERMILION, WIDTH, output_paths, save_figure, write_csv
from recollective.report._html_parts import copy_existing, figure_block, html_table, read_csv
from recollective.report._ranges import interval_method

__all__ = ["collectives_sections", "plot_interference", "read_collective_rows", "summarize_collectives"]

ROWS_FILE = "collectives.csv"
ATTACK_FILE = "beside_attack.csv"
_REQUIRED = ("model", "collective", "exposure_before", "effect_solo", "effect_joint", "interaction")
_CELL_KEYS = ("dataset", "model", "pair", "collective", "action")
_TEXT = {"dataset", "model", "pair", "collective", "targets", "action", "overlap", "detector"}
_EFFECTS = ("effect_solo", "effect_joint", "interaction", "spillover")


def read_collective_rows(path) -> list[dict]:
    """Rows of a ``collectives.csv`` (numbers as floats, empty cells as NaN); :class:`DataError` naming the file
    when it is unreadable, lacks a required column or holds a value that is not a number."""
    path = Path(path)
    header, records = read_csv(path)
    missing = [column for column in _REQUIRED if column not in header]
    if missing:
        raise DataError(f"{path}: no column(s) {', '.join(missing)}; expected the rows of "
                        "`recollective campaign run --campaign FILE --out DIR`")
    rows = []
    for number, record in enumerate(records, start=2):
        row = {}
        for key, value in record.items():
            if key in _TEXT:
                row[key] = value
                continue
            try:
                row[key] = float(value) if value not in ("", None) else math.nan
            except ValueError:
                raise DataError(f"{path}: line {number}, column {key!r}: {value!r} is not a number") from None
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no rows; run the collectives first")
    return rows


def summarize_collectives(rows: list[dict]) -> list[dict]:
    """One row per (dataset, model, pair, collective, action) present: means over seeds with 95% t-intervals
    clipped to [-1, 1] (effects) and [0, 1] (exposures); ``size`` and ``audience_size`` are means too."""
    from recollective.campaigns import summarize_interactions

    by = [key for key in _CELL_KEYS if key in rows[0]]
    metrics = [m for m in ("exposure_before", "exposure_solo", "exposure_joint", *_EFFECTS, "size", "audience_size",
                           "participants_worse_share_joint", "worse_share_joint") if m in rows[0]]
    summary = summarize_interactions(rows, by=by, metrics=metrics)
    for row in summary:
        for metric in metrics:
            low, high = (-1.0, 1.0) if metric in _EFFECTS else (0.0, 1.0) if "share" in metric or metric.startswith(
                "exposure") else (-math.inf, math.inf)
            for suffix in ("_low", "_high"):
                value = row[metric + suffix]
                if value is not None and math.isfinite(value):
                    row[metric + suffix] = min(max(value, low), high)
    return summary


def _panels(summary: list[dict]) -> list[tuple[str, str]]:
    """(dataset, model) panels: datasets in order of first appearance, each with its models in that order."""
    panels = list(dict.fromkeys((row.get("dataset", ""), row["model"]) for row in summary))
    datasets = list(dict.fromkeys(dataset for dataset, _ in panels))
    return sorted(panels, key=lambda panel: datasets.index(panel[0]))


def _bar_label(row: dict) -> str:
    label = str(row["collective"])
    if row.get("action") not in (None, "", "add"):
        label += f"\n({row['action']})"
    return label.replace("$", r"\$")


def _pair_labels(ax, rows: list[dict]) -> None:
    """The pair of each run of bars, centred below their collective labels."""
    pairs = [str(row.get("pair") or "") for row in rows]
    start = 0
    for index in range(1, len(pairs) + 1):
        if index == len(pairs) or pairs[index] != pairs[start]:
            if pairs[start]:
                ax.annotate(pairs[start].replace("$", r"\$"), xy=((start + index - 1) / 2, 0),
                            xycoords=("data", "axes fraction"), xytext=(0, -28), textcoords="offset points",
                            ha="center", va="top", fontsize=8, color="#555555")
            start = index


def plot_interference(summary: list[dict], path_stem) -> list[Path]:
    """One panel per (dataset, model): every collective's effect on its audience's target exposure alone (solid)
    and together (hatched), in percentage points, means with their intervals as error bars.

    Writes ``<path_stem>.png``, ``.svg`` and ``.csv`` (the plotted numbers). Returns the three paths.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    png, svg, csv_path = output_paths(path_stem)
    panels = _panels(summary)
    n_seeds = max(int(row.get("n_seeds", 1)) for row in summary)
    ncols = max(1, min(3, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, 1.6 + 3.0 * nrows), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, squeeze=False, sharey=True)).ravel()
        for extra in axes[len(panels):]:
            extra.axis("off")
        table = []
        for ax, (dataset, model) in zip(axes, panels, strict=False):
            rows = [row for row in summary if (row.get("dataset", ""), row["model"]) == (dataset, model)]
            x = np.arange(len(rows), dtype=float)
            for offset, key, colour, hatch in ((-0.2, "effect_solo", BLUE, None),
                                               (0.2, "effect_joint", VERMILION, "///")):
                mean = np.array([row[key] for row in rows]) * 100
                low = np.array([row[f"{key}_low"] for row in rows]) * 100
                high = np.array([row[f"{key}_high"] for row in rows]) * 100
                error = None
                if n_seeds > 1:
                    error = np.vstack([np.nan_to_num(mean - low), np.nan_to_num(high - mean)])
                ax.bar(x + offset, mean, width=0.4, color=colour, hatch=hatch, edgecolor="white" if hatch else colour,
                       yerr=error, error_kw={"ecolor": BLACK, "capsize": 2, "elinewidth": 0.9})
            ax.axhline(0, color=BLACK, linewidth=0.8)
            ax.set_xticks(x, [_bar_label(row) for row in rows], fontsize=8)
            _pair_labels(ax, rows)
            ax.set_title(f"{dataset}: {model}" if dataset else model)
            ax.grid(axis="x", visible=False)
            for row in rows:
                table.append([dataset, model, row.get("pair", ""), row["collective"], row.get("action", "add"),
                              row["n_seeds"], *(row[f"{key}{part}"] for key in ("effect_solo", "effect_joint",
                                                                               "interaction")
                                                for part in ("", "_low", "_high")), row["efficacy_drop"]])
        for ax in axes[:: ncols]:
            ax.set_ylabel("effect on target exposure\n(percentage points)")
        handles = [Patch(color=BLUE, label="alone (no other collective acts)"),
                   Patch(facecolor=VERMILION, edgecolor="white", hatch="///", label="together (all act at once)")]
        if n_seeds > 1:
            handles.append(Patch(color="none", label="bars: " + interval_method([r["n_seeds"] for r in summary])))
        figure.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8)
        save_figure(figure, png, svg)
    header = ["dataset", "model", "pair", "collective", "action", "n_seeds",
              *(f"{key}{part}" for key in ("effect_solo", "effect_joint", "interaction")
                for part in ("", "_low", "_high")), "efficacy_drop"]
    write_csv(csv_path, header, table)
    return [png, svg, csv_path]


def headline(summary: list[dict]) -> list[str]:
    """One sentence per model: how many collectives were effective alone and what acting together did to them."""
    sentences = []
    for model in dict.fromkeys(row["model"] for row in summary):
        rows = [row for row in summary if row["model"] == model]
        effective = [row for row in rows if row["effective_alone"]]
        covered = sum(1 for row in rows if row["interaction_low"] <= 0 <= row["interaction_high"])
        text = f"{model}: {len(effective)} of {len(rows)} collective(s) raised their audience's target exposure alone"
        if effective:
            drops = np.array([row["efficacy_drop"] for row in effective], dtype=float)
            largest = max(effective, key=lambda row: row["efficacy_drop"])
            text += f"; together they kept a median {1 - float(np.nanmedian(drops)):.0%} of that effect"
            text += (f" (largest drop {largest['efficacy_drop']:.0%}, {_where(largest)})"
                     if largest["efficacy_drop"] > 0 else " (none lost any of it)")
        if rows[0]["n_seeds"] > 1:
            text += f"; the interaction's interval covers 0 for {covered} of {len(rows)}"
        sentences.append(text + ".")
    return sentences


def _where(row: dict) -> str:
    parts = [row.get("dataset"), row.get("pair"), f"collective {row['collective']}"]
    return ", ".join(str(p) for p in parts if p)


def _table(summary: list[dict]) -> str:
    several = summary[0]["n_seeds"] > 1

    def cell(row, key):
        """Points, with the interval when there are several seeds."""
        if several:
            return f"{row[key] * 100:+.1f} ({row[key + '_low'] * 100:+.1f} to {row[key + '_high'] * 100:+.1f})"
        return f"{row[key] * 100:+.1f}" if math.isfinite(row[key]) else "–"

    header = [key for key in ("dataset", "model", "pair") if key in summary[0]]
    columns = [*header, "collective", "audience", "exposure before", "effect alone (points)",
               "effect together (points)", "interaction (points)", "efficacy drop"]
    rows = []
    for row in summary:
        name = str(row["collective"]) + ("" if row.get("action") in (None, "", "add") else f" ({row['action']})")
        drop = f"{row['efficacy_drop']:.0%}" if row["effective_alone"] else "– (not effective alone)"
        rows.append([*(row[key] for key in header), name, f"{row['audience_size']:.0f}",
                     f"{row['exposure_before']:.1%}", cell(row, "effect_solo"), cell(row, "effect_joint"),
                     cell(row, "interaction"), drop])
    return html_table(columns, rows, numeric=set(range(len(header) + 1, len(columns))))


_ATTACK_COLUMNS = {"benign_effect_alone": "benign alone", "benign_effect_joint": "benign beside the attack",
                   "benign_effect_filtered": "benign after the filter", "attack_effect_joint": "attack",
                   "attack_effect_filtered": "attack after the filter", "benign_flagged_share": "benign flagged",
                   "attackers_flagged_share": "attackers flagged"}


def _attack_table(path: Path) -> str | None:
    """Means over seeds per (dataset, model, detector, flag share): effects in points, flagged shares in %."""
    header, records = read_csv(path)
    keys = [c for c in ("dataset", "model", "detector", "flag_share") if c in header]
    wanted = [c for c in _ATTACK_COLUMNS if c in header]
    if not records or not wanted:
        return None
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        groups.setdefault(tuple(record[k] for k in keys), []).append(record)
    rows = []
    for key, members in groups.items():
        means = []
        for column in wanted:
            try:
                values = np.array([float(m[column]) for m in members if m[column] not in ("", None)], dtype=float)
            except ValueError:
                raise DataError(f"{path}: column {column!r} holds a value that is not a number") from None
            mean = float(values.mean()) if values.size else math.nan
            means.append("–" if not math.isfinite(mean) else f"{mean:.0%}" if column.endswith("_share")
                         else f"{mean * 100:+.1f}")
        shown = [f"{float(v):.0%}" if k == "flag_share" else v for k, v in zip(keys, key, strict=True)]
        rows.append([*shown, *means])
    names = [k.replace("_", " ") for k in keys] + [_ATTACK_COLUMNS[c] for c in wanted]
    return html_table(names, rows, numeric=set(range(len(keys) - 1, len(names))))


def collectives_sections(run_dir: Path, staging: Path, html_dir: Path, assets: Path) -> dict:
    """What the folder holds about several collectives, as report parts.

    Returns a dict with ``sentences`` (for the summary), ``key_figure`` (HTML of the interference figure, or None),
    ``asked`` (rows of the summary's "what was asked" table) and ``sections`` (the report's sections: interference,
    beside an attack, joint window) — all empty when the folder holds none of the files.
    """
    out = {"sentences": [], "key_figure": None, "asked": [], "sections": []}
    rows_path = run_dir / ROWS_FILE
    if rows_path.is_file():
        rows = read_collective_rows(rows_path)
        summary = summarize_collectives(rows)
        paths = plot_interference(summary, staging / "interference")
        models = list(dict.fromkeys(row["model"] for row in summary))
        caption = ("each collective's effect on its own audience's target exposure, alone and together"
                   + "; " + interval_method([row["n_seeds"] for row in summary]))
        out["key_figure"] = figure_block(paths, caption, html_dir, assets, models=models)
        out["sentences"] = headline(summary)
        datasets = sorted({str(row.get("dataset")) for row in rows if row.get("dataset")})
        seeds = sorted({int(row["seed"]) for row in rows if "seed" in row and math.isfinite(row["seed"])})
        names = list(dict.fromkeys(str(row["collective"]) for row in rows))
        out["asked"] = [("collectives", f"{len(names)} per cell ({', '.join(names)}), each alone and all together"),
                        *([("data", ", ".join(datasets))] if datasets else []),
                        ("models", ", ".join(models)),
                        *([("seeds", ", ".join(map(str, seeds)))] if seeds else [])]
        out["sections"].append({
            "id": "collectives", "title": "Several collectives",
            "intro": "Effect = the change of target exposure in a collective's own audience (percentage points). "
                     "Interaction = the effect together minus the sum of every collective's effect alone on that "
                     "audience (0 when they neither help nor hinder each other). Efficacy drop = 1 - effect together "
                     "/ effect alone, for collectives with an effect alone (Karan et al., FAccT 2025, report drops "
                     "of up to 75%).",
            "blocks": [_table(summary)]})
    attack_path = run_dir / ATTACK_FILE
    if attack_path.is_file():
        table = _attack_table(attack_path)
        if table:
            out["sections"].append({
                "id": "beside-attack", "title": "A collective beside an attack",
                "intro": "A benign collective and a shilling attack on the same platform: each alone, together, and "
                         "after a detector removes the accounts it flags (means over seeds; effects are changes of "
                         "target exposure in each side's audience, in percentage points; flagged = share of each "
                         "side's accounts the detector flags).", "blocks": [table]})
    window = copy_existing(run_dir, "joint_window", staging)
    if window:
        blocks = []
        if any(p.suffix == ".png" for p in window):
            blocks.append(figure_block(window, "status of every (x1, x2) cell of two collectives' uprating values",
                                       html_dir, assets))
        out["sections"].append({
            "id": "joint-window", "title": "Joint window of two collectives",
            "intro": "The one-shot game with two collectives: the values (x1, x2) where both are effective and "
                     "nobody is worse off. Solid cells are certified, hatched cells were checked at their centre "
                     "only.", "blocks": blocks})
    if not out["key_figure"] and window and out["sections"][-1]["blocks"]:
        out["key_figure"] = out["sections"][-1]["blocks"].pop(0)
    return out

