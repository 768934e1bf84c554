"""Amplification of target items: recommendations gained relative to items equally frequent in training.

Baumann & Mendler-Dünner, "Algorithmic collective action in recommender systems: promoting songs by reordering
playlists" (NeurIPS 2024, arXiv:2404.04269) measure a collective's success as the test-time recommendations of the
target song relative to "an average song with the same number of training set occurrences". We implement that
comparison as follows (a reconstruction of the baseline's binning, which the paper's text does not pin down):

* ``recommendations[t]`` = number of lists whose top ``k`` contain target ``t``;
* the comparison bin of ``t`` holds the *non-target* items whose training count equals ``t``'s exactly, when there
  are at least ``min_bin_items`` of them; otherwise the non-target items in the same log2 bin,
  ``floor(log2(1 + count))`` (counts 0 | 1-2 | 3-6 | 7-14 | ...), however many there are;
* ``expected[t]`` = mean recommendations of the items in that bin (NaN when the bin is empty);
* ``amplification[t] = recommendations[t] / expected[t]`` (1 = as recommended as its peers; ``inf`` when the
  peers are never recommended but ``t`` is; NaN when neither is, or when the bin is empty).

Pass the training counts of the data the model was fitted on (after any campaign), so that the targets' planted
occurrences count toward their own frequency, as in the paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recollective.errors import DataError, InvalidParameterError
from recollective.metrics._checks import check_k, check_lists, check_targets
from recollective.metrics._popularity_bias import counts_of

__all__ = ["BIN_KINDS", "Amplification", "amplification"]

BIN_KINDS = ("exact", "log2", "empty")


@dataclass(frozen=True)
class Amplification:
    """Per-target amplification (arrays of shape (n_targets,), in the order of ``targets``).

    Attributes
    ----------
    targets : ndarray of int64
        Target item indices, sorted, unique.
    recommendations : ndarray of int64
        Lists whose top ``k`` contain the target.
    expected : ndarray of float64
        Mean recommendations of the non-target items in the target's frequency bin (NaN for an empty bin).
    amplification : ndarray of float64
        ``recommendations / expected``.
    train_counts : ndarray of int64
        Training count of each target.
    bin_size : ndarray of int64
        Non-target items in the comparison bin.
    bin_kind : tuple of str
        ``"exact"``, ``"log2"`` or ``"empty"`` per target.
    k : int
    n_users : int
    """

    targets: np.ndarray
    recommendations: np.ndarray
    expected: np.ndarray
    amplification: np.ndarray
    train_counts: np.ndarray
    bin_size: np.ndarray
    bin_kind: tuple
    k: int
    n_users: int

    @property
    def overall(self) -> float:
        """All targets together: ``sum(recommendations) / sum(expected)`` over targets with a non-empty bin."""
        defined = ~np.isnan(self.expected)
        expected = float(self.expected[defined].sum())
        gained = float(self.recommendations[defined].sum())
        return _ratio(gained, expected)

    def summary(self) -> dict:
        """JSON-ready scalars: ``n_targets``, ``recommendations``, ``expected``, ``overall``, ``mean``, ``median``,
        ``min``, ``max`` (the last four over the targets with a finite amplification; NaN when none), ``k``."""
        finite = self.amplification[np.isfinite(self.amplification)]
        defined = ~np.isnan(self.expected)

        def stat(function) -> float:
            return float(function(finite)) if finite.size else math.nan

        return {
            "n_targets": int(self.targets.size),
            "recommendations": int(self.recommendations.sum()),
            "expected": float(self.expected[defined].sum()),
            "overall": self.overall,
            "mean": stat(np.mean),
            "median": stat(np.median),
            "min": stat(np.min),
            "max": stat(np.max),
            "k": self.k,
        }


def amplification(item_idx, targets, train_item_counts, k: int | None = None, *, min_bin_items: int = 5):
    """Recommendations of each target relative to non-target items with the same training frequency.

    Parameters
    ----------
    item_idx : ndarray of int of shape (n_users, width)
        Recommendation lists, best first, ``-1`` padding.
    targets : array-like of int, or boolean mask of shape (n_items,)
        Target items (at least one).
    train_item_counts : array-like of int of shape (n_items,)
        Training interactions per item (:func:`item_popularity` of the training data the model was fitted on).
    k : int, optional
        List length evaluated; default the width of the lists.
    min_bin_items : int >= 1, default 5
        Fewest non-target items an exact-frequency bin needs before the log2 bin is used instead.

    Returns
    -------
    Amplification
        Per-target arrays and, through ``summary()``, aggregate values.
    """
    counts = _check_counts(train_item_counts)
    n_items = counts.size
    lists = check_lists(item_idx, n_items)
    k = check_k(k, lists.shape[1])
    lists = lists[:, :k]
    target_idx = check_targets(targets, n_items)
    if target_idx.size == 0:
        raise DataError("targets is empty; name at least one target item")
    if isinstance(min_bin_items, bool) or not isinstance(min_bin_items, int | np.integer) or min_bin_items < 1:
        raise InvalidParameterError(f"min_bin_items must be an integer >= 1; got {min_bin_items!r}")

    recommended = counts_of(lists, n_items)
    peers = np.ones(n_items, dtype=bool)
    peers[target_idx] = False
    peer_counts, peer_recommended = counts[peers], recommended[peers].astype(np.float64)
    peer_log_bins = _log2_bin(peer_counts)

    expected = np.full(target_idx.size, np.nan)
    bin_size = np.zeros(target_idx.size, dtype=np.int64)
    kinds = []
    for position, count in enumerate(counts[target_idx]):
        members = peer_counts == count
        kind = "exact"
        if members.sum() < min_bin_items:
            members = peer_log_bins == _log2_bin(count)
            kind = "log2" if members.any() else "empty"
        bin_size[position] = int(members.sum())
        if members.any():
            expected[position] = float(peer_recommended[members].mean())
        kinds.append(kind)

    gained = recommended[target_idx]
    ratio = np.array([_ratio(float(g), float(e)) for g, e in zip(gained, expected, strict=True)])
    return Amplification(
        targets=target_idx,
        recommendations=gained.astype(np.int64),
        expected=expected,
        amplification=ratio,
        train_counts=counts[target_idx],
        bin_size=bin_size,
        bin_kind=tuple(kinds),
        k=k,
        n_users=int(lists.shape[0]),
    )


def _log2_bin(counts):
    return np.floor(np.log2(1.0 + np.asarray(counts, dtype=np.float64))).astype(np.int64)


def _ratio(gained: float, expected: float) -> float:
    if math.isnan(expected):
        return math.nan
    if expected > 0:
        return gained / expected
    return math.inf if gained > 0 else math.nan


def _check_counts(values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise DataError(f"train_item_counts must be a non-empty 1-D array, one count per item; got {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)) or (array < 0).any():
        raise DataError("train_item_counts must be finite, non-negative counts")
    if np.issubdtype(array.dtype, np.floating) and not np.all(array == np.round(array)):
        raise DataError("train_item_counts must be whole numbers (interactions per item)")
    return array.astype(np.int64)
