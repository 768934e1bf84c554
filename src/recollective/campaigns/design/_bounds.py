"""Upper bounds on the audience exposure that *any* plan of ``n`` participants can reach (target-only actions).

When the search finds no plan that reaches a goal, these say whether one could exist at all.

- popularity (count): adding a target raises its score by 1 for everyone, whoever acts, so the best plan of ``n``
  is any ``n`` pool members who lack the target; the bound is that plan's exposure (exact, ties by item index as
  the model breaks them).
- item-kNN (cosine, no shrinkage, non-negative values): for audience reader ``a`` and target ``t``, with ``d_i``
  the norm of item ``i``'s column and ``c_p(a) = v Σ_{i ∈ a} x_ai x'_pi / d_i`` (``x'_p``: ``p``'s row with every
  target at ``v``) at least what participant ``p`` adds to the numerator of ``a``'s score, any plan of at most
  ``n`` participants gives
  ``S'[a, t] <= max_{m <= n} (Σ_{i ∈ a} x_ai G[i, t] / d_i + Σ_{top m} c_p(a)) / sqrt(d_t² + m δ)``
  (``δ`` the smallest growth ``v² - o_pt²`` of ``d_t²`` in the pool; neighbour pruning only removes terms), and
  the threshold of ``a`` can fall at most to the ``k``-th best non-target score after every row ``i`` of ``a``'s
  items loses its weakest neighbours to the targets. ``a`` counts as reachable when some unseen target's bound
  beats that threshold.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recollective.campaigns.design._search import audience_thresholds
from recollective.errors import InvalidParameterError

__all__ = ["BOUND_MODELS", "exposure_upper_bound"]

BOUND_MODELS = ("popularity", "itemknn")


def exposure_upper_bound(model, audience, targets, pool, n: int, value: float, k: int = 10) -> float:
    """Largest audience exposure at ``k`` that ``n`` pool members adding every target with ``value`` can reach.

    ``model`` is fitted on the current training data. Raises for models without a bound (:data:`BOUND_MODELS`).
    """
    audience = np.unique(np.asarray(audience, dtype=np.int64))
    targets = np.unique(np.asarray(targets, dtype=np.int64))
    pool = np.unique(np.asarray(pool, dtype=np.int64))
    if audience.size == 0:
        raise InvalidParameterError("the bound needs a non-empty audience")
    if model.name == "popularity" and model.params_["by"] == "count":
        return _popularity(model, audience, targets, pool, n, k)
    params = getattr(model, "params_", {})
    if model.name == "itemknn" and params.get("similarity") == "cosine" and params.get("shrinkage") == 0:
        return _itemknn(model, audience, targets, pool, n, value, k)
    raise InvalidParameterError(f"no exposure bound for model {model.name!r} (bounds exist for popularity by count "
                                "and cosine item-kNN)")


def _thresholds(model, audience, targets, k, scores):
    return audience_thresholds(scores, sp.csr_array(model.seen_[audience]), targets, k)


def _popularity(model, audience, targets, pool, n, k):
    scores = np.broadcast_to(model.item_scores_, (audience.size, model.item_scores_.size))
    kth, others, open_targets, width = _thresholds(model, audience, targets, k, scores)
    holders = sp.csr_array(model.seen_[pool])[:, targets].toarray() != 0
    gain = np.minimum(n, (~holders).sum(axis=0))  # +1 per acting pool member who lacks the target
    after = model.item_scores_[targets] + gain
    # a target enters the top k when it beats the k-th non-target, or ties it and has the lower index
    kth_index = np.argsort(-others, axis=1, kind="stable")[:, width - 1]
    ties = (after[None, :] == kth[:, None]) & (targets[None, :] < kth_index[:, None])
    beats = (after[None, :] > kth[:, None]) | ties
    return float((beats & open_targets).any(axis=1).mean())


def _itemknn(model, audience, targets, pool, n, value, k):
    params = model.params_
    weights = model._values(model.seen_, params)
    if weights.nnz and weights.data.min() < 0:
        raise InvalidParameterError("the item-kNN bound needs non-negative values")
    if params["binary"]:
        value = 1.0
    norms = np.sqrt(np.bincount(weights.indices, weights.data**2, minlength=weights.shape[1]))
    inverse = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)
    x_a = sp.csr_array(weights[audience])
    scaled = sp.csr_array(x_a @ sp.diags_array(inverse))  # x_ai / d_i
    x_p = sp.csr_array(weights[pool])
    raised = x_p.tolil()
    raised[:, targets] = value  # the participants' rows after adding every target
    overlap = sp.csr_array(scaled @ sp.csr_array(raised).T).toarray()  # (|A|, |P|): Σ_i x_ai x'_pi / d_i
    gram_t = sp.csr_array(weights.T.tocsr()[targets] @ weights).toarray()  # (|T|, n): G[t, :]
    # the threshold can fall at most to the k-th best after each row of a's items drops its weakest neighbours
    scores = model.score(audience)
    dropped = _weakest_neighbour_drop(model, x_a, targets)
    kth_low, _, open_targets, _ = _thresholds(model, audience, targets, k, scores - dropped)
    reachable = np.zeros(audience.size, bool)
    for column, t in enumerate(targets):
        held = x_p[:, [t]].toarray().ravel()
        contribution = overlap * value  # (|A|, |P|): at least what p adds to the numerator of S[a, t]
        growth = np.maximum(value**2 - held**2, 0.0)
        delta = float(growth.min()) if growth.size else 0.0
        base = np.asarray(scaled @ gram_t[column]).ravel()  # Σ_i x_ai G[i, t] / d_i (all i, unpruned)
        base -= scaled[:, [t]].toarray().ravel() * gram_t[column, t]  # i = t never counts (zero diagonal)
        m = min(n, pool.size)
        top = -np.sort(-contribution, axis=1)[:, :m]
        cumulative = np.concatenate([np.zeros((audience.size, 1)), np.cumsum(top, axis=1)], axis=1)
        denominators = np.sqrt(norms[t] ** 2 + np.arange(m + 1) * delta)
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where(denominators[None, :] > 0, (base[:, None] + cumulative) / denominators[None, :], 0.0)
        reachable |= open_targets[:, column] & (bound.max(axis=1) > kth_low)
    return float(reachable.mean())


def _weakest_neighbour_drop(model, x_a, targets) -> np.ndarray:
    """(|A|, n_items): the most each non-target score of the audience can fall when every row ``i`` of a reader's
    items loses its ``|T|`` weakest neighbours (the targets entering it push them out)."""
    ranked_limit = model.params_["n_neighbors"]
    similarity = model.similarity_
    drop = np.zeros((x_a.shape[0], similarity.shape[1]))
    lengths = np.diff(similarity.indptr)
    for r in range(x_a.shape[0]):
        for i, x in zip(x_a.indices[x_a.indptr[r] : x_a.indptr[r + 1]], x_a.data[x_a.indptr[r] : x_a.indptr[r + 1]],
                        strict=True):
            lo, hi = similarity.indptr[i], similarity.indptr[i + 1]
            if lengths[i] < ranked_limit:
                continue  # a row with free slots drops nothing
            values, items = similarity.data[lo:hi], similarity.indices[lo:hi]
            weakest = np.argsort(values, kind="stable")[: targets.size]
            drop[r, items[weakest]] += x * values[weakest]
    return drop
