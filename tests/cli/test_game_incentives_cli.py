"""``recollective game incentives``: JSON contract, human output, plots and one-line errors.

The command is tested on a tiny Typer app that registers it, and through the root app once ``cli/game.py``
registers it (skipped before that).
"""

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from recollective.cli.game_incentives import incentives
from recollective.game import CollectiveStrategy, GameInstance, save_instance
from recollective.game.incentives import critical_mass
from recollective.game.incentives import incentives as analyse
from strategies import MISSION_ALPHA, MISSION_R_TRUE

from .helpers import assert_clean_error

runner = CliRunner()
app = typer.Typer(pretty_exceptions_enable=False)
app.command("incentives")(incentives)


@app.callback()
def _group() -> None:
    """A group, so that the command is invoked by name as under ``recollective game``."""


GAIN = 0.6 + 0.48


def invoke(*args):
    return runner.invoke(app, ["incentives", *(str(a) for a in args)])


@pytest.fixture(scope="module")
def mission_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("incentives") / "mission.npz"
    save_instance(GameInstance(np.array(MISSION_R_TRUE), MISSION_ALPHA), path)
    return path


def test_json_document_matches_the_library(mission_file):
    args = ["--members", "0,1,2,3", "--targets", "4", "--uprating", "1", "--altruism", "0.1", "--cost", "0.05"]
    grid = ["--costs", "0,0.1,0.2", "--altruisms", "0,0.1,0.2"]
    result = invoke(mission_file, *args, *grid, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["n_users"] == 6 and document["alpha"] == MISSION_ALPHA
    report = document["incentives"]
    strategy = CollectiveStrategy([0, 1, 2, 3], [4], 1.0)
    expected = analyse(np.array(MISSION_R_TRUE), strategy, MISSION_ALPHA, altruism=0.1, cost=0.05)
    assert report == json.loads(json.dumps(expected.as_dict()))
    assert report["meets_criterion"] is False  # the whole majority leaves k* at 2 (tests/game/test_incentives.py)
    assert report["subcollectives"]["minimum"] == [[0], [1], [2], [3]]

    mass = document["critical_mass"]
    # one member suffices iff c <= 1.08 lambda; "none" is null in JSON
    assert mass["prefix_size"] == [[1, None, None], [1, 1, None], [1, 1, 1]]
    assert mass["exact_size"] == mass["prefix_size"]
    assert mass["exact_members"][2][1] == [0]
    assert mass["prefix_break_even"][2][0] == pytest.approx(0.2 * GAIN, rel=1e-14)
    assert mass["prefix_break_even"][0][1] is None  # NaN -> null
    assert mass["n_evaluations"] == 16
    assert document["plots"] == []


def test_member_order_sets_the_prefixes(mission_file):
    result = invoke(mission_file, "--members", "1,0,2", "--targets", "4", "--uprating", "1", "--json")
    assert result.exit_code == 0, result.output
    mass = json.loads(result.stdout)["critical_mass"]
    assert mass["order"] == [1, 0, 2]
    assert mass["prefix_meets"] == [True, False, True]  # {1}, {0,1} (fails), {0,1,2}
    library = critical_mass(
        np.array(MISSION_R_TRUE), CollectiveStrategy([0, 1, 2], [4], 1.0), MISSION_ALPHA, order=[1, 0, 2]
    )
    assert mass["prefix_gains"] == library.prefix_gains.tolist()


def test_human_output_and_plot(mission_file, tmp_path):
    plots = tmp_path / "plots"
    result = invoke(
        mission_file,
        "--members",
        "0,2",
        "--targets",
        "4",
        "--uprating",
        "1",
        "--cost",
        "0.05",
        "--costs",
        "0,0.05,0.1",
        "--altruisms",
        "0,0.1",
        "--plot",
        plots,
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "member free riders: 0,2" in out
    assert "non-members gaining without acting: 4,5" in out
    assert "greedy minimal sub-collective: 0 (removed in order: 2)" in out
    assert "minimum size 1" in out
    assert "critical mass, prefixes" in out and "critical mass, all subsets" in out
    assert "lambda = 0.1: break-even cost of rational prefixes: k=1: c <= 0.108" in out
    for name in ("critical_mass.png", "critical_mass.svg", "critical_mass.csv"):
        assert (plots / name).is_file()
        assert f"plot: {plots / name}" in out
    rows = (plots / "critical_mass.csv").read_text().splitlines()
    assert rows[0] == "altruism,cost,prefix_size,exact_size"
    assert rows[1:] == ["0.0,0.0,1,1", "0.0,0.05,,", "0.0,0.1,,", "0.1,0.0,1,1", "0.1,0.05,1,1", "0.1,0.1,1,1"]



def test_bad_inputs_exit_2_with_one_line(mission_file, tmp_path):
    base = ["--targets", "4", "--uprating", "1"]
    assert_clean_error(invoke(mission_file, "--members", "0,9", *base), "members", "9")
    assert_clean_error(invoke(mission_file, "--members", "a", *base), "--members")
    assert_clean_error(invoke(mission_file, "--members", "0", *base, "--costs", "0,x"), "--costs")
    assert_clean_error(invoke(mission_file, "--members", "0", *base, "--altruisms", "0,-1"), "--altruisms")
    assert_clean_error(invoke(mission_file, "--members", "0", *base, "--cost", "-1"), "cost")
    assert_clean_error(invoke(mission_file, "--members", "0", *base, "--welfare-gain", "nan"), "welfare_gain")
    assert_clean_error(invoke(mission_file, "--members", "0", "--targets", "4", "--uprating", "-1"), "uprating")
    assert_clean_error(invoke(mission_file, "--members", "0-3", *base, "--exact", "--max-exact", "2"), "max_exact = 2")
    assert_clean_error(invoke(tmp_path / "missing.npz", "--members", "0", *base), "no such file")
    nan = tmp_path / "nan.npz"
    np.savez(nan, R_true=np.array([[1.0, np.nan], [0.0, 1.0]]), alpha=0.5)
    assert_clean_error(invoke(nan, "--members", "0", "--targets", "1", "--uprating", "1"), "NaN")
    plots = tmp_path / "never"
    assert_clean_error(invoke(mission_file, "--members", "0", *base, "--cost", "-1", "--plot", plots), "cost")
    assert not plots.exists()
    usage = invoke(mission_file, "--targets", "4", "--uprating", "1")  # --members missing
    assert usage.exit_code == 2


def test_through_the_root_app(mission_file):
    from recollective.cli import app as root

    if runner.invoke(root, ["game", "incentives", "--help"]).exit_code != 0:
        pytest.skip("`recollective game incentives` is not registered in cli/game.py yet")
    result = runner.invoke(
        root,
        ["game", "incentives", str(mission_file), "--members", "0", "--targets", "4", "--uprating", "1", "--json"],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["critical_mass"]["prefix_size"] == [[1]]
    assert document["incentives"]["members"][0]["others_change"] == pytest.approx(GAIN, abs=1e-15)
    bad = runner.invoke(root, ["game", "incentives", str(mission_file), "--members", "0", "--targets", "9"])
    assert bad.exit_code == 2
