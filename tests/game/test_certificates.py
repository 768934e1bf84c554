"""Certified robustness radius: perturbations of R~ smaller (in spectral norm) than the radius change neither k*
nor any top item."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from recollective.game import AbsoluteThreshold, certified_radius, outcome, outcome_radius, top_items, user_margins
from strategies import GenericGame, generic_games, n_examples, truncate


def perturbed(R: np.ndarray, alpha: float, E: np.ndarray) -> tuple[int, np.ndarray]:
    """(k*, top items) of R + E by an independent numpy truncation; R + E may leave the non-negative orthant,
    which the certificate does not need."""
    _, rank, R_hat = truncate(R + E, alpha)
    return rank, top_items(R_hat)


def unit_directions(R: np.ndarray, top: np.ndarray, rank: int, rng: np.random.Generator, n_random: int):
    """Spectral-norm-one perturbation directions: random Gaussian ones and the adversarial ones that attack each
    constraint of the certificate (the singular values around the cut, the subspace, each user's margin)."""
    n_users, n_items = R.shape
    U, _, Vt = np.linalg.svd(R)
    directions = []
    for _ in range(n_random):
        G = rng.standard_normal(R.shape)
        directions.append(G / np.linalg.norm(G, 2))
    p = min(n_users, n_items)
    if rank > 0:
        directions.append(-np.outer(U[:, rank - 1], Vt[rank - 1]))  # shrink s_k towards alpha
    if rank < p:
        directions.append(np.outer(U[:, rank], Vt[rank]))  # grow s_{k+1} towards alpha
    if 0 < rank < p:  # tilt the kept subspace towards the next direction, both ways
        for sign in (1.0, -1.0):
            directions.append(sign * np.outer(U[:, rank - 1], Vt[rank]))
            directions.append(sign * np.outer(U[:, rank], Vt[rank - 1]))
    for u in range(n_users):  # lower the top item's score and raise a rival's, in the user's own row
        for i in range(n_items):
            if i != top[u]:
                E = np.zeros(R.shape)
                E[u, i], E[u, top[u]] = 1.0, -1.0
                directions.append(E / np.sqrt(2.0))
    return directions


@settings(max_examples=n_examples(60))
@given(generic_games(max_side=5), st.integers(0, 2**32 - 1))
def test_perturbations_below_the_radius_change_nothing(game: GenericGame, seed):
    R, alpha = game.R, game.alpha
    result = outcome(R, alpha=alpha)
    certificate = outcome_radius(result, R, alpha)
    assert 0 < certificate.radius <= certificate.rank_radius
    directions = unit_directions(R, result.top_items, result.rank, np.random.default_rng(seed), n_random=40)
    for D in directions:
        E = 0.99 * certificate.radius * D
        assert np.linalg.norm(E, 2) < certificate.radius
        rank, top = perturbed(R, alpha, E)
        assert rank == result.rank
        assert_array_equal(top, result.top_items)


def breaking_scale(R, alpha, D, rank, top, lo, hi):
    """Smallest t (to 1e-3 relative) in [lo, hi] with the outcome of R + t D different, or None if unchanged."""
    if perturbed(R, alpha, hi * D)[0] == rank and np.array_equal(perturbed(R, alpha, hi * D)[1], top):
        return None
    while hi - lo > 1e-3 * hi:
        mid = 0.5 * (lo + hi)
        k, t = perturbed(R, alpha, mid * D)
        if k == rank and np.array_equal(t, top):
            lo = mid
        else:
            hi = mid
    return hi


def test_certificate_tightness_is_at_least_one(record_property):
    """Scaling a direction up until the outcome changes never breaks below the radius; the ratio of the breaking
    norm to the radius (the certificate's slack) is recorded per direction kind."""
    rng = np.random.default_rng(2024)
    adversarial, random_ratios = [], []
    for _ in range(25):
        R = rng.uniform(0, 10, tuple(rng.integers(2, 6, 2)))
        s = np.linalg.svd(R, compute_uv=False)
        k = int(rng.integers(1, s.size + 1))
        alpha = (s[k] if k < s.size else 0.0) + 0.5 * (s[k - 1] - (s[k] if k < s.size else 0.0))
        result = outcome(R, alpha=alpha)
        radius = outcome_radius(result, R, alpha).radius
        if radius == 0:
            continue
        directions = unit_directions(R, result.top_items, result.rank, rng, n_random=5)
        for index, D in enumerate(directions):
            t = breaking_scale(R, alpha, D, result.rank, result.top_items, 0.0, 1e3 * radius)
            if t is None:
                continue
            assert t >= radius  # sound: nothing breaks below the radius
            (random_ratios if index < 5 else adversarial).append(t / radius)
    assert adversarial and random_ratios
    record_property("tightness_adversarial_min", min(adversarial))
    record_property("tightness_adversarial_median", float(np.median(adversarial)))
    record_property("tightness_random_median", float(np.median(random_ratios)))
    assert min(adversarial) >= 1.0 and min(random_ratios) >= 1.0


def test_rank_bound_radius_is_tight():
    # s = (6.32, 2.15); alpha just above s_2: the binding constraint is alpha - s_2 = 0.01 (Weyl), attained by
    # growing s_2 along its own singular pair.
    R = np.array([[5.0, 1.0], [4.0, 3.0], [1.0, 0.5]])
    U, s, Vt = np.linalg.svd(R, full_matrices=False)
    alpha = s[1] + 0.01
    result = outcome(R, alpha=alpha)
    certificate = outcome_radius(result, R, alpha)
    assert result.rank == 1
    assert certificate.binding == "rank"
    assert certificate.radius == pytest.approx(0.01, rel=1e-9)
    grow = np.outer(U[:, 1], Vt[1])
    assert perturbed(R, alpha, 0.999 * certificate.radius * grow)[0] == 1
    assert perturbed(R, alpha, 1.001 * certificate.radius * grow)[0] == 2
    # k* = 0: the radius is alpha - s_1, and growing s_1 past alpha keeps one direction.
    alpha = s[0] + 0.5
    empty = outcome(R, alpha=alpha)
    certificate = outcome_radius(empty, R, alpha)
    assert (empty.rank, certificate.binding) == (0, "rank")
    assert certificate.radius == pytest.approx(0.5, rel=1e-12)
    assert perturbed(R, alpha, 0.999 * 0.5 * np.outer(U[:, 0], Vt[0]))[0] == 0
    assert perturbed(R, alpha, 1.001 * 0.5 * np.outer(U[:, 0], Vt[0]))[0] == 1


def test_ties_give_radius_zero():
    R = np.array([[1.0, 1.0], [0.0, 1.0]])  # user 0 ties items 0 and 1 (the l1 rule decides)
    result = outcome(R, alpha=0.0)
    certificate = outcome_radius(result, R, 0.0)
    assert certificate.radius == 0.0
    assert certificate.binding == "tie at user 0"
    # Any perturbation, however small, can flip the tie: 1e-6 on item 0 of user 0.
    E = np.array([[1e-6, 0.0], [0.0, 0.0]])
    assert perturbed(R, 0.0, E)[1][0] == 0


def test_alpha_on_a_singular_value_gives_radius_zero():
    R = np.array([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) + np.array([[0.0, 0.2, 0.1]] * 3)
    s = np.linalg.svd(R, compute_uv=False)
    alpha = float(s[1])  # s_2 is not > alpha: dropped, with no room to grow
    result = outcome(R, alpha=alpha)
    certificate = outcome_radius(result, R, alpha)
    assert certificate.rank_radius == 0.0
    assert certificate.radius == 0.0


@given(generic_games(max_side=5), st.floats(0.0, 1.0))
def test_touching_fewer_rows_never_shrinks_the_radius(game: GenericGame, share):
    R, alpha = game.R, game.alpha
    result = outcome(R, alpha=alpha)
    args = (result.singular_values, result.rank, result.R_hat, result.top_items, np.linalg.norm(R, axis=1))
    full = certified_radius(*args, AbsoluteThreshold(alpha))
    partial = certified_radius(*args, AbsoluteThreshold(alpha), row_share=share)
    assert partial.radius >= full.radius * (1 - 1e-9)
    assert full.radius == pytest.approx(outcome_radius(result, R, alpha).radius, rel=1e-12)


def test_user_margins():
    R_hat = np.array([[3.0, 1.0, 2.5], [0.0, 4.0, 4.0]])
    top = np.array([0, 1])
    assert_array_equal(user_margins(R_hat, top), [0.5, 0.0])
    # Utility mode: rivals are items with a different utility; user 1's items 1 and 2 are worth the same.
    R_true = np.array([[5.0, 0.0, 5.0], [0.0, 2.0, 2.0]])
    assert_array_equal(user_margins(R_hat, top, R_true), [2.0, 4.0])
