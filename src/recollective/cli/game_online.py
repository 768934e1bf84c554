"""``recollective game online``: the online matrix-completion game on an instance file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from recollective.cli._options import JsonOpt, parse_collective
from recollective.cli._output import console, emit_json, err_console, handles_errors
from recollective.errors import InvalidParameterError

InstanceArg = Annotated[Path, typer.Argument(help="Instance file (.npz with R_true, alpha, optional R_reported).")]


@handles_errors
def online(
    instance_path: InstanceArg,
    rounds: int = typer.Option(100, help="Rounds T."),
    explore_rounds: int = typer.Option(20, help="Exploration rounds E (<= T)."),
    observe_prob: float | None = typer.Option(
        None, help="Observe each pair with this probability per exploration round (default: one random item per user)."
    ),
    noise: float = typer.Option(0.0, help="Feedback noise standard deviation sigma."),
    estimator: str = typer.Option("usvt", help="usvt, softimpute or als."),
    refit_every: int | None = typer.Option(None, help="Re-complete every K exploitation rounds."),
    slate_size: int = typer.Option(1, help="Items per slate; the user takes the best."),
    epsilon: float = typer.Option(0.0, help="Exploitation rounds serve a random item with this probability."),
    seed: int = typer.Option(0, help="First seed."),
    seeds: int = typer.Option(1, help="Number of seeds (seed, seed + 1, ...)."),
    alpha: float | None = typer.Option(None, help="Override the file's alpha."),
    members: str | None = typer.Option(None, "--members", help="Collective in the loop: member user indices."),
    targets: str | None = typer.Option(None, "--targets", help="The collective's target items."),
    uprating: float | None = typer.Option(None, "--uprating", help="The value the collective reports."),
    participation: float = typer.Option(1.0, help="Each member takes part with this probability."),
    coordination_noise: float = typer.Option(0.0, help="Spread of the members' reported values around --uprating."),
    budget: int = typer.Option(0, help="Targets each participating member seeks out per round."),
    report_when_met: bool = typer.Option(
        True, "--report-when-met/--seek-only", help="Also report when shown a target, or only when seeking."
    ),
    plot: Annotated[Path | None, typer.Option("--plot", help="Directory for the welfare-over-rounds plot.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Play the online game: explore, complete the matrix, exploit; optionally with a collective in the loop.

    The learner sees R_reported when the file has it. With a collective, the same seeds are also played truthfully
    (common random numbers) and reported under "truthful".
    """
    from recollective.game import load_instance
    from recollective.game.online import CollectiveInLoop, OnlineConfig, build, run_online

    instance = load_instance(instance_path, alpha)
    config = build(
        OnlineConfig, rounds=rounds, explore_rounds=explore_rounds, observe_prob=observe_prob, noise=noise,
        estimator=estimator, refit_every=refit_every, slate_size=slate_size, epsilon=epsilon,
    )
    collective = parse_collective(members, targets, uprating)
    if collective is not None:
        collective = build(
            CollectiveInLoop, members=collective[0], targets=collective[1], uprating=uprating,
            participation=participation, coordination_noise=coordination_noise, budget=budget,
            report_when_met=report_when_met,
        )
    if seeds < 1:
        raise InvalidParameterError(f"--seeds must be >= 1; got {seeds}")
    if seed < 0:
        raise InvalidParameterError(f"--seed must be >= 0; got {seed}")
    seed_list = list(range(seed, seed + seeds))

    def progress(label):
        if json_out:
            return None
        return lambda done, total: err_console.print(f"{label}: seed {done}/{total} done", markup=False)

    common = {"seeds": seed_list, "R_reported": instance.R_reported, "user_group": instance.user_group}
    played = run_online(
        instance.R_true, instance.alpha, config, collective=collective, progress=progress("play"), **common
    )
    truthful = None
    if collective is not None:
        truthful = run_online(instance.R_true, instance.alpha, config, progress=progress("truthful"), **common)

    first = played.runs[0]
    document = first.as_dict()
    document.update(
        {
            "config": config.model_dump(),
            "alpha": instance.alpha,
            "collective": collective.model_dump() if collective else None,
            "summary": played.as_dict(),
        }
    )
    if truthful is not None:
        document["truthful"] = truthful.as_dict()
    if plot is not None:
        from recollective.report.online_plots import plot_online

        plot.mkdir(parents=True, exist_ok=True)
        curves = {"collective": played, "truthful": truthful} if truthful is not None else {"as reported": played}
        document["plots"] = [str(p) for p in plot_online(curves, plot / "online", explore_rounds=config.explore_rounds)]
    if json_out:
        emit_json(document)
        return
    _print(instance, config, played, truthful, first, document.get("plots", []))


def _fmt(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.6g}"


def _interval(summary, index) -> str:
    mean, half = summary.mean[index], summary.half_width[index]
    return _fmt(mean) if not np.isfinite(half) else f"{_fmt(mean)} ± {_fmt(half)}"


def _print(instance, config, played, truthful, first, plots) -> None:
    n_users, n_items = instance.R_true.shape
    console.print(
        f"online game: {n_users} users x {n_items} items, {config.rounds} rounds ({config.explore_rounds} exploring), "
        f"estimator {config.estimator}, noise {config.noise:g}, {len(played.runs)} seed(s)"
    )
    table = Table("round", *(["collective", "truthful"] if truthful else ["welfare"]), title="welfare (mean ± 95% CI)")
    marks = sorted({0, config.explore_rounds - 1, min(config.explore_rounds, config.rounds - 1), config.rounds - 1})
    for t in marks:
        row = [str(t + 1), _interval(played.series["welfare"], t)]
        if truthful:
            row.append(_interval(truthful.series["welfare"], t))
        table.add_row(*row)
    console.print(table)
    last = config.rounds - 1
    console.print(
        f"last round: minority welfare {_interval(played.series['minority_welfare'], last)}, "
        f"regret {_interval(played.series['regret'], last)}, learner rank {_interval(played.series['rank'], last)}"
    )
    if truthful:
        console.print(
            f"truthful last round: minority welfare {_interval(truthful.series['minority_welfare'], last)}, "
            f"welfare {_interval(truthful.series['welfare'], last)}"
        )
    console.print(
        f"completion error (relative Frobenius) {_interval(played.completion_error, 0)}; "
        f"seed {first.seed}: final rank {first.final_rank}, observed {first.observed_fraction:.1%} of pairs"
    )
    for path in plots:
        console.print(f"plot: {path}")
