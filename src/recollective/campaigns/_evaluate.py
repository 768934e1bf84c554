"""What-if evaluation of one campaign: baseline model, campaign, refit, and who gains or loses.

Truth is the held-out test interactions (real data). Per-user utility is NDCG@k on the user's held-out items;
a user is better (worse) off when the utility rises (falls) by more than the noise floor — the
seed-to-seed variation of the baseline itself (:func:`estimate_noise_floor`).
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recollective.campaigns._apply import CampaignApplication, apply_campaign
from recollective.campaigns._noise_floor import estimate_noise_floor
from recollective.campaigns._population import (
    DEFAULT_SAMPLE_SIZE,
    check_score_users,
    ci95_halfwidth,
    evaluation_population,
)
from recollective.campaigns._spec import Campaign
from recollective.campaigns._utility import _mean, _ndcg, _relevant, _true_dcg, recommend_lists, test_users
from recollective.data import Interactions
from recollective.errors import DataError
from recollective.metrics import (
    UndefinedMetricWarning,
    amplification,
    average_popularity_per_user,
    discounted_target_exposure,
    exposure_gini,
    item_coverage,
    item_popularity,
    long_tail_items,
    long_tail_share_per_user,
    ranking_metrics_per_user,
)
from recollective.models import Recommender

__all__ = [
    "CampaignOutcome",
    "estimate_noise_floor",
    "evaluate_campaign",
    "measure_lists",
    "target_audience",
    "test_users",
]

N_POPULARITY_BINS = 5


def target_audience(test: Interactions, targets, relevance_threshold: float | None = None) -> np.ndarray:
    """Test users with a relevant held-out interaction on a target (sorted indices): who would like the targets."""
    relevant = _relevant(test.matrix, relevance_threshold).tocsc()
    targets = np.asarray(targets, dtype=np.int64)
    users = [relevant.indices[relevant.indptr[t] : relevant.indptr[t + 1]] for t in targets]
    return np.unique(np.concatenate(users)).astype(np.int64) if users else np.empty(0, np.int64)


@dataclass(frozen=True, eq=False)
class CampaignOutcome:
    """Before/after numbers of one campaign (``summary``) and the per-user utilities behind them.

    Attributes
    ----------
    summary : dict
        JSON-ready scalars (see :func:`evaluate_campaign`).
    users : ndarray of int
        The scored test users (rows of ``utility_before`` / ``utility_after``): every test user, or under the lean
        evaluation the sample plus the test users in the audience or among the participants.
    utility_before, utility_after : ndarray of shape (len(users),)
        NDCG@k on each test user's held-out items.
    application : CampaignApplication
    audience : ndarray of int
    population : ndarray of int, optional
        The users the population numbers average over (sorted; a subset of ``users``; None: all of ``users``).
    """

    summary: dict
    users: np.ndarray
    utility_before: np.ndarray
    utility_after: np.ndarray
    application: CampaignApplication
    audience: np.ndarray
    details: dict = field(default_factory=dict)
    population: np.ndarray | None = None


def evaluate_campaign(
    baseline: Recommender,
    train: Interactions,
    test: Interactions,
    campaign: Campaign,
    *,
    k: int = 10,
    rng: np.random.Generator | int | None = 0,
    audience=None,
    relevance_threshold: float | None = None,
    noise_floor: float = 0.0,
    embedding: np.ndarray | None = None,
    world=None,
    score_users: str = "needed",
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    sample_seed: int = 0,
) -> CampaignOutcome:
    """Apply ``campaign`` to ``train``, refit a copy of the fitted ``baseline``, and compare.

    Parameters
    ----------
    baseline : Recommender
        Fitted on ``train``; it is not modified (the refit works on a deep copy).
    train, test : Interactions
        The split (same vocabularies).
    campaign : Campaign
    k : int
        List length.
    rng : Generator, int or None
        Draws participants, participation and budgets.
    audience : array-like of int, optional
        Users who would like the targets; default :func:`target_audience` of the test set.
    relevance_threshold : float, optional
    noise_floor : float, default 0
        Utility changes with ``|change| <= noise_floor`` count as unchanged.
    embedding : ndarray, optional
        User embedding for ``participants="closest"``.
    world : recollective.data World, optional
        A world with known true preferences R* (same users and items as ``train``): then every user is counted,
        each user's utility is the true DCG of the list, ``sum_j R*[u, item_j] / log2(j + 1)`` (j = 1..k), the
        audience defaults to ``world.audience(targets)``, and ``welfare_before/after`` is the sum of utilities.
        Accuracy on ``test`` is still reported.
    score_users : {"needed", "all"}, default "needed"
        Whose lists are computed. ``all``: every test user (with ``world``: every user), the audience and the
        participants. ``needed`` (lean): the audience and the participants in full, plus a uniform sample of
        ``sample_size`` test users drawn from ``sample_seed`` alone (:mod:`recollective.campaigns._population`).
        With no more test users than ``sample_size`` the two are the same evaluation.
    sample_size : int >= 1, default 3000 (``DEFAULT_SAMPLE_SIZE``)
    sample_seed : int, default 0
        Seeds the sample; the same sample whatever ``rng``, the campaign or the model, so runs are paired.

    Returns
    -------
    CampaignOutcome
        ``summary`` holds: ``audience_size``, ``n_selected``, ``n_participants`` (acting), ``n_actions``;
        ``target_exposure_before/after`` (share of the audience with a target in its top k),
        ``target_exposure_majority_before/after`` (the same share among test users outside the audience),
        ``discounted_exposure_before/after`` (mean over the audience), ``target_ndcg_before/after`` (NDCG of the
        audience's held-out target items), ``amplification_before/after`` (overall, Baumann & Mendler-Dünner);
        ``ndcg_before/after``, ``recall_before/after`` and ``hit_rate_before/after`` (HR@k) over all test users,
        ``ndcg_majority_*`` / ``hit_rate_majority_*`` (test users outside the audience), ``ndcg_audience_*``,
        ``hit_rate_audience_*``, ``ndcg_participants_*``, ``hit_rate_participants_*``; ``better_share``,
        ``unchanged_share``, ``worse_share`` (all test users) and ``participants_better_share``,
        ``participants_worse_share``; ``noise_floor``; ``hits_before/after`` (held-out hits in all lists:
        realised engagement); ``coverage_*``, ``arp_*``, ``aplt_*``, ``gini_*``; ``externality_bins`` (share of
        list slots of non-target items by training-popularity quintile, before and after).

        **Computed on the sample** under ``score_users="needed"`` when there are more test users than
        ``sample_size`` (else on every test user, as with ``"all"``): ``ndcg_*``, ``recall_*``, ``hit_rate_*``,
        ``ndcg_majority_*``, ``hit_rate_majority_*``, ``target_exposure_majority_*``, ``better_share``,
        ``unchanged_share``, ``worse_share``, ``coverage_*``, ``arp_*``, ``aplt_*``, ``gini_*``,
        ``amplification_*`` (over the sampled users' lists), ``externality_bins``, and ``welfare_*`` and ``hits_*``
        (the sample's sums times ``n_test_users / n_sampled_users``). Each equals the full evaluation's number over
        the same users. Their sampling error: ``<key>_ci95``, the half-width of a 95% normal interval with the
        finite-population correction (0 when every test user is in the sample), for ``ndcg_*``, ``recall_*``,
        ``hit_rate_*``, ``ndcg_majority_*``, ``target_exposure_majority_*`` and the three shares. **Always on every
        user of the group**: ``target_exposure_*``, ``discounted_exposure_*``, ``target_ndcg_*`` (the audience),
        ``ndcg_audience_*``, ``hit_rate_audience_*``, ``ndcg_participants_*``, ``hit_rate_participants_*``,
        ``participants_better_share``, ``participants_worse_share``, ``n_participants_in_test``. Also:
        ``n_test_users`` (all of them), ``n_sampled_users`` (fewer than ``n_test_users`` exactly when the sample is
        a strict one) and ``n_scored_users`` (lists computed per model).
    """
    if not baseline.is_fitted():
        raise DataError("evaluate_campaign needs a fitted baseline model (fit it on the training interactions)")
    if test.matrix.shape != train.matrix.shape:
        raise DataError(
            f"train and test must share their vocabularies: shapes {train.matrix.shape} and {test.matrix.shape}"
        )
    targets = np.asarray(campaign.targets, dtype=np.int64)
    if world is not None and (world.n_users, world.n_items) != train.matrix.shape:
        raise DataError(
            f"the world has {world.n_users} users x {world.n_items} items but the training data "
            f"{train.matrix.shape[0]} x {train.matrix.shape[1]}; use the world's own interactions"
        )
    check_score_users(score_users, sample_size)
    candidates = test_users(test, relevance_threshold) if world is None else np.arange(train.n_users)
    population = evaluation_population(candidates, score_users, sample_size, sample_seed)
    if audience is None:
        audience = target_audience(test, targets, relevance_threshold) if world is None else world.audience(targets)
    audience = np.unique(np.asarray(audience, dtype=np.int64))
    application = apply_campaign(campaign, train, audience, rng, embedding=embedding)
    after_model = copy.deepcopy(baseline).refit(application.interactions, application.delta)

    evaluated = np.union1d(population, np.union1d(audience, application.acting))
    users = candidates[np.isin(candidates, evaluated)]  # the scored test users
    before_lists = recommend_lists(baseline, evaluated, k)  # the sample's lists from the noise floor, if computed
    after_lists, _ = after_model.recommend(evaluated, k)
    counts = {"n_selected": int(application.selected.size), "n_participants": int(application.acting.size),
              "n_actions": application.n_actions}
    summary, before_u, after_u = measure_lists(
        evaluated, before_lists, after_lists, train=train, test=test, targets=targets, audience=audience,
        users=users, acting=application.acting, counts=counts, k=k, relevance_threshold=relevance_threshold,
        noise_floor=noise_floor, world=world, population=population, n_population=candidates.size,
    )
    return CampaignOutcome(summary, users, before_u, after_u, application, audience, population=population)


def measure_lists(
    evaluated, before_lists, after_lists, *, train, test, targets, audience, users, acting, counts, k,
    relevance_threshold, noise_floor, world, population=None, n_population=None,
) -> tuple[dict, np.ndarray, np.ndarray]:
    """(summary, utility before, utility after) of :func:`evaluate_campaign` from the top-``k`` lists of the
    ``evaluated`` users (sorted; a superset of ``users``, ``audience`` and ``acting``) before and after.

    ``targets`` / ``audience`` / ``acting`` are one collective's; ``counts`` holds its ``n_selected``,
    ``n_participants`` and ``n_actions``. ``users`` are the scored test users (the utilities returned are theirs).
    ``population`` (sorted, a subset of ``users``; default ``users``) are the users the population numbers average
    over, a uniform sample of ``n_population`` test users (default ``population.size``): see
    :mod:`recollective.campaigns._population`. Composed campaigns call it once per collective on the same lists.
    """
    targets = np.asarray(targets, dtype=np.int64)
    users = np.asarray(users, dtype=np.int64)
    population = users if population is None else np.asarray(population, dtype=np.int64)
    n_population = population.size if n_population is None else int(n_population)
    sampled = population.size < n_population
    row_of = {int(u): r for r, u in enumerate(evaluated)}
    test_rows = np.array([row_of[int(u)] for u in users], dtype=np.int64)
    audience_rows = np.array([row_of[int(u)] for u in audience], dtype=np.int64)
    in_population = np.isin(users, population)
    population_rows = test_rows[in_population]
    truth = test.matrix[users]
    if world is None:
        before_u = _ndcg(before_lists[test_rows], truth, relevance_threshold)
        after_u = _ndcg(after_lists[test_rows], truth, relevance_threshold)
    else:
        before_u = _true_dcg(world, users, before_lists[test_rows])
        after_u = _true_dcg(world, users, after_lists[test_rows])
    scale = n_population / max(1, population.size)  # sums over the sample, scaled to all test users

    summary = {
        "k": int(k),
        "utility": "held-out NDCG@k" if world is None else "true DCG@k",
        "welfare_before": float(np.nansum(before_u[in_population])) * (scale if sampled else 1.0),
        "welfare_after": float(np.nansum(after_u[in_population])) * (scale if sampled else 1.0),
        "audience_size": int(audience.size),
        "n_test_users": int(n_population),
        "n_sampled_users": int(population.size),
        "n_scored_users": len(evaluated),
        **counts,
        "noise_floor": float(noise_floor),
    }
    popularity = item_popularity(train.matrix)
    tail = long_tail_items(popularity)
    hit_rates = {}
    in_audience = np.isin(users, audience)
    participants = np.isin(users, acting)
    majority = in_population & ~in_audience
    n_majority = n_population - int(in_audience.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for label, lists in (("before", before_lists), ("after", after_lists)):
            listed = lists[population_rows] if sampled else lists  # amplification: the population's lists
            summary.update(_target_numbers(label, lists, audience_rows, targets, test, audience, relevance_threshold,
                                           popularity, k, listed))
            per_user = ranking_metrics_per_user(lists[test_rows], truth, k, relevance_threshold=relevance_threshold)
            population_lists = lists[population_rows]
            for name in ("ndcg", "recall", "hit_rate"):
                summary[f"{name}_{label}"] = _mean(per_user[name][in_population])
                summary[f"{name}_{label}_ci95"] = ci95_halfwidth(per_user[name][in_population], n_population)
            hit_rates[label] = per_user["hit_rate"]
            hits = float(np.nansum(per_user["recall"][in_population] * per_user["n_relevant"][in_population]))
            summary[f"hits_{label}"] = round(hits * scale) if sampled else round(hits)
            summary[f"coverage_{label}"] = item_coverage(population_lists, train.n_items)
            summary[f"arp_{label}"] = _mean(average_popularity_per_user(population_lists, popularity))
            summary[f"aplt_{label}"] = _mean(long_tail_share_per_user(population_lists, tail))
            summary[f"gini_{label}"] = exposure_gini(population_lists, train.n_items)
        for label, lists in (("before", before_lists), ("after", after_lists)):  # spill-over outside the audience
            reached = np.isin(lists[test_rows][majority], targets).any(axis=1)
            summary[f"target_exposure_majority_{label}"] = float(reached.mean()) if reached.size else math.nan
            summary[f"target_exposure_majority_{label}_ci95"] = ci95_halfwidth(reached, n_majority)
        for group, mask in (("majority", majority), ("audience", in_audience), ("participants", participants)):
            summary[f"ndcg_{group}_before"] = _mean(before_u[mask])
            summary[f"ndcg_{group}_after"] = _mean(after_u[mask])
            summary[f"hit_rate_{group}_before"] = _mean(hit_rates["before"][mask])
            summary[f"hit_rate_{group}_after"] = _mean(hit_rates["after"][mask])
        for label, utility in (("before", before_u), ("after", after_u)):
            summary[f"ndcg_majority_{label}_ci95"] = ci95_halfwidth(utility[majority], n_majority)
    change = after_u - before_u
    shares = pareto_shares(change[in_population], noise_floor, np.zeros(int(in_population.sum()), bool))
    shares.update({key: value for key, value in pareto_shares(change, noise_floor, participants).items()
                   if key.startswith("participants_") or key == "n_participants_in_test"})
    summary.update(shares)
    floor = max(float(noise_floor), 1e-12)
    for key, indicator in (("better_share", change > floor), ("worse_share", change < -floor),
                           ("unchanged_share", np.abs(change) <= floor)):
        summary[f"{key}_ci95"] = ci95_halfwidth(indicator[in_population].astype(np.float64), n_population)
    summary["externality_bins"] = _externalities(before_lists[population_rows], after_lists[population_rows],
                                                 popularity, targets)
    for b in range(1, N_POPULARITY_BINS + 1):  # flat copies for result rows (NaN when a bin is missing)
        found = [row for row in summary["externality_bins"] if row["bin"] == b]
        for label in ("before", "after"):
            summary[f"externality_bin{b}_share_{label}"] = found[0][f"share_{label}"] if found else math.nan
    return summary, before_u, after_u


def pareto_shares(change: np.ndarray, noise_floor: float, participants: np.ndarray) -> dict:
    """``better_share`` / ``worse_share`` / ``unchanged_share`` of all test users and of the participants among
    them (``participants``: a mask over ``change``), a change within ``noise_floor`` counting as unchanged; and
    ``n_participants_in_test``."""
    floor = max(float(noise_floor), 1e-12)
    out = {}
    for prefix, mask in (("", np.ones(change.size, bool)), ("participants_", participants)):
        n = int(mask.sum())
        out[f"{prefix}better_share"] = float((change[mask] > floor).mean()) if n else math.nan
        out[f"{prefix}worse_share"] = float((change[mask] < -floor).mean()) if n else math.nan
        out[f"{prefix}unchanged_share"] = float((np.abs(change[mask]) <= floor).mean()) if n else math.nan
    out["n_participants_in_test"] = int(participants.sum())
    return out


def _target_numbers(label, lists, audience_rows, targets, test, audience, threshold, popularity, k, listed) -> dict:
    out = {}
    if audience_rows.size:
        audience_lists = lists[audience_rows]
        reached = np.isin(audience_lists, targets).any(axis=1)
        out[f"target_exposure_{label}"] = float(reached.mean())
        out[f"discounted_exposure_{label}"] = float(discounted_target_exposure(audience_lists, targets).mean())
        relevant = _relevant(test.matrix[audience], threshold).tocoo()
        keep = np.isin(relevant.col, targets)
        target_truth = sp.csr_array(
            (relevant.data[keep], (relevant.row[keep], relevant.col[keep])), shape=relevant.shape
        )
        out[f"target_ndcg_{label}"] = _mean(ranking_metrics_per_user(audience_lists, target_truth, k)["ndcg"])
    else:
        for key in ("target_exposure", "discounted_exposure", "target_ndcg"):
            out[f"{key}_{label}"] = math.nan
    out[f"amplification_{label}"] = amplification(listed, targets, popularity, k).overall
    return out


def _externalities(before_lists, after_lists, popularity, targets) -> list[dict]:
    """Share of all list slots held by non-target items of each training-popularity quintile, before and after."""
    others = np.setdiff1d(np.flatnonzero(popularity > 0), targets)
    edges = np.quantile(popularity[others], np.linspace(0, 1, N_POPULARITY_BINS + 1)) if others.size else []
    bins = []
    for b in range(N_POPULARITY_BINS if others.size else 0):
        low, high = edges[b], edges[b + 1]
        members = others[(popularity[others] >= low) & ((popularity[others] < high) | (b == N_POPULARITY_BINS - 1))]
        row = {"bin": b + 1, "min_popularity": float(low), "max_popularity": float(high), "n_items": int(members.size)}
        for label, lists in (("before", before_lists), ("after", after_lists)):
            slots = max(1, int((lists >= 0).sum()))
            row[f"share_{label}"] = float(np.isin(lists, members).sum() / slots)
        bins.append(row)
    return bins


