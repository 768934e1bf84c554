"""Numerical checks of docs/collectives.md (game section): Lemma J0, Corollary J1 and the worked example.

Run: ``.venv/bin/python docs/collectives_check.py [OUT.npz]`` (about a minute on one core). Prints the counts quoted
in docs/collectives.md and, with OUT.npz, writes MISSION.md's small instance (the worked example's input).
"""

from __future__ import annotations

import sys

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.game import CollectiveStrategy, GameInstance, joint_outcome, majority_minority, save_instance
from recollective.game._joint import reveal


def retained_count(R_true, collectives, alpha):
    """Lemma J0: k* = #{eig(H0) > alpha^2} + n_-(I + W^T (H0 - alpha^2)^{-1} W), H0 from the non-target columns."""
    revealed = reveal(R_true, collectives)
    targets = sorted({int(t) for c in collectives for t in c.targets})
    rest = revealed.copy()
    rest[:, targets] = 0.0
    H0 = rest @ rest.T
    W = revealed[:, targets]
    eig = np.linalg.eigvalsh(H0)
    F = np.eye(len(targets)) + W.T @ np.linalg.solve(H0 - alpha**2 * np.eye(H0.shape[0]), W)
    return int(np.sum(eig > alpha**2)) + int(np.sum(np.linalg.eigvalsh(0.5 * (F + F.T)) < 0)), eig


def check_lemma_j0(n_instances=2000, seed=1):
    rng = np.random.default_rng(seed)
    checked = mismatches = 0
    while checked < n_instances:
        m, n = rng.integers(3, 10), rng.integers(3, 9)
        R = rng.random((m, n)) * (rng.random((m, n)) < 0.7) * 3
        collectives = []
        for _ in range(rng.integers(1, 4)):
            members = rng.choice(m, rng.integers(1, m), replace=False)
            targets = rng.choice(n, rng.integers(1, 3), replace=False)
            collectives.append(CollectiveStrategy(members, targets, float(rng.uniform(0, 5))))
        s = np.linalg.svd(reveal(R, collectives), compute_uv=False)
        alpha = float(rng.uniform(0.05, 1.0) * s[0])
        count, eig = retained_count(R, collectives, alpha)
        if np.min(np.abs(s - alpha)) < 1e-7 * s[0] or np.min(np.abs(eig - alpha**2)) < 1e-7 * s[0] ** 2:
            continue  # knife edge
        checked += 1
        mismatches += count != int(np.sum(s > alpha))
    return checked, mismatches


def conic(instance, first, second, target):
    """Corollary J1's (c1, kappa, c2, tau) for collectives {first} and {second} (disjoint) on one target."""
    A = instance.R_true[np.ix_(instance.majority_users, instance.majority_items)]
    U, sigma, _ = np.linalg.svd(A, full_matrices=False)
    k1 = int(np.sum(sigma > 1e-9 * sigma[0]))
    U, sigma = U[:, :k1], sigma[:k1]
    alpha = instance.alpha
    K = U @ np.diag(sigma**2 / (sigma**2 - alpha**2)) @ U.T
    e = [np.isin(np.arange(A.shape[0]), group).astype(float) for group in (first, second)]
    c1, c2 = (float(v @ v - v @ K @ v) for v in e)
    kappa = float(-(e[0] @ K @ e[1]))
    B = instance.R_true[np.ix_(instance.minority_users, instance.minority_items)]
    sigma_B = float(np.linalg.norm(B, 2))
    column = list(instance.minority_items).index(target)
    delta = float(np.linalg.norm(B[:, column]))
    tau = alpha**2 * (alpha**2 - sigma_B**2) / (alpha**2 - sigma_B**2 + delta**2)
    return c1, kappa, c2, tau, k1


def check_corollary_j1(n_instances=300, seed=2, n_grid=12):
    rng = np.random.default_rng(seed)
    points = mismatches = checked = more_than_one = 0
    no_retention = pareto_without = 0
    negative_kappa = 0
    while checked < n_instances:
        k_maj = int(rng.integers(1, 4))
        try:
            instance = majority_minority(int(rng.integers(6, 14)), int(rng.integers(2, 6)), int(rng.integers(4, 9)),
                                         int(rng.integers(2, 5)), majority_rank=k_maj, minority_rank=1,
                                         minority_scale=float(rng.uniform(0.05, 0.3)),
                                         alpha_position=float(rng.uniform(0.02, 0.9)), rng=int(rng.integers(2**31)))
        except InvalidParameterError:  # no singular-value gap in this draw
            continue
        checked += 1
        majority = instance.majority_users
        split = rng.permutation(majority)
        size1 = int(rng.integers(1, max(2, majority.size // 3)))
        first, second = split[:size1], split[size1: size1 + int(rng.integers(1, max(2, majority.size // 3)))]
        target = int(rng.choice(instance.minority_items))
        c1, kappa, c2, tau, k1 = conic(instance, first, second, target)
        negative_kappa += kappa < 0
        x_top = 2.0 * float(instance.R_true.max())
        for x1 in np.linspace(0, x_top, n_grid):
            for x2 in np.linspace(0, x_top, n_grid):
                q = c1 * x1**2 + 2 * kappa * x1 * x2 + c2 * x2**2
                if abs(q - tau) < 1e-7 * max(1.0, tau):
                    continue
                pair = [CollectiveStrategy(first, [target], x1), CollectiveStrategy(second, [target], x2)]
                report = joint_outcome(instance.R_true, pair, instance.alpha)
                points += 1
                predicted = k1 + int(q > tau)
                mismatches += report.outcome.rank != predicted
                more_than_one += report.outcome.rank > k1 + 1
                if q <= tau and k1 == 1:
                    no_retention += 1
                    pareto_without += report.comparison.is_pareto_effective
    return checked, points, mismatches, more_than_one, no_retention, pareto_without, negative_kappa


def mission_instance() -> GameInstance:
    W = np.array([[2.0, 0.0], [2.0, 0.5], [0.0, 2.0], [0.5, 2.0]])
    H = np.array([[2.5, 2.0, 0.0], [0.0, 0.5, 2.5]])
    c, d = np.array([1.0, 0.8]), np.array([0.5, 0.6])
    R = np.zeros((6, 5))
    R[:4, :3] = W @ H
    R[4:, 3:] = np.outer(c, d)
    user_group, item_group = np.array([0, 0, 0, 0, 1, 1]), np.array([0, 0, 0, 1, 1])
    return GameInstance(R, 1.01 * float(np.linalg.norm(c) * np.linalg.norm(d)), None, user_group, item_group)


def main() -> None:
    checked, mismatches = check_lemma_j0()
    print(f"Lemma J0: {checked} random instances (1-3 collectives, any targets): {mismatches} mismatches of k*")
    checked, points, mismatches, more, none, pareto, negative = check_corollary_j1()
    print(f"Corollary J1: {checked} majority-minority instances, {points} (x1, x2) points: {mismatches} mismatches "
          f"of k*; k* > k1 + 1 at {more} points; kappa < 0 in {negative} instances")
    print(f"  rank-one A, no retention (Q <= tau): {none} points, Pareto at {pareto} of them")
    instance = mission_instance()
    c1, kappa, c2, tau, k1 = conic(instance, [0], [1], 4)
    print(f"MISSION instance, users 0 and 1 on item 4: c1 = {c1:.6g}, c2 = {c2:.6g}, kappa = {kappa:.6g}, "
          f"tau = {tau:.6g}, k1 = {k1}")
    print(f"  x_k alone: {np.sqrt(tau / c1):.6g} and {np.sqrt(tau / c2):.6g}")
    for x1 in (0.5, 1.6, 3.0):
        disc = (kappa * x1) ** 2 - c2 * (c1 * x1**2 - tau)
        if disc > 0:
            lo, hi = ((-kappa * x1 - np.sqrt(disc)) / c2, (-kappa * x1 + np.sqrt(disc)) / c2)
            print(f"  x1 = {x1}: no new direction kept for x2 in ({lo:.6g}, {hi:.6g})")
    if len(sys.argv) > 1:
        save_instance(instance, sys.argv[1])
        print(f"wrote {sys.argv[1]}")


if __name__ == "__main__":
    main()
