"""Grid expansion and the cell function: each cell is a pure function of (config, cell) giving one result row.

A cell is one (model, participants, position, size, seed). Its row holds the cell's keys, its hash and the
config's ``metrics`` from :func:`recollective.campaigns.evaluate_campaign`. Inside one process the prepared
inputs (data or world, split, targets, audience, embedding) and the fitted baseline with its noise floor per
(model, seed) are cached; a cached value is exactly what a fresh computation gives (``evaluate_campaign`` refits a
deep copy), so rows never depend on which cells ran before or where.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from recollective.experiments._config import ExperimentConfig

__all__ = ["CELL_KEYS", "Cell", "cell_hash", "expand_cells", "pinned_threads", "prepared_inputs", "run_batch",
           "run_cell"]

CELL_KEYS = ("model", "participants", "position", "size", "seed")
ROW_FORMAT = 1  # bump when the meaning of a row changes: every cell hash changes with it
_BASELINES_KEPT = 4  # fitted baselines cached per process (a worker usually works through one (model, seed))


@dataclass(frozen=True)
class Cell:
    """One point of the grid."""

    model: str
    participants: str
    position: str
    size: float | int
    seed: int

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Cell:
        return cls(**{key: values[key] for key in CELL_KEYS})


def expand_cells(config: ExperimentConfig) -> list[Cell]:
    """All cells, in the grid's order: models x participants x positions x sizes x seeds (config order)."""
    campaign = config.campaign
    return [
        Cell(model, policy, position, size, int(seed))
        for model in config.models
        for policy in campaign.participants
        for position in campaign.positions
        for size in campaign.sizes
        for seed in config.seeds
    ]


def _inputs_spec(config: ExperimentConfig) -> dict:
    """The parts of the config that every cell's inputs depend on (JSON-ready)."""
    document = config.model_dump(mode="json", include={"data", "world", "split", "targets", "k", "noise_floor"})
    campaign = config.campaign
    document["campaign"] = {"rating": campaign.rating, "budget": campaign.budget,
                            "participation": campaign.participation}
    return document


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)


def cell_hash(config: ExperimentConfig, cell: Cell) -> str:
    """SHA-256 (hex) of everything the cell's row depends on: inputs, the model's hyper-parameters, the cell, the
    metrics kept. Other cells of the grid (more seeds, more sizes, other models) leave it unchanged."""
    document = {
        "row_format": ROW_FORMAT,
        "inputs": _inputs_spec(config),
        "model_params": config.models[cell.model],
        "metrics": list(config.metrics),
        "cell": cell.as_dict(),
    }
    return hashlib.sha256(_canonical(document).encode()).hexdigest()


# --------------------------------------------------------------------------------------------- the cell
@dataclass(frozen=True)
class _Inputs:
    train: Any
    test: Any
    targets: tuple
    audience: np.ndarray
    embedding: np.ndarray
    world: Any = None


_INPUTS: dict[str, _Inputs] = {}
_BASELINES: OrderedDict[tuple, tuple] = OrderedDict()


def _prepare(config: ExperimentConfig) -> _Inputs:
    key = _canonical(_inputs_spec(config))
    if key not in _INPUTS:
        _INPUTS.clear()
        _BASELINES.clear()
        _INPUTS[key] = _load_inputs(config)
    return _INPUTS[key]


def prepared_inputs(config: ExperimentConfig) -> _Inputs:
    """The shared inputs of every cell of ``config`` (cached in this process, as the cells use them)."""
    return _prepare(config)


def forget_inputs() -> None:
    """Drop this process's cached inputs and baselines (when the cells run elsewhere)."""
    _INPUTS.clear()
    _BASELINES.clear()


def _load_inputs(config: ExperimentConfig) -> _Inputs:
    from recollective.campaigns import target_audience, user_embedding
    from recollective.campaigns._config import load_config_data, split_and_select_targets

    world = None
    if config.world is not None:
        from recollective.data._worlds import majority_minority_world

        world = majority_minority_world(**config.world.world_kwargs())
        data = world.interactions
    else:
        data = load_config_data(config.data)
    spec = config.targets
    train, test, targets = split_and_select_targets(data, config.split, spec)
    target_idx = tuple(int(t) for t in targets.item_idx)
    audience = target_audience(test, target_idx, spec.relevance_threshold)
    embedding = user_embedding(train, rng=0) if "closest" in config.campaign.participants else None
    return _Inputs(train, test, target_idx, audience, embedding, world)


def _baseline(config: ExperimentConfig, inputs: _Inputs, name: str, seed: int) -> tuple:
    """(fitted baseline, noise floor) of model ``name`` at ``seed``, cached in this process.

    The cache key leaves out the model's ``refit_params`` (which ``fit`` ignores): a baseline fitted for one
    refit setting serves the others, as a copy carrying the requested values (its ``refit`` then does what they
    say; see :meth:`recollective.models.Recommender.refit`). Two configs that differ only there (the LLM's
    ``refit_mode``), run in one process, fit and score each baseline and its noise floor once.
    """
    import copy

    from recollective.campaigns import estimate_noise_floor
    from recollective.models import make_model

    params = config.models[name]
    template = make_model(name, **params)
    refit_only = type(template).refit_params
    key = (name, _canonical({p: v for p, v in params.items() if p not in refit_only}), seed)
    if key in _BASELINES:
        _BASELINES.move_to_end(key)
        baseline, floor = _BASELINES[key]
        wanted = {p: template.get_params()[p] for p in refit_only}
        if any(baseline.get_params()[p] != value for p, value in wanted.items()):
            baseline = copy.deepcopy(baseline).set_params(**wanted)
        return baseline, floor
    if "extra_candidates" in template.get_params() and not template.get_params()["extra_candidates"]:
        template.set_params(extra_candidates=inputs.targets)  # re-ranking models always rank the campaign's targets
    model = template.clone()
    if "rng" in model.get_params():
        model.set_params(rng=int(seed))
    baseline = model.fit(inputs.train)
    floor = (
        estimate_noise_floor(template, inputs.train, inputs.test, config.k, seeds=(seed, seed + 1_000_003),
                             fitted=baseline, relevance_threshold=config.targets.relevance_threshold,
                             world=inputs.world)
        if config.noise_floor
        else 0.0
    )
    _BASELINES[key] = (baseline, floor)
    while len(_BASELINES) > _BASELINES_KEPT:
        _BASELINES.popitem(last=False)
    return baseline, floor


def cell_outcome(config: ExperimentConfig, cell: Cell):
    """The full :class:`~recollective.campaigns.CampaignOutcome` of ``cell`` (per-user utilities included), computed
    exactly as :func:`run_cell` computes the row."""
    from recollective.campaigns import Campaign, evaluate_campaign

    inputs = _prepare(config)
    baseline, floor = _baseline(config, inputs, cell.model, cell.seed)
    campaign = Campaign(targets=inputs.targets, participants=cell.participants, size=cell.size,
                        rating=config.campaign.rating, position=cell.position, budget=config.campaign.budget,
                        participation=config.campaign.participation)
    return evaluate_campaign(baseline, inputs.train, inputs.test, campaign, k=config.k, rng=cell.seed,
                             audience=inputs.audience, relevance_threshold=config.targets.relevance_threshold,
                             noise_floor=floor, embedding=inputs.embedding, world=inputs.world)


def run_cell(config: ExperimentConfig, cell: Cell) -> dict:
    """The result row of ``cell``: its keys, ``cell`` (the hash) and ``config.metrics`` (JSON scalars)."""
    outcome = cell_outcome(config, cell)
    row = {"cell": cell_hash(config, cell), **cell.as_dict()}
    for metric in config.metrics:
        value = outcome.summary[metric]
        row[metric] = value.item() if isinstance(value, np.generic) else value
    return row


def run_batch(config_document: dict, cells: Sequence[dict], threads: int = 1, inputs: _Inputs | None = None
              ) -> list[dict]:
    """Rows of ``cells`` (dicts of :data:`CELL_KEYS`) under ``config_document`` (``config.model_dump(mode="json")``),
    with BLAS and torch limited to ``threads`` threads. The executors' task function.

    ``inputs`` are the config's prepared inputs built elsewhere (:func:`prepared_inputs` in the driver, handed over
    by Ray's object store): used instead of loading and splitting the data again in this process.
    """
    config = ExperimentConfig.model_validate(config_document)
    if inputs is not None:
        key = _canonical(_inputs_spec(config))
        if key not in _INPUTS:
            _INPUTS.clear()
            _BASELINES.clear()
            _INPUTS[key] = inputs
    with pinned_threads(threads):
        return [run_cell(config, Cell.from_dict(cell)) for cell in cells]


@contextmanager
def pinned_threads(threads: int = 1) -> Iterator[None]:
    """Limit BLAS/OpenMP pools (threadpoolctl) and torch's intra-op threads to ``threads``; restored on exit.

    torch (a dependency; the ranking code uses it) is imported first so that its OpenMP pool is limited too.
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)
