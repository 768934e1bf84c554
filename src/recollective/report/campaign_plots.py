"""Figures for campaigns: target exposure against collective size (mean and 95% interval over seeds, one line
per model) and the per-user Pareto scatter (utility before vs after the campaign).

Like the other figures each writes ``<path_stem>.png``, ``.svg`` and ``.csv`` (exactly the plotted numbers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.report._figures import (
    BLUE,
    GREY,
    STYLE,
    VERMILION,
    output_paths,
    participant_axis,
    save_figure,
    write_csv,
)
from recollective.report._panels import Lines, model_axes, panel_legend, text_label, values
from recollective.report._ranges import clip_intervals, interval_method

__all__ = ["plot_exposure_by_size", "plot_pareto_scatter"]


def plot_exposure_by_size(summary_rows: list[dict], path_stem, *, metric: str = "target_exposure",
                          title: str | None = None) -> list[Path]:
    """``<metric>_after`` (line and interval band) and ``<metric>_before`` (dotted) against the number of
    participants, one panel per model (every model of the summary), one line style per participant policy.

    Intervals are the summary's 95% t-intervals over seeds clipped to [0, 1] (a share cannot leave it); the CSV
    holds the clipped values, as plotted.

    Parameters
    ----------
    summary_rows : list of dict
        Rows of :func:`recollective.campaigns.summarize_rows` (one per model x policy x position x size).
    path_stem : str or Path
    metric : str, default "target_exposure"
        A metric with ``_before`` / ``_after`` (and ``_low`` / ``_high``) columns.
    title : str, optional

    Returns
    -------
    list of Path
        PNG, SVG, CSV.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    key = f"{metric}_after"
    if summary_rows and key not in summary_rows[0]:
        raise InvalidParameterError(f"summary rows have no {key!r} column")
    grouped = Lines(clip_intervals(summary_rows), (f"{metric}_before", key))
    png, svg, csv_path = output_paths(path_stem)
    header = ["model", "participants", "position", "size", "n_participants", f"{metric}_before", key,
              f"{key}_low", f"{key}_high", "n_seeds"]
    table = []
    method = interval_method(grouped.n_seeds())
    highest = np.concatenate([values(rows, column) for rows in grouped.lines.values()
                              for column in (f"{key}_high", key, f"{metric}_before")])
    highest = highest[np.isfinite(highest)]
    top = min(1.0, max(0.05, 1.1 * float(highest.max()))) if highest.size else 1.0  # shares: at most 100%
    with mpl.rc_context(STYLE):
        figure = Figure(layout="constrained")
        axes, spare = model_axes(figure, len(grouped.models))
        for ax, model in zip(axes, grouped.models, strict=True):
            for index, (label, rows) in enumerate(grouped.of_model(model)):
                style = grouped.style(label)
                x = values(rows, "n_participants")
                band = np.isfinite(values(rows, f"{key}_low")) & np.isfinite(values(rows, f"{key}_high"))
                ax.fill_between(x, values(rows, f"{key}_low"), values(rows, f"{key}_high"), where=band,
                                color=style["color"], alpha=0.15, linewidth=0)
                ax.plot(x, values(rows, key), color=style["color"], linestyle=style["linestyle"],
                        marker=style["marker"], linewidth=2, markersize=5)
                if index == 0:  # the baseline does not depend on the participants
                    ax.plot(x, values(rows, f"{metric}_before"), linestyle=":", color=GREY, linewidth=1.6)
                table += [[*label, r["size"], r["n_participants"], r[f"{metric}_before"], r[key], r[f"{key}_low"],
                           r[f"{key}_high"], r.get("n_seeds")] for r in rows]
            ax.set_title(text_label(model), loc="left", fontsize=10)
            participant_axis(ax, [r["n_participants"] for _, rows in grouped.lines.items() for r in rows])
            ax.set_ylim(0, top)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        figure.supxlabel("participants (log scale)", fontsize=10)
        figure.supylabel(metric.replace("_", " ") + " in the audience (share)", fontsize=10)
        figure.suptitle(title or f"{metric.replace('_', ' ').capitalize()} vs collective size, one panel per model",
                        x=0.01, ha="left", fontsize=11)
        panel_legend(figure, spare, grouped.handles(band=method))
        save_figure(figure, png, svg)
    write_csv(csv_path, header, table)
    return [png, svg, csv_path]


def plot_pareto_scatter(utility_before, utility_after, path_stem, *, participants=None, audience=None,
                        noise_floor: float = 0.0, title: str | None = None,
                        utility: str = "NDCG@k, held-out") -> list[Path]:
    """Per-user utility (NDCG@k on held-out items) before (x) and after (y) a campaign, diagonal = unchanged.

    Parameters
    ----------
    utility_before, utility_after : ndarray of shape (n_users,)
    participants, audience : boolean masks of shape (n_users,), optional
        Coloured separately.
    noise_floor : float
        Drawn as a band around the diagonal.
    utility : str
        What the utility is, for the axis labels (e.g. "true DCG@k" for worlds).
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    before = np.asarray(utility_before, dtype=float)
    after = np.asarray(utility_after, dtype=float)
    if before.shape != after.shape or before.ndim != 1 or before.size == 0:
        raise InvalidParameterError(
            f"utility_before and utility_after must be 1-D of the same non-zero length; got {before.shape} and "
            f"{after.shape}"
        )
    n = before.size
    participants = np.zeros(n, bool) if participants is None else np.asarray(participants, bool)
    audience = np.zeros(n, bool) if audience is None else np.asarray(audience, bool)
    png, svg, csv_path = output_paths(path_stem)
    groups = [("other users", ~participants & ~audience, GREY), ("audience", audience & ~participants, VERMILION),
              ("participants", participants, BLUE)]
    better = float((after - before > max(noise_floor, 1e-12)).mean())
    worse = float((after - before < -max(noise_floor, 1e-12)).mean())
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(5.6, 5.4), layout="constrained")
        ax = figure.subplots()
        top = float(max(before.max(), after.max(), 1e-9)) * 1.03
        ax.fill_between([0, top], [-noise_floor, top - noise_floor], [noise_floor, top + noise_floor], color=GREY,
                        alpha=0.15, linewidth=0)
        ax.plot([0, top], [0, top], color=GREY, linewidth=1)
        for label, mask, colour in groups:
            if mask.any():
                ax.scatter(before[mask], after[mask], s=9, alpha=0.55, color=colour, label=f"{label} ({mask.sum()})",
                           linewidths=0)
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel(f"utility before ({utility})")
        ax.set_ylabel(f"utility after the campaign ({utility})")
        ax.set_title(title or f"per-user utility: {better:.1%} better, {worse:.1%} worse", loc="left")
        figure.legend(loc="outside lower center", ncols=3)  # outside the axes: never over a point
        save_figure(figure, png, svg)
    write_csv(csv_path, ["user_row", "utility_before", "utility_after", "participant", "audience"],
              [[i, before[i], after[i], bool(participants[i]), bool(audience[i])] for i in range(n)])
    return [png, svg, csv_path]
