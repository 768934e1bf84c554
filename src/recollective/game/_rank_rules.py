"""Rank rules of the alpha-loss-tolerant learner: how many singular directions it keeps (k*).

MISSION.md (reconstruction): k* = min{k >= 0 : s_{k+1} <= alpha}, the number of singular values strictly
greater than alpha. Variants: a fixed k; a threshold relative to s_1 (s_{k+1} <= alpha * s_1); retained
variation TVR(k) = sum_{j<=k} s_j / sum_j s_j >= 1 - alpha.

Each rule also reports how far the singular values may move before k* changes, which the certificates use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_alpha

__all__ = [
    "AbsoluteThreshold",
    "FixedRank",
    "RankRule",
    "RelativeThreshold",
    "RetainedVariation",
    "as_rank_rule",
    "rank_rule_from_name",
]


class RankRule:
    """Base class: maps descending singular values to the retained rank k*."""

    name: str = "rule"

    def rank(self, singular_values: np.ndarray) -> int:
        """k* for singular values ``s`` (ndarray of shape (p,), descending, zeros allowed)."""
        raise NotImplementedError

    def rank_radius(self, singular_values: np.ndarray, perturbation_rank: int) -> float:
        """Largest eps such that any perturbation E with ||E||_2 < eps and rank(E) <= perturbation_rank leaves
        k* unchanged (Weyl: each s_j moves by at most ||E||_2; Mirsky: sum_j |ds_j| <= ||E||_*)."""
        raise NotImplementedError

    @property
    def parameter(self) -> float:
        raise NotImplementedError


@dataclass(frozen=True)
class AbsoluteThreshold(RankRule):
    """The paper's rule (default): keep every singular value strictly greater than ``alpha``."""

    alpha: float
    name = "absolute"

    def __post_init__(self):
        object.__setattr__(self, "alpha", check_alpha(self.alpha))

    @property
    def parameter(self) -> float:
        return self.alpha

    def rank(self, singular_values):
        return int(np.count_nonzero(np.asarray(singular_values) > self.alpha))

    def rank_radius(self, singular_values, perturbation_rank=1):
        s = np.asarray(singular_values)
        k = self.rank(s)
        keep = s[k - 1] - self.alpha if k > 0 else math.inf  # s_k must stay > alpha
        drop = self.alpha - s[k] if k < s.size else math.inf  # s_{k+1} must stay <= alpha
        return float(min(keep, drop))


@dataclass(frozen=True)
class FixedRank(RankRule):
    """Keep exactly ``k`` directions (or all of them when the matrix has fewer)."""

    k: int
    name = "fixed"

    def __post_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or self.k < 0:
            raise InvalidParameterError(f"fixed rank k must be an integer >= 0; got {self.k!r}")
        object.__setattr__(self, "k", int(self.k))

    @property
    def parameter(self) -> float:
        return float(self.k)

    def rank(self, singular_values):
        return min(self.k, int(np.asarray(singular_values).size))

    def rank_radius(self, singular_values, perturbation_rank=1):
        return math.inf


@dataclass(frozen=True)
class RelativeThreshold(RankRule):
    """Keep singular values strictly greater than ``alpha * s_1`` (``alpha`` in [0, 1])."""

    alpha: float
    name = "relative"

    def __post_init__(self):
        object.__setattr__(self, "alpha", _fraction(self.alpha, "relative"))

    @property
    def parameter(self) -> float:
        return self.alpha

    def rank(self, singular_values):
        s = np.asarray(singular_values)
        if s.size == 0 or s[0] <= 0:
            return 0
        return int(np.count_nonzero(s > self.alpha * s[0]))

    def rank_radius(self, singular_values, perturbation_rank=1):
        s = np.asarray(singular_values)
        if s.size == 0 or s[0] <= 0:
            return 0.0
        k = self.rank(s)
        threshold = self.alpha * s[0]  # moves by at most alpha * eps
        keep = (s[k - 1] - threshold) / (1 + self.alpha) if k > 0 else math.inf
        drop = (threshold - s[k]) / (1 + self.alpha) if k < s.size else math.inf
        return float(min(keep, drop))


@dataclass(frozen=True)
class RetainedVariation(RankRule):
    """Smallest k with TVR(k) = sum_{j<=k} s_j / sum_j s_j >= 1 - alpha (``alpha`` in [0, 1]).

    ``rtol`` (default 1e-12) is the slack, relative to sum_j s_j, that absorbs rounding in the partial sums.
    """

    alpha: float
    rtol: float = 1e-12
    name = "tvr"

    def __post_init__(self):
        object.__setattr__(self, "alpha", _fraction(self.alpha, "tvr"))

    @property
    def parameter(self) -> float:
        return self.alpha

    def _slack(self, s):
        total = float(s.sum())
        return np.concatenate([[0.0], np.cumsum(s)]) - (1 - self.alpha) * total  # f(k), k = 0..p

    def rank(self, singular_values):
        s = np.asarray(singular_values, dtype=np.float64)
        if s.size == 0 or s.sum() <= 0:
            return 0
        f = self._slack(s)
        return int(np.argmax(f >= -self.rtol * s.sum()))

    def rank_radius(self, singular_values, perturbation_rank=1):
        s = np.asarray(singular_values, dtype=np.float64)
        if s.size == 0 or s.sum() <= 0:
            return 0.0
        k, p, r = self.rank(s), s.size, max(1, int(perturbation_rank))
        f = self._slack(s)

        def lipschitz(j):  # |d f(j)| <= (alpha min(j, r) + (1 - alpha) min(p - j, r)) eps
            return self.alpha * min(j, r) + (1 - self.alpha) * min(p - j, r)

        keep = max(f[k], 0.0) / lipschitz(k) if lipschitz(k) > 0 else math.inf
        drop = -f[k - 1] / lipschitz(k - 1) if k > 0 and lipschitz(k - 1) > 0 else math.inf
        return float(min(keep, drop))


def _fraction(alpha, rule: str) -> float:
    value = check_alpha(alpha)
    if value > 1:
        raise InvalidParameterError(f"{rule} alpha must lie in [0, 1]; got {alpha!r}")
    return value


_RULES = {"absolute": AbsoluteThreshold, "fixed": FixedRank, "relative": RelativeThreshold, "tvr": RetainedVariation}


def rank_rule_from_name(name: str, value: float) -> RankRule:
    """Build a rule from its name (absolute, fixed, relative, tvr) and its parameter."""
    if name not in _RULES:
        raise InvalidParameterError(f"unknown rank rule {name!r}; choose one of {', '.join(_RULES)}")
    if name == "fixed":
        if float(value) != int(value):
            raise InvalidParameterError(f"fixed rank needs an integer k; got {value!r}")
        return FixedRank(int(value))
    return _RULES[name](value)


def as_rank_rule(rule: RankRule | float) -> RankRule:
    """A float (or int) means the paper's absolute threshold alpha."""
    if isinstance(rule, RankRule):
        return rule
    return AbsoluteThreshold(check_alpha(rule))
