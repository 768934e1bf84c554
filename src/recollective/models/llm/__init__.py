"""LLM recommender: a causal language model fine-tuned on text reading histories (optional extra ``[llm]``).

Importing this package needs nothing beyond the core dependencies; torch, transformers and peft are imported
when a model is fitted, and a missing one raises :class:`MissingDependencyError` saying what to install.
"""

from recollective.models.llm._base_model import (
    DEFAULT_BASE_MODEL,
    MissingDependencyError,
    cache_dir,
    resolve_base_model,
)
from recollective.models.llm._recommender import LLMRecommender

__all__ = ["DEFAULT_BASE_MODEL", "LLMRecommender", "MissingDependencyError", "cache_dir", "resolve_base_model"]
