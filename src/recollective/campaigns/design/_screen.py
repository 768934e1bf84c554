"""Screening the pool: who would lose from the campaign's own action, before the search picks anyone.

A participant's held-out accuracy changes for two reasons: the model moves (every participant's action, a
second-order effect for any one of them), and their own row changes, so their own scores change at once (the targets
become seen, and the items that go with the targets rise in their list). For models that score a row linearly from
fitted item parameters the second part is closed-form with the model held fixed:

- popularity: scores do not depend on the row; only the targets become seen;
- EASE: ``s(x') = x' - (x' P) / diag(P)`` (``P`` the regularised Gram inverse);
- item-kNN: ``s(x') = x' S`` (``S`` the pruned similarity matrix);
- PureSVD: ``s(x') = s(x) + (x' - x) V_k V_k^T`` (fold-in on the retained item subspace).

:func:`screen_pool` keeps the pool members whose held-out NDCG@k with their own action applied (model fixed) does
not fall by more than the noise floor. Deterministic models have a floor of 0, so any predicted loss drops a member;
members without held-out interactions cannot be scored and stay. The cold fit of the finished plan still decides
who is worse off (``verify_plan``); the screen only keeps the search from picking readers it can already tell lose.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from recollective.campaigns._evaluate import _ndcg, test_users
from recollective.campaigns.design._gains import _overwrite
from recollective.data import Interactions
from recollective.metrics import UndefinedMetricWarning
from recollective.models._ranking import exclude_seen, top_k

__all__ = ["SCREENED_MODELS", "own_scores", "screen_pool"]

SCREENED_MODELS = ("popularity", "ease", "itemknn", "puresvd")
"""Models whose scores of a changed row are closed-form with the model held fixed."""

_CHUNK = 256
"""Pool members scored at a time (bounds the dense (chunk, n_items) block)."""


def own_scores(model, users, rows) -> np.ndarray:
    """Scores of ``users`` if their training rows were ``rows``, with the fitted model held fixed.

    Parameters
    ----------
    model : Recommender
        Fitted; ``model.name`` in :data:`SCREENED_MODELS`.
    users : ndarray of int, shape (n,)
    rows : csr_array of shape (n, n_items)
        The users' whole new rows (values as in the training data).

    Returns
    -------
    ndarray of shape (n, n_items), float64
    """
    users = np.asarray(users, dtype=np.int64)
    rows = sp.csr_array(rows)
    if model.name == "popularity":
        return model.score(users)
    if model.name == "ease":
        x = model._values(rows, model.params_)
        p = model.inverse_gram_
        scores = np.asarray(x.astype(p.dtype) @ p, dtype=np.float64) / -model.inverse_diagonal_
        scores[np.repeat(np.arange(users.size), np.diff(x.indptr)), x.indices] += x.data
        return scores
    if model.name == "itemknn":
        return np.asarray((model._values(rows, model.params_) @ model.similarity_).toarray(), dtype=np.float64)
    if model.name == "puresvd":
        v = model.item_vectors_[:, : model.rank_]
        change = (rows - sp.csr_array(model.seen_[users])) @ v
        return model.score(users) + np.asarray(change, dtype=np.float64) @ v.T
    raise ValueError(f"model {model.name!r} has no closed-form scores of a changed row; one of {SCREENED_MODELS}")


def screen_pool(model, train: Interactions, test: Interactions, targets, pool, *, value: float = 5.0, k: int = 10,
                noise_floor: float = 0.0, relevance_threshold: float | None = None):
    """Split ``pool`` by whether adding every target with ``value`` would cost the member held-out NDCG@k.

    Returns ``(kept, dropped)``, sorted user indices; ``dropped`` are the members whose NDCG with their own action
    applied (model fixed, :func:`own_scores`) is more than ``noise_floor`` below their NDCG now. For models outside
    :data:`SCREENED_MODELS` nothing is dropped.
    """
    pool = np.unique(np.asarray(pool, dtype=np.int64))
    targets = np.unique(np.asarray(targets, dtype=np.int64))
    if model.name not in SCREENED_MODELS or pool.size == 0:
        return pool, np.empty(0, np.int64)
    scored = np.intersect1d(pool, test_users(test, relevance_threshold))
    setting = sp.csr_array((np.full(targets.size, float(value)), targets, [0, targets.size]),
                           shape=(1, train.n_items))
    change = np.empty(scored.size)
    for start in range(0, scored.size, _CHUNK):
        users = scored[start : start + _CHUNK]
        before, _ = model.recommend(users, k)
        new = _overwrite(sp.csr_array(model.seen_[users]), sp.csr_array(sp.vstack([setting] * users.size)))
        scores = own_scores(model, users, new)
        exclude_seen(scores, new)
        after, _ = top_k(scores, k)  # best first, lower item index on ties, as ``recommend``
        truth = test.matrix[users]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            change[start : start + users.size] = (_ndcg(after, truth, relevance_threshold)
                                                   - _ndcg(before, truth, relevance_threshold))
    dropped = scored[change < -max(float(noise_floor), 1e-12)]
    return np.setdiff1d(pool, dropped), dropped
