"""Aggregation: NaN users skipped, weights, groups, and one warning when nothing is defined."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from recollective.errors import DataError
from recollective.metrics import UndefinedMetricWarning, group_means, mean_over_users


def test_mean_skips_nan_users_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mean_over_users([0.5, math.nan, 1.0, 0.0]) == pytest.approx(0.5)
        assert mean_over_users([0.5, math.nan, 1.0], weights=[1.0, 100.0, 3.0]) == pytest.approx(3.5 / 4)


def test_all_nan_gives_nan_and_one_warning():
    with pytest.warns(UndefinedMetricWarning, match="no user has a defined value among 3") as record:
        assert math.isnan(mean_over_users([math.nan] * 3))
    assert len(record) == 1
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(mean_over_users(np.array([])))
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(mean_over_users([1.0, 2.0], weights=[0.0, 0.0]))
    assert issubclass(UndefinedMetricWarning, UserWarning)


def test_group_means_from_labels_and_from_a_mapping():
    values = np.array([1.0, 0.0, math.nan, 0.5, 0.25])
    labels = np.array(["minority", "majority", "minority", "majority", "majority"])
    assert group_means(values, labels) == pytest.approx({"majority": 0.25, "minority": 1.0})
    assert list(group_means(values, labels)) == ["majority", "minority"]
    assert group_means(values, np.array([2, 1, 2, 1, 1])) == pytest.approx({1: 0.25, 2: 1.0})
    overlapping = {"all": np.ones(5, dtype=bool), "audience": np.array([0, 3])}
    assert group_means(values, overlapping) == pytest.approx({"all": 1.75 / 4, "audience": 0.75})


def test_group_without_defined_users_is_nan_with_one_warning():
    values = np.array([1.0, math.nan, math.nan])
    with pytest.warns(UndefinedMetricWarning, match="group.*b, c") as record:
        result = group_means(values, {"a": [0], "b": [1, 2], "c": np.zeros(3, dtype=bool)})
    assert len(record) == 1
    assert result["a"] == 1.0 and math.isnan(result["b"]) and math.isnan(result["c"])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mean_over_users(np.ones((2, 2))), "1-D"),
        (lambda: mean_over_users([1.0, math.inf]), "inf"),
        (lambda: mean_over_users([1.0, 2.0], weights=[1.0]), r"weights must have one entry per user, shape \(2,\)"),
        (lambda: mean_over_users([1.0, 2.0], weights=[1.0, -1.0]), "non-negative"),
        (lambda: group_means([1.0, 2.0], ["a"]), r"one label per user, shape \(2,\)"),
        (lambda: group_means([1.0, 2.0], {"g": np.ones(3, dtype=bool)}), r"group 'g'.*shape \(2,\)"),
        (lambda: group_means([1.0, 2.0], {"g": [5]}), "out of range"),
        (lambda: group_means([1.0, 2.0], np.array([0.0, math.nan])), "NaN labels"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(DataError, match=match):
        call()
