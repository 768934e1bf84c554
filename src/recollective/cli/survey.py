"""``recollective survey ...``: the printable form, the analysis of a response CSV, and simulated responses.

Thin: each command parses its options, calls :mod:`recollective.survey` (imported inside the command so that
``recollective --help`` stays fast) and renders. Every input is validated before anything is written, so a
bad file gives one ``error: ...`` line on stderr, exit status 2, and no output file.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from recollective.cli._options import JsonOpt
from recollective.cli._output import console, emit_json, handles_errors
from recollective.errors import InvalidParameterError

survey_app = typer.Typer(
    help="The survey on influencing what others are recommended: form, analysis, simulated responses.",
    no_args_is_help=True,
)

InstrumentOpt = Annotated[
    Path | None,
    typer.Option("--instrument", help="Questionnaire schema (.toml); default: the packaged version-1 instrument."),
]


def _instrument(path: Path | None):
    from recollective.survey import load_instrument

    return load_instrument(path)


def _check_writable(path: Path, option: str, suffixes: tuple[str, ...]) -> None:
    if path.suffix.lower() not in suffixes:
        raise InvalidParameterError(f"{option} must end in {' or '.join(suffixes)}; got {str(path)!r}")
    if path.is_dir():
        raise InvalidParameterError(f"{option} {str(path)!r} is a directory; give a file name")
    if not path.parent.is_dir():
        raise InvalidParameterError(f"{option}: the directory {str(path.parent)!r} does not exist; create it first")


def _write_text(path: Path, text: str) -> None:
    """Through a temporary file and a rename, so that a failed write leaves no partial file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


@survey_app.command("form")
@handles_errors
def form(
    out: Annotated[Path | None, typer.Option("--out", help="Write the HTML here instead of stdout.")] = None,
    instrument: InstrumentOpt = None,
) -> None:
    """Render the questionnaire as a self-contained, printable HTML form."""
    from recollective.survey import render_form

    schema = _instrument(instrument)
    if out is not None:
        _check_writable(out, "--out", (".html", ".htm"))
    document = render_form(schema)
    if out is None:
        sys.stdout.write(document)
        sys.stdout.flush()
        return
    _write_text(out, document)
    console.print(f"wrote {out}: {schema.label}, {len(schema.questions)} questions", markup=False)


def _proportion_table(title: str, proportions, weighted: bool) -> Table:
    from recollective.survey._report import _proportion_rows

    header, rows = _proportion_rows(proportions, weighted)
    table = Table(title=Text(title), title_justify="left")
    for name in header:
        table.add_column(name, justify="left" if not name else "right")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _print_analysis(result) -> None:
    from recollective.survey._report import _interval, _p
    from recollective.survey._report import _num as _value

    level = f"{100 * result.confidence:g}%"
    console.print(
        f"{result.source}: {result.n_respondents} respondents, instrument {result.instrument_id} "
        f"{result.instrument_version}, {level} intervals",
        markup=False,
    )
    head = result.items[result.headline]
    console.print(
        f"headline {result.headline} ({head.label}): {head.count} / {head.n} = {_value(head.prevalence)}; "
        f"Wilson {_interval(head.wilson_low, head.wilson_high)}; "
        f"Clopper–Pearson {_interval(head.clopper_pearson_low, head.clopper_pearson_high)}",
        markup=False,
    )
    weighted = result.weighting is not None
    console.print(_proportion_table("Yes/no items", result.items.values(), weighted))
    for breakdown in result.breakdowns.values():
        among = f"among those who chose it in {breakdown.among}" if breakdown.among else "among those asked"
        console.print(_proportion_table(f"{breakdown.title} ({among})", breakdown.proportions, weighted))
    if result.tests:
        table = Table(title=Text("Tests of association (rule: chi-square if Cochran's rule holds, else Fisher)"),
                      title_justify="left")  # fmt: skip
        for name in ("outcome by", "test", "statistic", "dof", "p", "p (Holm)", "min expected", "n"):
            table.add_column(name, justify="left" if name in ("outcome by", "test") else "right")
        for test in result.tests:
            cells = [
                f"{test.outcome} by {test.by}",
                test.test,
                "–" if test.statistic != test.statistic else f"{test.statistic:.4g}",
                "–" if test.dof is None else str(test.dof),
                _p(test.p_value),
                _p(test.p_value_holm),
                _value(test.min_expected, 2),
                str(test.n),
            ]
            table.add_row(*(Text(cell) for cell in cells))
        console.print(table)
    if weighted:
        weighting = result.weighting
        excluded = ", ".join(f"{reason}: {count}" for reason, count in weighting.excluded.items()) or "none"
        console.print(
            f"post-stratified by {weighting.question} ({weighting.source}): {weighting.n_weighted} weighted, "
            f"{weighting.n_excluded} left out ({excluded}); design effect {weighting.design_effect:.3f}",
            markup=False,
        )


@survey_app.command("analyze")
@handles_errors
def analyze(
    responses: Annotated[Path, typer.Argument(help="Response CSV: respondent_id and one column per question.")],
    json_out: JsonOpt = False,
    weights: Annotated[
        Path | None,
        typer.Option("--weights", help="Population shares CSV for post-stratification: '<question id>,share' rows."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Directory for the figures (PNG + SVG + CSV of each).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report (figures embedded).")
    ] = None,
    confidence: Annotated[float, typer.Option("--confidence", help="Coverage of every interval.")] = 0.95,
    seed: Annotated[int, typer.Option("--seed", help="Seed of Monte Carlo p-values (large sparse tables).")] = 0,
    instrument: InstrumentOpt = None,
) -> None:
    """Prevalence with Wilson and Clopper–Pearson intervals, breakdowns, tests, optional post-stratification.

    With --json: one document with n_respondents and, per yes/no item, prevalence, wilson_low, wilson_high,
    clopper_pearson_low, clopper_pearson_high (and "weighted" estimates with --weights).
    """
    from recollective.survey import analyze as run_analysis
    from recollective.survey import load_population_shares, load_responses, render_report

    schema = _instrument(instrument)
    if seed < 0:
        raise InvalidParameterError(f"--seed must be >= 0; got {seed}")
    if report is not None:
        _check_writable(report, "--report", (".html", ".htm"))
    if plot is not None and plot.exists() and not plot.is_dir():
        raise InvalidParameterError(f"--plot {str(plot)!r} is a file; give a directory")
    data = load_responses(responses, schema)
    population = None if weights is None else load_population_shares(weights, schema)
    result = run_analysis(data, population=population, confidence=confidence, rng=seed)

    from recollective.report.survey_plots import plot_survey

    files: dict = {}
    if plot is not None:
        files["plots"] = {name: [str(p) for p in paths] for name, paths in plot_survey(result, plot).items()}
    if report is not None:
        if plot is not None:
            figures = {name: paths[0] for name, paths in files["plots"].items()}
            _write_text(report, render_report(result, figures))
        else:
            with tempfile.TemporaryDirectory() as scratch:
                figures = {name: paths[0] for name, paths in plot_survey(result, scratch).items()}
                _write_text(report, render_report(result, figures))
        files["report"] = str(report)
    if json_out:
        document = result.as_dict()
        document["files"] = files
        emit_json(document)
        return
    _print_analysis(result)
    for name, paths in files.get("plots", {}).items():
        console.print(f"wrote {name} figure: {', '.join(paths)}", markup=False)
    if report is not None:
        console.print(f"wrote {report}", markup=False)


@survey_app.command("simulate")
@handles_errors
def simulate(
    out: Annotated[Path, typer.Argument(help="Where to write the simulated response CSV.")],
    n: Annotated[int, typer.Option("--n", help="Number of respondents.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    prevalence: Annotated[
        float, typer.Option("--prevalence", help="True probability of 'yes' to the headline question.")
    ] = 0.32,
    instrument: InstrumentOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write simulated responses (no real personal data) for tests and demos."""
    from recollective.survey import simulate_responses, write_responses

    schema = _instrument(instrument)
    if seed < 0:
        raise InvalidParameterError(f"--seed must be >= 0; got {seed}")
    if n < 1:
        raise InvalidParameterError(f"--n must be >= 1; got {n}")
    _check_writable(out, "OUT", (".csv",))
    responses = simulate_responses(n, prevalence=prevalence, rng=seed, instrument=schema)
    write_responses(responses, out)
    headline = schema.analysis.headline
    count = sum(answer == "yes" for answer in responses.answers[headline])
    document = {
        "path": str(out),
        "n_respondents": responses.n_respondents,
        "seed": seed,
        "headline": headline,
        "true_prevalence": prevalence,
        "observed_count": count,
        "observed_prevalence": count / responses.n_respondents,
    }
    if json_out:
        emit_json(document)
        return
    console.print(
        f"wrote {out}: {responses.n_respondents} simulated respondents (seed {seed}); {headline}: true prevalence "
        f"{prevalence:g}, observed {count} / {responses.n_respondents}",
        markup=False,
    )
