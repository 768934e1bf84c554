"""Per-user utilities shared by the campaign evaluations: who the test users are, held-out NDCG@k, true DCG@k."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from recollective.data import Interactions
from recollective.metrics import ranking_metrics_per_user

__all__ = ["recommend_lists", "test_users"]


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


_LISTS: dict = {}
"""id(model) -> (weak reference to the model, fit token, k, users, lists): the last lists computed per model."""


def recommend_lists(model, users: np.ndarray, k: int) -> np.ndarray:
    """``model.recommend(users, k)[0]`` (seen items excluded), reusing the lists this process last computed for the
    same fitted ``model`` and ``k``: only the users not among them are scored. ``users`` sorted and unique.

    The noise floor scores the baseline on the sample and the campaign evaluation on the sample plus the audience
    and the participants; this way the sample is scored once. A user's list does not depend on which users share
    its block (the models' scoring contract), so the result equals one ``recommend`` call over ``users``. The
    cache entry is tied to the model object and to its fit (training matrix and fitted hyper-parameters); models
    seeded by ``None`` or a ``Generator`` are not cached.
    """
    import weakref

    users = np.asarray(users, dtype=np.int64)
    token = _fit_token(model)
    entry = _LISTS.get(id(model))
    if token is None or entry is None or entry[0]() is not model or entry[1] != token or entry[2] != k:
        lists, _ = model.recommend(users, k)
    else:
        known, known_lists = entry[3], entry[4]
        position = np.minimum(np.searchsorted(known, users), max(known.size - 1, 0))
        found = known[position] == users if known.size else np.zeros(users.size, bool)
        lists = np.empty((users.size, known_lists.shape[1]), dtype=known_lists.dtype)
        lists[found] = known_lists[position[found]]
        if not found.all():
            lists[~found] = model.recommend(users[~found], k)[0]
    if token is not None:
        _LISTS.pop(id(model), None)
        _LISTS[id(model)] = (weakref.ref(model), token, k, users, lists)
        for key in [key for key, value in _LISTS.items() if value[0]() is None]:
            del _LISTS[key]
    return lists


def _fit_token(model):
    """What identifies ``model``'s current fit: its training matrix object and fitted hyper-parameters (None when
    the fit is not reproducible from them)."""
    params = getattr(model, "params_", None)
    if params is None:
        return None
    seed = params.get("rng", 0)
    if seed is None or isinstance(seed, np.random.Generator):
        return None
    return (id(model.seen_), repr(sorted(params.items())))
