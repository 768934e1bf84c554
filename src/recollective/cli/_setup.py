"""A recommender evaluated on a split of a data file: the data, model, split and evaluation families as one object.

``models evaluate``, ``campaign run | plan`` and ``attack run | study`` declare ``setup: Setup`` and are decorated
with :func:`with_setup`: Typer sees ``--model``, ``--param``, the split flags, ``--seed``, ``--k`` and
``--relevance-threshold`` where ``setup`` stands, and ``--data`` with the data flags last; the command gets one
:class:`Setup` that loads, splits and builds the model the same way for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from recollective.cli._data_source import DataSource, data_flags, source_from_flags
from recollective.cli._options import (
    SPLIT_FLAGS,
    KOpt,
    ModelChoice,
    ModelName,
    RelevanceOpt,
    SeedOpt,
    Split,
    model_flags,
    model_from_flags,
    option_group,
)

__all__ = ["Setup", "with_setup"]


@dataclass(frozen=True)
class Setup:
    """What to read, which model, how to split, the seed, the list length K and what counts as relevant."""

    source: DataSource
    model: ModelChoice
    split: Split
    seed: int = 0
    k: int = 10
    relevance_threshold: float | None = None

    def build_model(self):
        """The model with its ``--param`` hyper-parameters, checked before any data is read, seeded by ``seed``."""
        return self.model.build(self.seed)

    def load_split(self):
        """(data, train, test): the data file, its optional k-core, and the seeded split."""
        return self.split.apply(self.source.load().interactions, self.seed)


def with_setup(default_model: ModelName, *, seed_option=SeedOpt):
    """Decorate a command taking ``setup: Setup``; ``seed_option`` is the ``Annotated`` alias of its seed flag
    (``attack study`` calls it ``--split-seed``)."""
    data = data_flags()
    flags = {
        **model_flags(default_model),
        "split_method": SPLIT_FLAGS["split_method"],
        "test_fraction": SPLIT_FLAGS["test_fraction"],
        "seed": (seed_option, 0),
        "k": (KOpt, 10),
        "k_core_users": SPLIT_FLAGS["k_core_users"],
        "k_core_items": SPLIT_FLAGS["k_core_items"],
        "relevance_threshold": (RelevanceOpt, None),
        **data,
    }  # the order of --help

    def build(values: dict) -> Setup:
        return Setup(
            source_from_flags({name: values[name] for name in data}),
            model_from_flags(values),
            Split.from_flags(values),
            values["seed"],
            values["k"],
            values["relevance_threshold"],
        )

    return option_group("setup", flags, build, last=tuple(data))
