"""Sufficient conditions for Pareto-effectiveness: Theorem 1 (rank-one A) and Corollary 2.3 (any A).

THEORY.md §3 (Theorem 1: the interval (x_k, x_bar) and the refined pointwise test (c)) and §4 (Corollary 2.3,
crude with mu in [0, gamma^2] and refined with the enclosure [mu_-, mu_+] of Lemma 2.4, evaluated by interval
arithmetic with corner products). Every test is sufficient, not necessary: a point it does not certify may still
be Pareto-effective (Remark 2.7; coverage in docs/theory.md). Each result lists every condition with its slack
(the smallest left-hand side over the users it quantifies; > 0 means it holds) and the user where it is smallest.

Notation as in :mod:`recollective.game.theory._spectral`; in the rank-one case A = a b^T with a, b > 0
(normalised so that ||b|| = 1), S_a = sum_{u in C} a_u, sigma_A = ||a|| ||b||, b_max = max_j b_j.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from recollective.game._records import record
from recollective.game.theory._spectral import SpectralData, mu_enclosure

__all__ = [
    "C_STAR",
    "MajorityBlock",
    "PointCertificate",
    "Theorem1Interval",
    "corollary_2_3",
    "theorem1_interval",
    "theorem1_refined",
]

C_STAR = (1.0 + math.sqrt(2.0)) / 2.0


@dataclass(frozen=True)
class PointCertificate:
    """A pointwise sufficient test at one x.

    Attributes
    ----------
    x : float
    test : str
        ``"theorem 1 (c)"``, ``"corollary 2.3 crude"`` or ``"corollary 2.3 refined"``.
    applicable : bool
        The test's assumptions hold (False: see ``reason``; then ``certified`` is False).
    certified : bool
        Every condition holds: the strategy is Pareto-effective at x.
    conditions : dict
        name -> {"slack": float, "user": int or None, "holds": bool}.
    reason : str
    """

    x: float
    test: str
    applicable: bool
    certified: bool
    conditions: dict = field(default_factory=dict)
    reason: str = ""

    @property
    def failed(self) -> list[str]:
        return [name for name, value in self.conditions.items() if not value["holds"]]

    def as_dict(self) -> dict:
        return record(self, failed=self.failed)


def _condition(values: np.ndarray, users: np.ndarray | None = None) -> dict:
    if values.size == 0:
        return {"slack": math.inf, "user": None, "holds": True}
    i = int(np.argmin(values))
    return {
        "slack": float(values[i]),
        "user": None if users is None else int(users[i]),
        "holds": bool(values[i] > 0),
    }


def _scalar(value: float) -> dict:
    return {"slack": float(value), "user": None, "holds": bool(value > 0)}


def _rank_one_reason(spectral: SpectralData) -> str:
    st = spectral.structure
    if st.minority_items.size < 2:
        return "n2 = 1: Theorem 1 and Corollary 2.3 are stated for n2 >= 2 (Remark 2.6 gives the exact window)"
    if not st.rank_one_majority:
        return f"A has rank k1 = {st.k1} (or a zero row/column): Theorem 1 needs A = a b^T with a, b > 0"
    return ""


@dataclass(frozen=True)
class Theorem1Interval:
    """Theorem 1(a)-(b): every x in (x_k, x_bar) is Pareto-effective (rank-one A).

    Attributes
    ----------
    applicable : bool
    reason : str
    x_k, x_M, x_N, x_bar : float
        x_bar = min(x_M, x_N); x_M = min over members of a_u b_max / (1 + c* (rho_bar_u - 1)^+).
    binding_member : int or None
        The member whose term gives x_M.
    interval : (float, float) or None
        (x_k, x_bar) when non-empty.
    depth, power : float
        Theorem 1(b): the interval is non-empty iff c_eff > 0 and depth < power, with
        depth = alpha^2 (alpha^2 - sigma_B^2)/(alpha^2 - sigma_B^2 + delta^2) and power = c_eff x_bar^2.
    """

    applicable: bool
    reason: str
    x_k: float = math.nan
    x_M: float = math.nan
    x_N: float = math.nan
    x_bar: float = math.nan
    binding_member: int | None = None
    interval: tuple[float, float] | None = None
    depth: float = math.nan
    power: float = math.nan

    @property
    def nonempty(self) -> bool:
        return self.interval is not None

    def contains(self, x: float) -> bool:
        return self.interval is not None and self.interval[0] < x < self.interval[1]

    def as_dict(self) -> dict:
        return record(self, nonempty=self.nonempty)


def _rank_one_terms(spectral: SpectralData):
    st = spectral.structure
    a, b = st.a, st.b
    a_C = a[spectral.member_mask]
    S_a = float(a_C.sum())
    sigma_A2 = float(st.sigma[0]) ** 2
    gamma2 = spectral.gamma**2
    b_norm2 = float(b @ b)
    rho_bar = a_C * S_a * b_norm2 / (sigma_A2 - gamma2)
    b_max = float(b.max())
    x_M_u = a_C * b_max / (1.0 + C_STAR * np.maximum(rho_bar - 1.0, 0.0))
    x_N = b_max * st.sigma_B**2 * (sigma_A2 - gamma2) / (gamma2 * b_norm2 * S_a)
    return a_C, S_a, sigma_A2, b_norm2, b_max, rho_bar, x_M_u, float(x_N)


def theorem1_interval(spectral: SpectralData) -> Theorem1Interval:
    """The explicit Pareto window of Theorem 1(a)-(b) (THEORY.md §3; §7 step 3).

    Returns
    -------
    Theorem1Interval
        Not applicable (with the reason) unless A = a b^T with a, b > 0 and n2 >= 2.
    """
    reason = _rank_one_reason(spectral)
    if reason:
        return Theorem1Interval(False, reason)
    _, _, _, _, _, _, x_M_u, x_N = _rank_one_terms(spectral)
    i = int(np.argmin(x_M_u))
    x_M = float(x_M_u[i])
    x_bar = min(x_M, x_N)
    depth = spectral.retention_rhs
    power = spectral.c_eff * x_bar * x_bar
    interval = (spectral.x_k, x_bar) if spectral.c_eff > 0 and spectral.x_k < x_bar else None
    return Theorem1Interval(
        applicable=True,
        reason="",
        x_k=spectral.x_k,
        x_M=x_M,
        x_N=x_N,
        x_bar=x_bar,
        binding_member=int(spectral.members[i]),
        interval=interval,
        depth=float(depth),
        power=float(power),
    )


def theorem1_refined(spectral: SpectralData, x: float) -> PointCertificate:
    """The refined pointwise test of Theorem 1(c) (rank-one A; uses mu_+ of Lemma 2.4).

    x is certified if x > x_k, x < x_N and, for every member u, either x < x_M,u or [rho_bar_u <= 1,
    x (1 - (1 - rho_bar_u)/Nbar(x)) < a_u b_max and x psi_Y d2 < a_u b_max].
    """
    x = float(x)
    reason = _rank_one_reason(spectral)
    if reason:
        return PointCertificate(x, "theorem 1 (c)", False, False, reason=reason)
    a_C, S_a, sigma_A2, b_norm2, b_max, rho_bar, x_M_u, x_N = _rank_one_terms(spectral)
    conditions = {"K": _scalar(x - spectral.x_k if spectral.c_eff > 0 else -math.inf), "N": _scalar(x_N - x)}
    if conditions["K"]["holds"]:
        _, mu_plus = mu_enclosure(spectral, x)
        mu_plus = float(mu_plus)
        gamma2 = spectral.gamma**2
        N_bar = 1.0 + (x * math.sqrt(b_norm2) * S_a / (sigma_A2 - mu_plus)) ** 2
        N_bar += (spectral.gamma * spectral.delta / (gamma2 - mu_plus)) ** 2
        psi_Y = 0.5 if spectral.delta <= spectral.gamma else spectral.gamma * spectral.delta / spectral.sigma_B**2
        d2 = float(np.delete(spectral.structure.d, spectral.target_position).max()) / spectral.d_rest_norm
        power = a_C * b_max
        refined = np.minimum(power - x * (1.0 - (1.0 - rho_bar) / N_bar), power - x * psi_Y * d2)
        refined = np.where(rho_bar <= 1.0, refined, -np.inf)
        conditions["M"] = _condition(np.maximum(x_M_u - x, refined), spectral.members)
    else:
        conditions["M"] = _condition(x_M_u - x, spectral.members)
    certified = all(value["holds"] for value in conditions.values())
    return PointCertificate(x, "theorem 1 (c)", True, certified, conditions)


@dataclass(frozen=True, eq=False)
class MajorityBlock:
    """The majority block A with, per user, j*_u = argmax_j A[u, j] (first), A[u, j*_u] and the gap to the best
    item of lower value, min_{j in L_u} (A[u, j*_u] - A[u, j]) (inf when L_u is empty); computed once.
    """

    A: np.ndarray
    j_star: np.ndarray
    a_star: np.ndarray
    gap: np.ndarray

    @classmethod
    def of(cls, A) -> MajorityBlock:
        A = np.asarray(A, dtype=np.float64)
        j_star = np.argmax(A, axis=1)
        a_star = A[np.arange(A.shape[0]), j_star]
        below = np.where(np.less(A, a_star[:, None]), A, -np.inf).max(axis=1, initial=-np.inf)
        return cls(A, j_star, a_star, a_star - below)


def _interval_div(lo, hi, d_lo, d_hi):
    """[lo, hi] / [d_lo, d_hi] for 0 < d_lo <= d_hi <= inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(lo < 0, lo / d_lo, lo / d_hi)
        high = np.where(hi > 0, hi / d_lo, hi / d_hi)
    return low, high


def _product_bounds(a_lo, a_hi, b_lo, b_hi):
    corners = np.stack([a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi])
    return corners.min(axis=0), corners.max(axis=0)


def corollary_2_3(spectral: SpectralData, x: float, A: np.ndarray, *, refined: bool = True) -> PointCertificate:
    """The certificate of Corollary 2.3 at x (any A; THEORY.md §4, §7 step 5).

    Parameters
    ----------
    spectral : SpectralData
    x : float
    A : ndarray of shape (n_majority_users, n_majority_items) or MajorityBlock
        The majority block of R* (its entries decide argmax_j A[u, j] and the sets L_u); pass
        ``MajorityBlock.of(A)`` when certifying many x.
    refined : bool, default=True
        Enclose mu in [mu_-, mu_+] (Lemma 2.4); False: the crude enclosure [0, gamma^2] (interlacing/Weyl).

    Returns
    -------
    PointCertificate
        Conditions K, M1-M3 (members), N1-N3 (non-members) and m (minority); majority users whose row of A is
        zero are exempt (every item gives them utility 0). M2 and N2 are first bounded over the hull of
        xi_j* - xi_j (O(1) per user) and evaluated item by item only where that bound is <= 0, so their
        reported slack is a lower bound of the smallest left-hand side when they hold (exact when they fail).
    """
    x = float(x)
    test = "corollary 2.3 " + ("refined" if refined else "crude")
    st = spectral.structure
    if st.minority_items.size < 2:
        return PointCertificate(x, test, False, False, reason=_rank_one_reason(spectral))
    conditions = {"K": _scalar(x - spectral.x_k if spectral.c_eff > 0 else -math.inf)}
    if not conditions["K"]["holds"]:
        return PointCertificate(x, test, True, False, conditions, reason="the new direction is not retained")
    sigma, P, U, V = st.sigma, spectral.P, st.U, st.V
    gamma2 = spectral.gamma**2
    if refined:
        mu_lo, mu_hi = (float(v) for v in mu_enclosure(spectral, x))
    else:
        mu_lo, mu_hi = 0.0, gamma2
    sigma2 = sigma**2
    width = mu_hi - mu_lo
    xi_c = x * (V @ (sigma * P / (sigma2 - mu_lo)))
    s_k2 = sigma2[-1]
    eps_xi = x * float(np.linalg.norm(P)) * sigma[-1] * width / ((s_k2 - mu_hi) * (s_k2 - mu_lo))
    phi_c = x * (U @ (sigma2 * P / (sigma2 - mu_lo)))
    e = x * (np.abs(U) @ (np.abs(P) * sigma2 * width / ((sigma2 - mu_hi) * (sigma2 - mu_lo))))
    gd = spectral.gamma * spectral.delta
    Y_lo = gd / (gamma2 - mu_lo)
    Y_hi = gd / (gamma2 - mu_hi) if mu_hi < gamma2 else math.inf
    xi_norm = float(np.linalg.norm(xi_c))
    N0 = 1.0 + max(xi_norm - eps_xi, 0.0) ** 2
    N_lo, N_hi = N0 + Y_lo**2, 1.0 + (xi_norm + eps_xi) ** 2 + Y_hi**2
    Y_star = min(max(math.sqrt(N0), Y_lo), Y_hi)
    psi_Y = Y_star / (N0 + Y_star**2)
    d = st.d
    d_t = float(d[spectral.target_position])
    d2 = float(np.delete(d, spectral.target_position).max()) / spectral.d_rest_norm
    second = d_t * mu_hi / ((gamma2 - mu_hi) * N_lo) if mu_hi < gamma2 else math.inf
    Omega = min(spectral.d_rest_norm / 2.0, second)

    block = A if isinstance(A, MajorityBlock) else MajorityBlock.of(A)
    j_star, a_star = block.j_star, block.a_star
    active = a_star > 0  # zero rows are exempt
    xs_lo, xs_hi = xi_c[j_star] - eps_xi, xi_c[j_star] + eps_xi
    # xi_j* - xi_j lies in (xi_c,j* - xi_c,j) +- 2 eps_xi; over all j in the hull [d_lo, d_hi]
    d_lo, d_hi = xs_lo - float(xi_c.max()) - eps_xi, xs_hi - float(xi_c.min()) + eps_xi

    def pairwise(mask, lo, hi, sign):
        """min over j in L_u of A[u,j*] - A[u,j] + sign * bound[coef_u (xi_j* - xi_j)]: a cheap lower bound for
        every user, made exact for the users where the bound is <= 0 (O(n1) each)."""
        lb, ub = _product_bounds(lo, hi, d_lo, d_hi)
        value = block.gap + (lb if sign > 0 else -ub)
        for u in np.flatnonzero(mask & (value <= 0)):
            lower = np.less(block.A[u], a_star[u])
            diff = xi_c[j_star[u]] - xi_c[lower]
            lb_u, ub_u = _product_bounds(lo[u], hi[u], diff - 2 * eps_xi, diff + 2 * eps_xi)
            value[u] = (a_star[u] - block.A[u, lower] + (lb_u if sign > 0 else -ub_u)).min(initial=np.inf)
        return value

    members = spectral.member_mask & active
    pi_lo, pi_hi = _interval_div(x - phi_c - e, x - phi_c + e, N_lo, N_hi)
    lb1, _ = _product_bounds(pi_lo, pi_hi, 1.0 + xs_lo, 1.0 + xs_hi)
    conditions["M1"] = _condition((a_star - x + lb1)[members], st.majority_users[members])
    conditions["M2"] = _condition(pairwise(members, pi_lo, pi_hi, 1)[members], st.majority_users[members])
    lb3, _ = _product_bounds(pi_lo, pi_hi, xs_lo, xs_hi)
    m3 = a_star + lb3 - np.maximum(x - phi_c + e, 0.0) * psi_Y * d2
    conditions["M3"] = _condition(m3[members], st.majority_users[members])

    others = ~spectral.member_mask & active
    nu_lo, nu_hi = _interval_div(phi_c - e, phi_c + e, N_lo, N_hi)
    _, ub1 = _product_bounds(nu_lo, nu_hi, 1.0 + xs_lo, 1.0 + xs_hi)
    conditions["N1"] = _condition((a_star - ub1)[others], st.majority_users[others])
    conditions["N2"] = _condition(pairwise(others, nu_lo, nu_hi, -1)[others], st.majority_users[others])
    _, ub3 = _product_bounds(nu_lo, nu_hi, xs_lo, xs_hi)
    n3 = a_star - ub3 - np.maximum(e - phi_c, 0.0) * psi_Y * d2
    conditions["N3"] = _condition(n3[others], st.majority_users[others])

    conditions["m"] = _scalar(d_t - Omega * float(np.maximum(eps_xi - xi_c - 1.0, 0.0).max(initial=0.0)))
    certified = all(value["holds"] for value in conditions.values())
    return PointCertificate(x, test, True, certified, conditions)
