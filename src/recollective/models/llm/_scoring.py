"""Candidate log-likelihoods under a causal LM, the prompt's key/value cache reused across candidates.

For a prompt ``p`` and a candidate's tokens ``c_1..c_m`` (its text then end-of-sequence), the score is
``sum_t log P(c_t | p, c_<t)`` (or that sum over ``m`` with ``reduction="mean"``). The prompt goes through the
network once; its cache is repeated over a batch of candidates, which are right-padded (a causal model never
lets padding change an earlier position, so no attention mask is needed).
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["candidate_log_likelihoods"]


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


def _autocast(device, dtype):
    import torch

    device_type = torch.device(device).type
    return torch.autocast(device_type=device_type, dtype=dtype, enabled=dtype is not None)
