"""The closed-form theory (THEORY.md) re-established with the project's own brute-force engine.

Two random families follow THEORY.md's verification paragraphs: **rank one** (Part 1: A = a b^T, B = c d^T,
lognormal factors, sigma_B/sigma_A ~ U(0.02, 0.8)) and **general A** (Part 2: A = W H >= 0 of rank k1 in 2..5
with sub-communities, sigma_B = r sigma_k1, r ~ U(0.05, 0.8)); alpha is sigma_B (1 + 1e-8) in 15% of the
instances and otherwise sigma_B + theta (gap) with theta log-uniform in [1e-4, 0.9]; coalitions of every size
(C = M in 10%, one sub-community in 30% of the general family); t = argmax d in half the instances.

The brute force is :func:`recollective.game.outcome` on R~ (a full SVD and MISSION's tie rule) and
:func:`recollective.game.effective_window`. The default run checks 150 instances per family; the tests marked
``slow`` check 1,000 per family. Points where a brute-force singular value lies within 1e-9 (relative) of alpha
are excluded as numerically undecidable, as in THEORY.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.testing import assert_allclose

from recollective.errors import InvalidParameterError
from recollective.game import RelativeThreshold, compare_outcomes, effective_window, majority_minority, outcome
from recollective.game.theory import (
    ExactEvaluator,
    corollary_2_3,
    detect_structure,
    mu_enclosure,
    platform_statements,
    retention_test,
    robust_uprating,
    robustness_radius,
    secular_root,
    spectral_data,
    theorem1_interval,
    theorem1_refined,
    theory_outcome,
    theory_window,
)
from strategies import MISSION_ALPHA, MISSION_R_TRUE

N_FAST = 150
N_SLOW = 1000
UNDECIDABLE = 1e-9  # relative distance of a singular value from alpha below which k* is left to rounding


@dataclass(frozen=True)
class Case:
    R: np.ndarray
    alpha: float
    members: np.ndarray
    target: int
    k1: int


def _alpha(rng, s_B: float, s_top: float) -> float:
    if rng.random() < 0.15:
        return s_B * (1 + 1e-8)
    theta = np.exp(rng.uniform(np.log(1e-4), np.log(0.9)))
    return s_B + theta * (s_top - s_B)


def _assemble(rng, A, c, d, alpha, members, k1) -> Case:
    m1, n1 = A.shape
    R = np.zeros((m1 + c.size, n1 + d.size))
    R[:m1, :n1] = A
    R[m1:, n1:] = np.outer(c, d)
    target = n1 + (int(np.argmax(d)) if rng.random() < 0.5 else int(rng.integers(d.size)))
    return Case(R, float(alpha), np.asarray(members, dtype=np.int64), target, k1)


def rank_one_case(rng) -> Case:
    """THEORY.md Part 1's family."""
    m1, n1, m2, n2 = (int(rng.integers(lo, hi)) for lo, hi in ((4, 31), (2, 13), (2, 16), (2, 11)))
    a, b, c, d = (rng.lognormal(0.0, 0.5, size) for size in (m1, n1, m2, n2))
    s_A = np.linalg.norm(a) * np.linalg.norm(b)
    c *= rng.uniform(0.02, 0.8) * s_A / (np.linalg.norm(c) * np.linalg.norm(d))
    alpha = _alpha(rng, np.linalg.norm(c) * np.linalg.norm(d), s_A)
    members = np.arange(m1) if rng.random() < 0.1 else np.sort(rng.choice(m1, rng.integers(1, m1 + 1), False))
    return _assemble(rng, np.outer(a, b), c, d, alpha, members, 1)


def general_case(rng) -> Case:
    """THEORY.md Part 2's family: A = W H >= 0 with k1 sub-communities."""
    k1 = int(rng.integers(2, 6))
    m1, n1 = int(rng.integers(6, 36)), int(rng.integers(k1 + 1, 16))
    m2, n2 = int(rng.integers(2, 13)), int(rng.integers(2, 11))
    community = rng.integers(0, k1, m1)
    W = 0.2 * rng.lognormal(0.0, 0.5, (m1, k1))
    W[np.arange(m1), community] += rng.lognormal(0.0, 0.5, m1)
    H = 0.2 * rng.lognormal(0.0, 0.5, (k1, n1))
    H[np.arange(k1), rng.integers(0, n1, k1)] += 1.0 + rng.lognormal(0.0, 0.5, k1)
    A = W @ H
    s_k = np.linalg.svd(A, compute_uv=False)[k1 - 1]
    c, d = rng.lognormal(0.0, 0.5, m2), rng.lognormal(0.0, 0.5, n2)
    c *= rng.uniform(0.05, 0.8) * s_k / (np.linalg.norm(c) * np.linalg.norm(d))
    alpha = _alpha(rng, np.linalg.norm(c) * np.linalg.norm(d), s_k)
    group = np.flatnonzero(community == rng.integers(k1))
    if rng.random() < 0.3 and group.size:
        members = np.sort(rng.choice(group, rng.integers(1, group.size + 1), False))
    else:
        members = np.sort(rng.choice(m1, rng.integers(1, m1 + 1), False))
    return _assemble(rng, A, c, d, alpha, members, k1)


FAMILIES = {"rank_one": (rank_one_case, 11), "general": (general_case, 12)}


def cases(family: str, n: int) -> list[Case]:
    make, seed = FAMILIES[family]
    rng = np.random.default_rng(seed)
    return [make(rng) for _ in range(n)]


def revealed(case: Case, x: float) -> np.ndarray:
    R = case.R.copy()
    R[case.members, case.target] = x
    return R


def brute(case: Case, x: float):
    return outcome(case.R, revealed(case, x), case.alpha)


def grid(case: Case, n: int, spectral=None) -> np.ndarray:
    """n points of (0, 2 max R*] (half linear, half geometric), plus x_k (1 -+ 1e-6) when finite."""
    x_top = 2.0 * float(case.R.max())
    points = [np.linspace(x_top / n, x_top, n - n // 2), np.geomspace(x_top * 1e-3, x_top, n // 2)]
    if spectral is not None and np.isfinite(spectral.x_k):
        points.append(spectral.x_k * np.array([1 - 1e-6, 1 + 1e-6]))
    return np.concatenate(points)


def undecidable(result, alpha: float) -> bool:
    return bool(np.any(np.abs(result.singular_values - alpha) <= UNDECIDABLE * alpha))


def evaluator(case: Case) -> ExactEvaluator:
    structure = detect_structure(case.R, case.alpha, members=case.members, target=case.target)
    assert structure.ok, structure.reason
    return ExactEvaluator(case.R, spectral_data(structure, case.members, case.target))


# -- structure detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_structure_is_recovered_on_both_families(family):
    for case in cases(family, 60):
        structure = detect_structure(case.R, case.alpha, target=case.target)
        assert structure.ok, structure.reason
        m1, n1 = case.R.shape[0] - structure.minority_users.size, case.R.shape[1] - structure.minority_items.size
        assert structure.k1 == case.k1
        assert_allclose(np.outer(structure.c, structure.d), case.R[m1:, n1:], rtol=1e-12, atol=1e-14)
        assert_allclose((structure.U * structure.sigma) @ structure.V.T, case.R[:m1, :n1], rtol=1e-10, atol=1e-12)
        assert structure.residual <= structure.structure_rtol * np.linalg.norm(case.R, 2)
        assert structure.rank_one_majority == (family == "rank_one")


def test_labels_and_support_agree_on_a_generated_instance():
    instance = majority_minority(40, 10, 30, 8, majority_rank=3, minority_rank=1, rng=4)
    target = int(instance.minority_items[2])
    from_labels = detect_structure(
        instance.R_true, instance.alpha, user_group=instance.user_group, item_group=instance.item_group
    )
    from_support = detect_structure(instance.R_true, instance.alpha, target=target)
    assert from_labels.ok and from_support.ok
    assert np.array_equal(from_labels.minority_users, instance.minority_users)
    assert np.array_equal(from_support.minority_items, instance.minority_items)
    assert_allclose(from_labels.sigma, from_support.sigma, rtol=1e-12)


def _mission(**changes) -> np.ndarray:
    R = np.array(MISSION_R_TRUE)
    for (u, i), value in changes.get("entries", {}).items():
        R[u, i] = value
    return R


LABELS = {"user_group": [0, 0, 0, 0, 1, 1], "item_group": [0, 0, 0, 1, 1]}
REJECTIONS = [
    ("rank-2 minority block", lambda: (_mission(entries={(4, 3): 0.9}), 2.0, {"target": 4}), "not rank one"),
    ("alpha below sigma_B", lambda: (_mission(), 0.9, {"target": 4}), "not suppressed"),
    ("alpha above sigma_k1(A)", lambda: (_mission(), 7.0, {"target": 4}), "gap condition fails: s_2(A)"),
    (
        "off-block entry (labels)",
        lambda: (
            _mission(entries={(4, 0): 0.3}),
            MISSION_ALPHA,
            {"user_group": [0, 0, 0, 0, 1, 1], "item_group": [0, 0, 0, 1, 1]},
        ),
        "off-block entries",
    ),
    ("off-block entry (support)", lambda: (_mission(entries={(4, 0): 0.3}), MISSION_ALPHA, {"target": 4}), "connected"),
    ("zero in B", lambda: (_mission(entries={(4, 3): 0.0, (5, 3): 0.0}), 2.0, LABELS), "c > 0 and d > 0"),
    (
        "majority target",
        lambda: (
            _mission(),
            MISSION_ALPHA,
            {"target": 1, "user_group": [0, 0, 0, 0, 1, 1], "item_group": [0, 0, 0, 1, 1]},
        ),
        "majority item",
    ),
    ("minority member", lambda: (_mission(), MISSION_ALPHA, {"target": 4, "members": [0, 5]}), "minority user"),
]


@pytest.mark.parametrize(("name", "build", "reason"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_instances_outside_the_assumptions_are_rejected_with_a_reason(name, build, reason):
    R, alpha, kwargs = build()
    structure = detect_structure(R, alpha, **kwargs)
    assert not structure.ok
    assert reason in structure.reason, structure.reason
    with pytest.raises(InvalidParameterError, match="does not apply"):
        spectral_data(structure, [0], 4)


def test_two_suppressed_blocks_are_a_rank_two_minority():
    R = np.zeros((7, 6))
    R[:3, :3] = [[5, 4, 1], [4, 5, 1], [1, 1, 5]]
    R[3:5, 3:5] = np.outer([0.5, 0.4], [0.5, 0.6])
    R[5:, 5:] = 0.3
    without_target = detect_structure(R, 1.0)
    assert not without_target.ok and "2 blocks with s_1 <= alpha" in without_target.reason
    with_target = detect_structure(R, 1.0, target=4)
    assert not with_target.ok and "rank >= 2" in with_target.reason


def test_one_minority_item_is_accepted_under_remark_2_6():
    R = np.zeros((6, 4))
    R[:4, :3] = np.array(MISSION_R_TRUE)[:4, :3]
    R[4:, 3] = [0.5, 0.4]
    structure = detect_structure(R, 1.0, target=3)
    assert structure.ok and any("Remark 2.6" in note for note in structure.notes)
    data = spectral_data(structure, [0, 1], 3)
    assert data.gamma == 0.0
    ev = ExactEvaluator(R, data)
    for x in np.linspace(0.0, 8.0, 161):
        case = Case(R, 1.0, np.array([0, 1]), 3, 2)
        expected = brute(case, x)
        point = ev.evaluate(x)
        assert point.rank == expected.rank
        assert np.array_equal(point.top_items, expected.top_items), x
        if point.rank == 3:  # Remark 2.6: R^ = R~, Pareto iff x < min_C max_j A[u, j]
            assert_allclose(ev.dense_scores(x), revealed(case, x), atol=1e-12)


def test_bad_input_raises():
    with pytest.raises(InvalidParameterError, match="one item index"):
        detect_structure(MISSION_R_TRUE, 1.0, target=[3, 4])
    with pytest.raises(InvalidParameterError, match="both user_group and item_group"):
        detect_structure(MISSION_R_TRUE, 1.0, user_group=[0, 0, 0, 0, 1, 1])
    structure = detect_structure(MISSION_R_TRUE, MISSION_ALPHA, target=4)
    with pytest.raises(InvalidParameterError, match="not a majority user"):
        spectral_data(structure, [4], 4)
    with pytest.raises(InvalidParameterError, match="not a minority item"):
        spectral_data(structure, [0], 1)


# -- Theorem 2.1 (x_k) and the exact evaluator ---------------------------------------------------------------


def check_retention_and_evaluator(case: Case, n_points: int) -> dict:
    """Brute force against Theorem 2.1, Lemma 2.4 and the exact evaluator at every grid point of one instance."""
    ev = evaluator(case)
    data = ev.spectral
    counts = {"points": 0, "undecidable": 0}
    for x in grid(case, n_points, data):
        result = brute(case, x)
        if undecidable(result, case.alpha):
            counts["undecidable"] += 1
            continue
        counts["points"] += 1
        assert retention_test(data, x).rank == result.rank, (x, data.x_k)
        point = ev.evaluate(x)
        assert point.rank == result.rank
        assert np.array_equal(point.top_items, result.top_items), (x, point.method)
        assert np.array_equal(point.utilities, result.utilities)
        if point.method == "theorem 2.2":
            s = result.singular_values[case.k1 + 1]
            assert point.mu == pytest.approx(s * s, rel=1e-9, abs=1e-13 * result.singular_values[0] ** 2)
            lo, hi = mu_enclosure(data, x)
            assert lo * (1 - 1e-9) <= point.mu <= hi * (1 + 1e-9)
    return counts


def check_family(family: str, n_cases: int, n_points: int) -> None:
    """:func:`check_retention_and_evaluator` on ``n_cases`` instances of a family; brute force decides over 95% of
    the grid points."""
    totals = {"points": 0, "undecidable": 0}
    for case in cases(family, n_cases):
        for key, value in check_retention_and_evaluator(case, n_points).items():
            totals[key] += value
    assert totals["points"] > 0.95 * (totals["points"] + totals["undecidable"])


@pytest.mark.parametrize("family", FAMILIES)
def test_x_k_and_the_exact_evaluator_match_brute_force(family):
    check_family(family, N_FAST, 16)


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_x_k_and_the_exact_evaluator_match_brute_force_on_1000_instances(family):
    check_family(family, N_SLOW, 40)


def test_dense_scores_equal_the_truncated_svd():
    for case in cases("general", 40):
        ev = evaluator(case)
        for x in grid(case, 6, ev.spectral):
            R_hat = brute(case, x).R_hat
            assert_allclose(ev.dense_scores(x), R_hat, atol=1e-11 * np.abs(R_hat).max())


def test_secular_root_is_s_k1_plus_2_squared():
    case = cases("general", 1)[0]
    data = spectral_data(detect_structure(case.R, case.alpha, target=case.target), case.members, case.target)
    if not np.isfinite(data.x_k):
        pytest.skip("no retention on this instance")
    xs = data.x_k * np.array([1.001, 1.5, 3.0, 10.0])
    for x, mu in zip(xs, secular_root(data, xs), strict=True):
        s = np.linalg.svd(revealed(case, x), compute_uv=False)
        assert mu == pytest.approx(s[case.k1 + 1] ** 2, rel=1e-9)


def test_ties_and_zero_rows_follow_the_l1_rule():
    """Integer instances (exact ties, zero rows, repeated columns) go through the exact tie path."""
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(150):
        m1, n1, m2, n2 = (int(v) for v in rng.integers([2, 2, 1, 1], [7, 6, 4, 4]))
        k = int(rng.integers(1, 3))
        A = (rng.integers(0, 3, (m1, k)) @ rng.integers(0, 3, (k, n1))).astype(float)
        c, d = rng.integers(1, 3, m2).astype(float), rng.integers(1, 3, n2).astype(float)
        alpha = np.linalg.norm(c) * np.linalg.norm(d) * (1 + rng.choice([1e-3, 0.1, 0.5]))
        members = np.sort(rng.choice(m1, rng.integers(1, m1 + 1), replace=False))
        rng_case = np.random.default_rng(0)
        case = _assemble(rng_case, A, c, d, alpha, members, k)
        structure = detect_structure(case.R, case.alpha, members=members, target=case.target)
        if not structure.ok:
            continue
        ev = ExactEvaluator(case.R, spectral_data(structure, members, case.target))
        for x in np.linspace(0.0, 2 * case.R.max() + 1, 21):
            result = brute(case, x)
            point = ev.evaluate(x)
            assert point.rank == result.rank and np.array_equal(point.top_items, result.top_items), x
            checked += 1
    assert checked > 1000


def test_theory_outcome_and_its_errors():
    point = theory_outcome(MISSION_R_TRUE, [0], 4, MISSION_ALPHA, 1.0)
    expected = outcome(
        MISSION_R_TRUE, revealed(Case(np.array(MISSION_R_TRUE), MISSION_ALPHA, np.array([0]), 4, 2), 1.0), MISSION_ALPHA
    )
    assert np.array_equal(point.top_items, expected.top_items)
    assert point.social_welfare == expected.social_welfare
    with pytest.raises(InvalidParameterError, match="does not apply"):
        theory_outcome(MISSION_R_TRUE, [0], 4, 0.5, 1.0)


# -- windows --------------------------------------------------------------------------------------------------


def assert_same_intervals(ours, theirs, tolerance):
    assert len(ours) == len(theirs), (ours, theirs)
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        assert abs(a - c) <= tolerance and abs(b - d) <= tolerance, (ours, theirs)


def check_window(case: Case) -> None:
    x_max = 2.0 * float(case.R.max())
    ours = theory_window(case.R, case.members, case.target, case.alpha, x_max)
    theirs = effective_window(case.R, case.members, [case.target], case.alpha, x_max)
    assert ours.method == "theory", ours.fallback_reason
    tolerance = 2 * (ours.tolerance + theirs.tolerance) + 1e-12 * x_max
    assert_same_intervals(ours.pareto_intervals, theirs.pareto_intervals, tolerance)
    assert_same_intervals(ours.effective_intervals, theirs.effective_intervals, tolerance)
    for piece in ours.pieces:  # every piece agrees with a full evaluation at its midpoint
        x = 0.5 * (piece.lo + piece.hi)
        if piece.hi - piece.lo > 4 * tolerance:
            assert np.array_equal(brute(case, x).utilities, piece.utilities), x


@pytest.mark.parametrize("family", FAMILIES)
def test_theory_window_matches_effective_window(family):
    for case in cases(family, 12):
        check_window(case)


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_theory_window_matches_effective_window_on_many_instances(family):
    for case in cases(family, 150):
        check_window(case)


def test_theory_window_starts_the_new_direction_exactly_at_x_k():
    case = Case(np.array(MISSION_R_TRUE), MISSION_ALPHA, np.array([0]), 4, 2)
    result = theory_window(case.R, case.members, case.target, case.alpha, 10.0)
    data = spectral_data(detect_structure(case.R, case.alpha, target=4), [0], 4)
    assert result.x_k == data.x_k
    boundaries = [piece.lo for piece in result.pieces if piece.rank == 3]
    assert boundaries[0] == pytest.approx(data.x_k, rel=1e-15)
    assert result.as_dict()["method"] == "theory"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"target": [3, 4]}, "2 target items"),
        ({"alpha": RelativeThreshold(0.2)}, "rank rule"),
        ({"alpha": 0.5}, "not suppressed"),
    ],
)
def test_theory_window_falls_back_with_the_reason(kwargs, reason):
    arguments = {"target": 4, "alpha": MISSION_ALPHA} | kwargs
    result = theory_window(MISSION_R_TRUE, [0], arguments["target"], arguments["alpha"], 6.0)
    expected = effective_window(MISSION_R_TRUE, [0], np.atleast_1d(arguments["target"]), arguments["alpha"], 6.0)
    assert result.method == "effective_window" and reason in result.fallback_reason
    assert result.pareto_intervals == expected.pareto_intervals


# -- certificates: Theorem 1 and Corollary 2.3 ---------------------------------------------------------------


def pareto(case: Case, x: float, baseline) -> bool:
    return compare_outcomes(baseline, brute(case, x)).is_pareto_effective


def check_certificates(case: Case, n_points: int, counts: dict) -> None:
    """No point certified by Theorem 1 (interval / refined) or Corollary 2.3 (crude / refined) fails Pareto."""
    ev = evaluator(case)
    data = ev.spectral
    st = data.structure
    A = case.R[np.ix_(st.majority_users, st.majority_items)]
    interval = theorem1_interval(data)
    if interval.applicable:  # Theorem 1(b): non-empty iff c_eff > 0 and depth < power
        assert interval.nonempty == (data.c_eff > 0 and interval.depth < interval.power)
    baseline = outcome(case.R, None, case.alpha)
    xs = np.linspace(0.0, 2.0 * float(case.R.max()), n_points + 1)[1:]
    _, _, utilities = ev.evaluate_many(xs)
    in_window = np.all(utilities >= baseline.utilities, axis=1) & np.any(utilities > baseline.utilities, axis=1)
    counts["instances_with_window"] += bool(in_window.any())
    for x, truly in zip(xs, in_window, strict=True):
        tests = {
            "theorem 1 interval": interval.contains(x),
            "theorem 1 refined": theorem1_refined(data, x).certified,
            "corollary 2.3 crude": corollary_2_3(data, x, A, refined=False).certified,
            "corollary 2.3 refined": corollary_2_3(data, x, A, refined=True).certified,
        }
        for name, certified in tests.items():
            if certified:
                counts[name] += 1
                assert pareto(case, x, baseline), (name, x)  # the brute force has the last word
        if st.k1 == 1 and truly:  # Proposition 1.4: k* = 1 is never Pareto-effective
            assert brute(case, x).rank == 2


def certificate_counts(family: str, n: int, n_points: int) -> dict:
    counts = dict.fromkeys(
        [
            "instances_with_window",
            "theorem 1 interval",
            "theorem 1 refined",
            "corollary 2.3 crude",
            "corollary 2.3 refined",
        ],
        0,
    )
    for case in cases(family, n):
        check_certificates(case, n_points, counts)
    return counts


@pytest.mark.parametrize("family", FAMILIES)
def test_certified_points_are_pareto_effective(family):
    counts = certificate_counts(family, N_FAST, 24)
    assert counts["instances_with_window"] > N_FAST / 3
    assert counts["corollary 2.3 refined"] > 0
    if family == "rank_one":
        assert counts["theorem 1 interval"] > 0 and counts["theorem 1 refined"] >= counts["theorem 1 interval"]
    else:
        assert counts["theorem 1 interval"] == counts["theorem 1 refined"] == 0  # not applicable


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_certified_points_are_pareto_effective_on_1000_instances(family):
    counts = certificate_counts(family, N_SLOW, 60)
    assert counts["corollary 2.3 refined"] > 0


def test_certificates_report_the_failing_condition():
    case = Case(np.array(MISSION_R_TRUE), MISSION_ALPHA, np.array([0]), 4, 2)
    data = spectral_data(detect_structure(case.R, case.alpha, target=4), [0], 4)
    A = case.R[:4, :3]
    below = corollary_2_3(data, 0.5 * data.x_k, A)
    assert not below.certified and below.failed == ["K"]
    above = corollary_2_3(data, 6.0, A)  # member 0's own top item flips to the target: M1 fails
    assert not above.certified and "M1" in above.failed
    assert above.conditions["M1"]["user"] == 0 and above.conditions["M1"]["slack"] < 0
    assert not pareto(case, 6.0, outcome(case.R, None, case.alpha))
    rank_two = theorem1_refined(data, 1.0)
    assert not rank_two.applicable and "rank k1 = 2" in rank_two.reason


# -- platform: Propositions 3.1 and 3.2 ------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_platform_statements_match_brute_force(family):
    checked = 0
    for case in cases(family, 60):
        ev = evaluator(case)
        truthful = outcome(case.R, None, case.alpha)
        for x in grid(case, 8, ev.spectral):
            result = brute(case, x)
            if undecidable(result, case.alpha):
                continue
            statements = platform_statements(ev, x)
            assert statements.retained == (result.rank == case.k1 + 1)
            assert statements.fit == pytest.approx(result.platform.fit_error, rel=1e-7, abs=1e-9)
            assert statements.tvr == pytest.approx(result.platform.retained_variation, rel=1e-9)
            assert statements.fit_truthful == pytest.approx(truthful.platform.fit_error, rel=1e-9)
            if statements.retained:  # Proposition 3.1
                assert statements.fit_falls and statements.tvr_rises
                assert result.platform.fit_error < truthful.platform.fit_error
                assert result.platform.retained_variation > truthful.platform.retained_variation
            comparison = compare_outcomes(truthful, result)
            if comparison.is_pareto_effective and family == "rank_one":  # Proposition 3.2(a), (b)
                change = result.platform.predicted_engagement - truthful.platform.predicted_engagement
                assert statements.pe_change == pytest.approx(change, rel=1e-9, abs=1e-10)
                if statements.pe_condition:
                    assert change > 0
                checked += 1
    if family == "rank_one":
        assert checked > 20


def test_predicted_engagement_can_fall_inside_the_certified_window():
    """THEORY.md Proposition 3.2(c): the counterexample table, reproduced with the engine."""
    a = np.ones(200)
    a[0] = 25.0
    b, c, d = np.array([1.0, 0.5]), np.array([5.0, 5.0, 5.0]), np.array([0.9, 0.9, 1.0])
    R = np.zeros((203, 5))
    R[:200, :2] = np.outer(a, b)
    R[200:, 2:] = np.outer(c, d)
    alpha = 1.0005 * np.linalg.norm(c) * np.linalg.norm(d)
    case = Case(R, alpha, np.array([0]), 4, 1)
    ev = evaluator(case)
    interval = theorem1_interval(ev.spectral)
    assert interval.interval == pytest.approx((2.87, 25.0), abs=0.01)
    truthful = outcome(R, None, alpha)
    expected = {5.0: 13.16, 15.0: 1.79, 20.0: -4.19, 24.0: -7.65}
    for x, change in expected.items():
        result = brute(case, x)
        assert compare_outcomes(truthful, result).is_pareto_effective
        assert result.platform.predicted_engagement - truthful.platform.predicted_engagement == pytest.approx(
            change, abs=0.01
        )
        assert platform_statements(ev, x).pe_change == pytest.approx(change, abs=0.01)
    assert platform_statements(ev, 20.0).pe_condition is False


# -- robustness: Proposition 4.2 ----------------------------------------------------------------------------


def block_noise(rng, case: Case, structure, eps: float) -> np.ndarray:
    """A random block-diagonal E with ||E||_2 <= eps and R* + E >= 0."""
    E = np.zeros_like(case.R)
    for users, items in (
        (structure.majority_users, structure.majority_items),
        (structure.minority_users, structure.minority_items),
    ):
        E[np.ix_(users, items)] = rng.normal(size=(users.size, items.size))
    E *= eps / np.linalg.norm(E, 2)
    E = np.maximum(E, -case.R)  # keep R* + E >= 0; shrinking afterwards keeps it
    return E * min(1.0, eps / np.linalg.norm(E, 2))


def adversarial_noise(case: Case, structure, eps: float) -> np.ndarray:
    """Shrink sigma_k1(A) and inflate sigma_1(B) (THEORY.md §6's adversarial direction), clipped at R* + E >= 0."""
    E = np.zeros_like(case.R)
    maj = np.ix_(structure.majority_users, structure.majority_items)
    E[maj] = -0.5 * eps * np.outer(structure.U[:, -1], structure.V[:, -1])
    E[np.ix_(structure.minority_users, structure.minority_items)] = (
        0.5 * eps * np.outer(structure.c, structure.d) / structure.sigma_B
    )
    E = np.maximum(E, -case.R)
    return E * min(1.0, eps / np.linalg.norm(E, 2))


def check_robustness(case: Case, rng, n_draws: int, counts: dict) -> None:
    ev = evaluator(case)
    window = theory_window(case.R, case.members, case.target, case.alpha, 2.0 * float(case.R.max()), n_scan=257)
    robust = robust_uprating(ev, window.pareto_intervals, n_points=16)
    if robust.radius is None or robust.radius.radius <= 0:
        return
    counts["instances"] += 1
    x, eps = robust.x, robust.radius.radius * (1 - 1e-9)
    structure = ev.spectral.structure
    draws = [block_noise(rng, case, structure, eps * rng.uniform(0.5, 1.0)) for _ in range(n_draws)]
    for E in [*draws, adversarial_noise(case, structure, eps)]:
        R_noisy = case.R + E
        strategic = R_noisy.copy()
        strategic[case.members, case.target] = x
        comparison = compare_outcomes(outcome(R_noisy, None, case.alpha), outcome(R_noisy, strategic, case.alpha))
        counts["tests"] += 1
        assert comparison.is_pareto_effective, (x, eps, robust.radius.binding)


@pytest.mark.parametrize("family", FAMILIES)
def test_robustness_radius_is_never_violated(family):
    counts = {"instances": 0, "tests": 0}
    rng = np.random.default_rng(7)
    for case in cases(family, 80):
        check_robustness(case, rng, 5, counts)
    assert counts["instances"] > 20


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_robustness_radius_is_never_violated_on_1000_instances(family):
    counts = {"instances": 0, "tests": 0}
    rng = np.random.default_rng(8)
    for case in cases(family, N_SLOW):
        check_robustness(case, rng, 20, counts)
    assert counts["tests"] > 5000


def test_robustness_radius_is_zero_outside_the_window():
    case = Case(np.array(MISSION_R_TRUE), MISSION_ALPHA, np.array([0]), 4, 2)
    ev = evaluator(case)
    below = robustness_radius(ev, 0.5 * ev.spectral.x_k)
    assert below.radius == 0 and "not retained" in below.reason
    flipped = robustness_radius(ev, 6.0)
    assert flipped.radius == 0 and flipped.binding == "R4"
    inside = robustness_radius(ev, 1.0)
    assert inside.radius == pytest.approx(MISSION_ALPHA - ev.spectral.sigma_B) and inside.binding == "R1"
