"""``recollective run CONFIG``: run an experiment config into ``runs/<name>/``, resuming where it stopped.

Register with ``app.command("run")(run)``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from recollective.cli._options import JsonOpt
from recollective.cli._output import console, emit_json, err_console, handles_errors
from recollective.cli._progress import step_progress

__all__ = ["run"]

# Where the cells run (the executor options).
ExecutorOpt = Annotated[str, typer.Option("--executor", help="Where cells run: local or ray.")]
WorkersOpt = Annotated[
    int, typer.Option("--workers", help="Local processes (1 = this process), or CPUs of a local Ray.")
]
AddressOpt = Annotated[
    str | None, typer.Option("--address", help="HOST:PORT of a running Ray head (with --executor ray).")
]
BatchSizeOpt = Annotated[
    int | None, typer.Option("--batch-size", help="Cells per task and per results file (default 1 or 4).")
]


@handles_errors
def run(
    config: Annotated[Path, typer.Argument(help="Experiment config (TOML).")],
    out: Annotated[Path, typer.Option("--out", help="Parent folder of run folders (results go to OUT/<name>/).")] = (
        Path("runs")
    ),
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = 1,
    address: AddressOpt = None,
    batch_size: BatchSizeOpt = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bar or per-step lines, no log messages."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Run a grid above 10,000 cells or a world larger than this machine's memory.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run every cell of CONFIG (models x participants x positions x sizes x seeds) not yet stored."""
    from recollective.experiments import load_experiment_config, run_experiment

    settings = load_experiment_config(config)
    if quiet:
        logging.getLogger("recollective").setLevel(logging.WARNING)
    with step_progress(f"{settings.name}: starting", quiet=quiet) as bar:

        def advance(done: int, total: int, info: dict) -> None:
            where = f"{info['model']} seed {info['seed']}" if "model" in info else "stored cells"
            bar.update(done, total, f"{settings.name}: {where}")

        summary = run_experiment(settings, out, executor=executor, workers=workers, address=address,
                                 batch_size=batch_size, progress=advance, yes=yes)
    for note in summary["repaired"]:  # stored files found missing or damaged, whose cells ran again
        err_console.print(f"note: {note}", markup=False, soft_wrap=True)
    if json_out:
        emit_json(summary)
        return
    console.print(
        f"{summary['name']}: {summary['stored']}/{summary['total']} cells stored ({summary['ran']} run now, "
        f"{summary['skipped']} already stored) in {summary['seconds']:.1f} s on {summary['executor']}; "
        f"results in {summary['run_dir']}",
        markup=False,
        soft_wrap=True,
    )
