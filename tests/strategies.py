"""Shared hypothesis strategies and hand-built instances for the game tests.

Every strategy builds valid inputs directly (finite, non-negative, small shapes); the few that need a
property the generator cannot guarantee (a singular-value gap, a generic instance) filter for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from recollective.errors import InvalidParameterError
from recollective.game import GameInstance, majority_minority

__all__ = [
    "GENERIC_RTOL",
    "MISSION_ALPHA",
    "MISSION_C",
    "MISSION_D",
    "MISSION_ITEM_GROUP",
    "MISSION_R_TRUE",
    "MISSION_USER_GROUP",
    "GenericGame",
    "WindowCase",
    "generic_games",
    "integer_matrices",
    "is_generic",
    "majority_minority_instances",
    "mission_case",
    "n_examples",
    "preference_matrices",
    "reference_top_items",
    "truncate",
    "window_cases",
]

# Relative distance from every decision boundary (alpha vs. a singular value, top score vs. runner-up) that an
# instance must keep to count as generic: far above rounding (~1e-15) and the tie rule (1e-9).
GENERIC_RTOL = 1e-6


def n_examples(budget: int) -> int:
    """Examples for an expensive property: ``budget`` under the default budget of 100 (``ci``/``dev``), scaled up
    in proportion under a larger profile (``thorough``)."""
    return max(1, math.ceil(budget * max(1.0, settings().max_examples / 100)))


def preferences(max_value: float = 10.0) -> st.SearchStrategy[float]:
    """Finite, non-negative preference values (no subnormals, which only add rounding noise)."""
    return st.floats(0.0, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def preference_matrices(draw, min_side: int = 1, max_side: int = 6, max_value: float = 10.0) -> np.ndarray:
    """Preference matrices R* of shape (n_users, n_items), entries in [0, max_value]; ties and zeros allowed."""
    shape = draw(array_shapes(min_dims=2, max_dims=2, min_side=min_side, max_side=max_side))
    return draw(arrays(np.float64, shape, elements=preferences(max_value), fill=st.nothing()))


def integer_matrices(max_side: int = 5, max_value: int = 3) -> st.SearchStrategy[np.ndarray]:
    """Small-integer matrices: exact ties in scores and in column l1 norms are common."""
    shape = array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max_side)
    return shape.flatmap(
        lambda s: arrays(np.float64, s, elements=st.integers(0, max_value).map(float), fill=st.nothing())
    )


def truncate(R: np.ndarray, alpha: float) -> tuple[np.ndarray, int, np.ndarray]:
    """Independent reference learner: (singular values, k*, R^) of ``R`` for the absolute rule, via numpy."""
    U, s, Vt = np.linalg.svd(R, full_matrices=False)
    rank = int(np.count_nonzero(s > alpha))
    return s, rank, (U[:, :rank] * s[:rank]) @ Vt[:rank]


def is_generic(R: np.ndarray, alpha: float, rtol: float = GENERIC_RTOL) -> bool:
    """True when k* >= 1, no singular value is within ``rtol`` of alpha and every user's top score beats the
    runner-up by more than ``rtol`` (relative to max(1, max|R^|)), so no tie rule is ever consulted."""
    s, rank, R_hat = truncate(R, alpha)
    scale = max(1.0, float(s[0]))
    if rank == 0 or np.min(np.abs(s - alpha)) <= rtol * scale:
        return False
    if R.shape[1] == 1:
        return True
    ordered = np.sort(R_hat, axis=1)
    margins = ordered[:, -1] - ordered[:, -2]
    return bool(np.all(margins > rtol * max(1.0, float(np.abs(R_hat).max()))))


@dataclass(frozen=True)
class GenericGame:
    """A preference matrix and an alpha strictly inside a gap of its spectrum, with unique top items."""

    R: np.ndarray
    alpha: float


@st.composite
def _games(draw, max_side: int) -> GenericGame:
    R = draw(preference_matrices(min_side=1, max_side=max_side))
    s = np.linalg.svd(R, compute_uv=False)
    k = draw(st.integers(1, s.size))  # keep k directions: alpha in [s_{k+1}, s_k)
    fraction = draw(st.floats(0.05, 0.95))
    lower = s[k] if k < s.size else 0.0
    return GenericGame(R, float(lower + fraction * (s[k - 1] - lower)))


def generic_games(max_side: int = 5) -> st.SearchStrategy[GenericGame]:
    """Games where no tie-break or knife-edge rank decision matters (see :func:`is_generic`)."""
    return _games(max_side).filter(lambda game: is_generic(game.R, game.alpha))


@st.composite
def _majority_minority_or_none(
    draw, max_majority_users: int, max_majority_items: int, max_minority_side: int, minority_rank: int | None
) -> GameInstance | None:
    n_majority_users = draw(st.integers(2, max_majority_users))
    n_majority_items = draw(st.integers(2, max_majority_items))
    n_minority_users = draw(st.integers(1, max_minority_side))
    n_minority_items = draw(st.integers(2, max_minority_side))
    majority_rank = draw(st.integers(1, min(3, n_majority_users, n_majority_items)))
    if minority_rank is None:
        minority_rank = draw(st.integers(1, min(2, n_minority_users, n_minority_items)))
    try:
        return majority_minority(
            n_majority_users,
            n_minority_users,
            n_majority_items,
            n_minority_items,
            majority_rank=majority_rank,
            minority_rank=minority_rank,
            minority_scale=draw(st.floats(0.02, 0.3)),
            alpha_position=draw(st.floats(0.01, 0.95)),
            rng=draw(st.integers(0, 2**32 - 1)),
        )
    except InvalidParameterError:  # this draw left no singular-value gap
        return None


def majority_minority_instances(
    max_majority_users: int = 8,
    max_majority_items: int = 5,
    max_minority_side: int = 4,
    minority_rank: int | None = None,
) -> st.SearchStrategy[GameInstance]:
    """Generated majority–minority instances (noise-free) whose alpha satisfies the gap condition strictly
    inside the gap (``alpha_position`` in [0.01, 0.95])."""
    inner = _majority_minority_or_none(max_majority_users, max_majority_items, max_minority_side, minority_rank)
    return inner.filter(lambda instance: instance is not None)


# --------------------------------------------------------------------------------------------------------------
# MISSION.md's small instance, built by hand: a 4 x 3 rank-2 majority block A = W H and a 2 x 2 rank-1
# minority block B = c d^T, with alpha 1% above s_1(B) = ||c|| ||d||. s(A) = (10.01, 6.48), so the gap holds.
# Truthful tops: users 0, 1 -> item 0 (utility 5), users 2, 3 -> item 2 (utility 5), minority users -> item 0
# (utility 0).

_W = np.array([[2.0, 0.0], [2.0, 0.5], [0.0, 2.0], [0.5, 2.0]])
_H = np.array([[2.5, 2.0, 0.0], [0.0, 0.5, 2.5]])
MISSION_C = np.array([1.0, 0.8])
MISSION_D = np.array([0.5, 0.6])
MISSION_R_TRUE = np.zeros((6, 5))
MISSION_R_TRUE[:4, :3] = _W @ _H
MISSION_R_TRUE[4:, 3:] = np.outer(MISSION_C, MISSION_D)
MISSION_R_TRUE.setflags(write=False)
MISSION_USER_GROUP = np.array([0, 0, 0, 0, 1, 1])
MISSION_ITEM_GROUP = np.array([0, 0, 0, 1, 1])
MISSION_ALPHA = 1.01 * float(np.linalg.norm(MISSION_C) * np.linalg.norm(MISSION_D))


@dataclass(frozen=True)
class WindowCase:
    """A collective (members, targets) on an instance, with the range [0, x_max] of uprating values to scan."""

    R_true: np.ndarray
    alpha: float
    members: tuple[int, ...]
    targets: tuple[int, ...]
    x_max: float


def mission_case(member: int = 0, target: int = 4) -> WindowCase:
    """MISSION's instance with one majority user uprating one minority item."""
    return WindowCase(np.array(MISSION_R_TRUE), MISSION_ALPHA, (member,), (target,), 10.0)


@st.composite
def window_cases(draw) -> WindowCase:
    """Small majority–minority instances (rank-1 minority block) with 1-2 majority members and one minority
    target, scanned up to twice the largest preference."""
    instance = draw(majority_minority_instances(6, 4, 3, minority_rank=1))
    majority = instance.majority_users.tolist()
    members = draw(st.lists(st.sampled_from(majority), min_size=1, max_size=2, unique=True))
    target = draw(st.sampled_from(instance.minority_items.tolist()))
    x_max = 2.0 * float(instance.R_true.max())
    return WindowCase(instance.R_true, instance.alpha, tuple(sorted(members)), (target,), x_max)


def reference_top_items(R_hat: np.ndarray) -> np.ndarray:
    """MISSION's tie rule for exactly representable scores: the largest (score, column l1 norm), then the
    lowest index. Only valid where ties are exact (integer matrices), since it uses no tolerance."""
    col_l1 = np.abs(R_hat).sum(axis=0)
    return np.array(
        [max(range(R_hat.shape[1]), key=lambda i, row=row: (row[i], col_l1[i], -i)) for row in R_hat],
        dtype=np.int64,
    )
