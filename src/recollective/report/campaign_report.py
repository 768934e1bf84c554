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
from recollective.report._figures import (
    STYLE,
    WIDTH,
    line_style,
    output_paths,
    participant_axis,
    save_figure,
    write_csv,
)
from recollective.report._panels import Lines, model_axes, panel_legend, text_label, values
from recollective.report._ranges import clip_intervals, interval_method

__all__ = [
    "EXTERNALITY_COLUMN",
    "externality_bins",
    "plot_externalities",
    "plot_group_accuracy",
    "plot_metric_by_size",
    "plot_pareto_shares",
    "plot_popularity_bias",
]

#: Column names of flattened externality bins: ``externality_bin<b>_share_before`` / ``..._after``.
EXTERNALITY_COLUMN = re.compile(r"^externality_bin(\d+)_share_(before|after)$")
_GROUPS = (("_majority", "majority"), ("_audience", "audience"), ("_participants", "participants"))
_ALL = ("", "all test users")


def plot_metric_by_size(summary_rows: list[dict], path_stem, *, metric: str, ylabel: str,
                        title: str | None = None, log_y: bool = False) -> list[Path]:
    """``<metric>_after`` (line and interval band) and ``<metric>_before`` (dotted) against the number of
    participants, one panel per model, each with its own y scale (amplification can differ a hundredfold).

    Intervals are the 95% t-intervals over seeds clipped to the metric's range (amplification cannot be
    negative); a model whose values are all undefined (NaN) keeps its panel with a note.

    Returns
    -------
    list of Path
        PNG, SVG, CSV.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    after = f"{metric}_after"
    grouped = Lines(clip_intervals(summary_rows), (f"{metric}_before", after, f"{after}_low", f"{after}_high"))
    png, svg, csv_path = output_paths(path_stem)
    method = interval_method(grouped.n_seeds())
    table = []
    with mpl.rc_context(STYLE):
        figure = Figure(layout="constrained")
        axes, spare = model_axes(figure, len(grouped.models), sharey=False)
        counts = [r["n_participants"] for rows in grouped.lines.values() for r in rows]
        for ax, model in zip(axes, grouped.models, strict=True):
            finite = False
            for index, (label, rows) in enumerate(grouped.of_model(model)):
                style = grouped.style(label)
                x = values(rows, "n_participants")
                low, high, mean = values(rows, f"{after}_low"), values(rows, f"{after}_high"), values(rows, after)
                finite |= bool(np.isfinite(mean).any())
                ax.fill_between(x, low, high, where=np.isfinite(low) & np.isfinite(high), color=style["color"],
                                alpha=0.15, linewidth=0)
                ax.plot(x, mean, color=style["color"], linestyle=style["linestyle"], marker=style["marker"],
                        linewidth=2, markersize=5)
                if index == 0:
                    ax.plot(x, values(rows, f"{metric}_before"), linestyle=":", color=fig.GREY, linewidth=1.6)
                table += [[*label, r["size"], r["n_participants"], r[f"{metric}_before"], r[after], r[f"{after}_low"],
                           r[f"{after}_high"], r.get("n_seeds")] for r in rows]
            ax.set_title(text_label(model), loc="left", fontsize=10)
            participant_axis(ax, counts)
            if log_y:
                ax.set_yscale("symlog", linthresh=1.0)
            if not finite:
                ax.text(0.5, 0.5, "not defined for this model\n(no finite values)", transform=ax.transAxes,
                        ha="center", va="center", color=fig.GREY)
                ax.set_yticks([])
        figure.supxlabel("participants (log scale)", fontsize=10)
        figure.supylabel(ylabel, fontsize=10)
        figure.suptitle(title or f"{metric.replace('_', ' ').capitalize()} vs collective size, one panel per model "
                        "(own y scale)", x=0.01, ha="left", fontsize=11)
        panel_legend(figure, spare, grouped.handles(band=method))
        save_figure(figure, png, svg)
    write_csv(csv_path, ["model", "participants", "position", "size", "n_participants", f"{metric}_before", after,
                         f"{after}_low", f"{after}_high", "n_seeds"], table)
    return [png, svg, csv_path]


def plot_group_accuracy(summary_rows: list[dict], path_stem, *, group_utility: str | None = None) -> list[Path]:
    """Accuracy before and after, per user group, at each line's largest collective: one row of panels per model.

    Groups: all test users (``ndcg_*``: held-out NDCG@k), the majority (``ndcg_majority_*``, outside the
    audience), the audience and the participants, those the rows have. Hollow markers: before; filled: after,
    with its interval (95% t-interval over seeds, clipped to the range). One marker shape per participant policy.

    Parameters
    ----------
    summary_rows : list of dict
    path_stem : str or Path
    group_utility : str, optional
        What the per-group columns measure when it is not held-out NDCG@k: in a synthetic world they hold each
        user's true DCG@k (e.g. ``"true DCG@k"``). Then "all test users" gets a panel of its own, so that no axis
        mixes two quantities.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    grouped = Lines(clip_intervals(summary_rows, true_utility=group_utility is not None),
                    ("ndcg_before", "ndcg_after"))
    groups = [(s, text) for s, text in _GROUPS if f"ndcg{s}_after" in summary_rows[0]]
    panels = [("held-out NDCG@k", [_ALL, *groups])] if group_utility is None or not groups else [
        ("held-out NDCG@k", [_ALL]), (group_utility, groups)]
    png, svg, csv_path = output_paths(path_stem)
    largest = grouped.largest()
    table = []
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, 1.2 + 2.2 * math.ceil(len(grouped.models) / 2)), layout="constrained")
        subfigures = np.atleast_1d(figure.subfigures(math.ceil(len(grouped.models) / 2), min(2, len(grouped.models)),
                                                     squeeze=False)).ravel()
        width = 0.7 / max(1, len(grouped.variants))
        for subfigure, model in zip(subfigures, grouped.models, strict=False):
            axes = np.atleast_1d(subfigure.subplots(1, len(panels), squeeze=False,
                                                    width_ratios=[len(kept) for _, kept in panels]))[0]
            subfigure.suptitle(text_label(model), x=0.02, ha="left", fontsize=10, fontweight="bold")
            for ax, (ylabel, kept) in zip(axes, panels, strict=True):
                x = np.arange(len(kept))
                for label, row in [(label, row) for label, row in largest if label[0] == model]:
                    style = grouped.style(label)
                    shift = (grouped.variants.index(label[1:]) - (len(grouped.variants) - 1) / 2) * width
                    before = np.array([_num(row.get(f"ndcg{s}_before")) for s, _ in kept])
                    after = np.array([_num(row.get(f"ndcg{s}_after")) for s, _ in kept])
                    low = np.array([_num(row.get(f"ndcg{s}_after_low", row.get(f"ndcg{s}_after"))) for s, _ in kept])
                    high = np.array([_num(row.get(f"ndcg{s}_after_high", row.get(f"ndcg{s}_after"))) for s, _ in kept])
                    errors = np.nan_to_num(np.vstack([after - low, high - after]), nan=0.0).clip(min=0.0)
                    ax.vlines(x + shift, before, after, color=style["color"], linewidth=1.2)
                    ax.plot(x + shift, before, linestyle="none", marker=style["marker"], markersize=6,
                            markerfacecolor="white", markeredgecolor=style["color"])
                    ax.errorbar(x + shift, after, yerr=errors, linestyle="none", marker=style["marker"], markersize=6,
                                color=style["color"], capsize=2.5)
                    table += [[*label, row["size"], row["n_participants"], text, ylabel, before[i], after[i], low[i],
                               high[i]] for i, (_, text) in enumerate(kept)]
                ax.set_xticks(x, [text for _, text in kept], rotation=20 if len(kept) > 1 else 0,
                              ha="right" if len(kept) > 1 else "center")
                ax.set_xlim(-0.5, len(kept) - 0.5)
                ax.set_ylabel(ylabel, fontsize=9)
                shown = [v for line in ax.lines for v in np.asarray(line.get_ydata(), float).ravel()]
                shown += [float(np.nanmax(seg[:, 1])) for coll in ax.collections for seg in coll.get_segments()
                          if len(seg)] if ax.collections else []
                top = np.nanmax(shown) if np.isfinite(shown).any() else 1.0
                ax.set_ylim(0, 1.12 * top if top > 0 else 1.0)
        handles = [Line2D([], [], linestyle="none", marker="o", color=fig.GREY, markerfacecolor="white",
                          label="before (no campaign)"),
                   Line2D([], [], linestyle="none", marker="o", color=fig.GREY,
                          label="after, with its " + interval_method(grouped.n_seeds()).replace(", clipped",
                                                                                                   ",\nclipped"))]
        handles += [Line2D([], [], linestyle="none", marker=line_style(0, v)["marker"], color=fig.GREY,
                           label=f"{grouped.variant_name((None, *variant))} participants")
                    for v, variant in enumerate(grouped.variants)]
        if len(subfigures) > len(grouped.models):  # a spare cell: the legend goes there
            subfigures[len(grouped.models)].legend(handles=handles, loc="center", frameon=False)
        else:
            figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4))
        figure.suptitle("Accuracy per group at each line's largest collective", x=0.01, ha="left", fontsize=11)
        save_figure(figure, png, svg)
    write_csv(csv_path, ["model", "participants", "position", "size", "n_participants", "group", "utility",
                         "before", "after", "after_low", "after_high"], table)
    return [png, svg, csv_path]


def plot_popularity_bias(summary_rows: list[dict], path_stem) -> list[Path]:
    """Average recommended popularity (ARP) and catalogue coverage of the test users' lists against collective
    size: one panel per metric, every line (colour per model, line style and marker per participant policy),
    the legend below the panels. Dotted: each model before the campaign."""
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    metrics = (("arp", "ARP: mean training popularity\nof recommended items"),
               ("coverage", "catalogue coverage: share\nof items recommended"))
    grouped = Lines(clip_intervals(summary_rows), tuple(f"{m}_{w}" for m, _ in metrics for w in ("before", "after")))
    png, svg, csv_path = output_paths(path_stem)
    counts = [r["n_participants"] for rows in grouped.lines.values() for r in rows]
    table = []
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, 6.6), layout="constrained")
        axes = figure.subplots(1, 2)
        for label, rows in grouped.lines.items():
            style = grouped.style(label)
            x = values(rows, "n_participants")
            first = grouped.of_model(label[0])[0][0] == label
            for ax, (metric, _) in zip(axes, metrics, strict=True):
                after = values(rows, f"{metric}_after")
                if f"{metric}_after_low" in rows[0]:
                    ax.fill_between(x, values(rows, f"{metric}_after_low"), values(rows, f"{metric}_after_high"),
                                    color=style["color"], alpha=0.1, linewidth=0)
                ax.plot(x, after, color=style["color"], linestyle=style["linestyle"], marker=style["marker"],
                        linewidth=1.8, markersize=5)
                if first:  # the model before the campaign, once per model
                    ax.plot(x, values(rows, f"{metric}_before"), linestyle=":", color=style["color"], linewidth=1.4)
            table += [[*label, r["size"], r["n_participants"]] + [r.get(f"{m}_{w}") for m, _ in metrics
                                                                 for w in ("before", "after", "after_low",
                                                                           "after_high")] for r in rows]
        for ax, (_, ylabel) in zip(axes, metrics, strict=True):
            ax.set_ylabel(ylabel)
            participant_axis(ax, counts)
            ax.set_xlabel("participants (log scale)")
        axes[1].set_ylim(0, None)
        handles = [Line2D([], [], color=grouped.style(label)["color"], linestyle=grouped.style(label)["linestyle"],
                          marker=grouped.style(label)["marker"], linewidth=1.8, label=grouped.name(label))
                   for label in grouped.lines]
        handles += [Line2D([], [], color=fig.GREY, linestyle=":", linewidth=1.4,
                           label="before (no campaign), model's colour"),
                    Line2D([], [], color=fig.GREY, linewidth=6, alpha=0.3,
                           label="band: " + interval_method(grouped.n_seeds()))]
        figure.suptitle("Popularity bias of the recommendations vs collective size", x=0.01, ha="left", fontsize=11)
        figure.legend(handles=handles, loc="outside lower center", ncols=3 if len(handles) > 6 else 2,
                      fontsize=8.5)
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
    before), at each line's largest collective: who loses exposure to the targets. One panel per model, one bar
    per participant policy (hatched differently)."""
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    bins = externality_bins(summary_rows)
    if not bins:
        raise InvalidParameterError("summary rows have no externality_bin<b>_share_before/_after columns")
    grouped = Lines(summary_rows)
    png, svg, csv_path = output_paths(path_stem)
    width = 0.8 / len(grouped.variants)
    hatches = ("", "//", "..", "xx")
    table = []
    with mpl.rc_context(STYLE):
        figure = Figure(layout="constrained")
        axes, spare = model_axes(figure, len(grouped.models), panel_height=2.3)
        x = np.arange(len(bins))
        for ax, model in zip(axes, grouped.models, strict=True):
            for label, row in [(label, row) for label, row in grouped.largest() if label[0] == model]:
                variant = grouped.variants.index(label[1:])
                before = np.array([_num(row[f"externality_bin{b}_share_before"]) for b in bins])
                after = np.array([_num(row[f"externality_bin{b}_share_after"]) for b in bins])
                ax.bar(x - 0.4 + width * (variant + 0.5), after - before, width=width,
                       color=grouped.style(label)["color"], hatch=hatches[variant % len(hatches)],
                       edgecolor="white", linewidth=0)
                table += [[*label, row["size"], row["n_participants"], b, before[i], after[i], after[i] - before[i]]
                          for i, b in enumerate(bins)]
            ax.axhline(0.0, color=fig.GREY, linewidth=1)
            ax.set_xticks(x, [str(b) for b in bins])
            ax.set_title(text_label(model), loc="left", fontsize=10)
        sizes = sorted({int(row["n_participants"]) for _, row in grouped.largest()})
        at = f"{sizes[0]} participants" if len(sizes) == 1 else "each line's largest collective"
        figure.supxlabel("non-target items by training popularity: bin 1 = least popular, "
                         f"{bins[-1]} = most", fontsize=10)
        figure.supylabel("change in share of list slots\n(after minus before)", fontsize=10)
        figure.suptitle(f"Externalities at {at}: exposure moved away from other items, by popularity", x=0.01,
                        ha="left", fontsize=11)
        handles = [Patch(facecolor=fig.GREY, hatch=hatches[v % len(hatches)], edgecolor="white",
                         label=f"{grouped.variant_name((None, *variant))} participants")
                   for v, variant in enumerate(grouped.variants)]
        panel_legend(figure, spare, handles)
        save_figure(figure, png, svg)
    write_csv(csv_path, ["model", "participants", "position", "size", "n_participants", "bin", "share_before",
                         "share_after", "share_change"], table)
    return [png, svg, csv_path]


def plot_pareto_shares(summary_rows: list[dict], path_stem) -> list[Path]:
    """Shares of test users (and of participants) better off, unchanged and worse off, at each line's largest
    collective (every line); "unchanged" (changes within the noise floor) is ``unchanged_share`` when the rows
    have it, else the rest."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    grouped = Lines(summary_rows, ("better_share", "worse_share"))
    populations = [("", "all test users")]
    if "participants_better_share" in summary_rows[0] and "participants_worse_share" in summary_rows[0]:
        populations.append(("participants_", "participants"))
    png, svg, csv_path = output_paths(path_stem)
    bars, table = [], []
    for label, row in grouped.largest():
        for prefix, who in populations:
            better, worse = _num(row[f"{prefix}better_share"]), _num(row[f"{prefix}worse_share"])
            unchanged = _num(row.get(f"{prefix}unchanged_share"))  # stored, or the rest when the run has none
            if f"{prefix}unchanged_share" not in row:
                unchanged = max(0.0, 1.0 - better - worse) if math.isfinite(better + worse) else math.nan
            variant = f"{grouped.variant_name(label)}, " if grouped.several else ""
            bars.append((text_label(f"{label[0]} ({variant}{row['n_participants']:.0f}): {who}"), better, unchanged,
                         worse))
            table.append([*label, row["size"], row["n_participants"], who, better, unchanged, worse])
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, 1.5 + 0.3 * len(bars)), layout="constrained")
        ax = figure.subplots()
        y = np.arange(len(bars))[::-1]
        left = np.zeros(len(bars))
        for column, (text, colour) in enumerate((("better off", fig.GREEN), ("unchanged", fig.GREY),
                                                 ("worse off", fig.VERMILION)), start=1):
            share = np.nan_to_num(np.array([bar[column] for bar in bars], dtype=float))
            ax.barh(y, share, left=left, color=colour, alpha=0.85 if column != 2 else 0.35, label=text)
            left += share
        ax.set_yticks(y, [bar[0] for bar in bars], fontsize=9)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(_percent())
        ax.set_xlabel("share of users (utility change beyond the noise floor)")
        figure.suptitle("Pareto summary at each line's largest collective\n(in brackets: "
                        + ("participant policy, " if grouped.several else "") + "number of participants)",
                        x=0.01, ha="left", fontsize=11)
        figure.legend(loc="outside lower center", ncols=3)
        save_figure(figure, png, svg)
    write_csv(csv_path, ["model", "participants", "position", "size", "n_participants", "users", "better_share",
                         "unchanged_share", "worse_share"], table)
    return [png, svg, csv_path]


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


def _num(value) -> float:
    return math.nan if value is None else float(value)
