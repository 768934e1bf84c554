"""Figures of the survey analysis: prevalence with Wilson intervals, by item and by breakdown (e.g. platform).

Each function draws from a :class:`~recollective.survey.SurveyAnalysis` that already exists and never re-reads
the responses. Like the game figures (:mod:`recollective.report.game_plots`) it writes ``<path_stem>.png``,
``<path_stem>.svg`` and ``<path_stem>.csv`` side by side (STYLE.md item 19); the CSV holds exactly the plotted
numbers (floats in Python's shortest round-trip repr, NaN as ``nan``). matplotlib is imported inside the
functions and drives the Agg canvas directly (no pyplot, no global state).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.report._figures import BLUE, GREY, ORANGE, STYLE, VERMILION, output_paths, save_figure, write_csv

if TYPE_CHECKING:
    from recollective.survey import Proportion, SurveyAnalysis

__all__ = ["ITEMS", "plot_prevalence", "plot_survey"]

#: The name of the figure of every yes/no item; the other names are the instrument's breakdowns.
ITEMS = "items"


def _entries(analysis: SurveyAnalysis, breakdown: str) -> tuple[list[Proportion], str, str | None]:
    """(proportions, title, highlighted key)."""
    if breakdown == ITEMS:
        return list(analysis.items.values()), "Prevalence by item", analysis.headline
    if breakdown not in analysis.breakdowns:
        known = ", ".join([ITEMS, *analysis.breakdowns])
        raise InvalidParameterError(f"breakdown must be one of {known}; got {breakdown!r}")
    result = analysis.breakdowns[breakdown]
    return list(result.proportions), result.title, None


def _errors(estimate: float, low: float, high: float) -> list[list[float]]:
    """Error-bar lengths below and above the estimate (never negative, whatever the rounding)."""
    return [[max(estimate - low, 0.0)], [max(high - estimate, 0.0)]]


def plot_prevalence(
    analysis: SurveyAnalysis, path_stem, breakdown: str = ITEMS, title: str | None = None
) -> list[Path]:
    """Prevalence with Wilson error bars, one row per yes/no item (``breakdown="items"``) or per option of a
    breakdown (``"platform"``, ``"interaction"``, ``"motive"`` for the packaged instrument).

    Each row shows the proportion as a dot and its Wilson interval as a horizontal bar, with ``count/n`` at the
    right edge; the headline item is drawn in vermilion. With post-stratification weights a second, hollow
    marker just below shows the weighted proportion and its Wilson interval (Kish effective size). Rows with no
    respondent in the denominator are labelled "n = 0" and have no marker.

    Parameters
    ----------
    analysis : SurveyAnalysis
        The output of :func:`recollective.survey.analyze`.
    path_stem : str or Path
        Where to write, without suffix (parents are created).
    breakdown : str
        ``"items"`` or the name of one of the instrument's breakdowns.
    title : str, optional
        Figure title (default: the breakdown's title and the number of respondents).

    Returns
    -------
    list of Path
        The PNG, SVG and CSV files. The CSV has one row per plotted row, top to bottom: ``key, label, count,
        n, prevalence, wilson_low, wilson_high`` and, with weights, ``weighted_prevalence,
        weighted_wilson_low, weighted_wilson_high, n_effective``.

    Raises
    ------
    InvalidParameterError
        For an unknown breakdown or a ``path_stem`` that names no file.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    entries, default_title, highlight = _entries(analysis, breakdown)
    png, svg, csv_path = output_paths(path_stem)
    weighted = analysis.weighting is not None
    header = ["key", "label", "count", "n", "prevalence", "wilson_low", "wilson_high"]
    if weighted:
        header += ["weighted_prevalence", "weighted_wilson_low", "weighted_wilson_high", "n_effective"]
    rows = []
    for entry in entries:
        row = [entry.key, entry.label, entry.count, entry.n, entry.prevalence, entry.wilson_low, entry.wilson_high]
        if weighted:
            w = entry.weighted
            row += [w.prevalence, w.wilson_low, w.wilson_high, w.n_effective]
        rows.append(row)
    write_csv(csv_path, header, rows)

    level = f"{100 * analysis.confidence:g}%"
    if title is None:
        title = f"{default_title} (n = {analysis.n_respondents})"
    n_rows = len(entries)
    y = np.arange(n_rows)[::-1].astype(np.float64)
    offset = 0.17 if weighted else 0.0
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(8.0, 1.3 + 0.42 * n_rows * (1.3 if weighted else 1.0)), layout="constrained")
        ax = figure.subplots()
        for position, entry in zip(y, entries, strict=True):
            colour = VERMILION if entry.key == highlight else BLUE
            if entry.n == 0:
                ax.text(0.01, position, "n = 0", va="center", color=GREY, fontsize=8.5)
                continue
            ax.errorbar(
                entry.prevalence,
                position + offset,
                xerr=_errors(entry.prevalence, entry.wilson_low, entry.wilson_high),
                fmt="o",
                color=colour,
                markersize=6.0,
                capsize=3.0,
                linewidth=1.6,
            )
            if weighted and entry.weighted.n_effective > 0:
                w = entry.weighted
                ax.errorbar(
                    w.prevalence,
                    position - offset,
                    xerr=_errors(w.prevalence, w.wilson_low, w.wilson_high),
                    fmt="o",
                    color=ORANGE,
                    markerfacecolor="white",
                    markersize=5.5,
                    capsize=2.5,
                    linewidth=1.2,
                )
            ax.text(
                1.01, position, f"{entry.count}/{entry.n}", transform=ax.get_yaxis_transform(), va="center",
                fontsize=8.5, color=GREY,
            )  # fmt: skip
        ax.set_yticks(y, [textwrap.fill(entry.label, 42) for entry in entries])
        ax.set_ylim(-0.7, n_rows - 0.3)
        ax.set_xlim(0.0, 1.0)
        ax.set_xticks(np.linspace(0.0, 1.0, 6))
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"proportion, with {level} Wilson interval (count / n at the right)")
        ax.set_title(title, loc="left")
        if weighted:
            ax.plot([], [], "o", color=BLUE, label="unweighted")
            ax.plot(
                [], [], "o", color=ORANGE, markerfacecolor="white", label=f"weighted by {analysis.weighting.question}"
            )
            ax.legend(loc="lower right")
        save_figure(figure, png, svg)
    return [png, svg, csv_path]


def plot_survey(analysis: SurveyAnalysis, directory) -> dict[str, list[Path]]:
    """Every survey figure into ``directory``: ``survey_items`` and ``survey_<breakdown>`` for each breakdown.

    Returns
    -------
    dict
        Figure name (``"items"``, ``"platform"``, ...) -> [PNG, SVG, CSV].
    """
    directory = Path(directory)
    names = [ITEMS, *analysis.breakdowns]
    return {name: plot_prevalence(analysis, directory / f"survey_{name}", name) for name in names}
