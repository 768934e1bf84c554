"""Sequential transformer recommender (SASRec: Kang & McAuley, "Self-Attentive Sequential Recommendation", 2018).

Each user is the ordered sequence of items they interacted with; a causal transformer reads the most recent
``max_length`` of them and predicts the next. Torch is imported only when a model is fitted
(:mod:`recollective.models._sequential_net`); scoring a fitted model is numpy alone.
"""

from __future__ import annotations

import functools
import logging
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from recollective._random import as_generator
from recollective.errors import DataError, InvalidParameterError
from recollective.models._base import Recommender
from recollective.models._params import Integer, Real, Seed

__all__ = ["SequentialTransformer", "next_item_split", "user_histories"]

logger = logging.getLogger(__name__)


class SequentialTransformer(Recommender):
    """Next-item recommender: a causal self-attention network over each user's recent items (SASRec).

    Item embeddings plus learned position embeddings go through ``n_blocks`` pre-norm causal self-attention
    blocks (attention, then a position-wise feed-forward layer of width ``embedding_dim``, each with dropout, a
    residual connection and layer norm); the score of item ``i`` for a user is the final hidden state after
    their last ``max_length`` items dotted with item ``i``'s embedding (shared by input and output).

    Parameters
    ----------
    embedding_dim : int >= 1, default 64
        Width of item embeddings and hidden states; a multiple of ``n_heads``.
    n_blocks : int >= 1, default 2
        Number of self-attention blocks.
    n_heads : int >= 1, default 1
        Attention heads per block.
    dropout : float in [0, 1), default 0.2
        Dropout on the input embeddings and on every residual branch (no attention-weight dropout).
    max_length : int >= 1, default 50
        How many of a user's most recent items the network reads.
    epochs : int >= 1, default 30
        Maximum number of training epochs (one training window per user each).
    batch_size : int >= 1, default 64
        Users (windows) per optimisation step.
    learning_rate : float > 0, default 3e-3
        AdamW step size.
    weight_decay : float >= 0, default 0.0
        AdamW decoupled weight decay.
    patience : int >= 1 or None, default 5
        Stop when the validation hit rate has not improved for this many epochs and keep the best epoch's
        parameters; ``None`` trains all ``epochs`` (validation is still logged). Needs ``validation_fraction``.
    validation_fraction : float in [0, 1), default 0.1
        Share of the users (with at least 3 items) whose last item is held out from training and used to measure
        next-item HR@10 (seen items excluded) after each epoch. 0 disables validation and early stopping. The
        held-out items still count in the user's history when the fitted model scores.
    n_negatives : int >= 1 or None, default 1024
        Items drawn uniformly per batch as shared negatives of a sampled softmax cross-entropy (accidental hits
        masked); ``None`` uses the full softmax over the catalogue.
    refit_epochs : int >= 1, default 2
        Fine-tuning epochs of ``refit``.
    refit_replay : int >= 0, default 10
        ``refit`` fine-tunes on the changed users plus ``refit_replay`` unchanged users per changed user (at
        least ``batch_size`` of them), drawn at random, so the network does not forget the rest.
    rng : int, numpy Generator or None, default 0
        Seed of every random draw (initialisation, dropout, negatives, batches, the validation users).
    num_threads : int >= 1 or None, default None
        Torch intra-op threads while fitting (restored after); ``None`` keeps torch's setting. Scores are
        reproducible for a given seed and thread count.
    progress : callable or None, default None
        ``progress(epoch, n_epochs, metrics)`` after each training epoch, ``metrics`` a dict with ``loss`` (mean
        training loss) and, when validating, ``hit_rate`` (validation HR@10). Not a hyper-parameter of the result.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, embedding_dim), float32
        Final hidden state after each user's last ``max_length`` items (zero for a user without items).
    item_factors_ : ndarray of shape (n_items, embedding_dim), float32
        Output item embeddings.
    weights_ : dict of str -> ndarray (float32)
        The network's parameters (``refit`` starts from them).
    history_ : list of dict
        Per-epoch ``loss`` and ``hit_rate`` of the last fit or refit.

    Notes
    -----
    **Order.** A user's sequence is ordered by ``interactions.order`` (timestamps or positions; ties by item
    index; interactions without an order, such as those added by ``with_added`` without one, come last). Without
    an order the sequence is the row's stored order, i.e. item-index order, which is rarely meaningful: load
    data with an order column. goodbooks-10k has no timestamps, but its loader keeps the row position in
    ``ratings.csv`` (documented as sorted by time) as the order.

    **Training.** Each epoch takes one window of ``max_length + 1`` consecutive items per user (its end drawn
    uniformly among the user's full-length windows, so long histories are covered over the epochs); every
    position predicts its next item under a softmax cross-entropy, over ``n_negatives`` uniformly sampled items
    shared by the batch (default) or over the whole catalogue. On CPU at goodbooks scale (10k items) the sampled
    loss with 1024 negatives reaches the full softmax's next-item hit rate at about a seventh of the cost per
    epoch; 256 negatives train noticeably worse. SASRec's own recipe (one sampled negative per position under a
    binary cross-entropy, trained for about 200 epochs in the paper's code) is not offered: it learns far less
    per epoch.

    **Scoring** is numpy only: ``user_factors_ @ item_factors_.T``, computed in float64 and rounded to float32,
    so a user's scores do not depend on which users are scored with it. A user without items scores 0
    everywhere (ties, ranked by item index).

    **Refit** fine-tunes the previous weights for ``refit_epochs`` epochs on the changed users (their latest
    window, which holds the change when it is recent) and a random replay sample of unchanged users, without
    validation, then re-encodes every user. Its tolerance is quality-based (see ``refit_tolerance``).

    References
    ----------
    W.-C. Kang and J. McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018.
    """

    name = "sequential"
    parameter_rules: ClassVar[dict] = {
        "embedding_dim": Integer(1),
        "n_blocks": Integer(1),
        "n_heads": Integer(1),
        "dropout": Real(0.0, 1.0, high_closed=False),
        "max_length": Integer(1),
        "epochs": Integer(1),
        "batch_size": Integer(1),
        "learning_rate": Real(0.0, None, low_closed=False),
        "weight_decay": Real(0.0),
        "patience": Integer(1, optional=True),
        "validation_fraction": Real(0.0, 1.0, high_closed=False),
        "n_negatives": Integer(1, optional=True),
        "refit_epochs": Integer(1),
        "refit_replay": Integer(0),
        "rng": Seed(),
        "num_threads": Integer(1, optional=True),
    }
    refit_tolerance = (
        "quality-based: refit fine-tunes the previous network on the changed users and a replay sample; its "
        "next-item HR@10 is within 0.02 (absolute) of a cold fit's, and its top-10 lists overlap a cold fit's "
        "at least as much as two cold fits with different seeds overlap each other, minus 0.05"
    )
    score_dtype = np.float32

    def __init__(
        self,
        embedding_dim: int = 64,
        n_blocks: int = 2,
        n_heads: int = 1,
        dropout: float = 0.2,
        max_length: int = 50,
        epochs: int = 30,
        batch_size: int = 64,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.0,
        patience: int | None = 5,
        validation_fraction: float = 0.1,
        n_negatives: int | None = 1024,
        refit_epochs: int = 2,
        refit_replay: int = 10,
        rng=0,
        num_threads: int | None = None,
        progress=None,
    ):
        self.embedding_dim = embedding_dim
        self.n_blocks = n_blocks
        self.n_heads = n_heads
        self.dropout = dropout
        self.max_length = max_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.n_negatives = n_negatives
        self.refit_epochs = refit_epochs
        self.refit_replay = refit_replay
        self.rng = rng
        self.num_threads = num_threads
        self.progress = progress

    def checked_params(self) -> dict:
        params = super().checked_params()
        if params["embedding_dim"] % params["n_heads"]:
            raise _bad(
                "embedding_dim",
                params["embedding_dim"],
                f"a multiple of n_heads={params['n_heads']}; change embedding_dim or n_heads",
            )
        if params["progress"] is not None and not callable(params["progress"]):
            raise _bad("progress", params["progress"], "None or a callable progress(epoch, n_epochs, metrics)")
        return params

    # ------------------------------------------------------------------------------------------ fitting
    def _fit(self, matrix, interactions, params):
        from recollective.models import _sequential_net as net

        generator = as_generator(params["rng"])
        indptr, items, held_out, train_ends, train_users = next_item_split(
            matrix, interactions.order, params["validation_fraction"], generator, self.name
        )
        n_valid = held_out.size
        with net.torch_threads(params["num_threads"]):
            torch_generator = _torch_generator(generator)
            network = _new_network(matrix.shape[1], params)
            network.reset(torch_generator)
            validate = None
            if n_valid:
                ends = train_ends[held_out]
                validate = functools.partial(
                    net.hit_rate,
                    network,
                    last_windows(indptr, items, held_out, params["max_length"], ends=ends),
                    _seen_rows(indptr, items, held_out, ends, matrix.shape[1]),
                    items[indptr[held_out] + ends],
                )
            self.history_ = net.train(
                network,
                _window_batches(indptr, items, train_users, train_ends, params, generator),
                params["epochs"],
                batch_size=params["batch_size"],
                learning_rate=params["learning_rate"],
                weight_decay=params["weight_decay"],
                n_negatives=params["n_negatives"],
                generator=torch_generator,
                validate=validate,
                patience=params["patience"] if n_valid else None,
                on_epoch=params["progress"],
            )
            self._store(network, indptr, items, params)

    def _refit(self, matrix, interactions, delta, params):
        from recollective.models import _sequential_net as net

        generator = as_generator(params["rng"])
        indptr, items = user_histories(matrix, interactions.order)
        lengths = np.diff(indptr)
        changed = delta.changed_users
        changed = changed[lengths[changed] >= 2]
        others = np.setdiff1d(np.flatnonzero(lengths >= 2), changed)
        n_replay = min(others.size, max(params["refit_replay"] * changed.size, params["batch_size"]))
        replay = generator.choice(others, n_replay, replace=False)
        users = np.concatenate([changed, replay])
        latest = np.zeros(matrix.shape[0], dtype=bool)
        latest[changed] = True
        with net.torch_threads(params["num_threads"]):
            torch_generator = _torch_generator(generator)
            network = self._network(matrix.shape[1], params)
            self.history_ = net.train(
                network,
                _window_batches(indptr, items, users, lengths, params, generator, latest=latest),
                params["refit_epochs"],
                batch_size=params["batch_size"],
                learning_rate=params["learning_rate"],
                weight_decay=params["weight_decay"],
                n_negatives=params["n_negatives"],
                generator=torch_generator,
                on_epoch=params["progress"],
            )
            self._store(network, indptr, items, params)

    def _network(self, n_items, params):
        """The network with the stored ``weights_``."""
        import torch

        network = _new_network(n_items, params)
        network.load_state_dict({name: torch.from_numpy(value.copy()) for name, value in self.weights_.items()})
        return network

    def _store(self, network, indptr, items, params):
        from recollective.models import _sequential_net as net

        users = np.arange(indptr.size - 1)
        self.user_factors_ = net.encode(network, last_windows(indptr, items, users, params["max_length"]))
        self.user_factors_[np.diff(indptr) == 0] = 0.0
        self.item_factors_ = network.item_vectors().detach().numpy().copy()
        self.weights_ = {name: value.detach().numpy().copy() for name, value in network.state_dict().items()}

    # ------------------------------------------------------------------------------------------ scoring
    def _score_block(self, user_idx):
        # float64 products rounded to float32: a user's scores do not depend on which users share the block
        # (float32 matrix-vector and matrix-matrix products differ in the last bit)
        users = self.user_factors_[user_idx].astype(np.float64)
        return (users @ self.item_factors_.T.astype(np.float64)).astype(np.float32)


def next_item_split(matrix: sp.csr_array, order, validation_fraction: float, generator, owner: str):
    """Histories in reading order and a next-item validation split, for sequence models.

    Returns ``(indptr, items, held_out, ends, train_users)``: :func:`user_histories`; the validation users (a
    ``validation_fraction`` of the users with at least 3 items, drawn from ``generator``, sorted), whose last item
    is held out; each user's training end (history length, minus one for validation users); the users with at
    least 2 training items. Raises ``DataError`` naming ``owner`` when there are none.
    """
    indptr, items = user_histories(matrix, order)
    lengths = np.diff(indptr)
    eligible = np.flatnonzero(lengths >= 3)
    n_valid = round(validation_fraction * eligible.size)
    held_out = np.sort(generator.choice(eligible, n_valid, replace=False)) if n_valid else eligible[:0]
    ends = lengths.copy()
    ends[held_out] -= 1  # validation users train without their last item
    train_users = np.flatnonzero(ends >= 2)
    if train_users.size == 0:
        raise DataError(
            f"{owner}: no user has two or more interactions ({matrix.shape[0]} users, {matrix.nnz} interactions); "
            "a next-item model learns from sequences: give users longer histories or use another model"
        )
    return indptr, items, held_out, ends, train_users


def user_histories(matrix: sp.csr_array, order: sp.csr_array | None) -> tuple[np.ndarray, np.ndarray]:
    """Each user's items in reading order, as CSR-like ``(indptr, item_idx)``.

    Parameters
    ----------
    matrix : csr_array of shape (n_users, n_items)
    order : csr_array of shape (n_users, n_items) or None
        Timestamp or position of each stored entry (``matrix``'s pattern). Ties go by item index; NaN (an
        interaction without an order) comes after every ordered one. ``None``: item-index order.

    Returns
    -------
    indptr : ndarray of int64, shape (n_users + 1,)
    item_idx : ndarray of int64, shape (nnz,)
        User ``u``'s items, oldest first, are ``item_idx[indptr[u]:indptr[u + 1]]``.
    """
    indptr = np.asarray(matrix.indptr, dtype=np.int64)
    indices = np.asarray(matrix.indices, dtype=np.int64)
    if order is None:
        return indptr, indices
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(indptr))
    when = np.asarray(order.data, dtype=np.float64)
    late = np.isnan(when)
    ranking = np.lexsort((indices, np.where(late, 0.0, when), late, rows))
    return indptr, indices[ranking]


def last_windows(indptr, items, users, length: int, ends=None) -> np.ndarray:
    """The last ``length`` items (shifted by one, left-padded with 0) of each user's history cut at ``ends``.

    Returns an int64 ndarray of shape (len(users), length); ``ends[i]`` (default: the history length) is how
    many of user ``users[i]``'s items count.
    """
    users = np.asarray(users, dtype=np.int64)
    ends = np.diff(indptr)[users] if ends is None else np.asarray(ends, dtype=np.int64)
    offset = ends[:, None] - length + np.arange(length)[None, :]  # position within the history
    valid = offset >= 0
    source = indptr[users][:, None] + np.where(valid, offset, 0)
    return (
        np.where(valid, items[np.minimum(source, items.size - 1)] + 1, 0)
        if items.size
        else np.zeros((users.size, length), dtype=np.int64)
    )


def _window_batches(indptr, items, users, ends, params, generator, latest=None):
    """``windows(epoch)`` for :func:`_sequential_net.train`: shuffled batches of ``max_length + 1`` items.

    A window's end is drawn uniformly among the user's full-length windows (``ends[u]`` items count); users
    flagged in ``latest`` always take their most recent window.
    """
    width = params["max_length"] + 1
    batch_size = params["batch_size"]

    def windows(epoch):
        permuted = generator.permutation(users)
        total = ends[permuted]
        lowest = np.minimum(total, width)
        cut = lowest + np.floor(generator.random(permuted.size) * (total - lowest + 1)).astype(np.int64)
        if latest is not None:
            cut = np.where(latest[permuted], total, cut)
        for start in range(0, permuted.size, batch_size):
            part = slice(start, start + batch_size)
            yield last_windows(indptr, items, permuted[part], width, ends=cut[part])

    return windows


def _seen_rows(indptr, items, users, ends, n_items) -> sp.csr_array:
    """CSR (len(users), n_items) of each user's first ``ends[i]`` items."""
    pointer = np.concatenate([[0], np.cumsum(ends)])
    columns = np.concatenate([items[indptr[u] : indptr[u] + e] for u, e in zip(users, ends, strict=True)])
    return sp.csr_array((np.ones(columns.size), columns, pointer), shape=(len(users), n_items))


def _new_network(n_items, params):
    from recollective.models import _sequential_net as net

    return net.SASRecNetwork(
        n_items,
        params["embedding_dim"],
        params["n_blocks"],
        params["n_heads"],
        params["dropout"],
        params["max_length"],
    )


def _torch_generator(generator: np.random.Generator):
    import torch

    return torch.Generator().manual_seed(int(generator.integers(2**63 - 1)))


def _bad(name, value, allowed):
    return InvalidParameterError(f"{SequentialTransformer.name}: {name} must be {allowed}; got {value!r}")
