"""The one-shot game: an alpha-loss-tolerant truncated-SVD learner facing strategic users.

Definitions follow MISSION.md ("The one-shot game"), our reconstruction of Fedorova, Kitch & Podimata
(arXiv 2506.04525); docs/model.md explains each one and where it comes from.
"""

from recollective.game._certificates import Certificate, certified_radius, outcome_radius, user_margins
from recollective.game._instances import (
    GameInstance,
    GapCheck,
    load_instance,
    majority_minority,
    save_instance,
    singular_value_gap,
)
from recollective.game._joint import CollectiveEffect, JointReport, JointStrategy, joint_outcome
from recollective.game._joint_window import (
    STATUS_NAMES,
    JointLine,
    JointSegment,
    JointStatus,
    JointWindowResult,
    joint_window,
)
from recollective.game._outcome import DEFAULT_TIE_RTOL, Outcome, PlatformUtilities, outcome, top_items
from recollective.game._pareto import ParetoComparison, compare_outcomes, compare_utilities
from recollective.game._rank_rules import (
    AbsoluteThreshold,
    FixedRank,
    RankRule,
    RelativeThreshold,
    RetainedVariation,
    as_rank_rule,
    rank_rule_from_name,
)
from recollective.game._search import RobustSearchResult, robust_search, verify_over_alphas
from recollective.game._strategy import CollectiveStrategy
from recollective.game._tightness import certify_outcome, smallest_change_along
from recollective.game._windows import WindowPiece, WindowResult, effective_window

__all__ = [
    "DEFAULT_TIE_RTOL",
    "STATUS_NAMES",
    "AbsoluteThreshold",
    "Certificate",
    "CollectiveEffect",
    "CollectiveStrategy",
    "FixedRank",
    "GameInstance",
    "GapCheck",
    "JointLine",
    "JointReport",
    "JointSegment",
    "JointStatus",
    "JointStrategy",
    "JointWindowResult",
    "Outcome",
    "ParetoComparison",
    "PlatformUtilities",
    "RankRule",
    "RelativeThreshold",
    "RetainedVariation",
    "RobustSearchResult",
    "WindowPiece",
    "WindowResult",
    "as_rank_rule",
    "certified_radius",
    "certify_outcome",
    "compare_outcomes",
    "compare_utilities",
    "effective_window",
    "joint_outcome",
    "joint_window",
    "load_instance",
    "majority_minority",
    "outcome",
    "outcome_radius",
    "rank_rule_from_name",
    "robust_search",
    "save_instance",
    "singular_value_gap",
    "smallest_change_along",
    "top_items",
    "user_margins",
    "verify_over_alphas",
]
