"""Proportions with intervals: per yes/no item and per option of a breakdown, unweighted and weighted.

Denominators (docs/survey.md, "Definitions"):

* a yes/no item: respondents whose answer is known: answered, or not asked and implied by ``when_skipped``
  (a behaviour asked only of those who acted at all is "no" for everyone else);
* an option of a breakdown: respondents who answered the breakdown's question, or, with ``among``, those who
  chose that option in the ``among`` question (users of a platform, for "acted on that platform"); there a
  respondent not asked the question (did not act) counts as not having chosen the option.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from recollective.survey._intervals import clopper_pearson_interval, wilson_interval
from recollective.survey._responses import Responses
from recollective.survey.instrument import Breakdown

__all__ = ["Proportion", "WeightedProportion", "breakdown_proportions", "categorical", "item_proportion"]


@dataclass(frozen=True)
class WeightedProportion:
    """A post-stratified proportion: ``p_w = sum(w y) / sum(w)`` over the respondents with a known answer and a
    weight; the intervals use Kish's effective size ``n_effective = sum(w)^2 / sum(w^2)`` and ``x = p_w *
    n_effective`` (for Clopper–Pearson this is Korn & Graubard's 1998 adaptation)."""

    prevalence: float
    n_effective: float
    wilson_low: float
    wilson_high: float
    clopper_pearson_low: float
    clopper_pearson_high: float


@dataclass(frozen=True)
class Proportion:
    """``count`` of ``n`` respondents, with 100*confidence% Wilson and Clopper–Pearson intervals.

    ``prevalence`` and the intervals are NaN when ``n == 0``. ``weighted`` holds the post-stratified estimate
    when weights were given.
    """

    key: str
    label: str
    count: int
    n: int
    prevalence: float
    wilson_low: float
    wilson_high: float
    clopper_pearson_low: float
    clopper_pearson_high: float
    confidence: float
    weighted: WeightedProportion | None = None

    def as_dict(self) -> dict:
        document = asdict(self)
        document.pop("key")
        return document


_NAN4 = (math.nan, math.nan, math.nan, math.nan)


def _intervals(count: float, n: float, confidence: float) -> tuple[float, float, float, float]:
    if n <= 0:
        return _NAN4
    return (*wilson_interval(count, n, confidence), *clopper_pearson_interval(count, n, confidence))


def proportion(
    key: str, label: str, yes: np.ndarray, known: np.ndarray, confidence: float, weights: np.ndarray | None = None
) -> Proportion:
    """The proportion of ``yes`` among ``known`` respondents (boolean arrays of shape (n_respondents,))."""
    count = int(np.count_nonzero(yes & known))
    n = int(np.count_nonzero(known))
    weighted = None
    if weights is not None:
        mask = known & np.isfinite(weights)
        used = weights[mask]
        total = float(used.sum())
        if total > 0:
            p = float(used[yes[mask]].sum()) / total
            n_effective = total**2 / float(np.sum(used**2))
            weighted = WeightedProportion(p, n_effective, *_intervals(p * n_effective, n_effective, confidence))
        else:
            weighted = WeightedProportion(math.nan, 0.0, *_NAN4)
    prevalence = count / n if n else math.nan
    return Proportion(key, label, count, n, prevalence, *_intervals(count, n, confidence), confidence, weighted)


def categorical(responses: Responses, question_id: str) -> list:
    """Answers of a yes/no or single-choice question, with ``when_skipped`` applied where it was not asked."""
    question = responses.instrument.question(question_id)
    answers = list(responses.answers[question_id])
    if question.when_skipped is not None:
        for index, asked in enumerate(responses.asked(question_id)):
            if asked is False:
                answers[index] = question.when_skipped
    return answers


def item_proportion(
    responses: Responses, question_id: str, confidence: float, weights: np.ndarray | None = None
) -> Proportion:
    """Prevalence of "yes" for one yes/no question (denominator in the module docstring)."""
    question = responses.instrument.question(question_id)
    answers = categorical(responses, question_id)
    known = np.array([answer is not None for answer in answers], dtype=bool)
    yes = np.array([answer == "yes" for answer in answers], dtype=bool)
    return proportion(question_id, question.title, yes, known, confidence, weights)


def breakdown_proportions(
    responses: Responses, breakdown: Breakdown, confidence: float, weights: np.ndarray | None = None
) -> tuple[Proportion, ...]:
    """One proportion per option of the breakdown's multi-choice question, in schema order."""
    question = responses.instrument.question(breakdown.question)
    answers = responses.answers[breakdown.question]
    asked = responses.asked(breakdown.question)
    results = []
    for option in question.choices:
        chosen = np.array([answer is not None and option.value in answer for answer in answers], dtype=bool)
        if breakdown.among is None:
            known = np.array([answer is not None for answer in answers], dtype=bool)
        else:
            among = responses.answers[breakdown.among]
            known = np.array([outer is not None and option.value in outer for outer in among], dtype=bool)
            # Not asked means not chosen; asked without an answer, or a gate left blank, means unknown.
            unknown = np.array(
                [a is None or (a is True and answer is None) for a, answer in zip(asked, answers, strict=True)],
                dtype=bool,
            )
            known &= ~unknown
        results.append(proportion(option.value, option.label, chosen, known, confidence, weights))
    return tuple(results)
