"""Post-stratification weights from population shares of one stratification question (e.g. age band).

The population file is a CSV with two columns: the stratification question's id and ``share``; one row per
stratum (an option code of that question), shares in (0, 1] summing to 1 within 0.001 (they are then rescaled
to sum to exactly 1)::

    age_band,share
    18_24,0.14
    25_34,0.22
    ...

Respondent i in stratum h gets the weight ``w_i = P_h / (n_h / n_w)``, where ``P_h`` is the population share,
``n_h`` the number of respondents in stratum h and ``n_w`` the number of respondents in any listed stratum (so
the weights average 1). Respondents who did not answer the question, or chose an option the file does not list
(such as "prefer not to say"), get no weight and are left out of the weighted estimates; they are counted in
:attr:`Weighting.excluded`. A listed stratum with no respondent cannot be weighted: merge it with a neighbour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from recollective.errors import DataError
from recollective.survey._csv import read_csv_records, read_source
from recollective.survey._responses import Responses
from recollective.survey.instrument import Instrument, suggest

__all__ = [
    "PopulationShares",
    "Weighting",
    "load_population_shares",
    "poststratification_weights",
    "read_population_shares",
]

SHARE_COLUMN = "share"
SHARE_SUM_TOLERANCE = 1e-3


@dataclass(frozen=True)
class PopulationShares:
    """Validated population shares: ``question`` id, ``shares`` (stratum -> share, summing to 1) and the file
    row of each stratum (for error messages)."""

    question: str
    shares: Mapping[str, float]
    rows: Mapping[str, int]
    source: str = "<population>"


@dataclass(frozen=True)
class Weighting:
    """Post-stratification weights of one set of responses.

    Attributes
    ----------
    question : str
        The stratification question.
    weights : ndarray of shape (n_respondents,)
        ``w_i`` (mean 1 over weighted respondents); NaN for excluded respondents.
    population_shares, sample_shares, stratum_weights : Mapping[str, float]
        Per listed stratum: ``P_h``, ``n_h / n_w`` and ``w_h = P_h / (n_h / n_w)``.
    n_weighted : int
        Respondents in a listed stratum.
    excluded : Mapping[str, int]
        Respondents left out, by reason: ``"(no answer)"`` or the unlisted option code.
    design_effect : float
        Kish's design effect of unequal weights, ``n_w * sum(w^2) / sum(w)^2`` (1 for equal weights).
    """

    question: str
    weights: np.ndarray
    population_shares: Mapping[str, float]
    sample_shares: Mapping[str, float]
    stratum_weights: Mapping[str, float]
    n_weighted: int
    excluded: Mapping[str, int]
    design_effect: float
    source: str

    @property
    def n_excluded(self) -> int:
        return int(sum(self.excluded.values()))

    def as_dict(self) -> dict:
        return {
            "question": self.question,
            "source": self.source,
            "population_shares": dict(self.population_shares),
            "sample_shares": dict(self.sample_shares),
            "stratum_weights": dict(self.stratum_weights),
            "n_weighted": self.n_weighted,
            "n_excluded": self.n_excluded,
            "excluded": dict(self.excluded),
            "design_effect": self.design_effect,
        }


def read_population_shares(data: bytes | str, instrument: Instrument, source: str = "<string>") -> PopulationShares:
    """Validate population-share CSV content against the instrument (format in the module docstring).

    Raises
    ------
    DataError
        ``source: row R, column 'C': ...`` for undecodable bytes, an empty file, a header that is not
        ``<question id>,share``, a question that is not single-choice or yes/no, an unknown or repeated stratum,
        a share that is not a number in (0, 1], or shares that do not sum to 1.
    """
    records = read_csv_records(data, source)
    _, header = records[0]
    header = [name.strip() for name in header]
    if len(header) != 2 or header[1] != SHARE_COLUMN:
        raise DataError(
            f"{source}: row 1, column {min(len(header), 2)}: the header must be two columns, the stratification "
            f"question id and {SHARE_COLUMN!r} (e.g. 'age_band,share'); got {','.join(header)!r}"
        )
    question_id = header[0]
    ids = instrument.question_ids
    if question_id not in ids:
        raise DataError(
            f"{source}: row 1, column 1: {question_id!r} is not a question of instrument "
            f"{instrument.label}{suggest(question_id, ids)}"
        )
    question = instrument.question(question_id)
    if question.type not in ("single_choice", "yes_no"):
        raise DataError(
            f"{source}: row 1, column 1: {question_id!r} is a {question.type} question; strata must come from a "
            "single-choice or yes/no question"
        )
    if len(records) == 1:
        raise DataError(f"{source}: row 2, column {question_id!r}: no strata; list one row per stratum")
    shares: dict[str, float] = {}
    rows: dict[str, int] = {}
    for row, fields in records[1:]:
        if len(fields) != 2:
            raise DataError(
                f"{source}: row {row}, column {len(fields) + 1 if len(fields) < 2 else 3}: the row has "
                f"{len(fields)} fields; expected 2 ({question_id},{SHARE_COLUMN})"
            )
        stratum, text = fields[0].strip(), fields[1].strip()
        if stratum not in question.option_values:
            raise DataError(
                f"{source}: row {row}, column {question_id!r}: unknown stratum {stratum!r}"
                f"{suggest(stratum, question.option_values)}; expected {question.expected()}"
            )
        if stratum in rows:
            raise DataError(
                f"{source}: row {row}, column {question_id!r}: stratum {stratum!r} is listed twice (also row "
                f"{rows[stratum]})"
            )
        try:
            share = float(text)
        except ValueError:
            share = math.nan
        if not (math.isfinite(share) and 0.0 < share <= 1.0):
            raise DataError(
                f"{source}: row {row}, column {SHARE_COLUMN!r}: {text!r} is not a share in (0, 1]; write the "
                "population fraction of the stratum, e.g. 0.18"
            )
        shares[stratum] = share
        rows[stratum] = row
    total = math.fsum(shares.values())
    if abs(total - 1.0) > SHARE_SUM_TOLERANCE:
        last = max(rows.values())
        raise DataError(
            f"{source}: rows 2-{last}, column {SHARE_COLUMN!r}: the shares sum to {total:.6g}; they must sum to 1 "
            f"(within {SHARE_SUM_TOLERANCE:g})"
        )
    normalised = {stratum: share / total for stratum, share in shares.items()}
    return PopulationShares(question_id, MappingProxyType(normalised), MappingProxyType(rows), source)


def load_population_shares(path: str | Path, instrument: Instrument) -> PopulationShares:
    """Read and validate a population-share CSV file (see :func:`read_population_shares`)."""
    return read_population_shares(read_source(path), instrument, str(path))


def poststratification_weights(responses: Responses, population: PopulationShares) -> Weighting:
    """Weights that make the sample's stratum shares equal the population's (module docstring).

    Raises
    ------
    DataError
        When a listed stratum has no respondent (naming its row in the population file), or no respondent is
        in any listed stratum.
    """
    question = population.question
    answers = responses.answers[question]
    listed = population.shares
    counts = {stratum: 0 for stratum in listed}
    excluded: dict[str, int] = {}
    for answer in answers:
        if answer in counts:
            counts[answer] += 1
        else:
            reason = "(no answer)" if answer is None else str(answer)
            excluded[reason] = excluded.get(reason, 0) + 1
    n_weighted = sum(counts.values())
    for stratum, count in counts.items():
        if count == 0:
            raise DataError(
                f"{population.source}: row {population.rows[stratum]}, column {question!r}: no respondent in "
                f"{responses.source} is in stratum {stratum!r}, so it cannot be weighted; merge it with a "
                "neighbouring stratum (add their shares)"
            )
    sample_shares = {stratum: count / n_weighted for stratum, count in counts.items()}
    stratum_weights = {stratum: listed[stratum] / sample_shares[stratum] for stratum in listed}
    weights = np.array([stratum_weights.get(answer, math.nan) for answer in answers], dtype=np.float64)
    weights.flags.writeable = False
    used = weights[np.isfinite(weights)]
    design_effect = float(used.size * np.sum(used**2) / np.sum(used) ** 2)
    return Weighting(
        question=question,
        weights=weights,
        population_shares=MappingProxyType(dict(listed)),
        sample_shares=MappingProxyType(sample_shares),
        stratum_weights=MappingProxyType(stratum_weights),
        n_weighted=n_weighted,
        excluded=MappingProxyType(dict(sorted(excluded.items()))),
        design_effect=design_effect,
        source=population.source,
    )
