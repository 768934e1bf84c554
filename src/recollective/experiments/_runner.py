"""Run an experiment config into its results store, resuming where an earlier run stopped.

The grid is expanded into cells; cells whose hash is already stored are skipped; the rest are grouped by
(model, seed) (so a worker fits each baseline once), cut into batches and sent to the executor; each finished
batch is written at once as one Parquet file. A run killed at any point loses only the batches in flight.
"""

from __future__ import annotations

import datetime
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from recollective.experiments._cells import CELL_KEYS, Cell, cell_hash, expand_cells, run_batch
from recollective.experiments._config import ExperimentConfig
from recollective.experiments._executors import make_executor
from recollective.experiments._store import ResultsStore

__all__ = ["plan_batches", "run_experiment"]

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
_PACKAGES = ("recollective", "numpy", "scipy", "pyarrow", "pydantic", "threadpoolctl", "torch", "implicit", "ray")


def plan_batches(cells: list[Cell], batch_size: int) -> list[list[Cell]]:
    """Cells grouped by (model, seed) in grid order, each group cut into batches of at most ``batch_size``."""
    groups: dict[tuple, list[Cell]] = {}
    for cell in cells:
        groups.setdefault((cell.model, cell.seed), []).append(cell)
    return [group[start : start + batch_size] for group in groups.values()
            for start in range(0, len(group), batch_size)]


def run_experiment(
    config: ExperimentConfig,
    root="runs",
    *,
    executor: str = "local",
    workers: int = 1,
    address: str | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int, dict], None] | None = None,
) -> dict:
    """Run every cell of ``config`` not yet stored under ``<root>/<config.name>``.

    Parameters
    ----------
    config : ExperimentConfig
    root : path, default "runs"
        Parent folder of run folders.
    executor : {"local", "ray"}
    workers : int >= 1
        Local processes (1: in this process), or CPUs of a local Ray instance.
    address : str, optional
        ``HOST:PORT`` of a Ray head (``executor="ray"`` only).
    batch_size : int >= 1, optional
        Cells per task and per stored file; default 1 in this process, else 4.
    progress : callable(done, total, info), optional
        Called once with the stored cells counted as done, then after each finished batch; ``info`` holds
        ``model``, ``seed`` and ``stored``/``ran``.

    Returns
    -------
    dict
        ``name``, ``run_dir``, ``total``, ``skipped`` (already stored), ``ran``, ``stored`` (now), ``executor``,
        ``workers``, ``seconds``.
    """
    from recollective.errors import InvalidParameterError

    started = time.perf_counter()
    runner = make_executor(executor, workers, address)
    if batch_size is None:
        batch_size = 1 if executor == "local" and workers == 1 else 4
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidParameterError(f"--batch-size must be an integer >= 1; got {batch_size!r}")
    store = ResultsStore(Path(root) / config.name)
    cells = expand_cells(config)
    hashes = [cell_hash(config, cell) for cell in cells]
    columns = ["cell", *CELL_KEYS, *config.metrics]
    with store.lock():
        stored = store.stored_hashes()
        pending = [cell for cell, h in zip(cells, hashes, strict=True) if h not in stored]
        skipped = len(cells) - len(pending)
        manifest = _manifest(config, cells, hashes, columns, store.read_manifest())
        record = {"started": _now(), "finished": None, "seconds": None, "executor": runner.description,
                  "batch_size": batch_size, "cells_skipped": skipped, "cells_ran": 0}
        manifest["runs"].append(record)
        store.write_manifest(manifest)
        if progress is not None:
            progress(skipped, len(cells), {"stored": skipped})
        done = skipped
        batches = plan_batches(pending, batch_size)
        document = config.model_dump(mode="json")
        tasks = [(document, [cell.as_dict() for cell in batch]) for batch in batches]
        if tasks:
            with runner:
                batch_started = time.perf_counter()
                for index, rows in runner.imap_unordered(run_batch, tasks):
                    seconds = time.perf_counter() - batch_started
                    store.write_rows(rows, columns, seconds=seconds)
                    done += len(rows)
                    record["cells_ran"] += len(rows)
                    first = batches[index][0]
                    logger.debug("stored %d cell(s) of %s seed %d", len(rows), first.model, first.seed)
                    if progress is not None:
                        progress(done, len(cells), {"model": first.model, "seed": first.seed, "ran": len(rows)})
        record["finished"] = _now()
        record["seconds"] = time.perf_counter() - started
        store.write_manifest(manifest)
    return {
        "name": config.name,
        "run_dir": str(store.run_dir),
        "total": len(cells),
        "skipped": skipped,
        "ran": record["cells_ran"],
        "stored": skipped + record["cells_ran"],
        "executor": runner.description,
        "workers": workers,
        "seconds": record["seconds"],
    }


def _manifest(config, cells, hashes, columns, previous: dict | None) -> dict:
    return {
        "format": MANIFEST_FORMAT,
        "name": config.name,
        "config": config.model_dump(mode="json"),
        "columns": columns,
        "cells": [{"cell": h, **cell.as_dict()} for cell, h in zip(cells, hashes, strict=True)],
        "versions": _versions(),
        "git": _git(),
        "machine": _machine(),
        "runs": list(previous.get("runs", [])) if previous else [],
    }


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git() -> dict | None:
    """The commit of the checkout the package runs from, and whether it has local changes (None outside git)."""
    source = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=source,
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}


def _machine() -> dict:
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "python_executable": sys.executable,
    }
