"""Seeds and generators (SPEC 7): every random choice flows from one ``numpy.random.Generator``."""

import numpy as np

from recollective.errors import InvalidParameterError

__all__ = ["as_generator"]


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``rng`` (a generator, an int seed, or None for fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, int | np.integer) and not isinstance(rng, bool) and rng >= 0):
        return np.random.default_rng(rng)
    raise InvalidParameterError(f"rng must be a numpy Generator, a non-negative int seed or None; got {rng!r}")
