"""Figures of the online game: files written, PNG/SVG valid, CSV numbers equal to the plotted summaries."""

import math

import numpy as np
import pytest

from recollective.errors import InvalidParameterError
from recollective.game import majority_minority
from recollective.game.online import CollectiveInLoop, OnlineConfig, run_online
from recollective.report.online_plots import plot_online
from report.figure_files import check_files, read_csv, same

ROUNDS, EXPLORE = 40, 15


@pytest.fixture(scope="module")
def summaries():
    """Truthful and collective play on a small majority–minority instance, 4 seeds each (same seeds)."""
    instance = majority_minority(rng=0)
    config = OnlineConfig(rounds=ROUNDS, explore_rounds=EXPLORE, noise=0.1)
    collective = CollectiveInLoop(members=[13], targets=[45], uprating=3.6, budget=1)
    common = {"seeds": range(4), "user_group": instance.user_group}
    truthful = run_online(instance.R_true, instance.alpha, config, **common)
    strategic = run_online(instance.R_true, instance.alpha, config, collective=collective, **common)
    return {"truthful": truthful, "collective": strategic}





def test_plot_online_writes_figures_and_the_plotted_numbers(summaries, tmp_path):
    stem = tmp_path / "nested" / "online"
    paths = plot_online(summaries, stem, explore_rounds=EXPLORE)
    check_files(paths, stem)

    rows = read_csv(paths[2])
    assert len(rows) == ROUNDS
    assert [int(row["round"]) for row in rows] == list(range(1, ROUNDS + 1))
    assert [row["exploring"] for row in rows] == ["1"] * EXPLORE + ["0"] * (ROUNDS - EXPLORE)
    for label, summary in summaries.items():
        for name in ("welfare", "minority_welfare"):
            series = summary.series[name]
            for t, row in enumerate(rows):
                # Floats are written with the shortest round-trip repr: equality is exact.
                assert same(row[f"{name}_mean_{label}"], series.mean[t])
                assert same(row[f"{name}_ci95_low_{label}"], series.low[t])
                assert same(row[f"{name}_ci95_high_{label}"], series.high[t])
    # Four seeds give finite intervals, and the collective's minority gains show up in exploitation.
    assert all(math.isfinite(float(row["welfare_ci95_low_truthful"])) for row in rows)
    assert set(rows[0]) == {"round", "exploring"} | {
        f"{name}_{stat}_{label}"
        for name in ("welfare", "minority_welfare")
        for stat in ("mean", "ci95_low", "ci95_high")
        for label in summaries
    }


def test_single_seed_has_no_band_and_nan_interval(tmp_path):
    instance = majority_minority(rng=0)
    config = OnlineConfig(rounds=12, explore_rounds=12)
    single = run_online(instance.R_true, instance.alpha, config, seeds=[3], user_group=instance.user_group)
    assert np.isnan(single.series["welfare"].half_width).all()
    paths = plot_online({"one seed": single}, tmp_path / "single", explore_rounds=12, title="custom")
    check_files(paths, tmp_path / "single")
    rows = read_csv(paths[2])
    assert len(rows) == 12 and all(row["exploring"] == "1" for row in rows)
    for t, row in enumerate(rows):
        assert float(row["welfare_mean_one seed"]) == single.series["welfare"].mean[t]
        assert math.isnan(float(row["welfare_ci95_low_one seed"]))
        assert math.isnan(float(row["minority_welfare_ci95_high_one seed"]))


def test_plot_online_rejects_bad_input(summaries, tmp_path):
    with pytest.raises(InvalidParameterError, match="non-empty dict"):
        plot_online({}, tmp_path / "bad", explore_rounds=0)
    with pytest.raises(InvalidParameterError, match="explore_rounds"):
        plot_online(summaries, tmp_path / "bad", explore_rounds=ROUNDS + 1)
    with pytest.raises(InvalidParameterError, match="explore_rounds"):
        plot_online(summaries, tmp_path / "bad", explore_rounds=-1)
    with pytest.raises(InvalidParameterError, match="OnlineSummary"):
        plot_online({"truthful": object()}, tmp_path / "bad", explore_rounds=0)
    instance = majority_minority(rng=0)
    shorter = run_online(instance.R_true, instance.alpha, OnlineConfig(rounds=20, explore_rounds=5), seeds=[0, 1])
    with pytest.raises(InvalidParameterError, match="same rounds"):
        plot_online({**summaries, "shorter": shorter}, tmp_path / "bad", explore_rounds=5)
    with pytest.raises(InvalidParameterError, match="path_stem"):
        plot_online(summaries, "", explore_rounds=EXPLORE)
    assert not list(tmp_path.glob("bad*"))


def test_svg_and_csv_are_deterministic(summaries, tmp_path):
    first = plot_online(summaries, tmp_path / "a", explore_rounds=EXPLORE)
    second = plot_online(summaries, tmp_path / "b", explore_rounds=EXPLORE)
    assert first[1].read_bytes() == second[1].read_bytes()
    assert first[2].read_bytes() == second[2].read_bytes()
