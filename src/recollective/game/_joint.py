"""Several collectives at once: a joint strategy, its exact outcome and each collective's part in it.

Definitions (our reconstruction; MISSION.md defines one collective, issue 22 asks for several):

* A **joint strategy** is a list of collective strategies (C_k, T_k, x_k). R~ = R* except on the cells claimed by
  some collective; a cell claimed by several collectives takes the **largest** value claimed.
* The **joint outcome** is the learner's outcome on that R~ (``outcome``: k*, R^, top items, utilities, SW).
* "Effective" and "Pareto" are the single-collective definitions (:func:`compare_utilities`: SW strictly up;
  nobody worse off and somebody better off), applied against three baselines:

  - **joint vs truthful**: the joint play against truthful play (the report's ``comparison``);
  - **solo** (per collective): collective k acting alone, everyone else truthful, against truthful play — exactly
    the single-collective engine;
  - **vs solo** (per collective): the joint play against collective k acting alone (what the others do to k);
  - **marginal** (per collective): the joint play against the joint play without k (k's cells back to R* unless
    another collective claims them): is k's action effective given what the others do.

* **Interaction effect** on welfare: (SW(joint) - SW(truthful)) - sum_k (SW(solo_k) - SW(truthful)); 0 for one
  collective, negative when the collectives get less together than the sum of what each gets alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_preferences
from recollective.game._outcome import DEFAULT_TIE_RTOL, Outcome, outcome
from recollective.game._pareto import ParetoComparison, compare_utilities
from recollective.game._rank_rules import RankRule, as_rank_rule
from recollective.game._strategy import CollectiveStrategy

__all__ = ["CollectiveEffect", "JointReport", "JointStrategy", "joint_outcome"]


def reveal(R_true: np.ndarray, collectives: Sequence[CollectiveStrategy]) -> np.ndarray:
    """R~ of several collectives (shape of ``R_true``): each claimed cell takes the largest value claimed; the rest
    is ``R_true``. No collectives: a copy of ``R_true`` (truthful play)."""
    revealed = np.array(R_true, dtype=np.float64, copy=True)
    if not collectives:
        return revealed
    claimed = np.full(R_true.shape, -np.inf)
    for collective in collectives:
        collective.check_against(*R_true.shape)
        block = np.ix_(collective.members, collective.targets)
        claimed[block] = np.maximum(claimed[block], collective.uprating)
    mask = np.isfinite(claimed)
    revealed[mask] = claimed[mask]
    return revealed


def claim_counts(shape: tuple[int, int], collectives: Sequence[CollectiveStrategy]) -> np.ndarray:
    """How many collectives claim each cell (int ndarray of shape ``shape``)."""
    counts = np.zeros(shape, dtype=np.int64)
    for collective in collectives:
        counts[np.ix_(collective.members, collective.targets)] += 1
    return counts


@dataclass(frozen=True, eq=False)
class JointStrategy:
    """Several collectives acting at once; a cell claimed by several takes the largest value claimed.

    Parameters
    ----------
    collectives : sequence of CollectiveStrategy
        At least one. Collectives may share members and targets.
    """

    collectives: tuple[CollectiveStrategy, ...]

    def __post_init__(self):
        collectives = tuple(self.collectives) if isinstance(self.collectives, Sequence) else None
        if not collectives:
            raise InvalidParameterError("a joint strategy needs at least one collective; got none")
        for index, collective in enumerate(collectives):
            if not isinstance(collective, CollectiveStrategy):
                raise InvalidParameterError(
                    f"collective {index} must be a CollectiveStrategy; got {type(collective).__name__}"
                )
        object.__setattr__(self, "collectives", collectives)

    @property
    def n_collectives(self) -> int:
        return len(self.collectives)

    def check_against(self, n_users: int, n_items: int) -> None:
        """Raise InvalidParameterError naming the collective whose member or target is out of range."""
        for index, collective in enumerate(self.collectives):
            try:
                collective.check_against(n_users, n_items)
            except InvalidParameterError as exc:
                raise InvalidParameterError(f"collective {index}: {exc}") from None

    def with_upratings(self, upratings: Sequence[float]) -> JointStrategy:
        """The same collectives with one scalar uprating value each."""
        if len(upratings) != self.n_collectives:
            raise InvalidParameterError(
                f"need one uprating value per collective ({self.n_collectives}); got {len(upratings)}"
            )
        return JointStrategy(tuple(c.with_uprating(float(x)) for c, x in zip(self.collectives, upratings, strict=True)))

    def overlap_cells(self, shape: tuple[int, int]) -> int:
        """Number of cells claimed by more than one collective."""
        return int(np.count_nonzero(claim_counts(shape, self.collectives) > 1))

    def apply(self, R_true: np.ndarray) -> np.ndarray:
        """R~: a copy of ``R_true`` (shape (n_users, n_items)) with every collective's reports written in."""
        self.check_against(*np.shape(R_true))
        return reveal(R_true, self.collectives)

    def apply_without(self, R_true: np.ndarray, index: int) -> np.ndarray:
        """R~ of the joint play without collective ``index`` (its cells truthful unless another claims them)."""
        self.check_against(*np.shape(R_true))
        return reveal(R_true, [c for k, c in enumerate(self.collectives) if k != index])

    def as_dict(self) -> dict:
        return {"collectives": [c.as_dict() for c in self.collectives]}


def _comparison_dict(comparison: ParetoComparison) -> dict:
    return {
        "effective": comparison.is_effective,
        "pareto": comparison.is_pareto_effective,
        "welfare_change": comparison.welfare_change,
        "n_better": comparison.n_better,
        "n_worse": comparison.n_worse,
        "worst_change": comparison.worst_change,
    }


@dataclass(frozen=True, eq=False)
class CollectiveEffect:
    """One collective's part in a joint play.

    Attributes
    ----------
    strategy : CollectiveStrategy
    solo : Outcome
        The outcome when this collective acts alone (everyone else truthful).
    solo_comparison : ParetoComparison
        ``solo`` against truthful play: the single-collective engine's effective / Pareto.
    versus_solo : ParetoComparison
        The joint outcome against ``solo`` (what the other collectives change for this one).
    marginal : ParetoComparison
        The joint outcome against the joint play without this collective (its contribution given the others).
    """

    strategy: CollectiveStrategy
    solo: Outcome
    solo_comparison: ParetoComparison
    versus_solo: ParetoComparison
    marginal: ParetoComparison

    def as_dict(self) -> dict:
        strategy = self.strategy.as_dict()
        return {
            "members": strategy["members"],
            "targets": strategy["targets"],
            "uprating": strategy["uprating"],
            "effective": self.solo_comparison.is_effective,
            "pareto": self.solo_comparison.is_pareto_effective,
            "social_welfare": self.solo.social_welfare,
            "k_star": self.solo.rank,
            "solo": _comparison_dict(self.solo_comparison),
            "versus_solo": _comparison_dict(self.versus_solo),
            "marginal": _comparison_dict(self.marginal),
        }


@dataclass(frozen=True, eq=False)
class JointReport:
    """The exact outcome of a joint strategy and each collective's part in it (module docstring).

    Attributes
    ----------
    strategy : JointStrategy
    outcome : Outcome
        The joint outcome (k*, R^, top items, utilities, SW, platform utilities).
    truthful : Outcome
    comparison : ParetoComparison
        The joint outcome against truthful play.
    collectives : tuple of CollectiveEffect
        One per collective, in the strategy's order.
    interaction_effect : float
        (SW(joint) - SW(truthful)) - sum_k (SW(solo_k) - SW(truthful)), summed exactly.
    overlap_cells : int
        Cells claimed by more than one collective (they take the largest value).
    """

    strategy: JointStrategy
    outcome: Outcome
    truthful: Outcome
    comparison: ParetoComparison
    collectives: tuple[CollectiveEffect, ...]
    interaction_effect: float
    overlap_cells: int

    def as_dict(self) -> dict:
        """JSON-ready summary: the joint outcome's fields at top level, then the comparisons (no matrices)."""
        document = self.outcome.as_dict()
        document.update(
            {
                "truthful_k_star": self.truthful.rank,
                "truthful_social_welfare": self.truthful.social_welfare,
                **_comparison_dict(self.comparison),
                "interaction_effect": self.interaction_effect,
                "overlap_cells": self.overlap_cells,
                "collectives": [effect.as_dict() for effect in self.collectives],
            }
        )
        return document


def joint_outcome(
    R_true,
    joint: JointStrategy | Sequence[CollectiveStrategy],
    alpha: RankRule | float = 1.0,
    *,
    tie_rtol: float = DEFAULT_TIE_RTOL,
) -> JointReport:
    """Evaluate several collectives acting at once, exactly (one thin SVD per outcome).

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R*, finite and >= 0.
    joint : JointStrategy or sequence of CollectiveStrategy
    alpha : float or RankRule, default=1.0
        The learner's rank rule.
    tie_rtol : float, default=1e-9
        Relative tolerance of the top-item tie rule.

    Returns
    -------
    JointReport
        The joint outcome; truthful, solo and without-k outcomes cost one SVD each (without-k equals the other's
        solo outcome for two collectives and is not recomputed then).

    Raises
    ------
    InvalidParameterError
        No collective, or a member / target index outside R*.

    Examples
    --------
    >>> import numpy as np
    >>> from recollective.game import CollectiveStrategy, joint_outcome
    >>> R = np.array([[3.0, 1.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 0.5]])
    >>> report = joint_outcome(R, [CollectiveStrategy([0], [2], 1.0), CollectiveStrategy([1], [2], 2.0)], 1.0)
    >>> report.outcome.rank, report.interaction_effect
    (2, 0.0)
    """
    R_true = check_preferences(R_true)
    joint = joint if isinstance(joint, JointStrategy) else JointStrategy(tuple(joint))
    joint.check_against(*R_true.shape)
    rule = as_rank_rule(alpha)

    def evaluate(collectives) -> Outcome:
        return outcome(R_true, reveal(R_true, collectives), rule, tie_rtol=tie_rtol)

    truthful = outcome(R_true, None, rule, tie_rtol=tie_rtol)
    collectives = joint.collectives
    together = evaluate(collectives) if len(collectives) > 1 else None
    solos = [evaluate([c]) for c in collectives]
    together = solos[0] if together is None else together
    effects = []
    for index, collective in enumerate(collectives):
        others = [c for k, c in enumerate(collectives) if k != index]
        if not others:
            without = truthful
        elif len(others) == 1:
            without = solos[1 - index]
        else:
            without = evaluate(others)
        effects.append(
            CollectiveEffect(
                strategy=collective,
                solo=solos[index],
                solo_comparison=compare_utilities(truthful.utilities, solos[index].utilities),
                versus_solo=compare_utilities(solos[index].utilities, together.utilities),
                marginal=compare_utilities(without.utilities, together.utilities),
            )
        )
    comparison = compare_utilities(truthful.utilities, together.utilities)
    solo_changes = [effect.solo_comparison.welfare_change for effect in effects]
    return JointReport(
        strategy=joint,
        outcome=together,
        truthful=truthful,
        comparison=comparison,
        collectives=tuple(effects),
        interaction_effect=math.fsum([comparison.welfare_change, *(-change for change in solo_changes)]),
        overlap_cells=joint.overlap_cells(R_true.shape),
    )
