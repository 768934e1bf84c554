"""Recommenders behind one scikit-learn-style interface.

``fit(interactions) -> self``, ``score(user_idx)``, ``recommend(user_idx, k, exclude_seen=True)`` and
``refit(new_interactions, delta)``; build one by name with :func:`make_model`. Heavy backends (implicit, torch)
are imported only when their model is fitted.
"""

from recollective.models._base import Recommender, check_interactions
from recollective.models._ease import EASE
from recollective.models._implicit import ALS, BPR
from recollective.models._knn import ItemKNN
from recollective.models._popularity import Popularity
from recollective.models._ranking import top_k
from recollective.models._registry import MODEL_NAMES, make_model, model_class
from recollective.models._sequential import SequentialTransformer
from recollective.models._svd import PureSVD

__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "MODEL_NAMES",
    "ItemKNN",
    "Popularity",
    "PureSVD",
    "Recommender",
    "SequentialTransformer",
    "check_interactions",
    "make_model",
    "model_class",
    "top_k",
]
