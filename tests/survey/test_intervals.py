"""Wilson and Clopper–Pearson intervals: the issue's pinned numbers, scipy agreement, exact coverage."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binom, binomtest

from recollective.errors import InvalidParameterError
from recollective.survey import clopper_pearson_interval, wilson_interval


def test_wilson_for_32_of_100_prints_the_issue_numbers():
    low, high = wilson_interval(32, 100)
    assert f"[{low:.4f}, {high:.4f}]" == "[0.2367, 0.4166]"


def test_clopper_pearson_for_32_of_100_matches_scipy_exact():
    expected = binomtest(32, 100).proportion_ci(confidence_level=0.95, method="exact")
    low, high = clopper_pearson_interval(32, 100)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)
    assert f"[{low:.4f}, {high:.4f}]" == "[0.2302, 0.4208]"


@pytest.mark.parametrize("n", [1, 2, 7, 30, 100, 257])
@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_both_intervals_match_scipy_for_every_count(n, confidence):
    for count in range(n + 1):
        result = binomtest(count, n)
        exact = result.proportion_ci(confidence_level=confidence, method="exact")
        wilson = result.proportion_ci(confidence_level=confidence, method="wilson")
        assert clopper_pearson_interval(count, n, confidence) == pytest.approx((exact.low, exact.high), abs=1e-10)
        assert wilson_interval(count, n, confidence) == pytest.approx((wilson.low, wilson.high), abs=1e-12)


def test_edge_counts_reach_zero_and_one():
    assert clopper_pearson_interval(0, 50)[0] == 0.0
    assert clopper_pearson_interval(50, 50)[1] == 1.0
    assert wilson_interval(0, 50)[0] == 0.0
    assert wilson_interval(50, 50)[1] == 1.0
    # closed form for 0 of n: the upper bound solves (1 - p)^n = 0.025
    assert clopper_pearson_interval(0, 3000)[1] == pytest.approx(1 - 0.025 ** (1 / 3000), rel=1e-12)
    assert clopper_pearson_interval(3000, 3000)[0] == pytest.approx(0.025 ** (1 / 3000), rel=1e-12)


def _coverage(interval, p: float, n: int) -> float:
    """Exact coverage probability: the binomial mass of the counts whose interval contains p."""
    counts = np.arange(n + 1)
    covered = [interval(int(x), n)[0] <= p <= interval(int(x), n)[1] for x in counts]
    return float(binom.pmf(counts, n, p)[covered].sum())


@pytest.mark.parametrize("p", [0.05, 0.2, 0.32, 0.5, 0.8])
def test_exact_coverage_at_n_100(p):
    # Clopper–Pearson guarantees at least the nominal coverage; Wilson is close to it on average.
    assert _coverage(clopper_pearson_interval, p, 100) >= 0.95
    assert 0.92 <= _coverage(wilson_interval, p, 100) <= 0.98


@given(
    n=st.floats(min_value=0.5, max_value=1e4, allow_nan=False, allow_infinity=False),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    confidence=st.floats(min_value=0.5, max_value=0.999),
)
def test_intervals_contain_the_estimate_and_widen_with_confidence(n, fraction, confidence):
    # non-integer counts and sizes: the weighted (Kish effective size) case
    count = fraction * n
    for interval in (wilson_interval, clopper_pearson_interval):
        low, high = interval(count, n, confidence)
        assert 0.0 <= low <= high <= 1.0
        if interval is clopper_pearson_interval or 0 < count < n:
            assert low <= fraction + 1e-9 and fraction - 1e-9 <= high
        wider_low, wider_high = interval(count, n, min(0.9999, confidence + 0.0005))
        assert wider_low <= low + 1e-12 and high <= wider_high + 1e-12


@pytest.mark.parametrize(
    ("count", "n", "confidence", "needle"),
    [
        (1, 0, 0.95, "n must be"),
        (5, 4, 0.95, "count must be in [0, n]"),
        (-1, 4, 0.95, "count must be"),
        (1, math.nan, 0.95, "n must be"),
        (1, 4, 1.0, "confidence must be in (0, 1)"),
        (1, 4, 0.0, "confidence must be in (0, 1)"),
        ("a", 4, 0.95, "must be numbers"),
    ],
)
def test_bad_arguments_raise(count, n, confidence, needle):
    for interval in (wilson_interval, clopper_pearson_interval):
        with pytest.raises(InvalidParameterError, match=None) as info:
            interval(count, n, confidence)
        assert needle in str(info.value)
