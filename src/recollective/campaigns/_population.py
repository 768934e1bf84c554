"""Which users a campaign evaluation scores: every test user, or a seeded sample of them (lean evaluation).

A campaign's numbers fall in two kinds. *Group* numbers (target exposure in the audience, the audience's and the
participants' NDCG and hit rate, the participants' better/worse shares) need the lists of every user of a small
group, so the audience and the participants are always scored in full. *Population* numbers (NDCG, recall and
hit rate over all test users, the majority's, coverage, ARP, APLT, Gini, amplification, the externality bins,
welfare, the better/unchanged/worse shares, the noise floor's quantile) are means over all test users; on a large
data set scoring every test user against every item is most of the cost (a 1.2M-rating, 253k-item file: most of an
ALS campaign's time), so the lean evaluation (``score_users="needed"``) estimates them on a uniform sample of
``sample_size`` test users drawn without replacement from ``sample_seed`` alone, the same sample whatever the
campaign, its seed or the model, so before/after and campaign-to-campaign comparisons are paired. When there are no
more test users than ``sample_size``, the sample is every test user and the lean evaluation is the full one.

Every number computed on the sample equals what the full evaluation computes on the same users; the sampling error
is stated by :func:`ci95_halfwidth` (normal interval with the finite-population correction).
"""

from __future__ import annotations

import math

import numpy as np

from recollective.errors import InvalidParameterError

__all__ = ["DEFAULT_SAMPLE_SIZE", "SCORE_USERS", "check_score_users", "ci95_halfwidth", "evaluation_population"]

SCORE_USERS = ("needed", "all")
"""``needed``: the audience, the participants and a seeded sample of the test users; ``all``: every test user."""

DEFAULT_SAMPLE_SIZE = 3000
"""Test users sampled for the population numbers by the lean evaluation. More than the shipped data sets have
(goodbooks-10k: 2,672 test users; MovieLens small: 610), so their results are the full ones; on the 106k-user tiled
goodbooks file a NDCG@10 mean's 95% half-width is then about 0.002 (``<key>_ci95``)."""

Z95 = 1.959963984540054
"""The 0.975 quantile of the standard normal distribution."""


def check_score_users(score_users: str, sample_size: int) -> None:
    """Raise :class:`InvalidParameterError` unless ``score_users`` is one of :data:`SCORE_USERS` and
    ``sample_size`` an integer >= 1."""
    if score_users not in SCORE_USERS:
        raise InvalidParameterError(f"score_users must be one of {', '.join(SCORE_USERS)}; got {score_users!r}")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int | np.integer) or sample_size < 1:
        raise InvalidParameterError(f"sample_size must be an integer >= 1; got {sample_size!r}")


def evaluation_population(
    candidates: np.ndarray, score_users: str = "needed", sample_size: int = DEFAULT_SAMPLE_SIZE, sample_seed: int = 0
) -> np.ndarray:
    """The users whose lists the population numbers average over (sorted indices).

    Parameters
    ----------
    candidates : ndarray of int of shape (n_test_users,)
        Every test user, sorted (with a world: every user).
    score_users : {"needed", "all"}, default "needed"
        ``all`` returns ``candidates``; ``needed`` a uniform sample of ``min(sample_size, n_test_users)`` of them,
        without replacement.
    sample_size : int >= 1
    sample_seed : int
        Seeds ``numpy.random.default_rng`` for the draw; the sample depends on nothing else.

    Returns
    -------
    ndarray of int64 of shape (n_sampled,)
        Sorted; ``candidates`` itself when ``score_users="all"`` or ``n_test_users <= sample_size``.
    """
    check_score_users(score_users, sample_size)
    candidates = np.asarray(candidates, dtype=np.int64)
    if score_users == "all" or candidates.size <= sample_size:
        return candidates
    chosen = np.random.default_rng(sample_seed).choice(candidates.size, int(sample_size), replace=False)
    return np.sort(candidates[chosen])


def ci95_halfwidth(values, n_population: int) -> float:
    """Half-width of the 95% normal interval of the mean of ``values``, a uniform sample without replacement of a
    population of ``n_population`` users: ``1.96 * sd / sqrt(n) * sqrt((N - n) / (N - 1))`` (``sd`` with ``n - 1``
    degrees of freedom, NaN values dropped first; 0 when the sample is the whole population, NaN for fewer than two
    values)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    n = values.size
    if n >= n_population:
        return 0.0
    if n < 2:
        return math.nan
    correction = (n_population - n) / (n_population - 1)
    return float(Z95 * values.std(ddof=1) / math.sqrt(n) * math.sqrt(correction))
