"""Fine-tuning a causal LM on (prompt, next item) examples: the loss is on the next item's tokens only.

One optimisation step takes ``batch_size`` examples, each ``prompt + candidate tokens`` right-padded; the loss is
the mean cross-entropy over the candidate tokens of the batch (prompt and padding ignored). AdamW on the
trainable parameters (all of them, or LoRA adapters), gradient norm clipped at 1. With validation examples, the
mean negative log-likelihood of their next item is measured after each epoch; training stops when it has not
improved for ``patience`` epochs and the best epoch's parameters are restored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["Example", "fine_tune", "mean_nll"]

Example = tuple[list[int], list[int]]  # (prompt token ids, next item's token ids ending with end-of-sequence)


def _batch(examples: list[Example], pad_id: int, device):
    import torch

    width = max(len(p) + len(c) for p, c in examples)
    tokens = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, (prompt, target) in enumerate(examples):
        joined = prompt + target
        tokens[row, : len(joined)] = torch.tensor(joined)
        labels[row, len(prompt) : len(joined)] = torch.tensor(target)
        mask[row, : len(joined)] = 1
    return tokens.to(device), labels.to(device), mask.to(device)


def _token_nll(network, examples, pad_id, device, autocast_dtype):
    """(summed NLL per example, target tokens per example) as torch tensors."""
    import torch

    tokens, labels, mask = _batch(examples, pad_id, device)
    with torch.autocast(device_type=torch.device(device).type, dtype=autocast_dtype, enabled=autocast_dtype
                        is not None):
        logits = network(input_ids=tokens, attention_mask=mask).logits
    shifted = labels[:, 1:]
    losses = torch.nn.functional.cross_entropy(
        logits[:, :-1].float().reshape(-1, logits.shape[-1]), shifted.reshape(-1), ignore_index=-100, reduction="none"
    ).reshape(shifted.shape)
    return losses.sum(dim=1), (shifted != -100).sum(dim=1)


def mean_nll(network, examples: list[Example], *, batch_size, pad_id, device, autocast_dtype) -> float:
    """Mean over examples of the next item's negative log-likelihood (nats, summed over its tokens)."""
    import torch

    network.eval()
    total = 0.0
    with torch.inference_mode():
        for start in range(0, len(examples), batch_size):
            sums, _ = _token_nll(network, examples[start : start + batch_size], pad_id, device, autocast_dtype)
            total += float(sums.sum())
    return total / max(len(examples), 1)


def fine_tune(
    network,
    examples_for_epoch: Callable[[int], list[Example]],
    epochs: int,
    *,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    generator: np.random.Generator,
    pad_id: int,
    device,
    autocast_dtype=None,
    validation: list[Example] | None = None,
    patience: int | None = None,
    on_epoch=None,
) -> list[dict]:
    """Train ``network`` in place; returns one dict per epoch (``loss``, and ``validation_nll`` when validating)."""
    import torch

    trainable = [p for p in network.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=weight_decay)
    history: list[dict] = []
    best, best_state, stale = np.inf, None, 0
    for epoch in range(epochs):
        examples = examples_for_epoch(epoch)
        network.train()
        order = generator.permutation(len(examples))
        losses = []
        for start in range(0, len(examples), batch_size):
            chunk = [examples[i] for i in order[start : start + batch_size]]
            sums, counts = _token_nll(network, chunk, pad_id, device, autocast_dtype)
            loss = sums.sum() / counts.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            losses.append(float(loss.detach()))
        record = {"loss": float(np.mean(losses)) if losses else float("nan")}
        if validation:
            record["validation_nll"] = mean_nll(
                network, validation, batch_size=batch_size, pad_id=pad_id, device=device, autocast_dtype=autocast_dtype
            )
        history.append(record)
        if on_epoch is not None:
            on_epoch(epoch + 1, epochs, record)
        if validation and patience is not None:
            if record["validation_nll"] < best:
                best, stale = record["validation_nll"], 0
                best_state = {n: p.detach().clone() for n, p in network.named_parameters() if p.requires_grad}
            else:
                stale += 1
                if stale >= patience:
                    break
    if best_state is not None:
        with torch.no_grad():
            for name, parameter in network.named_parameters():
                if name in best_state:
                    parameter.copy_(best_state[name])
    network.eval()
    return history
