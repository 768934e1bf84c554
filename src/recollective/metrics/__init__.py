"""Metrics: pure functions of recommendation lists, held-out truth and training counts.

Per-user arrays first (NaN where a user has no held-out truth), aggregation separately
(:func:`mean_over_users`, :func:`group_means`). Lists are ``item_idx`` of shape (n_users, k), best first, padded
with ``-1``, as ``Recommender.recommend`` returns them for a batch of users.

* accuracy: :func:`precision_at_k`, :func:`recall_at_k`, :func:`ndcg_at_k`, :func:`hit_rate_at_k`,
  :func:`reciprocal_rank_at_k`, :func:`average_precision_at_k`, :func:`ranking_metrics_per_user`;
* catalogue and popularity bias: :func:`item_coverage`, :func:`average_popularity_per_user` (ARP),
  :func:`long_tail_items`, :func:`long_tail_share_per_user` (APLT), :func:`exposure_gini`,
  :func:`exposure_entropy`;
* targets: :func:`target_exposure`, :func:`discounted_target_exposure`, :func:`amplification`;
* everything at once: :func:`evaluate_lists`, :func:`evaluate_model`.
"""

from recollective.metrics._aggregate import UndefinedMetricWarning, group_means, mean_over_users
from recollective.metrics._amplification import Amplification, amplification
from recollective.metrics._evaluate import evaluate_lists, evaluate_model
from recollective.metrics._exposure import discounted_target_exposure, target_exposure, target_hits_per_user
from recollective.metrics._popularity_bias import (
    average_popularity_per_user,
    exposure_counts,
    exposure_entropy,
    exposure_gini,
    item_coverage,
    item_popularity,
    long_tail_items,
    long_tail_share_per_user,
)
from recollective.metrics._ranking_metrics import (
    RANKING_METRICS,
    average_precision_at_k,
    hit_rate_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics_per_user,
    recall_at_k,
    reciprocal_rank_at_k,
)

__all__ = [
    "RANKING_METRICS",
    "Amplification",
    "UndefinedMetricWarning",
    "amplification",
    "average_popularity_per_user",
    "average_precision_at_k",
    "discounted_target_exposure",
    "evaluate_lists",
    "evaluate_model",
    "exposure_counts",
    "exposure_entropy",
    "exposure_gini",
    "group_means",
    "hit_rate_at_k",
    "item_coverage",
    "item_popularity",
    "long_tail_items",
    "long_tail_share_per_user",
    "mean_over_users",
    "ndcg_at_k",
    "precision_at_k",
    "ranking_metrics_per_user",
    "recall_at_k",
    "reciprocal_rank_at_k",
    "target_exposure",
    "target_hits_per_user",
]
