"""A tiny randomly initialised Llama-style model folder (no weights needed) and book-like test data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recollective.data import Interactions
from recollective.models import make_model

TITLES = [f"Book {chr(65 + i % 26)}{i}" for i in range(40)]
AUTHORS = [f"Writer {i % 7}" for i in range(40)]


def book_interactions(n_users: int = 24, n_items: int = 40, seed: int = 0) -> Interactions:
    """Two reader groups (first/second half of the users) reading in their own half of the books, in order."""
    rng = np.random.default_rng(seed)
    users, items, order = [], [], []
    half = n_items // 2
    for user in range(n_users):
        own = np.arange(half) if user < n_users // 2 else np.arange(half, n_items)
        chosen = rng.choice(own, size=8, replace=False)
        users += [f"u{user}"] * chosen.size
        items += [f"b{i}" for i in chosen]
        order += list(range(chosen.size))
    data = Interactions.from_arrays(users, items, np.ones(len(users)), order=np.asarray(order, dtype=float))
    index = [int(i[1:]) for i in data.items.ids]
    metadata = {"title": np.array([TITLES[i] for i in index], dtype=object),
                "authors": np.array([AUTHORS[i] for i in index], dtype=object)}
    return Interactions(data.matrix, data.users, data.items, data.order, metadata)


def small(tiny: str, **params):
    """An unfitted LLM recommender on the tiny model, sized for tests (2 epochs, popularity candidates, 1 thread)."""
    base = {"base_model": tiny, "epochs": 2, "batch_size": 4, "learning_rate": 5e-3, "candidate_model": "popularity",
            "n_candidates": 10, "num_threads": 1, "rng": 0}
    return make_model("llm", **{**base, **params})


def tiny_llama(folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer Llama with a byte-level BPE tokenizer trained on the test titles into ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    corpus = [f"Books I have read: {t} by {a};\nNext:" for t, a in zip(TITLES, AUTHORS, strict=True)]
    tokenizer.train_from_iterator(corpus * 5, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=1, eos_token_id=2, pad_token_id=2, tie_word_embeddings=True)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder
