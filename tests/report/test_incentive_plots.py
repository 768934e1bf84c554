"""The critical-mass figure: files written, PNG/SVG valid, CSV equal to the plotted sizes."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from recollective.errors import InvalidParameterError
from recollective.game import CollectiveStrategy
from recollective.game.incentives import critical_mass
from recollective.report.incentive_plots import plot_critical_mass
from report.figure_files import check_files
from strategies import MISSION_ALPHA, MISSION_R_TRUE

GAIN = 0.6 + 0.48


@pytest.fixture(scope="module")
def result():
    """MISSION's instance, majority users uprating item 4 by 1: one member suffices iff c <= 1.08 lambda."""
    return critical_mass(
        np.array(MISSION_R_TRUE),
        CollectiveStrategy([0, 1, 2, 3], [4], 1.0),
        MISSION_ALPHA,
        costs=[0.2, 0.0, 0.1],  # deliberately unsorted: the figure and the CSV sort by cost
        altruisms=[0.0, 0.1, 0.2],
    )


def read_rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))



def test_csv_holds_the_plotted_sizes(result, tmp_path):
    stem = tmp_path / "nested" / "critical_mass"
    paths = plot_critical_mass(result, stem)
    check_files(paths, stem)
    rows = read_rows(paths[2])
    assert len(rows) == 9
    for row in rows:
        altruism, cost = float(row["altruism"]), float(row["cost"])
        expected = "1" if cost <= GAIN * altruism else ""
        assert (row["prefix_size"], row["exact_size"]) == (expected, expected), row
    costs = [float(row["cost"]) for row in rows[:3]]
    assert costs == [0.0, 0.1, 0.2]
    assert [row["prefix_size"] for row in rows] == ["1", "", "", "1", "1", "", "1", "1", "1"]


def test_without_the_exact_search_and_with_one_point(tmp_path):
    single = critical_mass(
        np.array(MISSION_R_TRUE), CollectiveStrategy([0, 2], [4], 1.0), MISSION_ALPHA, costs=[0.05], exact=False
    )
    paths = plot_critical_mass(single, tmp_path / "one", title="one point")
    check_files(paths, tmp_path / "one")
    assert read_rows(paths[2]) == [{"altruism": "0.0", "cost": "0.05", "prefix_size": "", "exact_size": ""}]


def test_svg_is_deterministic(result, tmp_path):
    first = plot_critical_mass(result, tmp_path / "a")[1].read_text()
    second = plot_critical_mass(result, tmp_path / "b")[1].read_text()
    assert first == second


def test_bad_stem(result):
    with pytest.raises(InvalidParameterError, match="path_stem"):
        plot_critical_mass(result, "")


def test_import_does_not_load_matplotlib():
    code = "import sys, recollective.report.incentive_plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
