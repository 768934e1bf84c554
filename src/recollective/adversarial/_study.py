"""The attack study: benign campaigns and shilling attacks at equal budget, detected and filtered, over seeds.

For each seed the model is fitted once on ``train`` (the baseline, reused by every action), the unsupervised
detectors are built, and the supervised ones are trained on a *separate* injection (:func:`training_injection`:
every attack kind against random non-target items, from its own random stream). For each size the benign
campaign — ``participants`` (default "closest": the non-audience users nearest the audience) each add every
target at the data's top rating — fixes the budget ``n_actions``; every attack (kind x account type) then gets
``Attack(budget=n_actions)``, i.e. ``max(1, n_actions // per_profile)`` whole profiles: the same number of added
interactions up to one profile. Each action goes through
:func:`~recollective.adversarial._evaluate.evaluate_coordination`.

Every random choice comes from ``SeedSequence(seed, spawn_key=...)`` on stable names (the action, its account
type and size), never from execution order, so a cell gives the same row whatever else the study runs.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from recollective._random import as_generator
from recollective.adversarial._attacks import ACCOUNT_KINDS, ATTACK_KINDS, Attack, apply_attack
from recollective.adversarial._curves import curve_rows
from recollective.adversarial._detectors import DETECTOR_NAMES, detector_class
from recollective.adversarial._evaluate import (
    DEFAULT_FLAG_SHARES,
    MEASURES,
    detection_metrics,
    evaluate_coordination,
    roc_auc,
)
from recollective.campaigns._evaluate import target_audience
from recollective.campaigns._participants import user_embedding
from recollective.campaigns._spec import PARTICIPANT_POLICIES, Campaign
from recollective.data import Interactions
from recollective.errors import InvalidParameterError, did_you_mean, unknown_name
from recollective.models import Recommender, make_model

__all__ = ["STUDY_COLUMNS", "fit_on_injection", "run_attack_study", "study_stream", "training_injection"]

logger = logging.getLogger(__name__)

_DETECTION_KEYS = tuple(detection_metrics(np.array([1.0, 0.0]), np.array([True, False]), flag_share=0.5))
_FILTER_KEYS = ("n_removed", *(f"{m}_filtered" for m in MEASURES), "benefit_lost", "harm_avoided", "ndcg_lost")

STUDY_COLUMNS = (
    "model",
    "seed",
    "size",
    "action",
    "accounts",
    "intent",
    "budget",
    "n_accounts",
    "n_fake",
    "n_actions",
    "audience_size",
    "n_test_users",
    "n_victims",
    *(f"{m}_{label}" for m in MEASURES for label in ("before", "after")),
    "detector",
    "flag_share",
    *_DETECTION_KEYS,
    *_FILTER_KEYS,
    "cv_auc",
    "skipped_detectors",
)
"""Columns of every study row (tidy long format: one row per action x size x seed x detector x flag share).

* cell: ``model`` (name), ``seed``, ``size`` (as given: a count or a share of users), ``action`` ("benign" or
  an attack kind), ``accounts`` ("real" for the campaign, the attack's "fake" / "real"), ``intent`` ("push");
* budget: ``budget`` (the benign campaign's ``n_actions`` at this size and seed), ``n_accounts`` (coordinated
  accounts), ``n_fake`` (accounts appended), ``n_actions`` (added interactions, <= budget up to one profile);
* effect (over the original test users): ``audience_size``, ``n_test_users``, ``n_victims``, and
  ``benefit`` (target exposure in the audience), ``harm`` (target exposure among the victims), ``ndcg``,
  ``hit_rate``, ``ndcg_audience``, ``ndcg_outside``, ``hit_rate_audience``, ``hit_rate_outside``, each
  ``_before`` / ``_after`` the action (repeated on every detector row of the cell);
* detection (``None`` when no detector ran): ``detector``, ``flag_share``, ``flagged``, ``threshold``,
  ``precision``, ``recall``, ``f1``, ``roc_auc``, ``fpr``, ``benign_flagged_share`` (benign rows: the share of
  participants flagged, equal to recall), ``ordinary_flagged_share`` (uninvolved users flagged);
* filtering policy: ``n_removed`` (interactions dropped), ``<measure>_filtered``, ``benefit_lost``,
  ``harm_avoided``, ``ndcg_lost`` (after minus filtered);
* ``cv_auc``: the supervised detector's cross-validated ROC-AUC on its training injection (``None`` otherwise);
* ``skipped_detectors``: comma-separated names of detectors that could not run on the data (e.g. "burst"
  without an order).
"""


def study_stream(seed: int, *names) -> np.random.Generator:
    """A generator for the sub-stream ``names`` of ``seed``: ``SeedSequence(seed, spawn_key=crc32(names))``."""
    key = tuple(zlib.crc32(str(name).encode()) for name in names)
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=key))


def run_attack_study(
    train: Interactions,
    test: Interactions,
    *,
    model: str | Recommender,
    targets,
    sizes: Sequence[float | int],
    seeds: Sequence[int],
    attack_kinds: Sequence[str] = ATTACK_KINDS,
    accounts: Sequence[str] = ("fake",),
    filler_size: float | int = 0.01,
    detectors: Sequence[str] = DETECTOR_NAMES,
    k: int = 10,
    flag_shares: Sequence[float] = DEFAULT_FLAG_SHARES,
    participants: str = "closest",
    training_budget: int | None = None,
    cv_folds: int = 5,
    audience=None,
    progress: Callable[[int, int], None] | None = None,
    return_curves: bool = False,
    finished: Mapping[tuple, tuple[list[dict], list[dict]]] | None = None,
    on_block: Callable[[int, float | int, list[dict], list[dict]], None] | None = None,
) -> list[dict] | tuple[list[dict], list[dict]]:
    """Benign campaign versus each attack at equal budget, per size and seed, with detection and filtering.

    Parameters
    ----------
    train, test : Interactions
        The split (same vocabularies).
    model : str or Recommender
        A registry name (``recollective.models.MODEL_NAMES``) or an unfitted model; cloned and fitted once per
        seed (with ``rng`` from the seed when it has one).
    targets : array-like of int
        Target item indices.
    sizes : sequence of int or float
        Benign collective sizes: a count of participants, or a share of the users in (0, 1).
    seeds : sequence of int
    attack_kinds : sequence of str
        Subset of ``ATTACK_KINDS``.
    accounts : sequence of str
        Account types of the attacks (subset of ``ACCOUNT_KINDS``).
    filler_size : float or int, default 0.01
        Filler items per attack profile (share of the items, or a count): ``Attack.filler_size``.
    detectors : sequence of str
        Detector names; supervised ones are trained per seed on :func:`training_injection`.
    k : int
    flag_shares : sequence of float in (0, 1)
    participants : str, default "closest"
        The benign campaign's participant policy.
    training_budget : int, optional
        Added interactions per (kind, account type) of the training injection; default the largest benign budget
        (``n_selected(size) * len(targets)`` over ``sizes``).
    cv_folds : int, default 5
        Folds of the supervised detector's cross-validated AUC (lowered to the number of injected accounts).
    audience : array-like of int, optional
        User indices of those who would like the targets (e.g. a target set's audience with a relevance
        threshold); default :func:`~recollective.campaigns.target_audience` of ``test`` (every held-out
        interaction with a target counts).
    progress : callable(done, total), optional
        Called after each evaluated action.
    return_curves : bool, default False
        Also return each detector's ROC curve per cell (:func:`~recollective.adversarial._curves.curve_rows`:
        the post-action scores against the coordinated accounts), for ROC plots, which the rows' few flag shares
        cannot draw.
    finished : mapping of (seed, size) to (rows, curves), optional
        Blocks of an earlier, interrupted run of the same study: taken as they are, in order, without evaluating
        them again; a seed whose sizes are all finished is not even fitted.
    on_block : callable(seed, size, rows, curves), optional
        Called with each newly evaluated block (every action at one size and seed), e.g. to store it.

    Returns
    -------
    rows : list of dict
        Rows with exactly the keys :data:`STUDY_COLUMNS`.
    curves : list of dict
        Only with ``return_curves``: rows with exactly the keys
        :data:`~recollective.adversarial._curves.CURVE_COLUMNS`.
    """
    if not sizes or not seeds:
        raise InvalidParameterError("the attack study needs at least one size and one seed")
    _check_subset(attack_kinds, ATTACK_KINDS, "attack_kinds")
    _check_subset(accounts, ACCOUNT_KINDS, "accounts")
    if participants not in PARTICIPANT_POLICIES or participants == "explicit":
        raise InvalidParameterError(
            f"participants must be one of random, majority, fans, closest; got {participants!r}"
            f"{did_you_mean(participants, ('random', 'majority', 'fans', 'closest'))}"
        )
    if isinstance(detectors, str):
        detectors = [detectors]
    detector_classes = {name: detector_class(name) for name in detectors}  # unknown names fail here
    template = make_model(model) if isinstance(model, str) else model
    if not isinstance(template, Recommender):
        raise InvalidParameterError(f"model must be a model name or a Recommender; got {type(model).__name__}")
    model_name = model if isinstance(model, str) else template.name
    targets = tuple(int(t) for t in np.unique(np.asarray(targets, dtype=np.int64)))
    top_rating = float(train.matrix.data.max())
    campaigns = {size: Campaign(targets, participants=participants, size=size, rating=top_rating) for size in sizes}
    budget_for_training = training_budget or max(c.n_selected(train.n_users) for c in campaigns.values()) * len(
        targets
    )
    audience = target_audience(test, targets) if audience is None else np.unique(np.asarray(audience, np.int64))
    actions = [("benign", "real")] + [(kind, account) for kind in attack_kinds for account in accounts]
    total, done, rows, curves = len(seeds) * len(sizes) * len(actions), 0, [], []
    finished = finished or {}

    def take(seed, size):
        nonlocal done
        block_rows, block_curves = finished[(seed, size)]
        rows.extend(block_rows)
        if return_curves:
            curves.extend(block_curves)
        done += len(actions)
        if progress is not None:
            progress(done, total)

    for seed in seeds:
        seed = int(seed)
        if all((seed, size) in finished for size in sizes):
            for size in sizes:
                take(seed, size)
            continue
        baseline = template.clone()
        if "rng" in baseline.get_params():
            baseline.set_params(rng=int(study_stream(seed, "model").integers(2**31 - 1)))
        baseline.fit(train)
        embedding = user_embedding(train, rng=study_stream(seed, "embedding")) if participants == "closest" else None
        fitted, cv_auc = {}, {}
        for name, cls in detector_classes.items():
            detector = cls()
            if "rng" in detector.get_params():
                detector.set_params(rng=int(study_stream(seed, "detector", name).integers(2**31 - 1)))
            if detector.supervised:
                cv_auc[name] = fit_on_injection(
                    detector, train, targets=targets, budget=budget_for_training, kinds=attack_kinds,
                    accounts=accounts, filler_size=filler_size, cv_folds=cv_folds,
                    rng=study_stream(seed, "training-injection"),
                )
            fitted[name] = detector
        for size in sizes:
            if (seed, size) in finished:
                take(seed, size)
                continue
            budget, block_rows, block_curves = None, [], []
            for action, account in actions:
                if action == "benign":
                    spec = campaigns[size]
                else:
                    spec = Attack(action, targets, filler_size=filler_size, accounts=account, budget=budget)
                outcome = evaluate_coordination(
                    baseline, train, test, spec, detectors=fitted, k=k, audience=audience, flag_shares=flag_shares,
                    embedding=embedding, rng=study_stream(seed, "action", action, account, repr(size)),
                )
                if action == "benign":
                    budget = outcome.summary["n_actions"]
                block_rows.extend(_rows(outcome, model_name, seed, size, budget, cv_auc))
                if return_curves or on_block is not None:
                    block_curves.extend(curve_rows(outcome, {"model": model_name, "seed": seed, "size": size}))
                done += 1
                if progress is not None:
                    progress(done, total)
            rows.extend(block_rows)
            if return_curves:
                curves.extend(block_curves)
            if on_block is not None:
                on_block(seed, size, block_rows, block_curves)
    return (rows, curves) if return_curves else rows


def training_injection(
    train: Interactions,
    *,
    n_targets: int,
    budget: int,
    kinds: Sequence[str] = ATTACK_KINDS,
    accounts: Sequence[str] = ("fake",),
    filler_size: float | int = 0.01,
    exclude=(),
    rng: np.random.Generator | int | None = 0,
) -> tuple[Interactions, np.ndarray]:
    """``train`` with one attack of every kind x account type injected, and the malicious-user labels.

    Each attack pushes its own ``n_targets`` random items (among the items with an interaction, outside
    ``exclude``) with ``budget`` added interactions; attacks are drawn independently on ``train`` and merged, fake
    accounts getting fresh ids (negative integers below every id for signed integer ids, after the largest for
    unsigned ones, ``"injected-<i>"`` for text ids).

    Returns
    -------
    interactions : Interactions
        The training data plus every injected profile (fake accounts appended).
    labels : ndarray of bool of shape (interactions.n_users,)
        True for the injected accounts (fake, or real accounts that received a profile).
    """
    generator = as_generator(rng)
    popularity = np.bincount(train.matrix.indices, minlength=train.n_items)
    pool = np.setdiff1d(np.flatnonzero(popularity > 0), np.asarray(exclude, dtype=np.int64))
    if pool.size == 0:
        raise InvalidParameterError("training_injection: no item with an interaction is left outside exclude")
    user_ids, item_ids, values, orders, malicious = [], [], [], [], []
    next_fake = 0
    for kind in kinds:
        for account in accounts:
            chosen = np.sort(generator.choice(pool, min(int(n_targets), pool.size), replace=False))
            attack = Attack(kind, tuple(chosen), filler_size=filler_size, accounts=account, budget=int(budget))
            application = apply_attack(attack, train, generator)
            users, items = application.added_users, application.added_items
            fakes = np.unique(users[users >= train.n_users])
            fresh = dict(zip(fakes.tolist(), _fresh_ids(train, next_fake, fakes.size), strict=True))
            next_fake += fakes.size
            real = users < train.n_users
            ids = np.empty(users.size, dtype=object)
            ids[real] = train.users.ids[users[real]].tolist()
            ids[~real] = [fresh[u] for u in users[~real].tolist()]
            user_ids.append(ids)
            attackers = application.attackers
            malicious.extend(train.users.ids[attackers[attackers < train.n_users]].tolist())
            malicious.extend(fresh[u] for u in attackers[attackers >= train.n_users].tolist())
            item_ids.append(train.items.ids[items])
            values.append(application.added_values)
            if train.order is not None:
                orders.append(np.asarray(application.interactions.order[users, items]).reshape(-1))
    order = np.concatenate(orders) if train.order is not None else None
    injected, _ = train.with_added(
        np.concatenate(user_ids), np.concatenate(item_ids), np.concatenate(values), order
    )
    labels = np.zeros(injected.n_users, dtype=bool)
    labels[injected.users.numbers(np.asarray(malicious, dtype=object))] = True
    return injected, labels


# ---------------------------------------------------------------------------------------------- helpers
def fit_on_injection(
    detector,
    train: Interactions,
    *,
    targets,
    budget: int,
    kinds: Sequence[str] = ATTACK_KINDS,
    accounts: Sequence[str] = ("fake",),
    filler_size: float | int = 0.01,
    cv_folds: int = 5,
    rng: np.random.Generator | int | None = 0,
) -> float | None:
    """Fit a supervised ``detector`` on a :func:`training_injection` of ``train`` (the study's protocol).

    The injection pushes ``len(targets)`` random items other than ``targets`` with ``budget`` added interactions
    per attack kind x account type, so the detector never sees the evaluated action itself.

    Returns
    -------
    float or None
        The detector's cross-validated ROC-AUC on the injection (``cv_folds`` folds, lowered to the size of the
        smaller class), None when fewer than two folds are possible or the detector has no
        ``cross_validated_scores``.
    """
    generator = as_generator(rng)
    targets = np.unique(np.asarray(targets, dtype=np.int64))
    injected, labels = training_injection(
        train, n_targets=targets.size, budget=budget, kinds=kinds or ATTACK_KINDS, accounts=accounts,
        filler_size=filler_size, exclude=targets, rng=generator,
    )
    detector.fit(injected, labels)
    folds = min(int(cv_folds), int(labels.sum()), int((~labels).sum()))
    if folds < 2 or not hasattr(detector, "cross_validated_scores"):
        return None
    scores = detector.cross_validated_scores(injected, labels, folds=folds, rng=generator)
    return roc_auc(scores, labels)


def _fresh_ids(train: Interactions, start: int, n: int) -> list:
    """``n`` user ids not in ``train`` (see :func:`training_injection`)."""
    ids = train.users.ids
    if ids.dtype.kind in "if":
        low = min(int(np.floor(ids.min())), 0) if ids.size else 0
        return [low - 1 - start - i for i in range(n)]
    if ids.dtype.kind == "u":
        return [int(ids.max()) + 1 + start + i for i in range(n)]
    return [f"injected-{start + i}" for i in range(n)]


def _rows(outcome, model_name, seed, size, budget, cv_auc) -> list[dict]:
    summary = outcome.summary
    base = {key: summary.get(key) for key in STUDY_COLUMNS if key in summary}
    base.update({"model": model_name, "seed": seed, "size": size, "budget": budget,
                 "skipped_detectors": ",".join(summary["skipped_detectors"])})
    details = outcome.rows or [{}]
    out = []
    for detail in details:
        row = dict.fromkeys(STUDY_COLUMNS)
        row.update(base)
        row.update({key: detail[key] for key in detail if key in row})
        row["cv_auc"] = cv_auc.get(detail.get("detector"))
        out.append(row)
    return out


def _check_subset(values, allowed, name: str) -> None:
    if isinstance(values, str):
        raise InvalidParameterError(f"{name} must be a sequence of names (e.g. ({values!r},)); got a string")
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidParameterError(f"{name}: {unknown_name('value', bad[0], allowed)}")
