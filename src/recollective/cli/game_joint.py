"""``recollective game joint`` and ``game joint-window``: several collectives acting at once in the one-shot game.

Registered in :mod:`recollective.cli.game` (``game_app.command("joint")(joint)`` and ``("joint-window")``). Thin:
parse ``--collective MEMBERS:TARGETS:X``, call :func:`recollective.game.joint_outcome` or
:func:`recollective.game.joint_window`, render (one JSON document with ``--json``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._options import JsonOpt
from recollective.cli._output import console, emit_json, handles_errors, parse_index_list, short_indices
from recollective.errors import InvalidParameterError, quoted

__all__ = ["joint", "joint_window_command", "parse_collective_spec"]

InstanceArg = Annotated[Path, typer.Argument(help="Instance file (.npz with R_true, alpha).")]
CollectiveOpt = Annotated[
    list[str],
    typer.Option(
        "--collective",
        help="One collective as MEMBERS:TARGETS:X, e.g. 0-4:60:1.5 or 0,2:60,61:2 (repeat for each collective).",
    ),
]
AlphaOpt = Annotated[float | None, typer.Option("--alpha", help="Override the file's alpha.")]


def parse_collective_spec(text: str, *, need_x: bool = True):
    """``MEMBERS:TARGETS:X`` (``:X`` optional when ``need_x`` is False, then x = 0) as a CollectiveStrategy."""
    from recollective.game import CollectiveStrategy

    parts = text.split(":")
    if len(parts) != 3 and (need_x or len(parts) != 2):
        form = "MEMBERS:TARGETS:X" if need_x else "MEMBERS:TARGETS[:X]"
        raise InvalidParameterError(
            f"--collective {quoted(text)} is not {form}; give e.g. 0-4:60:1.5 (members 0..4 uprate item 60 to 1.5)"
        )
    members = parse_index_list(parts[0], f"--collective {quoted(text)}: MEMBERS")
    targets = parse_index_list(parts[1], f"--collective {quoted(text)}: TARGETS")
    x = 0.0
    if len(parts) == 3:
        try:
            x = float(parts[2])
        except ValueError:
            x = math.nan
        if not math.isfinite(x) or x < 0:
            raise InvalidParameterError(
                f"--collective {quoted(text)}: X must be a finite uprating value >= 0; got {quoted(parts[2])}"
            )
    return CollectiveStrategy(members, targets, x)


def _fmt(value) -> str:
    return f"{value:.6g}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@handles_errors
def joint(
    instance_path: InstanceArg,
    collective: CollectiveOpt,
    alpha: AlphaOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate several collectives acting at once: the joint outcome and each collective's part in it."""
    from recollective.game import joint_outcome, load_instance

    instance = load_instance(instance_path, alpha)
    collectives = [parse_collective_spec(spec) for spec in collective]
    report = joint_outcome(instance.R_true, collectives, instance.alpha)
    document = report.as_dict()
    document.update({"path": str(instance_path), "alpha": instance.alpha})
    if json_out:
        emit_json(document)
        return
    console.print(
        f"{instance_path}: {instance.shape[0]} users x {instance.shape[1]} items, alpha = {_fmt(instance.alpha)}; "
        f"{len(collectives)} collective(s), {report.overlap_cells} shared cell(s) (they take the larger value)"
    )
    console.print(
        f"truthful: k* = {report.truthful.rank}, social welfare = {_fmt(report.truthful.social_welfare)}; "
        f"joint: k* = {report.outcome.rank}, social welfare = {_fmt(report.outcome.social_welfare)} "
        f"(change {_fmt(report.comparison.welfare_change)}, {report.comparison.n_better} better, "
        f"{report.comparison.n_worse} worse); effective: {_yes(report.comparison.is_effective)}, "
        f"Pareto: {_yes(report.comparison.is_pareto_effective)}"
    )
    table = Table("collective", "members", "targets", "x", "alone: SW", "alone: effective", "alone: Pareto",
                  "joint - alone", "its part: SW change", "its part: effective")
    for index, effect in enumerate(report.collectives):
        strategy = effect.strategy
        table.add_row(
            str(index + 1), short_indices(strategy.members), short_indices(strategy.targets),
            _fmt(strategy.uprating) if isinstance(strategy.uprating, float) else "matrix",
            _fmt(effect.solo.social_welfare), _yes(effect.solo_comparison.is_effective),
            _yes(effect.solo_comparison.is_pareto_effective), _fmt(effect.versus_solo.welfare_change),
            _fmt(effect.marginal.welfare_change), _yes(effect.marginal.is_effective),
        )
    console.print(table)
    console.print(
        f"interaction effect on welfare (joint gain - sum of solo gains): {_fmt(report.interaction_effect)}"
    )


def _intervals(intervals) -> str:
    return ", ".join(f"[{_fmt(lo)}, {_fmt(hi)}]" for lo, hi in intervals) or "none"


@handles_errors
def joint_window_command(
    instance_path: InstanceArg,
    collective: Annotated[
        list[str],
        typer.Option("--collective", help="MEMBERS:TARGETS[:X], exactly twice; X marks a point (default 0)."),
    ],
    x_max: Annotated[float, typer.Option("--x-max", help="Both uprating values range over [0, x-max].")] = 10.0,
    n_cells: Annotated[int, typer.Option("--n-cells", help="Cells per axis of the grid.")] = 24,
    max_depth: Annotated[int, typer.Option("--max-depth", help="Quadtree levels tried to certify a cell.")] = 2,
    alpha: AlphaOpt = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Directory for the 2-D window figure.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Joint window of two collectives: exact along lines of fixed x1 or x2, certified or sampled on a grid."""
    from recollective.game import STATUS_NAMES, joint_window, load_instance

    instance = load_instance(instance_path, alpha)
    collectives = [parse_collective_spec(spec, need_x=False) for spec in collective]
    result = joint_window(instance.R_true, collectives, instance.alpha, x_max, n_cells=n_cells, max_depth=max_depth)
    document = result.as_dict()
    document.update({"path": str(instance_path), "alpha": instance.alpha})
    if plot is not None:
        from recollective.report.joint_plots import plot_joint_window

        document["plots"] = [str(p) for p in plot_joint_window(result, plot / "joint_window")]
    if json_out:
        emit_json(document)
        return
    console.print(
        f"{instance_path}: alpha = {_fmt(instance.alpha)}; truthful k* = {result.truthful.rank}, social welfare "
        f"= {_fmt(result.truthful.social_welfare)}; x1, x2 in [0, {_fmt(result.x_max)}]"
    )
    for index, (c, window) in enumerate(zip(result.collectives, result.solo_windows, strict=True)):
        console.print(
            f"collective {index + 1} ({short_indices(c.members)} -> {short_indices(c.targets)}) alone: Pareto "
            f"{_intervals(window.pareto_intervals)}, effective {_intervals(window.effective_intervals)}"
        )
    x1, x2 = (c.uprating for c in result.collectives)
    console.print(f"at (x1, x2) = ({_fmt(x1)}, {_fmt(x2)}): {STATUS_NAMES[result.at.code]}")
    console.print("exact joint window along lines (breakpoints to the stated tolerance):")
    for line in result.lines:
        axis = "x2" if line.varying == 0 else "x1"
        console.print(
            f"  {axis} = {_fmt(line.value)}: window {_intervals(line.window_intervals)}; joint Pareto "
            f"{_intervals(line.pareto_intervals)} (tolerance {line.tolerance:.2g})"
        )
    table = Table("status", "cells certified", "cells sampled")
    for name, count in result.counts().items():
        table.add_row(name, str(count["certified"]), str(count["sampled"]))
    console.print(table)
    console.print(
        f"{n_cells} x {n_cells} cells, {int(result.mixed.sum())} crossed by a boundary; "
        f"{result.n_evaluations} joint evaluations"
    )
    for path in document.get("plots", []):
        console.print(f"plot: {path}")
