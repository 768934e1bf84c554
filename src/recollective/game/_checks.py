"""Validation of the game's inputs, run once at the public entry points."""

import math

import numpy as np

from recollective.errors import DataError, InvalidParameterError

__all__ = ["check_alpha", "check_indices", "check_preferences", "check_revealed"]


def check_preferences(values, name: str = "R_true") -> np.ndarray:
    """Return ``values`` as a 2-D float64 array of finite, non-negative preferences, or raise DataError."""
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a numeric matrix; could not convert it ({exc})") from None
    if array.ndim != 2:
        raise DataError(f"{name} must be a 2-D matrix (users x items); got an array of shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise DataError(f"{name} is empty (shape {array.shape}); the game needs at least one user and one item")
    bad = ~np.isfinite(array)
    if bad.any():
        u, i = np.argwhere(bad)[0]
        raise DataError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s), first at [user {u}, item {i}]; "
            "preferences must be finite"
        )
    if (array < 0).any():
        u, i = np.argwhere(array < 0)[0]
        raise DataError(
            f"{name} contains {int((array < 0).sum())} negative value(s), first {array[u, i]:g} at "
            f"[user {u}, item {i}]; preferences must be >= 0"
        )
    return array


def check_revealed(values, shape: tuple[int, int], name: str = "R_reported") -> np.ndarray:
    """Validate a revealed matrix: like :func:`check_preferences` and with the shape of the truth."""
    array = check_preferences(values, name)
    if array.shape != tuple(shape):
        raise DataError(f"{name} has shape {array.shape} but R_true has shape {tuple(shape)}; they must match")
    return array


def check_alpha(alpha, name: str = "alpha") -> float:
    """Return ``alpha`` as a finite float >= 0, or raise InvalidParameterError."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number >= 0; got {alpha!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidParameterError(f"{name} must be a finite number >= 0; got {alpha!r}")
    return value


def check_indices(indices, size: int | None, name: str, what: str) -> np.ndarray:
    """Return sorted unique int64 indices, each in ``[0, size)`` (any >= 0 when ``size`` is None).

    Whole-number floats are accepted; fractions, strings, duplicates and out-of-range values raise
    InvalidParameterError naming ``name``.
    """
    try:
        array = np.atleast_1d(np.asarray(indices))
    except ValueError:
        raise InvalidParameterError(f"{name} must be integer {what} indices; got {indices!r}") from None
    if array.size == 0:
        raise InvalidParameterError(f"{name} is empty; give at least one {what} index")
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu" or array.ndim != 1:
        raise InvalidParameterError(f"{name} must be integer {what} indices; got {indices!r}")
    out_of_range = array[(array < 0) | (array >= size)] if size is not None else array[array < 0]
    if out_of_range.size:
        valid = f"0..{size - 1}" if size is not None else "integers >= 0"
        raise InvalidParameterError(
            f"{name}: {what} index {int(out_of_range[0])} is out of range; valid {what} indices are {valid}"
        )
    unique, counts = np.unique(array.astype(np.int64), return_counts=True)
    if unique.size != array.size:
        raise InvalidParameterError(f"{name} lists {what} index {int(unique[counts > 1][0])} more than once")
    return unique
