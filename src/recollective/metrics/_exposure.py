"""Exposure of target items (a collective's targets) in recommendation lists.

Lists are ``item_idx`` of shape (n_users, width), best first, ``-1`` padding; ``k`` keeps the first ``k`` columns.
Targets are item indices (or a boolean mask over the catalogue); an audience is a set of users (a boolean mask
over the list rows, or row indices; ``None`` = every row).

* :func:`target_hits_per_user`: number of target items in each user's top ``k``;
* :func:`target_exposure`: share of the audience with at least one target item in its top ``k``;
* :func:`discounted_target_exposure`: per user, ``sum_j [item at rank j is a target] / log2(j + 1)``, the
  position-discounted exposure (the NDCG discount, so a target at rank 1 counts 1, at rank 3 counts 0.5).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from recollective.metrics._aggregate import UndefinedMetricWarning
from recollective.metrics._checks import check_audience, check_k, check_lists, check_targets

__all__ = ["discounted_target_exposure", "target_exposure", "target_hits_per_user"]


def target_hits_per_user(item_idx, targets, k: int | None = None) -> np.ndarray:
    """Number of target items in each user's top ``k``.

    Parameters
    ----------
    item_idx : ndarray of int of shape (n_users, width)
    targets : array-like of int, or boolean mask of shape (n_items,)
    k : int, optional
        Default the width of the lists.

    Returns
    -------
    ndarray of int64 of shape (n_users,)
    """
    lists, target_idx = _prepare(item_idx, targets, k)
    return np.isin(lists, target_idx).sum(axis=1).astype(np.int64)


def target_exposure(item_idx, targets, audience=None, k: int | None = None) -> float:
    """Share of the audience whose top ``k`` contains at least one target item.

    Parameters
    ----------
    item_idx : ndarray of int of shape (n_users, width)
    targets : array-like of int, or boolean mask of shape (n_items,)
    audience : boolean mask of shape (n_users,) or array-like of int, optional
        The users counted (rows of ``item_idx``); default every row.
    k : int, optional

    Returns
    -------
    float
        In [0, 1]; NaN with an :class:`UndefinedMetricWarning` when the audience is empty.
    """
    lists, target_idx = _prepare(item_idx, targets, k)
    members = check_audience(audience, lists.shape[0])
    if not members.any():
        warnings.warn("the audience is empty; target exposure is NaN", UndefinedMetricWarning, stacklevel=2)
        return math.nan
    reached = np.isin(lists[members], target_idx).any(axis=1)
    return float(reached.mean())


def discounted_target_exposure(item_idx, targets, k: int | None = None) -> np.ndarray:
    """Position-discounted target exposure per user: ``sum_j [rank-j item is a target] / log2(j + 1)``.

    Parameters
    ----------
    item_idx : ndarray of int of shape (n_users, width)
    targets : array-like of int, or boolean mask of shape (n_items,)
    k : int, optional

    Returns
    -------
    ndarray of float64 of shape (n_users,)
        Between 0 (no target in the top ``k``) and ``sum_{j <= min(k, n_targets)} 1 / log2(j + 1)``. Average it
        over an audience with ``mean_over_users(values[audience])``.
    """
    lists, target_idx = _prepare(item_idx, targets, k)
    discount = 1.0 / np.log2(np.arange(2, lists.shape[1] + 2, dtype=np.float64))
    is_target = np.isin(lists, target_idx)
    return is_target @ discount if is_target.size else np.zeros(lists.shape[0])


def _prepare(item_idx, targets, k) -> tuple[np.ndarray, np.ndarray]:
    lists = check_lists(item_idx)
    target_idx = check_targets(targets)
    return lists[:, : check_k(k, lists.shape[1])], target_idx
