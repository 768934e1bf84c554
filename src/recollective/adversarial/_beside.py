"""A benign collective and a shilling attack at once: does filtering the attacker also hurt the collective?

The benign :class:`~recollective.campaigns.Campaign` acts on the training data, the :class:`Attack` is injected
into the result (the attacker sees the platform after the collective acted), and a copy of the fitted baseline is
refitted on both. Each detector then scores the joint data, the platform drops every interaction of the top
``flag_share`` of users and refits. Randomness: the campaign draws from ``default_rng(seed)`` and the attack from
``SeedSequence(seed, spawn_key=(1,))`` (:func:`recollective.campaigns._composed.collective_generators`), in the
solo runs and the joint run alike.

Measured over the original test users (fake accounts have no held-out rows):

* ``benign_exposure`` — the campaign's metric: the share of its audience (test users with a held-out target of
  the campaign) with one of its targets in their top ``k``;
* ``attack_reach`` — the attack's metric: the share of the test users outside the attack's audience (the victims,
  as ``harm`` in :func:`evaluate_coordination`) with one of the attack's targets in their top ``k``;
* ``ndcg`` — NDCG@k on every test user's held-out items;

each ``_before`` (baseline), ``_benign_alone``, ``_attack_alone``, ``_joint`` and, per detector and flag share,
``_filtered``.
"""

from __future__ import annotations

import copy

import numpy as np

from recollective.adversarial._attacks import Attack, apply_attack
from recollective.adversarial._evaluate import DEFAULT_FLAG_SHARES, _check_flag_share, flag_users, resolve_detectors
from recollective.campaigns._apply import apply_campaign
from recollective.campaigns._composed import collective_generators
from recollective.campaigns._evaluate import target_audience, test_users
from recollective.campaigns._spec import Campaign
from recollective.data import Delta, Interactions
from recollective.data._csr import lookup
from recollective.errors import DataError, InvalidParameterError
from recollective.metrics import ranking_metrics_per_user
from recollective.metrics._aggregate import nan_mean
from recollective.models import Recommender

__all__ = ["evaluate_beside_attack"]


def evaluate_beside_attack(
    baseline: Recommender,
    train: Interactions,
    test: Interactions,
    campaign: Campaign,
    attack: Attack,
    *,
    detectors=("pca",),
    flag_shares=DEFAULT_FLAG_SHARES[1:2],
    k: int = 10,
    rng: int = 0,
    audience=None,
    attack_audience=None,
    embedding: np.ndarray | None = None,
) -> dict:
    """The campaign alone, the attack alone, both, and both after each detector's filter.

    Parameters
    ----------
    baseline : Recommender
        Fitted on ``train``; never modified.
    train, test : Interactions
    campaign : Campaign
        The benign collective.
    attack : Attack
        The shilling attack (any kind, push or nuke, fake or real accounts).
    detectors : sequence of str or Detector, or mapping name -> Detector
        As in :func:`~recollective.adversarial.evaluate_coordination` (supervised ones passed fitted).
    flag_shares : sequence of float in (0, 1)
        Shares of the (joint) users flagged.
    k : int
    rng : int
        The seed both parties' generators derive from.
    audience, attack_audience : array-like of int, optional
        Who would like the campaign's / the attack's targets; default :func:`target_audience` of ``test``.
    embedding : ndarray, optional
        User embedding for ``participants="closest"``.

    Returns
    -------
    dict
        ``summary``: ``benign_exposure_*``, ``attack_reach_*`` and ``ndcg_*`` for ``before``, ``benign_alone``,
        ``attack_alone`` and ``joint``; ``benign_effect_alone`` / ``benign_effect_joint`` (exposure gain over
        before), ``attack_effect_alone`` / ``attack_effect_joint``; ``n_benign`` (acting participants),
        ``n_attackers``, ``benign_actions``, ``attack_actions``, ``audience_size``, ``n_victims``. ``rows``: per
        (detector, flag share) ``flagged``, ``benign_flagged_share``, ``attackers_flagged_share``, ``precision``
        (share of the flagged that are attackers), ``n_removed`` (interactions dropped), ``benign_exposure_filtered``,
        ``attack_reach_filtered``, ``ndcg_filtered``, ``benign_effect_filtered`` and ``attack_effect_filtered``
        (over before), ``benign_effect_lost`` and ``attack_effect_removed`` (joint minus filtered).
    """
    if not isinstance(campaign, Campaign) or not isinstance(attack, Attack):
        raise InvalidParameterError("evaluate_beside_attack needs a Campaign and an Attack")
    if not baseline.is_fitted():
        raise DataError("evaluate_beside_attack needs a fitted baseline model (fit it on the training interactions)")
    if test.matrix.shape != train.matrix.shape:
        raise DataError(
            f"train and test must share their vocabularies: shapes {train.matrix.shape} and {test.matrix.shape}"
        )
    shares = [_check_flag_share(share) for share in flag_shares]
    named = resolve_detectors(detectors)
    benign_targets = np.asarray(campaign.targets, dtype=np.int64)
    attack_targets = np.asarray(attack.targets, dtype=np.int64)
    audience = target_audience(test, benign_targets) if audience is None else audience
    audience = np.unique(np.asarray(audience, dtype=np.int64))
    attack_audience = target_audience(test, attack_targets) if attack_audience is None else attack_audience
    attack_audience = np.unique(np.asarray(attack_audience, dtype=np.int64))

    users = test_users(test)
    evaluated = np.union1d(users, audience)
    victims = users[~np.isin(users, attack_audience)]
    audience_rows, victim_rows = np.searchsorted(evaluated, audience), np.searchsorted(evaluated, victims)
    test_rows = np.searchsorted(evaluated, users)
    truth = test.matrix[users]

    def measure(model) -> dict:
        lists = model.recommend(evaluated, k)[0]
        return {
            "benign_exposure": _reached(lists[audience_rows], benign_targets),
            "attack_reach": _reached(lists[victim_rows], attack_targets),
            "ndcg": nan_mean(ranking_metrics_per_user(lists[test_rows], truth, k)["ndcg"]),
        }

    def refit(interactions, delta):
        return copy.deepcopy(baseline).refit(interactions, delta)

    generators = collective_generators(rng, 2)
    benign = apply_campaign(campaign, train, audience, generators[0], embedding=embedding)
    attack_alone = apply_attack(attack, train, collective_generators(rng, 2)[1], audience=attack_audience)
    joint_benign = apply_campaign(campaign, train, audience, collective_generators(rng, 2)[0], embedding=embedding)
    joint_attack = apply_attack(attack, joint_benign.interactions, generators[1], audience=attack_audience)
    joint = joint_attack.interactions
    joint_delta = _union_delta(joint, joint_benign.delta, joint_attack.delta)
    joint_model = refit(joint, joint_delta)

    states = {"before": measure(baseline), "benign_alone": measure(refit(benign.interactions, benign.delta)),
              "attack_alone": measure(refit(attack_alone.interactions, attack_alone.delta)),
              "joint": measure(joint_model)}
    summary = {
        "k": int(k), "audience_size": int(audience.size), "n_victims": int(victims.size),
        "n_benign": int(joint_benign.acting.size), "n_attackers": int(joint_attack.attackers.size),
        "benign_actions": joint_benign.n_actions, "attack_actions": joint_attack.n_actions,
    }
    for state, numbers in states.items():
        for measure_name, value in numbers.items():
            summary[f"{measure_name}_{state}"] = value
    before = states["before"]
    for state in ("alone", "joint"):
        benign_state = "benign_alone" if state == "alone" else "joint"
        attack_state = "attack_alone" if state == "alone" else "joint"
        summary[f"benign_effect_{state}"] = states[benign_state]["benign_exposure"] - before["benign_exposure"]
        summary[f"attack_effect_{state}"] = states[attack_state]["attack_reach"] - before["attack_reach"]

    benign_users, attackers = joint_benign.acting, joint_attack.attackers
    rows, cache = [], {}
    for name, detector in named:
        scores = detector.score(joint)
        for share in shares:
            flagged = flag_users(scores, share)
            key = flagged.tobytes()
            if key not in cache:
                cleaned, removal = _without_users(joint, flagged)
                cache[key] = (measure(copy.deepcopy(joint_model).refit(cleaned, removal)), removal.removed_users.size)
            filtered, n_removed = cache[key]
            rows.append({
                "detector": name, "flag_share": share, "flagged": int(flagged.size),
                "benign_flagged_share": _share(np.isin(benign_users, flagged).sum(), benign_users.size),
                "attackers_flagged_share": _share(np.isin(attackers, flagged).sum(), attackers.size),
                "precision": _share(np.isin(flagged, attackers).sum(), flagged.size),
                "n_removed": int(n_removed),
                "benign_exposure_filtered": filtered["benign_exposure"],
                "attack_reach_filtered": filtered["attack_reach"],
                "ndcg_filtered": filtered["ndcg"],
                "benign_effect_filtered": filtered["benign_exposure"] - before["benign_exposure"],
                "attack_effect_filtered": filtered["attack_reach"] - before["attack_reach"],
                "benign_effect_lost": summary["benign_exposure_joint"] - filtered["benign_exposure"],
                "attack_effect_removed": summary["attack_reach_joint"] - filtered["attack_reach"],
            })
    return {"summary": summary, "rows": rows}


def _union_delta(final: Interactions, first: Delta, second: Delta) -> Delta:
    """The delta from the data before ``first`` to ``final`` (after ``first`` then ``second``; no new items)."""
    n_items = final.n_items
    keys = np.unique(np.concatenate([first.added_users * n_items + first.added_items,
                                     second.added_users * n_items + second.added_items]))
    users, items = keys // n_items, keys % n_items
    removed = first.removed_users * n_items + first.removed_items
    removed = removed[np.isnan(lookup(final.matrix, removed // n_items, removed % n_items))]  # not re-added
    return Delta(users, items, lookup(final.matrix, users, items), removed // n_items, removed % n_items,
                 n_new_users=first.n_new_users + second.n_new_users)


def _without_users(interactions: Interactions, flagged: np.ndarray):
    matrix = interactions.matrix
    starts, stops = matrix.indptr[flagged], matrix.indptr[flagged + 1]
    rows = np.repeat(flagged, stops - starts)
    cols = np.concatenate([matrix.indices[a:b] for a, b in zip(starts, stops, strict=True)]) if flagged.size else []
    return interactions.without(rows, np.asarray(cols, dtype=np.int64))


def _reached(lists: np.ndarray, targets: np.ndarray) -> float:
    return float(np.isin(lists, targets).any(axis=1).mean()) if lists.shape[0] else float("nan")


def _share(part, whole) -> float | None:
    return float(part) / float(whole) if whole else None
