"""Run an experiment config into its results store, resuming where an earlier run stopped.

The grid is expanded into cells; cells whose hash is already stored are skipped; the rest are grouped by
(model, seed) (so a worker fits each baseline once), cut into batches and sent to the executor; each finished
batch is written at once as one Parquet file. A run killed at any point loses only the batches in flight.

Before anything is written, :func:`recollective.experiments._preflight.check_run` checks the grid's size, the
world's memory and every shared input, so a config that cannot run leaves no run folder behind; stored files
that are missing, truncated or altered (their SHA-256 is in the manifest) are computed again.
"""

from __future__ import annotations

import contextlib
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

from recollective.errors import DataError, InvalidParameterError
from recollective.experiments._cells import (
    CELL_KEYS,
    Cell,
    cell_hash,
    expand_cells,
    forget_inputs,
    prepared_inputs,
    run_batch,
)
from recollective.experiments._config import ExperimentConfig
from recollective.experiments._executors import make_executor
from recollective.experiments._preflight import MAX_CELLS, check_run
from recollective.experiments._store import MANIFEST, ResultsStore, file_sha256

__all__ = ["plan_batches", "run_experiment"]

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
_MANIFEST_EVERY = 10.0  # seconds between manifest writes during a run (file checksums recorded so far)
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
    yes: bool = False,
    max_cells: int = MAX_CELLS,
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
    yes : bool
        Run a grid above ``max_cells`` cells, or a world larger than this machine's memory, anyway.
    max_cells : int, default :data:`~recollective.experiments._preflight.MAX_CELLS`

    Returns
    -------
    dict
        ``name``, ``run_dir``, ``total``, ``skipped`` (already stored), ``ran``, ``stored`` (now), ``executor``,
        ``workers``, ``seconds``, ``repaired`` (one note per stored file found missing or damaged and computed
        again).

    Raises
    ------
    RecollectiveError
        Before anything is written: bad options, a grid or world too large (without ``yes``), a missing or
        malformed data file, unknown targets, a size larger than a policy's eligible users.
    """
    started = time.perf_counter()
    runner = make_executor(executor, workers, address)
    if batch_size is None:
        batch_size = 1 if executor == "local" and workers == 1 else 4
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidParameterError(f"--batch-size must be an integer >= 1; got {batch_size!r}")
    store = ResultsStore(Path(root) / config.name)
    check_run(config, yes=yes, max_cells=max_cells, prepare=False)  # the grid's size before expanding it
    cells = expand_cells(config)
    hashes = [cell_hash(config, cell) for cell in cells]
    columns = ["cell", *CELL_KEYS, *config.metrics]
    checked = not set(hashes) <= _stored_without_lock(store)
    if checked:
        check_run(config, yes=yes, max_cells=max_cells)  # every shared input, before anything is written
    with store.lock():
        previous = store.read_manifest()
        files, stored, repaired = store.check_files((previous or {}).get("files", {}))
        for note in repaired:
            logger.info("%s", note)
        pending = [cell for cell, h in zip(cells, hashes, strict=True) if h not in stored]
        if pending and not checked:  # stored cells were damaged: their inputs are needed after all
            check_run(config, yes=yes, max_cells=max_cells)
        shared = None
        if executor == "ray" and pending:
            shared = prepared_inputs(config)  # built once here, put once into Ray's object store for every task
        elif executor != "local" or workers > 1:
            forget_inputs()  # the pool's processes build their own
        skipped = len(cells) - len(pending)
        manifest = _manifest(config, cells, hashes, columns, previous)
        manifest["files"] = files
        record = {"started": _now(), "finished": None, "seconds": None, "executor": runner.description,
                  "batch_size": batch_size, "cells_skipped": skipped, "cells_ran": 0,
                  "files_repaired": len(repaired)}
        manifest["runs"].append(record)
        store.write_manifest(manifest)
        saved = time.monotonic()
        if progress is not None:
            progress(skipped, len(cells), {"stored": skipped})
        done = skipped
        batches = plan_batches(pending, batch_size)
        document = config.model_dump(mode="json")
        tasks = [(document, [cell.as_dict() for cell in batch]) for batch in batches]
        try:
            if tasks:
                with runner:
                    batch_started = time.perf_counter()
                    for index, rows in runner.imap_unordered(run_batch, tasks, shared=shared):
                        seconds = time.perf_counter() - batch_started
                        written = store.write_rows(rows, columns, seconds=seconds)
                        files[written.name] = {"sha256": file_sha256(written), "n_cells": len(rows)}
                        if time.monotonic() - saved >= _MANIFEST_EVERY:
                            store.write_manifest(manifest)
                            saved = time.monotonic()
                        done += len(rows)
                        record["cells_ran"] += len(rows)
                        first = batches[index][0]
                        logger.debug("stored %d cell(s) of %s seed %d", len(rows), first.model, first.seed)
                        if progress is not None:
                            progress(done, len(cells), {"model": first.model, "seed": first.seed, "ran": len(rows)})
        except BaseException:  # record the checksums of what was stored; the original error goes on
            with contextlib.suppress(Exception):
                store.write_manifest(manifest)
            raise
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
        "repaired": repaired,
    }


def _stored_without_lock(store: ResultsStore) -> set[str]:
    """Cells the store seems to hold (read-only, nothing verified): whether a run has anything left to do."""
    if not (store.run_dir / MANIFEST).is_file():
        return set()
    try:
        return store.stored_hashes()
    except DataError:
        return set()  # a damaged file: the run repairs it, after checking its inputs


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
