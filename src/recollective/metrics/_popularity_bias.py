"""Catalogue coverage and popularity bias of recommendation lists.

Lists are ``item_idx`` of shape (n_users, width), best first, ``-1`` padding; ``k`` keeps the first ``k`` columns.
*Exposure* of an item is the number of lists (users) whose top ``k`` contain it. *Popularity* of an item is its
number of training interactions (stored entries in its column of the training matrix, :func:`item_popularity`).

* coverage = share of the catalogue recommended to at least one user;
* ARP (average recommendation popularity) = mean over users of the mean popularity of their list;
* APLT (average percentage of long-tail items) = mean over users of the share of their list in the long tail;
* Gini and Shannon entropy of the exposure distribution over all catalogue items.

ARP and APLT follow Abdollahpouri, Burke & Mobasher, "Managing popularity bias in recommender systems with
personalized re-ranking", FLAIRS 2019 (arXiv:1901.07555). The head/tail split is a reconstruction: papers draw the
line differently (the top 20% of items, or the most popular items holding a share of the interactions), so
:func:`long_tail_items` takes the share and its basis as parameters; the default head is the most popular items
that together hold 20% of the training interactions.
"""

from __future__ import annotations

import math

import numpy as np

from recollective.data import gini
from recollective.errors import DataError, InvalidParameterError
from recollective.metrics._checks import check_k, check_lists, check_matrix, check_n_items, check_unit_share

__all__ = [
    "HEAD_BASES",
    "average_popularity_per_user",
    "exposure_counts",
    "exposure_entropy",
    "exposure_gini",
    "item_coverage",
    "item_popularity",
    "long_tail_items",
    "long_tail_share_per_user",
]

HEAD_BASES = ("interactions", "items")


def item_popularity(train) -> np.ndarray:
    """Training popularity of every item: its number of stored interactions.

    Parameters
    ----------
    train : sparse matrix or Interactions of shape (n_users, n_items)

    Returns
    -------
    ndarray of int64 of shape (n_items,)
    """
    matrix = check_matrix(train, "train")
    return np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.int64)


def exposure_counts(item_idx, n_items: int, k: int | None = None) -> np.ndarray:
    """Number of lists whose top ``k`` contain each item, ndarray of int64 of shape (n_items,)."""
    lists = _lists(item_idx, n_items, k)
    return counts_of(lists, n_items)


def item_coverage(item_idx, n_items: int, k: int | None = None) -> float:
    """Share of the ``n_items`` catalogue items recommended to at least one user, in [0, 1]."""
    lists = _lists(item_idx, n_items, k)
    return float(np.count_nonzero(counts_of(lists, n_items)) / n_items)


def average_popularity_per_user(item_idx, popularity, k: int | None = None) -> np.ndarray:
    """Mean training popularity of each user's top ``k`` (padding left out): the per-user terms of ARP.

    Parameters
    ----------
    item_idx : ndarray of int of shape (n_users, width)
    popularity : array-like of shape (n_items,)
        Training popularity per item (:func:`item_popularity`).
    k : int, optional

    Returns
    -------
    ndarray of float64 of shape (n_users,)
        In interactions per item; NaN for an empty list. ARP = ``mean_over_users`` of it.
    """
    values = _item_values(popularity, "popularity")
    lists = _lists(item_idx, values.size, k)
    return mean_item_value(lists, values)


def long_tail_items(popularity, head_share: float = 0.2, *, by: str = "interactions") -> np.ndarray:
    """Boolean mask of the long-tail items: every item outside the short head.

    Items are ordered by popularity, most popular first (ties by lower item index). With ``by="interactions"``
    the head is the shortest prefix holding at least ``head_share`` of all interactions; with ``by="items"`` it
    is the first ``ceil(head_share * n_items)`` items. Items without interactions are always in the tail.

    Parameters
    ----------
    popularity : array-like of shape (n_items,)
        Training popularity (:func:`item_popularity`), non-negative.
    head_share : float in (0, 1), default 0.2
    by : {"interactions", "items"}, default "interactions"

    Returns
    -------
    ndarray of bool of shape (n_items,)
        True for a long-tail item.
    """
    values = _item_values(popularity, "popularity")
    share = check_unit_share(head_share, "head_share")
    if by not in HEAD_BASES:
        raise InvalidParameterError(f"by must be one of {HEAD_BASES}; got {by!r}")
    order = np.lexsort((np.arange(values.size), -values))
    if by == "items":
        n_head = math.ceil(share * values.size)
    else:
        total = values.sum()
        n_head = 0 if total <= 0 else int(np.searchsorted(np.cumsum(values[order]), share * total) + 1)
    tail = np.ones(values.size, dtype=bool)
    tail[order[:n_head]] = False
    tail[values <= 0] = True
    return tail


def long_tail_share_per_user(item_idx, tail, k: int | None = None) -> np.ndarray:
    """Share of each user's top ``k`` (padding left out) that lies in the long tail: the per-user terms of APLT.

    Parameters
    ----------
    item_idx : ndarray of int of shape (n_users, width)
    tail : array-like of bool of shape (n_items,)
        Long-tail mask (:func:`long_tail_items`).
    k : int, optional

    Returns
    -------
    ndarray of float64 of shape (n_users,)
        In [0, 1]; NaN for an empty list. APLT = ``mean_over_users`` of it.
    """
    mask = np.asarray(tail)
    if mask.dtype != bool or mask.ndim != 1:
        raise DataError(f"tail must be a 1-D boolean mask over the items; got dtype {mask.dtype}, shape {mask.shape}")
    lists = _lists(item_idx, mask.size, k)
    return mean_item_value(lists, mask.astype(np.float64))


def exposure_gini(item_idx, n_items: int, k: int | None = None) -> float:
    """Gini coefficient of the exposure counts over all ``n_items`` catalogue items.

    ``G = sum_i (2 i - n - 1) x_(i) / (n sum_i x_i)`` over ascending counts; 0 when every item is recommended
    equally often, ``1 - 1/n`` when one item takes every slot. NaN when the lists are empty.
    """
    lists = _lists(item_idx, n_items, k)
    return gini(counts_of(lists, n_items))


def exposure_entropy(item_idx, n_items: int, k: int | None = None, *, normalized: bool = False) -> float:
    """Shannon entropy of the exposure distribution ``p_i = exposure_i / sum exposure`` over the catalogue.

    ``H = -sum_i p_i ln p_i`` in nats; with ``normalized=True`` divided by ``ln(n_items)`` (1 = uniform exposure
    over the whole catalogue). NaN when the lists are empty, and normalized NaN when ``n_items == 1``.
    """
    lists = _lists(item_idx, n_items, k)
    return entropy_of(counts_of(lists, n_items), normalized=normalized)


def counts_of(lists: np.ndarray, n_items: int) -> np.ndarray:
    """Exposure counts of checked lists (no validation)."""
    return np.bincount(lists[lists >= 0], minlength=n_items).astype(np.int64)


def entropy_of(counts: np.ndarray, *, normalized: bool = False) -> float:
    total = counts.sum()
    if total <= 0 or (normalized and counts.size < 2):
        return math.nan
    p = counts[counts > 0] / total
    entropy = float(-np.sum(p * np.log(p)))
    return entropy / math.log(counts.size) if normalized else entropy


def mean_item_value(lists: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-row mean of ``values[item]`` over the non-padding entries of checked lists; NaN for an empty row."""
    valid = lists >= 0
    summed = np.where(valid, values[np.where(valid, lists, 0)], 0.0).sum(axis=1)
    length = valid.sum(axis=1)
    out = np.full(lists.shape[0], np.nan)
    np.divide(summed, length, out=out, where=length > 0)
    return out


def _lists(item_idx, n_items, k) -> np.ndarray:
    n_items = check_n_items(n_items)
    lists = check_lists(item_idx, n_items)
    return lists[:, : check_k(k, lists.shape[1])]


def _item_values(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise DataError(f"{name} must be a non-empty 1-D array with one value per item; got shape {array.shape}")
    if not np.all(np.isfinite(array)) or (array < 0).any():
        raise DataError(f"{name} must be finite and non-negative")
    return array
