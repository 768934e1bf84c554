"""``recollective demo``: the main job, on the embedded synthetic data.

The one-shot game (suppression under the gap condition, the robust strategy the search finds, its exact window),
the same collective in the online game, then a campaign sweep across recommenders on a synthetic majority–minority
book world (a resumable experiments run), and the HTML report of it all. ``--quick`` shrinks every part for CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from recollective.cli._options import JsonOpt
from recollective.cli._output import console, emit_json, err_console, handles_errors, to_jsonable

ONLINE_ROUNDS, ONLINE_EXPLORE, ONLINE_NOISE, ONLINE_SEEDS = 300, 200, 0.1, 10
QUICK_ONLINE_ROUNDS, QUICK_ONLINE_EXPLORE, QUICK_ONLINE_SEEDS = 60, 40, 3


def campaign_config(seed: int, quick: bool) -> dict:
    """The demo's campaign sweep: a synthetic book world, long-tail targets, two participant policies."""
    world = {"n_users": 600, "n_items": 300, "n_interactions": 12000} if quick else {
        "n_users": 2000, "n_items": 1000, "n_interactions": 40000}
    models = {"itemknn": {}, "puresvd": {"n_factors": 16}} if quick else {
        "popularity": {}, "itemknn": {}, "puresvd": {}, "als": {}, "ease": {}}
    return {
        "name": "demo-campaign",
        "seeds": [seed] if quick else [seed, seed + 1, seed + 2],
        "k": 10,
        "world": {**world, "seed": seed},
        "targets": {"method": "longtail", "max_targets": 3, "min_audience": 5 if quick else 10},
        "campaign": {"participants": ["closest", "random"], "sizes": [0.02, 0.05] if quick else [0.01, 0.02, 0.05]},
        "models": models,
    }


def _campaign_story(out: Path, seed: int, quick: bool) -> dict:
    """Run the campaign sweep into ``out/runs`` (resumable) and summarise the best cell per model."""
    from recollective.campaigns import summarize_rows
    from recollective.experiments import load_results, parse_experiment_config, run_experiment

    config = parse_experiment_config(campaign_config(seed, quick), "demo campaign config")
    result = run_experiment(config, out / "runs")
    run_dir = out / "runs" / config.name
    rows = summarize_rows(load_results(run_dir), metrics=("target_exposure_before", "target_exposure_after",
                                                          "ndcg_before", "ndcg_after", "n_participants"))
    best = {}  # per model, the cell with the largest gain in target exposure (the earliest on ties)
    for row in rows:
        gain = row["target_exposure_after"] - row["target_exposure_before"]
        if row["model"] not in best or gain > best[row["model"]]["gain"]:
            best[row["model"]] = {**row, "gain": gain}
    _pareto_scatter(config, run_dir, best)
    return {"run_dir": str(run_dir), "cells": result, "best_per_model": best}


def _pareto_scatter(config, run_dir: Path, best: dict) -> None:
    """Per-user utility before vs after for the model and cell with the largest exposure gain (first seed)."""
    import numpy as np

    from recollective.experiments import Cell, cell_outcome
    from recollective.report.campaign_plots import plot_pareto_scatter

    name, row = max(best.items(), key=lambda item: item[1]["gain"])
    cell = Cell(model=name, participants=row["participants"], position=row["position"], size=row["size"],
                seed=config.seeds[0])
    outcome = cell_outcome(config, cell)
    plot_pareto_scatter(
        outcome.utility_before, outcome.utility_after, run_dir / f"pareto_{name}",
        participants=np.isin(outcome.users, outcome.application.acting),
        audience=np.isin(outcome.users, outcome.audience), noise_floor=outcome.summary["noise_floor"],
        utility=outcome.summary["utility"],
        title=f"{name}: per-user utility, {outcome.summary['n_participants']} {cell.participants} participants",
    )


def _online_story(instance, strategy, seed: int, quick: bool = False) -> dict:
    """The same collective inside the online game: last-round means with 95% intervals over seeds."""
    from recollective.game.online import CollectiveInLoop, OnlineConfig, run_online

    rounds, explore = (QUICK_ONLINE_ROUNDS, QUICK_ONLINE_EXPLORE) if quick else (ONLINE_ROUNDS, ONLINE_EXPLORE)
    config = OnlineConfig(rounds=rounds, explore_rounds=explore, noise=ONLINE_NOISE)
    collective = CollectiveInLoop(
        members=strategy.members.tolist(), targets=strategy.targets.tolist(), uprating=float(strategy.uprating)
    )
    seeds = range(seed, seed + (QUICK_ONLINE_SEEDS if quick else ONLINE_SEEDS))
    common = {"seeds": seeds, "user_group": instance.user_group}
    truthful = run_online(instance.R_true, instance.alpha, config, **common)
    played = run_online(instance.R_true, instance.alpha, config, collective=collective, **common)

    def last(summary, name):
        series = summary.series[name]
        return f"{series.mean[-1]:.3f} ± {series.half_width[-1]:.3f}"

    return {
        "config": config.model_dump(),
        "seeds": list(seeds),
        "truthful_minority": last(truthful, "minority_welfare"),
        "collective_minority": last(played, "minority_welfare"),
        "truthful_welfare": last(truthful, "welfare"),
        "collective_welfare": last(played, "welfare"),
        "_played": played,
        "_truthful": truthful,
    }


WIDTH = 118
"""Characters per line of the demo's summary (wider lines are wrapped with an indent)."""


def _wrapped(text: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, WIDTH, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False)


def summary_lines(summary: dict, instance, found, strategy, plots) -> list[str]:
    """The demo's findings as short lines: the game, the online game, one line per model of the campaign sweep."""
    gap, truthful = summary["gap"], summary["truthful"]
    minority = truthful["n_minority_users"]
    lines = [
        "recollective demo: collective action against an alpha-tolerant SVD recommender",
        f"instance: {instance.shape[0]} users x {instance.shape[1]} items ({minority} minority users, "
        f"{instance.minority_items.size} minority items), alpha = {summary['alpha']:.6g}",
        f"suppression: gap s_{gap['majority_rank']}(R_maj) = {gap['s_k_majority']:.6g} > alpha >= s_1(R_min) = "
        f"{gap['s_1_minority']:.6g} ({'holds' if gap['holds'] else 'fails'}); truthful k* = {truthful['k_star']}",
        f"  {truthful['minority_users_with_zero_utility']} of {minority} minority users get utility 0; minority "
        f"welfare {truthful['minority_welfare']:.6g}",
    ]
    if strategy is None:
        lines += _wrapped(f"no robust strategy found: {found.reason}")
    else:
        lo, hi = found.alphas
        members = strategy.members.tolist()
        lines += [
            f"robust strategy: {len(members)} majority member{'s' if len(members) != 1 else ''} {members} "
            f"report{'s' if len(members) == 1 else ''} x = {strategy.uprating:.6g} on minority item "
            f"{strategy.targets.tolist()}",
            f"  robust for alpha in [{lo:.6g}, {hi:.6g}] on {found.n_scenarios} scenario(s): the preferences as given "
            "and perturbed, at several alphas",
        ]
        window = summary["window"]
        lines += _wrapped(
            "window over x in [0, 10]: Pareto "
            + (", ".join(f"[{a:.6g}, {b:.6g}]" for a, b in window["pareto_intervals"]) or "none")
            + "; effective "
            + (", ".join(f"[{a:.6g}, {b:.6g}]" for a, b in window["effective_intervals"]) or "none")
        )
        strategic = summary["strategic"]
        lines.append(
            f"effect: k* {truthful['k_star']} -> {strategic['k_star']}, social welfare "
            f"{truthful['social_welfare']:.6g} -> {strategic['social_welfare']:.6g}, minority welfare "
            f"{found.minority_welfare_before:.6g} -> {found.minority_welfare_after:.6g}, members' worst-case change "
            f"{found.members_worst_change:.6g}"
        )
        online, config = summary["online"], summary["online"]["config"]
        lines += [
            f"online game ({config['rounds']} rounds, {config['explore_rounds']} exploring, noise {config['noise']:g}, "
            f"{len(online['seeds'])} seeds), last round (mean ± 95% interval):",
            f"  minority welfare: truthful {online['truthful_minority']}, collective {online['collective_minority']}",
            f"  welfare:          truthful {online['truthful_welfare']}, collective {online['collective_welfare']}",
        ]
    campaign = summary["campaign"]
    lines += [
        f"campaign sweep: {campaign['cells']['stored']} cells in {campaign['run_dir']}",
        "largest gain in target exposure in the audience, per model:",
    ]
    best = campaign["best_per_model"]
    width = max((len(name) for name in best), default=0)
    for name, row in best.items():
        before, after = row["target_exposure_before"], row["target_exposure_after"]
        spec = ".0%" if f"{before:.0%}" != f"{after:.0%}" else ".1%"  # a gain under half a point stays visible
        if row["gain"] > 0:
            lines.append(
                f"  {name:<{width}}  exposure {before:{spec}} -> {after:{spec}} with {row['n_participants']:.0f} "
                f"{row['participants']} participants; NDCG {row['ndcg_before']:.3f} -> {row['ndcg_after']:.3f}"
            )
        else:
            lines.append(f"  {name:<{width}}  exposure {before:.0%}, no gain at any size")
    stems = list(dict.fromkeys(str(Path(path).with_suffix("")) for path in plots))
    if stems:
        kinds = ", ".join(dict.fromkeys(Path(path).suffix.lstrip(".") for path in plots))
        lines += _wrapped(f"plots ({kinds} each): {', '.join(stems)}")
    return lines


def _report(out: Path, run_dir: Path, plots: list[Path]) -> str:
    """The game figures join the campaign run under ``game/``; the report goes to ``out/report.html``."""
    import shutil

    from recollective.report.html import write_report

    game = run_dir / "game"
    game.mkdir(exist_ok=True)
    for path in plots:
        shutil.copy2(path, game / Path(path).name)
    return str(write_report(run_dir, out / "report.html")["html"])


@handles_errors
def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for the instance, plots and summary.")] = Path(
        "out/demo"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the generated instance.")] = 0,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller parts throughout (for CI and a first look).")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run the main job: suppression, the robust collective strategy and its window, the online game, a campaign
    sweep across recommenders on a synthetic book world, and the HTML report."""
    from recollective.game import (
        CollectiveStrategy,
        compare_outcomes,
        effective_window,
        majority_minority,
        outcome,
        robust_search,
        save_instance,
        singular_value_gap,
    )
    from recollective.report.game_plots import plot_spectrum, plot_window
    from recollective.report.online_plots import plot_online

    def say(message: str) -> None:
        if not json_out:
            err_console.print(message, markup=False)

    say(f"[1/7] generating a majority–minority instance (seed {seed})")
    instance = majority_minority(rng=seed)
    out.mkdir(parents=True, exist_ok=True)
    save_instance(instance, out / "instance.npz")
    gap = singular_value_gap(instance.R_true, instance.user_group, instance.item_group, instance.alpha)
    truthful = outcome(instance.R_true, None, instance.alpha)
    minority = instance.minority_users
    suppressed = int((truthful.utilities[minority] == 0).sum())

    say("[2/7] searching for the smallest robust Pareto-effective collective")
    alpha = instance.alpha
    found = robust_search(
        instance.R_true,
        alpha,
        alpha_range=(alpha * 0.98, alpha * 1.02),
        perturbation=0.01 * float(truthful.singular_values[0]),
        n_perturbations=3,
        user_group=instance.user_group,
        item_group=instance.item_group,
        rng=seed,
    )
    summary: dict = {
        "instance": str(out / "instance.npz"),
        "n_users": instance.shape[0],
        "n_items": instance.shape[1],
        "alpha": alpha,
        "gap": gap.as_dict(),
        "truthful": {
            "k_star": truthful.rank,
            "social_welfare": truthful.social_welfare,
            "minority_welfare": float(truthful.utilities[minority].sum()),
            "minority_users_with_zero_utility": suppressed,
            "n_minority_users": int(minority.size),
        },
        "search": found.as_dict(),
    }
    plots: list[Path] = []
    if found.found:
        say("[3/7] computing the exact window of the strategy found")
        strategy = found.strategy
        window = effective_window(instance.R_true, strategy.members, strategy.targets, alpha, 10.0)
        after = outcome(instance.R_true, strategy.apply(instance.R_true), alpha)
        summary["window"] = {
            "pareto_intervals": window.pareto_intervals,
            "effective_intervals": window.effective_intervals,
            "n_evaluations": window.n_evaluations,
        }
        summary["strategic"] = {
            "k_star": after.rank,
            "social_welfare": after.social_welfare,
            "comparison": compare_outcomes(truthful, after).as_dict(),
        }
        say(f"[4/7] playing the online game, truthful and with the collective "
            f"({QUICK_ONLINE_SEEDS if quick else ONLINE_SEEDS} seeds)")
        summary["online"] = _online_story(instance, strategy, seed, quick)
        say("[5/7] plotting")
        plots += plot_window(window, out / "window", user_group=instance.user_group)
        plots += plot_spectrum(truthful, after, alpha, out / "spectrum")
        plots += plot_online(
            {"collective": summary["online"].pop("_played"), "truthful": summary["online"].pop("_truthful")},
            out / "online",
            explore_rounds=QUICK_ONLINE_EXPLORE if quick else ONLINE_EXPLORE,
        )
    else:
        strategy = CollectiveStrategy(instance.majority_users[:1], instance.minority_items[:1], 1.0)
    summary["plots"] = [str(p) for p in plots]
    say("[6/7] a campaign sweep across recommenders on a synthetic book world")
    summary["campaign"] = _campaign_story(out, seed, quick)
    say("[7/7] writing the HTML report")
    summary["report"] = _report(out, Path(summary["campaign"]["run_dir"]), plots)
    summary_path = out / "summary.json"
    tmp = summary_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(to_jsonable(summary), allow_nan=False, indent=2, sort_keys=True) + "\n")
    tmp.replace(summary_path)
    summary["summary"] = str(summary_path)

    if json_out:
        emit_json(summary)
        return
    for line in summary_lines(summary, instance, found, strategy if found.found else None, plots):
        console.print(line, soft_wrap=True)
    console.print(f"report: {summary['report']}")
    console.print(f"summary: {summary_path}")
