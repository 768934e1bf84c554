"""Candidate log-likelihoods under a causal LM: one reader at a time (the reference) or many readers per pass.

For a prompt ``p`` and a candidate's tokens ``c_1..c_m`` (its text then end-of-sequence), the score is
``sum_t log P(c_t | p, c_<t)`` (or that sum over ``m`` with ``reduction="mean"``).

* :func:`candidate_log_likelihoods` (the reference path) scores one reader: the prompt goes through the network
  once and its key/value cache is repeated over batches of candidates, which are right-padded (a causal model
  never lets padding change an earlier position, so no attention mask is needed).
* :func:`batched_candidate_log_likelihoods` scores several readers per forward pass without any cache. A reader's
  row holds its prompt followed by the *prefix tree* of its candidates: one position per distinct candidate
  prefix (``c_1..c_t``, ``t < m``; candidates that share a prefix, such as the volumes of a series, share those
  positions), each attending to the prompt, to its own ancestors and to itself (an explicit boolean attention mask
  of shape (rows, 1, width, width)), at the position id it would have after the prompt (``len(p) + t - 1``). A
  tree position's hidden state therefore depends on exactly the tokens it depends on in the reference path, and
  ``log P(c_{t+1} | p, c_<=t)`` is read from its logits (``log P(c_1 | p)`` from the prompt's last position).
  Rows are left-padded so that every prompt ends in the same column, and the tree is right-padded; padding
  positions attend only to themselves. Logits are computed for the tree columns only (``logits_to_keep``). A reader
  with many candidates (the whole catalogue) can be split over several rows, its prompt repeated in each. Rows
  are sorted by length before they are grouped, so the rows of a pass have similar lengths.

Both give the same scores up to float rounding (the order of sums inside matrix products and attention differs):
the tests hold them to 1e-4 on a tiny model in float32, and benchmarks/bench_llm_scoring.py measured 4.3e-4
on SmolLM2-135M's scores (magnitude up to 250).
"""

from __future__ import annotations

import copy
import logging

import numpy as np

__all__ = ["batched_candidate_log_likelihoods", "candidate_log_likelihoods", "supports_batched_scoring"]

logger = logging.getLogger(__name__)

_MASKED_ATTENTION = ("sdpa", "eager")  # implementations that take a custom 4-D mask as it is given


def candidate_log_likelihoods(
    network, prompt: list[int], candidates: list[list[int]], *, device, autocast_dtype, pad_id: int,
    batch_size: int = 64, reduction: str = "sum",
) -> np.ndarray:
    """Log-likelihood of each candidate given the prompt, ndarray of shape (len(candidates),), float64."""
    import torch

    out = np.empty(len(candidates))
    if not candidates:
        return out
    with torch.inference_mode(), _autocast(device, autocast_dtype):
        start = network(torch.tensor([prompt], device=device), use_cache=True)
        first = torch.log_softmax(start.logits[0, -1].float(), dim=-1)
        cache = start.past_key_values
        for begin in range(0, len(candidates), batch_size):
            chunk = candidates[begin : begin + batch_size]
            lengths = torch.tensor([len(c) for c in chunk], device=device)
            width = int(lengths.max())
            tokens = torch.full((len(chunk), width), pad_id, dtype=torch.long, device=device)
            for row, ids in enumerate(chunk):
                tokens[row, : len(ids)] = torch.tensor(ids, device=device)
            total = first[tokens[:, 0]]
            if width > 1:
                repeated = copy.deepcopy(cache)
                repeated.batch_repeat_interleave(len(chunk))
                logits = network(tokens[:, :-1], past_key_values=repeated, use_cache=True).logits
                log_probs = torch.log_softmax(logits.float(), dim=-1)
                picked = log_probs.gather(-1, tokens[:, 1:, None])[..., 0]
                valid = torch.arange(1, width, device=device)[None, :] < lengths[:, None]
                total = total + (picked * valid).sum(dim=1)
            if reduction == "mean":
                total = total / lengths
            out[begin : begin + len(chunk)] = total.double().cpu().numpy()
    return out


def supports_batched_scoring(network) -> bool:
    """Whether ``network`` takes the custom attention masks of :func:`batched_candidate_log_likelihoods`
    (``sdpa`` and ``eager`` attention do; flash-attention kernels take only padding masks)."""
    return getattr(network.config, "_attn_implementation", None) in _MASKED_ATTENTION


def batched_candidate_log_likelihoods(
    network, prompts: list[list[int]], candidates: list[list[list[int]]], *, device, autocast_dtype, pad_id: int,
    rows_per_pass: int = 8, candidates_per_row: int | None = None, reduction: str = "sum",
) -> list[np.ndarray]:
    """Log-likelihoods of every reader's candidates, several readers per forward pass.

    Parameters
    ----------
    network : a Hugging Face causal LM (or a PEFT model around one) with ``sdpa`` or ``eager`` attention
    prompts : list of list of int
        One prompt (token ids, at least one) per reader.
    candidates : list of list of list of int
        Per reader, its candidates' token ids (each non-empty, ending with end-of-sequence).
    rows_per_pass : int
        Rows of a forward pass (memory grows with it: the pass keeps ``rows x tree positions x vocabulary``
        logits and a ``rows x width x width`` mask).
    candidates_per_row : int or None
        A reader with more candidates takes several rows, its prompt repeated in each (bounds a row's width
        when the whole catalogue is scored); ``None``: one row per reader.

    Returns
    -------
    list of ndarray of shape (len(candidates[r]),), float64
        Equal to :func:`candidate_log_likelihoods` per reader up to float rounding.
    """
    import torch

    out = [np.empty(len(reader)) for reader in candidates]
    step = candidates_per_row or max([len(reader) for reader in candidates] + [1])
    rows = [(reader, start, min(start + step, len(candidates[reader])))
            for reader in range(len(prompts)) for start in range(0, len(candidates[reader]), step)]
    row_prompts = [prompts[reader] for reader, _, _ in rows]
    trees = [_PrefixTree(candidates[reader][start:stop]) for reader, start, stop in rows]
    order = sorted(range(len(rows)), key=lambda i: (len(row_prompts[i]) + trees[i].n_nodes, i))
    additive = getattr(network.config, "_attn_implementation", None) == "eager"
    with torch.inference_mode(), _autocast(device, autocast_dtype):
        for begin in range(0, len(order), rows_per_pass):
            group = order[begin : begin + rows_per_pass]
            tokens, positions, mask, n_kept = _pack(group, row_prompts, trees, pad_id)
            mask = torch.from_numpy(mask).to(device)
            if additive:
                mask = torch.zeros(mask.shape, dtype=torch.float32, device=device).masked_fill_(
                    ~mask, torch.finfo(torch.float32).min)
            logits = network(
                input_ids=torch.from_numpy(tokens).to(device), position_ids=torch.from_numpy(positions).to(device),
                attention_mask=mask, use_cache=False, logits_to_keep=n_kept,
            ).logits
            for row, index in enumerate(group):
                tree, (reader, start, stop) = trees[index], rows[index]
                kept = logits[row, : tree.n_nodes + 1].float()
                log_norm = torch.logsumexp(kept, dim=-1)
                at = torch.from_numpy(tree.predictor).to(device)
                target = torch.from_numpy(tree.target).to(device)
                picked = kept[at, target] - log_norm[at]
                total = torch.zeros(stop - start, dtype=torch.float64, device=device)
                total.index_add_(0, torch.from_numpy(tree.owner).to(device), picked.double())
                if reduction == "mean":
                    total = total / torch.from_numpy(tree.lengths).to(device)
                out[reader][start:stop] = total.cpu().numpy()
    return out


class _PrefixTree:
    """The distinct proper prefixes of one reader's candidates, as tree positions.

    Node ``k`` stands for one prefix ``c_1..c_t`` (``t >= 1``): its input token ``token[k] = c_t``, its ``parent``
    (the node of ``c_1..c_{t-1}``, or -1 for the prompt) and ``depth[k] = t - 1``. Every candidate token
    ``c_t`` becomes one (``predictor``, ``target``, ``owner``) triple: the kept-logit index that predicts it (0
    for the prompt's last position, ``1 + k`` for node ``k``), the token, and the candidate's index.
    """

    def __init__(self, candidates: list[list[int]]):
        index: dict[tuple[int, int], int] = {}
        tokens, parents, depths = [], [], []
        predictor, target, owner = [], [], []
        for which, ids in enumerate(candidates):
            node = -1
            for t, token in enumerate(ids):
                predictor.append(node + 1)
                target.append(token)
                owner.append(which)
                if t == len(ids) - 1:
                    break
                key = (node, token)
                if key not in index:
                    index[key] = len(tokens)
                    tokens.append(token)
                    parents.append(node)
                    depths.append(t)
                node = index[key]
        self.n_nodes = len(tokens)
        self.tokens = np.asarray(tokens, dtype=np.int64)
        self.parents = np.asarray(parents, dtype=np.int64)
        self.depths = np.asarray(depths, dtype=np.int64)
        self.predictor = np.asarray(predictor, dtype=np.int64)
        self.target = np.asarray(target, dtype=np.int64)
        self.owner = np.asarray(owner, dtype=np.int64)
        self.lengths = np.asarray([len(ids) for ids in candidates], dtype=np.float64)


def _pack(group, prompts, trees, pad_id):
    """Input ids, position ids (rows, width), the boolean attention mask (rows, 1, width, width) and how many
    trailing columns need logits, for the readers in ``group``: prompts end in column ``n_prompt - 1``, trees
    start at column ``n_prompt``."""
    n_prompt = max(len(prompts[r]) for r in group)
    n_tree = max(trees[r].n_nodes for r in group)
    width = n_prompt + n_tree
    tokens = np.full((len(group), width), pad_id, dtype=np.int64)
    positions = np.zeros((len(group), width), dtype=np.int64)
    mask = np.zeros((len(group), 1, width, width), dtype=bool)
    diagonal = np.arange(width)
    mask[:, 0, diagonal, diagonal] = True  # padding attends to itself only, so no row of the softmax is empty
    for row, reader in enumerate(group):
        prompt, tree = prompts[reader], trees[reader]
        first = n_prompt - len(prompt)
        tokens[row, first:n_prompt] = prompt
        positions[row, first:n_prompt] = np.arange(len(prompt))
        block = mask[row, 0]
        block[first:n_prompt, first:n_prompt] = np.tril(np.ones((len(prompt), len(prompt)), dtype=bool))
        nodes = n_prompt + np.arange(tree.n_nodes)
        tokens[row, nodes] = tree.tokens
        positions[row, nodes] = len(prompt) + tree.depths
        for k, parent in enumerate(tree.parents.tolist()):  # the parent's row (its ancestors), then itself
            source = n_prompt - 1 if parent < 0 else n_prompt + parent
            block[n_prompt + k, : n_prompt + k] = block[source, : n_prompt + k]
    return tokens, positions, mask, n_tree + 1


def _autocast(device, dtype):
    import torch

    device_type = torch.device(device).type
    return torch.autocast(device_type=device_type, dtype=dtype, enabled=dtype is not None)
