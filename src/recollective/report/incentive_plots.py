"""Figure of the incentive analysis: the critical mass against the cost per action, one line per altruism weight.

Draws from an existing :class:`~recollective.game.incentives.CriticalMassResult` and never recomputes the game.
Like :mod:`recollective.report.game_plots` it writes ``<path_stem>.png``, ``.svg`` and ``.csv`` side by side, the
CSV holding exactly the plotted numbers. matplotlib is imported inside the function (Agg canvas, no pyplot).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recollective.report._figures import GREY, STYLE, output_paths, save_figure, write_csv

if TYPE_CHECKING:
    from recollective.game.incentives import CriticalMassResult

__all__ = ["plot_critical_mass"]

# Okabe–Ito colours without grey, one per altruism weight (cycled when there are more).
_LINE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def plot_critical_mass(result: CriticalMassResult, path_stem, title: str | None = None) -> list[Path]:
    """Critical mass (collective size) against the cost per action c, one line per altruism weight lambda.

    Left panel: the prefix critical mass (the first k candidates join); right panel, when it was computed: the
    exact critical mass over all subsets. Grid points where no individually rational collective reaches the
    welfare gain are drawn as crosses on a "none" row above the largest possible size. Lines of different
    lambda are shifted vertically by up to +-0.18 so that equal sizes stay visible; the CSV holds the true sizes.

    Parameters
    ----------
    result : CriticalMassResult
        The output of :func:`recollective.game.incentives.critical_mass`.
    path_stem : str or Path
        Where to write, without suffix (parents are created).
    title : str, optional
        Figure title (default: the targets, the required gain and the number of candidates).

    Returns
    -------
    list of Path
        The PNG, SVG and CSV files. The CSV has one row per (altruism, cost), costs ascending within each
        altruism: ``altruism, cost, prefix_size, exact_size``; a size cell is empty where no collective
        qualifies (and ``exact_size`` is empty throughout when the exact search was not run).

    Raises
    ------
    InvalidParameterError
        When ``path_stem`` names no file.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    png, svg, csv_path = output_paths(path_stem)
    order = np.argsort(result.costs, kind="stable")
    costs = result.costs[order]
    prefix = result.prefix_size[:, order]
    exact = None if result.exact_size is None else result.exact_size[:, order]

    rows = []
    for i, altruism in enumerate(result.altruisms):
        for j, cost in enumerate(costs):
            prefix_cell = None if prefix[i, j] < 0 else int(prefix[i, j])
            exact_cell = None if exact is None or exact[i, j] < 0 else int(exact[i, j])
            rows.append([float(altruism), float(cost), prefix_cell, exact_cell])
    write_csv(csv_path, ["altruism", "cost", "prefix_size", "exact_size"], rows)

    n_candidates = int(result.order.size)
    none_row = n_candidates + 1
    if title is None:
        targets = ", ".join(str(int(t)) for t in result.targets[:6]) + (", ..." if result.targets.size > 6 else "")
        gain = "SW up" if result.welfare_gain == 0 else f"SW up by >= {result.welfare_gain:g}"
        title = f"Critical mass: target {targets}, {gain}, {n_candidates} candidates"

    panels = [("prefixes of the candidate list", prefix)]
    if exact is not None:
        panels.append(("exact: smallest subset", exact))
    n_lines = result.altruisms.size
    # Equal sizes would hide each other: shift line i by up to +-0.18 (the CSV keeps the true sizes).
    offsets = np.linspace(-0.18, 0.18, n_lines) if n_lines > 1 else np.zeros(1)
    step = max(1, math.ceil(n_candidates / 12))
    ticks = list(range(1, n_candidates + 1, step))

    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(5.2 * len(panels) + 1.0, 4.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(panels), sharey=True, squeeze=False)[0])
        for ax, (label, sizes_by_altruism) in zip(axes, panels, strict=True):
            for i, altruism in enumerate(result.altruisms):
                colour = _LINE_COLOURS[i % len(_LINE_COLOURS)]
                sizes = sizes_by_altruism[i]
                missing = sizes < 0
                shown = np.where(missing, np.nan, sizes.astype(np.float64)) + offsets[i]
                ax.plot(costs, shown, marker="o", markersize=5.0, color=colour, label=f"$\\lambda$ = {altruism:g}")
                if missing.any():
                    ax.plot(
                        costs[missing],
                        np.full(int(missing.sum()), none_row + offsets[i]),
                        linestyle="none",
                        marker="x",
                        markersize=6.0,
                        color=colour,
                    )
            ax.axhline(none_row - 0.5, color=GREY, linewidth=0.8, alpha=0.6)
            ax.set_yticks([*ticks, none_row], [*(str(t) for t in ticks), "none"])
            ax.set_ylim(0.5, none_row + 0.5)
            if costs.size == 1:
                ax.set_xlim(costs[0] - 0.5, costs[0] + 0.5)
            ax.set_xlabel("cost per strategic action $c$")
            ax.set_title(label, loc="left", fontsize=9.5)
        axes[0].set_ylabel("critical mass (members)")
        axes[-1].legend(loc="best", title="altruism weight")
        figure.suptitle(title, x=0.01, ha="left", fontsize=11)
        save_figure(figure, png, svg)
    return [png, svg, csv_path]
