"""Figures for the one-shot game: effective windows and singular-value spectra.

Each function draws from results that already exist (a :class:`~recollective.game.WindowResult`, two
:class:`~recollective.game.Outcome` objects) and never recomputes the game. It writes three files next to each
other (STYLE.md item 19): ``<path_stem>.png``, ``<path_stem>.svg`` and ``<path_stem>.csv``, the last holding
exactly the numbers the figure plots. Floats in the CSV are written with Python's shortest round-trip repr, so
reading them back gives the same doubles; booleans are written as 0 / 1.

matplotlib is imported inside the functions and drives the Agg canvas directly (no pyplot, no global figure
state), so ``import recollective`` stays fast and the functions work on machines without a display.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_alpha
from recollective.report import _figures as fig
from recollective.report._figures import STYLE, output_paths, save_figure, write_csv

if TYPE_CHECKING:
    from recollective.game import Outcome, WindowResult

__all__ = ["plot_spectrum", "plot_window"]


def _groups(result: WindowResult, user_group) -> list[tuple[str, str, np.ndarray]]:
    """(column name, legend label, boolean mask over users) for the utility panel."""
    n_users = result.baseline.n_users
    members = np.zeros(n_users, dtype=bool)
    members[result.members] = True
    if user_group is None:
        return [("all_users", "all users", np.ones(n_users, dtype=bool)), ("members", "collective members", members)]
    labels = np.asarray(user_group)
    if labels.shape != (n_users,):
        raise InvalidParameterError(
            f"user_group must hold one label per user, shape ({n_users},); got shape {labels.shape}"
        )
    if not np.isin(labels, (0, 1)).all():
        raise InvalidParameterError("user_group labels must be 0 (majority) or 1 (minority)")
    groups = [
        ("majority_non_members", "majority (non-members)", (labels == 0) & ~members),
        ("minority", "minority", labels == 1),
        ("members", "collective members", members),
    ]
    return [group for group in groups if group[2].any()]


def _shade(ax, intervals, colour, opacity, label):
    for index, (lo, hi) in enumerate(intervals):
        ax.axvspan(lo, hi, color=colour, alpha=opacity, linewidth=0, label=label if index == 0 else None)


def plot_window(result: WindowResult, path_stem, user_group=None, title: str | None = None) -> list[Path]:
    """Social welfare and per-group utility against the uprating value x, with the windows shaded.

    Top panel: SW(x) as a step function over ``result.pieces``, the truthful SW as a dashed line, the effective
    window (SW strictly up) shaded lightly and the Pareto window (nobody worse off, somebody better off) shaded
    strongly. Bottom panel: mean utility w_u of each user group against x (dashed: truthful play).

    Parameters
    ----------
    result : WindowResult
        The output of :func:`recollective.game.effective_window`.
    path_stem : str or Path
        Where to write, without suffix: ``<path_stem>.png``, ``.svg`` and ``.csv`` (parents are created).
    user_group : array-like of shape (n_users,) of {0, 1}, optional
        0 = majority, 1 = minority (``GameInstance.user_group``). When given, the utility panel shows the
        majority users outside the collective, the minority users and the members (``result.members``);
        otherwise all users and the members.
    title : str, optional
        Figure title (default: the collective's size, the targets and x_max).

    Returns
    -------
    list of Path
        The PNG, SVG and CSV files, in that order. The CSV has one row per piece: ``lo, hi, k_star,
        social_welfare, welfare_change, n_better, n_worse, is_effective, is_pareto_effective``, then
        ``truthful_social_welfare`` and, per group, ``mean_utility_<group>`` and ``truthful_mean_utility_<group>``.

    Raises
    ------
    InvalidParameterError
        When ``user_group`` does not hold one 0/1 label per user or ``path_stem`` names no file.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    png, svg, csv_path = output_paths(path_stem)
    groups = _groups(result, user_group)
    pieces = result.pieces
    edges = np.array([pieces[0].lo] + [piece.hi for piece in pieces])
    welfare = np.array([piece.social_welfare for piece in pieces])
    truthful_welfare = result.baseline.social_welfare
    means = {name: np.array([piece.utilities[mask].mean() for piece in pieces]) for name, _, mask in groups}
    truthful_means = {name: float(result.baseline.utilities[mask].mean()) for name, _, mask in groups}

    header = [
        "lo",
        "hi",
        "k_star",
        "social_welfare",
        "welfare_change",
        "n_better",
        "n_worse",
        "is_effective",
        "is_pareto_effective",
        "truthful_social_welfare",
    ]
    for name, _, _ in groups:
        header += [f"mean_utility_{name}", f"truthful_mean_utility_{name}"]
    rows = []
    for index, piece in enumerate(pieces):
        row = [
            piece.lo,
            piece.hi,
            piece.rank,
            piece.social_welfare,
            piece.welfare_change,
            piece.n_better,
            piece.n_worse,
            piece.is_effective,
            piece.is_pareto_effective,
            truthful_welfare,
        ]
        for name, _, _ in groups:
            row += [means[name][index], truthful_means[name]]
        rows.append(row)
    write_csv(csv_path, header, rows)

    if title is None:
        targets = ", ".join(str(int(t)) for t in result.targets[:6]) + (", ..." if result.targets.size > 6 else "")
        n_members = result.members.size
        title = (
            f"Effective window: {n_members} member{'s uprate' if n_members > 1 else ' uprates'} "
            f"item{'s' if result.targets.size > 1 else ''} {targets} by $x$ in [0, {result.x_max:g}]"
        )
    colours = {
        "all_users": fig.GREY, "majority_non_members": fig.BLUE, "minority": fig.VERMILION, "members": fig.PURPLE
    }

    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(8.0, 6.4), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(1.15, 1.0))
        for ax in (top, bottom):
            _shade(ax, result.effective_intervals, fig.GREEN, 0.12, "effective (SW up)" if ax is top else None)
            _shade(ax, result.pareto_intervals, fig.GREEN, 0.32, "Pareto-effective" if ax is top else None)
            ax.set_xlim(edges[0], edges[-1])

        top.axhline(truthful_welfare, color=fig.GREY, linestyle="--", linewidth=1.2, label="truthful SW")
        top.stairs(welfare, edges, baseline=None, color="black", linewidth=1.8, label="SW under the strategy")
        span = max(float(welfare.max()), truthful_welfare) - min(float(welfare.min()), truthful_welfare)
        pad = 0.08 * span if span > 0 else max(1.0, abs(truthful_welfare)) * 0.01
        top.set_ylim(
            min(float(welfare.min()), truthful_welfare) - pad, max(float(welfare.max()), truthful_welfare) + pad
        )
        top.set_ylabel("social welfare SW")
        top.set_title(title, loc="left")
        top.tick_params(labelbottom=False)

        for name, label, _ in groups:
            colour = colours[name]
            bottom.stairs(means[name], edges, baseline=None, color=colour, linewidth=1.8, label=label)
            bottom.axhline(truthful_means[name], color=colour, linestyle="--", linewidth=1.0, alpha=0.8)
        bottom.plot([], [], color=fig.GREY, linestyle="--", linewidth=1.0, label="truthful (same colour)")
        bottom.set_ylabel(r"mean utility $w_u$ per group")
        bottom.set_xlabel(r"uprating value $x$ (reported by every member on every target)")
        handles = [handle for ax in (top, bottom) for handle in ax.get_legend_handles_labels()[0]]
        figure.legend(handles=handles, loc="outside lower center", ncols=3)  # below the panels, off the data

        save_figure(figure, png, svg)
    return [png, svg, csv_path]


def _log_ticks_above(ax, lowest: float, highest: float) -> None:
    """Log-axis ticks only within [lowest, highest], so that no tick crowds the strip of numerical zeros.

    Up to four decades the ticks are 1, 2 and 5 times powers of ten written as plain numbers; beyond that,
    powers of ten in matplotlib's notation.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    def within(values):
        return [float(v) for v in values if lowest <= v <= highest]

    if math.log10(highest / lowest) <= 4:
        major = within(LogLocator(subs=(1.0, 2.0, 5.0)).tick_values(lowest, highest))
        minor = within(LogLocator(subs=(3.0, 4.0, 6.0, 7.0, 8.0, 9.0)).tick_values(lowest, highest))
        formatter = FuncFormatter(lambda value, _: f"{value:g}")
    else:
        major = within(LogLocator().tick_values(lowest, highest))
        minor = within(LogLocator(subs=np.arange(2, 10)).tick_values(lowest, highest))
        formatter = None
    if len(major) < 2:  # too narrow a range: keep matplotlib's choice
        return
    ax.yaxis.set_major_locator(FixedLocator(major))
    ax.yaxis.set_minor_locator(FixedLocator(minor))
    ax.yaxis.set_minor_formatter(NullFormatter())
    if formatter is not None:
        ax.yaxis.set_major_formatter(formatter)


def plot_spectrum(
    truthful: Outcome,
    strategic: Outcome,
    alpha: float,
    path_stem,
    title: str | None = None,
    *,
    n_values: int | None = None,
) -> list[Path]:
    """Singular values of the truthful and the strategic R~, with the learner's threshold alpha.

    Singular values s_j are plotted against their index j (1-based): circles for truthful play, diamonds for
    the strategy; filled markers are the k* directions the learner keeps, hollow markers the ones it drops. The
    y axis is logarithmic when the values that are not numerically zero (above ``max(n_users, n_items) * eps *
    s_1``, numpy's rank tolerance) and alpha span more than a factor of 20; numerically zero values are then
    drawn on the bottom edge (their exact values are in the CSV).

    Parameters
    ----------
    truthful, strategic : Outcome
        Outcomes of the same game (same shape) under truthful and strategic play.
    alpha : float
        The absolute threshold alpha, drawn as a horizontal line.
    path_stem : str or Path
        Where to write, without suffix: ``<path_stem>.png``, ``.svg`` and ``.csv``.
    title : str, optional
    n_values : int, optional
        Plot (and tabulate) the first ``n_values`` singular values. By default every value up to the last one
        that is numerically non-zero in either spectrum, plus three, so that a long tail of zeros does not
        swamp the figure; pass the full length to see them all.

    Returns
    -------
    list of Path
        PNG, SVG and CSV. The CSV has one row per plotted index: ``index, truthful, strategic, truthful_kept,
        strategic_kept, alpha``.

    Raises
    ------
    InvalidParameterError
        When the outcomes have different numbers of singular values, alpha is not a finite number >= 0,
        or ``n_values`` < 1.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    s_true = np.asarray(truthful.singular_values, dtype=np.float64)
    s_strat = np.asarray(strategic.singular_values, dtype=np.float64)
    if s_true.shape != s_strat.shape or s_true.size == 0:
        raise InvalidParameterError(
            f"truthful and strategic outcomes must come from the same game: {s_true.size} and {s_strat.size} "
            "singular values"
        )
    alpha = check_alpha(alpha)
    if n_values is not None and (
        isinstance(n_values, bool) or not isinstance(n_values, int | np.integer) or n_values < 1
    ):
        raise InvalidParameterError(f"n_values must be an integer >= 1; got {n_values!r}")

    s_max = float(max(s_true.max(), s_strat.max()))
    floor = max(truthful.R_hat.shape) * np.finfo(np.float64).eps * s_max
    nonzero = (s_true > floor) | (s_strat > floor)
    if n_values is None:
        last = int(np.flatnonzero(nonzero)[-1]) + 1 if nonzero.any() else 0
        n_values = max(last + 3, truthful.rank + 1, strategic.rank + 1)
    s_true, s_strat = s_true[:n_values], s_strat[:n_values]
    png, svg, csv_path = output_paths(path_stem)
    index = np.arange(1, s_true.size + 1)
    kept_true = index <= truthful.rank
    kept_strat = index <= strategic.rank

    write_csv(
        csv_path,
        ["index", "truthful", "strategic", "truthful_kept", "strategic_kept", "alpha"],
        [
            [int(j), s_true[j - 1], s_strat[j - 1], bool(kept_true[j - 1]), bool(kept_strat[j - 1]), alpha]
            for j in index
        ],
    )

    values = np.concatenate([s_true, s_strat])
    visible = np.concatenate([values[values > floor], [alpha] if alpha > 0 else []])
    log_scale = visible.size > 0 and visible.max() / visible.min() > 20.0
    has_zeros = bool((values <= floor).any())
    if log_scale:
        # A strip along the bottom (8% of the axis height) holds the numerically zero values.
        low, y_top = visible.min() / 1.5, visible.max() * 1.5
        decades = math.log10(y_top / low)
        y_bottom = low / 10 ** (0.09 * decades) if has_zeros else low
        strip_top = y_bottom * 10 ** (0.08 * decades)
        zero_at = y_bottom * 10 ** (0.04 * decades)
        tick_floor = strip_top * 10 ** (0.03 * decades) if has_zeros else y_bottom
    if title is None:
        title = (
            rf"Singular values of $\tilde R$: truthful $k^*$ = {truthful.rank}, "
            rf"strategic $k^*$ = {strategic.rank}"
        )
    small = s_true.size > 40
    series = (
        (s_true, kept_true, fig.BLUE, "o", 9.0 if not small else 5.0, "truthful", truthful.rank),
        (s_strat, kept_strat, fig.ORANGE, "D", 5.0 if not small else 3.0, "strategic", strategic.rank),
    )

    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(7.6, 4.6), layout="constrained")
        ax = figure.subplots()
        ax.axhline(alpha, color=fig.VERMILION, linestyle="--", linewidth=1.3, zorder=1)
        for values_, kept, colour, marker, size, label, rank in series:
            shown = values_.copy()
            if log_scale:
                shown[values_ <= floor] = zero_at
            ax.plot(index, shown, color=colour, linewidth=0.9, alpha=0.55, zorder=2)
            common = {"linestyle": "none", "marker": marker, "markersize": size, "zorder": 3}
            ax.plot(index[kept], shown[kept], color=colour, label=f"{label}: kept ($k^*$ = {rank})", **common)
            ax.plot(
                index[~kept],
                shown[~kept],
                markerfacecolor="white",
                markeredgecolor=colour,
                markeredgewidth=1.2,
                label=f"{label}: dropped",
                **common,
            )
        ax.plot(
            [],
            [],
            color=fig.VERMILION,
            linestyle="--",
            linewidth=1.3,
            label=rf"$\alpha$ = {alpha:.4g} (keep $s_j > \alpha$)",
        )
        if log_scale:
            ax.set_yscale("log")
            ax.set_ylim(y_bottom, y_top)
            _log_ticks_above(ax, tick_floor, y_top)
            if has_zeros:
                ax.axhspan(
                    y_bottom,
                    strip_top,
                    color=fig.GREY,
                    alpha=0.12,
                    linewidth=0,
                    zorder=0,
                    label=f"numerically zero (< {floor:.1e})",
                )
                ax.text(
                    -0.01,
                    zero_at,
                    "≈ 0",
                    transform=ax.get_yaxis_transform(),
                    ha="right",
                    va="center",
                    color=fig.GREY,
                )
        else:
            ax.set_ylim(bottom=0.0)
        ax.set_xlim(0.3, s_true.size + 0.7)
        if s_true.size <= 30:
            ax.set_xticks(index)
        ax.set_xlabel("index $j$")
        ax.set_ylabel("singular value $s_j$" + ("  (log scale)" if log_scale else ""))
        ax.set_title(title, loc="left")
        figure.legend(loc="outside lower center", ncols=3)  # below the axes, off the data
        save_figure(figure, png, svg)
    return [png, svg, csv_path]
