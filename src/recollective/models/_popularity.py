"""Most-popular baseline: every user gets the items with the most interactions in training."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from recollective.models._base import Recommender
from recollective.models._params import OneOf

__all__ = ["Popularity"]


class Popularity(Recommender):
    """Scores each item by its training popularity, the same for every user.

    Parameters
    ----------
    by : {"count", "sum"}, default "count"
        ``count``: number of users who interacted with the item; ``sum``: sum of the stored values.

    Attributes
    ----------
    item_scores_ : ndarray of shape (n_items,)
    """

    name = "popularity"
    parameter_rules: ClassVar[dict] = {"by": OneOf(("count", "sum"))}
    refit_tolerance = "exact: the counts are updated from the delta"

    def __init__(self, by: str = "count"):
        self.by = by

    def _fit(self, matrix, interactions, params):
        values = np.ones(matrix.nnz) if params["by"] == "count" else matrix.data
        self.item_scores_ = np.bincount(matrix.indices, weights=values, minlength=matrix.shape[1])

    def _refit(self, matrix, interactions, delta, params):
        old = self.seen_
        scores = self.item_scores_.copy()
        users = delta.changed_users
        before, after = old[users], matrix[users]
        for sign, part in ((-1.0, before), (1.0, after)):
            values = np.ones(part.nnz) if params["by"] == "count" else part.data
            scores += sign * np.bincount(part.indices, weights=values, minlength=matrix.shape[1])
        self.item_scores_ = scores

    def _shared_item_scores(self) -> np.ndarray:
        """Every user's scores (``recommend`` ranks them once and walks past each user's seen items)."""
        return self.item_scores_

    def _score_block(self, user_idx):
        return np.broadcast_to(self.item_scores_, (user_idx.size, self.item_scores_.size))
