"""Figures for campaigns: target exposure against collective size (mean and 95% interval over seeds, one line
per model) and the per-user Pareto scatter (utility before vs after the campaign).

Like the other figures each writes ``<path_stem>.png``, ``.svg`` and ``.csv`` (exactly the plotted numbers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.report._figures import BLUE, GREY, PALETTE, STYLE, VERMILION, output_paths, save_figure, write_csv

__all__ = ["plot_exposure_by_size", "plot_pareto_scatter"]

_COLOURS = PALETTE
_VARIANT_STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))


def plot_exposure_by_size(summary_rows: list[dict], path_stem, *, metric: str = "target_exposure",
                          title: str | None = None) -> list[Path]:
    """``<metric>_after`` (line and 95% band) and ``<metric>_before`` (dotted) against the number of participants.

    Parameters
    ----------
    summary_rows : list of dict
        Rows of :func:`recollective.campaigns.summarize_rows` (one per model x policy x position x size).
    path_stem : str or Path
    metric : str, default "target_exposure"
        A metric with ``_before`` / ``_after`` (and ``_low`` / ``_high``) columns.

    Returns
    -------
    list of Path
        PNG, SVG, CSV.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    if not summary_rows:
        raise InvalidParameterError("summary_rows is empty: nothing to plot")
    key = f"{metric}_after"
    if key not in summary_rows[0]:
        raise InvalidParameterError(f"summary rows have no {key!r} column")
    png, svg, csv_path = output_paths(path_stem)
    lines: dict[tuple, list[dict]] = {}
    for row in summary_rows:
        lines.setdefault((row["model"], row["participants"], row["position"]), []).append(row)
    header = ["model", "participants", "position", "size", "n_participants", f"{metric}_before", key,
              f"{key}_low", f"{key}_high", "n_seeds"]
    table = []
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(7.6, 4.8), layout="constrained")
        ax = figure.subplots()
        several = len({label[1:] for label in lines}) > 1
        models = list(dict.fromkeys(label[0] for label in lines))
        variants = list(dict.fromkeys(label[1:] for label in lines))
        for label, rows in lines.items():
            rows = sorted(rows, key=lambda r: r["n_participants"])
            x = np.array([r["n_participants"] for r in rows], dtype=float)
            mean = np.array([r[key] for r in rows], dtype=float)
            low = np.array([r[f"{key}_low"] for r in rows], dtype=float)
            high = np.array([r[f"{key}_high"] for r in rows], dtype=float)
            before = np.array([r[f"{metric}_before"] for r in rows], dtype=float)
            # one colour per model, one line style and marker per (participants, position)
            colour = _COLOURS[models.index(label[0]) % len(_COLOURS)]
            variant = variants.index(label[1:])
            style, marker = _VARIANT_STYLES[variant % len(_VARIANT_STYLES)]
            name = f"{label[0]} ({label[1]}, {label[2]})" if several else label[0]
            # shares live in [0, 1]: the band is clipped there for display (the CSV keeps the t-interval as is)
            ax.fill_between(x, np.clip(low, 0, 1), np.clip(high, 0, 1), color=colour, alpha=0.15, linewidth=0)
            ax.plot(x, mean, marker=marker, linestyle=style, color=colour, linewidth=2, label=name)
            ax.plot(x, before, linestyle=":", color=colour, linewidth=1.2)
            table += [[*label, r["size"], r["n_participants"], r[f"{metric}_before"], r[key], r[f"{key}_low"],
                       r[f"{key}_high"], r["n_seeds"]] for r in rows]
        ax.plot([], [], linestyle=":", color=GREY, label="baseline (no campaign)")
        ax.set_xscale("log")
        ax.set_xlabel("participants (log scale)")
        ax.set_ylabel(metric.replace("_", " ") + " in the audience")
        n_seeds = sorted({int(r["n_seeds"]) for r in summary_rows})
        ax.set_title(title or f"{metric.replace('_', ' ')} vs collective size (mean, 95% interval over "
                     f"{n_seeds[-1]} seeds)", loc="left")
        ax.legend(loc="upper left", ncols=2 if len(lines) > 5 else 1)
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
        ax.legend(loc="upper left")
        save_figure(figure, png, svg)
    write_csv(csv_path, ["user_row", "utility_before", "utility_after", "participant", "audience"],
              [[i, before[i], after[i], bool(participants[i]), bool(audience[i])] for i in range(n)])
    return [png, svg, csv_path]
