"""``design_campaign``: who of a pool should act, doing what, verified by cold fits; the organizer's plan.

Ties the pieces together: the audience (test users with a held-out target), the pool (default: every
non-audience user), bridge candidates (the items the audience holds most often), model variants for robustness,
the greedy search (:func:`search_strategy`), verification by cold fits (:func:`verify_plan`) and a repair loop
that searches again without the participants a cold fit shows worse off beyond the noise floor.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from recollective.campaigns._evaluate import estimate_noise_floor, target_audience
from recollective.campaigns.design._screen import screen_pool
from recollective.campaigns.design._search import (
    CONSTRUCTIONS,
    Action,
    exchange_trials,
    plan_with_delta,
    search_strategy,
)
from recollective.campaigns.design._verify import verify_plan
from recollective.data import Interactions
from recollective.errors import InvalidParameterError
from recollective.models import Recommender

__all__ = ["CampaignDesign", "design_campaign", "plan_interactions"]


@dataclass(frozen=True, eq=False)
class CampaignDesign:
    """A designed campaign and its verification.

    Attributes
    ----------
    actions : list of Action
        Per participant: items, value, position (search order).
    verified : dict
        Cold-fit numbers of the plan for the base model (:func:`verify_plan`), plus ``predicted_exposure`` (the
        search's estimate) and ``approximation_error`` (predicted minus verified exposure).
    variants : dict label -> dict
        Cold-fit numbers per robustness variant (the base model included).
    trace : list of dict
        The search's steps.
    feasible : bool
        Constraints met (and the goal reached, when one was set) in every variant's cold fit.
    stop_reason, gain_kind : str
    repaired : list of int
        Pool members left out of the plan because a cold fit showed them worse off (searched again without
        them, or dropped from the last plan).
    robustness_cost : dict or None
        With variants and a goal: participants the plain (base-only) search needed versus the robust one.
    interactions : Interactions
        The training data after the plan (for the record).
    screened : list of int
        Pool members left out before the search: adding the targets would cost them held-out NDCG with the model
        held fixed (:func:`screen_pool`).
    construction : str
        How the plan was built (one of ``CONSTRUCTIONS``).
    constructions : dict
        Every construction the last search tried, with its estimated exposure and participants
        (``SearchResult.constructions``).
    """

    actions: list
    verified: dict
    variants: dict
    trace: list
    feasible: bool
    stop_reason: str
    gain_kind: str
    settings: dict
    repaired: list = field(default_factory=list)
    robustness_cost: dict | None = None
    interactions: Interactions | None = None
    item_names: dict = field(default_factory=dict)
    user_ids: dict = field(default_factory=dict)
    construction: str = "greedy"
    constructions: dict = field(default_factory=dict)
    screened: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "feasible": self.feasible,
            "stop_reason": self.stop_reason,
            "gain_kind": self.gain_kind,
            "construction": self.construction,
            "screened": self.screened,
            "constructions": self.constructions,
            "settings": self.settings,
            "verified": {k: v for k, v in self.verified.items()},
            "variants": self.variants,
            "repaired": self.repaired,
            "robustness_cost": self.robustness_cost,
            "strategy": [self._action_dict(a) for a in self.actions],
            "trace": self.trace,
        }

    def _action_dict(self, action: Action) -> dict:
        out = action.as_dict(self.interactions)
        out["titles"] = [self.item_names.get(i, str(out["item_ids"][j])) for j, i in enumerate(action.items)]
        out["bridge"] = [i not in set(self.settings["targets"]) for i in action.items]
        return out

    def to_csv(self) -> str:
        """One line per (participant, item): user_id, item_id, title, value, position, order."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["participant", "user_id", "item_id", "title", "value", "position"])
        for number, action in enumerate(self.actions, start=1):
            row = self._action_dict(action)
            for item_id, title in zip(row["item_ids"], row["titles"], strict=True):
                writer.writerow([number, row["user_id"], item_id, title, f"{action.value:g}", action.position])
        return buffer.getvalue()

    def to_markdown(self) -> str:
        """The plan an organizer could send: what each participant does, and what the cold fit says it does."""
        v = self.verified
        lines = [
            "# Campaign plan",
            "",
            f"Model: {self.settings['model']} · audience: {v['audience_size']} readers who would like the targets · "
            f"list length k = {v['k']}.",
            "",
            "## Expected effect (verified by refitting the model from scratch on the changed data)",
            "",
            f"- Audience reached (a target in their top {v['k']}): {_pct(v['target_exposure_before'])} → "
            f"**{_pct(v['target_exposure_after'])}** (the search estimated {_pct(v['predicted_exposure'])}).",
            f"- Participants' accuracy (NDCG@{v['k']}, {v['n_participants_in_test']} with held-out books): "
            f"{_num(v['ndcg_participants_before'])} → {_num(v['ndcg_participants_after'])}; "
            f"{_pct(v['participants_worse_share'])} worse off beyond the noise floor ({v['noise_floor']:.4f}).",
            f"- Everyone else's accuracy (NDCG@{v['k']}): {_num(v['ndcg_majority_before'])} → "
            f"{_num(v['ndcg_majority_after'])}.",
            f"- Constraints met: {'yes' if self.feasible else 'no'} ({self.stop_reason}).",
        ]
        if len(self.constructions) > 1:
            tried = "; ".join(f"{name} {_pct(row['exposure'])} with {row['n_participants']}"
                              for name, row in self.constructions.items())
            lines.append(f"- Built by the {self.construction} construction (search estimates of each: {tried}).")
        trials = exchange_trials(self.trace)
        if trials:
            kept = [row for row in trials if row["accepted"]]
            lines.append(f"- Then {len(trials)} exchange trial(s), {len(kept)} kept: "
                         f"{sum(row['traded'] for row in kept)} participant(s) traded for better-placed readers.")
        if self.screened:
            lines.append(f"- {len(self.screened)} reader(s) left out before the search: adding the targets would "
                         "push their own held-out books down.")
        if self.repaired:
            lines.append(f"- {len(self.repaired)} reader(s) left out: a cold fit showed them worse off.")
        if len(self.variants) > 1:
            worst = min(row["target_exposure_after"] for row in self.variants.values())
            lines.append(f"- Robust across {len(self.variants)} model settings: lowest verified reach {_pct(worst)}.")
        lines += ["", f"## Who does what ({len(self.actions)} participants)", "",
                  "| # | reader | adds | rating | where |", "|---|---|---|---|---|"]
        for number, action in enumerate(self.actions, start=1):
            row = self._action_dict(action)
            targets = set(self.settings["targets"])
            books = "; ".join(_escape(t) + ("" if i in targets else " (bridge)")
                              for t, i in zip(row["titles"], action.items, strict=True))
            lines.append(f"| {number} | {_escape(str(row['user_id']))} | {books} | {action.value:g} | "
                         f"{action.position} |")
        return "\n".join(lines) + "\n"


def _pct(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def _num(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def plan_interactions(train: Interactions, actions: Sequence[Action]) -> Interactions:
    """``train`` with every action applied."""
    return plan_with_delta(train, actions)[0]


def _estimated_exposure(model, train, actions, audience, targets, k) -> float:
    """Target exposure by the model's refit fast path (what the search relies on), for the approximation error."""
    import copy

    changed, delta = plan_with_delta(train, actions)
    refitted = copy.deepcopy(model).refit(changed, delta)
    lists, _ = refitted.recommend(audience, k)
    return float(np.isin(lists, targets).any(axis=1).mean())


def design_campaign(
    model: Recommender,
    train: Interactions,
    test: Interactions,
    targets,
    *,
    audience=None,
    pool=None,
    max_participants: int = 20,
    max_actions: int | None = None,
    values: Sequence[float] = (5.0,),
    n_bridges: int = 0,
    k: int = 10,
    goal_exposure: float | None = None,
    robust: dict | None = None,
    noise_floor: float | None = None,
    max_participant_loss: float | None = 0.01,
    max_majority_loss: float = 0.01,
    repair: bool = True,
    repair_rounds: int = 2,
    screen: bool = True,
    relevance_threshold: float | None = None,
    shortlist: int = 4,
    position: str = "append",
    restarts: int = 0,
    swap_rounds: int = 0,
    exchange_rounds: int = 8,
    constructions: Sequence[str] = CONSTRUCTIONS,
    rng=0,
    item_names: Callable[[Sequence[int]], list[str]] | None = None,
    progress: Callable[[int, int, dict], None] | None = None,
) -> CampaignDesign:
    """Design a campaign for ``targets`` with at most ``max_participants`` of ``pool``, then verify it.

    Parameters
    ----------
    model : Recommender
        Fitted on ``train`` (the baseline; not modified).
    train, test : Interactions
        The split; the audience is the test users with a (relevant) held-out target.
    targets : array-like of int
    audience : array-like of int, optional
    pool : array-like of int, optional
        Willing participants (default: every user outside the audience). Audience users in it are dropped.
    max_participants, max_actions, values, k, goal_exposure, shortlist, position, restarts, swap_rounds,
    exchange_rounds, constructions, rng
        See :func:`search_strategy` (here the exchange is on by default).
    n_bridges : int >= 0
        Bridge candidates: the ``n_bridges`` non-target items the audience holds most often in training.
    robust : dict param -> list of values, optional
        Also require the plan for these model settings (e.g. ``{"rng": [1, 2]}``); each is fitted cold on
        ``train``; the search maximises the worst case.
    noise_floor : float, optional
        Default :func:`estimate_noise_floor` of the model (0 for deterministic models).
    max_participant_loss : float or None, default 0.01
        Largest allowed mean NDCG loss of the participants (as ``campaign plan``'s default); None: the noise floor
        (0 for deterministic models, so then no mean loss at all). Who counts as individually worse off is always
        decided by the noise floor.
    max_majority_loss : float
        Largest allowed mean NDCG loss of the test users outside the audience.
    repair : bool
        When a cold fit breaks a constraint, search again without the participants it shows worse off beyond the
        floor (at most ``repair_rounds`` times); if the last plan still breaks it, drop from it the participants it
        leaves worse off and keep that plan when its cold fit meets the bounds.
    screen : bool
        Before searching, leave out the pool members whose own held-out NDCG would fall by more than the noise floor
        from adding the targets, with the model held fixed (:func:`screen_pool`; models in ``SCREENED_MODELS``).
    """
    if not model.is_fitted():
        raise InvalidParameterError("design_campaign needs a model fitted on the training interactions")
    targets = np.unique(np.asarray(targets, dtype=np.int64))
    if targets.size and (targets.min() < 0 or targets.max() >= train.n_items):
        raise InvalidParameterError(f"target index out of range (the data has {train.n_items} items)")
    if audience is None:
        audience = target_audience(test, targets, relevance_threshold)
    audience = np.unique(np.asarray(audience, dtype=np.int64))
    if pool is None:
        pool = np.setdiff1d(np.arange(train.n_users), audience)
    else:
        pool = np.unique(np.asarray(pool, dtype=np.int64))
        if pool.size and (pool.min() < 0 or pool.max() >= train.n_users):
            raise InvalidParameterError(f"pool user index out of range (the data has {train.n_users} users)")
        pool = np.setdiff1d(pool, audience)
    if isinstance(n_bridges, bool) or int(n_bridges) < 0:
        raise InvalidParameterError(f"n_bridges must be an integer >= 0; got {n_bridges!r}")
    if noise_floor is None:
        noise_floor = estimate_noise_floor(model, train, test, k, fitted=model, relevance_threshold=relevance_threshold)
    bound = float(noise_floor) if max_participant_loss is None else float(max_participant_loss)
    screened = np.empty(0, np.int64)
    if screen and pool.size:
        kept, screened = screen_pool(model, train, test, targets, pool, value=max(values, default=5.0), k=k,
                                     noise_floor=noise_floor, relevance_threshold=relevance_threshold)
        if kept.size == 0:
            raise InvalidParameterError(
                f"every one of the {pool.size} pool members would lose held-out accuracy from adding the targets; "
                "widen the pool or turn the screen off (screen=False, --no-screen)"
            )
        pool = kept
    held = np.bincount(train.matrix[audience].indices, minlength=train.n_items) if audience.size else np.zeros(1)
    held[targets[targets < held.size]] = 0
    bridges = np.flatnonzero(held > 0)
    bridges = bridges[np.lexsort((bridges, -held[bridges]))][: int(n_bridges)]
    variants = {"base": model}
    for label, setting in _settings(robust):
        variants[label] = model.clone().set_params(**setting).fit(train)
    search_args = dict(max_participants=max_participants, max_actions=max_actions, values=values, bridges=bridges,
                       k=k, goal_exposure=goal_exposure, shortlist=shortlist, position=position, restarts=restarts,
                       swap_rounds=swap_rounds, exchange_rounds=exchange_rounds, constructions=constructions, rng=rng)
    def verify_all(chosen):
        changed = plan_interactions(train, chosen)
        users = [a.user for a in chosen]
        return changed, {
            label: verify_plan(fitted, train, test, changed, users, audience, targets, k=k, noise_floor=noise_floor,
                               relevance_threshold=relevance_threshold)
            for label, fitted in variants.items()
        }

    repaired: list[int] = []
    for attempt in range(1 + (repair_rounds if repair else 0)):
        result = search_strategy(variants, train, targets, audience, np.setdiff1d(pool, repaired),
                                 progress=progress, **search_args)
        actions = list(result.actions)
        changed, checked = verify_all(actions)
        base = checked["base"]
        worse = sorted(set(base["worse_participants"]) - set(repaired))
        violated = base["participant_loss"] > bound or base["majority_loss"] > max_majority_loss
        if not (worse and violated) or attempt == repair_rounds or not repair:
            break
        repaired += worse  # search again without the participants a cold fit showed worse off
    base = checked["base"]
    worse = sorted(set(base["worse_participants"]))
    if repair and worse and (base["participant_loss"] > bound or base["majority_loss"] > max_majority_loss):
        # last resort: the final plan without the participants it leaves worse off, kept if that meets the bounds
        kept = [a for a in actions if a.user not in set(worse)]
        kept_changed, kept_checked = verify_all(kept)
        meets = all(row["participant_loss"] <= bound + 1e-12 and row["majority_loss"] <= max_majority_loss + 1e-12
                    for row in kept_checked.values())
        reaches = kept_checked["base"]["target_exposure_after"] > kept_checked["base"]["target_exposure_before"]
        if kept and meets and reaches:  # else the last plan stands, reported as breaking the bounds
            actions, changed, checked = kept, kept_changed, kept_checked
            repaired = sorted(set(repaired) | set(worse))
            result = dataclasses.replace(result, stop_reason=result.stop_reason + "; dropped those left worse off")
    verified = dict(checked["base"])
    predicted = _estimated_exposure(model, train, actions, audience, targets, k)
    verified["predicted_exposure"] = predicted
    verified["approximation_error"] = float(predicted - verified["target_exposure_after"])
    feasible = all(
        row["participant_loss"] <= bound + 1e-12 and row["majority_loss"] <= max_majority_loss + 1e-12
        and (goal_exposure is None or row["target_exposure_after"] >= goal_exposure)
        for row in checked.values()
    )
    cost = None
    if len(variants) > 1 and goal_exposure is not None:
        plain = search_strategy({"base": model}, train, targets, audience, pool, **search_args)
        cost = {"robust_participants": len(result.actions), "plain_participants": len(plain.actions),
                "plain_stop_reason": plain.stop_reason, "robust_stop_reason": result.stop_reason}
    names = {}
    if item_names is not None:
        used = sorted({i for a in actions for i in a.items})
        names = dict(zip(used, item_names(used), strict=True))
    settings = {
        "model": model.name, "params": {k_: _jsonable(v) for k_, v in model.get_params().items()},
        "targets": [int(t) for t in targets], "pool_size": int(pool.size), "bridges": [int(b) for b in bridges],
        "max_participants": int(max_participants), "max_actions": max_actions, "position": position,
        "restarts": int(restarts), "swap_rounds": int(swap_rounds),
        "exchange_rounds": int(exchange_rounds), "constructions": list(constructions),
        "screen": bool(screen),
        "values": [float(v) for v in values],
        "k": int(k), "goal_exposure": goal_exposure, "robust": robust or {}, "max_participant_loss": bound,
        "max_majority_loss": float(max_majority_loss),
    }
    return CampaignDesign(actions, verified, checked, result.trace, feasible, result.stop_reason, result.gain_kind,
                          settings, repaired, cost, changed, names, construction=result.construction,
                          constructions=result.constructions, screened=[int(u) for u in screened])


def _settings(robust: dict | None):
    """(label, {param: value}) per robustness variant: each listed value of each parameter, one at a time."""
    if not robust:
        return []
    out = []
    for name, options in robust.items():
        if isinstance(options, str | bytes) or not hasattr(options, "__iter__"):
            raise InvalidParameterError(f"robust[{name!r}] must be a list of values; got {options!r}")
        for value in options:
            out.append((f"{name}={value}", {name: value}))
    return out


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return repr(value)
