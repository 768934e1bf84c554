"""Interactions and Vocabulary: immutability, the Delta of with_added / without, duplicate policies, id maps."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from recollective.data import Delta, Interactions, Vocabulary
from recollective.data._csr import csr_structure
from recollective.data._vocabulary import encode_ids
from recollective.errors import DataError


def _small() -> Interactions:
    """u1: a=5 (t=1), c=3 (t=3); u2: a=4 (t=2)."""
    return Interactions.from_arrays(
        ["u1", "u2", "u1"],
        ["a", "a", "c"],
        [5, 4, 3],
        order=[1, 2, 3],
        item_metadata={"title": np.array(["A", "C"], dtype=object)},
    )


def test_from_arrays_builds_sorted_vocabularies_and_aligned_order():
    data = _small()
    assert data.users.ids.tolist() == ["u1", "u2"]
    assert data.items.ids.tolist() == ["a", "c"]
    np.testing.assert_array_equal(data.matrix.toarray(), [[5, 3], [4, 0]])
    np.testing.assert_array_equal(data.order.toarray(), [[1, 3], [2, 0]])
    assert (data.n_users, data.n_items, data.n_interactions) == (2, 2, 3)
    assert data.density == pytest.approx(0.75)
    rows, cols, values, order = data.to_coo()
    assert rows.tolist() == [0, 0, 1] and cols.tolist() == [0, 1, 0]
    assert values.tolist() == [5, 3, 4] and order.tolist() == [1, 3, 2]


def test_arrays_and_metadata_are_read_only():
    data = _small()
    for array in (data.matrix.data, data.matrix.indices, data.matrix.indptr, data.order.data, data.users.ids):
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array[0] = array[0]
    assert not data.item_metadata["title"].flags.writeable
    with pytest.raises(TypeError):
        data.item_metadata["title"] = np.array(["x", "y"], dtype=object)
    with pytest.raises(AttributeError):
        data.matrix = sp.csr_array((2, 2))


def test_a_writeable_matrix_is_copied_not_frozen_in_place():
    matrix = sp.csr_array(np.array([[1.0, 0.0], [0.0, 2.0]]))
    data = Interactions(matrix, Vocabulary([0, 1], "user"), Vocabulary([0, 1], "item"))
    assert matrix.data.flags.writeable  # the caller's matrix is untouched
    assert not data.matrix.data.flags.writeable
    matrix.data[0] = 9.0
    assert data.matrix[0, 0] == 1.0


def test_frozen_metadata_is_shared_between_derived_objects():
    data = _small()
    derived = Interactions(data.matrix, data.users, data.items, data.order, data.item_metadata)
    assert derived.item_metadata is data.item_metadata


def test_constructor_checks_shapes_and_order_pattern():
    matrix = sp.csr_array(np.eye(2))
    with pytest.raises(DataError, match=r"does not match 3 users x 2 items"):
        Interactions(matrix, Vocabulary([0, 1, 2]), Vocabulary([0, 1]))
    other = sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(DataError, match="sparsity pattern"):
        Interactions(matrix, Vocabulary([0, 1]), Vocabulary([0, 1]), order=other)
    with pytest.raises(DataError, match="'title' has 1 rows for 2 items"):
        Interactions(matrix, Vocabulary([0, 1]), Vocabulary([0, 1]), item_metadata={"title": ["x"]})


def test_with_added_returns_a_new_object_and_the_exact_delta():
    data = _small()
    # (u1, a) changes 5 -> 2; (u3, b) is new with a new user and item; (u2, a) is re-added as it was
    new, delta = data.with_added(["u1", "u3", "u2"], ["a", "b", "a"], [2, 1, 4], order=[9, 8, 2])
    assert new is not data
    np.testing.assert_array_equal(data.matrix.toarray(), [[5, 3], [4, 0]])  # the old one is unchanged
    assert new.users.ids.tolist() == ["u1", "u2", "u3"]
    assert new.items.ids.tolist() == ["a", "c", "b"]  # new ids are appended
    np.testing.assert_array_equal(new.matrix.toarray(), [[2, 3, 0], [4, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(new.order.toarray(), [[9, 3, 0], [2, 0, 0], [0, 0, 8]])
    assert delta.added_users.tolist() == [0, 2] and delta.added_items.tolist() == [0, 2]
    assert delta.added_values.tolist() == [2, 1]
    assert (delta.n_new_users, delta.n_new_items) == (1, 1)
    assert delta.removed_users.size == 0
    assert delta.changed_users.tolist() == [0, 2] and delta.changed_items.tolist() == [0, 2]
    assert new.item_metadata["title"].tolist() == ["A", "C", None]


def test_with_added_keeps_the_last_value_of_a_pair_repeated_in_the_batch():
    data = _small()
    new, delta = data.with_added(["u2", "u2"], ["c", "c"], [1, 2], order=[5, 6])
    assert new.matrix[1, 1] == 2 and new.order[1, 1] == 6
    assert delta.added_users.tolist() == [1] and delta.added_values.tolist() == [2]


def test_with_added_validates_its_input():
    data = _small()
    with pytest.raises(DataError, match="same length"):
        data.with_added(["u1"], ["a", "c"])
    with pytest.raises(DataError, match="NaN or infinite"):
        data.with_added(["u1"], ["a"], [np.nan])
    plain = Interactions.from_arrays([1], [1])
    with pytest.raises(DataError, match="no order"):
        plain.with_added([1], [2], order=[3])


def test_without_removes_pairs_and_reports_them():
    data = _small()
    new, delta = data.without([0, 1, 1], [1, 1, 0])  # (u2, c) is absent and ignored
    np.testing.assert_array_equal(new.matrix.toarray(), [[5, 0], [0, 0]])
    np.testing.assert_array_equal(new.order.toarray(), [[1, 0], [0, 0]])
    assert new.users == data.users and new.items == data.items
    assert delta.removed_users.tolist() == [0, 1] and delta.removed_items.tolist() == [1, 0]
    assert delta.added_users.size == 0 and delta.n_new_users == 0
    assert isinstance(delta, Delta)
    np.testing.assert_array_equal(data.matrix.toarray(), [[5, 3], [4, 0]])


@pytest.mark.parametrize(
    ("policy", "expected", "expected_order"),
    [("last", 2.0, 5.0), ("max", 7.0, 3.0)],
)
def test_duplicate_policies(policy, expected, expected_order):
    # (1, 1) three times: values 1 (t=1), 7 (t=3), 2 (t=5, latest)
    data = Interactions.from_arrays([1, 1, 2, 1], [1, 1, 1, 1], [1, 7, 4, 2], order=[1, 3, 9, 5], duplicates=policy)
    assert data.n_interactions == 2
    assert data.matrix[0, 0] == expected and data.order[0, 0] == expected_order


def test_last_follows_order_not_position_when_order_is_given():
    data = Interactions.from_arrays([1, 1], [1, 1], [3, 4], order=[10, 2], duplicates="last")
    assert data.matrix[0, 0] == 3


def test_duplicate_error_names_the_row_and_the_way_out():
    with pytest.raises(DataError, match=r"duplicate \(user, item\) pair at input row 3 .*last or max"):
        Interactions.from_arrays([1, 2, 1], [1, 1, 1])
    with pytest.raises(DataError, match="duplicates must be one of error, last, max"):
        Interactions.from_arrays([1], [1], duplicates="first")


def test_from_arrays_rejects_nan_and_mismatched_lengths():
    with pytest.raises(DataError, match="1 value"):
        Interactions.from_arrays([1, 2], [1, 1], [1.0, np.nan])
    with pytest.raises(DataError, match="2 user ids but 1 item ids"):
        Interactions.from_arrays([1, 2], [1])


def test_item_vocabulary_ids_fix_the_catalogue():
    data = Interactions.from_arrays([1, 2], [30, 10], item_vocabulary_ids=[10, 20, 30])
    assert data.n_items == 3
    np.testing.assert_array_equal(data.matrix.toarray(), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(DataError, match="unknown item id 40"):
        Interactions.from_arrays([1], [40], item_vocabulary_ids=[10, 20, 30])


def test_vocabulary_maps_ids_both_ways():
    vocabulary = Vocabulary(["b", "a", "c"], "user")
    assert vocabulary.number("a") == 1 and "c" in vocabulary and "z" not in vocabulary
    assert vocabulary.numbers(["c", "b"]).tolist() == [2, 0]
    assert vocabulary.numbers(["c", "z"], missing="negative").tolist() == [2, -1]
    with pytest.raises(DataError, match=r"unknown user id 'z' \(1 unknown in all\)"):
        vocabulary.numbers(["z", "a"])
    with pytest.raises(DataError, match="unknown user id 'z'"):
        vocabulary.number("z")
    with pytest.raises(DataError, match="must be distinct; 1 duplicate"):
        Vocabulary([1, 1, 2])
    extended = vocabulary.extended(["d", "a", "d"])
    assert extended.ids.tolist() == ["b", "a", "c", "d"] and vocabulary.ids.tolist() == ["b", "a", "c"]
    assert vocabulary.extended(["a"]) is vocabulary
    assert Vocabulary([1, 2]) == Vocabulary(np.array([1, 2])) and Vocabulary([1, 2]) != Vocabulary([2, 1])
    with pytest.raises(DataError, match="not integers"):
        Vocabulary([1, 2], "item").extended(["x"])


@given(st.lists(st.integers(0, 60), max_size=40), st.booleans())
def test_encode_ids_equals_numpy_unique(values, large):
    array = np.array(values, dtype=np.int64) + (10**12 if large else 0)  # large ids skip the lookup table
    ids, idx = encode_ids(array)
    expected_ids, expected_idx = np.unique(array, return_inverse=True)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(idx, expected_idx)


@given(st.lists(st.text(alphabet="abc", max_size=3), max_size=30))
def test_encode_string_ids_equals_numpy_unique(values):
    ids, idx = encode_ids(np.array(values, dtype=object))
    expected_ids, expected_idx = np.unique(np.array(values, dtype=object), return_inverse=True)
    assert ids.tolist() == expected_ids.tolist()
    np.testing.assert_array_equal(idx, expected_idx.reshape(-1))


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6)), min_size=1, max_size=40),
    st.sampled_from(["as given", "sorted by row", "sorted"]),
)
def test_csr_structure_finds_every_repeat_and_the_permutation(pairs, arrangement):
    if arrangement != "as given":
        pairs = sorted(pairs, key=(lambda p: p[0]) if arrangement == "sorted by row" else None)
    rows = np.array([p[0] for p in pairs], dtype=np.int32)
    cols = np.array([p[1] for p in pairs], dtype=np.int32)
    structure = csr_structure(rows, cols, (6, 7))
    if len(set(pairs)) < len(pairs):
        assert structure is None
        return
    indptr, indices, perm = structure
    perm = np.arange(len(pairs)) if perm is None else perm
    rebuilt = sp.csr_array((perm + 1.0, indices, indptr), shape=(6, 7)).toarray()
    expected = np.zeros((6, 7))
    expected[rows, cols] = np.arange(len(pairs)) + 1.0
    np.testing.assert_array_equal(rebuilt, expected)
    assert np.all(np.diff(indptr) >= 0) and indptr[-1] == len(pairs)
