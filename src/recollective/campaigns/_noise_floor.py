"""The noise floor of a campaign evaluation: how much per-user utility moves between two seeds of the baseline.

It costs a second fit and two passes of scoring, so it is computed once per (training data, test data, model and
hyper-parameters, seeds, users, k, quantile, relevance threshold) and kept in this process: a sweep, a plan or a
second ``campaign run`` in the same process reuses it. A cached value is exactly what a fresh computation gives.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict

import numpy as np

from recollective.campaigns._population import DEFAULT_SAMPLE_SIZE, check_score_users, evaluation_population
from recollective.campaigns._utility import _ndcg, _true_dcg, recommend_lists, test_users
from recollective.data import Interactions
from recollective.models import Recommender

__all__ = ["clear_noise_floor_cache", "estimate_noise_floor"]

logger = logging.getLogger(__name__)

_FLOORS: OrderedDict = OrderedDict()
_FLOORS_KEPT = 64


def estimate_noise_floor(
    model: Recommender,
    train: Interactions,
    test: Interactions,
    k: int = 10,
    *,
    seeds=(0, 1),
    fitted: Recommender | None = None,
    quantile: float = 0.95,
    relevance_threshold: float | None = None,
    world=None,
    score_users: str = "needed",
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    sample_seed: int = 0,
) -> float:
    """How much per-user NDCG@k moves between baselines fitted with different seeds alone.

    The ``quantile`` of ``|NDCG_u(seed a) - NDCG_u(seed b)|`` over the test users (0 for models without an ``rng``
    hyper-parameter). ``fitted``, when given, stands for the first seed's model (only the second is fitted).
    With ``world``, the utility is the true DCG@k of every user (as in :func:`evaluate_campaign`). Changes within
    this floor count as "unchanged" in the Pareto accounting.

    With ``score_users="needed"`` (the default) the quantile is taken over the seeded sample of
    :func:`~recollective.campaigns._population.evaluation_population` (``sample_size`` test users from
    ``sample_seed``; every test user when there are no more than that), the same users :func:`evaluate_campaign`
    averages its population numbers over; ``"all"`` scores every test user. Without ``world`` the value is cached
    in this process (see the module docstring); :func:`clear_noise_floor_cache` empties the cache.
    """
    if "rng" not in model.get_params():
        return 0.0
    check_score_users(score_users, sample_size)
    candidates = test_users(test, relevance_threshold) if world is None else np.arange(train.n_users)
    users = evaluation_population(candidates, score_users, sample_size, sample_seed)
    if users.size == 0:
        return 0.0
    key = None
    if world is None:
        params = {name: value for name, value in model.get_params().items() if name != "rng"}
        key = (type(model).__module__, type(model).__qualname__, _canonical(params),
               tuple(int(seed) for seed in seeds[:2]), int(k), float(quantile), relevance_threshold, fitted is None,
               _fingerprint(train.matrix), _fingerprint(test.matrix), _digest(users))
        if key in _FLOORS:
            _FLOORS.move_to_end(key)
            logger.debug("noise floor of %s taken from this process's cache", type(model).__name__)
            return _FLOORS[key]
    utilities = []
    for index, seed in enumerate(seeds[:2]):
        reuse = index == 0 and fitted is not None
        current = fitted if reuse else model.clone().set_params(rng=int(seed)).fit(train)
        lists = recommend_lists(current, users, k) if reuse else current.recommend(users, k)[0]
        if world is None:
            utilities.append(_ndcg(lists, test.matrix[users], relevance_threshold))
        else:
            utilities.append(_true_dcg(world, users, lists))
    floor = float(np.quantile(np.abs(utilities[0] - utilities[1]), quantile))
    if key is not None:
        _FLOORS[key] = floor
        while len(_FLOORS) > _FLOORS_KEPT:
            _FLOORS.popitem(last=False)
    return floor


def clear_noise_floor_cache() -> None:
    """Forget every noise floor cached by :func:`estimate_noise_floor` in this process."""
    _FLOORS.clear()


def _digest(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def _fingerprint(matrix) -> tuple:
    """The shape and a digest of the CSR arrays (canonical: ``Interactions`` keeps its matrix sorted)."""
    return (matrix.shape, _digest(matrix.indptr), _digest(matrix.indices), _digest(matrix.data))


def _canonical(value):
    """A hashable, exact stand-in for a hyper-parameter value (arrays by digest, containers element by element)."""
    if isinstance(value, np.ndarray):
        return ("ndarray", _digest(value))
    if isinstance(value, dict):
        return tuple(sorted((str(name), _canonical(item)) for name, item in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_canonical(item) for item in value)
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
