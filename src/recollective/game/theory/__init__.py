"""Closed-form theory of the one-shot game: sufficient conditions, certificates and a fast exact evaluator.

Implements ../shared/docs/THEORY.md (our own proved statements for the majority–minority game with a rank-one
minority block and one target item; MISSION.md, "The one-shot game", is the model) following its section 7:

* :func:`detect_structure` — is R* = blockdiag(A, c d^T) with sigma_k1(A) > alpha >= ||c|| ||d||? (§1; with a
  stated tolerance, and a reason when not);
* :func:`spectral_data` — P, q, delta, gamma, c_eff and x_k (§1, §7 step 1);
* :func:`retention_test` — k* = k1 + 1 iff c_eff > 0 and x > x_k (Theorem 2.1);
* :class:`ExactEvaluator` / :func:`theory_outcome` — exact top items and utilities for any x from one SVD of A
  (Lemma 0, Theorem 2.2; secular root :func:`secular_root`, enclosure :func:`mu_enclosure` of Lemma 2.4);
* :func:`theory_window` — the effective / Pareto windows through the exact evaluator (the fast path of
  :func:`~recollective.game.effective_window`, to which it falls back with the reason);
* :func:`theorem1_interval`, :func:`theorem1_refined` — Theorem 1 (rank-one A): the interval (x_k, x_bar) and
  the refined pointwise test; :func:`corollary_2_3` — the certificate for any A (crude and refined);
* :func:`platform_statements` — Propositions 3.1 and 3.2 (fit, retained variation, predicted engagement);
* :func:`robustness_radius`, :func:`robust_uprating` — the certified radius of Proposition 4.2 and its argmax;
* :func:`theory_report` — all of the above for one instance and strategy (``recollective game theory``).

Every statement is a reconstruction: the paper's text is not available (THEORY.md, status table).

Examples
--------
>>> import numpy as np
>>> from recollective.game.theory import detect_structure, spectral_data, retention_test
>>> R = np.zeros((6, 5))
>>> R[:4, :3] = [[5, 4, 0], [5, 4.25, 1.25], [0, 1, 5], [1.25, 2, 5]]
>>> R[4:, 3:] = np.outer([1.0, 0.8], [0.5, 0.6])
>>> structure = detect_structure(R, 1.01, target=4)
>>> structure.ok, structure.k1
(True, 2)
>>> data = spectral_data(structure, [0], 4)
>>> round(data.x_k, 4), retention_test(data, 1.0).rank
(0.2628, 3)
"""

from recollective.game.theory._certificates import (
    PointCertificate,
    Theorem1Interval,
    corollary_2_3,
    theorem1_interval,
    theorem1_refined,
)
from recollective.game.theory._evaluator import ExactEvaluator, TheoryPoint
from recollective.game.theory._platform import PlatformStatements, platform_statements
from recollective.game.theory._report import TheoryReport, theory_report
from recollective.game.theory._robust import RobustnessRadius, RobustUprating, robust_uprating, robustness_radius
from recollective.game.theory._spectral import (
    RetentionTest,
    SpectralData,
    mu_enclosure,
    retention_test,
    secular_root,
    spectral_data,
)
from recollective.game.theory._structure import DEFAULT_STRUCTURE_RTOL, StructureResult, detect_structure
from recollective.game.theory._window import TheoryWindowResult, theory_window

__all__ = [
    "DEFAULT_STRUCTURE_RTOL",
    "ExactEvaluator",
    "PlatformStatements",
    "PointCertificate",
    "RetentionTest",
    "RobustUprating",
    "RobustnessRadius",
    "SpectralData",
    "StructureResult",
    "Theorem1Interval",
    "TheoryPoint",
    "TheoryReport",
    "TheoryWindowResult",
    "corollary_2_3",
    "detect_structure",
    "mu_enclosure",
    "platform_statements",
    "retention_test",
    "robust_uprating",
    "robustness_radius",
    "secular_root",
    "spectral_data",
    "theorem1_interval",
    "theorem1_refined",
    "theory_outcome",
    "theory_report",
    "theory_window",
]


def theory_outcome(R_true, members, target, alpha: float, x: float, **detect_kwargs) -> TheoryPoint:
    """The exact outcome of "members uprate ``target`` by ``x``" through the exact evaluator (THEORY.md §7 step 4).

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
    members : array-like of int
    target : int
    alpha : float
    x : float
    **detect_kwargs
        ``user_group``, ``item_group``, ``structure_rtol`` for :func:`detect_structure`.

    Returns
    -------
    TheoryPoint

    Raises
    ------
    InvalidParameterError
        When the instance is outside the theory's assumptions (the message gives the reason).
    """
    from recollective.game._checks import check_alpha, check_preferences

    R_true = check_preferences(R_true)
    x = check_alpha(x, "x")
    structure = detect_structure(R_true, alpha, members=members, target=target, **detect_kwargs)
    evaluator = ExactEvaluator(R_true, spectral_data(structure, members, target))
    return evaluator.evaluate(x)
