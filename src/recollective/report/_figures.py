"""Shared figure plumbing of the report package: palette, style, output paths, CSV cells, saving.

Every figure is written as ``<stem>.png``, ``<stem>.svg`` and ``<stem>.csv`` (the plotted numbers, STYLE.md item
19). Floats in the CSV use Python's shortest round-trip repr; booleans are 0 / 1; ``None`` and ``""`` are empty.
matplotlib is imported inside :func:`save_figure`, which drives the Agg canvas directly (no pyplot).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recollective.errors import InvalidParameterError

__all__ = [
    "BLUE",
    "DPI",
    "GREEN",
    "GREY",
    "ORANGE",
    "PALETTE",
    "PURPLE",
    "STYLE",
    "VERMILION",
    "csv_cell",
    "output_paths",
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
# The order in which figures colour their lines, bars or groups.
PALETTE = (BLUE, VERMILION, GREEN, PURPLE, ORANGE, GREY)
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "svg.hashsalt": "recollective",  # deterministic SVG ids
}
DPI = 150


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
