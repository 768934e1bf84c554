"""Participants' incentives in the one-shot game: altruism, costs, free riding and the critical mass.

Every definition here is our reconstruction (the paper's text is unavailable; MISSION.md, "The system", item 3)
and is spelled out in docs/incentives.md. For a collective strategy (members C, targets T, uprating x) evaluated
with the one-shot engine (:func:`recollective.game.outcome`) and a sub-collective S of C acting alone:

* **Actions**: a member's strategic actions a_u are its reported (member, target) entries that differ from its
  true preference; a non-member takes none (:func:`action_counts`).
* **Payoff** with altruism weight lambda >= 0 and cost c >= 0 per action:
  pi_u(S) = w_u(S) + lambda * sum_{v != u} w_v(S) - c * a_u * [u in S] (:func:`payoffs`).
* **Criterion**: S meets it when SW(S) - SW(truthful) > 0 and >= G (``welfare_gain``), and, under
  ``criterion="pareto"``, no user's utility falls.
* **Individually rational** member u of S: pi_u(S) >= pi_u(S \\ u) (leaving while the others stay is no better).
* **Free riders**: members u of C such that C and C \\ u both meet the criterion and u strictly prefers leaving
  (u saves the cost and the strategy survives); non-members whose utility rises without acting.
* **Minimal sub-collectives**: greedy removal (1-minimal) and, for at most ``max_exact`` members, every
  minimum-size and every inclusion-minimal sub-collective (:func:`minimal_subcollectives`).
* **Critical mass** at (lambda, c): the size of the smallest S — a prefix of the ordered candidates, or any
  subset when exact — that meets the criterion with every member of S individually rational
  (:func:`critical_mass`). Outcomes are cached per subset, so a grid of (lambda, c) costs no more outcome
  evaluations than the distinct subsets it needs.

Examples
--------
>>> import numpy as np
>>> from recollective.game import CollectiveStrategy
>>> from recollective.game.incentives import incentives
>>> R = np.zeros((6, 5))
>>> R[:4, :3] = [[5, 4, 0], [5, 4.25, 1.25], [0, 1, 5], [1.25, 2, 5]]
>>> R[4:, 3:] = [[0.5, 0.6], [0.4, 0.48]]
>>> report = incentives(R, CollectiveStrategy([0], [4], 1.0), 1.0102, altruism=0.1, cost=0.05)
>>> member = report.members[0]
>>> round(member.others_change, 2), round(member.margin, 3), member.is_rational
(1.08, 0.058, True)
"""

from recollective.game.incentives._core import action_counts, payoffs
from recollective.game.incentives._mass import CriticalMassResult, critical_mass
from recollective.game.incentives._members import IncentiveReport, MemberIncentive, incentives
from recollective.game.incentives._minimal import SubCollectives, minimal_subcollectives

__all__ = [
    "CriticalMassResult",
    "IncentiveReport",
    "MemberIncentive",
    "SubCollectives",
    "action_counts",
    "critical_mass",
    "incentives",
    "minimal_subcollectives",
    "payoffs",
]
