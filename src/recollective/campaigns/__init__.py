"""Collective campaigns on real data: who acts, on which targets, doing what; what-if refits; a planner.

:class:`Campaign` is plain frozen data; :func:`apply_campaign` is pure and returns the new interactions and the
delta; :func:`evaluate_campaign` refits a copy of a fitted baseline through the model's ``refit`` fast path and
measures target exposure, accuracy per group, per-user Pareto accounting, popularity bias and externalities.
:func:`apply_campaigns` and :func:`evaluate_composed` do the same for several collectives at once: each alone, all
together, and the interaction effect (docs/collectives.md).
"""

from recollective.campaigns._apply import CampaignApplication, apply_campaign
from recollective.campaigns._composed import (
    OVERLAP_RULES,
    ComposedApplication,
    ComposedOutcome,
    apply_campaigns,
    evaluate_composed,
    interaction_rows,
    summarize_interactions,
)
from recollective.campaigns._evaluate import (
    CampaignOutcome,
    estimate_noise_floor,
    evaluate_campaign,
    target_audience,
    test_users,
)
from recollective.campaigns._participants import eligible_users, select_participants, user_embedding
from recollective.campaigns._planner import CampaignPlan, plan_campaign
from recollective.campaigns._spec import ACTIONS, PARTICIPANT_POLICIES, POSITION_POLICIES, Campaign
from recollective.campaigns._sweep import ROW_METRICS, summarize_rows, sweep_campaigns

__all__ = [
    "ACTIONS",
    "OVERLAP_RULES",
    "PARTICIPANT_POLICIES",
    "POSITION_POLICIES",
    "ROW_METRICS",
    "Campaign",
    "CampaignApplication",
    "CampaignOutcome",
    "CampaignPlan",
    "ComposedApplication",
    "ComposedOutcome",
    "apply_campaign",
    "apply_campaigns",
    "eligible_users",
    "estimate_noise_floor",
    "evaluate_campaign",
    "evaluate_composed",
    "interaction_rows",
    "plan_campaign",
    "select_participants",
    "summarize_interactions",
    "summarize_rows",
    "sweep_campaigns",
    "target_audience",
    "test_users",
    "user_embedding",
]
