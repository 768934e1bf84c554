"""Figures of the one-shot game: files written, PNG/SVG valid, CSV numbers equal to the plotted results."""

import subprocess
import sys

import numpy as np
import pytest

from recollective.errors import InvalidParameterError
from recollective.game import CollectiveStrategy, effective_window, majority_minority, outcome
from recollective.report import plot_spectrum, plot_window
from report.figure_files import check_files, read_csv


@pytest.fixture(scope="module")
def game():
    """A small majority–minority instance whose window has an effective and a narrower Pareto part.

    Planted: one majority user (15) uprating one minority item (21) by x in [0, 5]; the learner keeps a third
    direction from x ~ 0.99 on, Pareto up to x ~ 2.49, after which the member's own top item flips.
    """
    instance = majority_minority(30, 8, 20, 6, alpha_position=0.05, rng=2)
    result = effective_window(instance.R_true, [15], [21], instance.alpha, x_max=5.0)
    assert result.pareto_intervals, "the planted instance must have a Pareto window"
    assert result.effective_intervals != result.pareto_intervals
    return instance, result




def test_plot_window_writes_figures_and_the_pieces_numbers(game, tmp_path):
    instance, result = game
    stem = tmp_path / "nested" / "window"
    paths = plot_window(result, stem, user_group=instance.user_group)
    check_files(paths, stem)

    rows = read_csv(paths[2])
    assert len(rows) == len(result.pieces)
    members = np.zeros(instance.shape[0], dtype=bool)
    members[result.members] = True
    masks = {
        "majority_non_members": (instance.user_group == 0) & ~members,
        "minority": instance.user_group == 1,
        "members": members,
    }
    for row, piece in zip(rows, result.pieces, strict=True):
        # Floats are written with the shortest round-trip repr: equality is exact.
        assert float(row["lo"]) == piece.lo
        assert float(row["hi"]) == piece.hi
        assert int(row["k_star"]) == piece.rank
        assert float(row["social_welfare"]) == piece.social_welfare
        assert float(row["welfare_change"]) == piece.welfare_change
        assert int(row["n_better"]) == piece.n_better
        assert int(row["n_worse"]) == piece.n_worse
        assert bool(int(row["is_effective"])) == piece.is_effective
        assert bool(int(row["is_pareto_effective"])) == piece.is_pareto_effective
        assert float(row["truthful_social_welfare"]) == result.baseline.social_welfare
        for name, mask in masks.items():
            assert float(row[f"mean_utility_{name}"]) == piece.utilities[mask].mean()
            assert float(row[f"truthful_mean_utility_{name}"]) == result.baseline.utilities[mask].mean()
    # The pieces tile [0, x_max] and the CSV's flags reproduce the windows.
    assert float(rows[0]["lo"]) == 0.0 and float(rows[-1]["hi"]) == result.x_max
    pareto = [(float(r["lo"]), float(r["hi"])) for r in rows if r["is_pareto_effective"] == "1"]
    assert pareto[0][0] == result.pareto_intervals[0][0] and pareto[-1][1] == result.pareto_intervals[-1][1]


def test_plot_window_without_groups_shows_all_users_and_members(game, tmp_path):
    _, result = game
    paths = plot_window(result, tmp_path / "window", title="custom title")
    check_files(paths, tmp_path / "window")
    rows = read_csv(paths[2])
    assert {"mean_utility_all_users", "mean_utility_members"} <= set(rows[0])
    assert not any(key.startswith("mean_utility_minority") for key in rows[0])
    for row, piece in zip(rows, result.pieces, strict=True):
        assert float(row["mean_utility_all_users"]) == piece.utilities.mean()
        assert float(row["mean_utility_members"]) == piece.utilities[result.members].mean()


def test_plot_window_rejects_bad_group_labels(game, tmp_path):
    _, result = game
    with pytest.raises(InvalidParameterError, match="user_group"):
        plot_window(result, tmp_path / "w", user_group=np.zeros(3))
    with pytest.raises(InvalidParameterError, match="0 \\(majority\\) or 1"):
        plot_window(result, tmp_path / "w", user_group=np.full(result.baseline.n_users, 2))


def test_plot_spectrum_writes_figures_and_singular_values(game, tmp_path):
    instance, result = game
    lo, hi = result.pareto_intervals[0]
    x = 0.5 * (lo + hi)
    strategic = outcome(
        instance.R_true, CollectiveStrategy(result.members, result.targets, x).apply(instance.R_true), instance.alpha
    )
    truthful = result.baseline
    assert strategic.rank == truthful.rank + 1  # the strategy makes the learner keep one more direction

    stem = tmp_path / "spectrum"
    paths = plot_spectrum(truthful, strategic, instance.alpha, stem)
    check_files(paths, stem)
    rows = read_csv(paths[2])
    # Default: every numerically non-zero value plus three of the zero tail.
    assert len(rows) == strategic.rank + 1 + 3
    for row in rows:
        j = int(row["index"])
        assert float(row["truthful"]) == truthful.singular_values[j - 1]
        assert float(row["strategic"]) == strategic.singular_values[j - 1]
        assert bool(int(row["truthful_kept"])) == (j <= truthful.rank)
        assert bool(int(row["strategic_kept"])) == (j <= strategic.rank)
        assert float(row["alpha"]) == instance.alpha
    assert [int(r["index"]) for r in rows] == list(range(1, len(rows) + 1))

    full = plot_spectrum(truthful, strategic, instance.alpha, tmp_path / "all", n_values=truthful.singular_values.size)
    assert len(read_csv(full[2])) == truthful.singular_values.size


def test_plot_spectrum_linear_scale_and_errors(tmp_path):
    R = np.array([[3.0, 1.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.5]])
    truthful = outcome(R, alpha=1.0)
    strategic = outcome(R, CollectiveStrategy([0], [2], 2.0).apply(R), alpha=1.0)
    paths = plot_spectrum(truthful, strategic, 1.0, tmp_path / "small")
    check_files(paths, tmp_path / "small")
    with pytest.raises(InvalidParameterError, match="alpha"):
        plot_spectrum(truthful, strategic, -1.0, tmp_path / "bad")
    with pytest.raises(InvalidParameterError, match="n_values"):
        plot_spectrum(truthful, strategic, 1.0, tmp_path / "bad", n_values=0)
    other = outcome(np.ones((2, 2)), alpha=1.0)
    with pytest.raises(InvalidParameterError, match="same game"):
        plot_spectrum(truthful, other, 1.0, tmp_path / "bad")


def test_svg_output_is_deterministic(game, tmp_path):
    instance, result = game
    first = plot_window(result, tmp_path / "a", user_group=instance.user_group)
    second = plot_window(result, tmp_path / "b", user_group=instance.user_group)
    assert first[1].read_bytes() == second[1].read_bytes()
    assert first[2].read_bytes() == second[2].read_bytes()


def test_importing_the_package_does_not_import_matplotlib():
    code = "import sys, recollective, recollective.report; assert 'matplotlib' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_game_figures_keep_their_legends_below_the_axes(game, tmp_path, monkeypatch):
    """No legend sits inside an axes, where it could cover a line: both figures carry one figure legend."""
    from recollective.report import game_plots

    instance, result = game
    figures = []

    def keep(figure, png, svg):
        figures.append(figure)
        save(figure, png, svg)

    save = game_plots.save_figure
    monkeypatch.setattr(game_plots, "save_figure", keep)
    plot_window(result, tmp_path / "window", user_group=instance.user_group)
    truthful = outcome(instance.R_true, instance.R_true, instance.alpha)
    plot_spectrum(truthful, truthful, instance.alpha, tmp_path / "spectrum")
    assert len(figures) == 2
    for figure in figures:
        assert [ax.get_legend() for ax in figure.axes] == [None] * len(figure.axes)
        (legend,) = figure.legends
        figure.canvas.draw()
        extent = legend.get_window_extent(figure.canvas.get_renderer())
        assert not any(extent.overlaps(ax.get_window_extent()) for ax in figure.axes)
    labels = [text.get_text() for text in figures[0].legends[0].get_texts()]
    assert "SW under the strategy" in labels and "collective members" in labels  # both panels' entries
