"""Aggregation of per-user metric arrays: the mean over users and the mean per user group.

Per-user metrics are NaN where they are undefined (a user without held-out truth, an empty list); aggregation
skips those users. When nothing is left the result is NaN and an :class:`UndefinedMetricWarning` says so, once
per call.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np

from recollective.errors import DataError

__all__ = ["UndefinedMetricWarning", "group_masks", "group_means", "mean_over_users"]


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined on its input (no user with held-out truth, an empty group or audience): NaN."""


def mean_over_users(values, weights=None) -> float:
    """Mean of a per-user metric over the users where it is defined (NaN users are left out).

    Parameters
    ----------
    values : array-like of float of shape (n_users,)
        A per-user metric, NaN where undefined (e.g. from :func:`recall_at_k`).
    weights : array-like of float of shape (n_users,), optional
        Non-negative weights (default 1 per user); the weight of a NaN user is ignored.

    Returns
    -------
    float
        ``sum(w * v) / sum(w)`` over defined users; NaN, with an :class:`UndefinedMetricWarning`, when no user
        is defined or their weights sum to 0.
    """
    array = _check_values(values)
    weight = _check_weights(weights, array.size)
    mean = nan_mean(array, weight)
    if math.isnan(mean):
        warnings.warn(
            f"no user has a defined value among {array.size} (every per-user value is NaN, e.g. no user has "
            "held-out truth, or the weights are 0); the mean is NaN",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    return mean


def group_means(per_user, groups) -> dict:
    """Mean of a per-user metric within each user group (NaN users left out, as in :func:`mean_over_users`).

    Parameters
    ----------
    per_user : array-like of float of shape (n_users,)
    groups : array-like of shape (n_users,) or mapping
        Either one label per user (e.g. ``"majority"``/``"minority"``; each label is one group), or a mapping
        ``{name: members}`` whose members are a boolean mask of shape (n_users,) or user indices (groups may
        overlap, e.g. ``{"all": ..., "audience": ...}``).

    Returns
    -------
    dict
        ``{group: mean}`` with labels as Python scalars, in sorted label order (mapping order for a mapping).
        A group with no defined user is NaN; one :class:`UndefinedMetricWarning` per call names those groups.
    """
    array = _check_values(per_user)
    masks = group_masks(groups, array.size)
    means = {name: nan_mean(array[mask]) for name, mask in masks.items()}
    empty = [str(name) for name, value in means.items() if math.isnan(value)]
    if empty:
        warnings.warn(
            f"group(s) {', '.join(empty)} have no user with a defined value; their mean is NaN",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    return means


def group_masks(groups, n_users: int) -> dict:
    """``{group: boolean mask of shape (n_users,)}`` from per-user labels or a ``{name: members}`` mapping."""
    if isinstance(groups, Mapping):
        masks = {}
        for name, members in groups.items():
            array = np.asarray(members)
            if array.dtype == bool:
                if array.shape != (n_users,):
                    raise DataError(f"group {name!r}: a boolean mask must have shape ({n_users},); got {array.shape}")
                masks[name] = array
                continue
            array = array.reshape(-1)
            if array.size and not np.issubdtype(array.dtype, np.integer):
                raise DataError(f"group {name!r}: members must be a boolean mask or user indices; got {array.dtype}")
            if array.size and (array.min() < 0 or array.max() >= n_users):
                raise DataError(f"group {name!r}: user index out of range 0..{n_users - 1}")
            mask = np.zeros(n_users, dtype=bool)
            mask[array.astype(np.int64)] = True
            masks[name] = mask
        return masks
    labels = np.asarray(groups)
    if labels.shape != (n_users,):
        raise DataError(
            f"groups must hold one label per user, shape ({n_users},), or be a mapping {{name: members}}; "
            f"got shape {labels.shape}"
        )
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise DataError("groups holds NaN labels; give every user a group")
    return {label.item() if isinstance(label, np.generic) else label: labels == label for label in np.unique(labels)}


def nan_mean(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean over the non-NaN entries; NaN (silently) when none is left or the weights sum to 0."""
    defined = ~np.isnan(values)
    weight = defined.astype(np.float64) if weights is None else np.where(defined, weights, 0.0)
    total = weight.sum()
    if total <= 0:
        return math.nan
    return float(np.sum(np.where(defined, values, 0.0) * weight) / total)


def _check_values(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise DataError(f"per-user values must be 1-D, one per user; got shape {array.shape}")
    if np.isinf(array).any():
        raise DataError("per-user values hold inf; only NaN (undefined) is allowed besides finite numbers")
    return array


def _check_weights(weights, n_users: int) -> np.ndarray | None:
    if weights is None:
        return None
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != (n_users,):
        raise DataError(f"weights must have one entry per user, shape ({n_users},); got {array.shape}")
    if not np.all(np.isfinite(array)) or (array < 0).any():
        raise DataError("weights must be finite and non-negative")
    return array
