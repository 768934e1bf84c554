"""``recollective game incentives``: individual rationality, free riders, minimal sub-collectives, critical mass.

Registered in :mod:`recollective.cli.game` as ``game_app.command("incentives")(incentives)``. Thin: parse, call
:func:`recollective.game.incentives.incentives` and :func:`~recollective.game.incentives.critical_mass`, render.
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from recollective.cli._options import JsonOpt
from recollective.cli._output import console, emit_json, handles_errors, parse_index_list, short_indices
from recollective.errors import InvalidParameterError

__all__ = ["incentives"]


class CriterionName(StrEnum):
    effective = "effective"
    pareto = "pareto"


def parse_float_list(text: str, option: str) -> list[float]:
    """Parse "0,0.05,0.1" into floats; raise InvalidParameterError naming the option."""
    values = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise InvalidParameterError(f"{option}: {part!r} is not a number; give comma-separated numbers") from None
        if not math.isfinite(value) or value < 0:
            raise InvalidParameterError(f"{option}: values must be finite numbers >= 0; got {part!r}")
        values.append(value)
    if not values:
        raise InvalidParameterError(f"{option} is empty; give comma-separated numbers such as 0,0.1,0.2")
    return values


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@handles_errors
def incentives(
    instance_path: Annotated[Path, typer.Argument(help="Instance file (.npz with R_true and alpha).")],
    members: Annotated[
        str, typer.Option("--members", help="Collective: user indices in joining order, e.g. 0,1,2 or 0-9.")
    ],
    targets: Annotated[str, typer.Option("--targets", help="Target item indices, e.g. 45 or 40,41.")],
    uprating: Annotated[float, typer.Option("--uprating", help="Uprating value x every member reports.")],
    altruism: Annotated[float, typer.Option("--altruism", help="Altruism weight lambda >= 0.")] = 0.0,
    cost: Annotated[float, typer.Option("--cost", help="Cost c >= 0 of one strategic action.")] = 0.0,
    welfare_gain: Annotated[
        float, typer.Option("--welfare-gain", help="Required welfare gain G >= 0 (SW must rise, by at least G).")
    ] = 0.0,
    criterion: Annotated[
        CriterionName, typer.Option("--criterion", help="effective (SW up) or pareto (also nobody worse off).")
    ] = CriterionName.effective,
    costs: Annotated[
        str | None, typer.Option("--costs", help="Costs for the critical mass grid, e.g. 0,0.1,0.2 (default: --cost).")
    ] = None,
    altruisms: Annotated[
        str | None,
        typer.Option("--altruisms", help="Altruism weights for the grid, e.g. 0,0.05,0.1 (default: --altruism)."),
    ] = None,
    exact: Annotated[
        bool | None,
        typer.Option("--exact/--no-exact", help="Enumerate all sub-collectives (default: when <= --max-exact)."),
    ] = None,
    max_exact: Annotated[int, typer.Option("--max-exact", help="Largest collective enumerated exactly.")] = 12,
    alpha: Annotated[float | None, typer.Option("--alpha", help="Override the file's alpha.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Directory for the critical-mass plot.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Who is individually rational, who free rides, minimal sub-collectives and the critical mass.

    Payoff of a user: own utility + lambda x everyone else's welfare - cost x strategic actions.
    One action = one reported (member, target) entry that differs from the truth.
    R_reported in the file is ignored: the collective is given by --members, --targets and --uprating.
    """
    from recollective.game import CollectiveStrategy, load_instance
    from recollective.game.incentives import critical_mass
    from recollective.game.incentives import incentives as analyse

    instance = load_instance(instance_path, alpha)
    order = parse_index_list(members, "--members")
    strategy = CollectiveStrategy(order, parse_index_list(targets, "--targets"), uprating)
    cost_grid = [cost] if costs is None else parse_float_list(costs, "--costs")
    altruism_grid = [altruism] if altruisms is None else parse_float_list(altruisms, "--altruisms")
    common = {"welfare_gain": welfare_gain, "criterion": criterion.value, "exact": exact, "max_exact": max_exact}
    report = analyse(instance.R_true, strategy, instance.alpha, altruism=altruism, cost=cost, **common)
    mass = critical_mass(
        instance.R_true,
        strategy,
        instance.alpha,
        costs=cost_grid,
        altruisms=altruism_grid,
        order=order,
        **common,
    )
    plots = []
    if plot is not None:
        from recollective.report.incentive_plots import plot_critical_mass

        plots = [str(p) for p in plot_critical_mass(mass, plot / "critical_mass")]
    if json_out:
        emit_json(
            {
                "instance": str(instance_path),
                "n_users": instance.shape[0],
                "n_items": instance.shape[1],
                "alpha": instance.alpha,
                "incentives": report.as_dict(),
                "critical_mass": mass.as_dict(),
                "plots": plots,
            }
        )
        return
    _print_report(instance_path, instance, report)
    _print_critical_mass(mass)
    for path in plots:
        console.print(f"plot: {path}")


def _print_report(path, instance, report) -> None:
    strategy = report.strategy
    comparison = report.comparison
    gain = "> 0" if report.welfare_gain == 0 else f">= {_fmt(report.welfare_gain)}"
    console.print(
        f"{path}: {instance.shape[0]} users x {instance.shape[1]} items, alpha = {_fmt(instance.alpha)}; "
        f"collective {short_indices(strategy.members)} reports x = {_fmt(strategy.uprating)} on target(s) "
        f"{short_indices(strategy.targets)}"
    )
    console.print(
        f"altruism lambda = {_fmt(report.altruism)}, cost per action c = {_fmt(report.cost)}; criterion "
        f"{report.criterion}, welfare gain {gain}"
    )
    console.print(
        f"social welfare {_fmt(report.truthful_welfare)} -> {_fmt(report.welfare)} (change "
        f"{_fmt(comparison.welfare_change)}; {comparison.n_better} better, {comparison.n_worse} worse); "
        f"meets criterion: {_yes(report.meets_criterion)}; every member rational: {_yes(report.is_stable)}"
    )
    table = Table(
        "member", "actions", "own change", "others' change", "margin", "rational", "pivotal", "free rider",
        title="staying versus leaving alone (margin = own + lambda x others - c x actions)",
    )  # fmt: skip
    for member in report.members:
        table.add_row(
            str(member.user_idx),
            str(member.n_actions),
            _fmt(member.own_change),
            _fmt(member.others_change),
            _fmt(member.margin),
            _yes(member.is_rational),
            _yes(member.is_pivotal),
            _yes(member.is_free_rider),
        )
    console.print(table)
    console.print(f"member free riders: {short_indices(report.free_riders)}")
    console.print(f"non-members gaining without acting: {short_indices(report.nonmember_free_riders)}")
    console.print(f"users worse off: {short_indices(report.harmed_users)}")
    sub = report.subcollectives
    if sub.greedy is None:
        console.print("greedy removal: the whole collective does not meet the criterion")
    else:
        console.print(
            f"greedy minimal sub-collective: {short_indices(sub.greedy)} "
            f"(removed in order: {short_indices(sub.greedy_removed)})"
        )
    if sub.exact:
        if sub.minimum_size is None:
            console.print("exact: no sub-collective meets the criterion")
        else:
            first = ", ".join("{" + short_indices(s) + "}" for s in sub.minimum[:3]) + (
                " ..." if len(sub.minimum) > 3 else ""
            )
            console.print(
                f"exact: {sub.n_meeting} sub-collective(s) meet the criterion; minimum size {sub.minimum_size} "
                f"({len(sub.minimum)} of them: {first}); {len(sub.inclusion_minimal)} inclusion-minimal; "
                f"monotone: {_yes(sub.is_monotone)}; greedy is minimum: {_yes(sub.greedy_is_minimum)}"
            )
    else:
        console.print("exact: not enumerated (more members than --max-exact)")
    console.print(f"{report.n_evaluations} sub-collective outcomes evaluated")


def _size_table(sizes: np.ndarray, mass) -> Table:
    table = Table("lambda \\ c", *(_fmt(c) for c in mass.costs))
    for altruism, row in zip(mass.altruisms, sizes, strict=True):
        table.add_row(_fmt(altruism), *("-" if v < 0 else str(int(v)) for v in row))
    return table


def _print_critical_mass(mass) -> None:
    shown = 20
    gains = ", ".join(f"{k}: {_fmt(g)}" for k, g in enumerate(mass.prefix_gains[:shown], start=1))
    if mass.prefix_gains.size > shown:
        gains += f", ... ({mass.prefix_gains.size} prefixes; all in --json)"
    console.print(f"welfare gain of each prefix of {short_indices(mass.order)} -> {gains}")
    console.print("critical mass, prefixes (rows: altruism lambda, columns: cost c; - = none):")
    console.print(_size_table(mass.prefix_size, mass))
    if mass.exact:
        console.print("critical mass, all subsets:")
        console.print(_size_table(mass.exact_size, mass))
    for i, altruism in enumerate(mass.altruisms):
        reachable = [f"k={k + 1}: c <= {_fmt(c)}" for k, c in enumerate(mass.prefix_break_even[i]) if not math.isnan(c)]
        if reachable:
            console.print(f"lambda = {_fmt(altruism)}: break-even cost of rational prefixes: {'; '.join(reachable)}")
    console.print(f"{mass.n_evaluations} sub-collective outcomes evaluated for the whole grid")
