"""Figures for the online game: welfare per round, one line per run label, with 95% intervals.

:func:`plot_online` draws from :class:`~recollective.game.online.OnlineSummary` objects that already exist and
never re-plays the game. Like the one-shot figures (:mod:`recollective.report.game_plots`) it writes
``<path_stem>.png``, ``<path_stem>.svg`` and ``<path_stem>.csv`` side by side (STYLE.md item 19); the CSV holds
exactly the plotted numbers, floats in Python's shortest round-trip repr (NaN as ``nan``).

matplotlib is imported inside the function and drives the Agg canvas directly (no pyplot, no global state).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.report._figures import GREY, PALETTE, STYLE, output_paths, save_figure, write_csv

if TYPE_CHECKING:
    from recollective.game.online import OnlineSummary

__all__ = ["PLOTTED_SERIES", "plot_online"]

#: (series name in ``OnlineSummary.series``, panel y-label), top panel first.
PLOTTED_SERIES = (
    ("welfare", "welfare per round\n(sum of served utility)"),
    ("minority_welfare", "minority welfare per round\n(sum over minority users)"),
)
_COLOURS = PALETTE
# Runs that share their random draws (truthful and collective play with the same seeds) coincide wherever the
# collective has not acted yet: later labels are drawn thinner and dashed on top of earlier ones, so both show.
_LINES = (("-", 2.4), ((0, (5, 2.5)), 1.5), ((0, (1.5, 1.5)), 1.5), ((0, (6, 2, 1.5, 2)), 1.5))


def _check_summaries(summaries) -> tuple[list[str], int]:
    """Labels in order and the common number of rounds; raise naming what is wrong."""
    if not isinstance(summaries, Mapping) or not summaries:
        raise InvalidParameterError(
            "summaries must be a non-empty dict of label -> OnlineSummary, e.g. {'truthful': ..., 'collective': ...}"
        )
    labels = []
    n_rounds = None
    for label, summary in summaries.items():
        if not isinstance(label, str) or not label.strip():
            raise InvalidParameterError(f"summaries: every label must be a non-empty string; got {label!r}")
        series = getattr(summary, "series", None)
        if not isinstance(series, Mapping):
            raise InvalidParameterError(
                f"summaries[{label!r}] must be an OnlineSummary (from run_online); got {type(summary).__name__}"
            )
        for name, _ in PLOTTED_SERIES:
            if name not in series:
                raise InvalidParameterError(f"summaries[{label!r}] has no {name!r} series")
            length = np.asarray(series[name].mean).shape
            if len(length) != 1 or length[0] == 0:
                raise InvalidParameterError(
                    f"summaries[{label!r}].series[{name!r}] must hold one value per round; got shape {length}"
                )
            if n_rounds is None:
                n_rounds = length[0]
            elif length[0] != n_rounds:
                raise InvalidParameterError(
                    f"summaries must all cover the same rounds: summaries[{label!r}].series[{name!r}] has "
                    f"{length[0]} rounds, others {n_rounds}"
                )
        labels.append(label)
    return labels, int(n_rounds)


def plot_online(
    summaries: dict[str, OnlineSummary],
    path_stem,
    explore_rounds: int,
    title: str | None = None,
) -> list[Path]:
    """Welfare and minority welfare per round, one line per label, each with its 95% interval as a band.

    Two panels share the round axis t = 1..T: the welfare of what was served in each round (top) and the
    minority's share of it (bottom). Each label's line is the mean over its seeds and the band its 95%
    Student-t interval (``SeriesSummary.low`` to ``.high``); no band is drawn for rounds where the half-width
    is NaN (a single seed). The exploration rounds 1..E are shaded; the learner commits after round E.

    Parameters
    ----------
    summaries : dict of str to OnlineSummary
        Runs to compare, keyed by their legend label (e.g. ``{"truthful": ..., "collective": ...}``), all with
        the same number of rounds. Lines are drawn in the dict's order.
    path_stem : str or Path
        Where to write, without suffix: ``<path_stem>.png``, ``.svg`` and ``.csv`` (parents are created).
    explore_rounds : int
        E, the number of exploration rounds (0 <= E <= T; 0 shades nothing).
    title : str, optional
        Figure title (default: what is plotted and the seed counts).

    Returns
    -------
    list of Path
        The PNG, SVG and CSV files, in that order. The CSV has one row per round: ``round`` (1-based),
        ``exploring`` (1 during exploration) and, for every plotted series (``welfare``, ``minority_welfare``)
        and label, ``<series>_mean_<label>``, ``<series>_ci95_low_<label>`` and ``<series>_ci95_high_<label>``.

    Raises
    ------
    InvalidParameterError
        When ``summaries`` is empty, holds something other than summaries, or their rounds differ; when
        ``explore_rounds`` is not an integer in [0, T]; or when ``path_stem`` names no file.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    labels, n_rounds = _check_summaries(summaries)
    if (
        isinstance(explore_rounds, bool)
        or not isinstance(explore_rounds, int | np.integer)
        or not 0 <= explore_rounds <= n_rounds
    ):
        raise InvalidParameterError(
            f"explore_rounds must be an integer in [0, {n_rounds}] (the summaries' rounds); got {explore_rounds!r}"
        )
    explore_rounds = int(explore_rounds)
    png, svg, csv_path = output_paths(path_stem)
    rounds = np.arange(1, n_rounds + 1)

    header = ["round", "exploring"]
    columns = []
    for name, _ in PLOTTED_SERIES:
        for label in labels:
            summary = summaries[label].series[name]
            header += [f"{name}_mean_{label}", f"{name}_ci95_low_{label}", f"{name}_ci95_high_{label}"]
            columns += [np.asarray(summary.mean), np.asarray(summary.low), np.asarray(summary.high)]
    rows = [[int(t), bool(t <= explore_rounds), *(float(column[t - 1]) for column in columns)] for t in rounds]
    write_csv(csv_path, header, rows)

    seed_counts = {label: len(getattr(summaries[label], "runs", ())) for label in labels}
    if title is None:
        counts = sorted(set(seed_counts.values()))
        seeds = f"{counts[0]} seeds" if len(counts) == 1 else "seeds per label in the legend"
        title = f"Online game: welfare per round, mean and 95% interval ({seeds}); explore {explore_rounds} rounds"
    show_counts = len(set(seed_counts.values())) > 1

    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(8.0, 6.4), layout="constrained")
        axes = figure.subplots(2, 1, sharex=True)
        for panel, (ax, (name, ylabel)) in enumerate(zip(axes, PLOTTED_SERIES, strict=True)):
            if explore_rounds:
                ax.axvspan(
                    0.5,
                    explore_rounds + 0.5,
                    color=GREY,
                    alpha=0.13,
                    linewidth=0,
                    label=f"exploration (rounds 1–{explore_rounds})" if panel == 0 else None,
                )
            for index, label in enumerate(labels):
                colour = _COLOURS[index % len(_COLOURS)]
                summary = summaries[label].series[name]
                mean = np.asarray(summary.mean, dtype=np.float64)
                low = np.asarray(summary.low, dtype=np.float64)
                high = np.asarray(summary.high, dtype=np.float64)
                band = np.isfinite(low) & np.isfinite(high)
                if band.any():
                    ax.fill_between(rounds, low, high, where=band, color=colour, alpha=0.22, linewidth=0)
                linestyle, linewidth = _LINES[index % len(_LINES)]
                legend = f"{label} ({seed_counts[label]} seeds)" if show_counts else label
                ax.plot(
                    rounds,
                    mean,
                    color=colour,
                    linestyle=linestyle,
                    linewidth=linewidth,
                    label=legend if panel == 0 else None,
                    zorder=3 + index,
                )
            ax.set_ylabel(ylabel)
            ax.set_xlim(0.5, n_rounds + 0.5)
        axes[0].plot([], [], color=GREY, alpha=0.35, linewidth=6, label="95% interval (band)")
        axes[0].set_title(title, loc="left")
        handles, legend_labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, legend_labels, loc="outside lower center", ncols=min(len(handles), 4))
        axes[0].tick_params(labelbottom=False)
        axes[1].set_xlabel("round $t$")
        save_figure(figure, png, svg)
    return [png, svg, csv_path]
