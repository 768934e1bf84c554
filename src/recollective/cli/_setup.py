"""A recommender evaluated on a split of a data file: the data, model, split and evaluation families as one object.

``models evaluate``, ``campaign run | plan | design`` and ``attack run | study`` declare ``setup: Setup`` and are
decorated with :func:`with_setup`: Typer sees ``--model``, ``--param`` (and, for commands about target items, the
target family ``--target-items``, ``--target-author``), the split flags, ``--seed``, ``--k`` and
``--relevance-threshold`` where ``setup`` stands, and ``--data`` with the data flags last; the command gets one
:class:`Setup` that loads, splits, resolves the targets and builds the model the same way for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

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
    split_list,
)
from recollective.errors import InvalidParameterError

__all__ = ["Setup", "TargetAuthorOpt", "TargetItemsOpt", "with_setup"]

TargetItemsOpt = Annotated[
    str | None, typer.Option("--target-items", help="Target items: raw item ids of the file, comma-separated.")
]
TargetAuthorOpt = Annotated[
    list[str] | None, typer.Option("--target-author", help="Every book by this author is a target (repeat).")
]


@dataclass(frozen=True)
class Setup:
    """What to read, which model, how to split, the seed, the list length K and what counts as relevant."""

    source: DataSource
    model: ModelChoice
    split: Split
    seed: int = 0
    k: int = 10
    relevance_threshold: float | None = None
    target_items: tuple[str, ...] = ()
    target_authors: tuple[str, ...] = ()

    def build_model(self):
        """The model with its ``--param`` hyper-parameters, checked before any data is read, seeded by ``seed``."""
        return self.model.build(self.seed)

    def load_split(self):
        """(data, train, test): the data file, its optional k-core, and the seeded split."""
        return self.split.apply(self.source.load().interactions, self.seed)

    def describe(self, recommender) -> dict:
        """What a result document says about its setup: model, hyper-parameters, data, split and seed."""
        return {"model": self.model.value, "params": recommender.get_params(), "data": str(self.source.path),
                "split": self.split.method.value, "seed": self.seed}

    def prepare(self):
        """(recommender, train, test, target set): the model, the split, and the target items with their audience
        (test users with a relevant held-out interaction on a target)."""
        from recollective.data._targets import explicit_targets

        recommender = self.build_model()
        if not self.target_items and not self.target_authors:
            raise InvalidParameterError("no targets: give --target-items ID[,ID...] and/or --target-author NAME")
        _, train, test = self.load_split()
        targets = explicit_targets(
            train, item_ids=list(self.target_items) or None, authors=list(self.target_authors) or None,
            audience_from=test, threshold=self.relevance_threshold,
        )
        if targets.n_targets == 0:
            raise InvalidParameterError("the target set is empty after resolving --target-items / --target-author")
        return recommender, train, test, targets


def with_setup(default_model: ModelName, *, targets: bool = False, seed_option=SeedOpt):
    """Decorate a command taking ``setup: Setup``; ``targets`` adds the target flags; ``seed_option`` is the
    ``Annotated`` alias of its seed flag (``attack study`` calls it ``--split-seed``)."""
    data = data_flags()
    target_flags = {"target_items": (TargetItemsOpt, None), "target_author": (TargetAuthorOpt, None)}
    flags = {
        **model_flags(default_model),
        **(target_flags if targets else {}),
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
            tuple(split_list(values.get("target_items"))),
            tuple(values.get("target_author") or ()),
        )

    return option_group("setup", flags, build, last=tuple(data))
