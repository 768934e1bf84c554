"""Reading histories as text: item texts, token ids, prompts under a token budget.

A prompt is ``prompt_template`` with ``{history}`` replaced by the user's items, oldest first, each written as
``item_template`` followed by ``separator``; a candidate is ``item_template`` followed by the end-of-sequence
token, so its likelihood is that of the whole item text. Items are tokenised one by one (and the template's
parts apart), so a prompt is a concatenation of cached token lists and the most recent items that fit the
budget are kept.
"""

from __future__ import annotations

import string

import numpy as np

from recollective.errors import InvalidParameterError

__all__ = ["ITEM_FIELDS", "PromptBuilder", "check_templates", "item_texts"]

ITEM_FIELDS = ("title", "author", "id")


def check_templates(owner: str, prompt_template: str, item_template: str) -> None:
    """Raise ``InvalidParameterError`` unless both templates use only their allowed placeholders."""
    fields = [name for _, name, _, _ in string.Formatter().parse(prompt_template) if name is not None]
    if fields != ["history"]:
        raise InvalidParameterError(
            f"{owner}: prompt_template must contain the placeholder {{history}} exactly once and no other; "
            f"got {prompt_template!r}"
        )
    fields = {name for _, name, _, _ in string.Formatter().parse(item_template) if name is not None}
    if not fields or not fields <= set(ITEM_FIELDS):
        raise InvalidParameterError(
            f"{owner}: item_template may use {{title}}, {{author}} and {{id}} (at least one); got {item_template!r}"
        )


def item_texts(interactions, item_template: str) -> list[str]:
    """Each item's text: ``item_template`` filled from the item metadata (``title``; ``primary_author`` or
    ``authors``) and the item id. Items without a title are called ``item <id>``; without an author, ``unknown``."""
    metadata = interactions.item_metadata or {}
    ids = interactions.items.ids
    titles = metadata.get("title")
    authors = metadata.get("primary_author", metadata.get("authors"))
    texts = []
    for index in range(interactions.n_items):
        title = titles[index] if titles is not None else None
        author = authors[index] if authors is not None else None
        texts.append(
            item_template.format(
                title=_clean(title) or f"item {ids[index]}", author=_clean(author) or "unknown", id=ids[index]
            )
        )
    return texts


def _clean(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return " ".join(str(value).split())


class PromptBuilder:
    """Token ids of prompts and candidates (plain lists of int; holds no tokenizer after construction).

    Parameters
    ----------
    tokenizer : a Hugging Face tokenizer
    texts : list of str
        Item texts (:func:`item_texts`), one per item index.
    prompt_template, separator : str
    max_history_tokens : int
        Budget of the history part of a prompt; the most recent items that fit are kept (at least one).
    """

    def __init__(self, tokenizer, texts, prompt_template: str, separator: str, max_history_tokens: int):
        prefix, suffix = prompt_template.split("{history}")

        def encode(batch):
            return tokenizer(batch, add_special_tokens=False)["input_ids"] if batch else []

        self.prefix = encode([prefix])[0] if prefix else []
        self.suffix = encode([suffix])[0] if suffix else []
        self.history_items = encode([text + separator for text in texts])
        eos = int(tokenizer.eos_token_id)
        self.candidates = [[*ids, eos] for ids in encode(list(texts))]
        self.max_history_tokens = int(max_history_tokens)
        self.pad_id = eos

    def prompt(self, history) -> list[int]:
        """Prompt token ids for a history (item indices, oldest first), most recent items within the budget."""
        kept: list[list[int]] = []
        used = 0
        for item in reversed(np.asarray(history, dtype=np.int64).tolist()):
            ids = self.history_items[item]
            if kept and used + len(ids) > self.max_history_tokens:
                break
            kept.append(ids[: self.max_history_tokens])
            used += len(kept[-1])
        tokens = list(self.prefix)
        for ids in reversed(kept):
            tokens.extend(ids)
        tokens.extend(self.suffix)
        return tokens
