"""Analysis of survey responses: prevalence with intervals, breakdowns, tests, optional post-stratification.

:func:`analyze` is the one entry point; it reads nothing and writes nothing (load with
:func:`~recollective.survey.load_responses`, plot with :mod:`recollective.report.survey_plots`, render with
:func:`~recollective.survey.render_report_section`). The definitions are in docs/survey.md:

* prevalence of each yes/no item with Wilson and Clopper–Pearson intervals (:mod:`._intervals`), over the
  respondents whose answer is known (:mod:`._estimates`);
* breakdowns (by platform, interaction type, motive) as declared in the instrument's ``[analysis]`` table;
* tests of association (chi-square or Fisher, by Cochran's rule; :mod:`._association`), Holm-adjusted;
* with population shares, post-stratified prevalences beside the unweighted ones (:mod:`._weights`); the tests
  stay unweighted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from recollective._random import as_generator
from recollective.errors import InvalidParameterError
from recollective.survey._association import DEFAULT_RESAMPLES, Association, association, holm
from recollective.survey._estimates import Proportion, breakdown_proportions, item_proportion
from recollective.survey._intervals import check_confidence
from recollective.survey._responses import Responses
from recollective.survey._weights import PopulationShares, Weighting, poststratification_weights

__all__ = ["BreakdownResult", "SurveyAnalysis", "analyze"]


@dataclass(frozen=True)
class BreakdownResult:
    """Proportions for each option of a breakdown's question (``name``, e.g. ``"platform"``)."""

    name: str
    title: str
    question: str
    among: str | None
    proportions: tuple[Proportion, ...]

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "question": self.question,
            "among": self.among,
            "options": {p.key: p.as_dict() for p in self.proportions},
        }


@dataclass(frozen=True)
class SurveyAnalysis:
    """Everything :func:`analyze` computes. ``as_dict()`` is the CLI's ``--json`` document.

    Attributes
    ----------
    instrument_id, instrument_version : str
    source : str
        Where the responses came from.
    n_respondents : int
    confidence : float
    headline : str
        The instrument's headline question (``acted_any`` in version 1).
    items : Mapping[str, Proportion]
        Every yes/no question, in schema order.
    breakdowns : Mapping[str, BreakdownResult]
        In the order of ``[[analysis.breakdowns]]``.
    tests : tuple of Association
        In the order of ``[[analysis.tests]]``, with Holm-adjusted p-values across them.
    weighting : Weighting or None
        The post-stratification, when population shares were given.
    """

    instrument_id: str
    instrument_version: str
    source: str
    n_respondents: int
    confidence: float
    headline: str
    items: Mapping[str, Proportion]
    breakdowns: Mapping[str, BreakdownResult]
    tests: tuple[Association, ...]
    weighting: Weighting | None = None

    def as_dict(self) -> dict:
        return {
            "instrument": {"id": self.instrument_id, "version": self.instrument_version},
            "source": self.source,
            "n_respondents": self.n_respondents,
            "confidence": self.confidence,
            "headline": self.headline,
            "items": {key: item.as_dict() for key, item in self.items.items()},
            "breakdowns": {name: result.as_dict() for name, result in self.breakdowns.items()},
            "tests": [test.as_dict() for test in self.tests],
            "weighting": None if self.weighting is None else self.weighting.as_dict(),
        }


def analyze(
    responses: Responses,
    *,
    population: PopulationShares | None = None,
    confidence: float = 0.95,
    rng: np.random.Generator | int | None = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> SurveyAnalysis:
    """Analyse validated responses as declared by their instrument.

    Parameters
    ----------
    responses : Responses
        From :func:`~recollective.survey.load_responses` or :func:`~recollective.survey.simulate_responses`.
    population : PopulationShares, optional
        Population shares of one stratification question; adds post-stratified estimates (``weighted``) to every
        item and breakdown option.
    confidence : float
        Coverage of every interval, in (0, 1); default 0.95.
    rng : Generator, int or None
        Seeds the Monte Carlo p-values of large sparse tables (default 0, so the same data give the same
        numbers).
    n_resamples : int
        Monte Carlo tables per such p-value.

    Returns
    -------
    SurveyAnalysis

    Raises
    ------
    InvalidParameterError
        For a confidence outside (0, 1) or population shares for another instrument's question.
    DataError
        When a listed stratum has no respondent (see :func:`~recollective.survey.poststratification_weights`).

    Examples
    --------
    >>> from recollective.survey import analyze, simulate_responses
    >>> result = analyze(simulate_responses(100, prevalence=0.32, rng=0))
    >>> result.n_respondents
    100
    """
    confidence = check_confidence(confidence)
    instrument = responses.instrument
    weighting = None
    weights = None
    if population is not None:
        if population.question not in instrument.question_ids:
            raise InvalidParameterError(
                f"population shares are for question {population.question!r}, which instrument "
                f"{instrument.label} does not have"
            )
        weighting = poststratification_weights(responses, population)
        weights = weighting.weights
    items = {
        question.id: item_proportion(responses, question.id, confidence, weights)
        for question in instrument.yes_no_questions
    }
    breakdowns = {
        spec.name: BreakdownResult(
            spec.name,
            spec.title or spec.name,
            spec.question,
            spec.among,
            breakdown_proportions(responses, spec, confidence, weights),
        )
        for spec in instrument.analysis.breakdowns
    }
    generator = as_generator(rng)
    tests = [
        association(responses, spec.outcome, spec.by, confidence=confidence, rng=generator, n_resamples=n_resamples)
        for spec in instrument.analysis.tests
    ]
    adjusted = holm([test.p_value for test in tests])
    tests = [replace(test, p_value_holm=p) for test, p in zip(tests, adjusted, strict=True)]
    return SurveyAnalysis(
        instrument_id=instrument.info.id,
        instrument_version=instrument.info.version,
        source=responses.source,
        n_respondents=responses.n_respondents,
        confidence=confidence,
        headline=instrument.analysis.headline,
        items=MappingProxyType(items),
        breakdowns=MappingProxyType(breakdowns),
        tests=tuple(tests),
        weighting=weighting,
    )
