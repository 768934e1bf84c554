"""Campaign figures of the report: every model and line drawn, one quantity per axis, legends off the data, text
readable at the page's width, line styles that never repeat, plain participant ticks, intervals clipped."""

import math
import struct

import numpy as np
import pytest

from recollective.campaigns import summarize_rows
from recollective.report import campaign_plots, campaign_report
from recollective.report._figures import DISPLAY_PX, DPI, line_style, participant_axis
from recollective.report._ranges import clip_intervals, interval_method, metric_range
from report.figure_files import check_files, read_csv
from report.run_folders import MANY_MODELS, many_lines_rows


@pytest.fixture(scope="module")
def summary():
    return summarize_rows(list(many_lines_rows()))


@pytest.fixture
def drawn(monkeypatch):
    """The matplotlib figures the plot functions save, in order."""
    from recollective.report import _figures

    figures = []

    def keep(figure, png, svg):
        figures.append(figure)
        save(figure, png, svg)

    save = _figures.save_figure
    monkeypatch.setattr(campaign_report, "save_figure", keep)
    monkeypatch.setattr(campaign_plots, "save_figure", keep)
    return figures


PLOTS = {
    "exposure": lambda rows, stem: campaign_plots.plot_exposure_by_size(rows, stem),
    "amplification": lambda rows, stem: campaign_report.plot_metric_by_size(
        rows, stem, metric="amplification", ylabel="amplification"),
    "group_accuracy": lambda rows, stem: campaign_report.plot_group_accuracy(rows, stem, group_utility="true DCG@k"),
    "popularity_bias": campaign_report.plot_popularity_bias,
    "externalities": campaign_report.plot_externalities,
    "pareto_shares": campaign_report.plot_pareto_shares,
}


def png_width(path) -> int:
    return struct.unpack(">I", path.read_bytes()[16:20])[0]


def data_axes(figure):
    return [ax for ax in figure.axes if ax.axison and (ax.lines or ax.patches or ax.collections)]


@pytest.mark.parametrize("stem", sorted(PLOTS))
def test_every_line_is_drawn_and_legends_stay_off_the_data(summary, drawn, tmp_path, stem):
    paths = PLOTS[stem](summary, tmp_path / stem)
    check_files(paths, tmp_path / stem)
    table = read_csv(paths[2])
    assert list(dict.fromkeys(r["model"] for r in table)) == list(MANY_MODELS)
    assert {(r["model"], r["participants"]) for r in table} == {(m, p) for m in MANY_MODELS
                                                                 for p in ("closest", "random")}
    (figure,) = drawn
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = [ax.get_window_extent(renderer) for ax in data_axes(figure)]
    assert boxes
    legends = [*figure.legends, *(ax.get_legend() for ax in figure.axes if ax.get_legend() is not None)]
    assert legends  # every figure explains its styles
    for legend in legends:
        assert legend.axes is None or legend.axes not in data_axes(figure)  # a legend inside data axes: no
        extent = legend.get_window_extent(renderer)
        assert not any(extent.overlaps(box) for box in boxes)
    # text at least 10 CSS pixels where the page shows the image (at most DISPLAY_PX wide)
    scale = min(1.0, DISPLAY_PX / png_width(paths[0]))
    sizes = [text.get_fontsize() for text in figure.findobj(lambda a: hasattr(a, "get_text") and
                                                            hasattr(a, "get_fontsize"))
             if text.get_text().strip() and text.get_visible()]
    assert min(sizes) * DPI / 72 * scale >= 10.0


def test_accuracy_gives_held_out_ndcg_and_true_dcg_their_own_axes(summary, drawn, tmp_path):
    paths = campaign_report.plot_group_accuracy(summary, tmp_path / "accuracy", group_utility="true DCG@k")
    (figure,) = drawn
    labels = [ax.get_ylabel() for ax in data_axes(figure)]
    assert len(labels) == 2 * len(MANY_MODELS)
    assert labels == ["held-out NDCG@k", "true DCG@k"] * len(MANY_MODELS)  # one quantity per axis
    for ax in data_axes(figure):
        ticks = {t.get_text() for t in ax.get_xticklabels()}
        assert ticks == ({"all test users"} if ax.get_ylabel() == "held-out NDCG@k"
                         else {"majority", "audience", "participants"})
    table = read_csv(paths[2])
    assert {r["utility"] for r in table if r["group"] == "all test users"} == {"held-out NDCG@k"}
    assert {r["utility"] for r in table if r["group"] != "all test users"} == {"true DCG@k"}
    # without a separate utility (data, not a world) all groups share the NDCG axis
    drawn.clear()
    campaign_report.plot_group_accuracy(summary, tmp_path / "accuracy_data")
    assert [ax.get_ylabel() for ax in data_axes(drawn[0])] == ["held-out NDCG@k"] * len(MANY_MODELS)


def test_line_styles_never_repeat_within_a_figure():
    styles = [line_style(m, v) for m in range(56) for v in range(4)]
    keys = {(s["color"], str(s["linestyle"]), s["marker"]) for s in styles}
    assert len(keys) == len(styles)
    ten = {line_style(m, v)["color"] for m in range(5) for v in range(2)}
    assert len(ten) == 5  # ten lines of five models: one colour per model, told apart by style within it
    assert all(s["linestyle"] != ":" for s in styles)  # dotted is kept for "before"


def test_participant_ticks_are_plain_integers():
    from matplotlib.figure import Figure

    figure = Figure()
    ax = figure.subplots()
    ax.plot([20, 40, 100], [1, 2, 3])
    participant_axis(ax, [20, 40, 100, 40])
    figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["20", "40", "100"]
    participant_axis(ax, [3, 4, 5, 6, 8, 10, 12, 15, 20, 2000])  # too many to label each: 1-2-5 steps
    figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(label.replace(",", "").isdigit() for label in labels)


def test_intervals_are_clipped_to_the_quantity_range():
    row = {"target_exposure_after": 0.004, "target_exposure_after_low": -0.012, "target_exposure_after_high": 0.019,
           "better_share": 0.99, "better_share_low": 0.95, "better_share_high": 1.03,
           "amplification_after": 2.0, "amplification_after_low": -1.5, "amplification_after_high": 5.5,
           "ndcg_majority_after": 0.9, "ndcg_majority_after_low": 0.3, "ndcg_majority_after_high": 1.4,
           "welfare_change": -1.0, "welfare_change_low": -3.0, "welfare_change_high": math.nan}
    data, world = clip_intervals([row])[0], clip_intervals([row], true_utility=True)[0]
    assert (data["target_exposure_after_low"], data["target_exposure_after_high"]) == (0.0, 0.019)
    assert data["better_share_high"] == 1.0 and data["amplification_after_low"] == 0.0
    assert data["ndcg_majority_after_high"] == 1.0 and world["ndcg_majority_after_high"] == 1.4  # true DCG > 1
    assert data["welfare_change_low"] == -3.0 and math.isnan(data["welfare_change_high"])  # unbounded, NaN kept
    assert row["target_exposure_after_low"] == -0.012  # the input is not modified
    assert metric_range("coverage_before") == (0.0, 1.0) and metric_range("arp_after") == (0.0, math.inf)
    assert interval_method([3, 3]) == "95% t-interval over 3 seeds, clipped to the quantity's range"
    assert interval_method([1]) == "one seed, so no interval"


def test_a_model_without_finite_values_keeps_its_panel(summary, drawn, tmp_path):
    rows = [{**r, **({"amplification_after": math.nan, "amplification_after_low": math.nan,
                      "amplification_after_high": math.nan} if r["model"] == "popularity" else {})} for r in summary]
    paths = campaign_report.plot_metric_by_size(rows, tmp_path / "amp", metric="amplification", ylabel="x")
    titles = [ax.get_title(loc="left") for ax in drawn[0].axes if ax.axison]
    assert titles == list(MANY_MODELS)
    table = read_csv(paths[2])
    assert all(np.isnan(float(r["amplification_after"])) for r in table if r["model"] == "popularity")
