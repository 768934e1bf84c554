"""Benign versus malicious coordination: shilling attacks, detectors, and what a filtering policy throws away.

The benign side is :mod:`recollective.campaigns` (real users add the targets they like). This package adds the
malicious side at the same budget and asks how the two differ in what they do to a recommender and in how
detectable they are:

* **attacks** — :class:`Attack` / :func:`apply_attack`: the classic profile-injection models random, average,
  bandwagon and segment (Lam & Riedl 2004; Mobasher et al. 2007) and brigading (accounts pushing targets to the
  people who do not want them, in one burst), each with fake new profiles or real accounts, push or nuke, sized
  by a share of users, a count or a budget of added interactions;
* **detectors** — :func:`make_detector` by name (:data:`DETECTOR_NAMES`): ``pca`` (PCA-VarSelect, Mehta &
  Nejdl 2009), ``features`` (RDMA, WDMA, WDA, DegSim, length variance with a supervised classifier; Chirita et
  al. 2005, Burke et al. 2006), ``fraudar`` (greedy dense-block peeling, Hooi et al. 2016) and ``burst``
  (co-interaction bursts; needs an order). ``score(interactions)`` gives one number per user, higher = more
  suspicious;
* **evaluation** — :func:`evaluate_coordination` applies one action (a benign ``Campaign`` or an ``Attack``),
  refits, and measures benefit (target exposure in the audience), harm (target exposure among the users who
  would not like the targets), accuracy, each detector's precision / recall / F1 / ROC-AUC and the filtering
  policy's cost; :func:`run_attack_study` runs the benign campaign and every attack at equal budget over sizes
  and seeds (tidy rows, :data:`STUDY_COLUMNS`; ROC points, :data:`CURVE_COLUMNS`);
  :func:`evaluate_beside_attack` puts a benign collective and an attack on the platform at once and asks whether
  filtering the attacker also takes the collective's effect.

The command line is ``recollective attack run | detect | study``; ``docs/adversarial.md`` has the measured results.
"""

from recollective.adversarial._attacks import (
    ACCOUNT_KINDS,
    ATTACK_KINDS,
    INTENTS,
    Attack,
    AttackApplication,
    apply_attack,
    rating_grid,
)
from recollective.adversarial._beside import evaluate_beside_attack
from recollective.adversarial._curves import CURVE_COLUMNS, ROC_FPR_GRID, curve_rows, roc_points
from recollective.adversarial._detect_burst import BurstDetector, burst_flags
from recollective.adversarial._detect_dense import FraudarDetector, densest_block
from recollective.adversarial._detect_features import FEATURE_NAMES, FeatureDetector, profile_features
from recollective.adversarial._detect_pca import PCAVarSelectDetector
from recollective.adversarial._detectors import DETECTOR_NAMES, Detector, make_detector
from recollective.adversarial._evaluate import (
    DEFAULT_FLAG_SHARES,
    CoordinationOutcome,
    detection_metrics,
    evaluate_coordination,
    flag_users,
    roc_auc,
)
from recollective.adversarial._study import (
    STUDY_COLUMNS,
    fit_on_injection,
    run_attack_study,
    training_injection,
)

__all__ = [
    "ACCOUNT_KINDS",
    "ATTACK_KINDS",
    "CURVE_COLUMNS",
    "DEFAULT_FLAG_SHARES",
    "DETECTOR_NAMES",
    "FEATURE_NAMES",
    "INTENTS",
    "ROC_FPR_GRID",
    "STUDY_COLUMNS",
    "Attack",
    "AttackApplication",
    "BurstDetector",
    "CoordinationOutcome",
    "Detector",
    "FeatureDetector",
    "FraudarDetector",
    "PCAVarSelectDetector",
    "apply_attack",
    "burst_flags",
    "curve_rows",
    "densest_block",
    "detection_metrics",
    "evaluate_beside_attack",
    "evaluate_coordination",
    "fit_on_injection",
    "flag_users",
    "make_detector",
    "profile_features",
    "rating_grid",
    "roc_auc",
    "roc_points",
    "run_attack_study",
    "training_injection",
]
