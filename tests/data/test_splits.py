"""Splits: sizes, disjointness, the partition of the input, ordering guarantees and seeding."""

from __future__ import annotations

import numpy as np
import pytest

from recollective.data import Interactions
from recollective.data._splits import leave_last_out, random_holdout, split_by_mask, temporal_split
from recollective.errors import DataError, InvalidParameterError


def _data(n_users=80, n_items=50, density=0.15, seed=0, with_order=True, tied_order=False):
    rng = np.random.default_rng(seed)
    users, items = np.nonzero(rng.random((n_users, n_items)) < density)
    order = rng.integers(0, 5, users.size) if tied_order else rng.permutation(users.size) * 10.0
    meta = {"title": np.array([f"t{i}" for i in range(n_items)], dtype=object)}
    return Interactions.from_arrays(
        users,
        items,
        rng.integers(1, 6, users.size),
        order if with_order else None,
        item_metadata=meta,
        item_vocabulary_ids=np.arange(n_items),
    )


def _check_partition(data, train, test):
    assert train.users == data.users and test.users == data.users
    assert train.items == data.items and test.items == data.items
    assert train.item_metadata is data.item_metadata
    assert (train.matrix.multiply(test.matrix)).nnz == 0  # disjoint
    assert train.n_interactions + test.n_interactions == data.n_interactions
    np.testing.assert_array_equal((train.matrix + test.matrix).toarray(), data.matrix.toarray())
    if data.order is not None:
        np.testing.assert_array_equal((train.order + test.order).toarray(), data.order.toarray())


def test_leave_last_out_holds_out_each_users_latest_interaction():
    data = _data()
    train, test = leave_last_out(data)
    _check_partition(data, train, test)
    degree = np.diff(data.matrix.indptr)
    np.testing.assert_array_equal(np.diff(test.matrix.indptr), (degree >= 2).astype(int))
    order = data.order.toarray()
    order[data.matrix.toarray() == 0] = -np.inf
    for user in np.flatnonzero(degree >= 2):
        (held,) = test.matrix[[user]].indices
        assert order[user, held] == order[user].max()


def test_leave_last_out_n_last_and_min_train():
    data = _data()
    degree = np.diff(data.matrix.indptr)
    train, test = leave_last_out(data, n_last=3, min_train=2)
    _check_partition(data, train, test)
    np.testing.assert_array_equal(np.diff(test.matrix.indptr), np.clip(degree - 2, 0, 3))
    assert np.diff(train.matrix.indptr).min() >= min(2, degree.min())
    train_order = np.where(train.matrix.toarray() != 0, train.order.toarray(), -np.inf).max(axis=1)
    test_order = np.where(test.matrix.toarray() != 0, test.order.toarray(), np.inf).min(axis=1)
    held = np.diff(test.matrix.indptr) > 0
    assert (test_order[held] > train_order[held]).all()  # everything held out is later than everything kept


def test_leave_last_out_breaks_ties_by_the_seed():
    data = _data(tied_order=True)
    first = leave_last_out(data, rng=1)[1].matrix
    assert (first != leave_last_out(data, rng=1)[1].matrix).nnz == 0
    assert any((first != leave_last_out(data, rng=seed)[1].matrix).nnz for seed in range(2, 6))


def test_leave_last_out_without_order_is_an_error():
    with pytest.raises(DataError, match="leave-last-out needs the order of interactions"):
        leave_last_out(_data(with_order=False))


def test_random_holdout_sizes_disjointness_and_seed():
    data = _data(n_users=200, density=0.2)
    train, test = random_holdout(data, 0.25, rng=7)
    _check_partition(data, train, test)
    degree = np.diff(data.matrix.indptr)
    expected = np.minimum(np.floor(0.25 * degree + 0.5), degree - 1)
    np.testing.assert_array_equal(np.diff(test.matrix.indptr), expected)
    again = random_holdout(data, 0.25, rng=7)[1]
    assert (again.matrix != test.matrix).nnz == 0
    other = random_holdout(data, 0.25, rng=8)[1]
    assert (other.matrix != test.matrix).nnz > 0
    assert other.n_interactions == test.n_interactions


def test_random_holdout_hits_every_position_about_equally():
    data = _data(n_users=1, n_items=10, density=1.0)
    counts = np.zeros(10)
    for seed in range(2000):
        counts += random_holdout(data, 0.2, rng=seed)[1].matrix.toarray()[0] != 0
    assert counts.sum() == 4000
    np.testing.assert_allclose(counts / 2000, 0.2, atol=0.04)


def test_temporal_split_by_cut_and_by_fraction():
    data = _data(density=0.3)
    order = data.order.data
    cut = float(np.quantile(order, 0.7))
    train, test = temporal_split(data, cut=cut)
    _check_partition(data, train, test)
    assert test.n_interactions == int((order >= cut).sum())
    assert test.order.data.min() >= cut > train.order.data.max()
    train, test = temporal_split(data, fraction=0.3)
    _check_partition(data, train, test)
    assert test.n_interactions == round(0.3 * data.n_interactions)
    assert test.order.data.min() > train.order.data.max()


def test_temporal_split_by_fraction_with_ties_is_exact_and_seeded():
    data = _data(tied_order=True)
    _, test = temporal_split(data, fraction=0.5, rng=3)
    assert test.n_interactions == int(np.floor(0.5 * data.n_interactions + 0.5))
    assert (temporal_split(data, fraction=0.5, rng=3)[1].matrix != test.matrix).nnz == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of cut and fraction"),
        ({"cut": 1.0, "fraction": 0.2}, "exactly one of cut and fraction"),
        ({"fraction": 1.0}, "fraction must be strictly between 0 and 1; got 1.0"),
        ({"cut": "noon"}, "cut must be a number"),
    ],
)
def test_temporal_split_bad_arguments(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        temporal_split(_data(), **kwargs)


def test_temporal_split_without_order_is_an_error():
    with pytest.raises(DataError, match="a temporal split needs the order"):
        temporal_split(_data(with_order=False), fraction=0.2)


def test_split_by_mask_checks_its_length():
    with pytest.raises(DataError, match="one entry per stored interaction"):
        split_by_mask(_data(), np.zeros(3, dtype=bool))
