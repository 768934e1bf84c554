"""Collective campaigns on real data: who acts, on which targets, doing what; what-if refits; a planner.

:class:`Campaign` is plain frozen data; :func:`apply_campaign` is pure and returns the new interactions and the
delta; :func:`evaluate_campaign` refits a copy of a fitted baseline through the model's ``refit`` fast path and
measures target exposure, accuracy per group, per-user Pareto accounting, popularity bias and externalities.
"""

from recollective.campaigns._apply import CampaignApplication, apply_campaign
from recollective.campaigns._evaluate import (
    CampaignOutcome,
    estimate_noise_floor,
    evaluate_campaign,
    target_audience,
    test_users,
)
from recollective.campaigns._participants import eligible_users, select_participants, user_embedding
from recollective.campaigns._planner import CampaignPlan, plan_campaign
from recollective.campaigns._spec import PARTICIPANT_POLICIES, POSITION_POLICIES, Campaign
from recollective.campaigns._sweep import ROW_METRICS, summarize_rows, sweep_campaigns

__all__ = [
    "PARTICIPANT_POLICIES",
    "POSITION_POLICIES",
    "ROW_METRICS",
    "Campaign",
    "CampaignApplication",
    "CampaignOutcome",
    "CampaignPlan",
    "apply_campaign",
    "eligible_users",
    "estimate_noise_floor",
    "evaluate_campaign",
    "plan_campaign",
    "select_participants",
    "summarize_rows",
    "sweep_campaigns",
    "target_audience",
    "test_users",
    "user_embedding",
]
