"""Recommenders behind one scikit-learn-style interface.

``fit(interactions) -> self``, ``score(user_idx)``, ``recommend(user_idx, k, exclude_seen=True)`` and
``refit(new_interactions, delta)``; build one by name with :func:`make_model`. The classes are imported on first
use (PEP 562), and heavy backends (implicit, torch) only when their model is fitted, so ``import
recollective.models`` and ``recollective --help`` stay fast.
"""

import importlib

from recollective.models._registry import MODEL_NAMES, make_model, model_class

_LAZY = {
    "ALS": "recollective.models._implicit",
    "BPR": "recollective.models._implicit",
    "EASE": "recollective.models._ease",
    "ItemKNN": "recollective.models._knn",
    "Popularity": "recollective.models._popularity",
    "PureSVD": "recollective.models._svd",
    "Recommender": "recollective.models._base",
    "SequentialTransformer": "recollective.models._sequential",
    "LLMRecommender": "recollective.models.llm._recommender",
    "check_interactions": "recollective.models._base",
    "top_k": "recollective.models._ranking",
}

__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "MODEL_NAMES",
    "ItemKNN",
    "LLMRecommender",
    "Popularity",
    "PureSVD",
    "Recommender",
    "SequentialTransformer",
    "check_interactions",
    "make_model",
    "model_class",
    "top_k",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'recollective.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
