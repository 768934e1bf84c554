"""Figure of a joint window of two collectives: the status of every cell of the (x1, x2) plane.

Draws from an existing :class:`~recollective.game.JointWindowResult` and never recomputes the game. Writes
``<path_stem>.png``, ``.svg`` and ``.csv`` (the plotted numbers, STYLE.md item 19). matplotlib is imported inside the
function and drives the Agg canvas directly (no pyplot).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from recollective.report._figures import BLUE, GREEN, GREY, ORANGE, STYLE, output_paths, save_figure, write_csv

if TYPE_CHECKING:
    from recollective.game import JointWindowResult

__all__ = ["plot_joint_window"]

# One colour per status code 0-3 (recollective.game.STATUS_NAMES).
_COLOURS = ("#eeeeee", ORANGE, "#9ecae1", GREEN)


def _label(collective, index: int) -> str:
    members = collective.members.tolist()
    targets = collective.targets.tolist()
    shown = ",".join(map(str, members[:4])) + (",…" if len(members) > 4 else "")
    return f"x{index + 1}: collective {index + 1} (users {shown} → items {','.join(map(str, targets[:4]))})"


def plot_joint_window(result: JointWindowResult, path_stem, title: str | None = None) -> list[Path]:
    """Heatmap of the joint window's cell statuses with the exact windows along lines and axes.

    Cells are coloured by status (not effective; effective but not Pareto; Pareto but outside the joint window;
    joint window). Cells whose status is certified are drawn solid, sampled cells (status at the centre only) are
    hatched, and cells where evaluated points disagreed (a boundary crosses them) are cross-hatched. Thick bars on
    the axes are the solo Pareto windows of each collective (x1 along the bottom, x2 along the left); thin black
    segments are the exact joint window along each computed line; a star marks the collectives' own values.

    Parameters
    ----------
    result : JointWindowResult
        The output of :func:`recollective.game.joint_window`.
    path_stem : str or Path
        Where to write, without suffix (parents are created).
    title : str, optional

    Returns
    -------
    list of Path
        The PNG, SVG and CSV files. The CSV has one row per drawn element: ``kind`` (``cell``, ``line_window``,
        ``solo_pareto_x1``, ``solo_pareto_x2``), ``x1_lo, x1_hi, x2_lo, x2_hi``, ``status`` (0-3, -1 for the
        solo windows), ``certified`` and ``mixed`` (cells only).
    """
    import matplotlib as mpl
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    from recollective.game import STATUS_NAMES

    png, svg, csv_path = output_paths(path_stem)
    edges, x_max = result.edges, result.x_max
    n = edges.size - 1
    rows = []
    for i in range(n):
        for j in range(n):
            rows.append(["cell", edges[i], edges[i + 1], edges[j], edges[j + 1], int(result.status[i, j]),
                         bool(result.certified[i, j]), bool(result.mixed[i, j])])
    for line in result.lines:
        for lo, hi in line.window_intervals:
            x1 = (lo, hi) if line.varying == 0 else (line.value, line.value)
            x2 = (line.value, line.value) if line.varying == 0 else (lo, hi)
            rows.append(["line_window", *x1, *x2, 3, None, None])
    for k, window in enumerate(result.solo_windows):
        for lo, hi in window.pareto_intervals:
            span = [lo, hi, 0.0, 0.0] if k == 0 else [0.0, 0.0, lo, hi]
            rows.append([f"solo_pareto_x{k + 1}", *span, -1, None, None])
    write_csv(csv_path, ["kind", "x1_lo", "x1_hi", "x2_lo", "x2_hi", "status", "certified", "mixed"], rows)

    with mpl.rc_context(STYLE | {"axes.grid": False, "hatch.linewidth": 0.5}):
        figure = Figure(figsize=(7.2, 6.4))
        ax = figure.add_subplot(1, 1, 1)
        cmap = ListedColormap(_COLOURS)
        ax.pcolormesh(edges, edges, result.status.T, cmap=cmap, norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5], 4),
                      linewidth=0)
        for i in range(n):
            for j in range(n):
                if result.certified[i, j]:
                    continue
                hatch = "xxx" if result.mixed[i, j] else "///"
                ax.add_patch(Rectangle((edges[i], edges[j]), edges[i + 1] - edges[i], edges[j + 1] - edges[j],
                                       fill=False, hatch=hatch, edgecolor=GREY, linewidth=0))
        for line in result.lines:
            for lo, hi in line.window_intervals:
                if line.varying == 0:
                    ax.plot([lo, hi], [line.value, line.value], color="black", linewidth=1.0)
                else:
                    ax.plot([line.value, line.value], [lo, hi], color="black", linewidth=1.0)
        offset = 0.012 * x_max
        for lo, hi in result.solo_windows[0].pareto_intervals:
            ax.plot([lo, hi], [-offset, -offset], color=BLUE, linewidth=5, solid_capstyle="butt", clip_on=False)
        for lo, hi in result.solo_windows[1].pareto_intervals:
            ax.plot([-offset, -offset], [lo, hi], color=BLUE, linewidth=5, solid_capstyle="butt", clip_on=False)
        x1, x2 = (min(c.uprating, x_max) for c in result.collectives)
        ax.plot([x1], [x2], marker="*", markersize=12, color="black", linestyle="none")
        ax.set_xlim(-2 * offset, x_max)
        ax.set_ylim(-2 * offset, x_max)
        ax.set_xlabel(_label(result.collectives[0], 0))
        ax.set_ylabel(_label(result.collectives[1], 1))
        counts = result.counts()
        handles = [
            Patch(facecolor=_COLOURS[code], edgecolor=GREY, linewidth=0.5,
                  label=f"{name} ({counts[name]['certified']} certified, {counts[name]['sampled']} sampled)")
            for code, name in enumerate(STATUS_NAMES)
        ]
        handles += [
            Patch(facecolor="white", edgecolor=GREY, hatch="///", label="sampled cell (status at its centre)"),
            Patch(facecolor="white", edgecolor=GREY, hatch="xxx", label="boundary crosses the cell"),
            mpl.lines.Line2D([], [], color=BLUE, linewidth=5, label="solo Pareto window (axes)"),
            mpl.lines.Line2D([], [], color="black", linewidth=1, label="exact joint window along a line"),
            mpl.lines.Line2D([], [], color="black", marker="*", linestyle="none", markersize=10,
                             label=f"given point ({x1:g}, {x2:g}): {STATUS_NAMES[result.at.code]}"),
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        ax.set_title(title or f"joint window of two collectives, x in [0, {x_max:g}]^2")
        figure.set_size_inches(11.5, 6.4)
        figure.subplots_adjust(left=0.08, right=0.56, bottom=0.1, top=0.93)
        save_figure(figure, png, svg)
    return [png, svg, csv_path]
