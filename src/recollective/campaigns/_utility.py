"""Per-user utilities shared by the campaign evaluations: who the test users are, held-out NDCG@k, true DCG@k."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from recollective.data import Interactions
from recollective.metrics import ranking_metrics_per_user

__all__ = ["test_users"]


def test_users(test: Interactions, relevance_threshold: float | None = None) -> np.ndarray:
    """Users with at least one relevant held-out interaction (sorted indices)."""
    relevant = _relevant(test.matrix, relevance_threshold)
    return np.flatnonzero(np.diff(relevant.indptr) > 0)


def _true_dcg(world, users, lists) -> np.ndarray:
    """``sum_j R*[u, lists[u, j]] / log2(j + 2)`` per user (padding ``-1`` counts 0), in chunks of users."""
    out = np.empty(users.size)
    discount = 1.0 / np.log2(np.arange(2, lists.shape[1] + 2))
    step = max(1, (1 << 22) // max(1, world.n_items))
    for start in range(0, users.size, step):
        rows = world.preference_rows(users[start : start + step])
        block = lists[start : start + step]
        gains = np.where(block >= 0, np.take_along_axis(rows, np.maximum(block, 0), axis=1), 0.0)
        out[start : start + step] = gains @ discount
    return out


def _ndcg(lists, truth, threshold) -> np.ndarray:
    return ranking_metrics_per_user(lists, truth, lists.shape[1], relevance_threshold=threshold)["ndcg"]


def _mean(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else math.nan


def _relevant(matrix, threshold) -> sp.csr_array:
    matrix = sp.csr_array(matrix)
    if threshold is None:
        return matrix
    kept = matrix.copy()
    kept.data = np.where(kept.data >= threshold, kept.data, 0.0)
    kept.eliminate_zeros()
    return kept
