"""Report figures of a campaign sweep, drawn from :func:`recollective.campaigns.summarize_rows` output.

Each function takes summary rows (one per model x participant policy x position x size, means and 95% intervals
over seeds) and writes ``<path_stem>.png``, ``.svg`` and ``.csv`` (exactly the plotted numbers, STYLE.md item 19):

- :func:`plot_metric_by_size` — any ``<metric>_before`` / ``<metric>_after`` pair against the number of
  participants (amplification in the report);
- :func:`plot_group_accuracy` — NDCG before and after for all test users, the majority, the audience and the
  participants, at each line's largest collective;
- :func:`plot_popularity_bias` — average recommended popularity (ARP) and catalogue coverage against size;
- :func:`plot_externalities` — list-slot shares of non-target items by training-popularity bin, before and after;
- :func:`plot_pareto_shares` — shares of users better off, unchanged and worse off.

A "line" is one (model, participants, position) combination. Nothing is recomputed from the data.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.report import _figures as fig
from recollective.report._figures import PALETTE, STYLE, output_paths, save_figure, write_csv

__all__ = [
    "EXTERNALITY_COLUMN",
    "externality_bins",
    "plot_externalities",
    "plot_group_accuracy",
    "plot_metric_by_size",
    "plot_pareto_shares",
    "plot_popularity_bias",
]

_COLOURS = PALETTE
#: Column names of flattened externality bins: ``externality_bin<b>_share_before`` / ``..._after``.
EXTERNALITY_COLUMN = re.compile(r"^externality_bin(\d+)_share_(before|after)$")
_GROUPS = (("", "all test users"), ("_majority", "majority (outside the audience)"), ("_audience", "audience"),
           ("_participants", "participants"))
_MAX_PANELS = 6


def _label(text) -> str:
    """A dataset string as matplotlib text: ``$`` would start mathtext."""
    return str(text).replace("$", r"\$")


def _lines(summary_rows: list[dict], needed: tuple[str, ...]) -> dict[tuple, list[dict]]:
    if not summary_rows:
        raise InvalidParameterError("summary_rows is empty: nothing to plot")
    missing = [key for key in needed if key not in summary_rows[0]]
    if missing:
        raise InvalidParameterError(f"summary rows have no column(s) {', '.join(map(repr, missing))}")
    lines: dict[tuple, list[dict]] = {}
    for row in summary_rows:
        lines.setdefault((row["model"], row["participants"], row["position"]), []).append(row)
    return {label: sorted(rows, key=lambda r: r["n_participants"]) for label, rows in lines.items()}


def _name(label: tuple, several: bool) -> str:
    return f"{label[0]} ({label[1]}, {label[2]})" if several else str(label[0])


def _largest(lines: dict[tuple, list[dict]]) -> list[tuple[tuple, dict]]:
    """Each line's row with the most participants, at most ``_MAX_PANELS`` lines."""
    return [(label, rows[-1]) for label, rows in list(lines.items())[:_MAX_PANELS]]


def _values(rows: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=float)


def plot_metric_by_size(summary_rows: list[dict], path_stem, *, metric: str, ylabel: str,
                        title: str | None = None, log_y: bool = False) -> list[Path]:
    """``<metric>_after`` (line and 95% band) and ``<metric>_before`` (dotted) against the number of participants.

    Unlike :func:`~recollective.report.campaign_plots.plot_exposure_by_size` the band is not clipped, so it suits
    unbounded metrics such as amplification.

    Returns
    -------
    list of Path
        PNG, SVG, CSV.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    after = f"{metric}_after"
    lines = _lines(summary_rows, ("n_participants", f"{metric}_before", after, f"{after}_low", f"{after}_high"))
    png, svg, csv_path = output_paths(path_stem)
    several = len({label[1:] for label in lines}) > 1
    table = []
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(7.6, 4.6), layout="constrained")
        ax = figure.subplots()
        for index, (label, rows) in enumerate(lines.items()):
            colour = _COLOURS[index % len(_COLOURS)]
            x = _values(rows, "n_participants")
            ax.fill_between(x, _values(rows, f"{after}_low"), _values(rows, f"{after}_high"), color=colour,
                            alpha=0.2, linewidth=0)
            ax.plot(x, _values(rows, after), marker="o", color=colour, linewidth=2, label=_label(_name(label, several)))
            ax.plot(x, _values(rows, f"{metric}_before"), linestyle=":", color=colour, linewidth=1.2)
            table += [[*label, r["size"], r["n_participants"], r[f"{metric}_before"], r[after], r[f"{after}_low"],
                       r[f"{after}_high"], r.get("n_seeds")] for r in rows]
        ax.plot([], [], linestyle=":", color=fig.GREY, label="baseline (no campaign)")
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("symlog", linthresh=1.0)
        ax.set_xlabel("participants (log scale)")
        ax.set_ylabel(ylabel)
        ax.set_title(title or f"{metric.replace('_', ' ')} vs collective size (mean, 95% interval over seeds)",
                     loc="left")
        ax.legend(loc="best")
        save_figure(figure, png, svg)
    write_csv(csv_path, ["model", "participants", "position", "size", "n_participants", f"{metric}_before", after,
                         f"{after}_low", f"{after}_high", "n_seeds"], table)
    return [png, svg, csv_path]


def plot_group_accuracy(summary_rows: list[dict], path_stem) -> list[Path]:
    """NDCG@k before and after, per user group, at each line's largest collective (one panel per line).

    Groups: all test users (``ndcg_*``), the majority (``ndcg_majority_*``, when present), the audience and the
    participants. Error bars are the 95% intervals over seeds of the "after" values.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    lines = _lines(summary_rows, ("n_participants", "ndcg_before", "ndcg_after"))
    groups = [(suffix, text) for suffix, text in _GROUPS if f"ndcg{suffix}_after" in summary_rows[0]]
    png, svg, csv_path = output_paths(path_stem)
    chosen = _largest(lines)
    several = len({label[1:] for label in lines}) > 1
    table = []
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(max(5.0, 3.4 * len(chosen)), 4.4), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(chosen), sharey=True, squeeze=False)[0])
        x = np.arange(len(groups))
        for ax, (label, row) in zip(axes, chosen, strict=True):
            before = np.array([_num(row.get(f"ndcg{s}_before")) for s, _ in groups])
            after = np.array([_num(row.get(f"ndcg{s}_after")) for s, _ in groups])
            low = np.array([_num(row.get(f"ndcg{s}_after_low", row.get(f"ndcg{s}_after"))) for s, _ in groups])
            high = np.array([_num(row.get(f"ndcg{s}_after_high", row.get(f"ndcg{s}_after"))) for s, _ in groups])
            errors = np.nan_to_num(np.vstack([after - low, high - after]), nan=0.0).clip(min=0.0)
            ax.bar(x - 0.2, before, width=0.4, color=fig.GREY, label="before")
            ax.bar(x + 0.2, after, width=0.4, color=fig.BLUE, yerr=errors, capsize=3, label="after")
            ax.set_xticks(x, [text.split(" (")[0] for _, text in groups], rotation=20, ha="right")
            ax.set_title(_label(f"{_name(label, several)}\n{row['n_participants']:.0f} participants"), loc="left",
                         fontsize=9)
            table += [[*label, row["size"], row["n_participants"], text, before[i], after[i], low[i], high[i]]
                      for i, (_, text) in enumerate(groups)]
        axes[0].set_ylabel("NDCG@k on held-out items")
        axes[0].legend(loc="upper right")
        figure.suptitle("Accuracy per group at the largest collective (after: mean, 95% interval)", x=0.01,
                        ha="left", fontsize=11)
        save_figure(figure, png, svg)
    write_csv(csv_path, ["model", "participants", "position", "size", "n_participants", "group", "ndcg_before",
                         "ndcg_after", "ndcg_after_low", "ndcg_after_high"], table)
    return [png, svg, csv_path]


def plot_popularity_bias(summary_rows: list[dict], path_stem) -> list[Path]:
    """Average recommended popularity (ARP) and item coverage of the test users' lists against collective size.

    Solid lines with bands: after the campaign (mean, 95% interval); dotted: before.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    metrics = (("arp", "ARP (mean training popularity\nof recommended items)"),
               ("coverage", "catalogue coverage\n(share of items recommended)"))
    needed = ("n_participants", *(f"{m}_{w}" for m, _ in metrics for w in ("before", "after")))
    lines = _lines(summary_rows, needed)
    png, svg, csv_path = output_paths(path_stem)
    several = len({label[1:] for label in lines}) > 1
    table = []
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(7.6, 6.0), layout="constrained")
        axes = figure.subplots(2, 1, sharex=True)
        for index, (label, rows) in enumerate(lines.items()):
            colour = _COLOURS[index % len(_COLOURS)]
            x = _values(rows, "n_participants")
            for ax, (metric, _) in zip(axes, metrics, strict=True):
                after = _values(rows, f"{metric}_after")
                ax.fill_between(x, _values(rows, f"{metric}_after_low") if f"{metric}_after_low" in rows[0] else after,
                                _values(rows, f"{metric}_after_high") if f"{metric}_after_high" in rows[0] else after,
                                color=colour, alpha=0.2, linewidth=0)
                ax.plot(x, after, marker="o", color=colour, linewidth=2,
                        label=_label(_name(label, several)) if metric == "arp" else None)
                ax.plot(x, _values(rows, f"{metric}_before"), linestyle=":", color=colour, linewidth=1.2)
            table += [[*label, r["size"], r["n_participants"]] + [r.get(f"{m}_{w}") for m, _ in metrics
                                                                 for w in ("before", "after", "after_low",
                                                                           "after_high")] for r in rows]
        axes[0].plot([], [], linestyle=":", color=fig.GREY, label="baseline (no campaign)")
        for ax, (_, ylabel) in zip(axes, metrics, strict=True):
            ax.set_ylabel(ylabel)
        axes[1].set_xscale("log")
        axes[1].set_xlabel("participants (log scale)")
        axes[0].set_title("Popularity bias of the recommendations vs collective size", loc="left")
        axes[0].legend(loc="best")
        save_figure(figure, png, svg)
    header = ["model", "participants", "position", "size", "n_participants"] + [
        f"{m}_{w}" for m, _ in metrics for w in ("before", "after", "after_low", "after_high")]
    write_csv(csv_path, header, table)
    return [png, svg, csv_path]


def externality_bins(summary_rows: list[dict]) -> list[int]:
    """Popularity bins with both ``externality_bin<b>_share_before`` and ``..._after`` columns, sorted."""
    if not summary_rows:
        return []
    found: dict[int, set[str]] = {}
    for key in summary_rows[0]:
        match = EXTERNALITY_COLUMN.match(key)
        if match:
            found.setdefault(int(match.group(1)), set()).add(match.group(2))
    return sorted(b for b, sides in found.items() if sides == {"before", "after"})


def plot_externalities(summary_rows: list[dict], path_stem) -> list[Path]:
    """Change in the share of list slots held by non-target items of each training-popularity bin (after minus
    before), at each line's largest collective: who loses exposure to the targets."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    bins = externality_bins(summary_rows)
    if not bins:
        raise InvalidParameterError("summary rows have no externality_bin<b>_share_before/_after columns")
    lines = _lines(summary_rows, ("n_participants",))
    chosen = _largest(lines)
    several = len({label[1:] for label in lines}) > 1
    png, svg, csv_path = output_paths(path_stem)
    width = 0.8 / len(chosen)
    table = []
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(7.6, 4.4), layout="constrained")
        ax = figure.subplots()
        x = np.arange(len(bins))
        for index, (label, row) in enumerate(chosen):
            before = np.array([_num(row[f"externality_bin{b}_share_before"]) for b in bins])
            after = np.array([_num(row[f"externality_bin{b}_share_after"]) for b in bins])
            ax.bar(x - 0.4 + width * (index + 0.5), after - before, width=width,
                   color=_COLOURS[index % len(_COLOURS)],
                   label=_label(f"{_name(label, several)}, {row['n_participants']:.0f} participants"))
            table += [[*label, row["size"], row["n_participants"], b, before[i], after[i], after[i] - before[i]]
                      for i, b in enumerate(bins)]
        ax.axhline(0.0, color=fig.GREY, linewidth=1)
        ax.set_xticks(x, [f"bin {b}" for b in bins])
        ax.set_xlabel("non-target items by training popularity (bin 1 = least popular)")
        ax.set_ylabel("change in share of list slots")
        ax.set_title("Externalities: exposure moved away from other items, by popularity", loc="left")
        ax.legend(loc="best")
        save_figure(figure, png, svg)
    write_csv(csv_path, ["model", "participants", "position", "size", "n_participants", "bin", "share_before",
                         "share_after", "share_change"], table)
    return [png, svg, csv_path]


def plot_pareto_shares(summary_rows: list[dict], path_stem) -> list[Path]:
    """Shares of test users (and of participants) better off, unchanged and worse off, at each line's largest
    collective; "unchanged" (changes within the noise floor) is ``unchanged_share`` when the rows have it, else
    the rest."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    lines = _lines(summary_rows, ("n_participants", "better_share", "worse_share"))
    chosen = _largest(lines)
    several = len({label[1:] for label in lines}) > 1
    populations = [("", "all test users")]
    if "participants_better_share" in summary_rows[0] and "participants_worse_share" in summary_rows[0]:
        populations.append(("participants_", "participants"))
    png, svg, csv_path = output_paths(path_stem)
    bars, table = [], []
    for label, row in chosen:
        for prefix, who in populations:
            better, worse = _num(row[f"{prefix}better_share"]), _num(row[f"{prefix}worse_share"])
            unchanged = _num(row.get(f"{prefix}unchanged_share"))  # stored, or the rest when the run has none
            if f"{prefix}unchanged_share" not in row:
                unchanged = max(0.0, 1.0 - better - worse) if math.isfinite(better + worse) else math.nan
            bars.append((f"{_name(label, several)}: {who}", better, unchanged, worse))
            table.append([*label, row["size"], row["n_participants"], who, better, unchanged, worse])
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(7.6, 1.6 + 0.45 * len(bars)), layout="constrained")
        ax = figure.subplots()
        y = np.arange(len(bars))[::-1]
        left = np.zeros(len(bars))
        for column, (text, colour) in enumerate((("better off", fig.GREEN), ("unchanged", fig.GREY),
                                                 ("worse off", fig.VERMILION)), start=1):
            share = np.nan_to_num(np.array([bar[column] for bar in bars], dtype=float))
            ax.barh(y, share, left=left, color=colour, alpha=0.85 if column != 2 else 0.35, label=text)
            left += share
        ax.set_yticks(y, [_label(bar[0]) for bar in bars])
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of users (NDCG@k change beyond the noise floor)")
        ax.set_title("Pareto summary at the largest collective", loc="left")
        figure.legend(loc="outside lower center", ncols=3)
        save_figure(figure, png, svg)
    write_csv(csv_path, ["model", "participants", "position", "size", "n_participants", "users", "better_share",
                         "unchanged_share", "worse_share"], table)
    return [png, svg, csv_path]


def _num(value) -> float:
    return math.nan if value is None else float(value)
