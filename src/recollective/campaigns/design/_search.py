"""Strategy design: choose who of a pool acts and what each adds, by greedy search over marginal gains.

The data-scale counterpart of the game's robust search. Each step scores every remaining candidate (a pool member
with an item set and a value) by how it moves the audience's target scores (:func:`target_gains`, exact for
popularity, EASE and cosine item-kNN), picks the best under a surrogate of target exposure, and commits it through
the model's own ``refit``, so the thresholds of the next step are exact again. Models without a closed form are
searched by refitting a shortlist of candidates. Every plan is then verified by cold fits
(:mod:`recollective.campaigns.design._verify`).

Surrogate of exposure (per model variant; ``θ_a`` = the ``k``-th best score among ``a``'s unseen non-target items,
``m_a`` = ``max_t S[a, t] - θ_a`` over ``a``'s unseen targets, ``m_a^0`` its value before the campaign)::

    J = Σ_a [ 1 if m_a > 0 else 0.5 p_a^2 + 0.25 p_a ] / |A|,   p_a = clip(1 - m_a / m_a^0, 0, 1)

— a reached reader counts 1, partial progress toward the threshold at most 3/4 and mostly convexly, so the search
prefers closing a few gaps all the way to spreading small moves over everyone, while the linear part keeps a
direction where single participants move every gap only a little (cosine item-kNN on goodbooks: one reader's
books barely move a target's similarities, hundreds together do). The search does not stop at the first step
that fails to raise ``J``: it goes on for up to :data:`_PATIENCE` such steps and then keeps the best prefix.
Robust search maximises the smallest ``J`` over the model variants (seeds, λ, factors).

**Ranked starts.** One participant at a time, the greedy only sees what a single reader changes. Where a model
moves a target only once many similar readers act together (cosine item-kNN, whose similarities are normalised by
the target's growing norm and pruned to each item's best neighbours; ALS), a plan that takes pool members in one
fixed order can beat it. :data:`CONSTRUCTIONS` lists the ways a plan is built: ``"greedy"`` (above) and three
rankings of the pool, each taken in :data:`_RANKED_BLOCKS` blocks committed through the model's ``refit``:

- ``closest``: cosine of the 32-dimensional SVD embedding to the audience's mean (the ``closest`` policy's order);
- ``coread``: co-reading with the audience weighted by item rarity, ``w_u = Σ_a Σ_i x_ai x_ui / ‖x_i‖``
  (``‖x_i‖`` = the item's column norm in the training data);
- ``coread_per_reader``: the same with every audience reader's column first scaled to sum 1, so that readers who
  share little with the pool count as much as those who share a lot.

Each construction keeps its best prefix; the plan with the highest exposure (worst variant; then the objective
``J``; then fewer participants) wins. For exact gains the exposure is the search's estimate (equal to a cold fit);
for approximate ones (PureSVD, ALS, refit-only models) each construction's plan is fitted from scratch and compared
by that, because the warm refits the estimates come from drift apart over many steps (goodbooks ALS: the greedy's
estimates ran ahead of its cold fits, the ranked starts' did not). ``SearchResult.constructions`` reports every
construction's result.

**Exchange.** A construction commits readers in an order it fixed before seeing their joint effect. With
``exchange_rounds`` the winning plan is then improved in place (:func:`_exchange`): each trial prices taking every
member's action back and adding every outsider's best action, both exactly against the current plan for exact gains
(:func:`target_gains`, ``whole_rows=True`` for the removals), trades the ``b`` cheapest members for the ``b`` best
outsiders at once, refits the trial plan from the baseline and keeps it only when it is better (exposure, then
``J``; cold fits for approximate gains). ``b`` starts at a quarter of the plan, halves after a rejected trial and
starts again (at an eighth) when it runs out after kept trades.
On goodbooks with item-kNN a coread plan of 133 readers went from 26% to 48% exposure this way in 14 trials
(docs/design.md).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recollective.campaigns.design._gains import gain_kind, target_gains
from recollective.data import Interactions
from recollective.errors import InvalidParameterError, did_you_mean
from recollective.models import Recommender

__all__ = ["CONSTRUCTIONS", "Action", "SearchResult", "pool_rankings", "search_strategy"]

CONSTRUCTIONS = ("greedy", "closest", "coread", "coread_per_reader")
"""Ways the search builds a plan (module docstring); ``search_strategy`` tries every one it is given."""

_RANKED_BLOCKS = 16
"""Blocks (refits) in which a ranked start commits its participants."""

_CANDIDATE_CHUNK = 256
"""Candidates screened per call of :func:`target_gains` (bounds the (chunk, |A|, |T|) gain array)."""

_LAZY_BATCH = 64
"""Candidates re-scored at a time by the lazy greedy step."""

_FULL_EVERY = 10
"""Every this many steps the lazy greedy re-scores every candidate."""

_PATIENCE = 10
"""Steps in a row that fail to raise the objective before the search stops (and keeps its best prefix)."""

_SINGLE_PAIRS = 2
"""The exchange's single trades try the cheapest ``_SINGLE_PAIRS`` members against the best ``_SINGLE_PAIRS``
outsiders (``_SINGLE_PAIRS ** 2`` pairs) before halving to 0."""


@dataclass(frozen=True)
class Action:
    """What one participant does: set ``items`` to ``value`` in their history (``position`` for ordered data)."""

    user: int
    items: tuple
    value: float
    position: str = "append"

    def as_dict(self, interactions: Interactions | None = None) -> dict:
        out = {"user": self.user, "items": list(self.items), "value": self.value, "position": self.position}
        if interactions is not None:
            out["user_id"] = _plain(interactions.users.ids[self.user])
            out["item_ids"] = [_plain(interactions.items.ids[i]) for i in self.items]
        return out


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True, eq=False)
class SearchResult:
    """The greedy search's plan and its trace.

    Attributes
    ----------
    actions : list of Action
        In the order they were chosen (a prefix is the plan of a smaller collective).
    interactions : Interactions
        Training interactions after every action.
    trace : list of dict
        One row per step: ``n_participants``, ``exposure`` (per variant, from the refitted working models:
        the search's own estimate), ``surrogate``, ``seconds``.
    stop_reason : str
    gain_kind : str
    variants : list of str
    construction : str
        The construction (one of :data:`CONSTRUCTIONS`) whose plan this is.
    constructions : dict name -> dict
        Every construction tried: ``n_participants``, ``exposure`` (worst variant; from cold fits when the gains are
        approximate and more than one construction ran), the search's ``estimate`` and ``surrogate`` of its best
        prefix, and ``seconds``.
    """

    actions: list
    interactions: Interactions
    trace: list
    stop_reason: str
    gain_kind: str
    variants: list = field(default_factory=list)
    construction: str = "greedy"
    constructions: dict = field(default_factory=dict)


def exchange_trials(trace) -> list[dict]:
    """The rows of a search trace (``SearchResult.trace``, ``CampaignDesign.trace``) that are batch-exchange
    trials, in order; a row's ``accepted`` says whether its trade was kept, ``traded`` how many readers it swapped."""
    return [row for row in trace if row.get("construction") == "exchange"]


@dataclass
class _Variant:
    """One model setting the plan must work for, with its working (refitted) copy."""

    label: str
    model: Recommender
    start_margin: np.ndarray = None
    thresholds: np.ndarray = None
    target_scores: np.ndarray = None
    open_targets: np.ndarray = None


def search_strategy(
    models: dict[str, Recommender],
    train: Interactions,
    targets,
    audience,
    pool,
    *,
    max_participants: int,
    max_actions: int | None = None,
    values: Sequence[float] = (5.0,),
    bridges=(),
    k: int = 10,
    goal_exposure: float | None = None,
    shortlist: int = 4,
    position: str = "append",
    restarts: int = 0,
    swap_rounds: int = 0,
    exchange_rounds: int = 0,
    constructions: Sequence[str] = CONSTRUCTIONS,
    rng=0,
    progress: Callable[[int, int, dict], None] | None = None,
) -> SearchResult:
    """Greedy strategy search (see the module docstring).

    Parameters
    ----------
    models : dict label -> fitted Recommender
        The model variants the plan must work for (one for a plain search); all fitted on ``train``. They are not
        modified (the search refits deep copies).
    train : Interactions
    targets, audience, pool : array-like of int
        Target items; users who would like them; users willing to act (disjoint from the audience).
    max_participants : int >= 1
    max_actions : int or None
        Items each participant sets (targets first, then bridge items); None = every target.
    values : sequence of float
        Values a participant may give (each is tried).
    bridges : array-like of int
        Non-target items a participant may also add (filled after the targets, most audience-held first).
    k : int
        List length of the exposure objective.
    goal_exposure : float in (0, 1], optional
        Stop once every variant's estimated exposure reaches it.
    shortlist : int
        Candidates evaluated by an actual refit per step for models whose gains are approximate (first-order,
        half-step) or absent (then the shortlist is drawn from the pool members nearest the audience).
    position : str
        Where added items go in ordered histories (one of ``POSITION_POLICIES``).
    restarts : int >= 0
        Extra greedy runs whose first participant is drawn (from ``rng``) among the 10 best candidates; the run
        with the best final objective is kept.
    swap_rounds : int >= 0
        Local search after the greedy: each round tries to replace every participant by the best candidate
        outside the plan (refitting the plan without them from the baseline) and stops when nothing changes.
    exchange_rounds : int >= 0
        Trials of the batch exchange (:func:`_exchange`) on the winning plan, before any swap rounds; models with
        closed-form gains only.
    constructions : sequence of str
        Which of :data:`CONSTRUCTIONS` to try (default all); the best plan wins (module docstring). Ranked starts
        give each member the targets (and bridge items, when the budget leaves room) at the largest allowed value.
    rng : int or Generator
        Seeds the restarts' draws and the ``closest`` ranking's embedding.
    progress : callable(step, max_participants, row), optional
        Called after each greedy step and each ranked block (``row["construction"]`` names which).
    """
    targets = np.unique(np.asarray(targets, dtype=np.int64))
    audience = np.unique(np.asarray(audience, dtype=np.int64))
    pool = np.unique(np.asarray(pool, dtype=np.int64))
    bridges = np.setdiff1d(np.asarray(bridges, dtype=np.int64), targets)
    values = tuple(float(v) for v in values)
    _check(train, targets, audience, pool, max_participants, max_actions, values, k, goal_exposure)
    from recollective.campaigns._spec import POSITION_POLICIES

    if position not in POSITION_POLICIES:
        raise InvalidParameterError(
            f"position must be one of {', '.join(POSITION_POLICIES)}; got {position!r}"
            f"{did_you_mean(position, POSITION_POLICIES)}"
        )
    if position != "append" and train.order is None:
        raise InvalidParameterError(
            f"position {position!r} needs ordered interactions (a timestamp or position column); use append"
        )
    for name, count in (("restarts", restarts), ("swap_rounds", swap_rounds), ("exchange_rounds", exchange_rounds)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise InvalidParameterError(f"{name} must be an integer >= 0; got {count!r}")
    constructions = (constructions,) if isinstance(constructions, str) else tuple(constructions)
    unknown = [c for c in constructions if c not in CONSTRUCTIONS]
    if not constructions or unknown:
        got = unknown[0] if unknown else ""
        raise InvalidParameterError(
            f"constructions must name one or more of {', '.join(CONSTRUCTIONS)}; got {got!r}"
            f"{did_you_mean(got, CONSTRUCTIONS) if got else ''}"
        )
    per_user = targets.size + bridges.size if max_actions is None else int(max_actions)
    kinds = {gain_kind(model) for model in models.values()}
    kind = kinds.pop() if len(kinds) == 1 else "refit"
    held_by_audience = np.bincount(train.matrix[audience].indices, minlength=train.n_items)
    setup = {
        "train": train, "targets": targets, "audience": audience, "pool": pool, "k": k, "kind": kind,
        "n_targets": min(per_user, targets.size), "per_user": per_user, "values": values, "position": position,
        "bridge_order": bridges[np.lexsort((bridges, -held_by_audience[bridges]))], "shortlist": shortlist,
        "embedding_rank": _closeness(train, audience, pool) if kind != "exact" else None,
    }
    generator = np.random.default_rng(rng)
    runs = []
    ranked = [c for c in CONSTRUCTIONS if c in constructions and c != "greedy"]
    orders = pool_rankings(train, audience, pool, ranked, rng=0 if isinstance(rng, np.random.Generator) else rng)
    for name, order in orders.items():
        runs.append(_ranked_start(models, setup, name, order, max_participants, goal_exposure, progress))
    if "greedy" in constructions:
        best_greedy = None
        for restart in range(1 + int(restarts)):
            run = _greedy(models, setup, max_participants, goal_exposure, progress if restart == 0 else None,
                          generator if restart else None)
            if best_greedy is None or run["value"] > best_greedy["value"] + 1e-12:
                best_greedy = run
        runs.append(best_greedy)
    if kind != "exact" and len(runs) > 1:  # approximate estimates drift apart: compare the plans by cold fits
        for run in runs:
            run["estimate"], run["exposure"] = run["exposure"], _cold_exposure(models, setup, run["current"])
    best = max(runs, key=_rank_key)  # first of equals: ranked starts before the greedy
    summary = {run["construction"]: {"n_participants": len(run["actions"]), "exposure": run["exposure"],
                                     "estimate": run.get("estimate", run["exposure"]), "surrogate": run["value"],
                                     "seconds": run["seconds"]} for run in runs}
    _exchange(models, setup, best, exchange_rounds, progress)
    for _ in range(int(swap_rounds)):
        if not _swap_round(models, setup, best):
            break
    return SearchResult(best["actions"], best["current"], best["trace"], best["stop_reason"], kind,
                        [v.label for v in best["variants"]], best["construction"], summary)


def _cold_exposure(models, setup, changed) -> float:
    """Exposure (worst variant) of models fitted from scratch, with the same settings, on ``changed``."""
    exposures = []
    for label, model in models.items():
        variant = _Variant(label, model.clone().fit(changed))
        _refresh(variant, setup["audience"], setup["targets"], setup["k"])
        exposures.append(_exposure(variant))
    return min(exposures)


def _rank_key(run) -> tuple:
    """Higher estimated exposure (worst variant), then objective, then fewer participants."""
    return (round(run["exposure"], 12), round(run["value"], 12), -len(run["actions"]))


def pool_rankings(train: Interactions, audience, pool, names=CONSTRUCTIONS[1:], rng=0) -> dict:
    """The pool ranked for each ranked start in ``names`` (see the module docstring), best first, lower index on
    ties: dict name -> ndarray of user indices."""
    from recollective.campaigns._participants import closest_order, user_embedding

    audience, pool = np.asarray(audience, dtype=np.int64), np.asarray(pool, dtype=np.int64)
    out = {}
    if "closest" in names:
        out["closest"] = closest_order(user_embedding(train, rng=rng), audience, pool)
    if "coread" in names or "coread_per_reader" in names:
        matrix = sp.csr_array(train.matrix, dtype=np.float64)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).reshape(-1))
        weights = matrix[audience] @ sp.diags_array(1.0 / np.where(norms > 0, norms, 1.0))
        shared = np.asarray((weights @ matrix[pool].T).todense())  # (|A|, |P|): w_au
        if "coread" in names:
            out["coread"] = pool[np.lexsort((pool, -shared.sum(axis=0)))]
        if "coread_per_reader" in names:
            totals = shared.sum(axis=1, keepdims=True)
            scaled = np.divide(shared, totals, out=np.zeros_like(shared), where=totals > 0)
            out["coread_per_reader"] = pool[np.lexsort((pool, -scaled.sum(axis=0)))]
    return {name: out[name] for name in names}


def _ranked_start(models, setup, name, order, max_participants, goal_exposure, progress) -> dict:
    """Commit ``order``'s first ``max_participants`` members in :data:`_RANKED_BLOCKS` blocks; keep the best
    prefix among the block ends."""
    started_run = time.perf_counter()
    variants, current = _fresh(models, setup, [])
    order = np.asarray(order, dtype=np.int64)[:max_participants]
    block = max(1, math.ceil(order.size / _RANKED_BLOCKS))
    actions, trace = [], []
    stop_reason = "budget" if order.size >= max_participants else "pool exhausted"
    for start in range(0, order.size, block):
        started = time.perf_counter()
        added = [_largest_action(current, int(user), variants, setup) for user in order[start : start + block]]
        changed, delta = plan_with_delta(current, added)
        for variant in variants:
            variant.model.refit(changed, delta)
            _refresh(variant, setup["audience"], setup["targets"], setup["k"])
        current = changed
        actions += added
        row = {**_trace_row(len(actions), added[-1], variants, started), "construction": name, "added": len(added)}
        trace.append(row)
        if progress is not None:
            progress(len(actions), max_participants, row)
        if goal_exposure is not None and min(row["exposure"].values()) >= goal_exposure:
            stop_reason = "goal reached"
            break
    run = {"actions": actions, "current": current, "trace": trace, "stop_reason": f"{name}: {stop_reason}",
           "variants": variants, "construction": name}
    return _keep_best_prefix(run, models, setup, started_run)


def _largest_action(current, user, variants, setup) -> Action:
    """The ranked start's action for ``user``: the targets (and bridges when offered) at the largest value."""
    options = _candidates(current, np.array([user]), setup["targets"], setup["n_targets"], setup["bridge_order"],
                          setup["per_user"], (max(setup["values"]),), variants, setup["position"])
    return max(options, key=lambda action: len(action.items))


def _keep_best_prefix(run, models, setup, started) -> dict:
    """Cut ``run`` back to its best prefix (refitting from the baseline when that drops anything), and add its
    ``value``, ``exposure`` and ``seconds``."""
    keep = _best_prefix(run["trace"])
    if keep < len(run["actions"]):  # later steps did not pay off: go back to the best prefix
        run["actions"] = run["actions"][:keep]
        run["trace"] = [row for row in run["trace"] if row["n_participants"] <= keep]
        run["variants"], run["current"] = _fresh(models, setup, run["actions"])
        run["stop_reason"] += f"; kept the best {keep} participants"
    run["value"] = float(min(_surrogate(v, v.target_scores) for v in run["variants"]))
    run["exposure"] = min(_exposure(v) for v in run["variants"])
    run["seconds"] = time.perf_counter() - started
    return run


def _fresh(models, setup, actions):
    """Working copies of the models refitted on the training data plus ``actions``, with their thresholds."""
    variants = [_Variant(label, copy.deepcopy(model)) for label, model in models.items()]
    current = setup["train"]
    if actions:
        current, delta = plan_with_delta(setup["train"], actions)
    for variant, model in zip(variants, models.values(), strict=True):
        if actions:
            variant.model.refit(current, delta)
        _refresh(variant, setup["audience"], setup["targets"], setup["k"])
        base = _Variant(variant.label, model)
        _refresh(base, setup["audience"], setup["targets"], setup["k"])
        variant.start_margin = _margins(base)
    return variants, current


def _greedy(models, setup, max_participants, goal_exposure, progress, first_draw) -> dict:
    """One greedy run; with ``first_draw`` (a Generator) the first participant is drawn among the 10 best."""
    started_run = time.perf_counter()
    variants, current = _fresh(models, setup, [])
    audience, targets, k = setup["audience"], setup["targets"], setup["k"]
    actions: list[Action] = []
    bounds: dict = {}
    remaining = setup["pool"].copy()
    trace = []
    stop_reason = "budget"
    stalled = 0
    for step in range(max_participants):
        started = time.perf_counter()
        candidates = _candidates(current, remaining, targets, setup["n_targets"], setup["bridge_order"],
                                 setup["per_user"], setup["values"], variants, setup["position"])
        if not candidates:
            stop_reason = "pool exhausted"
            break
        now = min(_surrogate(v, v.target_scores) for v in variants)
        if step == 0 and first_draw is not None:
            ranked = _ranked(candidates, variants, audience, targets, current, setup)
            best = int(first_draw.choice(ranked[:10]))
            best_value = np.inf
        else:
            best, best_value = _choose(candidates, variants, audience, targets, setup["kind"], setup["shortlist"],
                                       current, k, setup["embedding_rank"], bounds, step % _FULL_EVERY == 0, now)
        if best is None:
            stop_reason = "no candidate left"
            break
        stalled = stalled + 1 if best_value <= now + 1e-12 else 0
        if stalled > _PATIENCE:
            stop_reason = f"no candidate raised the objective in {_PATIENCE} steps"
            break
        action = candidates[best]
        current = _commit(action, current, variants, audience, targets, k)
        actions.append(action)
        remaining = remaining[remaining != action.user]
        row = {**_trace_row(step + 1, action, variants, started), "construction": "greedy"}
        trace.append(row)
        if progress is not None:
            progress(step + 1, max_participants, row)
        if goal_exposure is not None and min(row["exposure"].values()) >= goal_exposure:
            stop_reason = "goal reached"
            break
    run = {"actions": actions, "current": current, "trace": trace, "stop_reason": stop_reason,
           "variants": variants, "construction": "greedy"}
    return _keep_best_prefix(run, models, setup, started_run)


def _best_prefix(trace) -> int:
    """Participants in the traced prefix with the highest estimated exposure (worst variant), then objective;
    the shortest on ties."""
    if not trace:
        return 0
    scores = [(min(row["exposure"].values()), row["surrogate"]) for row in trace]
    best = max(range(len(trace)), key=lambda i: (scores[i][0], scores[i][1], -i))
    return trace[best]["n_participants"]


def _trace_row(step, action, variants, started, swapped=False) -> dict:
    return {
        "step": step,
        "n_participants": step,
        "user": action.user,
        "items": list(action.items),
        "value": action.value,
        "surrogate": float(min(_surrogate(v, v.target_scores) for v in variants)),
        "exposure": {v.label: _exposure(v) for v in variants},
        "seconds": time.perf_counter() - started,
        **({"swapped": True} if swapped else {}),
    }


def _ranked(candidates, variants, audience, targets, current, setup) -> np.ndarray:
    """Candidate indices, best screened value first (nearest the audience first for refit-only models)."""
    if setup["kind"] == "refit":
        return np.array(sorted(range(len(candidates)), key=lambda c: (setup["embedding_rank"][candidates[c].user], c)))
    values = _screen(candidates, variants, audience, targets, current)
    return np.lexsort((np.arange(len(candidates)), -values))


def _swap_round(models, setup, run) -> bool:
    """Try to replace each participant by the best pool member not in the plan; True when something changed.

    For participant ``j`` the plan without ``j`` is refitted from the baseline, every candidate (``j`` included)
    is screened against it, and the best is committed (``j`` stays when nothing beats it)."""
    changed = False
    for j in range(len(run["actions"])):
        started = time.perf_counter()
        others = run["actions"][:j] + run["actions"][j + 1 :]
        variants, current = _fresh(models, setup, others)
        used = {a.user for a in others}
        remaining = np.array([u for u in setup["pool"] if u not in used])
        candidates = _candidates(current, remaining, setup["targets"], setup["n_targets"], setup["bridge_order"],
                                 setup["per_user"], setup["values"], variants, setup["position"])
        now = min(_surrogate(v, v.target_scores) for v in variants)
        best, _ = _choose(candidates, variants, setup["audience"], setup["targets"], setup["kind"],
                          setup["shortlist"], current, setup["k"], setup["embedding_rank"], {}, True, now)
        keep = run["actions"][j]
        action = candidates[best] if best is not None else keep
        order = [*others[:j], action, *others[j:]]
        variants, current = _fresh(models, setup, order)
        value = float(min(_surrogate(v, v.target_scores) for v in variants))
        if action != keep and value > run["value"] + 1e-12:
            run.update(actions=order, current=current, variants=variants, value=value,
                       exposure=min(_exposure(v) for v in variants))
            row = _trace_row(len(order), action, variants, started, swapped=True)
            run["trace"].append({**row, "replaced": keep.user})
            changed = True
    if changed:
        run["stop_reason"] += " (then swaps)"
    return changed


def _exchange(models, setup, run, max_rounds: int, progress=None) -> None:
    """Batch exchange after the construction (closed-form gains only): swap the plan's weakest members for the best
    pool members outside it, verify the whole trial plan, keep it when it is better.

    Each round prices taking every member's action back (:func:`target_gains` with the member's training row as
    the new row) and every outsider's best action (the step screen), both against the current plan, then trades
    the ``b`` cheapest members for the ``b`` best outsiders at once and refits the trial plan from the baseline.
    It is kept when :func:`_rank_key` improves (exposure from cold fits for approximate gains, the exact estimate
    otherwise). ``b`` starts at a quarter of the plan and halves after each rejected trade (at ``b = 1`` only after
    :data:`_SINGLE_PAIRS` squared single pairs were rejected in a row); when it reaches 0 after
    some trade was kept since it last started, it starts again at an eighth of the plan (the kept trades changed
    every price); otherwise the search stops. A trial plan already verified, or held before, is not verified again:
    it cannot beat the current plan (each kept plan ranks above every plan before it), so it counts as rejected
    without a refit and a restart does not repeat old trades. At most ``max_rounds`` trials. Modifies ``run`` in
    place.
    """
    if setup["kind"] == "refit" or not run["actions"] or max_rounds <= 0:
        return
    if setup["kind"] != "exact" and "estimate" not in run:  # compare cold fits with cold fits
        run["estimate"], run["exposure"] = run["exposure"], _cold_exposure(models, setup, run["current"])
    batch = max(1, len(run["actions"]) // 4)
    trades, kept_since_start, singles = 0, False, 0
    priced = None  # the plan the prices below belong to: a rejected trial leaves it, and them, unchanged
    tried = {frozenset(run["actions"])}  # plans verified or held so far: none ranks above the current one
    trials = 0
    while trials < max_rounds and batch >= 1:
        started = time.perf_counter()
        if priced is not run["actions"]:
            priced = run["actions"]
            candidates, best_in, ranked_out = _exchange_prices(setup, run)
            if not candidates:
                break
        if batch == 1:  # single trades: after a rejected one, try the next pairs (2nd cheapest / 2nd best, ...)
            m, o = singles % _SINGLE_PAIRS, singles // _SINGLE_PAIRS
            incoming = best_in[o : o + 1]
            outgoing = set(ranked_out[m : m + 1].tolist()) if incoming else set()
        else:
            incoming = best_in[:batch]
            outgoing = set(ranked_out[: len(incoming)].tolist())
        if not incoming or len(outgoing) != len(incoming):
            break
        trial = [a for a in run["actions"] if a.user not in outgoing] + [candidates[c] for c in incoming]
        key = frozenset(trial)
        if key in tried:
            batch, singles, kept_since_start = _after_rejection(batch, singles, kept_since_start, len(trial))
            continue
        trials += 1
        tried.add(key)
        trial_variants, trial_current = _fresh(models, setup, trial)
        candidate_run = {"actions": trial, "variants": trial_variants,
                         "value": float(min(_surrogate(v, v.target_scores) for v in trial_variants)),
                         "exposure": min(_exposure(v) for v in trial_variants)}
        if setup["kind"] != "exact":
            candidate_run["estimate"] = candidate_run["exposure"]
            candidate_run["exposure"] = _cold_exposure(models, setup, trial_current)
        accepted = _rank_key(candidate_run) > _rank_key(run)
        if accepted:
            run.update(candidate_run, current=trial_current)
            trades += len(incoming)
        row = {**_trace_row(len(trial), trial[-1], trial_variants, started), "construction": "exchange",
               "traded": len(incoming), "accepted": bool(accepted)}
        run["trace"].append(row)
        if progress is not None:
            progress(len(run["actions"]), len(run["actions"]), row)
        if accepted:
            kept_since_start, singles = True, 0
        else:
            batch, singles, kept_since_start = _after_rejection(batch, singles, kept_since_start, len(trial))
    if trades:
        run["stop_reason"] += f" (then {trades} exchanged)"


def _after_rejection(batch: int, singles: int, kept_since_start: bool, plan_size: int) -> tuple[int, int, bool]:
    """The exchange's next ``(batch, singles, kept_since_start)`` after a rejected trial: the next single pair,
    else half the batch, else (after a kept trade since the last start) a restart at an eighth of the plan."""
    if batch == 1 and singles + 1 < _SINGLE_PAIRS**2:
        return batch, singles + 1, kept_since_start
    batch = batch // 2
    if batch < 1 and kept_since_start:
        return max(1, plan_size // 8), 0, False
    return batch, 0, kept_since_start


def _exchange_prices(setup, run):
    """What :func:`_exchange` trades on, against the current plan: ``(candidates, best_in, ranked_out)`` — the
    outsiders' candidate actions, the index of each outsider's best one (best outsider first) and the members,
    cheapest to take back first (worst case over the variants)."""
    audience, targets = setup["audience"], setup["targets"]
    variants, current = run["variants"], run["current"]
    members = np.array([a.user for a in run["actions"]], dtype=np.int64)
    loss = np.full(members.size, -np.inf)
    original = sp.csr_array(setup["train"].matrix[members])
    for v in variants:
        back = target_gains(v.model, audience, targets, members, original, whole_rows=True)
        loss = np.maximum(loss, _surrogate(v, v.target_scores) - _surrogate(v, v.target_scores[None] + back))
    remaining = np.setdiff1d(setup["pool"], members)
    candidates = _candidates(current, remaining, targets, setup["n_targets"], setup["bridge_order"],
                             setup["per_user"], setup["values"], variants, setup["position"])
    if not candidates:
        return candidates, [], members
    gain = _screen(candidates, variants, audience, targets, current)
    best_per_user: dict[int, int] = {}
    for c in np.lexsort((np.arange(len(candidates)), -gain)):
        best_per_user.setdefault(candidates[c].user, int(c))
    return candidates, list(best_per_user.values()), members[np.lexsort((members, loss))]


# ---------------------------------------------------------------------------------------------- checks
def _check(train, targets, audience, pool, max_participants, max_actions, values, k, goal):
    n_users, n_items = train.n_users, train.n_items
    if targets.size == 0:
        raise InvalidParameterError("no target items: name at least one target item or author")
    if targets.min() < 0 or targets.max() >= n_items:
        raise InvalidParameterError(f"target index out of range (the data has {n_items} items)")
    if audience.size == 0:
        raise InvalidParameterError(
            "the targets have no audience (no test user holds a target): nothing to design for; choose other targets"
        )
    if pool.size == 0:
        raise InvalidParameterError("the pool of willing participants is empty (after removing the audience)")
    if pool.min() < 0 or pool.max() >= n_users:
        raise InvalidParameterError(f"pool user index out of range (the data has {n_users} users)")
    if np.isin(pool, audience).any():
        raise InvalidParameterError("the pool may not contain audience users (they are who the campaign serves)")
    if isinstance(max_participants, bool) or not isinstance(max_participants, int | np.integer) or max_participants < 1:
        raise InvalidParameterError(f"max_participants must be an integer >= 1; got {max_participants!r}")
    if max_actions is not None and (isinstance(max_actions, bool) or int(max_actions) < 1):
        raise InvalidParameterError(f"max_actions must be an integer >= 1 or None; got {max_actions!r}")
    if not values or not all(math.isfinite(v) for v in values):
        raise InvalidParameterError(f"values must be finite numbers; got {values!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidParameterError(f"k must be an integer >= 1; got {k!r}")
    if goal is not None and not 0 < goal <= 1:
        raise InvalidParameterError(f"goal_exposure must lie in (0, 1]; got {goal!r}")


# ---------------------------------------------------------------------------------------------- state
def audience_thresholds(scores: np.ndarray, seen: sp.csr_array, targets: np.ndarray, k: int):
    """What decides target exposure for each audience reader (rows of ``scores`` and ``seen``).

    Returns ``(kth, others, open_targets, width)``: the ``width``-th best score among the reader's unseen non-target
    items (``width = min(k, n_items - 1)``; ``-inf`` when fewer exist), the scores with seen items and targets at
    ``-inf``, and which targets each reader has not seen, shape (rows, |T|).
    """
    open_targets = np.ones((scores.shape[0], targets.size), bool)
    rows = np.repeat(np.arange(scores.shape[0]), np.diff(seen.indptr))
    is_target = np.isin(seen.indices, targets)
    open_targets[rows[is_target], np.searchsorted(targets, seen.indices[is_target])] = False
    others = np.array(scores, dtype=np.float64)
    others[rows, seen.indices] = -np.inf
    others[:, targets] = -np.inf
    width = min(k, others.shape[1] - 1)
    kth = -np.partition(-others, width - 1, axis=1)[:, width - 1]
    return kth, others, open_targets, width


def _refresh(variant: _Variant, audience, targets, k):
    """Thresholds ``θ_a`` and target scores of the working model (exact: read from its scores)."""
    scores = variant.model.score(audience)
    seen = sp.csr_array(variant.model.seen_[audience])
    variant.thresholds, _, variant.open_targets, _ = audience_thresholds(scores, seen, targets, k)
    variant.target_scores = scores[:, targets]


def _margins(variant: _Variant, target_scores=None) -> np.ndarray:
    """``max_t S[a, t] - θ_a`` over each audience user's unseen targets (shape (|A|,) or (C, |A|))."""
    scores = variant.target_scores if target_scores is None else target_scores
    masked = np.where(variant.open_targets, scores, -np.inf)
    return masked.max(axis=-1) - variant.thresholds


def _surrogate(variant: _Variant, target_scores) -> float | np.ndarray:
    margin = _margins(variant, target_scores)
    start = variant.start_margin
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(start < 0, 1.0 - margin / start, 0.0)
    progress = np.clip(np.nan_to_num(progress, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)
    partial = 0.5 * progress**2 + 0.25 * progress
    value = np.where(margin > 0, 1.0, partial)
    return value.sum(axis=-1) / margin.shape[-1]


def _exposure(variant: _Variant) -> float:
    """Share of the audience whose best unseen target beats the ``k``-th non-target (the search's estimate)."""
    return float((_margins(variant) > 0).mean())


# ---------------------------------------------------------------------------------------------- candidates
def _candidates(current, remaining, targets, n_targets, bridge_order, per_user, values, variants, position):
    """One candidate per (pool member, value, with/without bridges): the targets most audience readers still
    need (fewest reached first), then bridge items the member does not hold."""
    need = np.zeros(targets.size)
    for v in variants:
        unreached = _margins(v) <= 0
        need += (v.open_targets & unreached[:, None]).sum(axis=0)
    chosen = np.sort(targets[np.lexsort((targets, -need))[:n_targets]])
    matrix = current.matrix
    out = []
    for user in remaining:
        held = matrix.indices[matrix.indptr[user] : matrix.indptr[user + 1]]
        extra = per_user - chosen.size
        options = [tuple(int(t) for t in chosen)]
        if extra > 0 and bridge_order.size:
            free = bridge_order[~np.isin(bridge_order, held)][:extra]
            if free.size:
                options.append(tuple(sorted(int(i) for i in np.concatenate([chosen, free]))))
        for items in options:
            for value in values:
                out.append(Action(int(user), items, value, position))
    return out


def _rows(actions, n_items) -> sp.csr_array:
    lengths = np.array([len(a.items) for a in actions])
    indices = np.concatenate([np.asarray(a.items, dtype=np.int64) for a in actions])
    data = np.concatenate([np.full(len(a.items), a.value) for a in actions])
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    return sp.csr_array((data, indices, indptr), shape=(len(actions), n_items))


def _closeness(train, audience, pool) -> dict:
    """Pool members ranked by cosine closeness to the audience's mean profile (the refit search's shortlist)."""
    matrix = sp.csr_array(train.matrix)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).reshape(-1)
    centre = np.asarray(matrix[audience].sum(axis=0)).reshape(-1)
    closeness = (matrix[pool] @ centre) / np.where(norms[pool] > 0, norms[pool], 1.0)
    order = pool[np.lexsort((pool, -closeness))]
    return {int(u): r for r, u in enumerate(order)}


# ---------------------------------------------------------------------------------------------- choosing
def _choose(candidates, variants, audience, targets, kind, shortlist, current, k, embedding_rank, bounds, full, now):
    """Index of the best candidate and its objective value.

    Lazy greedy: ``bounds`` keeps each candidate's last computed gain over the objective ``now`` of its step (a
    stale estimate of what it can add);
    candidates are re-scored fresh in batches of :data:`_LAZY_BATCH`, best stale estimate first, until the best
    fresh value is at least every remaining stale one. ``full`` re-scores every candidate (done periodically:
    the surrogate is not submodular, so stale values are estimates, not guarantees).
    """
    if kind == "refit":
        ranked = sorted(range(len(candidates)), key=lambda c: (embedding_rank[candidates[c].user], c))
        return _by_refit(ranked[: max(1, shortlist)], candidates, variants, current, audience, targets, k)
    keys = [(a.user, a.items, a.value) for a in candidates]
    stale = np.array([np.inf if full else bounds.get(key, np.inf) for key in keys])
    fresh = np.full(len(candidates), -np.inf)
    order = np.lexsort((np.arange(len(candidates)), -stale))
    done = 0
    while done < order.size:
        batch = order[done : done + (order.size if full else _LAZY_BATCH)]
        done += batch.size
        fresh[batch] = _screen([candidates[c] for c in batch], variants, audience, targets, current) - now
        for c in batch:
            bounds[keys[c]] = fresh[c]
        if done >= order.size or fresh.max() >= stale[order[done]]:
            break
    scored = np.flatnonzero(np.isfinite(fresh))
    ranked = scored[np.lexsort((scored, -fresh[scored]))]
    if kind == "exact":
        return int(ranked[0]), float(fresh[ranked[0]] + now)
    return _by_refit(ranked[: max(1, shortlist)].tolist(), candidates, variants, current, audience, targets, k)


def _screen(chosen, variants, audience, targets, current) -> np.ndarray:
    """Worst-case (over variants) surrogate after each candidate, from closed-form gains."""
    participants = np.array([a.user for a in chosen])
    scores = np.full(len(chosen), np.inf)
    for variant in variants:
        values = np.empty(len(chosen))
        for start in range(0, len(chosen), _CANDIDATE_CHUNK):
            chunk = chosen[start : start + _CANDIDATE_CHUNK]
            gains = target_gains(variant.model, audience, targets, participants[start : start + len(chunk)],
                                 _rows(chunk, current.n_items))
            values[start : start + len(chunk)] = _surrogate(variant, variant.target_scores[None] + gains)
        scores = np.minimum(scores, values)
    return scores


def _by_refit(indices, candidates, variants, current, audience, targets, k):
    """Evaluate a few candidates by refitting copies of the working models; the best by the (worst-case)
    surrogate of the refitted scores."""
    best, best_value = None, -np.inf
    for c in indices:
        action = candidates[c]
        new, delta = _added(current, action)
        value = np.inf
        for variant in variants:
            trial = _Variant(variant.label, copy.deepcopy(variant.model).refit(new, delta),
                             start_margin=variant.start_margin)
            _refresh(trial, audience, targets, k)
            value = min(value, float(_surrogate(trial, trial.target_scores)))
        if value > best_value:
            best, best_value = c, value
    return best, best_value


def _added(current: Interactions, action: Action):
    """``current`` with the action applied, and the delta. In ordered data the new items go where
    ``action.position`` says (:data:`recollective.campaigns.POSITION_POLICIES`, "random" drawn with seed 0)."""
    from recollective.campaigns._apply import _orders

    items = np.asarray(action.items, dtype=np.int64)
    order = None
    if current.order is not None:
        order = _orders(action.position, current, np.array([action.user]), items.size, np.random.default_rng(0))
        order = order.reshape(-1)
    return current.with_added(
        np.repeat(current.users.ids[action.user], items.size),
        current.items.ids[items],
        np.full(items.size, action.value),
        order,
    )


def plan_with_delta(train: Interactions, actions):
    """(``train`` with every action applied, the delta from ``train``), in one ``with_added``."""
    from recollective.campaigns._apply import _orders

    if not actions:
        return train.with_added(np.empty(0, train.users.ids.dtype), np.empty(0, train.items.ids.dtype))

    users = np.concatenate([np.full(len(a.items), a.user) for a in actions])
    items = np.concatenate([np.asarray(a.items, dtype=np.int64) for a in actions])
    values = np.concatenate([np.full(len(a.items), a.value) for a in actions])
    order = None
    if train.order is not None:
        order = np.concatenate([
            _orders(a.position, train, np.array([a.user]), len(a.items), np.random.default_rng(0)).reshape(-1)
            for a in actions
        ])
    return train.with_added(train.users.ids[users], train.items.ids[items], values, order)


def _commit(action, current, variants, audience, targets, k) -> Interactions:
    new, delta = _added(current, action)
    for variant in variants:
        variant.model.refit(new, delta)
        _refresh(variant, audience, targets, k)
    return new
