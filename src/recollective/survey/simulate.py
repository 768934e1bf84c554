"""Simulated survey responses, for tests and the worked example (no real personal data is shipped).

Each respondent first draws the headline answer ("acted", e.g. ``acted_any``) with probability ``prevalence``;
every other answer is then drawn given that one, question by question in schema order, following ``ask_if``
(questions that are not asked stay blank) and ``within`` (choices only among the earlier answers). So the true
prevalence of the headline item is exactly ``prevalence``, and the sample prevalence is Binomial(n, prevalence)
/ n. The conditional probabilities for the packaged instrument (:data:`PROFILE`) are invented but plausible:
people who acted are more often aware that their interactions affect others, use TikTok and Goodreads more,
and are younger; they make the breakdowns and tests non-trivial, and they are **not** estimates of anything.
Questions the profile does not know (a custom instrument) get uniform draws. Optional questions are left blank
with probability :data:`OPTIONAL_BLANK`.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from recollective._random import as_generator
from recollective.errors import InvalidParameterError
from recollective.survey._responses import MULTI_SEPARATOR, Responses, read_responses
from recollective.survey.instrument import Instrument, Question, load_instrument

__all__ = ["DEFAULT_PREVALENCE", "OPTIONAL_BLANK", "PROFILE", "simulate_responses"]

#: The paper's headline: about 32% had acted to influence what others are recommended.
DEFAULT_PREVALENCE = 0.32
#: Probability that an optional question is left blank.
OPTIONAL_BLANK = 0.06
_MAX_RESPONDENTS = 1_000_000

#: Per question: (when the respondent did not act, when they did). yes_no: P(yes); single_choice and scale:
#: weights per option (scale: per point from min); multi_choice: P(option chosen) per option.
# fmt: off
PROFILE: dict[str, tuple[dict[str, float] | float, dict[str, float] | float]] = {
    "platforms_used": (
        {"youtube": .85, "tiktok": .40, "instagram": .55, "x": .25, "reddit": .25, "goodreads": .12,
         "spotify": .55, "netflix": .55, "other": .10},
        {"youtube": .85, "tiktok": .62, "instagram": .60, "x": .35, "reddit": .35, "goodreads": .38,
         "spotify": .60, "netflix": .50, "other": .12},
    ),
    "primary_platform": (
        {"youtube": 4, "tiktok": 3, "instagram": 3, "x": 1, "reddit": 1, "goodreads": .5, "spotify": 2,
         "netflix": 2, "other": .5},
        {"youtube": 3, "tiktok": 4, "instagram": 2.5, "x": 1, "reddit": 1, "goodreads": 2.5, "spotify": 1.5,
         "netflix": 1, "other": .5},
    ),
    "usage_frequency": ({"daily": .55, "weekly": .30, "monthly": .15}, {"daily": .70, "weekly": .22, "monthly": .08}),
    "aware_self": (0.80, 0.95),
    "aware_others": (0.45, 0.85),
    "engaged_to_promote": (0.0, 0.75),
    "avoided_to_demote": (0.0, 0.40),
    "boosted_creator": (0.0, 0.55),
    "coordinated_campaign": (0.0, 0.30),
    "acted_platforms": (
        {},
        {"youtube": .40, "tiktok": .60, "instagram": .35, "x": .40, "reddit": .40, "goodreads": .70,
         "spotify": .35, "netflix": .15, "other": .30},
    ),
    "interaction_types": (
        {},
        {"like": .70, "comment": .35, "share": .45, "save": .35, "search": .20, "rating": .45, "watch_time": .40,
         "avoidance": .30},
    ),
    "motives": ({}, {"altruism": .55, "protest": .20, "fandom": .50, "community": .30, "other": .05}),
    "cost_time": ({}, {"under_1h": .45, "h1_5": .35, "h5_20": .15, "over_20h": .05}),
    "cost_effort": ({}, {"1": .25, "2": .30, "3": .25, "4": .15, "5": .05}),
    "own_recommendations": ({}, {"worse": .20, "unchanged": .45, "better": .10, "not_sure": .25}),
    "would_join": (0.35, 0.80),
    "age_band": (
        {"18_24": .20, "25_34": .27, "35_44": .20, "45_54": .14, "55_plus": .14, "prefer_not": .05},
        {"18_24": .32, "25_34": .30, "35_44": .17, "45_54": .10, "55_plus": .07, "prefer_not": .04},
    ),
    "gender": (
        {"woman": .48, "man": .45, "another": .03, "prefer_not": .04},
        {"woman": .52, "man": .41, "another": .04, "prefer_not": .03},
    ),
}
# fmt: on


def _check(n_respondents, prevalence) -> tuple[int, float]:
    if isinstance(n_respondents, bool) or not isinstance(n_respondents, int | np.integer):
        raise InvalidParameterError(f"n_respondents must be an integer >= 1; got {n_respondents!r}")
    if not 1 <= n_respondents <= _MAX_RESPONDENTS:
        raise InvalidParameterError(f"n_respondents must be in [1, {_MAX_RESPONDENTS}]; got {n_respondents}")
    try:
        value = float(prevalence)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"prevalence must be a number in [0, 1]; got {prevalence!r}") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidParameterError(f"prevalence must be in [0, 1], e.g. 0.32; got {prevalence!r}")
    return int(n_respondents), value


def _pick(rng: np.random.Generator, values: list[str], weights: dict[str, float] | None) -> str:
    raw = np.array([(weights or {}).get(value, 0.0) for value in values], dtype=np.float64)
    if weights is None or raw.sum() <= 0:
        raw = np.ones(len(values))
    return values[int(rng.choice(len(values), p=raw / raw.sum()))]


def _draw(question: Question, acted: bool, answers: dict[str, str], rng: np.random.Generator) -> str:
    profile = PROFILE.get(question.id, (None, None))[int(acted)]
    if question.type == "yes_no":
        p_yes = profile if isinstance(profile, float) else 0.5
        return "yes" if rng.random() < p_yes else "no"
    if question.type == "scale":
        points = [str(point) for point in range(question.min, question.max + 1)]
        return _pick(rng, points, profile if isinstance(profile, dict) else None)
    values = list(question.option_values)
    if question.within is not None:
        allowed = set(answers.get(question.within, "").split(MULTI_SEPARATOR))
        values = [value for value in values if value in allowed] or values
    weights = profile if isinstance(profile, dict) and profile else None
    if question.type == "single_choice":
        return _pick(rng, values, weights)
    chance = np.array([(weights or {}).get(value, 0.3) for value in values], dtype=np.float64)
    chosen = [value for value, hit in zip(values, rng.random(len(values)) < chance, strict=True) if hit]
    if not chosen and question.required:
        chosen = [_pick(rng, values, weights)]
    return MULTI_SEPARATOR.join(chosen)


def simulate_responses(
    n_respondents: int = 100,
    *,
    prevalence: float = DEFAULT_PREVALENCE,
    rng: np.random.Generator | int | None = 0,
    instrument: Instrument | None = None,
) -> Responses:
    """Draw ``n_respondents`` simulated, validated responses (model in the module docstring).

    Parameters
    ----------
    n_respondents : int
        Number of respondents, 1 to 1,000,000; default 100 (the paper's survey had about 100).
    prevalence : float
        True probability of "yes" to the headline question, in [0, 1]; default 0.32.
    rng : Generator, int or None
        Seed or generator; the same seed gives the same responses.
    instrument : Instrument, optional
        Default: the packaged version-1 instrument.

    Returns
    -------
    Responses
        Respondent ids ``S001``, ``S002``, ... (zero-padded to the width of ``n_respondents``); ``source`` is
        ``simulated(n=..., prevalence=..., ...)``.

    Raises
    ------
    InvalidParameterError
        When ``n_respondents`` or ``prevalence`` is out of range.
    """
    rng = as_generator(rng)
    n_respondents, prevalence = _check(n_respondents, prevalence)
    instrument = load_instrument() if instrument is None else instrument
    headline = instrument.analysis.headline
    width = len(str(n_respondents))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(instrument.columns)
    for index in range(n_respondents):
        acted = bool(rng.random() < prevalence)
        answers: dict[str, str] = {}
        for question in instrument.questions:
            if question.id == headline:
                answer = "yes" if acted else "no"
            elif question.ask_if is not None and answers.get(question.ask_if.question) not in question.ask_if.equals:
                answer = ""  # not asked
            elif not question.required and rng.random() < OPTIONAL_BLANK:  # left blank by the respondent
                answer = ""
            else:
                answer = _draw(question, acted, answers, rng)
            answers[question.id] = answer
        writer.writerow([f"S{index + 1:0{width}d}", *(answers[qid] for qid in instrument.question_ids)])
    source = f"simulated(n={n_respondents}, prevalence={prevalence:g})"
    return read_responses(buffer.getvalue(), instrument, source)
