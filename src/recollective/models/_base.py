"""The recommender contract (scikit-learn style), shared by every model.

Hyper-parameters are keyword arguments of ``__init__``, stored unchanged; ``fit(interactions)`` checks them
against the class's ``parameter_rules`` table, does the work and returns ``self``; learned state lives in
attributes ending in ``_``. Scoring is chunked over users (dense, sparse, shared or norm-pruned, each ranking
exactly as the dense block would); ranking and seen-item exclusion are shared
(:mod:`recollective.models._ranking`), so no two models can differ there.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from recollective.data import Delta, Interactions
from recollective.errors import DataError, InvalidParameterError, NotFittedError
from recollective.models._factor_ranking import NormOrder, prunes, top_k_factors
from recollective.models._params import HyperParameters
from recollective.models._ranking import (
    DEFAULT_BLOCK_BYTES,
    chunk_rows,
    exclude_seen,
    single_torch_thread,
    top_k,
    top_k_shared,
    top_k_sparse,
)

__all__ = ["Recommender", "check_interactions"]

logger = logging.getLogger(__name__)


class Recommender(HyperParameters):
    """Base class of every recommender.

    Subclasses set ``name`` (the registry and CLI name), ``parameter_rules`` (``{parameter: rule}``) and
    ``refit_tolerance`` (a sentence stating how close ``refit`` is to a cold ``fit``), and implement
    ``_fit(matrix, interactions, params)`` and ``_score_block(user_idx) -> ndarray (len(user_idx), n_items)``
    (a fresh array, or a read-only view which ``recommend`` copies before excluding seen items);
    they may override ``_refit(matrix, interactions, delta, params)`` with a fast path. A model whose scores are
    sparse may also define ``_sparse_score_block(user_idx) -> csr_array`` and ``_sparse_row_bound(user_idx)``:
    ``recommend`` then ranks the stored scores only (:func:`~recollective.models._ranking.top_k_sparse`, exactly
    the dense ranking). A factor model may define ``_factor_users(user_idx)`` (float64 rows), ``_factor_items()``
    (the r x n_items float64 matrix), ``_finish_scores(block)`` (non-decreasing) and ``_prune_cutoff(kth)``, with
    ``_score_block`` equal to ``_finish_scores(_factor_users(u) @ _factor_items())``: on catalogues of 16,384 items
    or more ``recommend`` then ranks over the items in decreasing norm
    (:func:`~recollective.models._factor_ranking.top_k_factors`, the dense ranking exactly). ``refit_params`` names
    the hyper-parameters that only change what ``refit`` does (``fit`` ignores them), so a model fitted with
    one value of them is the model ``fit`` gives with any other.

    Attributes
    ----------
    n_users_, n_items_ : int
        Shape of the training matrix.
    seen_ : csr_array of shape (n_users_, n_items_)
        The training interactions (what ``recommend(..., exclude_seen=True)`` leaves out).
    params_ : dict
        The checked hyper-parameters the model was fitted with.
    """

    name: ClassVar[str] = "recommender"
    parameter_rules: ClassVar[dict] = {}
    refit_tolerance: ClassVar[str] = "refit is a cold fit"
    refit_params: ClassVar[tuple[str, ...]] = ()
    score_dtype: ClassVar[type] = np.float64

    # ------------------------------------------------------------------------------------------ fitting
    def fit(self, interactions: Interactions) -> Recommender:
        """Learn from ``interactions`` (users x items); forgets any earlier fit; returns ``self``."""
        params = self.checked_params()
        matrix = check_interactions(interactions, self.name)
        self._forget()
        self._fit(matrix, interactions, params)
        self._remember(matrix, params)
        return self

    def refit(self, interactions: Interactions, delta: Delta | None = None) -> Recommender:
        """Update the fit to ``interactions`` = the training data after ``delta``; returns ``self``.

        Equal to ``fit(interactions)`` exactly or within ``refit_tolerance``. Without a delta, or before any
        fit, or when users or items were appended, or when a hyper-parameter outside ``refit_params`` changed
        since the fit, this is a cold ``fit``.
        """
        if not self.is_fitted() or delta is None:
            return self.fit(interactions)
        params = self.checked_params()
        if any(params[key] != self.params_.get(key) for key in params if key not in self.refit_params):
            return self.fit(interactions)
        matrix = check_interactions(interactions, self.name)
        if matrix.shape != (self.n_users_, self.n_items_) or delta.n_new_users or delta.n_new_items:
            return self.fit(interactions)
        self._refit(matrix, interactions, delta, params)
        self._remember(matrix, params)
        return self

    def is_fitted(self) -> bool:
        return hasattr(self, "params_")

    def _forget(self) -> None:
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, key)

    def _remember(self, matrix: sp.csr_array, params: dict) -> None:
        self.n_users_, self.n_items_ = matrix.shape
        self.seen_ = matrix
        self.params_ = params

    def _fit(self, matrix: sp.csr_array, interactions: Interactions, params: dict) -> None:
        raise NotImplementedError

    def _refit(self, matrix: sp.csr_array, interactions: Interactions, delta: Delta, params: dict) -> None:
        self._forget_learned()
        self._fit(matrix, interactions, params)

    def _forget_learned(self) -> None:
        for key in [k for k in vars(self) if k.endswith("_") and k not in ("n_users_", "n_items_", "seen_",
                                                                           "params_")]:
            delattr(self, key)

    # ------------------------------------------------------------------------------------------ scoring
    def score(self, user_idx, *, block_bytes: int = DEFAULT_BLOCK_BYTES) -> np.ndarray:
        """Dense scores, ndarray of shape (len(user_idx), n_items_) (1-D for a scalar user).

        Computed in user chunks of about ``block_bytes`` each; the result itself is dense, so use
        ``recommend`` for many users.
        """
        users, scalar = self._check_users(user_idx)
        out = np.empty((users.size, self.n_items_), dtype=self.score_dtype)
        step = chunk_rows(self.n_items_, np.dtype(self.score_dtype).itemsize, block_bytes)
        for start in range(0, users.size, step):
            out[start : start + step] = self._score_block(users[start : start + step])
        return out[0] if scalar else out

    def recommend(self, user_idx, k: int = 10, *, exclude_seen: bool = True, block_bytes: int = DEFAULT_BLOCK_BYTES):
        """The top-``k`` items per user, best first, ties broken by lower item index.

        Parameters
        ----------
        user_idx : int or array-like of int
            Users (indices into the training vocabulary).
        k : int >= 1
        exclude_seen : bool, default True
            Leave out each user's training items.
        block_bytes : int
            Peak size of one dense score block (memory bound, whatever the number of users).

        Returns
        -------
        item_idx : ndarray of int64
            Shape (min(k, n_items),) for a scalar user (trimmed where fewer items remain), else
            (n_users, min(k, n_items)) padded with ``-1``.
        scores : ndarray
            The matching scores (``-inf`` at padding).
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise InvalidParameterError(f"k must be an integer >= 1; got {k!r}")
        users, scalar = self._check_users(user_idx)
        width = min(int(k), self.n_items_)
        items = np.empty((users.size, width), dtype=np.int64)
        scores = np.empty((users.size, width), dtype=self.score_dtype)
        if hasattr(self, "_shared_item_scores"):  # every user scored alike: walk one ranking past the seen items
            self._recommend_shared(users, width, exclude_seen, block_bytes, items, scores)
        elif hasattr(self, "_sparse_score_block"):  # sparse scores: exact top-k over the stored candidates
            self._recommend_sparse(users, width, exclude_seen, block_bytes, items, scores)
        elif hasattr(self, "_factor_items") and prunes(self.n_items_, width):  # factor scores, large catalogue:
            # the highest-norm items decide most users
            self._recommend_factors(users, width, exclude_seen, block_bytes, items, scores)
        else:
            self._recommend_dense(users, width, exclude_seen, block_bytes, items, scores)
        if scalar:
            keep = items[0] >= 0
            return items[0][keep], scores[0][keep]
        return items, scores

    def _score_block(self, user_idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _recommend_dense(self, users, width, exclude_seen, block_bytes, items, scores) -> None:
        """Fill ``items`` / ``scores`` (rows of ``users``) by :func:`top_k` of dense score blocks of ``block_bytes``."""
        step = chunk_rows(self.n_items_, np.dtype(self.score_dtype).itemsize, block_bytes)
        with single_torch_thread():  # torch's thread pool would fight BLAS's for the cores between blocks
            for start in range(0, users.size, step):
                block = self._ranking_block(users[start : start + step], exclude_seen)
                items[start : start + block.shape[0]], scores[start : start + block.shape[0]] = top_k(block, width)

    def _recommend_factors(self, users, width, exclude_seen, block_bytes, items, scores) -> None:
        """Fill ``items`` / ``scores`` for a factor model (``_factor_users(user_idx)`` float64 rows, ``_factor_items()``
        the r x n_items float64 matrix, ``_finish_scores(block)`` and ``_prune_cutoff(kth)``, with ``_score_block``
        = ``_finish_scores(_factor_users(u) @ _factor_items())``) by :func:`top_k_factors`: each user's top k over a
        prefix of the items by decreasing norm, the same ranking as the dense one; users it leaves undecided are
        ranked densely."""
        item_matrix = self._factor_items()
        index = getattr(self, "_norm_order_", None)
        if index is None or index.source is not item_matrix:  # a fit or refit replaced the matrix
            index = self._norm_order_ = NormOrder(item_matrix)
        step = max(1, block_bytes // (8 * max(1, item_matrix.shape[0])))  # the chunk's user factors
        for start in range(0, users.size, step):
            chunk = users[start : start + step]
            seen = self.seen_[chunk] if exclude_seen else None
            head, values, undecided = top_k_factors(
                self._factor_users(chunk), index, width, seen, self._finish_scores, self._prune_cutoff,
                self.score_dtype, block_bytes=block_bytes,
            )
            if undecided.any():
                rest = np.flatnonzero(undecided)
                dense_items, dense_scores = head[rest], values[rest]
                self._recommend_dense(chunk[rest], width, exclude_seen, block_bytes, dense_items, dense_scores)
                head[rest], values[rest] = dense_items, dense_scores
            items[start : start + chunk.size], scores[start : start + chunk.size] = head, values

    def _recommend_shared(self, users, width, exclude_seen, block_bytes, items, scores) -> None:
        """Fill ``items`` / ``scores`` for a model whose scores are the same for every user
        (``_shared_item_scores() -> ndarray (n_items,)``) with :func:`top_k_shared`, the dense ranking exactly, in
        chunks of users whose (k + seen items) heads stay within about ``block_bytes``."""
        shared = self._shared_item_scores()
        if not exclude_seen:
            head, values = top_k_shared(shared, width, None, self.score_dtype)
            items[:], scores[:] = head, values
            return
        seen = self.seen_[users]
        reach = width + np.diff(seen.indptr)  # the head a user needs: k plus their seen items
        ranking = np.lexsort((np.arange(shared.size), -shared))[: int(reach.max(initial=width))]  # sorted once
        limit = max(1, block_bytes // 16)  # per head entry: a mark and a sort index
        start = 0
        while start < users.size:
            running = np.maximum.accumulate(reach[start:])  # a chunk's head is its largest user's
            cost = running * np.arange(1, running.size + 1)
            stop = start + max(1, int(np.searchsorted(cost, limit, side="right")))
            items[start:stop], scores[start:stop] = top_k_shared(shared, width, seen[start:stop], self.score_dtype,
                                                                 ranking)
            start = stop

    def _recommend_sparse(self, users, width, exclude_seen, block_bytes, items, scores) -> None:
        """Fill ``items`` / ``scores`` (rows of ``users``) for a model with sparse scores: ``_sparse_score_block
        (user_idx) -> csr_array`` (unstored scores are exactly 0) and ``_sparse_row_bound(user_idx)`` (at least the
        stored scores per user), ranked by :func:`top_k_sparse` (the dense ranking, exactly). Each chunk of users
        stores about ``block_bytes`` of scores at most; no dense users x items block is made."""
        bound = np.minimum(self._sparse_row_bound(users), self.n_items_)
        cumulative = np.cumsum(bound)
        limit = max(1, block_bytes // 16)  # a stored score: its value and its index
        start = 0
        while start < users.size:
            base = cumulative[start - 1] if start else 0
            stop = max(start + 1, int(np.searchsorted(cumulative, base + limit, side="right")))
            chunk = users[start:stop]
            seen = self.seen_[chunk] if exclude_seen else None
            items[start:stop], scores[start:stop] = top_k_sparse(self._sparse_score_block(chunk), width, seen,
                                                                 self.score_dtype)
            start = stop

    def _ranking_block(self, chunk: np.ndarray, exclude_seen: bool) -> np.ndarray:
        """Scores of ``chunk`` as a fresh writable C array of ``score_dtype``, seen items at ``-inf`` if asked."""
        block = self._score_block(chunk)
        if not (block.flags.owndata and block.flags.writeable and block.flags.c_contiguous) or (
            block.dtype != self.score_dtype
        ):  # never write -inf into a view of the model's own state
            block = np.array(block, dtype=self.score_dtype, order="C")
        if exclude_seen:
            exclude_seen_rows(block, self.seen_, chunk)
        return block

    def _check_users(self, user_idx) -> tuple[np.ndarray, bool]:
        if not self.is_fitted():
            raise NotFittedError(f"this {self.name} model is not fitted yet; call fit(interactions) first")
        scalar = np.ndim(user_idx) == 0
        users = np.asarray(user_idx).reshape(-1)
        if users.size and not np.issubdtype(users.dtype, np.integer):
            raise InvalidParameterError(f"user_idx must be integer indices; got dtype {users.dtype}")
        users = users.astype(np.int64)
        if users.size and (users.min() < 0 or users.max() >= self.n_users_):
            bad = users[(users < 0) | (users >= self.n_users_)][0]
            raise InvalidParameterError(
                f"user index {int(bad)} is out of range: the model was fitted on {self.n_users_} users "
                f"(indices 0..{self.n_users_ - 1})"
            )
        return users, scalar


def exclude_seen_rows(block: np.ndarray, seen: sp.csr_array, user_idx: np.ndarray) -> None:
    """``-inf`` in ``block`` at each listed user's training items (``block`` row i is user ``user_idx[i]``)."""
    exclude_seen(block, seen[user_idx] if user_idx.size else seen[:0])


def check_interactions(interactions, owner: str) -> sp.csr_array:
    """The training matrix of ``interactions`` (CSR, finite); raises ``DataError`` when it is empty or not data."""
    if not isinstance(interactions, Interactions):
        raise DataError(
            f"{owner}: fit takes a recollective.data.Interactions (load one with recollective.data."
            f"load_interactions or build one with Interactions.from_arrays); got {type(interactions).__name__}"
        )
    matrix = interactions.matrix
    if matrix.nnz == 0 or 0 in matrix.shape:
        raise DataError(
            f"{owner}: the training data is empty ({matrix.shape[0]} users x {matrix.shape[1]} items, "
            f"{matrix.nnz} interactions); nothing to learn from"
        )
    return matrix
