"""The planner: the smallest collective (and its selection and position policy) that reaches a goal.

Goal: at least ``goal_exposure`` of the target audience sees a target in its top k (mean over seeds), while the
participants' NDCG@k falls by at most ``max_participant_loss`` (mean over seeds). Sizes are tried in increasing
order for every (participants, position) pair; the plan is the feasible cell with the fewest participants
(ties: higher exposure).

The policy ``optimized`` chooses its participants by the strategy search (:mod:`recollective.campaigns.design`):
per seed, one greedy search over every non-audience user up to the largest size, whose prefixes are the
collectives of the smaller sizes; each is then evaluated exactly like the other policies (as an explicit campaign).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from recollective.campaigns._spec import Campaign
from recollective.campaigns._sweep import summarize_rows, sweep_campaigns
from recollective.data import Interactions
from recollective.errors import InvalidParameterError
from recollective.models import Recommender

__all__ = ["CampaignPlan", "plan_campaign"]


@dataclass(frozen=True)
class CampaignPlan:
    """The planner's answer.

    Attributes
    ----------
    feasible : bool
    best : dict or None
        The chosen summary row (means and 95% intervals over seeds), None when nothing reaches the goal.
    rows : list of dict
        Every evaluated (participants, position, size) summary, with ``feasible``.
    goal_exposure, max_participant_loss : float
    text : str
        The plan in words.
    """

    feasible: bool
    best: dict | None
    rows: list
    goal_exposure: float
    max_participant_loss: float
    text: str


def plan_campaign(
    model: Recommender,
    train: Interactions,
    test: Interactions,
    campaign: Campaign,
    *,
    goal_exposure: float = 0.3,
    max_participant_loss: float = 0.01,
    sizes: Sequence[float | int] = (0.005, 0.01, 0.02, 0.05, 0.1),
    participants: Sequence[str] = ("random", "majority", "fans", "closest"),
    positions: Sequence[str] = ("append",),
    seeds: Sequence[int] = (0, 1, 2),
    k: int = 10,
    relevance_threshold: float | None = None,
    item_names: Callable[[Sequence[int]], list[str]] | None = None,
    progress: Callable[[int, int, dict], None] | None = None,
) -> CampaignPlan:
    """Sweep sizes x policies x positions over seeds and pick the smallest collective that reaches the goal.

    Cells whose policy has fewer eligible users than the size asks for are left out (e.g. ``fans`` of a rare book).
    """
    if not 0 < goal_exposure <= 1:
        raise InvalidParameterError(f"goal_exposure must lie in (0, 1]; got {goal_exposure!r}")
    if not math.isfinite(max_participant_loss) or max_participant_loss < 0:
        raise InvalidParameterError(f"max_participant_loss must be >= 0; got {max_participant_loss!r}")
    participants = list(participants)
    fixed = [p for p in participants if p != "optimized"]
    rows = []
    if fixed:
        rows = sweep_campaigns(
            {"model": model}, train, test, campaign, sizes=sorted(sizes), seeds=seeds, participants=fixed,
            positions=positions, k=k, relevance_threshold=relevance_threshold, noise_floor=False,
            skip_ineligible=True, progress=progress,
        )
    if "optimized" in participants:
        rows += optimized_rows(model, train, test, campaign, sizes=sorted(sizes), seeds=seeds, k=k,
                               relevance_threshold=relevance_threshold, progress=progress, goal_exposure=goal_exposure)
    if not rows:
        raise InvalidParameterError(
            "no (policy, size) cell has enough eligible users; try smaller sizes or the random policy"
        )
    summary = summarize_rows(rows)
    for row in summary:
        loss = row["ndcg_participants_before"] - row["ndcg_participants_after"]
        row["participant_loss"] = loss
        row["feasible"] = bool(row["target_exposure_after"] >= goal_exposure and not loss > max_participant_loss)
    feasible = [row for row in summary if row["feasible"]]
    best = min(feasible, key=lambda r: (r["n_participants"], -r["target_exposure_after"])) if feasible else None
    text = _describe(best, campaign, summary, goal_exposure, max_participant_loss, item_names, train.n_users)
    return CampaignPlan(best is not None, best, summary, goal_exposure, max_participant_loss, text)


def optimized_rows(
    model: Recommender,
    train: Interactions,
    test: Interactions,
    campaign: Campaign,
    *,
    sizes: Sequence[float | int],
    seeds: Sequence[int],
    k: int = 10,
    relevance_threshold: float | None = None,
    progress: Callable[[int, int, dict], None] | None = None,
    goal_exposure: float | None = None,
) -> list[dict]:
    """Sweep rows (as :func:`sweep_campaigns` writes them) of the ``optimized`` policy: per seed, the greedy
    search's first ``n`` participants for each size ``n``, each adding every target with ``campaign.rating``.

    With ``goal_exposure`` the search stops once its estimate reaches the goal; larger sizes then reuse the whole
    plan (their ``n_participants`` says how many acted)."""
    from recollective.campaigns._evaluate import evaluate_campaign, target_audience
    from recollective.campaigns._sweep import ROW_METRICS
    from recollective.campaigns.design import search_strategy

    if campaign.budget is not None:
        raise InvalidParameterError(
            "the optimized policy in a plan adds every target (budget None); use `campaign design --max-actions` "
            "for per-participant budgets"
        )
    audience = target_audience(test, campaign.targets, relevance_threshold)
    pool = np.setdiff1d(np.arange(train.n_users), audience)
    counts = {size: dataclasses.replace(campaign, size=size).n_selected(train.n_users) for size in sizes}
    largest = max(counts.values())
    rows, done, total = [], 0, len(seeds) * len(sizes)
    for seed in seeds:
        baseline = model.clone()
        if "rng" in baseline.get_params():
            baseline.set_params(rng=int(seed))
        baseline.fit(train)
        found = search_strategy({"base": baseline}, train, campaign.targets, audience, pool,
                                max_participants=min(largest, pool.size), values=(campaign.rating,), k=k,
                                goal_exposure=goal_exposure)
        for size in sizes:
            members = tuple(a.user for a in found.actions[: counts[size]])
            done += 1
            if not members:
                continue
            cell = dataclasses.replace(campaign, participants="explicit", members=members, size=len(members),
                                       participation=1.0, position="append")
            outcome = evaluate_campaign(baseline, train, test, cell, k=k, rng=int(seed), audience=audience,
                                        relevance_threshold=relevance_threshold)
            row = {"model": "model", "seed": int(seed), "participants": "optimized", "position": "append",
                   "size": size}
            row.update({key: outcome.summary[key] for key in ROW_METRICS})
            rows.append(row)
            if progress is not None:
                progress(done, total, row)
    return rows


def _describe(best, campaign, summary, goal, max_loss, item_names, n_users) -> str:
    names = item_names(campaign.targets) if item_names else [str(t) for t in campaign.targets]
    per_user = len(campaign.targets) if campaign.budget is None else min(campaign.budget, len(campaign.targets))
    if best is None:
        top = max(summary, key=lambda r: r["target_exposure_after"])
        return (
            f"No evaluated collective reaches {goal:.0%} target exposure with a participant NDCG loss of at most "
            f"{max_loss:g}. The best reached {top['target_exposure_after']:.1%} "
            f"(95% CI {top['target_exposure_after_low']:.1%}–{top['target_exposure_after_high']:.1%}) with "
            f"{top['n_participants']:.0f} {top['participants']} participants ({top['position']}); try larger sizes, "
            "other targets or another selection policy."
        )
    books = ", ".join(names[:per_user]) if per_user == len(names) else f"{per_user} of: {', '.join(names)}"
    return (
        f"{best['n_participants']:.0f} readers (~{best['n_participants'] / n_users:.1%} of users, selected "
        f"'{best['participants']}'), each adds {books} with rating {campaign.rating:g} "
        f"(position: {best['position']}). Expected: {best['target_exposure_after']:.1%} of the "
        f"{best['audience_size']:.0f}-reader audience see a target in their top list (95% CI "
        f"{best['target_exposure_after_low']:.1%}–{best['target_exposure_after_high']:.1%}; before: "
        f"{best['target_exposure_before']:.1%}); participants' NDCG changes by "
        f"{-best['participant_loss']:+.4f}, overall NDCG {best['ndcg_before']:.4f} -> {best['ndcg_after']:.4f}."
    )
