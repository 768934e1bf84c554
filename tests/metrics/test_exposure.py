"""Target exposure (plain and position-discounted) and amplification against frequency peers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from recollective.errors import DataError, InvalidParameterError
from recollective.metrics import (
    Amplification,
    UndefinedMetricWarning,
    amplification,
    discounted_target_exposure,
    target_exposure,
    target_hits_per_user,
)

LISTS = np.array([[7, 1, 2], [3, 4, 7], [8, 7, -1], [0, 1, 2]])
TARGETS = [7, 8]


def test_target_hits_and_exposure():
    assert_array_equal(target_hits_per_user(LISTS, TARGETS), [1, 1, 2, 0])
    assert target_exposure(LISTS, TARGETS) == pytest.approx(3 / 4)
    assert target_exposure(LISTS, TARGETS, k=1) == pytest.approx(2 / 4)
    assert target_exposure(LISTS, TARGETS, audience=[1, 3]) == pytest.approx(1 / 2)
    assert target_exposure(LISTS, TARGETS, audience=np.array([True, True, False, False])) == 1.0
    mask = np.zeros(10, dtype=bool)
    mask[TARGETS] = True
    assert target_exposure(LISTS, mask) == pytest.approx(3 / 4)


def test_discounted_target_exposure():
    expected = [1.0, 1 / math.log2(4), 1.0 + 1 / math.log2(3), 0.0]
    assert_allclose(discounted_target_exposure(LISTS, TARGETS), expected)
    assert_allclose(discounted_target_exposure(LISTS, TARGETS, k=2), [1.0, 0.0, 1.0 + 1 / math.log2(3), 0.0])


def test_empty_audience_is_nan_with_a_warning():
    with pytest.warns(UndefinedMetricWarning, match="audience is empty"):
        assert math.isnan(target_exposure(LISTS, TARGETS, audience=np.zeros(4, dtype=bool)))


def test_exposure_bad_input_raises():
    with pytest.raises(DataError, match="targets must be item indices >= 0"):
        target_exposure(LISTS, [-1])
    with pytest.raises(DataError, match="audience index 4 is out of range"):
        target_exposure(LISTS, TARGETS, audience=[4])
    with pytest.raises(DataError, match=r"boolean mask must have shape \(4,\)"):
        target_exposure(LISTS, TARGETS, audience=np.ones(3, dtype=bool))
    with pytest.raises(InvalidParameterError, match="k=4 but the lists hold only 3"):
        discounted_target_exposure(LISTS, TARGETS, k=4)


# ------------------------------------------------------------------------------------------------ amplification
def peers_case():
    """Ten users, 12 items. Items 0-5 have 3 training interactions, 6-7 have 4, 8-9 have 7, 10-11 are targets.

    Target 10 has 3 interactions (six exact peers), target 11 has 5 (no exact peer: log2 bin
    floor(log2(6)) = 2 holds the counts 3..6, i.e. items 0-7).
    """
    counts = np.array([3, 3, 3, 3, 3, 3, 4, 4, 7, 7, 3, 5])
    lists = np.full((10, 3), -1)
    lists[:6, 0] = 10  # target 10 in six lists
    lists[:2, 1] = 11  # target 11 in two lists
    lists[:4, 2] = 0  # item 0 in four lists, item 6 in two, item 8 in eight
    lists[4:6, 2] = 6
    lists[6:, 0] = 8
    lists[:6, 1][lists[:6, 1] < 0] = 8
    return lists, counts


def test_amplification_against_exact_and_log_bins():
    lists, counts = peers_case()
    result = amplification(lists, [10, 11], counts)
    assert isinstance(result, Amplification)
    assert_array_equal(result.targets, [10, 11])
    assert_array_equal(result.recommendations, [6, 2])
    assert_array_equal(result.train_counts, [3, 5])
    assert result.bin_kind == ("exact", "log2")
    assert_array_equal(result.bin_size, [6, 8])
    # Exact bin of target 10: items 0-5 recommended 4, 0, 0, 0, 0, 0 times; log2 bin of target 11: items 0-7
    # recommended 4, 0, 0, 0, 0, 0, 2, 0 times.
    assert_allclose(result.expected, [4 / 6, 6 / 8])
    assert_allclose(result.amplification, [6 / (4 / 6), 2 / (6 / 8)])
    summary = result.summary()
    assert summary["overall"] == pytest.approx(8 / (4 / 6 + 6 / 8))
    assert summary["mean"] == pytest.approx((9 + 8 / 3) / 2)
    assert summary["n_targets"] == 2 and summary["recommendations"] == 8 and summary["k"] == 3


def test_amplification_bin_threshold_and_k():
    lists, counts = peers_case()
    # Asking for seven exact peers sends target 10 to its log2 bin as well.
    result = amplification(lists, [10, 11], counts, min_bin_items=7)
    assert result.bin_kind == ("log2", "log2")
    assert_allclose(result.expected, [6 / 8, 6 / 8])
    # At k = 1 target 11 (rank 2) is never recommended, nor are the peers (rank 3): amplification NaN.
    top1 = amplification(lists, [10, 11], counts, k=1)
    assert_array_equal(top1.recommendations, [6, 0])
    assert top1.amplification[0] == math.inf  # exact peers of target 10 never recommended at k = 1
    assert math.isnan(top1.amplification[1])
    assert math.isnan(top1.summary()["mean"])


def test_amplification_with_an_empty_bin_is_nan():
    counts = np.array([1, 1, 1, 1, 1, 1000])
    result = amplification(np.array([[5, 0]]), [5], counts)
    assert result.bin_kind == ("empty",) and result.bin_size[0] == 0
    assert math.isnan(result.expected[0]) and math.isnan(result.amplification[0])
    assert math.isnan(result.overall)


def test_amplification_bad_input_raises():
    lists, counts = peers_case()
    with pytest.raises(DataError, match="targets is empty"):
        amplification(lists, [], counts)
    with pytest.raises(DataError, match="target item 12 is out of range"):
        amplification(lists, [12], counts)
    with pytest.raises(DataError, match="whole numbers"):
        amplification(lists, [10], counts + 0.5)
    with pytest.raises(DataError, match="out of range: the catalogue has 11 items"):
        amplification(lists, [10], counts[:11])
    with pytest.raises(InvalidParameterError, match="min_bin_items must be an integer >= 1"):
        amplification(lists, [10], counts, min_bin_items=0)
