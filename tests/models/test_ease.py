import logging
from typing import ClassVar

import numpy as np
import pytest

from models.contract import RecommenderContract
from recollective.data import Interactions
from recollective.errors import DataError, NotFittedError
from recollective.models import make_model
from recollective.models._ease import EASE

# stated in EASE.refit_tolerance: max |B_refit - B_cold| <= 1e-8 max |B_cold| in float64
REFIT_RTOL = 1e-8


def constrained_ridge(dense, regularization):
    """EASE solved column by column as the constrained least squares it is (independent of the closed form):
    ``B[:, j] = argmin ||X[:, j] - X b||^2 + lambda ||b||^2`` with ``b_j = 0``."""
    gram = dense.T @ dense
    n = gram.shape[0]
    weights = np.zeros((n, n))
    for j in range(n):
        others = np.delete(np.arange(n), j)
        weights[others, j] = np.linalg.solve(
            gram[np.ix_(others, others)] + regularization * np.eye(n - 1), gram[others, j]
        )
    return weights


def random_interactions(seed, n_users=60, n_items=40, density=0.25):
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < density) * rng.integers(1, 6, (n_users, n_items)).astype(float)
    users, items = np.nonzero(dense)
    data = Interactions.from_arrays(users, items, dense[users, items])
    return data, data.matrix.toarray()  # users and items without an interaction are not in the vocabularies


def relative_error(refitted, cold):
    a, b = refitted.item_weights(), cold.item_weights()
    return np.abs(a - b).max() / np.abs(b).max()


class TestEASEContract(RecommenderContract):
    model_class = EASE
    params: ClassVar[dict] = {"regularization": 10.0}
    bad_params: ClassVar[list] = [
        ("regularization", 0.0),
        ("regularization", -5.0),
        ("binary", 1),
        ("dtype", "float16"),
        ("max_items", 0),
    ]

    def assert_refit_close(self, refitted, cold, changed):
        assert relative_error(refitted, cold) <= REFIT_RTOL
        users = np.arange(changed.n_users)
        a, b = refitted.score(users), cold.score(users)
        assert np.abs(a - b).max() <= REFIT_RTOL * np.abs(b).max()



def assert_symmetric(p):
    """Symmetric to rounding: small Woodbury updates touch both triangles by rank-one BLAS updates (no mirroring)."""
    eps = np.finfo(p.dtype).eps
    assert np.abs(p - p.T).max() <= 8 * eps * np.abs(p).max()


def test_hand_example_two_items():
    # two items, X = [[1, 1], [1, 0]]: G = [[2, 1], [1, 1]]; with lambda = 1 each column is a 1-D ridge on the
    # other item: B[0, 1] = G_01 / (G_00 + 1) = 1/3 and B[1, 0] = G_10 / (G_11 + 1) = 1/2
    data = Interactions.from_arrays(np.array([0, 0, 1]), np.array([0, 1, 0]))
    model = EASE(regularization=1.0).fit(data)
    np.testing.assert_allclose(model.item_weights(), [[0, 1 / 3], [1 / 2, 0]], rtol=1e-14)
    np.testing.assert_allclose(model.score(1), [0.0, 1 / 3], rtol=1e-14, atol=1e-15)  # user 1: item 0 alone


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("regularization", [0.5, 20.0, 500.0])
def test_matches_constrained_least_squares(binary, regularization):
    data, dense = random_interactions(seed=int(regularization), n_users=30, n_items=12)
    if binary:
        dense = (dense != 0).astype(float)
    model = EASE(regularization=regularization, binary=binary).fit(data)
    expected = constrained_ridge(dense, regularization)
    np.testing.assert_allclose(model.item_weights(), expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_allclose(
        model.score(np.arange(data.n_users)), dense @ expected, rtol=1e-9, atol=1e-12 * np.abs(dense @ expected).max()
    )


def test_float32_is_close_to_float64():
    data, _ = random_interactions(seed=3)
    single = EASE(regularization=20.0, dtype="float32").fit(data)
    double = EASE(regularization=20.0).fit(data)
    assert single.inverse_gram_.dtype == np.float32
    assert single.score(np.arange(3)).dtype == np.float64
    assert relative_error(single, double) <= 1e-5


def test_inverse_is_symmetric_and_exact():
    data, dense = random_interactions(seed=4)
    model = EASE(regularization=7.0).fit(data)
    assert_symmetric(model.inverse_gram_)
    gram = dense.T @ dense + 7.0 * np.eye(dense.shape[1])
    np.testing.assert_allclose(model.inverse_gram_ @ gram, np.eye(dense.shape[1]), atol=1e-12)


def campaign(interactions, targets, n_users, seed=0):
    rng = np.random.default_rng(seed)
    users = rng.choice(interactions.n_users, n_users, replace=False)
    return interactions.with_added(
        interactions.users.ids[np.repeat(users, len(targets))],
        interactions.items.ids[np.tile(targets, users.size)],
        np.full(users.size * len(targets), 5.0),
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_woodbury_refit_campaign_and_removals(dtype, caplog):
    data, _ = random_interactions(seed=6, n_users=80, n_items=48)
    model = EASE(regularization=15.0, dtype=dtype).fit(data)
    tolerance = REFIT_RTOL if dtype == "float64" else 1e-4
    new, delta = campaign(data, targets=[5, 30], n_users=8)
    assert delta.changed_items.size == 2  # 2|T| = 4 <= 48 / 8: the Woodbury path
    with caplog.at_level(logging.INFO, logger="recollective.models._ease"):
        model.refit(new, delta)
    assert "cold fit" not in caplog.text
    assert relative_error(model, EASE(regularization=15.0, dtype=dtype).fit(new)) <= tolerance
    # removals: D is negative, same algebra; and chained on the refitted model
    coo = new.matrix.tocoo()
    pick = np.flatnonzero(np.isin(coo.col, [7, 30]))[:6]
    after, removal = new.without(coo.row[pick], coo.col[pick])
    model.refit(after, removal)
    cold = EASE(regularization=15.0, dtype=dtype).fit(after)
    assert relative_error(model, cold) <= tolerance
    assert_symmetric(model.inverse_gram_)
    users = np.arange(after.n_users)
    assert np.abs(model.score(users) - cold.score(users)).max() <= tolerance * np.abs(cold.score(users)).max()


def test_many_changed_items_fall_back_to_a_cold_fit(caplog):
    data, _ = random_interactions(seed=8, n_users=60, n_items=24)
    model = EASE(regularization=5.0).fit(data)
    new, delta = campaign(data, targets=[1, 2], n_users=5)  # 2|T| = 4 > 24 / 8
    with caplog.at_level(logging.INFO, logger="recollective.models._ease"):
        model.refit(new, delta)
    assert "cold fit" in caplog.text
    np.testing.assert_array_equal(model.item_weights(), EASE(regularization=5.0).fit(new).item_weights())


def test_max_items_error_names_the_size_and_the_remedy():
    data, _ = random_interactions(seed=1, n_items=40)
    with pytest.raises(
        DataError,
        match=r"dense n_items x n_items matrix \(40 items => 0\.0 GB.*max_items is 39.*"
        r"k-core",
    ):
        EASE(max_items=39).fit(data)
    EASE(max_items=40).fit(data)
    with pytest.raises(DataError, match=r"20001 items => 3\.2 GB"):
        EASE()._check_size(20_001, EASE().checked_params())


def test_an_item_heavy_catalogue_is_refused_before_anything_large_is_allocated():
    """252,748 items (the tiled goodbooks file of benchmarks/bench_campaign_scale.py): one error line naming the
    size, the limit and the alternatives, with a few MB allocated at most (P alone would take 511 GB)."""
    import tracemalloc

    from recollective.data import Interactions

    n_items = 252_748
    rng = np.random.default_rng(0)
    users, items = np.repeat(np.arange(50), 4), rng.choice(n_items, size=200, replace=False)
    data = Interactions.from_arrays(users, items, np.ones(200), item_vocabulary_ids=np.arange(n_items))
    assert data.n_items == n_items
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as error:
            EASE().fit(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(error.value)
    assert "\n" not in message
    assert "252748 items => 511.1 GB in float64" in message and "max_items is 20000" in message
    assert "--k-core-items N" in message and "--param max_items=N" in message and "itemknn" in message
    assert peak < 20 * 2**20


def test_item_weights_before_fit_raise():
    with pytest.raises(NotFittedError):
        EASE().item_weights()


def test_make_model_by_name():
    assert isinstance(make_model("ease", regularization=3.0), EASE)


@pytest.mark.slow
def test_goodbooks_woodbury_refit(shared_data):
    """Real scale: 1% of users add the same 2 items; float32 keeps this under a minute."""
    from recollective.data import load_goodbooks

    data = load_goodbooks(shared_data / "goodbooks-10k")
    model = EASE(dtype="float32").fit(data)
    new, delta = campaign(data, targets=[10, 2000], n_users=round(0.01 * data.n_users))
    model.refit(new, delta)
    assert relative_error(model, EASE(dtype="float32").fit(new)) <= 1e-4


@pytest.mark.parametrize(("dtype", "binary"), [("float64", False), ("float64", True), ("float32", False)])
def test_refit_over_few_changed_users_matches_a_cold_fit(dtype, binary):
    """One or two users changing several items take the user-row Woodbury path (rank 2|users| <= 2|T|)."""
    data, _ = random_interactions(seed=11, n_users=70, n_items=64)
    model = EASE(regularization=12.0, dtype=dtype, binary=binary).fit(data)
    tolerance = REFIT_RTOL if dtype == "float64" else 1e-4
    users = data.users.ids[[3, 3, 3, 41, 41, 41]]
    new, delta = data.with_added(users, data.items.ids[[5, 9, 30, 5, 9, 30]], np.array([5.0, 4, 1, 2, 5, 3]))
    assert 0 < delta.changed_users.size <= delta.changed_items.size
    model.refit(new, delta)
    cold = EASE(regularization=12.0, dtype=dtype, binary=binary).fit(new)
    assert relative_error(model, cold) <= tolerance
    assert_symmetric(model.inverse_gram_)
    # a second, chained change that overwrites and removes on the same path
    after, removal = new.without(np.array([3]), np.array([9]))
    model.refit(after, removal)
    assert relative_error(model, EASE(regularization=12.0, dtype=dtype, binary=binary).fit(after)) <= tolerance
