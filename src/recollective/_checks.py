"""Argument checks shared across layers: a whole count with a floor, a share strictly between 0 and 1."""

import numpy as np

from recollective.errors import InvalidParameterError

__all__ = ["check_count", "check_unit_share"]


def check_count(value, name: str, minimum: int = 0) -> int:
    """``value`` as an int ``>= minimum`` (a bool is not a count), or InvalidParameterError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_unit_share(value, name: str) -> float:
    """A share strictly between 0 and 1."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number strictly between 0 and 1; got {value!r}") from None
    if isinstance(value, bool) or not 0.0 < number < 1.0:
        raise InvalidParameterError(f"{name} must be strictly between 0 and 1; got {value!r}")
    return number
