"""Fit, refit and score for :class:`~recollective.models.llm.LLMRecommender` (torch and transformers live here).

Training examples are (prompt, next item) pairs cut from ordered histories. ``fit`` starts from the base model
(a ``refit_mode="retrain"`` refit is ``fit`` on the updated data); ``refit`` (``refit_mode="continue"``)
continues from the current weights on the items a delta added (each the target after the history that precedes
it) plus a replay sample of other users; ``score_users`` computes candidate log-likelihoods (several users per
forward pass, or one at a time on the reference path) and keeps them per user until the next fit or refit
(scoring is deterministic, so a cached row equals a fresh one).
"""

from __future__ import annotations

import logging

import numpy as np

from recollective._random import as_generator
from recollective.models._sequential import next_item_split, user_histories
from recollective.models.llm._base_model import load_base_model
from recollective.models.llm._prompts import PromptBuilder, item_texts
from recollective.models.llm._scoring import (
    batched_candidate_log_likelihoods,
    candidate_log_likelihoods,
    supports_batched_scoring,
)
from recollective.models.llm._training import fine_tune

__all__ = ["fit", "refit", "score_users"]

logger = logging.getLogger(__name__)

_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def _autocast_dtype(params, device):
    import torch

    precision = params["precision"]
    if precision == "auto":
        precision = "bfloat16" if device == "cuda" else "float32"
    return torch.bfloat16 if precision == "bfloat16" else None


def _example(builder, indptr, items, user, cut):
    """(prompt of the user's items before position ``cut``, tokens of the item at ``cut``)."""
    history = items[indptr[user] : indptr[user] + cut]
    return builder.prompt(history), builder.candidates[int(items[indptr[user] + cut])]


def _random_examples(builder, indptr, items, users, ends, generator):
    """One example per user: a cut drawn uniformly in [1, end) (the first item always has a history)."""
    cuts = 1 + (generator.random(users.size) * (ends[users] - 1)).astype(np.int64)
    return [_example(builder, indptr, items, int(u), int(c)) for u, c in zip(users, cuts, strict=True)]


def fit(model, matrix, interactions, params, device) -> None:
    import torch

    generator = as_generator(params["rng"])
    torch_seed = int(generator.integers(2**31))
    lora = params["fine_tuning"] == "lora"
    network, tokenizer = load_base_model(params["base_model"], lora=lora)
    if lora:
        from peft import LoraConfig, get_peft_model

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(torch_seed)
            config = LoraConfig(r=params["lora_rank"], lora_alpha=params["lora_alpha"], lora_dropout=0.0,
                                target_modules=_LORA_TARGETS, bias="none")
            network = get_peft_model(network, config)
    network.to(device)
    builder = PromptBuilder(tokenizer, item_texts(interactions, params["item_template"]), params["prompt_template"],
                            params["separator"], params["max_history_tokens"])
    indptr, items, held_out, ends, train_users = next_item_split(
        matrix, interactions.order, params["validation_fraction"], generator, "llm"
    )
    validation = [_example(builder, indptr, items, int(u), int(ends[u])) for u in held_out]

    def examples_for_epoch(epoch):
        users = train_users
        if params["max_train_users"] is not None and users.size > params["max_train_users"]:
            users = np.sort(generator.choice(users, params["max_train_users"], replace=False))
        return _random_examples(builder, indptr, items, users, ends, generator)

    model.history_ = fine_tune(
        network, examples_for_epoch, params["epochs"], batch_size=params["batch_size"],
        learning_rate=params["learning_rate"], weight_decay=params["weight_decay"], generator=generator,
        pad_id=builder.pad_id, device=device, autocast_dtype=_autocast_dtype(params, device),
        validation=validation or None, patience=params["patience"] if validation else None,
        on_epoch=params["progress"],
    )
    model.network_ = network
    model.prompts_ = builder
    model.histories_ = (indptr, items)
    model.candidate_model_ = None
    if params["candidates"] == "rerank":
        from recollective.models._registry import make_model

        candidate_model = make_model(params["candidate_model"])
        if "rng" in candidate_model.get_params():
            candidate_model.set_params(rng=torch_seed)
        model.candidate_model_ = candidate_model.fit(interactions)
    model.score_cache_ = {}


def refit(model, matrix, interactions, delta, params, device) -> None:
    generator = as_generator(params["rng"])
    builder = model.prompts_
    indptr, items = user_histories(matrix, interactions.order)
    lengths = np.diff(indptr)
    added = {}
    for user, item in zip(delta.added_users.tolist(), delta.added_items.tolist(), strict=True):
        added.setdefault(user, set()).add(item)
    examples = []
    for user, new_items in added.items():
        history = items[indptr[user] : indptr[user + 1]]
        for cut in np.flatnonzero(np.isin(history, list(new_items))):
            examples.append(_example(builder, indptr, items, user, int(cut)))
    changed = np.fromiter(added, dtype=np.int64, count=len(added))
    others = np.setdiff1d(np.flatnonzero(lengths >= 2), changed)
    n_replay = min(others.size, params["refit_replay"] * max(changed.size, 1))

    def examples_for_epoch(epoch):
        replay = np.sort(generator.choice(others, n_replay, replace=False)) if n_replay else others[:0]
        return examples + _random_examples(builder, indptr, items, replay, lengths, generator)

    if examples:
        model.history_ = fine_tune(
            model.network_, examples_for_epoch, params["refit_epochs"], batch_size=params["batch_size"],
            learning_rate=params["learning_rate"], weight_decay=params["weight_decay"], generator=generator,
            pad_id=builder.pad_id, device=device, autocast_dtype=_autocast_dtype(params, device),
            on_epoch=params["progress"],
        )
    else:
        model.history_ = []
    model.histories_ = (indptr, items)
    if model.candidate_model_ is not None:
        model.candidate_model_.refit(interactions, delta)
    model.score_cache_ = {}


def score_users(model, users: np.ndarray, device) -> np.ndarray:
    """Scores of shape (len(users), n_items), float32: candidate log-likelihoods, ``-inf`` elsewhere."""
    params = model.params_
    n_items = model.n_items_
    out = np.full((users.size, n_items), -np.inf, dtype=np.float32)
    pending = [u for u in users.tolist() if u not in model.score_cache_]
    if pending:
        pending = np.asarray(pending, dtype=np.int64)
        seen = model.seen_
        extra = np.asarray(params["extra_candidates"], dtype=np.int64)
        if params["candidates"] == "rerank":
            lists, _ = model.candidate_model_.recommend(pending, params["n_candidates"])
        indptr, items = model.histories_
        autocast = _autocast_dtype(params, device)
        model.network_.eval()
        pools, prompts = [], []
        for row, user in enumerate(pending.tolist()):
            if params["candidates"] == "rerank":
                pool = np.union1d(lists[row][lists[row] >= 0], extra)
            else:
                pool = np.arange(n_items)
            pools.append(pool[~np.isin(pool, seen.indices[seen.indptr[user] : seen.indptr[user + 1]])])
            prompts.append(model.prompts_.prompt(items[indptr[user] : indptr[user + 1]]))
        texts = [[model.prompts_.candidates[i] for i in pool.tolist()] for pool in pools]
        common = {"device": device, "autocast_dtype": autocast, "pad_id": model.prompts_.pad_id,
                  "reduction": params["reduction"]}
        readers_per_pass = params["score_batch_readers"]
        if readers_per_pass is not None and not supports_batched_scoring(model.network_):
            logger.info("llm: %s attention takes no custom masks; scoring one reader at a time",
                        model.network_.config._attn_implementation)
            readers_per_pass = None
        if readers_per_pass is None:
            values = [candidate_log_likelihoods(model.network_, prompt, cands, batch_size=params["scoring_batch"],
                                                **common) for prompt, cands in zip(prompts, texts, strict=True)]
        else:
            values = batched_candidate_log_likelihoods(model.network_, prompts, texts, rows_per_pass=readers_per_pass,
                                                       candidates_per_row=params["scoring_batch"], **common)
        for user, pool, value in zip(pending.tolist(), pools, values, strict=True):
            model.score_cache_[user] = (pool, value.astype(np.float32))
    for row, user in enumerate(users.tolist()):
        pool, values = model.score_cache_[user]
        out[row, pool] = values
    return out
