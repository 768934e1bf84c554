"""Spectral data of a collective strategy (THEORY.md §1, §7 step 1), the retention test (Theorem 2.1), the
secular equation of Theorem 2.2 and the enclosure of its root (Lemma 2.4).

For a detected structure (R* = blockdiag(A, c d^T), A = U Sigma V^T of rank k1) and a strategy (C, t), with
e_C the coalition indicator on the majority users:

    P = U^T 1_C,  q^2 = ||(I - U U^T) 1_C||^2,  delta = ||c|| d_t,  gamma = ||c|| ||d_{-t}||,
    c_eff = c0 - sum_i P_i^2 sigma_i^2 / (sigma_i^2 - alpha^2) = q^2 - alpha^2 sum_i P_i^2 / (sigma_i^2 - alpha^2),
    x_k = alpha sqrt((alpha^2 - sigma_B^2) / ((alpha^2 - gamma^2) c_eff))  (c_eff > 0; +inf otherwise).

(q^2 is computed from the residual of 1_C, and c_eff in the second form, to avoid cancellation.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_indices
from recollective.game._records import record
from recollective.game.theory._structure import StructureResult

__all__ = ["RetentionTest", "SpectralData", "mu_enclosure", "retention_test", "secular_root", "spectral_data"]


@dataclass(frozen=True, eq=False)
class SpectralData:
    """The derived scalars of THEORY.md §1 for one strategy (C, t) on a detected structure.

    Attributes
    ----------
    structure : StructureResult
    members : ndarray of int
        C as user indices of R*.
    target : int
        t as an item index of R*.
    member_mask : ndarray of bool, shape (n_majority_users,)
        1_C on the majority users.
    target_position : int
        Position of t among the minority items.
    c0 : int
        |C|.
    P : ndarray of shape (k1,)
        U^T 1_C.
    q : float
        ||(I - U U^T) 1_C||.
    delta, gamma : float
        ||c|| d_t and ||c|| ||d_{-t}|| (gamma = 0 when n2 = 1).
    d_rest_norm : float
        ||d_{-t}||.
    c_eff : float
        The effective coalition size.
    x_k : float
        The retention threshold (Theorem 2.1); +inf when c_eff <= 0.
    retention_rhs : float
        alpha^2 (alpha^2 - sigma_B^2) / (alpha^2 - gamma^2): k* = k1 + 1 iff x^2 c_eff exceeds it.
    """

    structure: StructureResult
    members: np.ndarray
    target: int
    member_mask: np.ndarray
    target_position: int
    c0: int
    P: np.ndarray
    q: float
    delta: float
    gamma: float
    d_rest_norm: float
    c_eff: float
    x_k: float
    retention_rhs: float

    @property
    def sigma(self) -> np.ndarray:
        return self.structure.sigma

    @property
    def alpha(self) -> float:
        return self.structure.alpha

    @property
    def sigma_B(self) -> float:
        return self.structure.sigma_B

    @property
    def k1(self) -> int:
        return self.structure.k1

    def as_dict(self) -> dict:
        return {
            "members": self.members.tolist(),
            "target": self.target,
            "k1": self.k1,
            "alpha": self.alpha,
            "sigma": self.sigma.tolist(),
            "sigma_B": self.sigma_B,
            "c0": self.c0,
            "P": self.P.tolist(),
            "q": self.q,
            "delta": self.delta,
            "gamma": self.gamma,
            "c_eff": self.c_eff,
            "x_k": self.x_k,
        }


def spectral_data(structure: StructureResult, members, target: int) -> SpectralData:
    """Compute P, q, delta, gamma, c_eff and x_k (THEORY.md §1 and §7 step 1) for the strategy (C, t).

    Parameters
    ----------
    structure : StructureResult
        A successful :func:`detect_structure` result.
    members : array-like of int
        The collective C (user indices of R*, all majority users).
    target : int
        The target item t (an item index of R*, a minority item).

    Returns
    -------
    SpectralData

    Raises
    ------
    InvalidParameterError
        If the structure was not detected, or C / t are not majority users / a minority item.
    """
    if not structure.ok:
        raise InvalidParameterError(f"the theory does not apply to this instance: {structure.reason}")
    n_users, n_items = structure.shape
    members = check_indices(members, n_users, "members", "user")
    targets = check_indices(target, n_items, "target", "item")
    if targets.size != 1:
        raise InvalidParameterError(f"the theory covers one target item; got {targets.size}")
    target = int(targets[0])
    local = np.searchsorted(structure.majority_users, members)
    local = np.minimum(local, structure.majority_users.size - 1)
    if not np.array_equal(structure.majority_users[local], members):
        bad = int(members[structure.majority_users[local] != members][0])
        raise InvalidParameterError(f"member {bad} is not a majority user; the theory needs C inside the majority")
    position = int(np.searchsorted(structure.minority_items, target))
    if position >= structure.minority_items.size or structure.minority_items[position] != target:
        raise InvalidParameterError(f"target item {target} is not a minority item")
    mask = np.zeros(structure.majority_users.size, dtype=bool)
    mask[local] = True
    U, sigma, alpha = structure.U, structure.sigma, structure.alpha
    indicator = mask.astype(np.float64)
    P = U.T @ indicator
    q = float(np.linalg.norm(indicator - U @ P))
    c_norm = float(np.linalg.norm(structure.c))
    d = structure.d
    d_rest = float(np.linalg.norm(np.delete(d, position)))
    delta = c_norm * float(d[position])
    gamma = c_norm * d_rest
    c_eff = q * q - alpha * alpha * float(np.sum(P * P / ((sigma - alpha) * (sigma + alpha))))
    suppression = (alpha - structure.sigma_B) * (alpha + structure.sigma_B)
    rhs = alpha * alpha * suppression / ((alpha - gamma) * (alpha + gamma))
    x_k = math.sqrt(rhs / c_eff) if c_eff > 0 else math.inf
    return SpectralData(
        structure=structure,
        members=members,
        target=target,
        member_mask=mask,
        target_position=position,
        c0=int(members.size),
        P=P,
        q=q,
        delta=delta,
        gamma=gamma,
        d_rest_norm=d_rest,
        c_eff=float(c_eff),
        x_k=float(x_k),
        retention_rhs=float(rhs),
    )


@dataclass(frozen=True)
class RetentionTest:
    """Theorem 2.1 at one x: k* = k1 + 1[c_eff > 0 and x > x_k].

    ``margin`` is x^2 c_eff - alpha^2 (alpha^2 - sigma_B^2)/(alpha^2 - gamma^2): positive iff the new direction is
    retained.
    """

    x: float
    rank: int
    retained: bool
    c_eff: float
    x_k: float
    margin: float

    def as_dict(self) -> dict:
        return record(self)


def retention_test(spectral: SpectralData, x: float) -> RetentionTest:
    """The exact retention test of Theorem 2.1 (THEORY.md §4; §7 step 2).

    For rank-one A a failed test means the strategy is not Pareto-effective (Proposition 1.4); for k1 >= 2 it
    only means "not certified" (Remark 2.7).
    """
    x = float(x)
    retained = spectral.c_eff > 0 and x > spectral.x_k
    return RetentionTest(
        x=x,
        rank=spectral.k1 + int(retained),
        retained=bool(retained),
        c_eff=spectral.c_eff,
        x_k=spectral.x_k,
        margin=float(x * x * spectral.c_eff - spectral.retention_rhs),
    )


def _inverse_h(T, x2q2, delta2, gamma2):
    """The root in (0, gamma^2) of T mu^2 - S mu + x^2 q^2 gamma^2 = 0, S = T gamma^2 + x^2 q^2 + delta^2."""
    S = T * gamma2 + x2q2 + delta2
    return 2.0 * x2q2 * gamma2 / (S + np.sqrt(np.maximum(S * S - 4.0 * T * x2q2 * gamma2, 0.0)))


def mu_enclosure(spectral: SpectralData, x) -> tuple[np.ndarray, np.ndarray]:
    """Lemma 2.4: mu_- <= mu = s_{k1+2}(R~)^2 <= mu_+ < gamma^2, with no root finding.

    With h(mu) = x^2 q^2/mu - delta^2/(gamma^2 - mu): mu_+ = h^{-1}(T0), T0 = 1 + x^2 sum P_i^2/sigma_i^2, and
    mu_- = h^{-1}(T1), T1 = 1 + x^2 sum P_i^2/(sigma_i^2 - mu_+). Valid when x > x_k and n2 >= 2.

    Parameters
    ----------
    x : float or ndarray
    """
    x = np.asarray(x, dtype=np.float64)
    sigma2 = spectral.sigma**2
    P2 = spectral.P**2
    x2 = x * x
    x2q2 = x2 * spectral.q**2
    delta2, gamma2 = spectral.delta**2, spectral.gamma**2
    T0 = 1.0 + x2 * float(np.sum(P2 / sigma2))
    mu_plus = _inverse_h(T0, x2q2, delta2, gamma2)
    T1 = 1.0 + x2 * np.sum(P2 / (sigma2 - mu_plus[..., None]), axis=-1)
    mu_minus = _inverse_h(T1, x2q2, delta2, gamma2)
    return mu_minus, mu_plus


def _secular(spectral: SpectralData, x2: np.ndarray, mu: np.ndarray) -> np.ndarray:
    sigma2 = spectral.sigma**2
    P2 = spectral.P**2
    series = np.sum(P2 / (sigma2 - mu[..., None]), axis=-1)
    return 1.0 + x2 * series - x2 * spectral.q**2 / mu + spectral.delta**2 / (spectral.gamma**2 - mu)


def secular_root(spectral: SpectralData, x, *, max_iter: int = 200) -> np.ndarray:
    """mu = s_{k1+2}(R~)^2, the unique root in (0, gamma^2) of the secular equation of Theorem 2.2.

    f(mu) = 1 + x^2 sum_i P_i^2/(sigma_i^2 - mu) - x^2 q^2/mu + delta^2/(gamma^2 - mu) is increasing on
    (0, gamma^2). The root is found by Newton's method on g(mu) = mu (gamma^2 - mu) f(mu), which has the sign of f
    there but not its two poles, safeguarded by bisection: every iterate shrinks a bracket that starts from the
    enclosure of Lemma 2.4 (widened to (0, gamma^2) if rounding makes it miss), and a Newton step that would leave
    the bracket is replaced by its midpoint. It stops at full floating-point precision (g within the rounding of
    its terms, or a Newton step or the bracket within a few ulps), after a few steps where bisection needs ~40.

    Parameters
    ----------
    x : float or ndarray
        Uprating values with x > x_k (Theorem 2.2 needs c_eff > 0, x > x_k and n2 >= 2).

    Returns
    -------
    ndarray
        mu for each x (same shape as ``x``).
    """
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    gamma2 = spectral.gamma**2
    x2 = x * x
    lo, hi = mu_enclosure(spectral, x)
    lo = np.clip(lo * (1 - 1e-9), 0.0, gamma2)
    hi = np.clip(hi * (1 + 1e-9), 0.0, gamma2)
    # Enclosure misses only through rounding: fall back to the full interval there.
    with np.errstate(divide="ignore", invalid="ignore"):
        bad = ~(_secular(spectral, x2, np.where(lo > 0, lo, np.nan)) <= 0)
        bad |= ~(_secular(spectral, x2, np.where(hi < gamma2, hi, np.nan)) >= 0)
    lo = np.where(bad, 0.0, lo)
    hi = np.where(bad, gamma2, hi)
    sigma2 = spectral.sigma**2
    P2 = spectral.P**2
    x2q2 = x2 * spectral.q**2
    delta2 = spectral.delta**2
    tiny = 4.0 * np.finfo(np.float64).eps
    mu = 0.5 * (lo + hi)
    active = hi - lo > tiny * hi
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(max_iter):
            if not active.any():
                break
            gap = sigma2 - mu[..., None]
            series = 1.0 + x2 * np.sum(P2 / gap, axis=-1)
            slope = x2 * np.sum(P2 / (gap * gap), axis=-1)
            rest = gamma2 - mu
            g = mu * rest * series - x2q2 * rest + delta2 * mu
            dg = (rest - mu) * series + mu * rest * slope + x2q2 + delta2
            lo = np.where(active & (g < 0), mu, lo)
            hi = np.where(active & (g > 0), mu, hi)
            step = g / dg
            newton = mu - step
            inside = (newton > lo) & (newton < hi)
            # Converged: |g| within the rounding of its own terms, or a Newton step below a few ulps (which may
            # round onto mu itself, i.e. onto the bracket's end). Keep mu, or the step where it stays inside.
            noise = tiny * (np.abs(mu * rest * series) + x2q2 * rest + delta2 * mu)
            converged = (np.abs(g) <= noise) | (np.abs(step) <= tiny * mu)
            nxt = np.where(inside, newton, np.where(converged, mu, 0.5 * (lo + hi)))
            mu = np.where(active, nxt, mu)
            active &= ~(converged | (hi - lo <= tiny * hi))
    return mu
