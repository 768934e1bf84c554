"""Strategy design: who of a pool of willing users should act, doing what, for a real recommender.

:func:`design_campaign` searches (greedy over per-family marginal gains, :mod:`._gains`, and ranked starts that
take the pool in a fixed order, :func:`pool_rankings`), verifies every plan by a
cold fit (:func:`verify_plan`) and writes the organizer's plan (:meth:`CampaignDesign.to_markdown`, ``to_csv``).
"""

from recollective.campaigns.design._bounds import BOUND_MODELS, exposure_upper_bound
from recollective.campaigns.design._design import CampaignDesign, design_campaign, plan_interactions
from recollective.campaigns.design._gains import GAIN_KINDS, gain_kind, target_gains
from recollective.campaigns.design._screen import SCREENED_MODELS, own_scores, screen_pool
from recollective.campaigns.design._search import (
    CONSTRUCTIONS,
    Action,
    SearchResult,
    exchange_trials,
    plan_with_delta,
    pool_rankings,
    search_strategy,
)
from recollective.campaigns.design._verify import verify_plan

__all__ = [
    "BOUND_MODELS",
    "CONSTRUCTIONS",
    "GAIN_KINDS",
    "SCREENED_MODELS",
    "Action",
    "CampaignDesign",
    "SearchResult",
    "design_campaign",
    "exchange_trials",
    "exposure_upper_bound",
    "gain_kind",
    "own_scores",
    "plan_interactions",
    "plan_with_delta",
    "pool_rankings",
    "screen_pool",
    "search_strategy",
    "target_gains",
    "verify_plan",
]
