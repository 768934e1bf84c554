"""Shilling / coordination detectors: planted attackers are found, features have their defining values, clear errors.

Attack profiles are planted by hand here (not through ``apply_attack``) so these tests pin the detectors alone.
"""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from recollective.adversarial import _detect_features, _detect_pca
from recollective.adversarial._detect_burst import BurstDetector, burst_flags
from recollective.adversarial._detect_dense import FraudarDetector, densest_block, peel
from recollective.adversarial._detect_features import FEATURE_NAMES, degree_of_similarity, profile_features
from recollective.adversarial._detect_pca import PCAVarSelectDetector, user_zscores
from recollective.adversarial._detectors import DETECTOR_NAMES, Detector, make_detector
from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError, NotFittedError

YEAR = 365 * 86400.0


def genuine_ratings(rng, n_users=300, n_items=200, rank=2, per_user=(30, 80)):
    """Rank-``rank`` tastes plus item quality, popularity-skewed item choice, ratings 1-5; times over 3 years."""
    tastes = rng.normal(size=(n_users, rank))
    factors = rng.normal(size=(n_items, rank)) * 0.8
    quality = rng.normal(3.2, 0.6, n_items)
    popularity = rng.pareto(1.5, n_items) + 1.0
    users, items, values = [], [], []
    for user in range(n_users):
        chosen = rng.choice(n_items, rng.integers(*per_user), replace=False, p=popularity / popularity.sum())
        noisy = quality[chosen] + factors[chosen] @ tastes[user] + rng.normal(0.0, 0.5, chosen.size)
        users += [f"user-{user}"] * chosen.size
        items += chosen.tolist()
        values += np.clip(np.rint(noisy), 1, 5).tolist()
    times = rng.uniform(0.0, 3 * YEAR, len(users))
    return np.array(users), np.array(items), np.array(values), times


@pytest.fixture(scope="module")
def attacked():
    """300 genuine users + 15 average-attack profiles (20 fillers at the item means, target item 0 at 5).

    The attackers act within ten minutes, one after the other, after the genuine data's three years.
    """
    rng = np.random.default_rng(7)
    users, items, values, times = genuine_ratings(rng)
    n_items = 200
    means = np.bincount(items, weights=values, minlength=n_items) / np.maximum(np.bincount(items, minlength=n_items), 1)
    a_users, a_items, a_values = [], [], []
    for attacker in range(15):
        fillers = rng.choice(np.arange(1, n_items), 20, replace=False)
        a_users += [f"attack-{attacker}"] * 21
        a_items += [*fillers.tolist(), 0]
        a_values += [*means[fillers].tolist(), 5.0]
    a_times = 3 * YEAR + rng.uniform(0.0, 600.0, len(a_users))
    interactions = Interactions.from_arrays(
        np.r_[users, a_users], np.r_[items, a_items], np.r_[values, a_values], order=np.r_[times, a_times]
    )
    labels = np.char.startswith(interactions.users.ids.astype(str), "attack-")
    return interactions, labels


# ------------------------------------------------------------------------------------------------ registry
def test_registry_builds_every_detector():
    assert DETECTOR_NAMES == ("pca", "features", "fraudar", "burst")
    for name in DETECTOR_NAMES:
        detector = make_detector(name)
        assert isinstance(detector, Detector)
        assert detector.name == name
        assert detector.supervised == (name == "features")
    assert make_detector("pca", n_components=5).get_params() == {"n_components": 5, "rng": 0}


def test_unknown_names_and_parameters_are_named():
    with pytest.raises(InvalidParameterError, match=r"unknown detector 'lof' \(choices: pca, features"):
        make_detector("lof")
    with pytest.raises(InvalidParameterError, match=r"detector pca: unknown hyper-parameter 'k'"):
        make_detector("pca", k=3)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("pca", {"n_components": 0}, r"detector pca: n_components must be an integer >= 1; got 0"),
        ("pca", {"rng": -1}, r"detector pca: rng must be"),
        ("fraudar", {"c": 1.0}, r"detector fraudar: c must be a finite number in \(1, inf\); got 1.0"),
        ("burst", {"min_users": 1}, r"detector burst: min_users must be an integer >= 2"),
        ("burst", {"window": 0}, r"detector burst: window must be"),
        ("burst", {"weighting": "idf"}, r"detector burst: weighting must be one of 'none', 'rarity'"),
        ("features", {"classifier": "svm"}, r"detector features: classifier must be one of 'logistic', 'forest'"),
        ("features", {"k": 0}, r"detector features: k must be an integer >= 1"),
    ],
)
def test_bad_parameters_are_named_when_used(attacked, name, params, message):
    interactions, labels = attacked
    detector = make_detector(name, **params)  # stored as given
    with pytest.raises(InvalidParameterError, match=message):
        detector.fit(interactions, labels).score(interactions)


def test_score_takes_interactions():
    with pytest.raises(DataError, match=r"detector fraudar: takes a recollective\.data\.Interactions"):
        make_detector("fraudar").score(np.ones((3, 3)))


def test_users_without_interactions_get_finite_least_suspicious_scores(attacked):
    interactions, labels = attacked
    emptied = [0, int(np.flatnonzero(labels)[0])]
    rows, cols, _, _ = interactions.to_coo()
    in_emptied = np.isin(rows, emptied)
    reduced, _ = interactions.without(rows[in_emptied], cols[in_emptied])
    assert np.diff(reduced.matrix.indptr)[emptied].tolist() == [0, 0]
    for name in DETECTOR_NAMES:
        detector = make_detector(name).fit(reduced, labels)
        scores = detector.score(reduced)
        assert scores.shape == (reduced.n_users,)
        assert scores.dtype == np.float64 and np.isfinite(scores).all()
        assert scores[emptied].max() == scores.min(), name


# ------------------------------------------------------------------------------------------------ PCA
def test_zscores_per_user_over_rated_items():
    interactions = Interactions.from_arrays(
        ["a", "a", "a", "b", "b", "c"], [0, 1, 2, 0, 1, 2], [1.0, 3.0, 5.0, 4.0, 4.0, 2.0]
    )
    z = user_zscores(interactions).toarray()
    np.testing.assert_allclose(z[0], np.array([-1.0, 0.0, 1.0]) * np.sqrt(1.5), atol=1e-12)
    np.testing.assert_array_equal(z[1:], 0.0)  # constant profiles (and a single rating) give zeros


@pytest.mark.parametrize("sparse", [False, True])
def test_pca_loadings_are_the_top_eigenvectors_of_the_user_covariance(attacked, monkeypatch, sparse):
    interactions, _ = attacked
    if sparse:
        monkeypatch.setattr(_detect_pca, "DENSE_SVD_MAX_CELLS", 0)
    loadings = PCAVarSelectDetector(n_components=3).loadings(interactions)
    z = user_zscores(interactions).toarray()
    with threadpool_limits(1, "blas"):
        eigenvalues, eigenvectors = np.linalg.eigh(np.cov(z))  # users as variables, items as observations
    expected = eigenvectors[:, -3:]
    np.testing.assert_allclose(np.sum(loadings**2, axis=1), np.sum(expected**2, axis=1), atol=1e-8)
    assert eigenvalues[-3] > eigenvalues[-4] * 1.01  # the top-3 subspace is well defined


@pytest.mark.parametrize("transpose", [False, True])
def test_gram_loadings_equal_the_svd_up_to_sign(attacked, transpose):
    interactions, _ = attacked
    z = user_zscores(interactions)  # 315 users x 200 items: the Z^T Z branch; transposed: the Z Z^T branch
    z = z.T.tocsr() if transpose else z
    u, _, _ = np.linalg.svd(z.toarray(), full_matrices=False)
    loadings = _detect_pca.gram_loadings(z, 4)
    assert loadings.shape == (z.shape[0], 4)
    np.testing.assert_allclose(np.abs(loadings), np.abs(u[:, :4]), atol=1e-8)
    np.testing.assert_allclose(loadings.T @ loadings, np.eye(4), atol=1e-10)
    assert np.all(loadings[np.argmax(np.abs(loadings), axis=0), np.arange(4)] > 0)  # deterministic signs


def test_pca_ranks_average_attack_profiles_above_genuine_users(attacked):
    interactions, labels = attacked
    scores = make_detector("pca").score(interactions)
    assert scores.max() <= 0.0
    assert roc_auc_score(labels, scores) > 0.9


# ------------------------------------------------------------------------------------------------ features
def test_features_have_their_defining_values():
    # item means are 3 and 3: "mean" rates exactly the means, "long" rates more items than anyone
    interactions = Interactions.from_arrays(
        ["low", "low", "high", "high", "mean", "mean", "long", "long", "long", "long"],
        [0, 1, 0, 1, 0, 1, 2, 3, 4, 5],
        [1.0, 5.0, 5.0, 1.0, 3.0, 3.0, 2.0, 4.0, 2.0, 4.0],
    )
    features, names = profile_features(interactions, k=2)
    assert names == FEATURE_NAMES == ("rdma", "wdma", "wda", "degsim", "length_var")
    by_user = dict(zip(interactions.users.ids.tolist(), features, strict=True))
    np.testing.assert_allclose(by_user["mean"][:3], 0.0, atol=1e-12)  # rates exactly the item means
    # |1 - 3| / 3 + |5 - 3| / 3 = 4/3 over 2 ratings; squared counts for WDMA
    np.testing.assert_allclose(by_user["low"][:3], [2 / 3, 2 / 9, 4 / 3], rtol=1e-12)
    np.testing.assert_allclose(by_user["long"][:3], 0.0, atol=1e-12)  # items rated by "long" alone
    lengths = np.array([2, 2, 2, 4])
    spread = (lengths - lengths.mean()) ** 2
    assert by_user["long"][4] == pytest.approx(spread[3] / spread.sum())
    assert np.argmax(features[:, 4]) == np.flatnonzero(interactions.users.ids == "long")[0]
    # "low" and "high" disagree perfectly on the items they share (Pearson -1); "mean" has no deviation and
    # "long" shares no item, so both count 0: with k = 2 the top two are 0 and 0; with k = 3, (-1 + 0 + 0) / 3
    assert by_user["low"][3] == pytest.approx(0.0)
    degsim = dict(zip(interactions.users.ids.tolist(), profile_features(interactions, k=3)[0][:, 3], strict=True))
    assert degsim == pytest.approx({"low": -1 / 3, "high": -1 / 3, "mean": 0.0, "long": 0.0})


def test_degsim_matches_a_direct_pearson_computation(monkeypatch):
    rng = np.random.default_rng(3)
    users, items, values, _ = genuine_ratings(rng, n_users=40, n_items=25, per_user=(5, 15))
    interactions = Interactions.from_arrays(users, items, values)
    monkeypatch.setattr(_detect_features, "DEGSIM_BLOCK_ROWS", 7)
    dense = interactions.matrix.toarray()
    rated = dense > 0
    means = dense.sum(1) / rated.sum(1)
    n = dense.shape[0]
    similarity = np.zeros((n, n))
    for u in range(n):
        for v in range(n):
            common = rated[u] & rated[v]
            du, dv = dense[u, common] - means[u], dense[v, common] - means[v]
            norm = np.sqrt((du**2).sum() * (dv**2).sum())
            similarity[u, v] = (du * dv).sum() / norm if norm > 1e-12 else 0.0
    np.fill_diagonal(similarity, -np.inf)
    expected = np.sort(similarity, axis=1)[:, -5:].mean(axis=1)
    np.testing.assert_allclose(degree_of_similarity(interactions, k=5), expected, atol=1e-12)


def test_feature_classifier_separates_planted_profiles_deterministically(attacked):
    interactions, labels = attacked
    detector = make_detector("features")
    scores = detector.cross_validated_scores(interactions, labels, folds=5, rng=1)
    assert roc_auc_score(labels, scores) > 0.9
    assert ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_array_equal(scores, detector.cross_validated_scores(interactions, labels, folds=5, rng=1))
    forest = make_detector("features", classifier="forest", n_estimators=30, rng=4)
    forest_scores = forest.cross_validated_scores(interactions, labels, rng=2)
    assert roc_auc_score(labels, forest_scores) > 0.9
    np.testing.assert_array_equal(forest_scores, forest.clone().cross_validated_scores(interactions, labels, rng=2))


def test_feature_classifier_fit_score_and_label_errors(attacked):
    interactions, labels = attacked
    detector = make_detector("features")
    with pytest.raises(NotFittedError, match="detector features: call fit"):
        detector.score(interactions)
    scores = detector.fit(interactions, labels).score(interactions)
    assert detector.feature_names_ == FEATURE_NAMES
    assert scores[labels].min() > np.median(scores[~labels])
    with pytest.raises(InvalidParameterError, match=r"detector features: labels must contain both classes"):
        detector.fit(interactions, np.zeros(interactions.n_users, dtype=bool))
    with pytest.raises(InvalidParameterError, match=r"detector features: labels must have shape \(315,\)"):
        detector.fit(interactions, labels[:-1])
    with pytest.raises(InvalidParameterError, match=r"detector features: labels are required"):
        detector.fit(interactions)
    with pytest.raises(InvalidParameterError, match=r"detector features: folds must be an integer in \[2, 15\]"):
        detector.cross_validated_scores(interactions, labels, folds=16)


# ------------------------------------------------------------------------------------------------ FRAUDAR
def planted_block(seed=0, n_users=600, n_items=500, n_edges=3000, block=(25, 20), fill=0.8):
    """A sparse random graph plus a dense block between the last ``block`` users and items (ids ``b...``)."""
    rng = np.random.default_rng(seed)
    users = [f"u{u}" for u in rng.integers(0, n_users, n_edges)]
    items = rng.integers(0, n_items, n_edges).tolist()
    block_users, block_items = np.meshgrid(np.arange(block[0]), np.arange(block[1]), indexing="ij")
    keep = rng.random(block_users.size) < fill
    users += [f"b{u}" for u in block_users.ravel()[keep]]
    items += (n_items + block_items.ravel()[keep]).tolist()
    return Interactions.from_arrays(np.array(users), np.array(items), duplicates="last")


def test_fraudar_recovers_a_planted_dense_block():
    interactions = planted_block()
    users, items, density = densest_block(interactions)
    found = set(interactions.users.ids[users].tolist())
    planted = {f"b{u}" for u in range(25)}
    assert len(found & planted) / len(found | planted) >= 0.9
    assert set(interactions.items.ids[items].tolist()) <= set(range(500, 520))
    # the reported density is g(S) = f(S) / |S| of the block, recomputed here
    matrix = interactions.matrix
    weights = 1.0 / np.log(np.bincount(matrix.indices, minlength=matrix.shape[1]) + 5.0)
    block = matrix[users][:, items]
    assert density == pytest.approx(weights[items][block.indices].sum() / (users.size + items.size), rel=1e-9)
    scores = FraudarDetector().score(interactions)
    assert scores.min() >= 0.0 and scores.max() == 1.0
    others = np.setdiff1d(np.arange(interactions.n_users), users)
    assert scores[users].min() > scores[others].max()


def test_peeling_records_a_density_per_step():
    interactions = planted_block(seed=1, n_users=100, n_items=80, n_edges=300, block=(8, 6))
    result = peel(interactions)
    n_nodes = interactions.n_users + interactions.n_items
    assert np.array_equal(np.sort(result.order), np.arange(n_nodes))
    assert result.densities.shape == (n_nodes + 1,) and result.densities[-1] == 0.0
    assert result.density == result.densities.max()


# ------------------------------------------------------------------------------------------------ bursts
def test_burst_flags_on_a_hand_made_timeline():
    interactions = Interactions.from_arrays(
        ["a", "b", "c", "d", "e", "a"], [0, 0, 0, 0, 1, 1], order=[0.0, 10.0, 20.0, 1000.0, 5.0, 6.0]
    )
    flags = burst_flags(interactions, window=20.0, min_users=3)
    rows, cols, _, _ = interactions.to_coo()
    by_pair = {
        (interactions.users.ids[r], int(interactions.items.ids[c])): f
        for r, c, f in zip(rows, cols, flags, strict=True)
    }
    assert by_pair == {("a", 0): True, ("b", 0): True, ("c", 0): True, ("d", 0): False, ("e", 1): False,
                       ("a", 1): False}  # fmt: skip
    assert not burst_flags(interactions, window=19.0, min_users=3).any()  # 0, 10, 20 no longer fit
    scores = dict(zip(interactions.users.ids, BurstDetector(window=20.0, min_users=3).score(interactions), strict=True))
    assert scores == {"a": 0.5, "b": 1.0, "c": 1.0, "d": 0.0, "e": 0.0}


def test_burst_detector_flags_users_acting_together_within_minutes(attacked):
    interactions, labels = attacked
    for weighting in ("none", "rarity"):
        scores = make_detector("burst", window=3600.0, weighting=weighting).score(interactions)
        assert scores[labels].min() > scores[~labels].max(), weighting
    # with the defaults (one day, 5 users) every attacker's target interaction is in a burst, no genuine one is
    scores = make_detector("burst").score(interactions)
    assert scores[labels].min() >= 1 / 21 and scores[~labels].max() < 1 / 21


def test_burst_detector_needs_an_order():
    interactions = Interactions.from_arrays(["a", "b"], [0, 0])
    with pytest.raises(DataError, match=r"detector burst needs ordered interactions .* timestamp column"):
        make_detector("burst").score(interactions)
