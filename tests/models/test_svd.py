import logging
from typing import ClassVar

import numpy as np
import pytest

from models.contract import RecommenderContract, with_changes
from recollective.data import Interactions
from recollective.errors import InvalidParameterError
from recollective.game._rank_rules import RetainedVariation
from recollective.models import make_model
from recollective.models._svd import PureSVD, delta_spaces, rayleigh_ritz_update

# The stated refit tolerance (PureSVD.refit_tolerance): rank-k* scores within these of a cold fit's.
REFIT_MAX_ABS = 2e-3  # max |refit - cold| / max |cold|
REFIT_FROBENIUS = 1e-3  # ||refit - cold||_F / ||cold||_F


def random_interactions(n_users=60, n_items=45, density=0.2, seed=0):
    """Ratings 1-5 on random pairs, every user and item with at least one."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    rows, cols = np.nonzero(mask)
    return Interactions.from_arrays(rows, cols, rng.integers(1, 6, rows.size).astype(float))


def campaign(interactions, n_members, targets, seed=3):
    """``n_members`` random users each rate the same ``targets`` 5 (the benchmark's campaign delta)."""
    members = np.random.default_rng(seed).choice(interactions.n_users, n_members, replace=False)
    users = np.repeat(interactions.users.ids[members], len(targets))
    items = np.tile(interactions.items.ids[np.asarray(targets)], n_members)
    return interactions.with_added(users, items, np.full(users.size, 5.0))


def dense_reconstruction(interactions, rank):
    u, s, vt = np.linalg.svd(interactions.matrix.toarray(), full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vt[:rank], s


def assert_matches_dense(actual, expected):
    """svds (PROPACK) gets singular values to ~1e-14 and vectors to ~1e-9 relative; hold scores to 1e-8."""
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-8 * np.abs(expected).max())


def assert_within_refit_tolerance(refitted, cold, n_users):
    assert refitted.rank_ == cold.rank_
    users = np.arange(n_users)
    new, old = refitted.score(users), cold.score(users)
    assert np.abs(new - old).max() <= REFIT_MAX_ABS * np.abs(old).max()
    assert np.linalg.norm(new - old) <= REFIT_FROBENIUS * np.linalg.norm(old)


class TestPureSVDContract(RecommenderContract):
    model_class = PureSVD
    params: ClassVar[dict] = {"n_factors": 4}
    bad_params: ClassVar[list] = [
        ("n_factors", 0),
        ("n_factors", 2.5),
        ("rank_rule", "nuclear"),
        ("alpha", -1.0),
        ("rng", -1),
    ]

    def assert_refit_close(self, refitted, cold, changed):
        assert_within_refit_tolerance(refitted, cold, changed.n_users)


def test_scores_equal_a_dense_numpy_svd_reconstruction():
    data = random_interactions()
    model = PureSVD(n_factors=10).fit(data)  # 18 triplets by svds (the sparse path: 18 < 45)
    expected, _ = dense_reconstruction(data, 10)
    assert_matches_dense(model.score(np.arange(data.n_users)), expected)
    assert model.rank_ == 10
    # equivalently R V_k V_k^T
    v = model.item_vectors_[:, :10]
    assert_matches_dense(data.matrix @ v @ v.T, expected)


def test_dense_path_when_every_triplet_is_needed():
    data = random_interactions(n_users=20, n_items=12)
    model = PureSVD(n_factors=12).fit(data)
    expected, s = dense_reconstruction(data, 12)
    np.testing.assert_allclose(model.singular_values_, s, rtol=1e-12)
    np.testing.assert_allclose(model.score(np.arange(20)), expected, rtol=0, atol=1e-10)


def test_singular_vectors_are_sorted_and_sign_fixed():
    data = random_interactions()
    model = PureSVD(n_factors=6).fit(data)
    assert np.all(np.diff(model.singular_values_) <= 0)
    u = model.user_vectors_
    assert np.all(u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])] > 0)
    np.testing.assert_allclose(u.T @ u, np.eye(u.shape[1]), atol=1e-8)  # PROPACK: ~1e-9


def test_absolute_threshold_keeps_singular_values_above_alpha():
    data = random_interactions()
    _, s = dense_reconstruction(data, 1)
    alpha = (s[6] + s[7]) / 2  # between s_7 and s_8: k* = 7
    model = PureSVD(rank_rule="absolute", alpha=alpha, n_factors=20).fit(data)
    assert model.rank_ == 7
    expected, _ = dense_reconstruction(data, 7)
    assert_matches_dense(model.score(np.arange(data.n_users)), expected)


def test_relative_and_tvr_rules_search_the_top_n_factors():
    data = random_interactions()
    _, s = dense_reconstruction(data, 1)
    relative = PureSVD(rank_rule="relative", alpha=(s[3] + s[4]) / 2 / s[0], n_factors=20).fit(data)
    assert relative.rank_ == 4
    tvr = PureSVD(rank_rule="tvr", alpha=0.3, n_factors=20).fit(data)
    expected_rank = RetainedVariation(0.3).rank(s[:20])  # retained variation of the top 20 values only
    assert tvr.rank_ == expected_rank
    assert expected_rank != RetainedVariation(0.3).rank(s)  # the cap matters here, as documented
    expected, _ = dense_reconstruction(data, expected_rank)
    assert_matches_dense(tvr.score(np.arange(data.n_users)), expected)


def test_threshold_rank_is_capped_at_n_factors_with_a_warning(caplog):
    data = random_interactions()
    with caplog.at_level(logging.WARNING, logger="recollective.models._svd"):
        model = PureSVD(rank_rule="absolute", alpha=0.0, n_factors=5).fit(data)
    assert model.rank_ == 5
    assert "capped at n_factors=5" in caplog.text


def test_threshold_rules_need_a_valid_alpha():
    data = random_interactions()
    with pytest.raises(InvalidParameterError, match="alpha is required when rank_rule='absolute'"):
        PureSVD(rank_rule="absolute").fit(data)
    with pytest.raises(InvalidParameterError, match=r"puresvd: alpha=1.5 .*rank_rule='tvr'"):
        PureSVD(rank_rule="tvr", alpha=1.5).fit(data)
    assert PureSVD(rank_rule="fixed", alpha=1.5, n_factors=3).fit(data).rank_ == 3  # ignored by 'fixed'


@pytest.mark.parametrize(
    "rule",
    [{"n_factors": 8}, {"rank_rule": "absolute", "n_factors": 16}, {"rank_rule": "tvr", "alpha": 0.4, "n_factors": 16}],
)
def test_refit_after_a_campaign_within_tolerance_and_same_rank(rule):
    data = random_interactions(n_users=200, n_items=80, density=0.1)
    if rule.get("rank_rule") == "absolute":
        _, s = dense_reconstruction(data, 1)
        rule = {**rule, "alpha": (s[9] + s[10]) / 2}  # a clear gap: k* = 10 before and after
    changed, delta = campaign(data, n_members=4, targets=[5, 17])
    refitted = PureSVD(**rule).fit(data).refit(changed, delta)
    cold = PureSVD(**rule).fit(changed)
    assert_within_refit_tolerance(refitted, cold, changed.n_users)


def test_refits_chain_and_handle_removals():
    data = random_interactions(n_users=200, n_items=80, density=0.1)
    model = PureSVD(n_factors=8).fit(data)
    current = data
    for seed in range(3):
        current, delta = with_changes(current, share=0.02, seed=seed)
        model.refit(current, delta)
    removed, delta = current.without([0, 1], current.matrix[[0, 1]].indices[:2])
    model.refit(removed, delta)
    assert delta.removed_users.size > 0
    assert_within_refit_tolerance(model, PureSVD(n_factors=8).fit(removed), removed.n_users)


def test_refit_update_keeps_the_identity_it_relies_on():
    """After a Rayleigh-Ritz update R' v = u s still holds (so refits can chain) and u, v stay orthonormal."""
    data = random_interactions(n_users=100, n_items=50)
    model = PureSVD(n_factors=6).fit(data)
    changed, delta = campaign(data, n_members=3, targets=[2, 9])
    users = delta.changed_users
    change = changed.matrix[users] - data.matrix[users]
    spaces = delta_spaces(change, delta.changed_items)
    assert 1 <= spaces[0].shape[1] <= 2  # every member rates the same two targets: rank <= 2
    u, s, v = rayleigh_ritz_update(
        changed.matrix,
        change,
        spaces,
        model.user_vectors_,
        model.singular_values_,
        model.item_vectors_,
        users,
        delta.changed_items,
    )
    np.testing.assert_allclose(changed.matrix @ v, u * s, atol=1e-10)
    np.testing.assert_allclose(u.T @ u, np.eye(s.size), atol=1e-10)
    np.testing.assert_allclose(v.T @ v, np.eye(s.size), atol=1e-10)


def test_large_delta_falls_back_to_an_exact_cold_fit():
    data = random_interactions(n_users=60, n_items=45)
    changed, delta = with_changes(data, share=0.5, per_user=3)  # 30 users x many items > 12 triplets
    refitted = PureSVD(n_factors=4).fit(data).refit(changed, delta)
    cold = PureSVD(n_factors=4).fit(changed)
    np.testing.assert_array_equal(refitted.score(np.arange(60)), cold.score(np.arange(60)))


def test_unchanged_delta_is_a_no_op():
    data = random_interactions()
    model = PureSVD(n_factors=4).fit(data)
    before = model.score(np.arange(data.n_users))
    pair = data.matrix[[0]]
    same, delta = data.with_added(data.users.ids[[0]], data.items.ids[pair.indices[:1]], pair.data[:1])
    assert delta.changed_users.size == 0
    np.testing.assert_array_equal(model.refit(same, delta).score(np.arange(data.n_users)), before)


def test_make_model_builds_puresvd():
    model = make_model("puresvd", n_factors=3, rank_rule="tvr", alpha=0.2)
    assert isinstance(model, PureSVD) and model.get_params()["alpha"] == 0.2


@pytest.mark.slow
def test_refit_on_goodbooks_campaign_within_tolerance(shared_data):
    from recollective.data import load_goodbooks

    data = load_goodbooks(shared_data / "goodbooks-10k")
    popularity = np.bincount(data.matrix.indices, minlength=data.n_items)
    targets = np.flatnonzero(popularity == 6)[:2]  # two rarely read books
    changed, delta = campaign(data, n_members=round(0.01 * data.n_users), targets=targets)
    for rule in ({}, {"rank_rule": "absolute", "alpha": 100.0}):
        refitted = PureSVD(**rule).fit(data).refit(changed, delta)
        cold = PureSVD(**rule).fit(changed)
        assert_within_refit_tolerance(refitted, cold, changed.n_users)
