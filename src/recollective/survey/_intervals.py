"""Confidence intervals for a proportion: Wilson score and Clopper–Pearson (exact).

Both take a count ``x`` of "yes" answers out of ``n`` and a confidence level ``1 - a`` (default 0.95). Counts and
sizes may be non-integer so that the same formulas serve weighted estimates, where ``n`` is Kish's effective
sample size and ``x = p_w * n`` (docs/survey.md, "Post-stratification").

Wilson (1927), with ``z`` the ``1 - a/2`` standard-normal quantile and ``p = x / n``::

    centre = (x + z^2 / 2) / (n + z^2)
    half   = z / (n + z^2) * sqrt(x (n - x) / n + z^2 / 4)
    [centre - half, centre + half]

Clopper–Pearson (1934), from the beta quantiles (0 when ``x = 0``, 1 when ``x = n``)::

    [Beta(a/2; x, n - x + 1), Beta(1 - a/2; x + 1, n - x)]

For integer counts the latter equals ``scipy.stats.binomtest(x, n).proportion_ci(method="exact")``.
"""

from __future__ import annotations

import math

from recollective.errors import InvalidParameterError

__all__ = ["check_confidence", "clopper_pearson_interval", "wilson_interval"]


def check_confidence(confidence) -> float:
    """``confidence`` as a float strictly between 0 and 1, or InvalidParameterError."""
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"confidence must be a number in (0, 1); got {confidence!r}") from None
    if not 0.0 < value < 1.0:
        raise InvalidParameterError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    return value


def _check_counts(count, n) -> tuple[float, float]:
    try:
        count, n = float(count), float(n)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"count and n must be numbers; got count={count!r}, n={n!r}") from None
    if not (math.isfinite(n) and n > 0):
        raise InvalidParameterError(f"n must be a finite number > 0; got {n!r}")
    if not (math.isfinite(count) and 0 <= count <= n * (1 + 1e-12)):
        raise InvalidParameterError(f"count must be in [0, n] = [0, {n:g}]; got {count!r}")
    return min(count, n), n


def wilson_interval(count, n, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion.

    Parameters
    ----------
    count : float
        Number of "yes" answers, ``0 <= count <= n`` (non-integer for weighted estimates).
    n : float
        Number of answers, ``> 0`` (an effective sample size for weighted estimates).
    confidence : float
        Coverage, in (0, 1); default 0.95.

    Returns
    -------
    (low, high) : tuple of float
        Inside [0, 1]. Example: ``wilson_interval(32, 100)`` is ``(0.23669..., 0.41662...)``.

    Raises
    ------
    InvalidParameterError
        When ``n <= 0``, ``count`` is outside [0, n] or ``confidence`` is outside (0, 1).
    """
    from scipy.special import ndtri

    count, n = _check_counts(count, n)
    z = float(ndtri(0.5 + check_confidence(confidence) / 2.0))
    z2 = z * z
    centre = (count + z2 / 2.0) / (n + z2)
    half = z / (n + z2) * math.sqrt(max(count * (n - count) / n, 0.0) + z2 / 4.0)
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == n else min(1.0, centre + half)
    return low, high


def clopper_pearson_interval(count, n, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson ("exact") interval for a proportion, from beta quantiles.

    Parameters and errors as :func:`wilson_interval`. Example: ``clopper_pearson_interval(32, 100)`` is
    ``(0.23021..., 0.42076...)``, equal to ``scipy.stats.binomtest(32, 100).proportion_ci(method="exact")``.
    """
    from scipy.special import betaincinv

    count, n = _check_counts(count, n)
    tail = (1.0 - check_confidence(confidence)) / 2.0
    low = 0.0 if count == 0 else float(betaincinv(count, n - count + 1.0, tail))
    high = 1.0 if count == n else float(betaincinv(count + 1.0, n - count, 1.0 - tail))
    return low, high
