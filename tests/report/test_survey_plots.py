"""Survey figures: files written, PNG/SVG valid, CSV numbers equal to the analysis they plot."""


import pytest

from recollective.errors import InvalidParameterError
from recollective.report.survey_plots import ITEMS, plot_prevalence, plot_survey
from recollective.survey import analyze, default_instrument, read_population_shares, simulate_responses
from report.figure_files import check_files, read_csv, same


@pytest.fixture(scope="module")
def analysis():
    return analyze(simulate_responses(100, rng=12))





def test_items_figure_plots_every_item(analysis, tmp_path):
    stem = tmp_path / "nested" / "items"
    paths = plot_prevalence(analysis, stem)
    check_files(paths, stem)
    rows = read_csv(paths[2])
    assert [row["key"] for row in rows] == list(analysis.items)
    for row in rows:
        item = analysis.items[row["key"]]
        assert row["label"] == item.label
        assert (int(row["count"]), int(row["n"])) == (item.count, item.n)
        # shortest round-trip repr: equality is exact
        assert float(row["prevalence"]) == item.prevalence
        assert float(row["wilson_low"]) == item.wilson_low
        assert float(row["wilson_high"]) == item.wilson_high
    acted = next(row for row in rows if row["key"] == "acted_any")
    assert (acted["count"], acted["n"]) == ("32", "100")
    assert f"{float(acted['wilson_low']):.4f}" == "0.2367" and f"{float(acted['wilson_high']):.4f}" == "0.4166"


def test_platform_figure_and_empty_rows(tmp_path):
    # a tiny sample in which some platforms have no users: n = 0 rows are written as nan and not drawn
    result = analyze(simulate_responses(8, rng=1))
    paths = plot_prevalence(result, tmp_path / "platform", "platform")
    rows = read_csv(paths[2])
    assert [row["key"] for row in rows] == list(default_instrument().question("acted_platforms").option_values)
    for row, proportion in zip(rows, result.breakdowns["platform"].proportions, strict=True):
        assert int(row["n"]) == proportion.n
        assert same(row["prevalence"], proportion.prevalence)
        assert same(row["wilson_high"], proportion.wilson_high)
    assert any(row["n"] == "0" and row["prevalence"] == "nan" for row in rows)


def test_weighted_columns(tmp_path):
    population = read_population_shares(
        "age_band,share\n18_24,0.12\n25_34,0.17\n35_44,0.17\n45_54,0.17\n55_plus,0.37\n", default_instrument()
    )
    result = analyze(simulate_responses(100, rng=12), population=population)
    paths = plot_prevalence(result, tmp_path / "weighted")
    rows = read_csv(paths[2])
    assert list(rows[0])[-4:] == ["weighted_prevalence", "weighted_wilson_low", "weighted_wilson_high", "n_effective"]
    for row in rows:
        weighted = result.items[row["key"]].weighted
        assert float(row["weighted_prevalence"]) == weighted.prevalence
        assert float(row["weighted_wilson_low"]) == weighted.wilson_low
        assert float(row["n_effective"]) == weighted.n_effective


def test_plot_survey_writes_every_figure(analysis, tmp_path):
    files = plot_survey(analysis, tmp_path / "figs")
    assert list(files) == [ITEMS, "platform", "interaction", "motive"]
    for name, paths in files.items():
        check_files(paths, tmp_path / "figs" / f"survey_{name}")


def test_bad_arguments(analysis, tmp_path):
    with pytest.raises(InvalidParameterError, match="breakdown must be one of items, platform, interaction, motive"):
        plot_prevalence(analysis, tmp_path / "x", "age")
    with pytest.raises(InvalidParameterError, match="path_stem"):
        plot_prevalence(analysis, "")
    assert not (tmp_path / "x.png").exists()
