"""Accuracy of top-k lists against held-out truth, one value per user (aggregate with :func:`mean_over_users`).

Inputs
------
``item_idx`` : ndarray of int of shape (n_users, width)
    Recommendation lists, best first, padded with ``-1`` (what ``Recommender.recommend`` returns for a batch).
    ``k`` (default: the width) keeps the first ``k`` columns.
``truth`` : scipy sparse matrix or ``Interactions`` of shape (n_users, n_items)
    Held-out interactions, row ``u`` for the user of ``item_idx[u]``. An item is *relevant* when it is stored
    in the user's row (explicit zeros included) and, if ``relevance_threshold`` is given, its value is
    ``>= relevance_threshold``.

Relevance is binary. With ``rel_u`` the number of relevant items of user ``u`` and ``hit_u(j)`` 1 when the item at
rank ``j`` (1-based) is relevant:

* precision@k = sum_j hit_u(j) / k (``denominator="k"``) or / min(k, rel_u) (``denominator="min"``, the
  denominator of implicit's ``ranking_metrics_at_k``);
* recall@k = sum_j hit_u(j) / rel_u (standard recall: the share of the relevant items retrieved; it can only
  reach 1 when k >= rel_u);
* NDCG@k = DCG / IDCG, DCG = sum_j hit_u(j) / log2(j + 1), IDCG the DCG of min(k, rel_u) hits in the top ranks
  (Järvelin & Kekäläinen, "Cumulated gain-based evaluation of IR techniques", ACM TOIS 20(4), 2002);
* hit rate@k = 1 if some hit_u(j) = 1 else 0;
* reciprocal rank@k = 1 / (rank of the first hit), 0 without a hit (its mean is MRR; Voorhees, TREC-8 QA, 1999);
* average precision@k = sum_j hit_u(j) * precision@j / min(k, rel_u) (implicit's ``map`` per user).

**Empty truth.** A user with no relevant item gets NaN for every metric (the quantity is undefined, not 0);
:func:`mean_over_users` skips NaN users and warns when no user is left.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recollective.errors import InvalidParameterError
from recollective.metrics._checks import check_item_range, check_k, check_lists, check_relevance

__all__ = [
    "RANKING_METRICS",
    "average_precision_at_k",
    "hit_rate_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "ranking_metrics_per_user",
    "recall_at_k",
    "reciprocal_rank_at_k",
]

RANKING_METRICS = ("precision", "recall", "ndcg", "hit_rate", "reciprocal_rank", "average_precision")
"""Keys of :func:`ranking_metrics_per_user` (besides ``n_relevant``)."""

PRECISION_DENOMINATORS = ("k", "min")


def precision_at_k(
    item_idx, truth, k: int | None = None, *, relevance_threshold=None, denominator: str = "k"
) -> np.ndarray:
    """Per-user precision@k: the share of the top ``k`` that is relevant.

    Parameters
    ----------
    item_idx : ndarray of int of shape (n_users, width)
        Lists, best first, ``-1`` padding (a padded slot is a miss).
    truth : sparse matrix or Interactions of shape (n_users, n_items)
        Held-out interactions aligned with the rows of ``item_idx``.
    k : int, optional
        List length evaluated, ``1 <= k <= width``; default the width.
    relevance_threshold : float, optional
        Only truth entries with value ``>= relevance_threshold`` are relevant; default every stored entry.
    denominator : {"k", "min"}, default "k"
        ``"k"``: hits / k (standard precision@k). ``"min"``: hits / min(k, n_relevant), implicit's definition,
        which reaches 1 for a user with fewer than ``k`` relevant items all retrieved. Note that implicit's
        aggregate ``precision`` is the ratio of the summed hits to the summed denominators, i.e.
        ``mean_over_users(precision_at_k(..., denominator="min"), weights=np.minimum(k, n_relevant))``.

    Returns
    -------
    ndarray of float64 of shape (n_users,)
        In [0, 1]; NaN for users without relevant items.
    """
    if denominator not in PRECISION_DENOMINATORS:
        raise InvalidParameterError(f"denominator must be one of {PRECISION_DENOMINATORS}; got {denominator!r}")
    hits, n_relevant, k = _prepare(item_idx, truth, k, relevance_threshold)
    scale = np.full(n_relevant.shape, float(k)) if denominator == "k" else np.minimum(k, n_relevant)
    return _per_relevant_user(hits.sum(axis=1), scale, n_relevant)


def recall_at_k(item_idx, truth, k: int | None = None, *, relevance_threshold=None) -> np.ndarray:
    """Per-user recall@k: retrieved relevant items / all relevant items (``n_relevant``, not min(k, n_relevant)).

    Parameters and shapes as :func:`precision_at_k`. Returns ndarray of float64 of shape (n_users,) in [0, 1],
    NaN for users without relevant items; non-decreasing in ``k``.
    """
    hits, n_relevant, _ = _prepare(item_idx, truth, k, relevance_threshold)
    return _per_relevant_user(hits.sum(axis=1), n_relevant, n_relevant)


def ndcg_at_k(item_idx, truth, k: int | None = None, *, relevance_threshold=None) -> np.ndarray:
    """Per-user NDCG@k with binary relevance and the log2 discount.

    ``DCG = sum_{j=1..k} hit(j) / log2(j + 1)``, divided by the DCG of a list whose first min(k, n_relevant)
    items are relevant. Parameters as :func:`precision_at_k`. Returns ndarray of float64 of shape (n_users,)
    in [0, 1], NaN for users without relevant items.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> lists = np.array([[3, 1, 0], [2, -1, -1]])
    >>> truth = sp.csr_array(np.array([[1.0, 0, 0, 1], [0, 0, 0, 0]]))
    >>> ndcg_at_k(lists, truth).round(4)  # hits at ranks 1 and 3 of 2 relevant; no truth for user 1
    array([0.9197,    nan])
    """
    hits, n_relevant, k = _prepare(item_idx, truth, k, relevance_threshold)
    return _ndcg(hits, n_relevant, k)


def hit_rate_at_k(item_idx, truth, k: int | None = None, *, relevance_threshold=None) -> np.ndarray:
    """Per-user hit rate@k: 1.0 when the top ``k`` hold at least one relevant item, else 0.0; NaN without truth."""
    hits, n_relevant, _ = _prepare(item_idx, truth, k, relevance_threshold)
    return _per_relevant_user(hits.any(axis=1).astype(np.float64), np.ones(n_relevant.size), n_relevant)


def reciprocal_rank_at_k(item_idx, truth, k: int | None = None, *, relevance_threshold=None) -> np.ndarray:
    """Per-user reciprocal rank@k: 1 / rank of the first relevant item in the top ``k`` (0 if none).

    Its mean over users (:func:`mean_over_users`) is MRR@k. NaN for users without relevant items.
    """
    hits, n_relevant, _ = _prepare(item_idx, truth, k, relevance_threshold)
    return _reciprocal_rank(hits, n_relevant)


def average_precision_at_k(item_idx, truth, k: int | None = None, *, relevance_threshold=None) -> np.ndarray:
    """Per-user average precision@k: ``sum_j hit(j) * precision@j / min(k, n_relevant)`` (implicit's ``map``).

    NaN for users without relevant items.
    """
    hits, n_relevant, k = _prepare(item_idx, truth, k, relevance_threshold)
    return _average_precision(hits, n_relevant, k)


def ranking_metrics_per_user(
    item_idx, truth, k: int | None = None, *, relevance_threshold=None
) -> dict[str, np.ndarray]:
    """Every accuracy metric per user from one pass over the lists.

    Returns
    -------
    dict
        ``precision`` (denominator k), ``recall``, ``ndcg``, ``hit_rate``, ``reciprocal_rank``,
        ``average_precision``: ndarray of float64 of shape (n_users,), NaN for users without relevant items;
        ``n_relevant``: ndarray of int64 of shape (n_users,).
    """
    hits, n_relevant, k = _prepare(item_idx, truth, k, relevance_threshold)
    return metrics_from_hits(hits, n_relevant, k)


def metrics_from_hits(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """The per-user metrics of :func:`ranking_metrics_per_user` from a checked hit matrix (no validation)."""
    n_hits = hits.sum(axis=1)
    return {
        "precision": _per_relevant_user(n_hits, np.full(n_relevant.shape, float(k)), n_relevant),
        "recall": _per_relevant_user(n_hits, n_relevant, n_relevant),
        "ndcg": _ndcg(hits, n_relevant, k),
        "hit_rate": _per_relevant_user((n_hits > 0).astype(np.float64), np.ones(n_relevant.size), n_relevant),
        "reciprocal_rank": _reciprocal_rank(hits, n_relevant),
        "average_precision": _average_precision(hits, n_relevant, k),
        "n_relevant": n_relevant,
    }


def hit_matrix(lists: np.ndarray, relevant: sp.csr_array) -> np.ndarray:
    """``hits[u, j]`` is True when ``lists[u, j]`` is stored in row ``u`` of ``relevant`` (checked inputs).

    One sorted search over the keys ``row * n_items + item`` of the canonical CSR (sorted by row, then item).
    """
    n_users, n_items = relevant.shape
    if lists.size == 0 or relevant.nnz == 0:
        return np.zeros(lists.shape, dtype=bool)
    rows = np.repeat(np.arange(n_users, dtype=np.int64), np.diff(relevant.indptr))
    keys = rows * n_items + relevant.indices.astype(np.int64)
    wanted = np.arange(n_users, dtype=np.int64)[:, None] * n_items + lists
    position = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    return (keys[position] == wanted) & (lists >= 0)


def _prepare(item_idx, truth, k, relevance_threshold) -> tuple[np.ndarray, np.ndarray, int]:
    """Checked (hits of shape (n_users, k), n_relevant of shape (n_users,), k)."""
    lists = check_lists(item_idx)
    relevant = check_relevance(truth, lists.shape[0], relevance_threshold)
    check_item_range(lists, relevant.shape[1])
    k = check_k(k, lists.shape[1])
    lists = lists[:, :k]
    return hit_matrix(lists, relevant), np.diff(relevant.indptr).astype(np.int64), k


def _per_relevant_user(numerator: np.ndarray, denominator: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    out = np.full(n_relevant.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=n_relevant > 0)
    return out


def _discount(k: int) -> np.ndarray:
    """``1 / log2(rank + 1)`` for ranks 1..k."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def _ndcg(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    discount = _discount(k)
    dcg = hits @ discount if hits.size else np.zeros(hits.shape[0])
    ideal_cumulative = np.concatenate(([0.0], np.cumsum(discount)))
    ideal = ideal_cumulative[np.minimum(k, n_relevant)]
    return _per_relevant_user(dcg, ideal, n_relevant)


def _reciprocal_rank(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    any_hit = hits.any(axis=1)
    first = np.argmax(hits, axis=1) if hits.size else np.zeros(hits.shape[0], dtype=np.int64)
    values = np.where(any_hit, 1.0 / (first + 1.0), 0.0)
    return _per_relevant_user(values, np.ones(n_relevant.size), n_relevant)


def _average_precision(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    ranks = np.arange(1, k + 1, dtype=np.float64)
    precision_at_rank = np.cumsum(hits, axis=1) / ranks
    summed = np.sum(precision_at_rank * hits, axis=1)
    return _per_relevant_user(summed, np.minimum(k, n_relevant), n_relevant)
