from typing import ClassVar

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from models.contract import RecommenderContract, with_changes
from recollective.data import Interactions
from recollective.models import make_model
from recollective.models._implicit import ALS, BPR


def random_interactions(n_users=120, n_items=60, density=0.15, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    rows, cols = np.nonzero(mask)
    return Interactions.from_arrays(rows, cols, rng.integers(1, 6, rows.size).astype(float))


def csr32(matrix):
    return sp.csr_matrix(matrix, dtype=np.float32, copy=True)


def als_loss(model, interactions):
    """The objective ALS minimises (Hu et al. 2008): sum_ui c_ui (p_ui - x_u.y_i)^2 + reg (|X|^2 + |Y|^2),
    with c = alpha * value, p = 1 on stored pairs and c = 1, p = 0 elsewhere; computed densely in float64."""
    stored = interactions.matrix.toarray()
    observed = stored != 0
    confidence = np.where(observed, model.params_["alpha"] * stored, 1.0)
    x, y = model.user_factors_.astype(float), model.item_factors_.astype(float)
    error = confidence * (observed - x @ y.T) ** 2
    return error.sum() + model.params_["regularization"] * ((x**2).sum() + (y**2).sum())


def training_auc(model, interactions, users):
    """Mean over ``users`` of the share of (stored, unstored) item pairs the model orders correctly."""
    scores = model.score(users)
    stored = interactions.matrix[users].toarray() != 0
    values = []
    for row, mask in zip(scores, stored, strict=True):
        pos, neg = row[mask][:, None], row[~mask][None, :]
        values.append((pos > neg).mean() + 0.5 * (pos == neg).mean())
    return float(np.mean(values))


def top_overlap(first, second, users, k=10):
    a, _ = first.recommend(users, k)
    b, _ = second.recommend(users, k)
    return float(np.mean([np.intersect1d(x[x >= 0], y[y >= 0]).size / k for x, y in zip(a, b, strict=True)]))


def unchanged_users(old: Interactions, new: Interactions) -> np.ndarray:
    differs = np.asarray(abs(new.matrix - old.matrix).sum(axis=1)).ravel() > 0
    return np.flatnonzero(~differs)


def assert_same_recommendations_up_to_ties(model, users, theirs, rtol=1e-5):
    """Our ``recommend(users, k)`` equals implicit's ``(items, scores)`` except where two items' scores tie
    (within float32 rounding of the dot products, which implicit sums in float32 and we in float64)."""
    their_items, their_scores = theirs
    our_items, our_scores = model.recommend(users, their_items.shape[1])
    np.testing.assert_allclose(our_scores, their_scores, rtol=rtol, atol=rtol)
    differ = our_items != their_items
    assert differ.mean() < 0.01
    full = model.score(users)
    for row, col in zip(*np.nonzero(differ), strict=True):
        assert full[row, their_items[row, col]] == pytest.approx(our_scores[row, col], rel=rtol, abs=rtol)
    return int(differ.sum())


class _QualityContract(RecommenderContract):
    """Keeps the data before the delta so ``assert_refit_close`` can tell which users the delta touched."""

    def test_refit_matches_fit_within_stated_tolerance(self, data):
        self.before = data[0]
        super().test_refit_matches_fit_within_stated_tolerance(data)

    def other_seed(self, cold, changed):
        return self.make(rng=cold.params_["rng"] + 1).fit(changed)


class TestALSContract(_QualityContract):
    model_class = ALS
    params: ClassVar[dict] = {"factors": 4}
    bad_params: ClassVar[list] = [
        ("factors", 0),
        ("regularization", -0.1),
        ("alpha", 0.0),
        ("iterations", 0),
        ("rng", -1),
        ("num_threads", -1),
    ]

    def assert_refit_close(self, refitted, cold, changed):
        """ALS.refit_tolerance: loss within 1% of the cold fit's; unchanged users' top-10 lists at least as close
        to the cold fit's as another seed's cold fit, less 0.05."""
        assert als_loss(refitted, changed) <= 1.01 * als_loss(cold, changed)
        users = unchanged_users(self.before, changed)
        baseline = top_overlap(cold, self.other_seed(cold, changed), users)
        assert top_overlap(refitted, cold, users) >= baseline - 0.05


class TestBPRContract(_QualityContract):
    model_class = BPR
    params: ClassVar[dict] = {"factors": 4, "iterations": 200, "learning_rate": 0.05}
    bad_params: ClassVar[list] = [
        ("factors", 0),
        ("learning_rate", 0.0),
        ("regularization", -1.0),
        ("iterations", 0),
        ("refit_iterations", 0),
        ("rng", 1.5),
        ("num_threads", -2),
    ]

    def assert_refit_close(self, refitted, cold, changed):
        """BPR.refit_tolerance: training AUC within 0.02 of the cold fit's (0.05 on the users the delta touched);
        unchanged users' top-10 lists at least as close to the cold fit's as another seed's, less 0.1."""
        everyone = np.arange(changed.n_users)
        users = unchanged_users(self.before, changed)
        touched = np.setdiff1d(everyone, users)
        assert training_auc(refitted, changed, everyone) >= training_auc(cold, changed, everyone) - 0.02
        assert training_auc(refitted, changed, touched) >= training_auc(cold, changed, touched) - 0.05
        baseline = top_overlap(cold, self.other_seed(cold, changed), users)
        assert top_overlap(refitted, cold, users) >= baseline - 0.1


# ---------------------------------------------------------------------------------------------- against implicit
def fit_reference(reference, data):
    """``reference`` (an implicit model) fitted on ``data`` as our wrappers fit it: float32 CSR, one BLAS thread."""
    user_items = csr32(data.matrix)
    with threadpool_limits(1, "blas"):
        reference.fit(user_items, show_progress=False)
    return reference, user_items


def assert_same_recommendations_as(model, reference, data, user_items):
    users = np.arange(data.n_users)
    theirs = reference.recommend(users, user_items[users], N=10, filter_already_liked_items=True)
    assert_same_recommendations_up_to_ties(model, users, theirs)


def test_als_reproduces_implicit_recommendations():
    from implicit.cpu.als import AlternatingLeastSquares

    data = random_interactions()
    model = ALS(factors=8, iterations=6, regularization=0.05, alpha=2.0, rng=11).fit(data)
    reference = AlternatingLeastSquares(
        factors=8, iterations=6, regularization=0.05, alpha=2.0, random_state=model.random_state_, num_threads=1
    )
    reference, user_items = fit_reference(reference, data)
    np.testing.assert_array_equal(model.user_factors_, reference.user_factors)
    np.testing.assert_array_equal(model.item_factors_, reference.item_factors)
    assert_same_recommendations_as(model, reference, data, user_items)


def test_bpr_reproduces_implicit_recommendations_bias_column_included():
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    data = random_interactions()
    model = BPR(factors=8, iterations=30, learning_rate=0.05, rng=5).fit(data)
    assert model.user_factors_.shape == (data.n_users, 9)
    np.testing.assert_array_equal(model.user_factors_[:, -1], 1.0)  # the item bias enters every score
    reference = BayesianPersonalizedRanking(
        factors=8, iterations=30, learning_rate=0.05, random_state=model.random_state_, num_threads=1
    )
    reference, user_items = fit_reference(reference, data)
    np.testing.assert_array_equal(model.item_factors_, reference.item_factors)
    assert_same_recommendations_as(model, reference, data, user_items)


def test_als_confidence_reaching_implicit_is_alpha_times_value():
    from implicit.cpu.als import AlternatingLeastSquares

    data = random_interactions()
    model = ALS(factors=6, iterations=4, alpha=3.0).fit(data)
    with threadpool_limits(1, "blas"):
        reference = AlternatingLeastSquares(
            factors=6, iterations=4, alpha=1.0, random_state=model.random_state_, num_threads=1
        )
        reference.fit(csr32(3.0 * data.matrix), show_progress=False)
    np.testing.assert_allclose(model.user_factors_, reference.user_factors, rtol=1e-5, atol=1e-6)


def test_bpr_ignores_stored_values():
    data = random_interactions()
    rows, cols = data.matrix.nonzero()
    ones = Interactions.from_arrays(data.users.ids[rows], data.items.ids[cols], np.ones(rows.size))
    first = BPR(factors=4, iterations=10).fit(data)
    second = BPR(factors=4, iterations=10).fit(ones)
    np.testing.assert_array_equal(first.item_factors_, second.item_factors_)


def test_als_is_bitwise_the_same_with_more_threads():
    data = random_interactions(n_users=300, n_items=100)
    one = ALS(factors=8, iterations=5, num_threads=1).fit(data)
    four = ALS(factors=8, iterations=5, num_threads=4).fit(data)
    np.testing.assert_array_equal(one.user_factors_, four.user_factors_)
    np.testing.assert_array_equal(one.item_factors_, four.item_factors_)


def test_scores_are_float32_dot_products_independent_of_the_batch():
    data = random_interactions()
    for model in (ALS(factors=16).fit(data), BPR(factors=16, iterations=5).fit(data)):
        users = np.arange(data.n_users)
        scores = model.score(users)
        assert scores.dtype == np.float32
        x, y = model.user_factors_.astype(np.float64), model.item_factors_.astype(np.float64)
        np.testing.assert_array_equal(scores, (x @ y.T).astype(np.float32))
        float32_product = model.user_factors_ @ model.item_factors_.T
        np.testing.assert_allclose(scores, float32_product, rtol=0, atol=1e-6 * np.abs(float32_product).max())
        one_by_one = np.stack([model.score(u) for u in users[:10]])
        np.testing.assert_array_equal(one_by_one, scores[:10])
        small_blocks = model.score(users, block_bytes=3 * 4 * data.n_items)  # 3 users per block
        np.testing.assert_array_equal(small_blocks, scores)


# ---------------------------------------------------------------------------------------------- refits
def test_als_refit_moves_only_the_touched_users_and_items():
    data = random_interactions()
    base = ALS(factors=6).fit(data)
    before_users, before_items = base.user_factors_.copy(), base.item_factors_.copy()
    changed, delta = with_changes(data, share=0.05)
    base.refit(changed, delta)
    users, items = delta.changed_users, delta.changed_items
    still_users = np.setdiff1d(np.arange(data.n_users), users)
    still_items = np.setdiff1d(np.arange(data.n_items), items)
    np.testing.assert_array_equal(base.user_factors_[still_users], before_users[still_users])
    np.testing.assert_array_equal(base.item_factors_[still_items], before_items[still_items])
    assert not np.allclose(base.user_factors_[users], before_users[users])
    assert not np.allclose(base.item_factors_[items], before_items[items])


@pytest.mark.parametrize("model_class", [ALS, BPR])
def test_refit_of_a_large_delta_is_a_cold_fit(model_class):
    data = random_interactions()
    changed, delta = with_changes(data, share=0.2)  # 20% of users > 10%
    refitted = model_class(factors=4, iterations=5).fit(data).refit(changed, delta)
    cold = model_class(factors=4, iterations=5).fit(changed)
    np.testing.assert_array_equal(refitted.user_factors_, cold.user_factors_)


def test_bpr_refit_is_reproducible():
    data = random_interactions()
    changed, delta = with_changes(data, share=0.05)
    first = BPR(factors=4, iterations=20).fit(data).refit(changed, delta)
    second = BPR(factors=4, iterations=20).fit(data).refit(changed, delta)
    np.testing.assert_array_equal(first.item_factors_, second.item_factors_)


def test_importing_the_wrappers_does_not_import_implicit():
    import subprocess
    import sys

    code = "import sys, recollective.models._implicit; print('implicit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_make_model_builds_als_and_bpr():
    assert isinstance(make_model("als", factors=3), ALS)
    assert isinstance(make_model("bpr", refit_iterations=2), BPR)


# ---------------------------------------------------------------------------------------------- goodbooks
def goodbooks_campaign(shared_data):
    """The benchmark's delta on the goodbooks sample: 1% of users each rate the same two rare books 5."""
    from recollective.data import load_goodbooks

    data = load_goodbooks(shared_data / "goodbooks-10k")
    popularity = np.bincount(data.matrix.indices, minlength=data.n_items)
    targets = np.flatnonzero(popularity == 6)[:2]
    members = np.random.default_rng(1).choice(data.n_users, round(0.01 * data.n_users), replace=False)
    users = np.repeat(data.users.ids[members], 2)
    items = np.tile(data.items.ids[targets], members.size)
    changed, delta = data.with_added(users, items, np.full(users.size, 5.0))
    return data, changed, delta


def goodbooks_refits(shared_data, model_class):
    """The campaign above, and three models of ``model_class`` with default settings on it: one fitted before and
    refitted with the delta, one fitted cold on the changed data, and a cold one with another seed (the spread that
    refitting has to stay within)."""
    data, changed, delta = goodbooks_campaign(shared_data)
    refitted = model_class().fit(data).refit(changed, delta)
    cold = model_class().fit(changed)
    other = model_class(rng=1).fit(changed)
    return data, changed, delta, (refitted, cold, other)


@pytest.mark.slow
def test_als_refit_on_goodbooks_campaign_within_tolerance(shared_data):
    data, changed, _, (refitted, cold, other) = goodbooks_refits(shared_data, ALS)
    assert als_loss_sparse(refitted, changed) <= 1.01 * als_loss_sparse(cold, changed)
    users = unchanged_users(data, changed)[::5]
    assert top_overlap(refitted, cold, users) >= max(0.9, top_overlap(cold, other, users) - 0.05)


@pytest.mark.slow
def test_bpr_refit_on_goodbooks_campaign_within_tolerance(shared_data):
    data, changed, delta, (refitted, cold, other) = goodbooks_refits(shared_data, BPR)
    users = unchanged_users(data, changed)[::10]
    touched = delta.changed_users
    assert training_auc(refitted, changed, users) >= training_auc(cold, changed, users) - 0.02
    assert training_auc(refitted, changed, touched) >= training_auc(cold, changed, touched) - 0.05
    assert top_overlap(refitted, cold, users) >= top_overlap(cold, other, users) - 0.1


def als_loss_sparse(model, interactions):
    """``als_loss`` without the dense matrix: sum over all pairs of s^2, corrected on the stored pairs."""
    matrix = interactions.matrix
    x, y = model.user_factors_.astype(float), model.item_factors_.astype(float)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    stored_scores = np.einsum("ij,ij->i", x[rows], y[matrix.indices])
    confidence = model.params_["alpha"] * matrix.data
    all_pairs = np.sum((x.T @ x) * (y.T @ y))  # sum_ui (x_u . y_i)^2
    correction = np.sum(confidence * (1 - stored_scores) ** 2 - stored_scores**2)
    return all_pairs + correction + model.params_["regularization"] * ((x**2).sum() + (y**2).sum())


def test_sparse_als_loss_equals_the_dense_one():
    data = random_interactions()
    model = ALS(factors=4).fit(data)
    assert als_loss_sparse(model, data) == pytest.approx(als_loss(model, data), rel=1e-10)
