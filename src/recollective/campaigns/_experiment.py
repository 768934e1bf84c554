"""Run a campaign-sweep config end to end: load, split, targets, sweep, tables, plots.

Writes into ``out_dir``: ``rows.csv`` (one row per model x policy x position x size x seed), ``summary.csv`` and
``summary.json`` (means and 95% t-intervals over seeds), ``exposure.{png,svg,csv}`` (target exposure against
collective size) and ``pareto_<model>.{png,svg,csv}`` (per-user utility before vs after, largest size, first seed).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from recollective.campaigns._config import SweepConfig, load_config_data, split_and_select_targets
from recollective.campaigns._evaluate import evaluate_campaign
from recollective.campaigns._participants import user_embedding
from recollective.campaigns._spec import Campaign
from recollective.campaigns._sweep import ROW_METRICS, summarize_rows, sweep_campaigns

__all__ = ["run_sweep_config"]

logger = logging.getLogger(__name__)


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
    rows = sweep_campaigns(
        models, train, test, template, sizes=config.campaign.sizes, seeds=config.seeds,
        participants=config.campaign.participants, positions=config.campaign.positions, k=config.k,
        relevance_threshold=spec.relevance_threshold, progress=progress,
    )
    summary = summarize_rows(rows)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    header = ["model", "seed", "participants", "position", "size", *ROW_METRICS]
    write_csv(out / "rows.csv", header, [[row[key] for key in header] for row in rows])
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
