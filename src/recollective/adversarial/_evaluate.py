"""Benign versus malicious coordination: what an action does to the recommender, and what filtering it costs.

One action — a benign :class:`~recollective.campaigns.Campaign` (real users add the targets) or a shilling
:class:`~recollective.adversarial._attacks.Attack` — is applied to the training data and a copy of the fitted
baseline is refitted through ``refit``. Over the *original* users (fake accounts have no held-out rows and are
never evaluated):

* **benefit** — target exposure in the audience (share of the users who would like a target, i.e. with a held-out
  target, whose top ``k`` holds a target);
* **harm** — target exposure among the *victims*: the test users outside the audience, who would not like the
  targets (the same users for every action; a coordinated real account among them can no longer be recommended a
  target it rated itself);
* **accuracy** — NDCG@k and HR@k on the held-out items of every test user (and of the audience / the test users
  outside it).

Each detector scores the post-action interactions; :func:`detection_metrics` compares its top ``flag_share`` of
users with the coordinated accounts (attackers, or the acting participants of a campaign). The **filtering
policy** drops every interaction of the flagged users, refits the post-action model, and measures benefit, harm
and NDCG again: the welfare a platform loses by filtering a benign collective is ``benefit_after -
benefit_filtered`` (and ``ndcg_after - ndcg_filtered``); the harm it avoids by filtering an attack is
``harm_after - harm_filtered``.

Undefined numbers (an empty group, one class only) are ``None``, so summaries and rows are JSON-ready.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata

from recollective._random import as_generator
from recollective.adversarial._attacks import Attack, apply_attack
from recollective.adversarial._detectors import Detector, detector_class, make_detector
from recollective.campaigns._apply import apply_campaign
from recollective.campaigns._evaluate import target_audience, test_users
from recollective.campaigns._spec import Campaign
from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError
from recollective.metrics import ranking_metrics_per_user
from recollective.metrics._aggregate import nan_mean
from recollective.models import Recommender

__all__ = ["DEFAULT_FLAG_SHARES", "CoordinationOutcome", "detection_metrics", "evaluate_coordination", "flag_users"]

logger = logging.getLogger(__name__)

DEFAULT_FLAG_SHARES = (0.01, 0.02, 0.05, 0.1)
"""Shares of all users a platform flags (the detection thresholds swept)."""

MEASURES = (
    "benefit",
    "harm",
    "ndcg",
    "hit_rate",
    "ndcg_audience",
    "ndcg_outside",
    "hit_rate_audience",
    "hit_rate_outside",
)
"""What :func:`evaluate_coordination` measures on each list set (``<measure>_before/after/filtered``)."""


# ---------------------------------------------------------------------------------------------- detection
def flag_users(scores, flag_share: float) -> np.ndarray:
    """The ``round(flag_share * n_users)`` (half up, at least 1) most suspicious users, ties by lower index.

    Parameters
    ----------
    scores : array-like of float of shape (n_users,)
        Higher = more suspicious.
    flag_share : float in (0, 1)

    Returns
    -------
    ndarray of int64 of shape (n_flagged,)
        Sorted user indices.
    """
    scores = _check_scores(scores)
    share = _check_flag_share(flag_share)
    count = min(scores.size, max(1, math.floor(share * scores.size + 0.5)))
    order = np.lexsort((np.arange(scores.size), -scores))
    return np.sort(order[:count]).astype(np.int64)


def detection_metrics(scores, coordinated, *, flag_share: float, benign=None) -> dict:
    """How well flagging the top ``flag_share`` of users by ``scores`` finds the ``coordinated`` accounts.

    Parameters
    ----------
    scores : array-like of float of shape (n_users,)
        Suspicion per user, higher = more suspicious.
    coordinated : boolean mask of shape (n_users,) or array-like of int
        The coordinated accounts (attackers, or a campaign's acting participants): the positive class.
    flag_share : float in (0, 1)
        Share of users flagged (see :func:`flag_users`).
    benign : boolean mask of shape (n_users,) or array-like of int, optional
        Benign participants (of a campaign), for ``benign_flagged_share``.

    Returns
    -------
    dict
        ``flagged`` (count), ``threshold`` (the lowest flagged score), ``precision`` (share of flagged users that
        are coordinated), ``recall`` (share of coordinated users flagged), ``f1``, ``roc_auc`` (of ``scores`` versus
        ``coordinated`` over all users: the Mann–Whitney statistic with average ranks for ties, equal to
        scikit-learn's ``roc_auc_score``), ``fpr`` (share of the other users flagged), ``benign_flagged_share``
        (share of ``benign`` flagged) and ``ordinary_flagged_share`` (share of the users neither coordinated nor
        benign that are flagged). An undefined value (an empty class) is ``None``.
    """
    scores = _check_scores(scores)
    n_users = scores.size
    positive = _user_mask(coordinated, n_users, "coordinated")
    benign_mask = None if benign is None else _user_mask(benign, n_users, "benign")
    flagged = np.zeros(n_users, dtype=bool)
    flagged[flag_users(scores, flag_share)] = True
    n_flagged, n_positive = int(flagged.sum()), int(positive.sum())
    true_positives = int((flagged & positive).sum())
    ordinary = ~positive if benign_mask is None else ~(positive | benign_mask)
    return {
        "flagged": n_flagged,
        "threshold": float(scores[flagged].min()),
        "precision": true_positives / n_flagged,
        "recall": _share(true_positives, n_positive),
        "f1": _share(2 * true_positives, n_flagged + n_positive) if n_positive else None,
        "roc_auc": roc_auc(scores, positive),
        "fpr": _share(n_flagged - true_positives, n_users - n_positive),
        "benign_flagged_share": None if benign_mask is None else _share(int((flagged & benign_mask).sum()),
                                                                         int(benign_mask.sum())),
        "ordinary_flagged_share": _share(int((flagged & ordinary).sum()), int(ordinary.sum())),
    }


def roc_auc(scores, positive) -> float | None:
    """Area under the ROC curve of ``scores`` for the boolean ``positive`` class; ``None`` when a class is empty.

    ``(sum of the positives' average ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg)``: the probability that a
    random positive scores above a random negative, ties counting one half.
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_positive = int(positive.sum())
    n_negative = positive.size - n_positive
    if n_positive == 0 or n_negative == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative))


# ---------------------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True, eq=False)
class CoordinationOutcome:
    """What one action did, how detectable it was, and what filtering it costs.

    Attributes
    ----------
    summary : dict
        Flat JSON-ready numbers of the action (see :func:`evaluate_coordination`).
    rows : list of dict
        One JSON-ready row per (detector, flag share): detection metrics and the filtering policy's numbers.
    application : CampaignApplication or AttackApplication
    audience : ndarray of int
        Users who would like the targets (sorted).
    coordinated : ndarray of int
        The coordinated accounts in the post-action user vocabulary (sorted): attackers or acting participants.
    scores : dict of str -> ndarray of shape (n_users_after,)
        Each detector's suspicion scores on the post-action interactions (for ROC curves).
    """

    summary: dict
    rows: list
    application: object
    audience: np.ndarray
    coordinated: np.ndarray
    scores: dict = field(default_factory=dict)


def evaluate_coordination(
    baseline: Recommender,
    train: Interactions,
    test: Interactions,
    action,
    *,
    detectors=(),
    k: int = 10,
    rng: np.random.Generator | int | None = 0,
    audience=None,
    flag_shares=DEFAULT_FLAG_SHARES,
    embedding: np.ndarray | None = None,
) -> CoordinationOutcome:
    """Apply ``action`` to ``train``, refit a copy of ``baseline``, detect the coordination and filter it.

    Parameters
    ----------
    baseline : Recommender
        Fitted on ``train``; never modified (refits work on deep copies).
    train, test : Interactions
        The split (same vocabularies).
    action : Campaign or Attack
        A benign campaign (its acting participants are the coordinated accounts) or an attack (its attackers).
    detectors : sequence of (str or Detector), or mapping name -> Detector
        Names are built with ``make_detector`` (unsupervised ones only); supervised detectors must be passed
        fitted. A detector that cannot run on the data (``DataError``, e.g. ``burst`` without an order) is
        skipped and named in ``summary["skipped_detectors"]`` and ``summary["notes"]``.
    k : int >= 1
    rng : Generator, int or None
        Draws the action (participants, attack profiles).
    audience : array-like of int, optional
        Users who would like the targets; default :func:`~recollective.campaigns.target_audience` of ``test``.
    flag_shares : sequence of float in (0, 1)
        Detection thresholds as shares of all (post-action) users flagged.
    embedding : ndarray of shape (n_users, d), optional
        User embedding for ``participants="closest"``.

    Returns
    -------
    CoordinationOutcome
        ``summary``: ``action`` ("benign" or the attack kind), ``accounts``, ``intent``, ``k``, ``audience_size``,
        ``n_test_users``, ``n_victims`` (test users outside the audience), ``n_accounts``
        (coordinated accounts), ``n_fake`` (accounts appended), ``n_actions`` (added interactions),
        ``<measure>_before`` / ``<measure>_after`` for each of :data:`MEASURES`, ``roc_auc_<detector>``,
        ``detectors`` (names that ran), ``skipped_detectors``, ``notes``. ``rows``: ``detector``, ``flag_share``,
        the keys of :func:`detection_metrics`, ``n_removed`` (interactions dropped), ``<measure>_filtered``, and
        ``benefit_lost``, ``harm_avoided``, ``ndcg_lost`` (after minus filtered).

    Raises
    ------
    InvalidParameterError
        An action of another type, a bad flag share, an unknown detector, an unfitted supervised detector by name.
    DataError
        An unfitted baseline, or train and test with different shapes.
    """
    if not isinstance(action, Campaign | Attack):
        raise InvalidParameterError(
            "action must be a recollective.campaigns.Campaign (benign) or a recollective.adversarial Attack; "
            f"got {type(action).__name__}"
        )
    if not baseline.is_fitted():
        raise DataError("evaluate_coordination needs a fitted baseline model (fit it on the training interactions)")
    if test.matrix.shape != train.matrix.shape:
        raise DataError(
            f"train and test must share their vocabularies: shapes {train.matrix.shape} and {test.matrix.shape}"
        )
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidParameterError(f"k must be an integer >= 1; got {k!r}")
    shares = [_check_flag_share(share) for share in flag_shares]
    named = resolve_detectors(detectors)
    generator = as_generator(rng)
    targets = np.asarray(action.targets, dtype=np.int64)
    audience = target_audience(test, targets) if audience is None else audience
    audience = np.unique(np.asarray(audience, dtype=np.int64))

    if isinstance(action, Campaign):
        application = apply_campaign(action, train, audience, generator, embedding=embedding)
        coordinated, benign = application.acting, application.acting
        kind, accounts, intent = "benign", "real", "push"
    else:
        application = apply_attack(action, train, generator, audience=audience)
        coordinated, benign = application.attackers, None
        kind, accounts, intent = action.kind, action.accounts, action.intent
    coordinated = np.unique(np.asarray(coordinated, dtype=np.int64))
    after = application.interactions
    after_model = copy.deepcopy(baseline).refit(after, application.delta)

    users = test_users(test)  # original users only: appended fake accounts have no held-out rows
    evaluated = np.union1d(users, audience)
    groups = _Groups(evaluated, users, audience, test, targets, k)
    before = groups.measure(baseline.recommend(evaluated, k)[0])
    after_numbers = groups.measure(after_model.recommend(evaluated, k)[0])

    summary = {
        "action": kind,
        "accounts": accounts,
        "intent": intent,
        "k": int(k),
        "audience_size": int(audience.size),
        "n_test_users": int(users.size),
        "n_victims": int(groups.victims.sum()),
        "n_accounts": int(coordinated.size),
        "n_fake": int(after.n_users - train.n_users),
        "n_actions": int(application.n_actions),
    }
    for measure in MEASURES:
        summary[f"{measure}_before"] = before[measure]
        summary[f"{measure}_after"] = after_numbers[measure]

    rows, scores, skipped, notes, ran = [], {}, [], [], []
    filtered_cache: dict[bytes, tuple[dict, int]] = {}
    for name, detector in named:
        try:
            user_scores = detector.score(after)
        except DataError as error:
            skipped.append(name)
            notes.append(f"detector {name} skipped: {error}")
            logger.info("detector %s skipped: %s", name, error)
            continue
        ran.append(name)
        scores[name] = user_scores
        summary[f"roc_auc_{name}"] = roc_auc(user_scores, _user_mask(coordinated, after.n_users, "coordinated"))
        for share in shares:
            metrics = detection_metrics(user_scores, coordinated, flag_share=share, benign=benign)
            flagged = flag_users(user_scores, share)
            key = flagged.tobytes()
            if key not in filtered_cache:
                filtered_cache[key] = _filtered_numbers(after_model, after, flagged, evaluated, groups, k)
            filtered, n_removed = filtered_cache[key]
            row = {"detector": name, "flag_share": share, **metrics, "n_removed": n_removed}
            for measure in MEASURES:
                row[f"{measure}_filtered"] = filtered[measure]
            row["benefit_lost"] = _difference(after_numbers["benefit"], filtered["benefit"])
            row["harm_avoided"] = _difference(after_numbers["harm"], filtered["harm"])
            row["ndcg_lost"] = _difference(after_numbers["ndcg"], filtered["ndcg"])
            rows.append(row)
    summary["detectors"] = ran
    summary["skipped_detectors"] = skipped
    summary["notes"] = notes
    return CoordinationOutcome(summary, rows, application, audience, coordinated, scores)


def resolve_detectors(detectors) -> list[tuple[str, object]]:
    """``[(name, detector), ...]`` from names, Detector objects, or a mapping name -> Detector.

    Raises
    ------
    InvalidParameterError
        Unknown name, a supervised detector given by name (it must be fitted first), an object that is not a
        Detector, or a name used twice.
    """
    if detectors is None:
        return []
    if isinstance(detectors, str | Detector):
        detectors = [detectors]
    items = list(detectors.items()) if isinstance(detectors, Mapping) else [(None, d) for d in detectors]
    out, seen = [], set()
    for given_name, detector in items:
        if isinstance(detector, str):
            if detector_class(detector).supervised:
                raise InvalidParameterError(
                    f"detectors: {detector!r} is a supervised detector; fit it first "
                    f"(make_detector({detector!r}).fit(interactions, labels)) and pass the fitted object"
                )
            detector = make_detector(detector)
        if not isinstance(detector, Detector):
            raise InvalidParameterError(
                f"detectors must hold detector names or Detector objects; got {type(detector).__name__}"
            )
        name = str(given_name) if given_name is not None else detector.name
        if name in seen:
            raise InvalidParameterError(f"detectors: the name {name!r} is used twice; give each detector once")
        seen.add(name)
        out.append((name, detector))
    return out


# ---------------------------------------------------------------------------------------------- helpers
class _Groups:
    """Rows of the evaluated users' lists that form the audience, the victims and the test users."""

    def __init__(self, evaluated, users, audience, test, targets, k):
        position = np.searchsorted(evaluated, users)
        self.test_rows = position
        self.audience_rows = np.searchsorted(evaluated, audience)
        in_audience = np.isin(users, audience)
        self.victims = ~in_audience
        self.in_audience = in_audience
        self.truth = test.matrix[users]
        self.targets = targets
        self.k = k

    def measure(self, lists: np.ndarray) -> dict:
        reached = np.isin(lists, self.targets).any(axis=1)
        test_lists = lists[self.test_rows]
        per_user = ranking_metrics_per_user(test_lists, self.truth, self.k)
        ndcg, hits = per_user["ndcg"], per_user["hit_rate"]
        return {
            "benefit": _mean(reached[self.audience_rows]),
            "harm": _mean(reached[self.test_rows][self.victims]),
            "ndcg": _mean(ndcg),
            "hit_rate": _mean(hits),
            "ndcg_audience": _mean(ndcg[self.in_audience]),
            "ndcg_outside": _mean(ndcg[~self.in_audience]),
            "hit_rate_audience": _mean(hits[self.in_audience]),
            "hit_rate_outside": _mean(hits[~self.in_audience]),
        }


def _filtered_numbers(after_model, after, flagged, evaluated, groups, k) -> tuple[dict, int]:
    """The measures after the platform drops every interaction of the ``flagged`` users and refits."""
    matrix = after.matrix
    starts, stops = matrix.indptr[flagged], matrix.indptr[flagged + 1]
    rows = np.repeat(flagged, stops - starts)
    cols = np.concatenate([matrix.indices[a:b] for a, b in zip(starts, stops, strict=True)]) if flagged.size else []
    cleaned, delta = after.without(rows, np.asarray(cols, dtype=np.int64))
    model = copy.deepcopy(after_model).refit(cleaned, delta)
    return groups.measure(model.recommend(evaluated, k)[0]), int(rows.size)


def _check_scores(scores) -> np.ndarray:
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise DataError(f"scores must be a non-empty 1-D array, one per user; got shape {array.shape}")
    if not np.isfinite(array).all():
        raise DataError(f"scores hold {int((~np.isfinite(array)).sum())} NaN or infinite value(s)")
    return array


def _check_flag_share(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidParameterError(f"flag_share must be a number strictly between 0 and 1; got {value!r}")
    if not 0.0 < float(value) < 1.0:
        raise InvalidParameterError(
            f"flag_share must be strictly between 0 and 1 (the share of users flagged); got {value!r}"
        )
    return float(value)


def _user_mask(users, n_users: int, name: str) -> np.ndarray:
    """Users given as a boolean mask of shape (n_users,) or as indices, as a mask (``DataError`` naming ``name``)."""
    array = np.asarray(users)
    if array.dtype == bool:
        if array.shape != (n_users,):
            raise DataError(f"{name} given as a boolean mask must have shape ({n_users},); got {array.shape}")
        return array
    array = array.reshape(-1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"{name} must be user indices (integers) or a boolean mask; got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= n_users):
        bad = array[(array < 0) | (array >= n_users)][0]
        raise DataError(f"{name}: user index {int(bad)} is out of range (there are {n_users} users)")
    mask = np.zeros(n_users, dtype=bool)
    mask[array] = True
    return mask


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values) -> float | None:
    value = nan_mean(np.asarray(values, dtype=np.float64))
    return None if math.isnan(value) else value


def _difference(a, b) -> float | None:
    return None if a is None or b is None else a - b
