"""Several collectives at once: composed campaigns, each collective's effect alone and together, the interaction.

A *composed campaign* is a list of :class:`Campaign` objects applied to the same training data at the same time.
The rules (the data counterpart of the game's joint strategy, docs/collectives.md):

* **Randomness.** Collective ``j`` draws every random choice (participants, participation, budgets, positions)
  from its own generator: collective 0 from ``default_rng(seed)`` — exactly what
  ``apply_campaign(campaign, ..., rng=seed)`` draws, so a composed campaign of one collective *is* today's
  campaign — and collective ``j >= 1`` from ``default_rng(SeedSequence(seed, spawn_key=(j,)))``. A collective
  acting alone (its *solo* run) uses the same generator as in the joint run.
* **Participants** (``overlap``): ``"disjoint"`` (default) — collectives choose in list order and collective ``j``'s
  policy draws only from users not already acting in collectives ``0..j-1`` (explicit members are kept as named);
  ``"shared"`` — every collective chooses as it would alone, so one user may act for several.
* **Cells.** A (user, item) cell written by several collectives takes the **largest** value (as in the game);
  a cell one collective removes (``action="remove"``) and another writes is written.

Each collective's success metric is its own: target exposure (the share of its audience — test users with a
held-out interaction on one of its targets — with one of its targets in their top ``k``). With ``m_k(state)`` that
share after a state (``before``, each collective's solo run, the joint run):

* ``effect_solo[k] = m_k(solo_k) - m_k(before)`` and ``effect_joint[k] = m_k(joint) - m_k(before)``;
* ``spillover[k] = sum_{j != k} (m_k(solo_j) - m_k(before))`` — what the others do to k's metric alone;
* ``interaction[k] = effect_joint[k] - sum_j (m_k(solo_j) - m_k(before))`` (joint effect minus the sum of the
  solo effects on k's metric; 0 for one collective; negative when acting together gets less than the sum);
* ``efficacy_drop[k] = 1 - effect_joint[k] / effect_solo[k]`` when ``effect_solo[k] > 0`` (the share of k's
  solo efficacy lost when the others act too, the quantity Karan et al. (FAccT 2025) report), else None.

:func:`summarize_interactions` turns per-seed rows into means with 95% t-intervals over seeds (Student's t with
n - 1 degrees of freedom; the mean alone for one seed).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from recollective.campaigns._apply import CampaignApplication, draw_campaign, write_draws
from recollective.campaigns._evaluate import measure_lists, target_audience, test_users
from recollective.campaigns._population import DEFAULT_SAMPLE_SIZE, check_score_users, evaluation_population
from recollective.campaigns._spec import Campaign
from recollective.campaigns._sweep import _interval
from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError, did_you_mean
from recollective.models import Recommender

__all__ = [
    "INTERACTION_METRICS",
    "OVERLAP_RULES",
    "ComposedApplication",
    "ComposedOutcome",
    "apply_campaigns",
    "collective_generators",
    "evaluate_composed",
    "interaction_rows",
    "summarize_interactions",
]

OVERLAP_RULES = ("disjoint", "shared")
"""disjoint: a collective's policy draws only from users not already acting in an earlier collective; shared: each
collective chooses as it would alone (a user may act for several)."""

INTERACTION_METRICS = ("exposure_before", "exposure_solo", "exposure_joint", "effect_solo", "effect_joint",
                       "spillover", "interaction", "n_participants_solo", "n_participants_joint",
                       "participants_worse_share_joint", "worse_share_joint", "ndcg_before", "ndcg_joint")
"""The per-collective numbers of :func:`interaction_rows` that :func:`summarize_interactions` averages."""


def collective_generators(seed: int, n_collectives: int) -> list[np.random.Generator]:
    """One generator per collective: ``default_rng(seed)`` for the first, ``SeedSequence(seed, spawn_key=(j,))``
    for collective ``j >= 1``."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidParameterError(
            f"rng of a composed campaign must be a non-negative int seed (each collective derives its own "
            f"generator from it); got {seed!r}"
        )
    seed = int(seed)
    return [np.random.default_rng(seed) if j == 0 else
            np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(j,))) for j in range(n_collectives)]


@dataclass(frozen=True, eq=False)
class ComposedApplication:
    """The result of applying several collectives at once.

    Attributes
    ----------
    interactions : Interactions
        The training interactions after every collective acted (same vocabularies).
    delta : Delta
        What changed (for ``Recommender.refit``).
    parts : tuple of CampaignApplication
        Per collective: its ``selected``, ``acting`` and the cells it claimed; each part's ``interactions`` and
        ``delta`` are the joint ones.
    n_shared_users : int
        Users acting in more than one collective (0 under ``overlap="disjoint"`` unless explicit members repeat).
    n_contested_cells : int
        Cells claimed by more than one collective (they take the largest value).
    """

    interactions: Interactions
    delta: object
    parts: tuple
    n_shared_users: int
    n_contested_cells: int

    @property
    def n_actions(self) -> int:
        return int(sum(part.n_actions for part in self.parts))


def _check(campaigns, overlap) -> list[Campaign]:
    campaigns = list(campaigns) if isinstance(campaigns, Sequence) else [campaigns]
    if not campaigns:
        raise InvalidParameterError("campaigns is empty: give at least one Campaign")
    for index, campaign in enumerate(campaigns):
        if not isinstance(campaign, Campaign):
            raise InvalidParameterError(f"campaigns[{index}] must be a Campaign; got {type(campaign).__name__}")
    if overlap not in OVERLAP_RULES:
        raise InvalidParameterError(
            f"overlap must be one of {', '.join(OVERLAP_RULES)}; got {overlap!r}{did_you_mean(overlap, OVERLAP_RULES)}"
        )
    return campaigns


def _draws(campaigns, interactions, audiences, seed, embedding, overlap, solo: bool):
    """Each collective's draw, joint (``solo=False``: the overlap rule applies) or alone (``solo=True``)."""
    generators = collective_generators(seed, len(campaigns))
    draws, acting = [], np.empty(0, np.int64)
    for campaign, audience, generator in zip(campaigns, audiences, generators, strict=True):
        exclude = acting if (not solo and overlap == "disjoint" and acting.size) else None
        draw = draw_campaign(campaign, interactions, audience, generator, embedding=embedding, exclude=exclude)
        draws.append(draw)
        acting = np.union1d(acting, draw.acting)
    return draws


def _application(draws, interactions) -> ComposedApplication:
    new, delta, parts = write_draws(draws, interactions)
    applications = tuple(CampaignApplication(new, delta, d.selected, d.acting, *part)
                         for d, part in zip(draws, parts, strict=True))
    counts = np.unique(np.concatenate([d.acting for d in draws]), return_counts=True)[1]
    cells = [np.unique(d.users * interactions.n_items + d.items) for d in draws]
    cell_counts = np.unique(np.concatenate(cells), return_counts=True)[1] if cells else np.empty(0)
    return ComposedApplication(new, delta, applications, int((counts > 1).sum()), int((cell_counts > 1).sum()))


def apply_campaigns(
    campaigns: Sequence[Campaign],
    interactions: Interactions,
    audiences,
    rng: int = 0,
    *,
    embedding: np.ndarray | None = None,
    overlap: str = "disjoint",
) -> ComposedApplication:
    """Let several collectives act on ``interactions`` at once (pure; the rules are in the module docstring).

    Parameters
    ----------
    campaigns : sequence of Campaign
    interactions : Interactions
        The training interactions.
    audiences : sequence of array-like of int
        Per collective, the users who would like its targets (``closest`` and ``majority`` read it).
    rng : int
        The seed every collective's generator derives from (:func:`collective_generators`).
    embedding : ndarray of shape (n_users, d), optional
        User embedding for ``participants="closest"`` (shared by all collectives).
    overlap : {"disjoint", "shared"}

    Raises
    ------
    InvalidParameterError
        An empty list, a non-Campaign, an unknown overlap rule, a seed that is not an int, or any error of
        :func:`apply_campaign` (it names the field; a disjoint collective left with too few eligible users says
        how many act in earlier collectives).
    """
    campaigns = _check(campaigns, overlap)
    audiences = _audiences(audiences, len(campaigns))
    return _application(_draws(campaigns, interactions, audiences, rng, embedding, overlap, False), interactions)


def _audiences(audiences, n) -> list[np.ndarray]:
    audiences = list(audiences)
    if len(audiences) != n:
        raise InvalidParameterError(f"audiences must hold one array per collective ({n}); got {len(audiences)}")
    return [np.unique(np.asarray(a, dtype=np.int64)) for a in audiences]


@dataclass(frozen=True, eq=False)
class ComposedOutcome:
    """Each collective alone and all together.

    Attributes
    ----------
    collectives : list of dict
        One JSON-ready dict per collective: ``name``, ``campaign``, ``audience_size``, ``solo`` and ``joint``
        (the full :func:`~recollective.campaigns.evaluate_campaign` summary of the solo run and of the joint run,
        measured on this collective's targets, audience and participants), ``exposure_before``,
        ``exposure_solo``, ``exposure_joint``, ``effect_solo``, ``effect_joint``, ``spillover``, ``interaction``,
        ``efficacy_drop``.
    overall : dict
        ``overlap``, ``n_collectives``, ``n_shared_users``, ``n_contested_cells``, ``n_actions`` and the joint
        run's ``ndcg_before/after``, ``better_share``, ``unchanged_share``, ``worse_share``, ``noise_floor``.
    exposure : list of dict
        ``{"state": "before" | "solo:<name>" | "joint", "<name>": m_<name>(state), ...}``: every collective's
        metric after every state (the matrix the interaction is computed from).
    joint : ComposedApplication
    solo : tuple of CampaignApplication
    """

    collectives: list
    overall: dict
    exposure: list
    joint: ComposedApplication
    solo: tuple
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"overall": self.overall, "collectives": self.collectives, "exposure": self.exposure}


def evaluate_composed(
    baseline: Recommender,
    train: Interactions,
    test: Interactions,
    campaigns: Sequence[Campaign],
    *,
    k: int = 10,
    rng: int = 0,
    audiences=None,
    names: Sequence[str] | None = None,
    relevance_threshold: float | None = None,
    noise_floor: float = 0.0,
    embedding: np.ndarray | None = None,
    overlap: str = "disjoint",
    what_if: str = "refit",
    score_users: str = "needed",
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    sample_seed: int = 0,
) -> ComposedOutcome:
    """Apply each collective alone and all together, refit copies of ``baseline``, and compare.

    One refit per collective alone and one for the joint run (for one collective the joint run is the solo run:
    its ``joint`` summary equals ``evaluate_campaign(baseline, train, test, campaigns[0], k=k, rng=rng, ...)``'s
    summary, number for number). Parameters are those of :func:`~recollective.campaigns.evaluate_campaign`, with
    one campaign, audience and name per collective (default audience: :func:`target_audience` of its targets;
    default names ``c1``, ``c2``, ...); ``rng`` must be an int seed.

    ``what_if``: ``"refit"`` (default) updates a copy of the baseline through the model's ``refit``; ``"fit"``
    fits a clone of it from scratch on the changed data. Use ``"fit"`` for models whose ``refit`` is approximate
    (als, puresvd, bpr, sequential; docs/models.md): their fast path serves the small solo changes but may fall
    back to a cold fit for the larger joint change, and the difference between the two then shows up as a
    spurious interaction (docs/collectives.md measures it).

    ``score_users`` / ``sample_size`` / ``sample_seed``: whose lists are computed, as in
    :func:`~recollective.campaigns.evaluate_campaign`: every collective's audience and participants in full, and
    for the population numbers every test user (``"all"``) or one seeded sample of ``sample_size`` of them
    (``"needed"``, the default), the same sample for every state (before, each alone, all together).

    Returns
    -------
    ComposedOutcome
    """
    campaigns = _check(campaigns, overlap)
    check_score_users(score_users, sample_size)
    if what_if not in ("refit", "fit"):
        raise InvalidParameterError(
            f"what_if must be refit or fit; got {what_if!r}{did_you_mean(str(what_if), ('refit', 'fit'))}"
        )
    if not baseline.is_fitted():
        raise DataError("evaluate_composed needs a fitted baseline model (fit it on the training interactions)")
    if test.matrix.shape != train.matrix.shape:
        raise DataError(
            f"train and test must share their vocabularies: shapes {train.matrix.shape} and {test.matrix.shape}"
        )
    n = len(campaigns)
    names = [f"c{j + 1}" for j in range(n)] if names is None else [str(name) for name in names]
    if len(names) != n or len(set(names)) != n:
        raise InvalidParameterError(f"names must be {n} distinct names, one per collective; got {names}")
    if audiences is None:
        audiences = [target_audience(test, c.targets, relevance_threshold) for c in campaigns]
    audiences = _audiences(audiences, n)
    candidates = test_users(test, relevance_threshold)
    population = evaluation_population(candidates, score_users, sample_size, sample_seed)

    solo_draws = _draws(campaigns, train, audiences, rng, embedding, overlap, True)
    solo = tuple(_application([draw], train).parts[0] for draw in solo_draws)
    if n == 1:
        joint = _application(solo_draws, train)
    else:
        joint = _application(_draws(campaigns, train, audiences, rng, embedding, overlap, False), train)

    evaluated = population
    for audience in audiences:
        evaluated = np.union1d(evaluated, audience)
    for application in (*solo, *joint.parts):
        evaluated = np.union1d(evaluated, application.acting)
    users = candidates[np.isin(candidates, evaluated)]  # the scored test users
    def after(application):
        if what_if == "fit":
            return baseline.clone().fit(application.interactions)
        return copy.deepcopy(baseline).refit(application.interactions, application.delta)

    before_lists, _ = baseline.recommend(evaluated, k)
    solo_lists = [after(application).recommend(evaluated, k)[0] for application in solo]
    joint_lists = solo_lists[0] if n == 1 else after(joint).recommend(evaluated, k)[0]

    row_of = np.searchsorted(evaluated, np.arange(train.n_users))

    def metric(lists, j) -> float:
        audience = audiences[j]
        if audience.size == 0:
            return math.nan
        return float(np.isin(lists[row_of[audience]], np.asarray(campaigns[j].targets)).any(axis=1).mean())

    states = [("before", before_lists), *((f"solo:{names[j]}", solo_lists[j]) for j in range(n)),
              ("joint", joint_lists)]
    exposure = [{"state": state, **{names[j]: metric(lists, j) for j in range(n)}} for state, lists in states]
    before = exposure[0]

    def summary(application, after_lists, j):
        counts = {"n_selected": int(application.selected.size), "n_participants": int(application.acting.size),
                  "n_actions": application.n_actions}
        return measure_lists(evaluated, before_lists, after_lists, train=train, test=test,
                             targets=np.asarray(campaigns[j].targets), audience=audiences[j], users=users,
                             acting=application.acting, counts=counts, k=k, relevance_threshold=relevance_threshold,
                             noise_floor=noise_floor, world=None, population=population,
                             n_population=candidates.size)[0]

    collectives = []
    for j in range(n):
        name = names[j]
        solo_effects = [exposure[1 + i][name] - before[name] for i in range(n)]
        effect_solo, effect_joint = solo_effects[j], exposure[-1][name] - before[name]
        solo_summary = summary(solo[j], solo_lists[j], j)
        joint_summary = solo_summary if n == 1 else summary(joint.parts[j], joint_lists, j)
        collectives.append({
            "name": name,
            "campaign": campaigns[j].as_dict(),
            "audience_size": int(audiences[j].size),
            "exposure_before": before[name],
            "exposure_solo": exposure[1 + j][name],
            "exposure_joint": exposure[-1][name],
            "effect_solo": effect_solo,
            "effect_joint": effect_joint,
            "spillover": float(sum(solo_effects) - effect_solo),
            "interaction": float(effect_joint - sum(solo_effects)),
            "efficacy_drop": (1.0 - effect_joint / effect_solo) if effect_solo > 0 else None,
            "solo": solo_summary,
            "joint": joint_summary,
        })
    first = collectives[0]["joint"]
    overall = {
        "overlap": overlap,
        "what_if": what_if,
        "n_collectives": n,
        "n_shared_users": joint.n_shared_users,
        "n_contested_cells": joint.n_contested_cells,
        "n_actions": joint.n_actions,
        **{key: first[key] for key in ("k", "n_test_users", "n_sampled_users", "ndcg_before", "ndcg_after",
                                       "better_share", "unchanged_share", "worse_share", "noise_floor")},
    }
    return ComposedOutcome(collectives, overall, exposure, joint, solo)


def interaction_rows(outcome: ComposedOutcome, **cell) -> list[dict]:
    """Flat rows, one per collective, for result files: the ``cell`` keys (dataset, model, seed, ...), then
    ``collective``, ``targets``, ``audience_size``, ``size``, ``action``, :data:`INTERACTION_METRICS` and
    ``efficacy_drop``."""
    rows = []
    for entry in outcome.collectives:
        solo, joint = entry["solo"], entry["joint"]
        rows.append({
            **cell,
            "collective": entry["name"],
            "targets": " ".join(str(t) for t in entry["campaign"]["targets"]),
            "audience_size": entry["audience_size"],
            "size": entry["campaign"]["size"],
            "action": entry["campaign"].get("action", "add"),
            "overlap": outcome.overall["overlap"],
            "n_shared_users": outcome.overall["n_shared_users"],
            "exposure_before": entry["exposure_before"],
            "exposure_solo": entry["exposure_solo"],
            "exposure_joint": entry["exposure_joint"],
            "effect_solo": entry["effect_solo"],
            "effect_joint": entry["effect_joint"],
            "spillover": entry["spillover"],
            "interaction": entry["interaction"],
            "efficacy_drop": entry["efficacy_drop"],
            "n_participants_solo": solo["n_participants"],
            "n_participants_joint": joint["n_participants"],
            "participants_worse_share_joint": joint["participants_worse_share"],
            "worse_share_joint": joint["worse_share"],
            "ndcg_before": joint["ndcg_before"],
            "ndcg_joint": joint["ndcg_after"],
        })
    return rows


def summarize_interactions(rows: list[dict], by: Sequence[str], metrics: Sequence[str] = INTERACTION_METRICS,
                           confidence: float = 0.95) -> list[dict]:
    """Means over the rows of each group (one row per seed) with ``confidence`` t-intervals.

    Each metric ``m`` gives ``m``, ``m_low``, ``m_high``. ``efficacy_drop`` is ``1 - mean(effect_joint) /
    mean(effect_solo)`` (a ratio of means, defined when the mean solo effect is positive) with ``drop_min`` and
    ``drop_max`` over the seeds whose solo effect is positive; ``effective_alone`` says whether the solo effect's
    interval lies above 0.
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in by), []).append(row)
    out = []
    for key, members in groups.items():
        summary = dict(zip(by, key, strict=True))
        summary["n_seeds"] = len(members)
        for metric in metrics:
            values = np.array([m[metric] for m in members], dtype=np.float64)
            values = values[np.isfinite(values)]
            summary[metric], summary[f"{metric}_low"], summary[f"{metric}_high"] = _interval(values, confidence)
        solo = summary["effect_solo"]
        summary["efficacy_drop"] = 1.0 - summary["effect_joint"] / solo if solo > 0 else math.nan
        drops = [m["efficacy_drop"] for m in members if m["efficacy_drop"] is not None
                 and np.isfinite(float(m["efficacy_drop"]))]
        summary["drop_min"] = float(min(drops)) if drops else math.nan
        summary["drop_max"] = float(max(drops)) if drops else math.nan
        summary["effective_alone"] = bool(summary["effect_solo_low"] > 0)
        out.append(summary)
    return out
