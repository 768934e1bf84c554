"""Recommenders behind one scikit-learn-style interface.

``fit(interactions) -> self``, ``score(user_idx)``, ``recommend(user_idx, k, exclude_seen=True)`` and
``refit(new_interactions, delta)``; build one by name with :func:`make_model`. Heavy backends (implicit, torch)
are imported only when their model is fitted.
"""

from recollective.models._base import Recommender, check_interactions
from recollective.models._popularity import Popularity
from recollective.models._ranking import top_k
from recollective.models._registry import MODEL_NAMES, make_model, model_class

__all__ = ["MODEL_NAMES", "Popularity", "Recommender", "check_interactions", "make_model", "model_class", "top_k"]
