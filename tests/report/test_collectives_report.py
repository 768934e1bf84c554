"""The report's sections on several collectives: rows read and checked, intervals clipped, every (dataset, model)
in the figure, the summary first, dataset strings escaped (a joint-window folder: tests/cli/test_game_joint_cli.py)."""

import csv

import numpy as np
import pytest

from recollective.errors import DataError
from recollective.report.collectives_report import plot_interference, read_collective_rows, summarize_collectives
from recollective.report.html import write_report

COLUMNS = ["dataset", "seed", "model", "pair", "collective", "targets", "audience_size", "size", "action",
           "exposure_before", "exposure_solo", "exposure_joint", "effect_solo", "effect_joint", "spillover",
           "interaction", "efficacy_drop"]


def _rows(models=("als", "itemknn", "ease"), datasets=("goodbooks", "movielens"), seeds=(0, 1, 2)):
    rng = np.random.default_rng(0)
    rows = []
    for dataset in datasets:
        for model in models:
            for seed in seeds:
                for pair in ("low-overlap", "<b>high</b>"):
                    for collective in ("A", "B"):
                        before = float(rng.uniform(0, 0.2))
                        solo = float(rng.uniform(0, 0.8))
                        joint = float(solo - rng.uniform(0, 0.3))
                        rows.append({"dataset": dataset, "seed": seed, "model": model, "pair": pair,
                                     "collective": collective, "targets": "1 2", "audience_size": 20, "size": 0.05,
                                     "action": "add", "exposure_before": before, "exposure_solo": before + solo,
                                     "exposure_joint": before + joint, "effect_solo": solo, "effect_joint": joint,
                                     "spillover": 0.0, "interaction": joint - solo,
                                     "efficacy_drop": 1 - joint / solo if solo > 0 else ""})
    return rows


def _write(path, rows, columns=COLUMNS):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_summary_averages_seeds_and_clips_intervals_to_the_range(tmp_path):
    rows = read_collective_rows(_write(tmp_path / "collectives.csv", _rows()))
    summary = summarize_collectives(rows)
    assert len(summary) == 2 * 3 * 2 * 2 and {row["n_seeds"] for row in summary} == {3}
    first = summary[0]
    members = [r for r in rows if (r["dataset"], r["model"], r["pair"], r["collective"]) ==
               (first["dataset"], first["model"], first["pair"], first["collective"])]
    assert first["effect_solo"] == pytest.approx(np.mean([r["effect_solo"] for r in members]))
    for row in summary:
        for key in ("effect_solo", "effect_joint", "interaction"):
            assert -1.0 <= row[f"{key}_low"] <= row[key] <= row[f"{key}_high"] <= 1.0
        assert row["exposure_before_low"] >= 0.0 and row["exposure_before_high"] <= 1.0
    unclipped = [r for r in summary if r["effect_solo_high"] == 1.0]
    assert unclipped, "with 3 seeds of widely spread effects some t-interval reaches past 1 and is clipped"


def test_the_figure_has_every_dataset_and_model(tmp_path):
    summary = summarize_collectives(read_collective_rows(_write(tmp_path / "collectives.csv", _rows())))
    png, svg, table = plot_interference(summary, tmp_path / "fig" / "interference")
    assert png.stat().st_size > 10_000 and svg.is_file()
    with table.open() as handle:
        plotted = list(csv.DictReader(handle))
    assert {(r["dataset"], r["model"]) for r in plotted} == {(d, m) for d in ("goodbooks", "movielens")
                                                            for m in ("als", "itemknn", "ease")}
    assert len(plotted) == len(summary)


def test_report_of_a_collectives_folder_opens_with_the_summary(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _write(run / "collectives.csv", _rows())
    written = write_report(run)
    html = written["html"].read_text()
    assert written["kind"] == "collectives"
    assert html.index('id="summary"') < html.index('id="collectives"') < html.index('id="provenance"')
    assert "<b>high</b>" not in html and "&lt;b&gt;high&lt;/b&gt;" in html
    assert 'data-models="als\nitemknn\nease"' in html
    for model in ("als", "itemknn", "ease"):
        assert f"<li>{model}: " in html
    assert "result rows" not in html  # no sweep rows in this folder: the header does not say "0 result rows"


@pytest.mark.parametrize(
    ("columns", "rows", "needle"),
    [
        (["model", "collective", "effect_solo"], [{"model": "als", "collective": "A", "effect_solo": 0.1}],
         "no column(s) exposure_before, effect_joint, interaction"),
        (COLUMNS, [{**_rows()[0], "effect_joint": "lots"}], "line 2, column 'effect_joint': 'lots' is not a number"),
        (COLUMNS, [], "no rows"),
    ],
)
def test_bad_rows_files_name_the_file_and_the_problem(tmp_path, columns, rows, needle):
    path = _write(tmp_path / "collectives.csv", rows, columns)
    with pytest.raises(DataError, match=r"collectives\.csv") as error:
        read_collective_rows(path)
    assert needle in str(error.value) and "\n" not in str(error.value)


def test_chromium_shows_the_summary_first_and_every_dataset_and_model_in_the_figure(tmp_path):
    """The DOM as headless Chromium builds it: the summary first with the interference figure, and that figure's
    data (the CSV it links to, and its data-models) holds every (dataset, model) of the rows."""
    from report.test_html import CHROMIUM, console_messages, figure_tables, parse, run_chromium

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    run = tmp_path / "run"
    run.mkdir()
    rows = _rows(models=("als", "itemknn", "ease", "puresvd", "sequential"))
    _write(run / "collectives.csv", rows)
    document = write_report(run)
    dom = run_chromium(document["html"].as_uri(), tmp_path / "profile", "--dump-dom")
    assert console_messages(dom.stderr) == []
    tags = parse(dom.stdout)
    sections = [attrs["id"] for tag, attrs in tags if tag == "section"]
    assert sections[0] == "summary" and sections[-1] == "provenance" and "collectives" in sections
    ((models, plotted),) = figure_tables(tags, run).values()
    assert models == ["als", "itemknn", "ease", "puresvd", "sequential"]
    assert {(r["dataset"], r["model"]) for r in plotted} == {(r["dataset"], r["model"]) for r in rows}
