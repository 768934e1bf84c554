"""How tight is a certificate? Search random directions for the smallest perturbation that changes an outcome."""

from __future__ import annotations

import math

import numpy as np

from recollective._random import as_generator
from recollective.errors import InvalidParameterError
from recollective.game._certificates import outcome_radius
from recollective.game._checks import check_preferences, check_revealed
from recollective.game._outcome import DEFAULT_TIE_RTOL, outcome, top_items, truncated_reconstruction
from recollective.game._rank_rules import RankRule, as_rank_rule

__all__ = ["certify_outcome", "smallest_change_along"]


def _changed(R_revealed, direction, scale, rule, rank, top, tie_rtol) -> bool:
    new_rank, _, R_hat = truncated_reconstruction(R_revealed + scale * direction, rule)
    return new_rank != rank or not np.array_equal(top_items(R_hat, tie_rtol), top)


def smallest_change_along(
    R_revealed: np.ndarray,
    direction: np.ndarray,
    rule: RankRule,
    rank: int,
    top: np.ndarray,
    *,
    start: float,
    limit: float,
    tie_rtol: float = DEFAULT_TIE_RTOL,
    n_bisect: int = 30,
) -> float | None:
    """Smallest t (to about 1e-9 relative) such that R~ + t D changes k* or a top item; None if none up to
    ``limit``. ``direction`` D has spectral norm 1, so t is the perturbation's spectral norm."""
    lo, hi = 0.0, max(start, limit * 1e-6)
    while not _changed(R_revealed, direction, hi, rule, rank, top, tie_rtol):
        lo, hi = hi, 2.0 * hi
        if hi > limit:
            return None
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        if _changed(R_revealed, direction, mid, rule, rank, top, tie_rtol):
            hi = mid
        else:
            lo = mid
    return hi


def certify_outcome(
    R_true,
    R_revealed=None,
    alpha: RankRule | float = 1.0,
    *,
    n_trials: int = 50,
    rng: np.random.Generator | int | None = 0,
    tie_rtol: float = DEFAULT_TIE_RTOL,
) -> dict:
    """Certified radius of the outcome of ``R_revealed`` (default R_true) and the smallest change found.

    Returns a dict with ``k_star``, ``radius``, ``rank_radius``, ``binding``, ``smallest_change_found`` (spectral
    norm of the smallest outcome-changing perturbation found along ``n_trials`` Gaussian directions, or None)
    and ``tightness`` = radius / smallest_change_found (1 would be a perfectly tight certificate).
    """
    R_true = check_preferences(R_true)
    R_revealed = R_true if R_revealed is None else check_revealed(R_revealed, R_true.shape)
    if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 0:
        raise InvalidParameterError(f"n_trials must be an integer >= 0; got {n_trials!r}")
    rule = as_rank_rule(alpha)
    gen = as_generator(rng)
    result = outcome(R_true, R_revealed, rule, tie_rtol=tie_rtol)
    certificate = outcome_radius(result, R_revealed, rule, tie_rtol=tie_rtol)
    limit = 10.0 * max(float(result.singular_values[0]), 1.0)
    smallest = math.inf
    for _ in range(int(n_trials)):
        direction = gen.standard_normal(R_true.shape)
        direction /= np.linalg.norm(direction, 2)
        found = smallest_change_along(
            R_revealed,
            direction,
            rule,
            result.rank,
            result.top_items,
            start=max(certificate.radius, 1e-12),
            limit=limit,
            tie_rtol=tie_rtol,
        )
        if found is not None:
            smallest = min(smallest, found)
    found_any = math.isfinite(smallest)
    return {
        "k_star": result.rank,
        "radius": certificate.radius,
        "rank_radius": certificate.rank_radius,
        "binding": certificate.binding,
        "n_trials": int(n_trials),
        "smallest_change_found": smallest if found_any else None,
        "tightness": certificate.radius / smallest if found_any and smallest > 0 else None,
    }
