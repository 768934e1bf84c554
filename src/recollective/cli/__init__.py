"""The ``recollective`` command line: a root app with one module per command group.

Errors from the library and usage errors (an unknown option, a bad value) become one ``error: ...`` line on stderr
and exit status 2.
Commands that produce results take ``--json`` (one JSON document on stdout, nothing else there).
"""

from __future__ import annotations

import typer

from recollective import __version__
from recollective.cli import attack_study  # noqa: F401  (registers `attack study`)
from recollective.cli._output import OneLineUsageErrors
from recollective.cli.attack import attack_app
from recollective.cli.campaign import campaign_app
from recollective.cli.campaign_design import design as campaign_design
from recollective.cli.campaign_sweep import sweep as campaign_sweep
from recollective.cli.data import data_app
from recollective.cli.data_targets import targets
from recollective.cli.demo import demo
from recollective.cli.game import game_app
from recollective.cli.models import models_app
from recollective.cli.report import report
from recollective.cli.run import run
from recollective.cli.survey import survey_app

app = typer.Typer(
    name="recollective",
    cls=OneLineUsageErrors,
    help="Simulate, plan and evaluate collective action in recommender systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(game_app, name="game")
app.add_typer(survey_app, name="survey")
app.add_typer(models_app, name="models")
campaign_app.command("sweep")(campaign_sweep)
campaign_app.command("design")(campaign_design)
app.add_typer(campaign_app, name="campaign")
app.add_typer(attack_app, name="attack")
data_app.command("targets")(targets)
app.add_typer(data_app, name="data")
app.command("demo")(demo)
app.command("run")(run)
app.command("report")(report)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"recollective {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Simulate, plan and evaluate collective action in recommender systems."""


def main() -> None:
    """Console-script entry point."""
    app(prog_name="recollective")
