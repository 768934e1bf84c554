"""Experiments: TOML configs, a grid of cells run by a local or Ray executor, and a resumable Parquet store.

A config (:class:`ExperimentConfig`, read by :func:`load_experiment_config`) describes the data or a synthetic
world, the split, the targets, the campaign grid (participant policies, positions, sizes), the models with their
hyper-parameters, the seeds, ``k`` and the metrics to keep. :func:`expand_cells` turns it into cells (model x
participants x position x size x seed); :func:`run_cell` is a pure function of (config, cell) giving one row.
:func:`run_experiment` stores rows under ``runs/<name>/`` (manifest plus atomically written Parquet files) and
skips cells already stored, so running the same command again resumes. :func:`load_results` reads the rows back
in grid order.
"""

from recollective.experiments._cells import CELL_KEYS, Cell, cell_hash, cell_outcome, expand_cells, run_cell
from recollective.experiments._config import (
    METRICS,
    ExperimentConfig,
    WorldSection,
    load_experiment_config,
    parse_experiment_config,
)
from recollective.experiments._executors import EXECUTORS, make_executor
from recollective.experiments._runner import run_experiment
from recollective.experiments._store import ResultsStore, load_results, load_table

__all__ = [
    "CELL_KEYS",
    "EXECUTORS",
    "METRICS",
    "Cell",
    "ExperimentConfig",
    "ResultsStore",
    "WorldSection",
    "cell_hash",
    "cell_outcome",
    "expand_cells",
    "load_experiment_config",
    "load_results",
    "load_table",
    "make_executor",
    "parse_experiment_config",
    "run_cell",
    "run_experiment",
]
