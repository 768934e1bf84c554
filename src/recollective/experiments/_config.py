"""Experiment configs: the campaign-sweep TOML schema, extended with a synthetic world and the metrics to store.

One schema: :class:`ExperimentConfig` is :class:`recollective.campaigns._config.SweepConfig` with ``[data]`` made
optional, a ``[world]`` section (the embedded synthetic majority–minority book world, no files needed), the list of
``metrics`` each result row keeps and the ``noise_floor`` switch. Exactly one of ``[data]`` and ``[world]`` is given.

Example (a tiny sweep that runs in seconds)::

    name = "tiny"
    seeds = [0, 1]
    k = 10
    metrics = ["target_exposure_before", "target_exposure_after", "ndcg_before", "ndcg_after"]

    [world]
    n_users = 300
    n_items = 150
    n_interactions = 5000

    [targets]
    method = "longtail"
    max_targets = 2
    min_audience = 5

    [campaign]
    participants = ["closest", "random"]
    sizes = [10, 20]

    [models.popularity]
    [models.itemknn]
    n_neighbors = 50
    [models.puresvd]
    n_factors = 16
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from recollective.campaigns._config import (
    DataSection,
    SweepConfig,
    read_toml,
    resolve_data_paths,
    validation_problems,
)
from recollective.campaigns._sweep import ROW_METRICS
from recollective.errors import ConfigError, InvalidParameterError, did_you_mean

__all__ = ["METRICS", "ExperimentConfig", "WorldSection", "load_experiment_config", "parse_experiment_config"]

METRICS = (
    *ROW_METRICS,
    "target_ndcg_before",
    "target_ndcg_after",
    "target_exposure_majority_before",
    "target_exposure_majority_after",
    "recall_before",
    "recall_after",
    "hit_rate_before",
    "hit_rate_after",
    "hit_rate_majority_before",
    "hit_rate_majority_after",
    "hit_rate_audience_before",
    "hit_rate_audience_after",
    "hits_before",
    "hits_after",
    "unchanged_share",
    "participants_unchanged_share",
    "aplt_before",
    "aplt_after",
    "gini_before",
    "gini_after",
    "n_selected",
    "n_test_users",
    "n_participants_in_test",
)
"""Scalar campaign metrics a result row may keep (keys of ``evaluate_campaign(...).summary``)."""


def _listed_once(values: list, what: str) -> list:
    """``values`` unchanged, or ValueError naming the entries that stand more than once."""
    if len(set(values)) != len(values):
        raise ValueError(f"{what} are listed twice: {sorted({v for v in values if values.count(v) > 1})}")
    return values


class WorldSection(BaseModel):
    """The synthetic world of :func:`recollective.data._worlds.majority_minority_world` (same argument names)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    kind: Literal["majority_minority"] = "majority_minority"
    n_users: int = Field(2000, ge=2)
    n_items: int = Field(1000, ge=2)
    n_interactions: int = Field(40_000, ge=1)
    minority_share: float = Field(0.2, gt=0, lt=1)
    minority_item_share: float = Field(0.2, gt=0, lt=1)
    rank_majority: int = Field(4, ge=1)
    rank_minority: int = Field(2, ge=1)
    cross_affinity: float = Field(0.0, ge=0, lt=1)
    popularity_exponent: float = Field(1.0, ge=0)
    minority_popularity: float = Field(1.0, gt=0)
    books_per_author: float = Field(4.0, ge=1)
    activity_sigma: float = Field(0.8, ge=0)
    min_user_interactions: int = Field(5, ge=0)
    values: Literal["implicit", "rating"] = "implicit"
    rating_noise: float = Field(0.5, ge=0)
    like_threshold: float = 0.5
    seed: int = Field(0, ge=0)

    def world_kwargs(self) -> dict:
        """Keyword arguments of ``majority_minority_world`` (``seed`` becomes ``rng``)."""
        kwargs = self.model_dump(exclude={"kind", "seed"})
        kwargs["rng"] = self.seed
        return kwargs


class ExperimentConfig(SweepConfig):
    """A campaign sweep on real data (``[data]``) or a synthetic world (``[world]``), stored cell by cell.

    Cells are models x participant policies x positions x sizes x seeds; see :mod:`recollective.experiments`.
    """

    data: DataSection | None = None
    world: WorldSection | None = None
    metrics: list[str] = Field(list(ROW_METRICS), min_length=1)
    noise_floor: bool = True

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value):
        bad = [name for name in value if name not in METRICS]
        if bad:
            raise ValueError(
                f"unknown metric(s) {bad}; choose from {', '.join(METRICS)}{did_you_mean(bad[0], METRICS)}"
            )
        return _listed_once(value, "metrics")

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value):
        if any(seed < 0 for seed in value):
            raise ValueError(f"seeds must be integers >= 0; got {value}")
        return _listed_once(value, "seeds")

    @field_validator("targets")
    @classmethod
    def _explicit_targets(cls, value):
        if value.method == "explicit" and not value.item_ids and not value.authors:
            raise ValueError("method 'explicit' needs item_ids or authors (or both)")
        return value

    @field_validator("campaign")
    @classmethod
    def _distinct_grid_values(cls, value):
        for what in ("participants", "positions", "sizes"):
            values = getattr(value, what)
            if len(set(map(repr, values))) != len(values):
                raise ValueError(f"{what} lists a value twice: {values}")
        return value

    @model_validator(mode="after")
    def _one_source(self):
        if (self.data is None) == (self.world is None):
            raise ValueError("give exactly one of [data] (a file) or [world] (a synthetic world)")
        return self


def parse_experiment_config(raw: dict, source: str = "<config>", base: Path | None = None) -> ExperimentConfig:
    """Validate a config given as a dict (as read from TOML); relative data paths resolve against ``base``.

    Raises
    ------
    ConfigError
        ``<source>: <dotted.field>: <message>`` for every problem, separated by ``; ``; hyper-parameters are
        checked by the models' own rules once the rest is valid (``<source>: models.<name>: <message>``).
    """
    try:
        config = ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {validation_problems(exc)}") from None
    from recollective.models import make_model

    for name, params in config.models.items():
        try:
            make_model(name, **params).checked_params()
        except InvalidParameterError as exc:
            message = str(exc).removeprefix(f"{name}: ")
            raise ConfigError(f"{source}: models.{name}: {message}") from None
    if config.data is None or base is None:
        return config
    return config.model_copy(update={"data": resolve_data_paths(config.data, base)})


def load_experiment_config(path) -> ExperimentConfig:
    """Read and validate an experiment TOML file; relative paths inside resolve against the file's folder.

    Raises
    ------
    ConfigError
        ``<file>: <dotted.field>: <message>`` for every problem (unreadable file, TOML syntax, validation).
    """
    path = Path(path)
    raw = read_toml(path)
    return parse_experiment_config(raw, str(path), path.resolve().parent)
