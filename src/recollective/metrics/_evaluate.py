"""Evaluate recommendation lists (or a fitted model) against held-out truth: one JSON-ready dict of metrics.

The accuracy metrics are means over the *test users* (rows with at least one relevant item); coverage and the
popularity-bias metrics describe the lists themselves, so they are computed over every evaluated row. Values are
Python floats and ints; undefined ones are NaN (the CLI writes them as null).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from recollective.data import gini
from recollective.errors import DataError
from recollective.metrics._aggregate import UndefinedMetricWarning, group_masks, nan_mean
from recollective.metrics._checks import (
    check_item_range,
    check_k,
    check_lists,
    check_matrix,
    check_relevance,
    check_unit_share,
)
from recollective.metrics._popularity_bias import (
    counts_of,
    entropy_of,
    long_tail_items,
    mean_item_value,
)
from recollective.metrics._ranking_metrics import hit_matrix, metrics_from_hits

__all__ = ["ACCURACY_KEYS", "evaluate_lists", "evaluate_model"]

logger = logging.getLogger(__name__)

ACCURACY_KEYS = {
    "precision": "precision",
    "recall": "recall",
    "ndcg": "ndcg",
    "hit_rate": "hit_rate",
    "mrr": "reciprocal_rank",
    "map": "average_precision",
}
"""Result key -> per-user metric of :func:`ranking_metrics_per_user` whose mean over test users it is."""


def evaluate_lists(
    item_idx, truth, k: int | None = None, *, train=None, groups=None, relevance_threshold=None, head_share: float = 0.2
) -> dict:
    """Accuracy, coverage and (given ``train``) popularity bias of recommendation lists at ``k``.

    Parameters
    ----------
    item_idx : ndarray of int of shape (n_users, width)
        Lists, best first, ``-1`` padding; row ``u`` is the list of the user of ``truth`` row ``u``.
    truth : sparse matrix or Interactions of shape (n_users, n_items)
        Held-out interactions of those users (relevant = stored, and ``>= relevance_threshold`` when given).
    k : int, optional
        List length evaluated; default the width.
    train : sparse matrix or Interactions of shape (any, n_items), optional
        Training data, for item popularity: adds ``arp`` (interactions per item) and ``aplt``.
    groups : array-like of shape (n_users,) or mapping, optional
        User groups (labels, or ``{name: mask or indices}``; see :func:`group_means`): adds ``groups``, a dict
        ``{str(label): {"n_evaluated_users", "n_test_users", "precision", "recall", "ndcg", "hit_rate", "mrr",
        "map"}}`` (a group without test users has NaN means, silently).
    relevance_threshold : float, optional
        Only truth entries with value ``>= relevance_threshold`` are relevant; default every stored entry.
    head_share : float, default 0.2
        Short-head share of the training interactions for ``aplt`` (see :func:`long_tail_items`).

    Returns
    -------
    dict
        ``k``, ``n_evaluated_users`` (rows evaluated), ``n_test_users`` (rows with relevant items), the accuracy
        means over test users (``precision``, ``recall``, ``ndcg``, ``hit_rate``, ``mrr``, ``map``; NaN, with one
        :class:`UndefinedMetricWarning`, when there is no test user), ``coverage``, ``gini``, ``entropy`` (nats)
        and ``entropy_normalized`` of the exposure over the catalogue (NaN when every list is empty), and the
        keys above.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> lists = np.array([[3, 1, 0], [2, -1, -1]])
    >>> truth = sp.csr_array(np.array([[1.0, 0, 0, 1], [0, 0, 1, 0]]))
    >>> result = evaluate_lists(lists, truth, 2)
    >>> result["n_test_users"], result["recall"], result["hit_rate"], result["coverage"]
    (2, 0.75, 1.0, 0.75)
    """
    head_share = check_unit_share(head_share, "head_share")
    lists = check_lists(item_idx)
    relevant = check_relevance(truth, lists.shape[0], relevance_threshold)
    n_items = relevant.shape[1]
    check_item_range(lists, n_items)
    k = check_k(k, lists.shape[1])
    lists = lists[:, :k]
    popularity = None
    if train is not None:
        train_matrix = check_matrix(train, "train")
        if train_matrix.shape[1] != n_items:
            raise DataError(
                f"train has {train_matrix.shape[1]} items but truth has {n_items}; both must index the same catalogue"
            )
        popularity = np.bincount(train_matrix.indices, minlength=n_items).astype(np.float64)
    masks = group_masks(groups, lists.shape[0]) if groups is not None else None

    per_user = metrics_from_hits(hit_matrix(lists, relevant), np.diff(relevant.indptr).astype(np.int64), k)
    is_test = per_user["n_relevant"] > 0
    result = {"k": k, "n_evaluated_users": int(lists.shape[0]), "n_test_users": int(is_test.sum())}
    if not is_test.any():
        warnings.warn(
            f"none of the {lists.shape[0]} evaluated users has held-out truth; the accuracy metrics are NaN",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    for key, name in ACCURACY_KEYS.items():
        result[key] = nan_mean(per_user[name])

    exposure = counts_of(lists, n_items)
    result["coverage"] = float(np.count_nonzero(exposure) / n_items)
    result["gini"] = gini(exposure)
    result["entropy"] = entropy_of(exposure)
    result["entropy_normalized"] = entropy_of(exposure, normalized=True)
    if popularity is not None:
        tail = long_tail_items(popularity, head_share)
        result["arp"] = nan_mean(mean_item_value(lists, popularity))
        result["aplt"] = nan_mean(mean_item_value(lists, tail.astype(np.float64)))
    if masks is not None:
        result["groups"] = {
            str(name): {"n_evaluated_users": int(mask.sum()), "n_test_users": int((mask & is_test).sum())}
            | {key: nan_mean(per_user[metric][mask]) for key, metric in ACCURACY_KEYS.items()}
            for name, mask in masks.items()
        }
    return result


def evaluate_model(
    model, train, test, k: int = 10, *, users=None, exclude_seen: bool = True, groups=None, relevance_threshold=None
) -> dict:
    """Recommend for the test users with a fitted model and evaluate the lists (:func:`evaluate_lists`).

    Parameters
    ----------
    model : Recommender
        Fitted on ``train`` (its user and item indices are those of ``test``).
    train : Interactions or sparse matrix of shape (n_users, n_items)
        The training data (for the popularity-bias metrics).
    test : Interactions or sparse matrix of shape (n_users, n_items)
        Held-out interactions, indexed like ``train``.
    k : int >= 1, default 10
    users : array-like of int, optional
        Users to evaluate; default the users with at least one relevant test item, so the model recommends only
        for them.
    exclude_seen : bool, default True
        Passed to ``model.recommend`` (leave out each user's training items).
    groups : array-like of shape (n_users,) or mapping, optional
        Groups over *all* users of ``test`` (labels, or ``{name: mask or indices}``); restricted to ``users``.
    relevance_threshold : float, optional
        Only test entries with value ``>= relevance_threshold`` are relevant.

    Returns
    -------
    dict
        :func:`evaluate_lists` of the lists, with ``k`` the requested length (lists shorter than ``k``, when the
        catalogue or the unseen items run out, are padded with ``-1``).

    Raises
    ------
    DataError
        Without ``users``, when no test user has a relevant held-out item (tiny data): nothing to evaluate.
    """
    test_matrix = check_matrix(test, "test")
    train_matrix = check_matrix(train, "train")
    if train_matrix.shape != test_matrix.shape:
        raise DataError(
            f"train has shape {train_matrix.shape} but test has {test_matrix.shape}; split one Interactions so "
            "both index the same users and items"
        )
    fitted_shape = (getattr(model, "n_users_", None), getattr(model, "n_items_", None))
    if fitted_shape[0] is not None and fitted_shape != test_matrix.shape:
        raise DataError(
            f"the model was fitted on {fitted_shape[0]} users x {fitted_shape[1]} items but test has shape "
            f"{test_matrix.shape}; fit the model on the training part of the same split"
        )
    k = check_k(k, np.iinfo(np.int64).max)
    relevant = check_relevance(test_matrix, test_matrix.shape[0], relevance_threshold, name="test")
    if users is None:
        user_idx = np.flatnonzero(np.diff(relevant.indptr) > 0)
        if user_idx.size == 0:  # every metric would be undefined: say so rather than report nulls
            threshold = "" if relevance_threshold is None else f" at or above {relevance_threshold:g}"
            raise DataError(
                f"nothing to evaluate: the test part holds no interaction{threshold} ({test_matrix.nnz} held out for "
                f"{test_matrix.shape[0]} user(s)); use more data, a larger --test-fraction"
                + (" or a lower --relevance-threshold" if relevance_threshold is not None else "")
            )
    else:
        user_idx = _check_users(users, test_matrix.shape[0])
    logger.debug("evaluating %d users at k=%d", user_idx.size, k)
    if user_idx.size:
        lists, _ = model.recommend(user_idx, k, exclude_seen=exclude_seen)
    else:
        lists = np.empty((0, k), dtype=np.int64)
    if lists.shape[1] < k:
        lists = np.pad(lists, ((0, 0), (0, k - lists.shape[1])), constant_values=-1)
    subgroups = None
    if groups is not None:
        subgroups = {name: mask[user_idx] for name, mask in group_masks(groups, test_matrix.shape[0]).items()}
    return evaluate_lists(lists, relevant[user_idx], k, train=train_matrix, groups=subgroups)


def _check_users(users, n_users: int) -> np.ndarray:
    array = np.asarray(users).reshape(-1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"users must be user indices (integers); got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= n_users):
        bad = array[(array < 0) | (array >= n_users)][0]
        raise DataError(f"user index {bad} is out of range: test has {n_users} users")
    return array
