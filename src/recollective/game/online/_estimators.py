"""Matrix completion from partial, noisy observations: the learner's estimators in the online game.

Inputs everywhere: ``values`` (ndarray of shape (n_users, n_items), the mean observed value of each pair, 0 where
unobserved) and ``mask`` (bool ndarray of the same shape, True where observed).

* **USVT** (Chatterjee 2015, "Matrix estimation by universal singular value thresholding"): rescale the
  zero-filled matrix by the observed fraction p, Y / p, and keep its singular values above the threshold — here the
  learner's rank rule (alpha by default), so with every entry observed and no noise USVT *is* the one-shot
  alpha learner. (Chatterjee's own threshold is (2 + eta) sqrt(n p); his final clipping to the value range is
  not applied, to keep that equivalence.)
* **SoftImpute** (Mazumder, Hastie & Tibshirani 2010): iterate Z <- S_lambda(P_obs(Y) + P_unobs(Z)), with
  S_lambda the soft-thresholding of singular values by lambda (default alpha * p, the alpha threshold carried from
  the rescaled scale to the observed one).
* **ALS with the alpha rank rule**: rank k = the USVT k*, factors initialised from the USVT SVD, then alternating
  ridge least squares on the observed entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.game._rank_rules import RankRule

__all__ = ["ESTIMATORS", "Completion", "als", "complete", "soft_impute", "usvt"]

ESTIMATORS = ("usvt", "softimpute", "als")


@dataclass(frozen=True, eq=False)
class Completion:
    """A completed matrix and its spectrum.

    Attributes
    ----------
    R_hat : ndarray of shape (n_users, n_items)
    rank : int
        Directions kept (k* for USVT and ALS; non-zero singular values after shrinkage for SoftImpute).
    singular_values : ndarray
        Spectrum the rank was read from (of the rescaled matrix for USVT/ALS, of the final iterate for SoftImpute).
    observed_fraction : float
    n_iter : int
    """

    R_hat: np.ndarray
    rank: int
    singular_values: np.ndarray
    observed_fraction: float
    n_iter: int = 0


def _observed_fraction(mask: np.ndarray) -> float:
    fraction = float(np.count_nonzero(mask)) / mask.size
    if fraction == 0:
        raise InvalidParameterError("no pair has been observed yet; explore for at least one round")
    return fraction


def usvt(values: np.ndarray, mask: np.ndarray, rule: RankRule) -> Completion:
    """Universal singular value thresholding with the learner's rank rule on Y / p."""
    fraction = _observed_fraction(mask)
    U, s, Vt = np.linalg.svd(np.where(mask, values, 0.0) / fraction, full_matrices=False)
    rank = rule.rank(s)
    R_hat = (U[:, :rank] * s[:rank]) @ Vt[:rank] if rank else np.zeros(values.shape)
    return Completion(R_hat, rank, s, fraction)


def soft_impute(
    values: np.ndarray,
    mask: np.ndarray,
    shrinkage: float,
    *,
    max_iter: int = 50,
    tol: float = 1e-4,
) -> Completion:
    """SoftImpute with soft threshold ``shrinkage``; stops when ||Z_new - Z|| <= tol ||Z||."""
    fraction = _observed_fraction(mask)
    observed = np.where(mask, values, 0.0)
    Z = np.zeros(values.shape)
    s_kept = np.zeros(min(values.shape))
    n_done = 0
    for _ in range(max_iter):
        n_done += 1
        U, s, Vt = np.linalg.svd(np.where(mask, observed, Z), full_matrices=False)
        s_kept = np.maximum(s - shrinkage, 0.0)
        rank = int(np.count_nonzero(s_kept))
        Z_new = (U[:, :rank] * s_kept[:rank]) @ Vt[:rank]
        change = np.linalg.norm(Z_new - Z)
        Z = Z_new
        if change <= tol * max(np.linalg.norm(Z), 1e-300):
            break
    return Completion(Z, int(np.count_nonzero(s_kept)), s_kept, fraction, n_done)


def als(
    values: np.ndarray,
    mask: np.ndarray,
    rule: RankRule,
    *,
    reg: float = 0.1,
    n_iter: int = 15,
    max_rank: int = 64,
) -> Completion:
    """Alternating ridge least squares at the USVT rank (at most ``max_rank``), started from the USVT factors.

    Each sweep costs O(n_users n_items rank^2) time and O((n_users + n_items) rank^2) memory, so the rank is
    capped: with little exploration the rescaled matrix has hundreds of singular values above alpha (noise), where
    ALS would take minutes and gigabytes per completion.
    """
    fraction = _observed_fraction(mask)
    observed = np.where(mask, values, 0.0)
    U, s, Vt = np.linalg.svd(observed / fraction, full_matrices=False)
    rank = min(rule.rank(s), int(max_rank))
    if rank == 0:
        return Completion(np.zeros(values.shape), 0, s, fraction)
    users = U[:, :rank] * np.sqrt(s[:rank])
    items = Vt[:rank].T * np.sqrt(s[:rank])
    weights = mask.astype(np.float64)
    ridge = reg * np.eye(rank)
    for _ in range(n_iter):
        users = _ridge_rows(weights, observed, items, ridge)
        items = _ridge_rows(weights.T, observed.T, users, ridge)
    return Completion(users @ items.T, rank, s, fraction, n_iter)


def _ridge_rows(weights, observed, factors, ridge):
    """Solve (F^T W_u F + ridge) x_u = F^T (W_u y_u) for every row u at once."""
    k = factors.shape[1]
    outer = (factors[:, :, None] * factors[:, None, :]).reshape(factors.shape[0], k * k)
    grams = (weights @ outer).reshape(-1, k, k) + ridge
    rhs = observed @ factors
    return np.linalg.solve(grams, rhs[:, :, None])[:, :, 0]


def complete(
    estimator: str,
    values: np.ndarray,
    mask: np.ndarray,
    rule: RankRule,
    alpha: float,
    *,
    softimpute_shrinkage: float | None = None,
    als_reg: float = 0.1,
    als_max_rank: int = 64,
) -> Completion:
    """Dispatch to one of :data:`ESTIMATORS`."""
    if estimator == "usvt":
        return usvt(values, mask, rule)
    if estimator == "softimpute":
        shrinkage = alpha * _observed_fraction(mask) if softimpute_shrinkage is None else softimpute_shrinkage
        return soft_impute(values, mask, shrinkage)
    if estimator == "als":
        return als(values, mask, rule, reg=als_reg, max_rank=als_max_rank)
    raise InvalidParameterError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
