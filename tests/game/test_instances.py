"""Majority–minority instances, the singular-value-gap condition, and instance files."""

import math
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from recollective.errors import DataError, InvalidParameterError, RecollectiveError
from recollective.game import GameInstance, load_instance, majority_minority, outcome, save_instance, singular_value_gap
from strategies import (
    MISSION_ALPHA,
    MISSION_C,
    MISSION_D,
    MISSION_ITEM_GROUP,
    MISSION_R_TRUE,
    MISSION_USER_GROUP,
    majority_minority_instances,
)

# ------------------------------------------------------------------------------------------- gap condition


def test_gap_check_on_the_hand_built_instance():
    gap = singular_value_gap(MISSION_R_TRUE, MISSION_USER_GROUP, MISSION_ITEM_GROUP, MISSION_ALPHA)
    s_maj = np.linalg.svd(MISSION_R_TRUE[:4, :3], compute_uv=False)
    assert gap.holds
    assert gap.majority_rank == 2  # the numerical rank of the rank-2 block
    assert gap.s_majority == pytest.approx(s_maj[1], rel=1e-14)
    assert gap.s_minority == pytest.approx(np.linalg.norm(MISSION_C) * np.linalg.norm(MISSION_D), rel=1e-14)
    assert gap.alpha == MISSION_ALPHA
    assert gap.as_dict()["holds"] is True
    # alpha on either side of the gap breaks the condition; alpha == s_1(R_min) satisfies it (">=").
    assert not singular_value_gap(MISSION_R_TRUE, MISSION_USER_GROUP, MISSION_ITEM_GROUP, 0.99 * gap.s_minority).holds
    assert singular_value_gap(MISSION_R_TRUE, MISSION_USER_GROUP, MISSION_ITEM_GROUP, gap.s_minority).holds
    assert not singular_value_gap(MISSION_R_TRUE, MISSION_USER_GROUP, MISSION_ITEM_GROUP, s_maj[1]).holds
    # k_maj = 3 asks for s_3(R_maj) = 0 > alpha, which fails.
    forced = singular_value_gap(MISSION_R_TRUE, MISSION_USER_GROUP, MISSION_ITEM_GROUP, MISSION_ALPHA, 3)
    assert not forced.holds
    assert forced.s_majority == pytest.approx(0.0, abs=1e-13)


def test_gap_check_rejects_mislabelled_groups():
    with pytest.raises(InvalidParameterError, match="one label per user / item"):
        singular_value_gap(MISSION_R_TRUE, [0, 1], MISSION_ITEM_GROUP, 1.0)


@given(majority_minority_instances())
def test_truthful_play_under_the_gap_condition_suppresses_the_minority(instance):
    k_maj = singular_value_gap(instance.R_true, instance.user_group, instance.item_group, instance.alpha)
    minority_users = instance.minority_users
    assert k_maj.holds
    result = outcome(instance.R_true, alpha=instance.alpha)
    assert result.rank == k_maj.majority_rank  # every majority direction kept, every minority one dropped
    assert_array_equal(result.utilities[minority_users], np.zeros(minority_users.size))
    scale = max(1.0, float(result.singular_values[0]))
    assert_allclose(result.R_hat[minority_users], 0.0, atol=1e-12 * scale)  # minority rows of R^ vanish
    assert np.isin(result.top_items[minority_users], instance.majority_items).all()
    # Cross-group preferences are exactly zero and within-group ones are not all zero.
    assert not instance.R_true[np.ix_(instance.majority_users, instance.minority_items)].any()
    assert not instance.R_true[np.ix_(minority_users, instance.majority_items)].any()
    assert instance.R_true[np.ix_(minority_users, instance.minority_items)].sum() > 0


@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 3),
    st.floats(0.01, 0.9),
)
def test_generated_alpha_sits_at_the_requested_position_of_the_gap(seed, majority_rank, position):
    instance = majority_minority(
        12, 4, 8, 4, majority_rank=majority_rank, minority_scale=0.02, alpha_position=position, rng=seed
    )
    R = instance.R_true
    s_maj = np.linalg.svd(R[:12, :8], compute_uv=False)
    s_min = np.linalg.svd(R[12:, 8:], compute_uv=False)
    assert_allclose(s_maj[majority_rank:], 0.0, atol=1e-12 * s_maj[0])  # planted ranks
    assert_allclose(s_min[1:], 0.0, atol=1e-12 * s_min[0])
    expected = s_min[0] + position * (s_maj[majority_rank - 1] - s_min[0])
    assert instance.alpha == pytest.approx(expected, rel=1e-12)
    assert R[:12, :8].mean() == pytest.approx(1.0, rel=1e-12)  # majority_scale
    assert R[12:, 8:].mean() == pytest.approx(0.02, rel=1e-12)  # minority_scale
    assert_array_equal(instance.user_group, [0] * 12 + [1] * 4)
    assert_array_equal(instance.item_group, [0] * 8 + [1] * 4)


def test_generator_is_reproducible_from_its_seed():
    first = majority_minority(rng=3)
    again = majority_minority(rng=3)
    other = majority_minority(rng=4)
    assert_array_equal(first.R_true, again.R_true)
    assert first.alpha == again.alpha
    assert not np.array_equal(first.R_true, other.R_true)
    assert first.shape == (75, 50)


def test_noise_stays_inside_the_blocks():
    instance = majority_minority(10, 4, 6, 3, noise=0.3, rng=1, alpha=0.1)
    R = instance.R_true
    assert (R >= 0).all()
    assert not R[:10, 6:].any() and not R[10:, :6].any()
    assert np.linalg.matrix_rank(R[:10, :6]) == 6  # noise fills the majority block's rank
    assert instance.alpha == 0.1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_majority_users": 0}, "n_majority_users must be an integer >= 1; got 0"),
        ({"n_minority_items": 2.5}, "n_minority_items must be an integer >= 1"),
        ({"majority_rank": 9, "n_majority_items": 5}, "majority_rank=9 exceeds the majority block's size"),
        ({"minority_rank": 3, "n_minority_users": 2}, "minority_rank=3 exceeds the minority block's size"),
        ({"minority_scale": -1.0}, "minority_scale must be a finite number > 0"),
        ({"noise": float("nan")}, "noise must be a finite number >= 0"),
        ({"alpha_position": 1.0}, "alpha_position must lie in (0, 1)"),
        ({"alpha_position": 0.0}, "alpha_position must lie in (0, 1)"),
        ({"alpha": -0.5}, "alpha must be a finite number >= 0"),
        ({"rng": -3}, "rng must be a numpy Generator"),
        ({"minority_scale": 5.0, "n_minority_users": 20, "n_minority_items": 20}, "no singular-value gap"),
    ],
)
def test_generator_rejects_bad_parameters(kwargs, message):
    with pytest.raises(InvalidParameterError) as info:
        majority_minority(**kwargs)
    assert message in str(info.value)


# ------------------------------------------------------------------------------------------------------ files


def test_save_load_roundtrip(tmp_path):
    instance = majority_minority(6, 3, 4, 3, rng=11)
    path = save_instance(instance, tmp_path / "nested" / "game.npz")
    assert path == tmp_path / "nested" / "game.npz"
    assert sorted(p.name for p in path.parent.iterdir()) == ["game.npz"]  # no temporary file left behind
    loaded = load_instance(path)
    assert_array_equal(loaded.R_true, instance.R_true)
    assert loaded.alpha == instance.alpha
    assert loaded.R_reported is None
    assert_array_equal(loaded.user_group, instance.user_group)
    assert_array_equal(loaded.item_group, instance.item_group)
    assert_array_equal(loaded.minority_users, instance.minority_users)
    assert (
        outcome(loaded.R_true, alpha=loaded.alpha).social_welfare
        == outcome(instance.R_true, alpha=instance.alpha).social_welfare
    )
    assert load_instance(path, alpha=0.25).alpha == 0.25  # an explicit alpha overrides the file's


def test_roundtrip_with_reports_and_without_groups(tmp_path):
    R = np.array([[1.0, 0.5], [0.0, 2.0]])
    reported = np.array([[1.0, 3.0], [0.0, 2.0]])
    path = save_instance(GameInstance(R, 0.75, reported), tmp_path / "plain.npz")
    loaded = load_instance(path)
    assert_array_equal(loaded.R_reported, reported)
    assert loaded.user_group is None and loaded.item_group is None
    assert loaded.minority_users.size == 0 and loaded.majority_items.size == 0
    with zipfile.ZipFile(path) as archive:  # plain arrays only, nothing pickled
        assert sorted(archive.namelist()) == ["R_reported.npy", "R_true.npy", "alpha.npy"]


def test_save_requires_the_npz_suffix(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"instance files end in \.npz; got '.*game\.txt'"):
        save_instance(GameInstance(np.ones((1, 1)), 0.5), tmp_path / "game.txt")


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def write_text(path):
    path.write_text("R_true = [[1, 2]]\nalpha = 1\n")
    return path


def write_npy(path):
    np.save(path, np.ones((2, 2)))  # one bare array, not an archive
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.npz", "no such file"),
        (lambda d: write_text(d / "text.npz"), "not a readable .npz file"),
        (lambda d: write_npz(d / "empty.npz"), "no 'R_true' array (found: nothing)"),
        (
            lambda d: write_npz(d / "other.npz", R=np.ones((2, 2)), alpha=1.0),
            "no 'R_true' array (found: ['R', 'alpha'])",
        ),
        (lambda d: write_npz(d / "noalpha.npz", R_true=np.ones((2, 2))), "no scalar 'alpha'"),
        (lambda d: write_npz(d / "vector.npz", R_true=np.ones((2, 2)), alpha=[1.0, 2.0]), "'alpha' must be a scalar"),
        (lambda d: write_npz(d / "neg.npz", R_true=-np.ones((2, 2)), alpha=1.0), "R_true contains 4 negative value"),
        (lambda d: write_npz(d / "nan.npz", R_true=np.full((2, 2), np.nan), alpha=1.0), "NaN or infinite"),
        (lambda d: write_npz(d / "badalpha.npz", R_true=np.ones((2, 2)), alpha=-1.0), "alpha must be a finite number"),
        (
            lambda d: write_npz(d / "shape.npz", R_true=np.ones((2, 2)), R_reported=np.ones((2, 3)), alpha=1.0),
            "R_reported has shape (2, 3) but R_true has shape (2, 2)",
        ),
        (
            lambda d: write_npz(d / "groups.npz", R_true=np.ones((2, 2)), alpha=1.0, user_group=[0, 2]),
            "user_group must hold 2 labels in {0, 1}",
        ),
        (lambda d: write_npy(d / "single.npy"), "not a readable .npz file (it holds a single .npy array"),
    ],
)
def test_load_rejects_bad_files_with_data_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(DataError) as info:
        load_instance(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)  # the message names the file
    assert isinstance(info.value, RecollectiveError)


def test_load_supplies_a_missing_alpha(tmp_path):
    path = write_npz(tmp_path / "noalpha.npz", R_true=np.eye(2))
    assert load_instance(path, alpha=0.5).alpha == 0.5
    assert math.isfinite(load_instance(path, alpha=0.0).alpha)
