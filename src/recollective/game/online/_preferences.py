"""True preferences for the online game from latent vectors: R* = U V^T with users and items in R^d."""

from __future__ import annotations

import numpy as np

from recollective._random import as_generator
from recollective.errors import InvalidParameterError

__all__ = ["latent_preferences"]


def latent_preferences(
    n_users: int,
    n_items: int,
    dim: int,
    *,
    nonnegative: bool = True,
    scale: float = 1.0,
    rng: np.random.Generator | int | None = 0,
) -> np.ndarray:
    """R* = U V^T / d * scale, an ndarray of shape (n_users, n_items) of rank at most ``dim``.

    With ``nonnegative`` the latent vectors are uniform on [0, 1]^d (so R* >= 0, mean entry ``scale / 4``);
    otherwise standard Gaussian (preferences of either sign, mean 0).
    """
    for name, value in {"n_users": n_users, "n_items": n_items, "dim": dim}.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InvalidParameterError(f"{name} must be an integer >= 1; got {value!r}")
    if not np.isfinite(scale) or scale <= 0:
        raise InvalidParameterError(f"scale must be a finite number > 0; got {scale!r}")
    gen = as_generator(rng)
    draw = gen.uniform if nonnegative else (lambda lo, hi, size: gen.standard_normal(size))
    users = draw(0.0, 1.0, (n_users, dim))
    items = draw(0.0, 1.0, (n_items, dim))
    return (users @ items.T) * (scale / dim)
