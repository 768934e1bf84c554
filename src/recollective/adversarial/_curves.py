"""ROC curves of the coordination detectors, sampled on a fixed false-positive grid so seeds can be averaged.

The study's rows hold detection metrics at a few flag shares only; a ROC plot needs each detector's whole curve,
which :func:`curve_rows` takes from the per-user scores of an
:class:`~recollective.adversarial._evaluate.CoordinationOutcome` (tidy rows: one per point).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CURVE_COLUMNS", "ROC_FPR_GRID", "curve_rows", "roc_points"]

ROC_FPR_GRID = np.unique(np.r_[np.linspace(0.0, 0.1, 51), np.linspace(0.1, 1.0, 91)])
"""False-positive rates at which :func:`roc_points` samples a ROC curve: every 0.002 up to 0.1 (where flag
shares of a few per cent act), then every 0.01."""

CURVE_COLUMNS = ("model", "seed", "size", "action", "accounts", "detector", "fpr", "tpr")
"""Columns of the ROC points (``run_attack_study(..., return_curves=True)``): one row per cell x detector x
point of :data:`ROC_FPR_GRID` (``tpr``: the share of coordinated accounts scored above a threshold whose share of
other users is ``fpr``)."""


def roc_points(scores, positive, fpr_grid=ROC_FPR_GRID) -> np.ndarray | None:
    """The ROC curve of ``scores`` for the ``positive`` class, sampled at ``fpr_grid``.

    The curve's vertices are scikit-learn's ``roc_curve`` (a tie block of scores is one diagonal segment, the
    convention that makes the area equal :func:`~recollective.adversarial._evaluate.roc_auc`); at a false-positive
    rate with several vertices (a vertical step) the highest true-positive rate is taken, and between vertices the
    curve is linear.

    Parameters
    ----------
    scores : array-like of float of shape (n_users,)
        Higher = more suspicious.
    positive : array-like of bool of shape (n_users,)
    fpr_grid : array-like of float in [0, 1], increasing

    Returns
    -------
    ndarray of float of shape (len(fpr_grid),) or None
        True-positive rates; ``None`` when a class is empty.
    """
    from sklearn.metrics import roc_curve

    positive = np.asarray(positive, dtype=bool)
    if positive.all() or not positive.any():
        return None
    fpr, tpr, _ = roc_curve(positive, np.asarray(scores, dtype=np.float64), drop_intermediate=False)
    steps, first = np.unique(fpr, return_index=True)
    top = np.maximum.reduceat(tpr, first)  # fpr is sorted, so each run of equal values is one block
    return np.interp(np.asarray(fpr_grid, dtype=np.float64), steps, top)


def curve_rows(outcome, cell: dict | None = None) -> list[dict]:
    """Each detector's ROC curve of one :class:`~recollective.adversarial._evaluate.CoordinationOutcome`.

    Parameters
    ----------
    outcome : CoordinationOutcome
        Its ``scores`` (post-action) against its ``coordinated`` accounts.
    cell : dict, optional
        Values of the other :data:`CURVE_COLUMNS` (``model``, ``seed``, ``size``); missing ones are None.

    Returns
    -------
    list of dict
        One row per detector x point of :data:`ROC_FPR_GRID`, keys :data:`CURVE_COLUMNS`; a detector whose
        classes are not both present gives no rows.
    """
    summary = outcome.summary
    n_users = outcome.application.interactions.n_users
    positive = np.zeros(n_users, dtype=bool)
    positive[outcome.coordinated] = True
    out = []
    for name, scores in outcome.scores.items():
        tpr = roc_points(scores, positive)
        if tpr is None:
            continue
        base = {**dict.fromkeys(CURVE_COLUMNS), **(cell or {}), "action": summary["action"],
                "accounts": summary["accounts"], "detector": name}
        out.extend({**base, "fpr": float(f), "tpr": float(t)} for f, t in zip(ROC_FPR_GRID, tpr, strict=True))
    return out
