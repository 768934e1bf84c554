"""The torch half of :class:`~recollective.models.SequentialTransformer`: the SASRec network and its training loop.

Imported only when a sequential model is fitted (``import recollective.models`` never imports torch). Every
random draw here comes from a local ``torch.Generator`` (parameter init, dropout masks, sampled negatives) or
from the caller's numpy generator (batch order, training windows); the global torch RNG is never used, and the
thread count is set only inside :func:`torch_threads` and restored after.

Sequences are item indices shifted by one, left-padded with 0: ``[0, 0, 5, 9, 2]`` is a user who read items
4, 8, 1 in that order (SASRec's layout, so the most recent item always sits at the last position).
"""

from __future__ import annotations

import contextlib
import logging
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SASRecNetwork", "encode", "hit_rate", "torch_threads", "train"]

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def torch_threads(n_threads: int | None):
    """Run torch on ``n_threads`` intra-op threads inside the block (``None``: leave the setting alone)."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _dropout(x, p: float, training: bool, generator):
    """Inverted dropout whose mask is drawn from ``generator`` (``F.dropout`` would use the global RNG)."""
    if not training or p == 0.0:
        return x
    keep = torch.rand(x.shape, generator=generator) >= p
    return x * keep / (1.0 - p)


class _Block(nn.Module):
    """Pre-norm causal self-attention block: ``x + attn(LN(x))``, then ``x + FFN(LN(x))`` (FFN width = dim)."""

    def __init__(self, dim: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.norm_attention = nn.LayerNorm(dim)
        self.norm_feed = nn.LayerNorm(dim)
        self.qkv_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.qkv_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_weight = nn.Parameter(torch.empty(dim, dim))
        self.out_bias = nn.Parameter(torch.zeros(dim))
        self.feed_weight1 = nn.Parameter(torch.empty(dim, dim))
        self.feed_bias1 = nn.Parameter(torch.zeros(dim))
        self.feed_weight2 = nn.Parameter(torch.empty(dim, dim))
        self.feed_bias2 = nn.Parameter(torch.zeros(dim))

    def reset(self, generator) -> None:
        for weight in (self.qkv_weight, self.out_weight, self.feed_weight1, self.feed_weight2):
            bound = math.sqrt(6.0 / (weight.shape[0] + weight.shape[1]))  # Glorot uniform
            nn.init.uniform_(weight, -bound, bound, generator=generator)

    def forward(self, x, mask, generator):
        batch, length, dim = x.shape
        heads = self.n_heads
        h = self.norm_attention(x)
        q, k, v = F.linear(h, self.qkv_weight, self.qkv_bias).view(batch, length, 3, heads, dim // heads).unbind(2)
        attended = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask
        )
        attended = F.linear(attended.transpose(1, 2).reshape(batch, length, dim), self.out_weight, self.out_bias)
        x = x + _dropout(attended, self.dropout, self.training, generator)
        h = self.norm_feed(x)
        h = _dropout(F.gelu(F.linear(h, self.feed_weight1, self.feed_bias1)), self.dropout, self.training, generator)
        h = F.linear(h, self.feed_weight2, self.feed_bias2)
        return x + _dropout(h, self.dropout, self.training, generator)


class SASRecNetwork(nn.Module):
    """Item + learned position embeddings, ``n_blocks`` causal self-attention blocks, a final layer norm.

    The item embedding (row 0 = padding) is shared by input and output: the score of item ``i`` after a
    sequence is the final hidden state dotted with row ``i + 1``.
    """

    def __init__(self, n_items: int, dim: int, n_blocks: int, n_heads: int, dropout: float, max_length: int):
        super().__init__()
        self.dropout = dropout
        self.item_embedding = nn.Parameter(torch.empty(n_items + 1, dim))
        self.position_embedding = nn.Parameter(torch.empty(max_length, dim))
        self.blocks = nn.ModuleList(_Block(dim, n_heads, dropout) for _ in range(n_blocks))
        self.final_norm = nn.LayerNorm(dim)

    def reset(self, generator) -> None:
        """Fresh parameters from ``generator``: embeddings N(0, 1/dim), Glorot-uniform projections."""
        dim = self.item_embedding.shape[1]
        with torch.no_grad():
            nn.init.normal_(self.item_embedding, 0.0, 1.0 / math.sqrt(dim), generator=generator)
            self.item_embedding[0].zero_()
            nn.init.normal_(self.position_embedding, 0.0, 1.0 / math.sqrt(dim), generator=generator)
            for block in self.blocks:
                block.reset(generator)

    def forward(self, sequences, generator=None):
        """Hidden states, tensor of shape (batch, length, dim), of left-padded ``sequences`` (batch, length)."""
        length = sequences.shape[1]
        valid = sequences > 0
        dim = self.item_embedding.shape[1]
        x = F.embedding(sequences, self.item_embedding) * math.sqrt(dim)
        x = x + self.position_embedding[-length:]
        x = _dropout(x, self.dropout, self.training, generator) * valid.unsqueeze(-1)
        # position j may attend to earlier real items and always to itself (so padded rows stay finite)
        causal = torch.ones(length, length, dtype=torch.bool).tril()
        mask = (causal & valid[:, None, :]) | torch.eye(length, dtype=torch.bool)
        mask = mask.unsqueeze(1)
        for block in self.blocks:
            x = block(x, mask, generator)
        return self.final_norm(x)

    def item_vectors(self):
        """Output item embeddings, tensor of shape (n_items, dim) (the padding row left out)."""
        return self.item_embedding[1:]


def _loss(network, sequences, targets, n_negatives, generator):
    """Softmax cross-entropy of each real next item, over the catalogue or ``n_negatives`` shared samples."""
    hidden = network(sequences, generator)
    keep = targets > 0
    hidden, targets = hidden[keep], targets[keep] - 1
    items = network.item_vectors()
    if n_negatives is None:
        return F.cross_entropy(hidden @ items.T, targets)
    negatives = torch.randint(0, items.shape[0], (n_negatives,), generator=generator)
    positive = (hidden * items[targets]).sum(-1, keepdim=True)
    negative = hidden @ items[negatives].T
    negative = negative.masked_fill(negatives[None, :] == targets[:, None], -torch.inf)  # accidental hits
    logits = torch.cat([positive, negative], dim=1)
    return F.cross_entropy(logits, torch.zeros(targets.shape[0], dtype=torch.long))


def train(
    network,
    windows,
    n_epochs,
    *,
    batch_size,
    learning_rate,
    weight_decay,
    n_negatives,
    generator,
    validate=None,
    patience=None,
    on_epoch=None,
):
    """Train ``network`` in place with Adam(W) on next-item prediction; returns the list of per-epoch records.

    Parameters
    ----------
    windows : callable ``(epoch) -> iterator of int64 ndarray (batch, max_length + 1)``
        The training windows of one epoch, in batches (inputs are ``[:, :-1]``, next items ``[:, 1:]``).
    validate : callable ``() -> float`` or None
        Validation score (higher is better) after each epoch; with ``patience``, training stops when it has not
        improved for ``patience`` epochs and the best epoch's parameters are restored.
    on_epoch : callable ``(epoch, n_epochs, metrics)`` or None
        Called after each epoch with ``{"loss": ..., "hit_rate": ...}`` (``hit_rate`` only with ``validate``).
    """
    optimizer = torch.optim.AdamW(network.parameters(), lr=learning_rate, weight_decay=weight_decay)
    records, best, best_state, stale = [], -math.inf, None, 0
    for epoch in range(1, n_epochs + 1):
        network.train()
        total, count = 0.0, 0
        for batch in windows(epoch):
            tensor = torch.from_numpy(batch)
            loss = _loss(network, tensor[:, :-1], tensor[:, 1:], n_negatives, generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                network.item_embedding[0].zero_()
            total, count = total + float(loss.detach()) * len(batch), count + len(batch)
        metrics = {"loss": total / max(count, 1)}
        if validate is not None:
            metrics["hit_rate"] = validate()
        records.append(metrics)
        logger.info(
            "sequential: epoch %d/%d %s",
            epoch,
            n_epochs,
            " ".join(f"{key} {value:.4f}" for key, value in metrics.items()),
        )
        if on_epoch is not None:
            on_epoch(epoch, n_epochs, dict(metrics))
        if validate is None or patience is None:
            continue
        if metrics["hit_rate"] > best:
            best, stale = metrics["hit_rate"], 0
            best_state = {name: value.detach().clone() for name, value in network.state_dict().items()}
        else:
            stale += 1
            if stale >= patience:
                logger.info("sequential: early stop after epoch %d (best validation hit rate %.4f)", epoch, best)
                break
    if best_state is not None:
        network.load_state_dict(best_state)
    return records


@torch.inference_mode()
def encode(network, sequences: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Final hidden state after each left-padded sequence, float32 ndarray of shape (n_sequences, dim)."""
    network.eval()
    out = np.empty((sequences.shape[0], network.item_embedding.shape[1]), dtype=np.float32)
    for start in range(0, sequences.shape[0], batch_size):
        chunk = torch.from_numpy(sequences[start : start + batch_size])
        out[start : start + batch_size] = network(chunk)[:, -1].numpy()
    return out


@torch.inference_mode()
def hit_rate(network, sequences: np.ndarray, seen, targets: np.ndarray, k: int = 10) -> float:
    """Share of ``sequences`` whose next item ``targets`` (item indices) is among the top ``k`` unseen items.

    ``seen`` is a CSR array (n_sequences, n_items) of the items each history holds (left out of the ranking).
    """
    states = torch.from_numpy(encode(network, sequences))
    items = network.item_vectors().detach()
    hits = 0
    for start in range(0, states.shape[0], 1024):
        scores = states[start : start + 1024] @ items.T
        block = seen[start : start + 1024]
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        scores[torch.from_numpy(rows), torch.from_numpy(block.indices.astype(np.int64))] = -torch.inf
        top = torch.topk(scores, min(k, scores.shape[1]), dim=1).indices.numpy()
        hits += int((top == targets[start : start + 1024, None]).any(axis=1).sum())
    return hits / max(1, states.shape[0])
