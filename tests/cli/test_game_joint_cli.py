"""``recollective game joint`` and ``game joint-window``: output against the library, and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recollective.game import CollectiveStrategy, GameInstance, joint_outcome, outcome, save_instance
from strategies import MISSION_ALPHA, MISSION_R_TRUE

from .helpers import assert_clean_error, invoke


@pytest.fixture(scope="module")
def mission_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("joint") / "mission.npz"
    save_instance(GameInstance(np.array(MISSION_R_TRUE), MISSION_ALPHA), path)
    return path


def test_joint_json_matches_the_library(mission_file):
    result = invoke("game", "joint", mission_file, "--collective", "0:4:1.6", "--collective", "1:4:1.6", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    expected = joint_outcome(
        np.array(MISSION_R_TRUE), [CollectiveStrategy([0], [4], 1.6), CollectiveStrategy([1], [4], 1.6)], MISSION_ALPHA
    )
    assert document["k_star"] == expected.outcome.rank == 2
    assert document["top_items"] == expected.outcome.top_items.tolist()
    assert document["utilities"] == expected.outcome.utilities.tolist()
    assert document["social_welfare"] == expected.outcome.social_welfare == 20.0
    assert (document["effective"], document["pareto"]) == (False, False)
    for collective in document["collectives"]:
        # Each alone keeps one more direction and serves the minority: Pareto, welfare 20 -> 21.08.
        assert (collective["effective"], collective["pareto"]) == (True, True)
        assert collective["social_welfare"] == pytest.approx(21.08, abs=1e-12)
    assert document["interaction_effect"] == pytest.approx(-2.16, abs=1e-12)


def test_one_collective_is_game_evaluate(mission_file):
    result = invoke("game", "joint", mission_file, "--collective", "0:4:2", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    single = outcome(np.array(MISSION_R_TRUE), CollectiveStrategy([0], [4], 2.0).apply(np.array(MISSION_R_TRUE)),
                     MISSION_ALPHA)
    assert document["k_star"] == single.rank == 3
    assert document["utilities"] == single.utilities.tolist()
    (collective,) = document["collectives"]
    assert collective["social_welfare"] == document["social_welfare"] == single.social_welfare
    assert document["interaction_effect"] == 0.0


def test_joint_text_output(mission_file):
    result = invoke("game", "joint", mission_file, "--collective", "0-1:3,4:2", "--collective", "1,2:4:3")
    assert result.exit_code == 0, result.output
    assert "1 shared cell(s)" in result.stdout
    assert "interaction effect on welfare" in result.stdout


def test_joint_window_json_and_plot(mission_file, tmp_path):
    result = invoke("game", "joint-window", mission_file, "--collective", "0:4:1", "--collective", "2:3",
                    "--x-max", "3", "--n-cells", "3", "--max-depth", "0", "--plot", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert np.array(document["cells"]["status"]).shape == (3, 3)
    assert document["cells"]["edges"] == [0.0, 1.0, 2.0, 3.0]
    assert document["at"]["status"] == "Pareto, outside the joint window"  # x2 = 0: collective 2 does nothing
    assert document["solo_windows"][0]["pareto_intervals"][0][0] == pytest.approx(0.2655, abs=1e-3)
    assert [p.rsplit("/", 1)[1] for p in document["plots"]] == ["joint_window.png", "joint_window.svg",
                                                               "joint_window.csv"]
    rows = (tmp_path / "joint_window.csv").read_text().splitlines()
    assert rows[0] == "kind,x1_lo,x1_hi,x2_lo,x2_hi,status,certified,mixed"
    assert sum(row.startswith("cell,") for row in rows) == 9


@pytest.mark.parametrize(
    ("arguments", "needles"),
    [
        (("joint", "--collective", "0:4"), ["is not MEMBERS:TARGETS:X"]),
        (("joint", "--collective", "0:4:1:2"), ["is not MEMBERS:TARGETS:X"]),
        (("joint", "--collective", "a:4:1"), ["MEMBERS", "'a' is not an index"]),
        (("joint", "--collective", "0:4:-1"), ["X must be a finite uprating value >= 0", "'-1'"]),
        (("joint", "--collective", "0:4:nan"), ["X must be a finite uprating value >= 0"]),
        (("joint", "--collective", "0:9:1"), ["collective 0", "item index 9 is out of range", "0..4"]),
        (("joint", "--collective", "0:4:1", "--collective", "7:4:1"), ["collective 1", "user index 7"]),
        (("joint", "--collective", ":4:1"), ["MEMBERS", "is empty"]),
        (("joint-window", "--collective", "0:4", "--x-max", "3"), ["exactly two collectives; got 1"]),
        (("joint-window", "--collective", "0:4", "--collective", "1:4", "--x-max", "0"), ["x_max must be > 0"]),
    ],
)
def test_bad_input_is_one_error_line(mission_file, arguments, needles):
    command, *rest = arguments
    assert_clean_error(invoke("game", command, mission_file, *rest), *needles)


def test_a_joint_window_plot_folder_is_a_report(mission_file, tmp_path):
    from recollective.report.html import write_report

    result = invoke("game", "joint-window", mission_file, "--collective", "0:4:1", "--collective", "2:3",
                    "--x-max", "3", "--n-cells", "3", "--max-depth", "0", "--plot", tmp_path)
    assert result.exit_code == 0, result.output
    written = write_report(tmp_path)
    html = written["html"].read_text()
    assert written["kind"] == "game" and 'id="joint-window"' in html
    summary = html[html.index('id="summary"'):html.index('id="joint-window"')]
    assert "<img" in summary  # the window figure is the summary's key figure

