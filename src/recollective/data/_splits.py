"""Train/test splits of :class:`Interactions`: per-user leave-last-out, per-user random holdout, global temporal.

Every split returns ``(train, test)``: two Interactions with the input's vocabularies (the same users and items
at the same indices, the same item metadata), whose stored entries partition the input's. Randomness (ties in
``order``, which interactions are held out) comes only from ``rng``, so the same seed gives the same split.
"""

from __future__ import annotations

import numpy as np

from recollective._checks import check_count, check_unit_share
from recollective._random import as_generator
from recollective.data._interactions import Interactions
from recollective.data._preprocess import restrict
from recollective.errors import DataError, InvalidParameterError

__all__ = ["SPLIT_METHODS", "leave_last_out", "random_holdout", "split_by_mask", "split_interactions", "temporal_split"]


def leave_last_out(
    interactions: Interactions,
    n_last: int = 1,
    *,
    min_train: int = 1,
    rng: np.random.Generator | int | None = 0,
) -> tuple[Interactions, Interactions]:
    """Per user, hold out the ``n_last`` latest interactions by ``order``.

    Parameters
    ----------
    interactions : Interactions
        Must have an ``order`` (timestamp or position).
    n_last : int >= 1, default 1
    min_train : int >= 0, default 1
        A user keeps at least this many interactions in train: users with fewer than ``n_last + min_train``
        interactions hold out only what leaves ``min_train`` behind (possibly nothing).
    rng : Generator, int or None, default 0
        Breaks ties in ``order`` at random (equal timestamps).

    Returns
    -------
    train, test : Interactions

    Raises
    ------
    DataError
        When ``interactions`` has no order.
    """
    n_last = check_count(n_last, "n_last", 1)
    min_train = check_count(min_train, "min_train", 0)
    if interactions.order is None:
        raise DataError(
            "leave-last-out needs the order of interactions (a timestamp or position column) and these "
            "interactions have none; load them with an order column or use a random holdout (CLI: --split random)"
        )
    generator = as_generator(rng)
    rows = _rows(interactions)
    degree = np.diff(interactions.matrix.indptr)
    n_test = np.minimum(n_last, np.maximum(degree - min_train, 0))
    # rank within user from the latest: sort by (user, -order, random tie-break)
    ranking = np.lexsort((generator.random(rows.size), -interactions.order.data, rows))
    rank_from_last = np.empty(rows.size, dtype=np.int64)
    rank_from_last[ranking] = np.arange(rows.size) - np.repeat(interactions.matrix.indptr[:-1], degree)
    return split_by_mask(interactions, rank_from_last < n_test[rows])


def random_holdout(
    interactions: Interactions,
    fraction: float = 0.2,
    *,
    min_train: int = 1,
    rng: np.random.Generator | int | None = 0,
) -> tuple[Interactions, Interactions]:
    """Per user, hold out ``round(fraction * n_u)`` interactions chosen uniformly at random.

    Parameters
    ----------
    interactions : Interactions
    fraction : float in (0, 1), default 0.2
        Share of each user's interactions held out, rounded half up, and capped so that ``min_train`` remain.
    min_train : int >= 0, default 1
    rng : Generator, int or None, default 0

    Returns
    -------
    train, test : Interactions
    """
    fraction = check_unit_share(fraction, "fraction")
    min_train = check_count(min_train, "min_train", 0)
    generator = as_generator(rng)
    rows = _rows(interactions)
    degree = np.diff(interactions.matrix.indptr)
    n_test = np.minimum(np.floor(fraction * degree + 0.5).astype(np.int64), np.maximum(degree - min_train, 0))
    ranking = np.lexsort((generator.random(rows.size), rows))
    rank = np.empty(rows.size, dtype=np.int64)
    rank[ranking] = np.arange(rows.size) - np.repeat(interactions.matrix.indptr[:-1], degree)
    return split_by_mask(interactions, rank < n_test[rows])


def temporal_split(
    interactions: Interactions,
    *,
    cut: float | None = None,
    fraction: float | None = None,
    rng: np.random.Generator | int | None = 0,
) -> tuple[Interactions, Interactions]:
    """Global temporal split: the interactions at or after a time ``cut`` (or the latest ``fraction`` of all
    interactions) form the test set, whoever made them.

    Parameters
    ----------
    interactions : Interactions
        Must have an ``order``.
    cut : float, optional
        Interactions with ``order >= cut`` go to test.
    fraction : float in (0, 1), optional
        Hold out the latest ``round(fraction * n_interactions)`` interactions; ties in ``order`` at the boundary
        are broken by ``rng``. Give exactly one of ``cut`` and ``fraction``.
    rng : Generator, int or None, default 0

    Returns
    -------
    train, test : Interactions
    """
    if (cut is None) == (fraction is None):
        raise InvalidParameterError(
            f"temporal_split takes exactly one of cut and fraction; got cut={cut!r}, fraction={fraction!r}"
        )
    if interactions.order is None:
        raise DataError(
            "a temporal split needs the order of interactions (a timestamp column) and these interactions have "
            "none; load them with a timestamp column or use a random holdout (CLI: --split random)"
        )
    order = interactions.order.data
    if cut is not None:
        try:
            cut = float(cut)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"cut must be a number (a timestamp); got {cut!r}") from None
        return split_by_mask(interactions, order >= cut)
    fraction = check_unit_share(fraction, "fraction")
    generator = as_generator(rng)
    n_test = int(np.floor(fraction * order.size + 0.5))
    ranking = np.lexsort((generator.random(order.size), order))
    test = np.zeros(order.size, dtype=bool)
    test[ranking[order.size - n_test :]] = True
    return split_by_mask(interactions, test)


def split_by_mask(interactions: Interactions, test_mask: np.ndarray) -> tuple[Interactions, Interactions]:
    """(train, test) from a boolean mask over the stored entries (aligned with ``matrix.data``, row-major)."""
    test_mask = np.asarray(test_mask, dtype=bool)
    if test_mask.shape != (interactions.n_interactions,):
        raise DataError(
            f"test_mask must have one entry per stored interaction ({interactions.n_interactions}); "
            f"got shape {test_mask.shape}"
        )
    return restrict(interactions, ~test_mask), restrict(interactions, test_mask)


def _rows(interactions: Interactions) -> np.ndarray:
    return np.repeat(np.arange(interactions.n_users, dtype=np.int64), np.diff(interactions.matrix.indptr))


SPLIT_METHODS = ("random-holdout", "leave-last-out", "temporal")


def split_interactions(
    interactions: Interactions, method: str = "random-holdout", test_fraction: float = 0.2, *, rng=0
) -> tuple[Interactions, Interactions]:
    """(train, test) by a named method: ``random-holdout`` (per user, ``test_fraction``), ``leave-last-out``
    (each user's latest interaction by order) or ``temporal`` (the latest ``test_fraction`` of all)."""
    if method == "random-holdout":
        return random_holdout(interactions, test_fraction, rng=rng)
    if method == "leave-last-out":
        return leave_last_out(interactions, rng=rng)
    if method == "temporal":
        return temporal_split(interactions, fraction=test_fraction, rng=rng)
    raise InvalidParameterError(f"unknown split {method!r}; choose one of: {', '.join(SPLIT_METHODS)}")
