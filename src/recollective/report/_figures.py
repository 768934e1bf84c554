"""Shared figure plumbing of the report package: palette, line styles, style, output paths, CSV cells, saving.

Every figure is written as ``<stem>.png``, ``<stem>.svg`` and ``<stem>.csv`` (the plotted numbers, STYLE.md item
19). Floats in the CSV use Python's shortest round-trip repr; booleans are 0 / 1; ``None`` and ``""`` are empty.
matplotlib is imported inside the functions that draw, which drive the Agg canvas directly (no pyplot).

Figures are :data:`WIDTH` inches wide at :data:`DPI` and the report shows them at most :data:`DISPLAY_PX` pixels
wide, so the smallest text (:data:`STYLE`, at least 8 pt) stays above 10 CSS pixels on the page.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recollective.errors import InvalidParameterError

__all__ = [
    "BLACK",
    "BLUE",
    "DISPLAY_PX",
    "DPI",
    "GREEN",
    "GREY",
    "MODEL_COLOURS",
    "ORANGE",
    "PALETTE",
    "PURPLE",
    "SKY",
    "STYLE",
    "VERMILION",
    "WIDTH",
    "csv_cell",
    "line_style",
    "output_paths",
    "participant_axis",
    "save_figure",
    "write_csv",
]

# Okabe–Ito colour-blind-safe palette.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, GREY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#555555",
)
SKY, BLACK = "#56B4E9", "#000000"
# The order in which figures colour their lines, bars or groups.
PALETTE = (BLUE, VERMILION, GREEN, PURPLE, ORANGE, GREY)
#: One colour per model (Okabe–Ito without yellow, which is unreadable on white; the first five far apart); see
#: :func:`line_style`.
MODEL_COLOURS = (BLUE, VERMILION, GREEN, PURPLE, SKY, ORANGE, BLACK)
# Line styles and markers per variant (participant policy and position); ":" is kept for "before" lines.
_LINESTYLES = ("-", "--", "-.", (0, (6, 1.5, 1, 1.5, 1, 1.5)))
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "svg.hashsalt": "recollective",  # deterministic SVG ids
}
DPI = 150
#: Width of the report's figures in inches (1200 pixels at :data:`DPI`).
WIDTH = 8.0
#: The widest an image is shown in the HTML report (CSS pixels).
DISPLAY_PX = 900


def line_style(model_index: int, variant_index: int) -> dict:
    """Colour, line style and marker of the line of the ``model_index``-th model and ``variant_index``-th variant.

    Colour follows the model, line style the variant, and the marker both, so that no two lines of a figure look
    alike: the triple is distinct for up to 56 models (7 colours x 8 markers) and 4 variants.
    """
    colours = len(MODEL_COLOURS)
    return {"color": MODEL_COLOURS[model_index % colours],
            "linestyle": _LINESTYLES[variant_index % len(_LINESTYLES)],
            "marker": _MARKERS[(model_index // colours + variant_index) % len(_MARKERS)]}


def participant_axis(ax, counts) -> None:
    """A log-scaled x axis of participant counts with plain integer tick labels (20, 50, 100; never 2×10¹).

    Ticks sit at the counts themselves when there are at most eight that are at least 15% apart, else at 1, 2
    and 5 times powers of ten.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

    values = np.unique(np.asarray([c for c in counts if np.isfinite(c) and c > 0], dtype=float))
    ax.set_xscale("log")
    if values.size == 0:
        return
    if values.size <= 8 and (values.size == 1 or np.min(values[1:] / values[:-1]) >= 1.15):
        ax.xaxis.set_major_locator(FixedLocator(values))
    else:
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    low, high = float(values[0]), float(values[-1])
    ax.set_xlim(low / 1.25, high * 1.25)


def output_paths(path_stem) -> tuple[Path, Path, Path]:
    stem = Path(path_stem)
    if stem.name in ("", ".", ".."):
        raise InvalidParameterError(f"path_stem must name a file stem such as 'out/window'; got {str(path_stem)!r}")
    stem.parent.mkdir(parents=True, exist_ok=True)
    return tuple(stem.with_name(stem.name + suffix) for suffix in (".png", ".svg", ".csv"))


def csv_cell(value) -> str:
    if value is None or (isinstance(value, str) and value == ""):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return repr(float(value))  # shortest round-trip repr; nan / inf spelled as Python does


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([csv_cell(value) for value in row] for row in rows)


def save_figure(figure, png: Path, svg: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    figure.savefig(png, dpi=DPI, metadata={"Software": "recollective"})
    figure.savefig(svg, metadata={"Date": None, "Creator": "recollective"})
