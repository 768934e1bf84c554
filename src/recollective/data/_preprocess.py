"""Preprocessing of :class:`Interactions`: explicit-to-implicit conversion and k-core filtering.

Both are pure: they return a new ``Interactions`` and never touch their input. ``to_implicit`` keeps the
vocabularies (a user whose ratings all fall below the threshold keeps an empty row, so indices stay aligned with
the original); ``k_core`` drops the users and items that fail the core condition and re-indexes what is left.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import scipy.sparse as sp

from recollective._checks import check_count
from recollective.data._interactions import Interactions
from recollective.data._vocabulary import Vocabulary
from recollective.errors import DataError, InvalidParameterError

__all__ = ["k_core", "sample_users", "to_implicit"]

logger = logging.getLogger(__name__)


def to_implicit(interactions: Interactions, threshold: float = 4.0, *, keep_values: bool = False) -> Interactions:
    """Explicit ratings to implicit feedback: keep the interactions whose value is ``>= threshold``.

    Parameters
    ----------
    interactions : Interactions
    threshold : float, default 4.0
        Smallest value that counts as a positive (4.0 turns 1–5 stars into "liked": 4 and 5).
    keep_values : bool, default False
        Keep the kept interactions' values (e.g. the rating) instead of setting them to 1.0.

    Returns
    -------
    Interactions
        Same users and items (same indices); ``order`` and item metadata are carried over for the kept entries.
    """
    threshold = _check_number(threshold, "threshold")
    keep = interactions.matrix.data >= threshold
    values = None if keep_values else np.ones(int(keep.sum()))
    result = restrict(interactions, keep, values=values)
    logger.debug("to_implicit: kept %d of %d interactions (>= %g)", result.n_interactions, keep.size, threshold)
    return result


def k_core(interactions: Interactions, k_user: int = 5, k_item: int = 5) -> Interactions:
    """The (k_user, k_item)-core: repeatedly drop users with fewer than ``k_user`` and items with fewer than
    ``k_item`` interactions until every remaining user and item meets its bound.

    Parameters
    ----------
    interactions : Interactions
    k_user, k_item : int >= 0, default 5
        Minimum number of interactions per user / per item. 0 imposes nothing (empty rows are kept); 1 drops
        users and items without interactions.

    Returns
    -------
    Interactions
        The surviving users and items, re-indexed in their original relative order, with their order values and
        item metadata. The result does not depend on the order in which entries are removed (the k-core is the
        largest sub-graph meeting both bounds).

    Raises
    ------
    DataError
        When nothing survives, naming the bounds and the input size.
    """
    k_user = check_count(k_user, "k_user")
    k_item = check_count(k_item, "k_item")
    csr = interactions.matrix
    rows = np.repeat(np.arange(interactions.n_users), np.diff(csr.indptr))
    cols = csr.indices
    user_alive = np.ones(interactions.n_users, dtype=bool)
    item_alive = np.ones(interactions.n_items, dtype=bool)
    entry_alive = np.ones(rows.size, dtype=bool)
    n_rounds = 0
    while True:
        n_rounds += 1
        user_degree = np.bincount(rows[entry_alive], minlength=interactions.n_users)
        item_degree = np.bincount(cols[entry_alive], minlength=interactions.n_items)
        new_user_alive = user_alive & (user_degree >= k_user)
        new_item_alive = item_alive & (item_degree >= k_item)
        if np.array_equal(new_user_alive, user_alive) and np.array_equal(new_item_alive, item_alive):
            break
        user_alive, item_alive = new_user_alive, new_item_alive
        entry_alive &= user_alive[rows] & item_alive[cols]
    if not user_alive.any() or not item_alive.any() or not entry_alive.any():
        raise DataError(
            f"k-core filtering with k_user={k_user}, k_item={k_item} leaves no interactions "
            f"(input: {interactions.n_users} users, {interactions.n_items} items, {interactions.n_interactions} "
            "interactions); lower k_user or k_item"
        )
    logger.debug(
        "k_core(%d, %d): %d rounds, %d of %d users, %d of %d items",
        k_user,
        k_item,
        n_rounds,
        int(user_alive.sum()),
        interactions.n_users,
        int(item_alive.sum()),
        interactions.n_items,
    )
    return restrict(interactions, entry_alive, user_keep=user_alive, item_keep=item_alive)


# ----------------------------------------------------------------------------------------- shared (data/)
def sample_users(interactions: Interactions, n_users: int, *, rng=0) -> Interactions:
    """A random ``n_users`` of the users (drawn without replacement from ``rng``) with all their interactions.

    Users keep their relative order; items keep their vocabulary (books nobody in the sample read stay, with no
    interactions). Raises ``InvalidParameterError`` when ``n_users`` is not in [1, number of users].
    """
    from recollective._random import as_generator

    count = check_count(n_users, "sample_users")
    if not 1 <= count <= interactions.n_users:
        raise InvalidParameterError(
            f"sample_users must lie in [1, {interactions.n_users}] (the number of users); got {n_users!r}"
        )
    keep_users = np.zeros(interactions.n_users, dtype=bool)
    keep_users[as_generator(rng).choice(interactions.n_users, count, replace=False)] = True
    csr = interactions.matrix
    entry_keep = np.repeat(keep_users, np.diff(csr.indptr))
    return restrict(interactions, entry_keep, user_keep=keep_users)


def restrict(
    interactions: Interactions,
    entry_keep: np.ndarray,
    *,
    values: np.ndarray | None = None,
    user_keep: np.ndarray | None = None,
    item_keep: np.ndarray | None = None,
) -> Interactions:
    """A new Interactions with only the stored entries where ``entry_keep`` (aligned with ``matrix.data``).

    ``values`` (one per kept entry) replace the kept values; ``user_keep`` / ``item_keep`` (boolean masks) drop
    users / items from the vocabularies and re-index (entries of dropped users or items must not be kept).
    Private to the data subpackage: callers pass valid masks.
    """
    csr = interactions.matrix
    entry_keep = np.asarray(entry_keep, dtype=bool)
    kept_before = np.concatenate([[0], np.cumsum(entry_keep, dtype=np.int64)])
    row_counts = kept_before[csr.indptr[1:]] - kept_before[csr.indptr[:-1]]
    indices = csr.indices[entry_keep]
    data = csr.data[entry_keep] if values is None else np.asarray(values, dtype=np.float64)
    order = None if interactions.order is None else interactions.order.data[entry_keep]
    users, items, metadata = interactions.users, interactions.items, interactions.item_metadata
    if user_keep is not None:
        row_counts = row_counts[user_keep]
        users = Vocabulary(users.ids[user_keep], users.name)
    if item_keep is not None:
        new_index = np.cumsum(item_keep) - 1
        indices = new_index[indices]
        items = Vocabulary(items.ids[item_keep], items.name)
        if metadata is not None:
            metadata = {name: np.asarray(column)[item_keep] for name, column in metadata.items()}
    return from_csr_parts(row_counts, indices, data, order, users, items, metadata)


def from_csr_parts(row_counts, indices, data, order, users, items, metadata) -> Interactions:
    """Build Interactions from per-row counts and row-major (indices, data, order) with sorted, distinct columns
    within each row; the arrays are frozen in place."""
    indptr = np.zeros(len(users) + 1, dtype=np.int64)
    np.cumsum(row_counts, out=indptr[1:])
    n_items = len(items)
    index_dtype = np.int32 if max(n_items, int(indptr[-1])) < 2**31 else np.int64
    indices = np.asarray(indices, dtype=index_dtype)
    indptr = indptr.astype(index_dtype)
    shape = (len(users), n_items)
    matrix = _frozen(sp.csr_array((np.asarray(data, dtype=np.float64), indices, indptr), shape=shape))
    order_matrix = None
    if order is not None:
        order_matrix = _frozen(sp.csr_array((np.asarray(order, dtype=np.float64), indices, indptr), shape=shape))
    return Interactions(matrix, users, items, order_matrix, metadata)


def primary_authors(interactions: Interactions) -> np.ndarray | None:
    """Object array of shape (n_items,) with each item's primary author (None where unknown), or None without
    author metadata. Falls back to the first name of the comma-separated ``authors`` column."""
    metadata = interactions.item_metadata or {}
    if "primary_author" in metadata:
        return np.asarray(metadata["primary_author"], dtype=object)
    if "authors" in metadata:
        return np.array(
            [None if a is None or a != a else str(a).split(",")[0].strip() or None for a in metadata["authors"]],
            dtype=object,
        )
    return None


def _frozen(matrix: sp.csr_array) -> sp.csr_array:
    matrix.has_sorted_indices = True  # built row-major with sorted columns
    for array in (matrix.data, matrix.indices, matrix.indptr):
        array.flags.writeable = False
    return matrix


def _check_number(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number; got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidParameterError(f"{name} must be finite; got {value!r}")
    return number
