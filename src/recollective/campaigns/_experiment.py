"""Run a campaign-sweep config end to end: load, split, targets, sweep, tables, plots.

Writes into ``out_dir``: ``rows.csv`` (one row per model x policy x position x size x seed), ``summary.csv`` and
``summary.json`` (means and 95% t-intervals over seeds), ``exposure.{png,svg,csv}`` (target exposure against
collective size) and ``pareto_<model>.{png,svg,csv}`` (per-user utility before vs after, largest size, first seed).

While it runs, each finished cell is appended to ``rows.partial.csv`` (beside ``rows.partial.json``, the
configuration); a run stopped part-way keeps those cells, and running the same configuration into the same folder
again evaluates only the cells that are missing. The two files are removed once ``rows.csv`` holds every cell.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from recollective.campaigns._config import SweepConfig, load_config_data, split_and_select_targets
from recollective.campaigns._evaluate import evaluate_campaign
from recollective.campaigns._participants import user_embedding
from recollective.campaigns._spec import Campaign
from recollective.campaigns._sweep import ROW_METRICS, read_rows_csv, summarize_rows, sweep_campaigns
from recollective.errors import DataError

__all__ = ["PARTIAL_CONFIG", "PARTIAL_ROWS", "run_sweep_config"]

logger = logging.getLogger(__name__)

PARTIAL_ROWS = "rows.partial.csv"
"""Cells of a sweep still running (or interrupted), one line each, appended and flushed as each cell finishes."""
PARTIAL_CONFIG = "rows.partial.json"
"""The configuration those cells belong to: a rerun resumes only the same configuration."""


def _key(row: dict) -> tuple:
    return (row["model"], int(row["seed"]), row["participants"], row["position"], row["size"])


def _read_partial(out: Path, fingerprint: dict, header: list[str]) -> dict[tuple, dict]:
    """Finished cells of an interrupted run of the same configuration in ``out`` (none when there is no run).

    A last line cut short by the interruption is dropped (its cell runs again); a partial run of another
    configuration is an error rather than being overwritten.
    """
    rows_path, config_path = out / PARTIAL_ROWS, out / PARTIAL_CONFIG
    if not rows_path.is_file():
        return {}
    try:
        recorded = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    if recorded != fingerprint:
        raise DataError(f"{rows_path}: the unfinished cells of a sweep with another configuration (or none recorded "
                        f"in {config_path.name}); give another --out, or delete {rows_path.name} and "
                        f"{config_path.name} to start over")
    found, rows = read_rows_csv(rows_path, cut_last_line=True)  # the line being written when the run stopped
    if found != header:
        raise DataError(f"{rows_path}: its header is not this version's row header; delete it to start over")
    finished = {_key(row): row for row in rows}
    return finished


class _PartialRows:
    """Appends each finished cell to ``rows.partial.csv`` (flushed and synced), after writing the configuration;
    a new run (``resume=False``) starts both files afresh."""

    def __init__(self, out: Path, fingerprint: dict, header: list[str], resume: bool):
        from recollective._files import atomic_write_bytes

        self.path, self.header = out / PARTIAL_ROWS, header
        if not resume:
            atomic_write_bytes(out / PARTIAL_CONFIG, lambda h: h.write(json.dumps(fingerprint).encode("utf-8")))
            self.path.write_text(",".join(header) + "\n", encoding="utf-8")
        self.handle = None

    def __enter__(self):
        self.handle = self.path.open("a", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        return self

    def append(self, row: dict) -> None:
        from recollective.report._figures import csv_cell

        self.writer.writerow([csv_cell(row[key]) for key in self.header])
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def __exit__(self, *exc) -> None:
        self.handle.close()


def run_sweep_config(config: SweepConfig, out_dir, progress: Callable[[int, int, dict], None] | None = None) -> dict:
    """Run ``config`` and write its tables and figures under ``out_dir``; returns the JSON summary document."""
    from recollective.models import make_model
    from recollective.report._figures import write_csv
    from recollective.report.campaign_plots import plot_exposure_by_size, plot_pareto_scatter

    started = time.perf_counter()
    data = load_config_data(config.data)
    train, test, targets = split_and_select_targets(data, config.split, config.targets)
    spec = config.targets
    models = {name: make_model(name, **params) for name, params in config.models.items()}
    for model in models.values():
        model.checked_params()
    template = Campaign(targets=tuple(int(t) for t in targets.item_idx), participants=config.campaign.participants[0],
                        rating=config.campaign.rating, budget=config.campaign.budget,
                        participation=config.campaign.participation)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    header = ["model", "seed", "participants", "position", "size", *ROW_METRICS]
    fingerprint = json.loads(config.model_dump_json())
    finished = _read_partial(out, fingerprint, header)
    if finished:
        logger.info("resuming %s: %d cell(s) already finished", out, len(finished))
    with _PartialRows(out, fingerprint, header, resume=bool(finished)) as partial:

        def cell_done(done, total, row):
            if _key(row) not in finished:
                partial.append(row)
            if progress is not None:
                progress(done, total, row)

        rows = sweep_campaigns(
            models, train, test, template, sizes=config.campaign.sizes, seeds=config.seeds,
            participants=config.campaign.participants, positions=config.campaign.positions, k=config.k,
            relevance_threshold=spec.relevance_threshold, progress=cell_done, finished=finished,
        )
    summary = summarize_rows(rows)
    write_csv(out / "rows.csv", header, [[row[key] for key in header] for row in rows])
    for name in (PARTIAL_ROWS, PARTIAL_CONFIG):  # every cell is in rows.csv now
        (out / name).unlink(missing_ok=True)
    summary_header = list(summary[0])
    write_csv(out / "summary.csv", summary_header, [[row[key] for key in summary_header] for row in summary])
    figures = [str(p) for p in plot_exposure_by_size(summary, out / "exposure")]
    embedding = user_embedding(train, rng=0) if "closest" in config.campaign.participants else None
    largest = max(config.campaign.sizes, key=lambda s: s if isinstance(s, int) else s * train.n_users)
    for name, model in models.items():
        baseline = model.clone()
        if "rng" in baseline.get_params():
            baseline.set_params(rng=config.seeds[0])
        baseline.fit(train)
        cell = Campaign(targets=template.targets, participants=config.campaign.participants[0],
                        position=config.campaign.positions[0], size=largest, rating=template.rating,
                        budget=template.budget, participation=template.participation)
        outcome = evaluate_campaign(baseline, train, test, cell, k=config.k, rng=config.seeds[0],
                                    audience=targets.audience.user_idx, embedding=embedding)
        figures += [str(p) for p in plot_pareto_scatter(
            outcome.utility_before, outcome.utility_after, out / f"pareto_{name}",
            participants=np.isin(outcome.users, outcome.application.acting),
            audience=np.isin(outcome.users, outcome.audience),
            title=f"{name}: per-user utility, {outcome.summary['n_participants']} participants "
                  f"({cell.participants})",
        )]
    titles = (train.item_metadata or {}).get("title")
    document = {
        "name": config.name,
        "config": json.loads(config.model_dump_json()),
        "data": {"n_users": data.n_users, "n_items": data.n_items, "n_interactions": data.n_interactions},
        "targets": {
            "item_ids": targets.item_ids.tolist(),
            "titles": [str(titles[i]) for i in targets.item_idx] if titles is not None else None,
            "authors": list(targets.authors),
            "audience_size": targets.audience.n_users,
        },
        "summary": summary,
        "figures": figures,
        "seconds": time.perf_counter() - started,
    }
    from recollective._jsonable import to_jsonable

    (out / "summary.json").write_text(json.dumps(to_jsonable(document), indent=1, allow_nan=False) + "\n")
    return document
