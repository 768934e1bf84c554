"""The detector contract (scikit-learn style) and the registry of shilling / coordination detectors.

A detector scores every user of an :class:`~recollective.data.Interactions` object: ``score(interactions)``
returns an ``ndarray of shape (n_users,)`` of finite floats, **higher = more suspicious**; users with no
interaction get the least suspicious score of that detector (never NaN). Hyper-parameters are keyword
arguments of ``__init__``, stored unchanged and checked (against the class's ``parameter_rules``) when ``fit``
or ``score`` starts; a bad value raises :class:`~recollective.errors.InvalidParameterError` whose message starts
with ``detector <name>: <parameter> ...``. Unsupervised detectors need no ``fit`` (it checks and returns
``self``); supervised ones (``supervised = True``) learn from ``fit(interactions, labels)``.
"""

from __future__ import annotations

import importlib
from typing import ClassVar

import numpy as np

from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError, unknown_name
from recollective.models._params import HyperParameters

__all__ = [
    "DETECTOR_NAMES",
    "Detector",
    "check_labels",
    "detector_class",
    "least_suspicious_for_empty",
    "make_detector",
]

_CLASSES = {
    "pca": ("recollective.adversarial._detect_pca", "PCAVarSelectDetector"),
    "features": ("recollective.adversarial._detect_features", "FeatureDetector"),
    "fraudar": ("recollective.adversarial._detect_dense", "FraudarDetector"),
    "burst": ("recollective.adversarial._detect_burst", "BurstDetector"),
}
DETECTOR_NAMES = tuple(_CLASSES)
"""pca: PCA-VarSelect (Mehta & Nejdl 2009); features: RDMA/WDMA/WDA/DegSim/length-variance + a classifier
(Chirita et al. 2005; Burke et al. 2006); fraudar: greedy dense-block peeling (Hooi et al. 2016); burst: many
users on the same item inside a short time window (needs ``Interactions.order``)."""


class Detector(HyperParameters):
    """Base class of every detector.

    Subclasses set ``name`` (the registry name), ``parameter_rules`` (``{parameter: rule}``, the rules of
    :mod:`recollective.models._params`) and ``supervised``, and implement ``_score(interactions, params)``
    (``params`` = the checked hyper-parameters); supervised ones also implement ``_fit``.
    """

    name: ClassVar[str] = "detector"
    supervised: ClassVar[bool] = False
    parameter_rules: ClassVar[dict] = {}

    @property
    def owner(self) -> str:
        """How error messages name this detector: ``"detector <name>"``."""
        return f"detector {self.name}"

    # ------------------------------------------------------------------------------------------ the work
    def fit(self, interactions: Interactions, labels=None) -> Detector:
        """Learn from ``interactions`` (and ``labels``, bool of shape (n_users,), for supervised detectors).

        Unsupervised detectors only check their hyper-parameters and the data here. Returns ``self``.
        """
        params = self.checked_params()
        self._check_interactions(interactions)
        if self.supervised:
            self._fit(interactions, check_labels(labels, interactions.n_users, self.owner), params)
        return self

    def score(self, interactions: Interactions) -> np.ndarray:
        """Suspicion per user: ``ndarray of shape (n_users,)``, finite float64, higher = more suspicious."""
        params = self.checked_params()
        self._check_interactions(interactions)
        scores = np.asarray(self._score(interactions, params), dtype=np.float64)
        if scores.shape != (interactions.n_users,) or not np.isfinite(scores).all():  # pragma: no cover - a bug
            raise AssertionError(f"{self.owner}: produced non-finite scores or shape {scores.shape}")
        return scores

    def _fit(self, interactions: Interactions, labels: np.ndarray, params: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    def _score(self, interactions: Interactions, params: dict) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _check_interactions(self, interactions) -> None:
        if not isinstance(interactions, Interactions):
            raise DataError(
                f"{self.owner}: takes a recollective.data.Interactions (load one with recollective.data."
                f"load_interactions or build one with Interactions.from_arrays); got {type(interactions).__name__}"
            )


def check_labels(labels, n_users: int, owner: str) -> np.ndarray:
    """``labels`` as a bool ``ndarray of shape (n_users,)`` holding both classes, or ``InvalidParameterError``.

    Accepts bools or the integers 0 / 1 (True / 1 = malicious).
    """
    if labels is None:
        raise InvalidParameterError(
            f"{owner}: labels are required (a bool array of shape ({n_users},), True = malicious)"
        )
    array = np.asarray(labels)
    if array.shape != (n_users,):
        raise InvalidParameterError(f"{owner}: labels must have shape ({n_users},) (one per user); got {array.shape}")
    if array.dtype != bool:
        if array.dtype.kind not in "iuf" or not np.isin(array, (0, 1)).all():
            raise InvalidParameterError(f"{owner}: labels must be booleans (or 0 / 1); got dtype {array.dtype}")
        array = array.astype(bool)
    n_malicious = int(array.sum())
    if n_malicious == 0 or n_malicious == n_users:
        raise InvalidParameterError(
            f"{owner}: labels must contain both classes (malicious and genuine users); got {n_malicious} malicious "
            f"of {n_users}"
        )
    return array


def detector_class(name: str):
    """The class registered under ``name`` (``InvalidParameterError`` listing the known names otherwise)."""
    if name not in _CLASSES:
        raise InvalidParameterError(unknown_name("detector", name, DETECTOR_NAMES))
    module, attribute = _CLASSES[name]
    return getattr(importlib.import_module(module), attribute)


def make_detector(name: str, **params) -> Detector:
    """An unfitted detector ``name`` with these hyper-parameters (checked when it is fitted or scores).

    Raises
    ------
    InvalidParameterError
        Unknown detector name, or a hyper-parameter the detector does not have.
    """
    return detector_class(name)().set_params(**params)


def least_suspicious_for_empty(scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``scores`` with users of no interaction (``counts == 0``) set to the minimum over the others (0 if none)."""
    empty = counts == 0
    if empty.any():
        scores = scores.copy()
        scores[empty] = scores[~empty].min() if (~empty).any() else 0.0
    return scores
