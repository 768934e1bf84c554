"""Tests of association between a yes/no outcome and a grouping question, with a stated choice rule.

The contingency table has one row per category of the grouping question (schema order; empty categories
dropped) and the columns (outcome yes, outcome no); respondents with either answer unknown are left out.

Choice rule (Cochran 1954): with E the expected counts under independence,

* if every E >= 1 and at most 20% of them are below 5, Pearson's chi-square test without continuity correction
  (``scipy.stats.chi2_contingency(correction=False)``); for a 2x2 table the rule means all four E >= 5;
* otherwise, for a 2x2 table, Fisher's exact test, two-sided (``scipy.stats.fisher_exact``);
* otherwise (larger tables), the Fisher–Freeman–Halton exact test with a Monte Carlo p-value from
  ``n_resamples`` tables drawn with the observed margins (``fisher_exact(method=MonteCarloMethod(...))``),
  seeded by ``rng`` so the result is reproducible.

A table with fewer than two non-empty rows or columns has no test (``test = "not_applicable"``, p-value NaN).
p-values of several tests are also reported Holm-adjusted (:func:`holm`), since a survey analysis runs many.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recollective._random import as_generator
from recollective.errors import InvalidParameterError
from recollective.survey._estimates import Proportion, categorical, proportion
from recollective.survey._responses import Responses

__all__ = ["Association", "association", "choose_test", "holm"]

DEFAULT_RESAMPLES = 9999


@dataclass(frozen=True)
class Association:
    """The outcome's prevalence per category of ``by`` and the test of their difference.

    Attributes
    ----------
    outcome, by : str
        Question ids.
    categories : tuple of str
        Non-empty categories of ``by``, the table's rows.
    table : tuple of (int, int)
        Per category: (outcome yes, outcome no).
    groups : tuple of Proportion
        The outcome's prevalence per category, with intervals.
    test : str
        ``chi_square``, ``fisher_exact``, ``fisher_freeman_halton_monte_carlo`` or ``not_applicable``.
    statistic : float
        Chi-square statistic; for Fisher 2x2 the sample odds ratio; for Fisher–Freeman–Halton the probability
        of the observed table; NaN when not applicable.
    dof : int or None
        Degrees of freedom of the chi-square test.
    p_value, p_value_holm : float
        Raw and Holm-adjusted (within one analysis) p-values.
    min_expected : float
        Smallest expected count, the quantity the choice rule looks at.
    n : int
        Respondents in the table.
    """

    outcome: str
    by: str
    categories: tuple[str, ...]
    table: tuple[tuple[int, int], ...]
    groups: tuple[Proportion, ...]
    test: str
    statistic: float
    dof: int | None
    p_value: float
    min_expected: float
    n: int
    p_value_holm: float = math.nan

    def as_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "by": self.by,
            "categories": list(self.categories),
            "table": [list(row) for row in self.table],
            "groups": {group.key: group.as_dict() for group in self.groups},
            "test": self.test,
            "statistic": self.statistic,
            "dof": self.dof,
            "p_value": self.p_value,
            "p_value_holm": self.p_value_holm,
            "min_expected": self.min_expected,
            "n": self.n,
        }


def choose_test(table, rng=0, n_resamples: int = DEFAULT_RESAMPLES) -> tuple[str, float, int | None, float, float]:
    """Apply the module's choice rule to a contingency table of counts.

    Returns
    -------
    (test, statistic, dof, p_value, min_expected)
    """
    from scipy.stats import MonteCarloMethod, chi2_contingency, fisher_exact

    counts = np.asarray(table, dtype=np.int64)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.ndim != 2 or counts.shape[0] < 2 or counts.shape[1] < 2:
        return "not_applicable", math.nan, None, math.nan, math.nan
    total = counts.sum()
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / total
    min_expected = float(expected.min())
    if min_expected >= 1.0 and np.mean(expected < 5.0) <= 0.2:
        result = chi2_contingency(counts, correction=False)
        return "chi_square", float(result.statistic), int(result.dof), float(result.pvalue), min_expected
    if counts.shape == (2, 2):
        result = fisher_exact(counts)
        return "fisher_exact", float(result.statistic), None, float(result.pvalue), min_expected
    method = MonteCarloMethod(n_resamples=n_resamples, rng=as_generator(rng))
    result = fisher_exact(counts, method=method)
    # scipy 1.17 returns shape-(1,) arrays for some table shapes (e.g. 4x2): take the one value
    statistic, p_value = (float(np.ravel(value)[0]) for value in (result.statistic, result.pvalue))
    return "fisher_freeman_halton_monte_carlo", statistic, None, p_value, min_expected


def association(
    responses: Responses,
    outcome: str,
    by: str,
    *,
    confidence: float = 0.95,
    rng: np.random.Generator | int | None = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> Association:
    """Prevalence of the yes/no ``outcome`` per category of ``by``, and the test chosen by the module's rule.

    Parameters
    ----------
    responses : Responses
    outcome : str
        A yes/no question id (``when_skipped`` answers count).
    by : str
        A yes/no or single-choice question id, other than ``outcome``.
    confidence : float
        For the per-group intervals.
    rng : Generator, int or None
        Seeds the Monte Carlo p-value of large sparse tables (default 0: reproducible).
    n_resamples : int
        Monte Carlo tables for that p-value.

    Raises
    ------
    InvalidParameterError
        When the questions have the wrong types or ``n_resamples < 99``.
    """
    instrument = responses.instrument
    outcome_question, by_question = instrument.question(outcome), instrument.question(by)
    if outcome_question.type != "yes_no":
        raise InvalidParameterError(f"outcome must be a yes/no question; {outcome!r} is {outcome_question.type}")
    if by_question.type not in ("yes_no", "single_choice") or by == outcome:
        raise InvalidParameterError(f"by must be another yes/no or single-choice question; got {by!r}")
    if not isinstance(n_resamples, int | np.integer) or n_resamples < 99:
        raise InvalidParameterError(f"n_resamples must be an integer >= 99; got {n_resamples!r}")
    outcome_answers = categorical(responses, outcome)
    by_answers = categorical(responses, by)
    known = np.array([o is not None and b is not None for o, b in zip(outcome_answers, by_answers, strict=True)])
    yes = np.array([o == "yes" for o in outcome_answers], dtype=bool)
    rows, categories, groups = [], [], []
    for option in by_question.choices:
        in_group = known & np.array([b == option.value for b in by_answers], dtype=bool)
        if not in_group.any():
            continue
        n_yes = int(np.count_nonzero(yes & in_group))
        rows.append((n_yes, int(np.count_nonzero(in_group)) - n_yes))
        categories.append(option.value)
        groups.append(proportion(option.value, option.label, yes, in_group, confidence))
    test, statistic, dof, p_value, min_expected = choose_test(rows or [[0, 0]], rng, int(n_resamples))
    return Association(
        outcome=outcome,
        by=by,
        categories=tuple(categories),
        table=tuple(rows),
        groups=tuple(groups),
        test=test,
        statistic=statistic,
        dof=dof,
        p_value=p_value,
        min_expected=min_expected,
        n=int(np.count_nonzero(known)),
    )


def holm(p_values) -> list[float]:
    """Holm–Bonferroni adjusted p-values (NaN entries are ignored and stay NaN)."""
    values = [float(p) for p in p_values]
    finite = sorted((p, index) for index, p in enumerate(values) if math.isfinite(p))
    m = len(finite)
    adjusted = [math.nan] * len(values)
    running = 0.0
    for rank, (p, index) in enumerate(finite):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted
