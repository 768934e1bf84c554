"""``recollective models ...``: list the recommenders and evaluate one on a data file.

Thin: load (the data layer's flags), optionally k-core, split (seeded), build the model by name with
``--param name=value`` hyper-parameters, fit, recommend for the test users, and render the metrics of
:mod:`recollective.metrics`.
"""

from __future__ import annotations

import contextlib
import time
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._data_source import DataSource, with_data_options
from recollective.cli._output import console, emit_json, err_console, handles_errors
from recollective.errors import InvalidParameterError
from recollective.models._registry import MODEL_NAMES

__all__ = ["build_model", "load_split", "models_app", "parse_params"]

models_app = typer.Typer(
    help="Recommenders behind one interface: list them, or fit one on a data file and evaluate it on a split.",
    no_args_is_help=True,
)

ModelName = StrEnum("ModelName", {name: name for name in MODEL_NAMES})


class SplitName(StrEnum):
    random_holdout = "random-holdout"
    leave_last_out = "leave-last-out"
    temporal = "temporal"


ModelOpt = Annotated[ModelName, typer.Option("--model", help="Which recommender.")]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", help="A hyper-parameter as name=value (repeat), e.g. --param factors=32."),
]
SplitOpt = Annotated[SplitName, typer.Option("--split", help="How to hold out test interactions.")]
TestFractionOpt = Annotated[
    float, typer.Option("--test-fraction", help="Held-out share (random-holdout per user; temporal overall).")
]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of the split and the model.")]
KOpt = Annotated[int, typer.Option("--k", min=1, help="Length of the recommendation lists.")]
KCoreUsersOpt = Annotated[int, typer.Option("--k-core-users", min=0, help="Keep users with >= this many.")]
KCoreItemsOpt = Annotated[int, typer.Option("--k-core-items", min=0, help="Keep items with >= this many.")]
RelevanceOpt = Annotated[
    float | None,
    typer.Option("--relevance-threshold", help="Held-out value that counts as relevant (e.g. 4); default: any."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


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


def build_model(model, param, seed: int):
    """The named model with its ``--param`` hyper-parameters, checked now, and ``rng=seed`` unless given."""
    from recollective.models import make_model

    params = parse_params(param)
    recommender = make_model(model.value, **params)
    recommender.checked_params()
    if "rng" in recommender.get_params() and "rng" not in params:
        recommender.set_params(rng=seed)
    return recommender


def load_split(source, split, test_fraction: float, seed: int, k_core_users: int, k_core_items: int):
    """(data, train, test): the ``--data`` file, its optional k-core, and the seeded split."""
    from recollective.data._preprocess import k_core
    from recollective.data._splits import split_interactions

    data = source.load().interactions
    if k_core_users or k_core_items:
        data = k_core(data, k_core_users, k_core_items)
    train, test = split_interactions(data, split.value, test_fraction, rng=seed)
    return data, train, test


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


@models_app.command("list")
@handles_errors
def list_models(json_out: JsonOpt = False) -> None:
    """Every model name with its hyper-parameters and defaults."""
    from recollective.models import model_class

    rows = []
    for name in MODEL_NAMES:
        cls = model_class(name)
        rows.append({"model": name, "class": cls.__name__, "params": cls().get_params(),
                     "refit": cls.refit_tolerance})
    if json_out:
        emit_json({"models": rows})
        return
    table = Table(title="recommenders")
    for column in ("model", "hyper-parameters (defaults)", "refit"):
        table.add_column(column)
    for row in rows:
        params = ", ".join(f"{k}={v!r}" for k, v in row["params"].items()) or "–"
        table.add_row(row["model"], params, row["refit"])
    console.print(table)


@models_app.command("evaluate")
@handles_errors
@with_data_options
def evaluate(
    source: DataSource,
    model: ModelOpt = ModelName.popularity,
    param: ParamOpt = None,
    split: SplitOpt = SplitName.random_holdout,
    test_fraction: TestFractionOpt = 0.2,
    seed: SeedOpt = 0,
    k: KOpt = 10,
    k_core_users: KCoreUsersOpt = 0,
    k_core_items: KCoreItemsOpt = 0,
    relevance_threshold: RelevanceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Fit a model on the training part of a split and report accuracy, coverage and popularity bias at K
    over the test users (users with at least one relevant held-out interaction)."""
    from recollective.metrics import evaluate_model

    recommender = build_model(model, param, seed)  # a bad hyper-parameter fails before the data is read
    data, train, test = load_split(source, split, test_fraction, seed, k_core_users, k_core_items)
    started = time.perf_counter()
    with fitting_progress(recommender, f"fitting {model.value} on {train.n_interactions:,} interactions", json_out):
        recommender.fit(train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with err_console.status("scoring the test users"):
        metrics = evaluate_model(recommender, train, test, k, relevance_threshold=relevance_threshold)
    score_seconds = time.perf_counter() - started
    result = {
        "model": model.value,
        "params": recommender.get_params(),
        "data": str(source.path),
        "split": split.value,
        "test_fraction": test_fraction,
        "seed": seed,
        "k": k,
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_train_interactions": train.n_interactions,
        "n_test_interactions": test.n_interactions,
        **metrics,
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
    }
    if json_out:
        emit_json(result)
        return
    _print(result)


@contextlib.contextmanager
def fitting_progress(recommender, description: str, quiet: bool = False):
    """A Rich progress bar over training epochs (stderr) for models that report them (``progress=`` callback),
    a spinner for the others; the model's own ``progress`` parameter is restored afterwards."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if "progress" not in recommender.get_params() or recommender.get_params()["progress"] is not None:
        with err_console.status(description):
            yield
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True, disable=quiet) as bar:
        task = bar.add_task(description, total=None)

        def on_epoch(epoch, n_epochs, metrics):
            loss = metrics.get("loss")
            text = f"{description}: epoch {epoch}" + (f", loss {loss:.4f}" if loss is not None else "")
            bar.update(task, total=n_epochs, completed=epoch, description=text)

        recommender.set_params(progress=on_epoch)
        try:
            yield
        finally:
            recommender.set_params(progress=None)


def _print(result: dict) -> None:
    k = result["k"]
    table = Table(title=f"{result['model']} on {result['data']} ({result['split']}, seed {result['seed']})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("recall", "ndcg", "precision", "hit_rate", "mrr"):
        table.add_row(f"{key}@{k}", f"{result[key]:.4f}")
    for key in ("coverage", "arp", "aplt", "gini", "entropy"):
        if key in result and result[key] is not None:
            table.add_row(key, f"{result[key]:.4g}")
    table.add_row("test users", f"{result['n_test_users']:,}")
    table.add_row("train interactions", f"{result['n_train_interactions']:,}")
    table.add_row("fit time", f"{result['fit_seconds']:.2f} s")
    table.add_row("scoring time", f"{result['score_seconds']:.2f} s")
    console.print(table)
