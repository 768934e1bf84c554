"""``recollective models ...``: list the recommenders and evaluate one on a data file.

Thin: load (the data layer's flags), optionally k-core, split (seeded), build the model by name with
``--param name=value`` hyper-parameters, fit, recommend for the test users, and render the metrics of
:mod:`recollective.metrics`.
"""

from __future__ import annotations

import contextlib
import time

import typer
from rich.table import Table

from recollective.cli._options import JsonOpt, ModelName
from recollective.cli._output import console, emit_json, err_console, handles_errors, render
from recollective.cli._setup import Setup, with_setup
from recollective.models._registry import MODEL_NAMES

__all__ = ["fitting_progress", "models_app"]

models_app = typer.Typer(
    help="Recommenders behind one interface: list them, or fit one on a data file and evaluate it on a split.",
    no_args_is_help=True,
)


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
@with_setup(default_model=ModelName.popularity)
def evaluate(setup: Setup, json_out: JsonOpt = False) -> None:
    """Fit a model on the training part of a split and report accuracy, coverage and popularity bias at K
    over the test users (users with at least one relevant held-out interaction)."""
    from recollective.metrics import evaluate_model

    recommender = setup.build_model()  # a bad hyper-parameter fails before the data is read
    data, train, test = setup.load_split()
    model, k, relevance_threshold = setup.model, setup.k, setup.relevance_threshold
    started = time.perf_counter()
    with fitting_progress(recommender, f"fitting {model.value} on {train.n_interactions:,} interactions", json_out):
        recommender.fit(train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with err_console.status("scoring the test users"):
        metrics = evaluate_model(recommender, train, test, k, relevance_threshold=relevance_threshold)
    score_seconds = time.perf_counter() - started
    result = {
        **setup.describe(recommender),
        "test_fraction": setup.split.test_fraction,
        "k": k,
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_train_interactions": train.n_interactions,
        "n_test_interactions": test.n_interactions,
        **metrics,
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
    }
    render(result, json_out, _print)


@contextlib.contextmanager
def fitting_progress(recommender, description: str, quiet: bool = False):
    """Progress over training epochs on stderr for models that report them (``progress=`` callback: a bar on a
    terminal, a line per epoch with the time left when piped), a spinner for the others; the model's own
    ``progress`` parameter is restored afterwards."""
    from recollective.cli._progress import step_progress

    if "progress" not in recommender.get_params() or recommender.get_params()["progress"] is not None:
        with err_console.status(description):
            yield
        return
    with step_progress(description, quiet=quiet) as bar:

        def on_epoch(epoch, n_epochs, metrics):
            loss = metrics.get("loss")
            text = f"{description}: epoch {epoch}" + (f", loss {loss:.4f}" if loss is not None else "")
            bar.update(epoch, n_epochs, text)

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
