"""Options shared by several commands, declared once per family, with the same types and help everywhere.

Families (the data-source family lives in :mod:`recollective.cli._data_source`):

* **split** — ``--split``, ``--test-fraction``, ``--k-core-users``, ``--k-core-items``: a command declares
  ``split: Split`` and is decorated with :func:`with_split_options`;
* **model** — ``--model`` and ``--param name=value``: ``model: ModelChoice`` with
  :func:`with_model_options`;
* **evaluation** — ``--seed``, ``--k``, ``--relevance-threshold`` (``SeedOpt``, ``KOpt``, ``RelevanceOpt``);
* **output** — ``--json`` and ``--quiet`` (``JsonOpt``, ``QuietOpt``).

A family of several flags is added by :func:`option_group`: the flags take the place of one parameter in the
command's signature, so Typer sees each flag, and the command receives one object built from their values.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from recollective.errors import InvalidParameterError, unknown_name
from recollective.models._registry import MODEL_NAMES

__all__ = [
    "REQUIRED",
    "JsonOpt",
    "KOpt",
    "ModelChoice",
    "ModelName",
    "QuietOpt",
    "RelevanceOpt",
    "SeedOpt",
    "Split",
    "SplitName",
    "option_group",
    "parse_collective",
    "parse_floats",
    "parse_params",
    "parse_size",
    "split_list",
    "with_model_options",
    "with_split_options",
]

REQUIRED = inspect.Parameter.empty


def option_group(
    parameter: str,
    flags: dict[str, tuple[Any, Any]],
    build: Callable[[dict], Any],
    *,
    first: tuple[str, ...] = (),
    last: tuple[str, ...] = (),
):
    """A decorator that replaces the command parameter ``parameter`` by ``flags`` and passes ``build(values)``.

    Parameters
    ----------
    parameter : str
        Name of the command's parameter that receives the built object.
    flags : dict of str to (annotation, default)
        Keyword parameters Typer will see (``Annotated`` aliases), in order; ``REQUIRED`` for no default.
    build : callable
        Turns the dict of the flags' values (by name) into the object the command receives.
    first, last : tuple of str
        Flags placed at the start of the signature (positional arguments that must precede the command's own) or
        at its end (where ``--help`` lists them last); the others take the place of ``parameter``.
    """

    def decorate(command):
        signature = inspect.signature(command, eval_str=True)

        def added(names):
            keyword = inspect.Parameter.KEYWORD_ONLY
            return [inspect.Parameter(n, keyword, annotation=flags[n][0], default=flags[n][1]) for n in names]

        parameters = added(first)
        for name, kept in signature.parameters.items():
            if name == parameter:
                parameters += added([flag for flag in flags if flag not in first and flag not in last])
            else:
                parameters.append(kept.replace(kind=inspect.Parameter.KEYWORD_ONLY))
        parameters += added(last)

        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            values = {name: kwargs.pop(name) for name in flags if name in kwargs}
            return command(*args, **{parameter: build(values)}, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=parameters)
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper

    return decorate


def split_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (a comma-separated option)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def parse_size(text: str, option: str = "--size"):
    """``"0.02"`` -> 0.02 (a share), ``"50"`` -> 50 (a count); InvalidParameterError naming ``option``."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    raise InvalidParameterError(f"{option} must be a share like 0.02 or a count like 50; got {text!r}")


def parse_floats(text: str, option: str, example: str = "0.01,0.05") -> list[float]:
    """``"0.01,0.05"`` -> ``[0.01, 0.05]``; InvalidParameterError naming ``option`` when a part is not a number or
    nothing is given."""
    values = []
    for part in split_list(text):
        try:
            values.append(float(part))
        except ValueError:
            raise InvalidParameterError(f"{option}: {part!r} is not a number; give e.g. {example}") from None
    if not values:
        raise InvalidParameterError(f"{option} is empty; give comma-separated numbers such as {example}")
    return values


def parse_collective(members: str | None, targets: str | None, uprating: float | None):
    """``--members``, ``--targets`` and ``--uprating`` of the game commands: (member indices, target indices, x),
    or None when none of the three is given; InvalidParameterError when only some are."""
    from recollective.cli._output import parse_index_list

    given = [value is not None for value in (members, targets, uprating)]
    if not any(given):
        return None
    if not all(given):
        raise InvalidParameterError("--members, --targets and --uprating go together: give all three or none")
    return parse_index_list(members, "--members"), parse_index_list(targets, "--targets"), uprating


# Output.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]

# Evaluation.
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of the split and the model.")]
KOpt = Annotated[int, typer.Option("--k", min=1, help="Length of the recommendation lists.")]
RelevanceOpt = Annotated[
    float | None,
    typer.Option("--relevance-threshold", help="Held-out value that counts as relevant (e.g. 4); default: any."),
]


# Split.
class SplitName(StrEnum):
    random_holdout = "random-holdout"
    leave_last_out = "leave-last-out"
    temporal = "temporal"


def _split_name(text) -> SplitName:
    """A split name; ``random`` and ``last`` (``data targets``' former spellings) are read as ``random-holdout``
    and ``leave-last-out``."""
    if isinstance(text, SplitName):
        return text
    text = {"random": "random-holdout", "last": "leave-last-out"}.get(text, text)
    try:
        return SplitName(text)
    except ValueError:
        raise typer.BadParameter(unknown_name("split method", text, [name.value for name in SplitName])) from None


SplitOpt = Annotated[
    SplitName,
    typer.Option(
        "--split",
        parser=_split_name,
        metavar="<" + "|".join(name.value for name in SplitName) + ">",
        help="How to hold out test interactions.",
    ),
]
TestFractionOpt = Annotated[
    float, typer.Option("--test-fraction", help="Held-out share (random-holdout per user; temporal overall).")
]
KCoreUsersOpt = Annotated[int, typer.Option("--k-core-users", min=0, help="Keep users with >= this many.")]
KCoreItemsOpt = Annotated[int, typer.Option("--k-core-items", min=0, help="Keep items with >= this many.")]

SPLIT_FLAGS = {
    "split_method": (SplitOpt, SplitName.random_holdout),
    "test_fraction": (TestFractionOpt, 0.2),
    "k_core_users": (KCoreUsersOpt, 0),
    "k_core_items": (KCoreItemsOpt, 0),
}


@dataclass(frozen=True)
class Split:
    """How the data is cut: an optional k-core, then a seeded split into training and held-out interactions."""

    method: SplitName = SplitName.random_holdout
    test_fraction: float = 0.2
    k_core_users: int = 0
    k_core_items: int = 0

    @classmethod
    def from_flags(cls, values: dict) -> Split:
        return cls(
            SplitName(values["split_method"]), values["test_fraction"], values["k_core_users"], values["k_core_items"]
        )

    def apply(self, data, seed: int):
        """(data after the k-core, train, test)."""
        from recollective.data._preprocess import k_core
        from recollective.data._splits import split_interactions

        if self.k_core_users or self.k_core_items:
            data = k_core(data, self.k_core_users, self.k_core_items)
        train, test = split_interactions(data, self.method.value, self.test_fraction, rng=seed)
        return data, train, test


def with_split_options(command):
    """Decorate a command taking ``split: Split`` so that Typer sees the split flags instead."""
    return option_group("split", SPLIT_FLAGS, Split.from_flags)(command)


# Model.
ModelName = StrEnum("ModelName", {name: name for name in MODEL_NAMES})
ModelOpt = Annotated[ModelName, typer.Option("--model", help="Which recommender.")]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", help="A hyper-parameter as name=value (repeat), e.g. --param factors=32."),
]


def parse_params(items: list[str] | None) -> dict:
    """``["factors=32", "rank_rule=fixed"]`` -> ``{"factors": 32, "rank_rule": "fixed"}`` (ints, floats,
    true/false and none are converted; everything else stays a string; nothing is evaluated)."""
    params = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise InvalidParameterError(f"--param takes name=value (e.g. --param factors=32); got {item!r}")
        params[name] = _value(text.strip())
    return params


def _value(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


@dataclass(frozen=True)
class ModelChoice:
    """A model name and its ``--param`` texts."""

    name: ModelName
    param: tuple[str, ...] = ()

    @property
    def value(self) -> str:
        return self.name.value

    def build(self, seed: int):
        """The named model with its hyper-parameters, checked now, and ``rng=seed`` unless ``--param`` gives one."""
        from recollective.models import make_model

        params = parse_params(list(self.param))
        recommender = make_model(self.value, **params)
        recommender.checked_params()
        if "rng" in recommender.get_params() and "rng" not in params:
            recommender.set_params(rng=seed)
        return recommender


def model_flags(default: ModelName) -> dict:
    return {"model_name": (ModelOpt, default), "param": (ParamOpt, None)}


def model_from_flags(values: dict) -> ModelChoice:
    return ModelChoice(ModelName(values["model_name"]), tuple(values["param"] or ()))


def with_model_options(default: ModelName):
    """Decorate a command taking ``model: ModelChoice`` so that Typer sees ``--model`` (default ``default``) and
    ``--param`` instead."""
    return option_group("model", model_flags(default), model_from_flags)
