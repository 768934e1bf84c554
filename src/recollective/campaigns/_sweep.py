"""Sweeps of campaigns over collective sizes, policies and seeds, with one baseline fit per (model, seed).

Each row is one (model, participants, position, size, seed) cell; :func:`summarize_rows` turns the rows into
means with 95% t-intervals over seeds.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy import stats

from recollective.campaigns._evaluate import estimate_noise_floor, evaluate_campaign, target_audience
from recollective.campaigns._participants import eligible_users, user_embedding
from recollective.campaigns._spec import Campaign
from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError
from recollective.models import Recommender

__all__ = ["ROW_METRICS", "read_rows_csv", "summarize_rows", "sweep_campaigns"]

logger = logging.getLogger(__name__)

TEXT_COLUMNS = ("model", "participants", "position")
"""The columns of sweep rows that hold text; every other column holds a number."""

ROW_METRICS = (
    "target_exposure_before",
    "target_exposure_after",
    "discounted_exposure_before",
    "discounted_exposure_after",
    "amplification_before",
    "amplification_after",
    "ndcg_before",
    "ndcg_after",
    "ndcg_participants_before",
    "ndcg_participants_after",
    "ndcg_audience_before",
    "ndcg_audience_after",
    "better_share",
    "worse_share",
    "participants_better_share",
    "participants_worse_share",
    "arp_before",
    "arp_after",
    "coverage_before",
    "coverage_after",
    "n_participants",
    "n_actions",
    "audience_size",
    "noise_floor",
    "ndcg_majority_before",
    "ndcg_majority_after",
    *(f"externality_bin{b}_share_{label}" for b in range(1, 6) for label in ("before", "after")),
)


def sweep_campaigns(
    models: dict[str, Recommender],
    train: Interactions,
    test: Interactions,
    campaign: Campaign,
    *,
    sizes: Sequence[float | int],
    seeds: Sequence[int],
    participants: Sequence[str] | None = None,
    positions: Sequence[str] | None = None,
    k: int = 10,
    relevance_threshold: float | None = None,
    noise_floor: bool = True,
    skip_ineligible: bool = False,
    world=None,
    progress: Callable[[int, int, dict], None] | None = None,
    finished: Mapping[tuple, dict] | None = None,
) -> list[dict]:
    """Evaluate ``campaign`` varied over sizes x participant policies x positions, for each model and seed.

    Parameters
    ----------
    models : dict name -> unfitted Recommender
        Each is cloned and fitted once per seed (with ``rng=seed`` when it has one) as the baseline.
    campaign : Campaign
        The template (targets, rating, budget, participation, ...); ``size``, ``participants`` and ``position``
        are replaced by each cell's.
    sizes, seeds : sequences
    participants, positions : sequences of str, optional
        Default: the template's own.
    world : World, optional
        Known true preferences: utilities (and the noise floor) on R*, see :func:`evaluate_campaign`.
    skip_ineligible : bool, default False
        Leave out cells whose policy has fewer eligible users than the size asks for (the planner's choice);
        by default such a cell is an error naming ``campaign.size``.
    progress : callable(done, total, row), optional
        Called after each cell (also a finished one taken from ``finished``).
    finished : mapping of (model, seed, participants, position, size) to row, optional
        Rows of an earlier, interrupted run of the same sweep: taken as they are, in grid order, without
        evaluating their cells again; a (model, seed) whose cells are all finished is not even fitted.

    Returns
    -------
    list of dict
        One row per cell: ``model``, ``seed``, ``participants``, ``position``, ``size`` and :data:`ROW_METRICS`.
    """
    if not sizes or not seeds:
        raise InvalidParameterError("a sweep needs at least one size and one seed")
    participants = list(participants or [campaign.participants])
    positions = list(positions or [campaign.position])
    audience = target_audience(test, campaign.targets, relevance_threshold)
    embedding = user_embedding(train, rng=0) if "closest" in participants else None
    total = len(models) * len(seeds) * len(participants) * len(positions) * len(sizes)
    rows, done = [], 0
    finished = finished or {}

    def take(key):
        nonlocal done
        rows.append(finished[key])
        done += 1
        if progress is not None:
            progress(done, total, finished[key])

    for name, template in models.items():
        for seed in seeds:
            keys = [(name, int(seed), policy, position, size) for policy in participants for position in positions
                    for size in sizes]
            if keys and all(key in finished for key in keys):
                for key in keys:
                    take(key)
                continue
            model = template.clone()
            if "rng" in model.get_params():
                model.set_params(rng=int(seed))
            baseline = model.fit(train)
            floor = (
                estimate_noise_floor(template, train, test, k, seeds=(seed, seed + 1_000_003), fitted=baseline,
                                     relevance_threshold=relevance_threshold, world=world)
                if noise_floor
                else 0.0
            )
            for policy in participants:
                for position in positions:
                    for size in sizes:
                        key = (name, int(seed), policy, position, size)
                        if key in finished:
                            take(key)
                            continue
                        cell = dataclasses.replace(campaign, participants=policy, position=position, size=size)
                        if skip_ineligible and cell.n_selected(train.n_users) > eligible_users(
                            cell, train, audience
                        ).size:
                            done += 1
                            continue
                        outcome = evaluate_campaign(
                            baseline, train, test, cell, k=k, rng=int(seed), audience=audience,
                            relevance_threshold=relevance_threshold, noise_floor=floor, embedding=embedding,
                            world=world,
                        )
                        row = {"model": name, "seed": int(seed), "participants": policy, "position": position,
                               "size": size}
                        row.update({key: outcome.summary[key] for key in ROW_METRICS})
                        rows.append(row)
                        done += 1
                        if progress is not None:
                            progress(done, total, row)
    return rows


def summarize_rows(rows: list[dict], metrics: Sequence[str] = ROW_METRICS, confidence: float = 0.95) -> list[dict]:
    """Means over seeds with ``confidence`` t-intervals, one row per (model, participants, position, size).

    Each metric ``m`` gives ``m`` (mean), ``m_low`` and ``m_high`` (the interval; equal to the mean for one seed).
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["model"], row["participants"], row["position"], row["size"])
        groups.setdefault(key, []).append(row)
    out = []
    for (model, policy, position, size), members in groups.items():
        summary = {"model": model, "participants": policy, "position": position, "size": size,
                   "n_seeds": len(members)}
        for metric in metrics:
            values = np.array([m[metric] for m in members], dtype=np.float64)
            values = values[np.isfinite(values)]
            mean, low, high = _interval(values, confidence)
            summary[metric], summary[f"{metric}_low"], summary[f"{metric}_high"] = mean, low, high
        out.append(summary)
    return out


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    if values.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if values.size == 1:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))
    return mean, mean - half, mean + half


def read_rows_csv(path, cut_last_line: bool = False) -> tuple[list[str], list[dict]]:
    """(header, rows) of a sweep's rows CSV: :data:`TEXT_COLUMNS` as text, every other cell as an int, a float or
    NaN (empty). ``cut_last_line``: a last line with too few or too many fields is dropped (a run stopped while
    writing it) instead of being an error. :class:`DataError` names the file and the line."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    header, rows = (lines[0] if lines else []), []
    for number, values in enumerate(lines[1:], start=2):
        if len(values) != len(header):
            if cut_last_line and number == len(lines):
                break
            raise DataError(f"{path}: line {number} has {len(values)} fields; the header has {len(header)}")
        try:
            rows.append({key: (value if key in TEXT_COLUMNS else _number(value))
                         for key, value in zip(header, values, strict=True)})
        except ValueError:
            raise DataError(f"{path}: line {number} holds a value that is not a number") from None
    return header, rows


def _number(text: str) -> int | float:
    if text == "":
        return math.nan
    try:
        return int(text)
    except ValueError:
        return float(text)
