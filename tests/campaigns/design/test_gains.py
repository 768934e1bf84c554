"""Closed-form marginal gains against brute-force cold refits, per model family."""

import numpy as np
import pytest
import scipy.sparse as sp

from recollective.campaigns.design import gain_kind, target_gains
from recollective.data import Interactions
from recollective.errors import InvalidParameterError
from recollective.models import make_model


@pytest.fixture(scope="module")
def data():
    """70 users x 45 items, ratings 1-5, two taste blocks; items 43, 44 are rare targets of block B."""
    rng = np.random.default_rng(3)
    rows, cols, vals = [], [], []
    for user in range(70):
        block = np.arange(21) + 21 * (user % 2)
        picked = rng.choice(block, size=8, replace=False)
        if user % 2 and user % 7 == 1:
            picked = np.append(picked, 43 + (user % 4 == 1))
        rows += [user] * picked.size
        cols += picked.tolist()
        vals += rng.integers(1, 6, picked.size).tolist()
    rows += [1]
    cols += [42]
    vals += [3]
    return Interactions.from_arrays(np.array(rows), np.array(cols), np.array(vals, dtype=float))


def _candidates(data, targets, audience, bridges=()):
    pool = np.setdiff1d(np.arange(data.n_users), audience)[::5]
    participants, rows = [], []
    for n, user in enumerate(pool):
        items = list(targets[: 1 + n % 2]) + list(bridges[: n % 3])
        participants.append(user)
        rows.append((items, [5.0 - (n % 3)] * len(items)))
    indptr = np.concatenate([[0], np.cumsum([len(i) for i, _ in rows])])
    indices = np.concatenate([i for i, _ in rows]).astype(np.int64)
    values = np.concatenate([v for _, v in rows])
    return np.array(participants), sp.csr_array((values, indices, indptr), shape=(len(rows), data.n_items))


def _brute(model, data, audience, targets, participants, rows):
    base = model.score(audience)[:, targets]
    out = np.empty((participants.size, audience.size, targets.size))
    for c, user in enumerate(participants):
        lo, hi = rows.indptr[c], rows.indptr[c + 1]
        new, _ = data.with_added(
            np.repeat(data.users.ids[user], hi - lo), data.items.ids[rows.indices[lo:hi]], rows.data[lo:hi]
        )
        out[c] = model.clone().fit(new).score(audience)[:, targets] - base
    return out


AUDIENCE = np.array([3, 9, 11, 17, 23, 29, 31, 37, 45, 51, 59, 65])
TARGETS = np.array([43, 44])


@pytest.mark.parametrize(
    ("name", "params", "bridged"),
    [
        ("popularity", {}, False),
        ("popularity", {"by": "sum"}, True),
        ("ease", {"regularization": 5.0}, True),
        ("ease", {"regularization": 5.0, "binary": True}, True),
        ("itemknn", {"n_neighbors": 6}, False),
        ("itemknn", {"n_neighbors": 6, "binary": True}, False),
        ("itemknn", {"n_neighbors": 6}, True),
        ("itemknn", {"n_neighbors": 200}, True),
    ],
)
def test_exact_gains_equal_cold_refits(data, name, params, bridged):
    model = make_model(name, **params).fit(data)
    assert gain_kind(model) == "exact"
    bridges = np.array([23, 25, 27]) if bridged else np.array([], dtype=np.int64)
    participants, rows = _candidates(data, TARGETS, AUDIENCE, bridges)
    gains = target_gains(model, AUDIENCE, TARGETS, participants, rows)
    brute = _brute(model, data, AUDIENCE, TARGETS, participants, rows)
    assert np.abs(brute).max() > 0  # the candidates do move the targets
    np.testing.assert_allclose(gains, brute, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("name", "params", "kind", "min_correlation", "max_error_share"),
    [
        ("puresvd", {"n_factors": 6}, "first-order", 0.8, 0.5),
        ("als", {"factors": 8, "iterations": 20, "regularization": 0.1}, "half-step", 0.5, None),
    ],
)
def test_approximate_gains_track_cold_refits(data, name, params, kind, min_correlation, max_error_share):
    """First-order (PureSVD) and half-step (ALS) gains order candidates like cold refits do."""
    model = make_model(name, **params).fit(data)
    assert gain_kind(model) == kind
    participants, rows = _candidates(data, TARGETS, AUDIENCE)
    gains = target_gains(model, AUDIENCE, TARGETS, participants, rows)
    brute = _brute(model, data, AUDIENCE, TARGETS, participants, rows)
    correlation = np.corrcoef(gains.sum(axis=(1, 2)), brute.sum(axis=(1, 2)))[0, 1]
    assert correlation > min_correlation
    if max_error_share is not None:
        assert np.abs(gains - brute).max() < max_error_share * np.abs(brute).max()


def test_models_without_closed_form_and_bad_batches_are_refused(data):
    model = make_model("itemknn", similarity="bm25").fit(data)
    assert gain_kind(model) == "refit"
    participants, rows = _candidates(data, TARGETS, AUDIENCE)
    with pytest.raises(InvalidParameterError, match="no closed-form"):
        target_gains(model, AUDIENCE, TARGETS, participants, rows)
    ease = make_model("ease").fit(data)
    with pytest.raises(InvalidParameterError, match="audience"):
        target_gains(ease, AUDIENCE, TARGETS, AUDIENCE[:1], rows[:1])


def _applied(data, participants, rows, skip=None):
    """``data`` with every candidate row written in (candidate ``skip`` left out)."""
    users, items, values = [], [], []
    for c, user in enumerate(participants):
        if c == skip:
            continue
        lo, hi = rows.indptr[c], rows.indptr[c + 1]
        users += [data.users.ids[user]] * (hi - lo)
        items += data.items.ids[rows.indices[lo:hi]].tolist()
        values += rows.data[lo:hi].tolist()
    return data.with_added(np.array(users), np.array(items), np.array(values))[0]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("popularity", {"by": "sum"}),
        ("ease", {"regularization": 5.0}),
        ("ease", {"regularization": 5.0, "binary": True}),
        ("itemknn", {"n_neighbors": 6}),
        ("itemknn", {"n_neighbors": 6, "binary": True}),
    ],
)
def test_taking_an_action_back_equals_a_cold_refit_without_it(data, name, params):
    """``whole_rows=True`` with the training rows prices removing a participant from a plan, exactly."""
    participants, rows = _candidates(data, TARGETS, AUDIENCE, np.array([23, 25, 27]))
    planned = _applied(data, participants, rows)
    model = make_model(name, **params).fit(planned)
    original = sp.csr_array(data.matrix[participants])
    gains = target_gains(model, AUDIENCE, TARGETS, participants, original, whole_rows=True)
    base = model.score(AUDIENCE)[:, TARGETS]
    brute = np.stack([make_model(name, **params).fit(_applied(data, participants, rows, skip=c)).score(AUDIENCE)
                      [:, TARGETS] - base for c in range(participants.size)])
    assert np.abs(brute).max() > 0
    np.testing.assert_allclose(gains, brute, rtol=0, atol=1e-9)
