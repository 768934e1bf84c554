"""``recollective game ...``: generate, evaluate, window, search, certify and plot one-shot game instances."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._glossary import radius_lines, uncertified_lines
from recollective.cli._options import JsonOpt, parse_collective
from recollective.cli._output import console, emit_json, err_console, handles_errors, parse_index_list, short_indices
from recollective.cli.game_incentives import incentives
from recollective.cli.game_joint import joint, joint_window_command
from recollective.cli.game_online import online
from recollective.cli.game_theory import theory
from recollective.errors import InvalidParameterError

game_app = typer.Typer(
    help="The one-shot game: an alpha-tolerant truncated-SVD learner facing a collective.",
    no_args_is_help=True,
)
game_app.command("online")(online)
game_app.command("incentives")(incentives)
game_app.command("theory")(theory)
game_app.command("joint")(joint)
game_app.command("joint-window")(joint_window_command)


class RuleName(StrEnum):
    absolute = "absolute"
    fixed = "fixed"
    relative = "relative"
    tvr = "tvr"


InstanceArg = Annotated[Path, typer.Argument(help="Instance file (.npz with R_true, alpha, optional R_reported).")]
AlphaOpt = Annotated[float | None, typer.Option("--alpha", help="Override the file's alpha.")]
RuleOpt = Annotated[
    RuleName,
    typer.Option(
        "--rule",
        help="Rank rule: absolute (s > alpha, the paper's), fixed (k = --rule-value), relative (s > value * s_1), "
        "tvr (retained variation >= 1 - value).",
    ),
]
RuleValueOpt = Annotated[
    float | None, typer.Option("--rule-value", help="Parameter of a non-absolute rule (k, or a fraction in [0, 1]).")
]
MembersOpt = Annotated[str, typer.Option("--members", help="Collective: user indices, e.g. 0,1,2 or 0-9.")]
TargetsOpt = Annotated[str, typer.Option("--targets", help="Target item indices, e.g. 17 or 40,41.")]
XMaxOpt = Annotated[float, typer.Option("--x-max", help="Largest uprating value examined.")]


def _rule(instance, rule: RuleName, rule_value: float | None):
    from recollective.game import AbsoluteThreshold, rank_rule_from_name

    if rule is RuleName.absolute:
        if rule_value is not None:
            raise InvalidParameterError("--rule-value is only for fixed, relative and tvr; use --alpha instead")
        return AbsoluteThreshold(instance.alpha)
    if rule_value is None:
        raise InvalidParameterError(f"--rule {rule.value} needs --rule-value")
    return rank_rule_from_name(rule.value, rule_value)


def _load(path: Path, alpha: float | None):
    from recollective.game import load_instance

    return load_instance(path, alpha)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _intervals_text(intervals) -> str:
    return ", ".join(f"[{_fmt(lo)}, {_fmt(hi)}]" for lo, hi in intervals) or "none"


@game_app.command("generate")
@handles_errors
def generate(
    out: Annotated[Path, typer.Argument(help="Where to write the instance (.npz).")],
    majority_users: int = typer.Option(60, help="Users in the majority group."),
    minority_users: int = typer.Option(15, help="Users in the minority group."),
    majority_items: int = typer.Option(40, help="Items in the majority group."),
    minority_items: int = typer.Option(10, help="Items in the minority group."),
    majority_rank: int = typer.Option(2, help="Rank of the majority block."),
    minority_rank: int = typer.Option(1, help="Rank of the minority block."),
    majority_scale: float = typer.Option(1.0, help="Mean preference in the majority block."),
    minority_scale: float = typer.Option(0.2, help="Mean preference in the minority block."),
    noise: float = typer.Option(0.0, help="Noise standard deviation, relative to each block's scale."),
    alpha: float | None = typer.Option(None, help="Learner threshold (default: just above s_1(R_min))."),
    seed: int = typer.Option(0, help="Random seed."),
    members: str | None = typer.Option(None, "--members", help="Also store R_reported: these users uprate..."),
    targets: str | None = typer.Option(None, "--targets", help="...these target items..."),
    uprating: float | None = typer.Option(None, "--uprating", help="...by this value x."),
    json_out: JsonOpt = False,
) -> None:
    """Generate a majority–minority instance and save it as .npz (with R_reported when a strategy is given)."""
    from dataclasses import replace

    from recollective.game import CollectiveStrategy, majority_minority, save_instance, singular_value_gap

    if out.suffix != ".npz":
        raise InvalidParameterError(f"the output file must end in .npz; got {str(out)!r}")
    collective = parse_collective(members, targets, uprating)
    instance = majority_minority(
        majority_users, minority_users, majority_items, minority_items, majority_rank=majority_rank,
        minority_rank=minority_rank, majority_scale=majority_scale, minority_scale=minority_scale, noise=noise,
        alpha=alpha, rng=seed,
    )
    gap = singular_value_gap(instance.R_true, instance.user_group, instance.item_group, instance.alpha, majority_rank)
    strategy = None
    if collective is not None:
        strategy = CollectiveStrategy(*collective)
        instance = replace(instance, R_reported=strategy.apply(instance.R_true))
    save_instance(instance, out)
    document = {
        "path": str(out),
        "n_users": instance.shape[0],
        "n_items": instance.shape[1],
        "alpha": instance.alpha,
        "gap": gap.as_dict(),
        "minority_users": instance.minority_users.tolist(),
        "minority_items": instance.minority_items.tolist(),
        "strategy": strategy.as_dict() if strategy is not None else None,
    }
    if json_out:
        emit_json(document)
        return
    console.print(f"wrote {out}: {instance.shape[0]} users x {instance.shape[1]} items, alpha = {_fmt(instance.alpha)}")
    console.print(
        f"gap condition s_{gap.majority_rank}(R_maj) = {_fmt(gap.s_majority)} > alpha >= s_1(R_min) = "
        f"{_fmt(gap.s_minority)}: {'holds' if gap.holds else 'FAILS'}"
    )
    console.print(
        f"minority users {instance.minority_users[0]}..{instance.minority_users[-1]}, "
        f"minority items {instance.minority_items[0]}..{instance.minority_items[-1]}"
    )
    if strategy is not None:
        console.print(
            f"R_reported: users {short_indices(strategy.members)} report {_fmt(strategy.uprating)} on items "
            f"{short_indices(strategy.targets)}"
        )


@game_app.command("evaluate")
@handles_errors
def evaluate(
    instance_path: InstanceArg,
    alpha: AlphaOpt = None,
    rule: RuleOpt = RuleName.absolute,
    rule_value: RuleValueOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate R_reported (or R_true when absent) against R_true: k*, top items, utilities, welfare."""
    from recollective.game import compare_outcomes, outcome, singular_value_gap

    instance = _load(instance_path, alpha)
    learner = _rule(instance, rule, rule_value)
    result = outcome(instance.R_true, instance.R_reported, learner)
    document = result.as_dict()
    document.update(
        {
            "alpha": instance.alpha,
            "rule": learner.name,
            "evaluated": "R_reported" if instance.R_reported is not None else "R_true",
            "n_users": instance.shape[0],
            "n_items": instance.shape[1],
        }
    )
    comparison = None
    if instance.R_reported is not None:
        comparison = compare_outcomes(outcome(instance.R_true, None, learner), result)
        document["versus_truthful"] = comparison.as_dict()
    if instance.user_group is not None:
        minority = instance.minority_users
        document["minority_welfare"] = float(result.utilities[minority].sum())
        document["gap"] = singular_value_gap(
            instance.R_true, instance.user_group, instance.item_group, instance.alpha
        ).as_dict()
    if json_out:
        emit_json(document)
        return
    console.print(f"{instance_path}: {instance.shape[0]} users x {instance.shape[1]} items ({document['evaluated']})")
    console.print(f"k* = {result.rank} (rule {learner.name}, parameter {_fmt(learner.parameter)})")
    console.print(f"social welfare = {_fmt(result.social_welfare)}")
    for name, value in result.platform.as_dict().items():
        console.print(f"  {name.replace('_', ' ')} = {_fmt(value)}")
    if "minority_welfare" in document:
        gap = document["gap"]
        console.print(
            f"minority welfare = {_fmt(document['minority_welfare'])}; gap condition "
            f"{'holds' if gap['holds'] else 'fails'} (s_k(R_maj) = {_fmt(gap['s_k_majority'])}, "
            f"s_1(R_min) = {_fmt(gap['s_1_minority'])})"
        )
    if comparison is not None:
        console.print(
            f"versus truthful: welfare change {_fmt(comparison.welfare_change)}, {comparison.n_better} better, "
            f"{comparison.n_worse} worse; Pareto-effective: {comparison.is_pareto_effective}"
        )
    shown = min(10, instance.shape[0])
    table = Table("user", "top item", "utility", title=f"first {shown} users")
    for u in range(shown):
        table.add_row(str(u), str(result.top_items[u]), _fmt(result.utilities[u]))
    console.print(table)


@game_app.command("window")
@handles_errors
def window(
    instance_path: InstanceArg,
    members: MembersOpt,
    targets: TargetsOpt,
    x_max: XMaxOpt = 10.0,
    rtol: float = typer.Option(1e-6, help="Relative accuracy of the window endpoints."),
    alpha: AlphaOpt = None,
    rule: RuleOpt = RuleName.absolute,
    rule_value: RuleValueOpt = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Directory for the window and spectrum plots.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Exact effective and Pareto windows of "members report x on targets" over x in [0, x-max]."""
    from recollective.game import effective_window

    instance = _load(instance_path, alpha)
    learner = _rule(instance, rule, rule_value)
    result = effective_window(
        instance.R_true,
        parse_index_list(members, "--members"),
        parse_index_list(targets, "--targets"),
        learner,
        x_max,
        rtol=rtol,
    )
    document = result.as_dict()
    document["alpha"] = instance.alpha
    document["rule"] = learner.name
    if plot is not None:
        document["plots"] = [str(p) for p in _plots(instance, result, learner, plot)]
    if json_out:
        emit_json(document)
        return
    console.print(
        f"collective {short_indices(result.members)} uprating target(s) {short_indices(result.targets)}, "
        f"x in [0, {_fmt(x_max)}]"
    )
    console.print(f"truthful: k* = {result.baseline.rank}, social welfare = {_fmt(result.baseline.social_welfare)}")
    console.print(f"Pareto window:    {_intervals_text(result.pareto_intervals)}")
    console.print(f"effective window: {_intervals_text(result.effective_intervals)}")
    table = Table("x from", "x to", "k*", "SW", "change", "better", "worse", "members' worst", "effective", "Pareto")
    for piece in result.pieces:
        table.add_row(
            _fmt(piece.lo),
            _fmt(piece.hi),
            str(piece.rank),
            _fmt(piece.social_welfare),
            _fmt(piece.welfare_change),
            str(piece.n_better),
            str(piece.n_worse),
            _fmt(piece.members_worst_change),
            "yes" if piece.is_effective else "no",
            "yes" if piece.is_pareto_effective else "no",
        )
    console.print(table)
    console.print(
        f"endpoints accurate to {result.tolerance:.2g}; {result.n_evaluations} evaluations; "
        f"{len(result.uncertified)} uncertified cell(s)"
    )
    for line in uncertified_lines(result.uncertified, result.x_max):
        console.print(line)
    for path in document.get("plots", []):
        console.print(f"plot: {path}")


def _plots(instance, result, learner, directory: Path) -> list[Path]:
    from recollective.game import outcome
    from recollective.report.game_plots import plot_spectrum, plot_window

    directory.mkdir(parents=True, exist_ok=True)
    paths = list(plot_window(result, directory / "window", user_group=instance.user_group))
    intervals = result.pareto_intervals or result.effective_intervals
    x = 0.5 * sum(intervals[0]) if intervals else result.x_max
    strategic = outcome(instance.R_true, _strategy(result, x).apply(instance.R_true), learner)
    paths += plot_spectrum(result.baseline, strategic, learner.parameter, directory / "spectrum")
    return paths


def _strategy(result, x: float):
    from recollective.game import CollectiveStrategy

    return CollectiveStrategy(result.members, result.targets, x)


def _parse_range(text: str | None):
    if text is None:
        return None
    parts = text.split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise InvalidParameterError(f"--alpha-range must be two numbers LO,HI; got {text!r}") from None
    return lo, hi


@game_app.command("search")
@handles_errors
def search(
    instance_path: InstanceArg,
    alpha: AlphaOpt = None,
    alpha_range: str | None = typer.Option(None, help="Be robust to every alpha in LO,HI."),
    perturbation: float = typer.Option(0.0, help="Spectral norm of the sampled perturbations of R_true."),
    n_perturbations: int = typer.Option(0, help="Number of perturbed worlds that must also be served."),
    targets: str | None = typer.Option(None, "--targets", help="Candidate targets (default: best minority items)."),
    members: str | None = typer.Option(None, "--members", help="Candidate members in the order they are added."),
    max_members: int = typer.Option(20, help="Largest collective tried."),
    x_max: XMaxOpt = 10.0,
    seed: int = typer.Option(0, help="Seed of the perturbations."),
    json_out: JsonOpt = False,
) -> None:
    """Find the smallest collective, a target and an uprating value that are robustly Pareto-effective."""
    from recollective.game import robust_search

    instance = _load(instance_path, alpha)
    result = robust_search(
        instance.R_true,
        instance.alpha,
        alpha_range=_parse_range(alpha_range),
        perturbation=perturbation,
        n_perturbations=n_perturbations,
        user_group=instance.user_group,
        item_group=instance.item_group,
        candidate_members=None if members is None else parse_index_list(members, "--members"),
        candidate_targets=None if targets is None else parse_index_list(targets, "--targets"),
        max_members=max_members,
        x_max=x_max,
        rng=seed,
        progress=None if json_out else (lambda message: err_console.print(message, markup=False)),
    )
    if json_out:
        emit_json(result.as_dict())
        return
    _print_search(result)


def _print_search(result) -> None:
    if not result.found:
        console.print(f"no robust strategy found: {result.reason}")
        return
    strategy = result.strategy
    lo, hi = result.alphas
    console.print(
        f"robust strategy: {strategy.n_members} member(s) {short_indices(strategy.members)} report x = "
        f"{_fmt(strategy.uprating)} on target {short_indices(strategy.targets)}"
    )
    console.print(
        f"common Pareto window [{_fmt(result.window[0])}, {_fmt(result.window[1])}], margin {_fmt(result.margin)}; "
        f"alpha in [{_fmt(lo)}, {_fmt(hi)}], {result.n_scenarios} scenario(s)"
    )
    console.print(
        f"guaranteed welfare gain {_fmt(result.guaranteed_welfare_gain)}; "
        f"members' worst-case change {_fmt(result.members_worst_change)}"
    )
    console.print(f"minority welfare {_fmt(result.minority_welfare_before)} -> {_fmt(result.minority_welfare_after)}")
    table = Table("platform utility", "truthful", "strategic")
    before, after = result.platform_before.as_dict(), result.platform_after.as_dict()
    for name in before:
        table.add_row(name.replace("_", " "), _fmt(before[name]), _fmt(after[name]))
    console.print(table)


@game_app.command("certify")
@handles_errors
def certify(
    instance_path: InstanceArg,
    alpha: AlphaOpt = None,
    n_trials: int = typer.Option(50, help="Random directions tried to find a perturbation that changes the outcome."),
    seed: int = typer.Option(0, help="Seed of the random directions."),
    json_out: JsonOpt = False,
) -> None:
    """Certified robustness radius of the evaluated outcome, and how tight it is."""
    from recollective.game import certify_outcome

    instance = _load(instance_path, alpha)
    report = certify_outcome(instance.R_true, instance.R_reported, instance.alpha, n_trials=n_trials, rng=seed)
    if json_out:
        emit_json(report)
        return
    console.print(f"k* = {report['k_star']}; certified radius (spectral norm) = {_fmt(report['radius'])}")
    console.print(f"binding constraint: {report['binding']}; rank-rule radius = {_fmt(report['rank_radius'])}")
    for line in radius_lines(report["radius"], report["binding"]):
        console.print(line)
    smallest = report["smallest_change_found"]
    if smallest is None:
        console.print(f"no outcome change found along {n_trials} random directions")
    else:
        console.print(
            f"smallest outcome-changing perturbation found: {_fmt(smallest)} "
            f"(radius / smallest = {_fmt(report['tightness'])})"
        )
