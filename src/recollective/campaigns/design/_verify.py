"""Verification of a designed plan by a cold fit on the changed data, with per-user Pareto accounting.

The search's own numbers come from refitted working models (fast, exact for some families, approximate for others);
a plan is only reported with the numbers of a model fitted from scratch on the training data plus the plan's
actions, compared with the baseline fitted on the training data alone. Utility is held-out NDCG@k, and a change
within ``noise_floor`` (the seed-to-seed variation of the baseline) counts as unchanged.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from recollective.campaigns._evaluate import _mean, _ndcg, pareto_shares, test_users
from recollective.data import Interactions
from recollective.metrics import UndefinedMetricWarning, discounted_target_exposure
from recollective.models import Recommender

__all__ = ["verify_plan"]


def verify_plan(
    baseline: Recommender,
    train: Interactions,
    test: Interactions,
    changed: Interactions,
    participants,
    audience,
    targets,
    *,
    k: int = 10,
    noise_floor: float = 0.0,
    relevance_threshold: float | None = None,
    after: Recommender | None = None,
) -> dict:
    """Cold-refit numbers of a plan.

    Parameters
    ----------
    baseline : Recommender
        Fitted on ``train``.
    changed : Interactions
        ``train`` after the plan's actions.
    participants : array-like of int
        Users who act.
    after : Recommender, optional
        A model already fitted on ``changed`` (default: ``baseline.clone().fit(changed)``, a cold fit).

    Returns
    -------
    dict
        ``target_exposure_before/after`` (share of the audience with an unseen target in its top k),
        ``discounted_exposure_before/after``, ``ndcg_before/after`` (test users), ``ndcg_majority_before/after``
        (test users outside the audience), ``ndcg_audience_*``, ``ndcg_participants_*`` (participants with held-out
        items), ``participants_better/worse/unchanged_share``, ``better/worse_share`` (test users),
        ``n_participants``, ``n_participants_in_test``, ``n_actions``, ``audience_size``, ``noise_floor``,
        ``majority_loss`` and ``participant_loss`` (mean NDCG before minus after), ``worse_participants`` (user
        indices of participants whose NDCG fell by more than the floor), ``fit_seconds``.
    """
    import time

    participants = np.unique(np.asarray(participants, dtype=np.int64))
    audience = np.unique(np.asarray(audience, dtype=np.int64))
    targets = np.asarray(targets, dtype=np.int64)
    started = time.perf_counter()
    if after is None:
        after = baseline.clone().fit(changed)
    fit_seconds = time.perf_counter() - started
    users = test_users(test, relevance_threshold)
    evaluated = np.union1d(users, np.union1d(audience, participants))
    before_lists, _ = baseline.recommend(evaluated, k)
    after_lists, _ = after.recommend(evaluated, k)
    rows_of = np.searchsorted(evaluated, users)
    audience_rows = np.searchsorted(evaluated, audience)
    truth = test.matrix[users]
    out = {
        "k": int(k),
        "audience_size": int(audience.size),
        "n_participants": int(participants.size),
        "n_actions": int((changed.matrix != train.matrix).nnz) if changed.matrix.shape == train.matrix.shape else -1,
        "noise_floor": float(noise_floor),
        "fit_seconds": fit_seconds,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        before_u = _ndcg(before_lists[rows_of], truth, relevance_threshold)
        after_u = _ndcg(after_lists[rows_of], truth, relevance_threshold)
    for label, lists in (("before", before_lists), ("after", after_lists)):
        audience_lists = lists[audience_rows]
        out[f"target_exposure_{label}"] = float(np.isin(audience_lists, targets).any(axis=1).mean())
        out[f"discounted_exposure_{label}"] = float(discounted_target_exposure(audience_lists, targets).mean())
    in_audience = np.isin(users, audience)
    in_plan = np.isin(users, participants)
    for group, mask in (("", np.ones(users.size, bool)), ("majority_", ~in_audience),
                        ("audience_", in_audience), ("participants_", in_plan)):
        out[f"ndcg_{group}before"] = _mean(before_u[mask])
        out[f"ndcg_{group}after"] = _mean(after_u[mask])
    change = after_u - before_u
    floor = max(float(noise_floor), 1e-12)
    out.update(pareto_shares(change, noise_floor, in_plan))
    out["majority_loss"] = _difference(out["ndcg_majority_before"], out["ndcg_majority_after"])
    out["participant_loss"] = _difference(out["ndcg_participants_before"], out["ndcg_participants_after"])
    out["worse_participants"] = [int(u) for u in users[in_plan & (change < -floor)]]
    return out


def _difference(before: float, after: float) -> float:
    if math.isnan(before) or math.isnan(after):
        return 0.0
    return float(before - after)
