"""Model names (as the CLI and configs spell them) to classes."""

from __future__ import annotations

from recollective.errors import InvalidParameterError, unknown_name

__all__ = ["MODEL_NAMES", "make_model", "model_class"]

_CLASSES = {
    "popularity": ("recollective.models._popularity", "Popularity"),
    "puresvd": ("recollective.models._svd", "PureSVD"),
    "als": ("recollective.models._implicit", "ALS"),
    "bpr": ("recollective.models._implicit", "BPR"),
    "itemknn": ("recollective.models._knn", "ItemKNN"),
    "ease": ("recollective.models._ease", "EASE"),
    "sequential": ("recollective.models._sequential", "SequentialTransformer"),
    "llm": ("recollective.models.llm._recommender", "LLMRecommender"),
}
MODEL_NAMES = tuple(_CLASSES)


def model_class(name: str):
    """The class registered under ``name`` (``InvalidParameterError`` listing the known names otherwise)."""
    if name not in _CLASSES:
        raise InvalidParameterError(unknown_name("model", name, MODEL_NAMES))
    import importlib

    module, attribute = _CLASSES[name]
    return getattr(importlib.import_module(module), attribute)


def make_model(name: str, **params):
    """An unfitted model ``name`` with these hyper-parameters (checked when it is fitted)."""
    model = model_class(name)()
    return model.set_params(**params)
