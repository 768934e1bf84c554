"""Run folders for the report tests: a tiny campaign sweep written as a results store (manifest.json +
rows-*.parquet) or as a ``recollective campaign sweep`` output folder (summary.json + rows.csv)."""

import functools
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from recollective.campaigns import ROW_METRICS, Campaign, sweep_campaigns
from recollective.models import make_model
from recollective.report._figures import write_csv
from taste_groups import reading_split

MALICIOUS = "<script>alert(1)</script>"
N_BINS = 5  # as many as the campaign rows carry (quintiles), all overwritten with planted values


@functools.cache
def sweep_rows() -> tuple[dict, ...]:
    """120 readers in two taste groups over 40 books; book 39 is the rare target. Two models (one with a malicious
    name), sizes 3 and 20, seeds 0 and 1: 8 rows, plus synthetic externality columns."""
    train, test = reading_split()
    target = (int(train.items.numbers(np.array([39]))[0]),)
    rows = sweep_campaigns({"knn": make_model("itemknn"), MALICIOUS: make_model("popularity")}, train, test,
                           Campaign(targets=target, participants="closest"), sizes=[3, 20], seeds=[0, 1],
                           noise_floor=False)
    for index, row in enumerate(rows):
        for b in range(1, N_BINS + 1):
            row[f"externality_bin{b}_share_before"] = 0.1 * b
            row[f"externality_bin{b}_share_after"] = 0.1 * b - 0.01 * (index % 3)
    return tuple(rows)


#: The models of :func:`many_lines_rows`, in the order the run names them.
MANY_MODELS = ("knn", "popularity", "svd", "ease")


@functools.cache
def many_lines_rows() -> tuple[dict, ...]:
    """Four models x two participant policies (eight lines, more than the six the report once cut figures to),
    sizes 3 and 20, seeds 0 and 1: 32 rows."""
    train, test = reading_split()
    target = (int(train.items.numbers(np.array([39]))[0]),)
    models = {"knn": make_model("itemknn"), "popularity": make_model("popularity"),
              "svd": make_model("puresvd", n_factors=4), "ease": make_model("ease")}
    assert tuple(models) == MANY_MODELS
    return tuple(sweep_campaigns(models, train, test, Campaign(targets=target, participants="closest"), sizes=[3, 20],
                                 seeds=[0, 1], participants=["closest", "random"], noise_floor=False))


def write_store(folder, rows=None, name=f"tiny {MALICIOUS}"):
    """A results store: manifest.json with malicious strings in its name and config, rows in two Parquet files."""
    rows = [dict(row) for row in (sweep_rows() if rows is None else rows)]
    folder.mkdir(parents=True, exist_ok=True)
    half = len(rows) // 2
    pq.write_table(pa.Table.from_pylist(rows[:half]), folder / "rows-00000.parquet")
    pq.write_table(pa.Table.from_pylist(rows[half:]), folder / "rows-00001.parquet")
    manifest = {"name": name, "created": "2025-01-01T00:00:00+00:00", "cells": len(rows),
                "versions": {"recollective": "0.1.0", "numpy": "2.4"},
                "config": {"data": {"title": MALICIOUS, "path": f"/data/{MALICIOUS}.csv"}, "seeds": [0, 1]}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def write_sweep_folder(folder):
    """The output format of ``recollective campaign sweep``: summary.json (with a malicious target title) and
    rows.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    metrics = [m for m in ROW_METRICS if not m.startswith("externality")]  # a sweep folder without those columns
    header = ["model", "seed", "participants", "position", "size", *metrics]
    write_csv(folder / "rows.csv", header, [[row[key] for key in header] for row in sweep_rows()])
    document = {"name": "sweep", "config": {"name": "sweep", "k": 10},
                "data": {"n_users": 120, "n_items": 40, "n_interactions": 1000},
                "targets": {"item_ids": [39], "titles": [MALICIOUS], "authors": ["A & B"], "audience_size": 6},
                "summary": [], "figures": [], "seconds": 1.0}
    (folder / "summary.json").write_text(json.dumps(document))
    return folder


def write_game_files(folder):
    """Game-window and online-welfare tables (the CSV formats of plot_window and plot_online) and one PNG."""
    from matplotlib.figure import Figure

    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "window.csv", ["lo", "hi", "k_star", "social_welfare", "welfare_change", "n_better",
                                      "n_worse", "is_effective", "is_pareto_effective"],
              [[0.0, 3.16, 2, 105.4, 0.0, 0, 0, False, False], [3.16, 3.93, 3, 110.4, 5.0, 15, 0, True, True]])
    write_csv(folder / "online.csv", ["round", "exploring", "welfare_mean_truthful", "welfare_ci95_low_truthful",
                                      "welfare_ci95_high_truthful"],
              [[0, True, 1.0, 0.5, 1.5], [1, False, 2.0, 1.5, 2.5]])
    figure = Figure(figsize=(3, 2))
    figure.subplots().plot([0, 1], [1, 2])
    figure.savefig(folder / "online.png", dpi=50)
    return folder
