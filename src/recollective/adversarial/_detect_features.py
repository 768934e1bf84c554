"""Profile features of shilling detection and a supervised classifier over them.

Features after Chirita, Nejdl & Zamfir (2005), "Preventing shilling attacks in online recommender systems"
(RDMA, DegSim) and Burke, Mobasher, Williams & Bhaumik (2006), "Classification features for attack detection
in collaborative recommender systems" (WDMA, WDA, length variance). The classifier is scikit-learn's
(imported when used; it comes with the ``test`` extra).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from recollective._random import as_generator
from recollective.adversarial._detectors import Detector, check_labels, least_suspicious_for_empty
from recollective.data import Interactions
from recollective.errors import InvalidParameterError, NotFittedError
from recollective.models._params import Integer, OneOf, Seed

__all__ = ["FEATURE_NAMES", "FeatureDetector", "degree_of_similarity", "profile_features"]

FEATURE_NAMES = ("rdma", "wdma", "wda", "degsim", "length_var")
CLASSIFIERS = ("logistic", "forest")
DEGSIM_BLOCK_ROWS = 256
"""Users per block of the user-user similarity products (memory ~ 3 x block x n_users floats; speed only)."""


def profile_features(interactions: Interactions, k: int = 25) -> tuple[np.ndarray, tuple[str, ...]]:
    """The five per-user profile features.

    With ``r[u, i]`` the rating, ``I_u`` the items user ``u`` rated, ``n_u = |I_u|``, ``l_i`` the number of
    ratings of item ``i`` and ``m_i`` its mean rating (over all users, ``u`` included):

    * ``rdma[u] = (1 / n_u) * sum_{i in I_u} |r[u, i] - m_i| / l_i``  (Rating Deviation from Mean Agreement)
    * ``wdma[u] = (1 / n_u) * sum_{i in I_u} |r[u, i] - m_i| / l_i ** 2``  (Weighted Deviation from Mean Agreement)
    * ``wda[u] = sum_{i in I_u} |r[u, i] - m_i| / l_i``  (Weighted Degree of Agreement: RDMA's numerator)
    * ``degsim[u]``: :func:`degree_of_similarity` with ``k`` neighbours
    * ``length_var[u] = (n_u - mean_v n_v) ** 2 / sum_v (n_v - mean_v n_v) ** 2``  (0 when all lengths are
      equal; Burke et al. put ``|n_u - mean n|`` in the numerator, which orders users identically)

    Users with no interaction get 0 for the first four features.

    Returns
    -------
    features : ndarray of shape (n_users, 5)
    names : tuple of str
        :data:`FEATURE_NAMES`, the column order.
    """
    matrix = interactions.matrix
    n_users, n_items = matrix.shape
    counts = np.diff(matrix.indptr).astype(np.float64)
    rows = np.repeat(np.arange(n_users), np.diff(matrix.indptr))
    cols = matrix.indices
    item_counts = np.bincount(cols, minlength=n_items).astype(np.float64)
    item_means = np.bincount(cols, weights=matrix.data, minlength=n_items) / np.maximum(item_counts, 1.0)
    deviation = np.abs(matrix.data - item_means[cols])
    per_user = np.maximum(counts, 1.0)
    wda = np.bincount(rows, weights=deviation / item_counts[cols], minlength=n_users)
    rdma = wda / per_user
    wdma = np.bincount(rows, weights=deviation / item_counts[cols] ** 2, minlength=n_users) / per_user
    spread = (counts - counts.mean()) ** 2 if n_users else counts
    total = spread.sum()
    length_var = spread / total if total > 0 else np.zeros(n_users)
    degsim = degree_of_similarity(interactions, k)
    return np.column_stack([rdma, wdma, wda, degsim, length_var]), FEATURE_NAMES


def degree_of_similarity(interactions: Interactions, k: int = 25) -> np.ndarray:
    """DegSim: each user's mean Pearson similarity to their ``k`` most similar other users.

    ``w[u, v] = sum_{i in I_u & I_v} d[u, i] d[v, i] / sqrt(sum_{i in I_u & I_v} d[u, i] ** 2 *
    sum_{i in I_u & I_v} d[v, i] ** 2)`` over co-rated items, with ``d[u, i] = r[u, i] - mean_u`` (the user's
    mean over all their ratings); ``w = 0`` without co-rated items or when a sum of squares is 0. Then
    ``degsim[u] = (1 / k') * sum of the k' largest w[u, v], v != u``, ``k' = min(k, n_users - 1)``. The three
    users x users products are computed in blocks of :data:`DEGSIM_BLOCK_ROWS` rows from sparse matrices, so
    memory stays ``O(block x n_users)``.

    Returns
    -------
    ndarray of shape (n_users,)
    """
    matrix = interactions.matrix
    n_users = matrix.shape[0]
    k_eff = min(int(k), n_users - 1)
    out = np.zeros(n_users)
    if k_eff < 1 or matrix.nnz == 0:
        return out
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(n_users), counts)
    means = np.bincount(rows, weights=matrix.data, minlength=n_users) / np.maximum(counts, 1)
    centred = matrix.data - means[rows]
    parts = (matrix.indices, matrix.indptr)
    dev = sp.csr_array((centred, *parts), shape=matrix.shape)
    dev2 = sp.csr_array((centred**2, *parts), shape=matrix.shape)
    rated = sp.csr_array((np.ones_like(centred), *parts), shape=matrix.shape)
    dev_t, dev2_t, rated_t = (sp.csr_array(m.T) for m in (dev, dev2, rated))
    for start in range(0, n_users, DEGSIM_BLOCK_ROWS):
        stop = min(start + DEGSIM_BLOCK_ROWS, n_users)
        numerator = (dev[start:stop] @ dev_t).toarray()
        own = (dev2[start:stop] @ rated_t).toarray()  # sum over co-rated items of d[u, i]^2
        other = (rated[start:stop] @ dev2_t).toarray()  # sum over co-rated items of d[v, i]^2
        denominator = np.sqrt(own * other)
        similarity = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 1e-12)
        similarity[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        top = np.partition(similarity, n_users - k_eff, axis=1)[:, n_users - k_eff :]
        out[start:stop] = np.where(np.isfinite(top), top, 0.0).sum(axis=1) / k_eff
    return out


class FeatureDetector(Detector):
    """A supervised classifier over :func:`profile_features` (standardised, then logistic or random forest).

    ``fit(interactions, labels)`` learns from labelled users; ``score`` = the predicted probability of being
    malicious. :meth:`cross_validated_scores` gives out-of-fold probabilities for every labelled user.

    Parameters
    ----------
    classifier : {"logistic", "forest"}, default "logistic"
        ``LogisticRegression`` or ``RandomForestClassifier`` after a ``StandardScaler`` (one ``Pipeline``).
    k : int, default 25
        Neighbours of DegSim.
    class_weight : {"balanced", "none"}, default "balanced"
        Reweight the classes to equal total weight (attack profiles are rare), or not.
    n_estimators : int, default 200
        Trees of the forest.
    rng : int, Generator or None, default 0
        Seeds the forest (an int drawn from it) and nothing else.

    Attributes
    ----------
    model_ : sklearn.pipeline.Pipeline
        The fitted pipeline.
    feature_names_ : tuple of str
    """

    name = "features"
    supervised = True
    parameter_rules: ClassVar[dict] = {
        "classifier": OneOf(CLASSIFIERS),
        "k": Integer(low=1),
        "class_weight": OneOf(("balanced", "none")),
        "n_estimators": Integer(low=1),
        "rng": Seed(),
    }

    def __init__(self, classifier="logistic", k=25, class_weight="balanced", n_estimators=200, rng=0):
        self.classifier = classifier
        self.k = k
        self.class_weight = class_weight
        self.n_estimators = n_estimators
        self.rng = rng

    def _fit(self, interactions: Interactions, labels: np.ndarray, params: dict) -> None:
        features, names = profile_features(interactions, params["k"])
        model = _pipeline(params)
        model.fit(features, labels)
        self.model_ = model
        self.feature_names_ = names

    def _score(self, interactions: Interactions, params: dict) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"{self.owner}: call fit(interactions, labels) before score")
        features, _ = profile_features(interactions, params["k"])
        scores = self.model_.predict_proba(features)[:, 1]
        return least_suspicious_for_empty(scores, np.diff(interactions.matrix.indptr))

    def cross_validated_scores(self, interactions: Interactions, labels, folds: int = 5, rng=0) -> np.ndarray:
        """Out-of-fold probabilities of being malicious (stratified ``folds``-fold cross-validation).

        Each user is scored by the model fitted on the other folds (features are computed once on all of
        ``interactions``: they are unsupervised). ``rng`` shuffles the folds (``StratifiedKFold(shuffle=True)``).

        Returns
        -------
        ndarray of shape (n_users,)
            Users with no interaction get the minimum of the others.
        """
        from sklearn.base import clone
        from sklearn.model_selection import StratifiedKFold

        params = self.checked_params()
        self._check_interactions(interactions)
        labels = check_labels(labels, interactions.n_users, self.owner)
        smallest = int(min(labels.sum(), (~labels).sum()))
        if isinstance(folds, bool) or not isinstance(folds, int | np.integer) or not 2 <= folds <= smallest:
            raise InvalidParameterError(
                f"{self.owner}: folds must be an integer in [2, {smallest}] (the smaller class has {smallest} "
                f"users); got {folds!r}"
            )
        seed = int(as_generator(rng).integers(2**31 - 1))
        features, _ = profile_features(interactions, params["k"])
        splitter = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=seed)
        model = _pipeline(params)
        scores = np.zeros(interactions.n_users)
        for train, test in splitter.split(features, labels):
            fold_model = clone(model).fit(features[train], labels[train])
            scores[test] = fold_model.predict_proba(features[test])[:, 1]
        return least_suspicious_for_empty(scores, np.diff(interactions.matrix.indptr))


def _pipeline(params: dict):
    """``StandardScaler`` then the chosen classifier, seeded from ``params["rng"]``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    class_weight = None if params["class_weight"] == "none" else "balanced"
    if params["classifier"] == "logistic":
        classifier = LogisticRegression(max_iter=1000, class_weight=class_weight)
    else:
        seed = int(as_generator(params["rng"]).integers(2**31 - 1))
        classifier = RandomForestClassifier(
            n_estimators=params["n_estimators"], class_weight=class_weight, random_state=seed, n_jobs=1
        )
    return make_pipeline(StandardScaler(), classifier)
