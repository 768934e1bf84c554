"""The campaign-sweep experiment as a TOML file, validated with pydantic (field paths in every error).

Example (``configs/goodbooks_campaign.toml``)::

    name = "goodbooks-campaign"
    seeds = [0, 1, 2]
    k = 10

    [data]
    path = "../shared/data/goodbooks-10k"     # relative paths are relative to the config file

    [split]
    method = "random-holdout"
    test_fraction = 0.2

    [targets]
    method = "longtail"            # or "explicit" with item_ids / authors
    max_targets = 3
    min_audience = 20

    [campaign]
    participants = ["closest"]
    positions = ["append"]
    sizes = [0.005, 0.01, 0.02, 0.05]
    rating = 5.0

    [models.puresvd]
    [models.ease]
    regularization = 500.0
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from recollective.campaigns._spec import PARTICIPANT_POLICIES, POSITION_POLICIES
from recollective.errors import ConfigError, did_you_mean, plain_message
from recollective.models._registry import MODEL_NAMES

__all__ = [
    "SweepConfig",
    "load_config_data",
    "load_sweep_config",
    "read_toml",
    "resolve_data_paths",
    "split_and_select_targets",
    "validation_problems",
]


class _Section(BaseModel):
    # strict: TOML's true is not the number 1 (seeds = [true, false] is an error); no NaN or infinity anywhere
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class DataSection(_Section):
    """Where the interactions are and how to read them (the data layer's options)."""

    path: Path = Field(strict=False)  # TOML gives a string
    format: Literal["csv", "tsv", "parquet", "goodreads", "goodbooks", "movielens"] | None = None
    sep: str | None = None
    user_col: str | None = None
    item_col: str | None = None
    rating_col: str | None = None
    order_col: str | None = None
    items: Path | None = Field(None, strict=False)
    k_core_users: int = Field(0, ge=0)
    k_core_items: int = Field(0, ge=0)
    sample_users: int | None = Field(None, ge=1)
    """Keep a random sample of this many users (after the k-core), drawn with ``sample_seed``."""
    sample_seed: int = Field(0, ge=0)


class SplitSection(_Section):
    method: Literal["random-holdout", "leave-last-out", "temporal"] = "random-holdout"
    test_fraction: float = Field(0.2, gt=0, lt=1)
    seed: int = Field(0, ge=0)


class TargetSection(_Section):
    """``explicit`` (``item_ids`` and/or ``authors``) or ``longtail`` (authors outside the popularity head)."""

    method: Literal["explicit", "longtail"] = "longtail"
    item_ids: list[str | int] = []
    authors: list[str] = []
    max_targets: int = Field(3, ge=1)
    min_audience: int = Field(10, ge=1)
    head_share: float = Field(0.8, gt=0, lt=1)
    by: Literal["author", "item"] = "author"
    relevance_threshold: float | None = None


class CampaignSection(_Section):
    participants: list[str] = ["closest"]
    positions: list[str] = ["append"]
    sizes: list[float | int] = Field([0.005, 0.01, 0.02, 0.05], min_length=1)
    rating: float = 5.0
    budget: int | None = Field(None, ge=1)
    participation: float = Field(1.0, gt=0, le=1)

    @field_validator("participants")
    @classmethod
    def _policies(cls, value):
        bad = [v for v in value if v not in PARTICIPANT_POLICIES or v == "explicit"]
        if bad or not value:
            allowed = ", ".join(p for p in PARTICIPANT_POLICIES if p != "explicit")
            raise ValueError(f"each entry must be one of {allowed}; got {bad or value}"
                             f"{did_you_mean(bad[0], allowed.split(', ')) if bad else ''}")
        return value

    @field_validator("positions")
    @classmethod
    def _positions(cls, value):
        bad = [v for v in value if v not in POSITION_POLICIES]
        if bad or not value:
            raise ValueError(f"each entry must be one of {', '.join(POSITION_POLICIES)}; got {bad or value}"
                             f"{did_you_mean(bad[0], POSITION_POLICIES) if bad else ''}")
        return value

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, value):
        for size in value:
            if (isinstance(size, int) and size < 1) or (isinstance(size, float) and not 0 < size < 1):
                raise ValueError(f"sizes are shares in (0, 1) or counts >= 1; got {size!r}")
        return value


class SweepConfig(_Section):
    """A campaign sweep: models x participant policies x positions x sizes x seeds on one split."""

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    seeds: list[int] = Field([0, 1, 2], min_length=1)
    k: int = Field(10, ge=1)
    data: DataSection
    split: SplitSection = SplitSection()
    targets: TargetSection = TargetSection()
    campaign: CampaignSection = CampaignSection()
    models: dict[str, dict[str, Any]] = Field(min_length=1)

    @field_validator("models")
    @classmethod
    def _models(cls, value):
        bad = [name for name in value if name not in MODEL_NAMES]
        if bad:
            raise ValueError(
                f"unknown model(s) {bad}; choose from {', '.join(MODEL_NAMES)}{did_you_mean(bad[0], MODEL_NAMES)}"
            )
        for name, params in value.items():
            for key, param in params.items():
                if isinstance(param, float) and not math.isfinite(param):
                    raise ValueError(f"{name}.{key} is {param}; give a finite number")
        return value


def read_toml(path) -> dict:
    """The parsed TOML file at ``path``; ``ConfigError`` ``<file>: ...`` when it is missing, a folder, unreadable or
    not TOML."""
    from recollective._files import read_regular

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such config file")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give a .toml file")
    try:  # a FIFO or a device is refused, not waited on or read forever
        return tomllib.loads(read_regular(path, "a .toml file", ConfigError).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def validation_problems(error: ValidationError) -> str:
    """pydantic's errors as ``dotted.field: message`` joined by ``; `` (a boolean given for a number says so;
    pydantic's own prefixes such as ``Value error, `` left out)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or '(top level)'}: {plain_message(item['msg'])}"
        + (f" (got {str(item['input']).lower()})" if isinstance(item.get("input"), bool) else "")
        for item in error.errors()
    )


def resolve_data_paths(data: DataSection, base: Path) -> DataSection:
    """``data`` with its relative ``path`` and ``items`` resolved against the config file's folder ``base``."""
    updates = {"path": data.path if data.path.is_absolute() else base / data.path}
    if data.items is not None and not data.items.is_absolute():
        updates["items"] = base / data.items
    return data.model_copy(update=updates)


def load_sweep_config(path) -> SweepConfig:
    """Read and validate a sweep TOML file; relative paths inside resolve against the file's folder.

    Raises
    ------
    ConfigError
        ``<file>: <dotted.field>: <message>`` for every problem (unreadable file, TOML syntax, validation).
    """
    path = Path(path)
    raw = read_toml(path)
    try:
        config = SweepConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {validation_problems(exc)}") from None
    return config.model_copy(update={"data": resolve_data_paths(config.data, path.resolve().parent)})


def load_config_data(section: DataSection):
    """The interactions a ``[data]`` section names: read with its options, k-core, then a user sample."""
    from recollective.data._loading import read_interactions
    from recollective.data._preprocess import k_core, sample_users

    options = {
        "sep": section.sep, "user_col": section.user_col, "item_col": section.item_col,
        "rating_col": section.rating_col, "order_col": section.order_col, "items_path": section.items,
    }
    data = read_interactions(section.path, section.format,
                             **{k: v for k, v in options.items() if v is not None}).interactions
    if section.k_core_users or section.k_core_items:
        data = k_core(data, section.k_core_users, section.k_core_items)
    if section.sample_users is not None:
        data = sample_users(data, section.sample_users, rng=section.sample_seed)
    return data


def split_and_select_targets(data, split: SplitSection, spec: TargetSection):
    """(train, test, targets): the ``[split]`` of ``data`` and the ``[targets]`` chosen on it (audience from test).

    Raises ``InvalidParameterError`` when explicit targets name nothing or the selection is empty.
    """
    from recollective.data._splits import split_interactions
    from recollective.data._targets import explicit_targets, longtail_targets
    from recollective.errors import DataError, InvalidParameterError

    train, test = split_interactions(data, split.method, split.test_fraction, rng=split.seed)
    if spec.method == "explicit":
        if not spec.item_ids and not spec.authors:
            raise InvalidParameterError("targets.item_ids and targets.authors are both empty (method explicit)")
        try:
            targets = explicit_targets(train, item_ids=spec.item_ids or None, authors=spec.authors or None,
                                       audience_from=test, threshold=spec.relevance_threshold)
        except DataError as exc:  # name the config field: an id or author the training data does not have
            fields = " / ".join(f"targets.{name}" for name in ("item_ids", "authors") if getattr(spec, name))
            raise DataError(f"{fields}: {exc}") from None
    else:
        targets = longtail_targets(train, audience_from=test, head_share=spec.head_share,
                                   min_audience=spec.min_audience, by=spec.by, max_targets=spec.max_targets,
                                   threshold=spec.relevance_threshold)
    if targets.n_targets == 0:
        raise InvalidParameterError("targets: the selection is empty; lower targets.min_audience or name targets")
    return train, test, targets
