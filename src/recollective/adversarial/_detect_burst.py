"""Co-interaction bursts: many distinct users acting on the same item inside a short time window.

Brigading and fake-profile injection happen in bursts: the accounts of a coordinated group rate the same items
within minutes or hours, while organic interest in an item is spread over months. This detector needs
``Interactions.order`` holding timestamps (or any order whose differences measure time).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from recollective.adversarial._detectors import Detector
from recollective.data import Interactions
from recollective.errors import DataError
from recollective.models._params import Integer, OneOf, Real

__all__ = ["BurstDetector", "burst_flags"]

WEIGHTINGS = ("none", "rarity")


def burst_flags(interactions: Interactions, window: float = 86400.0, min_users: int = 5) -> np.ndarray:
    """Which interactions are in an item burst.

    Interaction ``(u, j)`` at time ``t`` is *in a burst* when some time interval of length ``window``
    (closed, ``[s, s + window]``) contains ``t`` and the times of at least ``min_users`` interactions with item
    ``j`` (``(u, j)`` included). A user interacts with an item at most once in ``Interactions``, so this counts
    distinct users. Interactions whose order is NaN (e.g. added without one) are never in a burst and are not
    counted. Sorting by (item, time) and one merge of the window ends make it ``O(n log n)``.

    Raises
    ------
    DataError
        ``interactions`` have no order.

    Returns
    -------
    ndarray of bool, shape (n_interactions,)
        Aligned with ``interactions.matrix.data`` (CSR order).
    """
    if interactions.order is None:
        raise DataError(
            "detector burst needs ordered interactions (Interactions.order from a timestamp column, e.g. "
            "load_movielens); these interactions have no order"
        )
    times = interactions.order.data
    items = interactions.matrix.indices
    flags = np.zeros(times.size, dtype=bool)
    valid = np.flatnonzero(np.isfinite(times))
    n = valid.size
    if n == 0:
        return flags
    by_item_time = valid[np.lexsort((times[valid], items[valid]))]
    a, t = items[by_item_time], times[by_item_time]
    # end[p] = 1 + the last index q (same item) with t[q] <= t[p] + window: merge data points and window ends,
    # ends sorted after data points at equal (item, time)
    merged = np.lexsort((np.r_[np.zeros(n), np.ones(n)], np.r_[t, t + window], np.r_[a, a]))
    is_data = merged < n
    data_before = np.cumsum(is_data) - is_data
    end = np.empty(n, dtype=np.int64)
    end[merged[~is_data] - n] = data_before[~is_data]
    dense = np.flatnonzero(end - np.arange(n) >= min_users)  # windows starting at p holding >= min_users
    cover = np.zeros(n + 1, dtype=np.int64)
    np.add.at(cover, dense, 1)
    np.add.at(cover, end[dense], -1)
    flags[by_item_time] = np.cumsum(cover[:n]) > 0
    return flags


class BurstDetector(Detector):
    """The share of a user's interactions that fall in item bursts (:func:`burst_flags`).

    ``score[u] = sum_{i in I_u} w_i * burst[u, i] / sum_{i in I_u} w_i`` in [0, 1], with ``w_i = 1``
    (``weighting="none"``) or ``w_i = 1 / log2(1 + l_i)``, ``l_i`` the item's number of interactions
    (``weighting="rarity"``: bursts on rare items, the fillers of a coordinated group, count more than bursts on
    blockbusters, which organic release-day traffic also produces). Users with no interaction get 0.

    Parameters
    ----------
    window : float, default 86400.0
        Length of the burst window, in the units of ``Interactions.order`` (86,400 = one day of Unix seconds,
        e.g. MovieLens timestamps; for position orders such as goodbooks' row numbers it counts rows).
    min_users : int, default 5
        Distinct users on one item inside one window that make a burst (>= 2).
    weighting : {"none", "rarity"}, default "none"

    Raises
    ------
    DataError
        From ``score``, when the interactions have no order.
    """

    name = "burst"
    parameter_rules: ClassVar[dict] = {
        "window": Real(low=0.0, low_closed=False),
        "min_users": Integer(low=2),
        "weighting": OneOf(WEIGHTINGS),
    }

    def __init__(self, window=86400.0, min_users=5, weighting="none"):
        self.window = window
        self.min_users = min_users
        self.weighting = weighting

    def _score(self, interactions: Interactions, params: dict) -> np.ndarray:
        flags = burst_flags(interactions, params["window"], params["min_users"])
        matrix = interactions.matrix
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        if params["weighting"] == "rarity":
            item_counts = np.bincount(matrix.indices, minlength=matrix.shape[1])
            weights = 1.0 / np.log2(1.0 + item_counts[matrix.indices])
        else:
            weights = np.ones(matrix.nnz)
        total = np.bincount(rows, weights=weights, minlength=matrix.shape[0])
        bursty = np.bincount(rows, weights=weights * flags, minlength=matrix.shape[0])
        return np.divide(bursty, total, out=np.zeros_like(total), where=total > 0)
