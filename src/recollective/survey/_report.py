"""The survey analysis as an HTML report section: tables of every estimate and the figures, escaped.

:func:`render_report_section` returns a ``<section>`` fragment for a larger report; :func:`render_report`
wraps it in a self-contained document. Every string (labels from the schema, file names, figure paths) goes
through :func:`html.escape`; figures are embedded as base64 PNG data (self-contained) or linked by path.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from html import escape
from pathlib import Path

from recollective.errors import InvalidParameterError
from recollective.survey._estimates import Proportion
from recollective.survey.analysis import SurveyAnalysis

__all__ = ["render_report", "render_report_section"]

_TEST_NAMES = {
    "chi_square": "Pearson chi-square",
    "fisher_exact": "Fisher exact (2x2)",
    "fisher_freeman_halton_monte_carlo": "Fisher–Freeman–Halton (Monte Carlo)",
    "not_applicable": "no test (fewer than two non-empty rows or columns)",
}
_CSS = """
section.survey { font-family: system-ui, sans-serif; max-width: 62rem; }
section.survey table { border-collapse: collapse; margin: .5rem 0 1.2rem; font-size: .9rem; }
section.survey th, section.survey td { border-bottom: 1px solid #ddd; padding: .25rem .6rem; text-align: left; }
section.survey td.num { text-align: right; font-variant-numeric: tabular-nums; }
section.survey figure { margin: 1rem 0; }
section.survey img { max-width: 100%; }
section.survey .note { font-size: .9rem; color: #333; }
"""


def _num(value: float, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}"


def _interval(low: float, high: float) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"[{low:.4f}, {high:.4f}]"


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


def _table(header: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{escape(cell)}</td>' if index >= numeric_from else f"<td>{escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _proportion_rows(proportions, weighted: bool) -> tuple[list[str], list[list[str]]]:
    header = ["", "yes / n", "prevalence", "Wilson interval", "Clopper–Pearson interval"]
    if weighted:
        header += ["weighted", "weighted Wilson", "n effective"]
    rows = []
    for p in proportions:
        row = [
            p.label,
            f"{p.count} / {p.n}",
            _num(p.prevalence),
            _interval(p.wilson_low, p.wilson_high),
            _interval(p.clopper_pearson_low, p.clopper_pearson_high),
        ]
        if weighted and p.weighted is not None:
            w = p.weighted
            row += [_num(w.prevalence), _interval(w.wilson_low, w.wilson_high), _num(w.n_effective, 1)]
        elif weighted:
            row += ["–", "–", "–"]
        rows.append(row)
    return header, rows


def _figure(name: str, path, embed: bool) -> str:
    path = Path(path)
    if embed:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidParameterError(f"figures[{name!r}]: cannot read {str(path)!r} ({exc.strerror})") from None
        source = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        link = ""
    else:
        source = path.as_posix()
        numbers = path.with_suffix(".csv").as_posix()
        link = f' (<a href="{escape(numbers)}">plotted numbers, CSV</a>)'
    return (
        f'<figure><img src="{escape(source)}" alt="{escape(name)} prevalence with Wilson intervals">'
        f"<figcaption>{escape(name)}: prevalence with Wilson intervals{link}</figcaption></figure>"
    )


def render_report_section(
    analysis: SurveyAnalysis, figures: Mapping[str, str | Path] | None = None, *, embed_images: bool = True
) -> str:
    """The analysis as an HTML ``<section class="survey">`` fragment.

    Parameters
    ----------
    analysis : SurveyAnalysis
    figures : Mapping[str, path], optional
        Name (``"items"``, ``"platform"``, ...) -> PNG file, e.g. the PNGs returned by
        :func:`recollective.report.survey_plots.plot_survey`. Shown after the tables, in the given order.
    embed_images : bool
        True: the PNGs are embedded as base64 data (the fragment stands alone); False: linked by their path
        (write the report where those relative paths resolve), with a link to each figure's CSV.

    Returns
    -------
    str
        Escaped HTML: the sample size and instrument, the headline with both intervals, a table of every yes/no
        item, one table per breakdown, the tests (with the choice rule and Holm-adjusted p-values), the
        weighting when present, and the figures.
    """
    level = 100 * analysis.confidence
    confidence = f"{level:.0f}%" if float(level).is_integer() else f"{level:g}%"
    weighted = analysis.weighting is not None
    headline: Proportion = analysis.items[analysis.headline]
    parts = [
        '<section class="survey">',
        "<h2>Survey: acting to influence what others are recommended</h2>",
        f"<p>{analysis.n_respondents} respondents ({escape(analysis.source)}); instrument "
        f"{escape(analysis.instrument_id)} {escape(analysis.instrument_version)}; {confidence} intervals.</p>",
        f"<p><strong>{escape(headline.label)}</strong>: {headline.count} of {headline.n} "
        f"({_num(headline.prevalence)}); Wilson {_interval(headline.wilson_low, headline.wilson_high)}, "
        f"Clopper–Pearson {_interval(headline.clopper_pearson_low, headline.clopper_pearson_high)}.</p>",
        '<p class="note">The instrument is a reconstruction: the questionnaire of Fedorova, Kitch &amp; Podimata '
        "(arXiv 2506.04525) is not available. An interval is the range of true prevalences compatible with the "
        "sample at the stated confidence; it covers sampling error only, not non-response or wording effects.</p>",
        "<h3>Yes/no items</h3>",
        _table(*_proportion_rows(analysis.items.values(), weighted)),
    ]
    for result in analysis.breakdowns.values():
        denominator = (
            f"among respondents who chose the option in {result.among}"
            if result.among
            else (f"among respondents who answered {result.question}")
        )
        parts.append(f"<h3>{escape(result.title)}</h3>")
        parts.append(f'<p class="note">Denominator: {escape(denominator)}.</p>')
        parts.append(_table(*_proportion_rows(result.proportions, weighted)))
    if analysis.tests:
        parts.append("<h3>Tests of association</h3>")
        parts.append(
            '<p class="note">Pearson chi-square (no continuity correction) when every expected count is at least '
            "1 and at most 20% are below 5 (Cochran's rule); otherwise Fisher's exact test for 2x2 tables and "
            "the Fisher–Freeman–Halton test with a seeded Monte Carlo p-value for larger ones. Holm-adjusted "
            "p-values account for the number of tests; the tests are on unweighted counts.</p>"
        )
        rows = [
            [
                f"{test.outcome} by {test.by}",
                _TEST_NAMES.get(test.test, test.test),
                "–" if not math.isfinite(test.statistic) else f"{test.statistic:.4g}",
                "–" if test.dof is None else str(test.dof),
                _p(test.p_value),
                _p(test.p_value_holm),
                _num(test.min_expected, 2),
                str(test.n),
            ]
            for test in analysis.tests
        ]
        parts.append(
            _table(["", "test", "statistic", "dof", "p", "p (Holm)", "min expected", "n"], rows, numeric_from=2)
        )
        for test in analysis.tests:
            parts.append(f"<h4>{escape(test.outcome)} by {escape(test.by)}</h4>")
            parts.append(_table(*_proportion_rows(test.groups, False)))
    if weighted:
        weighting = analysis.weighting
        parts.append(f"<h3>Post-stratification by {escape(weighting.question)}</h3>")
        excluded = ", ".join(f"{reason}: {count}" for reason, count in weighting.excluded.items()) or "none"
        parts.append(
            f'<p class="note">Population shares from {escape(weighting.source)}; {weighting.n_weighted} respondents '
            f"weighted, {weighting.n_excluded} left out ({escape(excluded)}); Kish design effect "
            f"{weighting.design_effect:.3f}.</p>"
        )
        rows = [
            [
                stratum,
                _num(weighting.population_shares[stratum]),
                _num(weighting.sample_shares[stratum]),
                _num(weighting.stratum_weights[stratum], 3),
            ]
            for stratum in weighting.population_shares
        ]
        parts.append(_table(["stratum", "population share", "sample share", "weight"], rows))
    if figures:
        parts.append("<h3>Figures</h3>")
        parts.extend(_figure(name, path, embed_images) for name, path in figures.items())
    parts.append("</section>")
    return "\n".join(parts)


def render_report(
    analysis: SurveyAnalysis, figures: Mapping[str, str | Path] | None = None, *, embed_images: bool = True
) -> str:
    """A complete HTML document around :func:`render_report_section` (inline CSS; self-contained when the
    images are embedded)."""
    section = render_report_section(analysis, figures, embed_images=embed_images)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Survey analysis: {escape(analysis.instrument_id)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{section}\n</body>\n</html>\n"
    )
