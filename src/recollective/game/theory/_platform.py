"""The platform's side (THEORY.md §5; §7 step 6): Proposition 3.1 and Proposition 3.2.

* **Proposition 3.1.** Once the new direction is retained (k* = k1 + 1, i.e. x > x_k) the fit error falls,
  FIT = s_{k1+2}(R~) = sqrt(mu) <= gamma < sigma_B = FIT_0, and the retained variation rises, TVR > TVR_0,
  whether or not the strategy is Pareto-effective; inside a Pareto window social welfare rises, and under
  Theorem 1 or Corollary 2.3 by at least ||c||_1 min_j d_j.
* **Proposition 3.2** (rank-one A). Inside the window the change of predicted engagement is
  PE - PE_0 = (b_max x X/(N ||b||)) [c0 - ||b||^2 S_a ||a||_1/(sigma_A^2 - mu)] + ||c||_1 max_j s^B_j (a);
  it is positive throughout the window when c0 (sigma_A^2 - gamma^2) >= ||b||^2 S_a ||a||_1 (b); and it can be
  negative inside a certified window (c), so predicted engagement is not a safe proxy.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from recollective.game.theory._evaluator import ExactEvaluator
from recollective.game.theory._spectral import secular_root

__all__ = ["PlatformStatements", "platform_statements"]


@dataclass(frozen=True)
class PlatformStatements:
    """Proposition 3.1 and 3.2 at one x (values from the exact evaluator; the truthful values in closed form).

    Attributes
    ----------
    x : float
    retained : bool
        k* = k1 + 1 (Theorem 2.1); Proposition 3.1's guarantees apply only then.
    fit, fit_truthful : float
        ||R~ - R^||_F and FIT_0 = ||R* - R^_0||_F (= sigma_B up to the neglected tail).
    tvr, tvr_truthful : float
        Retained variation sum_{j <= k*} s_j / sum_j s_j and its truthful value.
    fit_falls, tvr_rises : bool or None
        Proposition 3.1's guarantees (None when the direction is not retained: no statement).
    welfare_gain_bound : float
        ||c||_1 min_j d_j: the welfare gain guaranteed wherever Theorem 1 or Corollary 2.3 certifies x.
    pe_condition : bool or None
        Proposition 3.2(b) (rank-one A): PE rises throughout the window. None when A is not rank one.
    pe_change : float
        Proposition 3.2(a): PE - PE_0, valid when x is in the Pareto window (NaN outside the rank-one case or
        when the direction is not retained).
    """

    x: float
    retained: bool
    fit: float
    fit_truthful: float
    tvr: float
    tvr_truthful: float
    fit_falls: bool | None
    tvr_rises: bool | None
    welfare_gain_bound: float
    pe_condition: bool | None
    pe_change: float

    def as_dict(self) -> dict:
        return asdict(self)


def platform_statements(evaluator: ExactEvaluator, x: float) -> PlatformStatements:
    """Platform utilities under the strategy at x, with the guarantees of Propositions 3.1 and 3.2.

    Parameters
    ----------
    evaluator : ExactEvaluator
    x : float

    Returns
    -------
    PlatformStatements
    """
    x = float(x)
    sp = evaluator.spectral
    st = sp.structure
    rank = evaluator.rank(x)
    retained = rank == st.k1 + 1
    s = evaluator.singular_values(x)
    truthful = np.sort(np.concatenate([st.sigma, st.sigma_tail, [st.sigma_B]]))[::-1]
    fit = math.sqrt(float(np.sum(s[rank:] ** 2)))
    fit_0 = math.sqrt(float(np.sum(truthful[st.k1 :] ** 2)))
    tvr = float(s[:rank].sum() / s.sum())
    tvr_0 = float(truthful[: st.k1].sum() / truthful.sum())
    c_l1 = float(st.c.sum())
    gain = c_l1 * float(st.d.min())
    pe_condition = None
    pe_change = math.nan
    if st.rank_one_majority and st.minority_items.size > 1:
        a, b = st.a, st.b
        S_a = float(a[sp.member_mask].sum())
        sigma_A2 = float(st.sigma[0]) ** 2
        gamma2 = sp.gamma**2
        b_norm2 = float(b @ b)
        pe_condition = bool(sp.c0 * (sigma_A2 - gamma2) >= b_norm2 * S_a * float(a.sum()))
        if retained:
            mu = float(secular_root(sp, x)[0])
            X = x * math.sqrt(b_norm2) * S_a / (sigma_A2 - mu)
            Y = sp.gamma * sp.delta / (gamma2 - mu)
            N = 1.0 + X * X + Y * Y
            d = st.d
            d_t = float(d[sp.target_position])
            s_B = d * (1.0 - d_t * mu * Y / ((gamma2 - mu) * N * sp.d_rest_norm))
            s_B[sp.target_position] = d_t * (1.0 + mu / ((gamma2 - mu) * N))
            majority = float(b.max()) * x * X / (N * math.sqrt(b_norm2))
            majority *= sp.c0 - b_norm2 * S_a * float(a.sum()) / (sigma_A2 - mu)
            pe_change = majority + c_l1 * float(s_B.max())
    return PlatformStatements(
        x=x,
        retained=retained,
        fit=fit,
        fit_truthful=fit_0,
        tvr=tvr,
        tvr_truthful=tvr_0,
        fit_falls=bool(fit < fit_0) if retained else None,
        tvr_rises=bool(tvr > tvr_0) if retained else None,
        welfare_gain_bound=gain,
        pe_condition=pe_condition,
        pe_change=pe_change,
    )
