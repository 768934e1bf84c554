"""``recollective game theory``: JSON contract against the library, human output, fallback and one-line errors."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from recollective.cli import app
from recollective.game import GameInstance, majority_minority, save_instance
from recollective.game.theory import detect_structure, spectral_data, theory_window
from strategies import MISSION_ALPHA, MISSION_R_TRUE

from .helpers import assert_clean_error

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, ["game", "theory", *(str(a) for a in args)])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("theory")
    mission = folder / "mission.npz"
    save_instance(GameInstance(np.array(MISSION_R_TRUE), MISSION_ALPHA), mission)
    rank_one = folder / "rank_one.npz"
    save_instance(majority_minority(60, 15, 40, 10, majority_rank=1, alpha_position=0.002, rng=0), rank_one)
    rank_two = folder / "rank_two.npz"
    R = np.array(MISSION_R_TRUE)
    R[4, 3] = 0.9  # the minority block is no longer rank one
    save_instance(GameInstance(R, 2.0), rank_two)
    return {"mission": mission, "rank_one": rank_one, "rank_two": rank_two}


def test_json_document_matches_the_library(files):
    result = invoke(files["rank_one"], "--members", "0,1", "--target", "40", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    instance = majority_minority(60, 15, 40, 10, majority_rank=1, alpha_position=0.002, rng=0)
    structure = detect_structure(instance.R_true, instance.alpha, target=40)
    data = spectral_data(structure, [0, 1], 40)
    assert document["structure"]["ok"] and document["structure"]["k1"] == 1
    assert document["spectral"]["x_k"] == pytest.approx(data.x_k, rel=1e-12)
    assert document["spectral"]["c_eff"] == pytest.approx(data.c_eff, rel=1e-12)
    window = theory_window(instance.R_true, [0, 1], 40, instance.alpha, 10.0)
    assert document["window"]["pareto_intervals"] == [list(i) for i in window.pareto_intervals]
    assert document["window"]["method"] == "theory"
    assert document["x_source"] == "robust" and document["x_in_pareto_window"] is True
    lo, hi = window.pareto_intervals[0]
    assert lo < document["x"] < hi
    assert document["robustness"]["radius"] > 0
    assert document["platform"]["fit_falls"] is True and document["platform"]["tvr_rises"] is True
    tests = {c["test"]: c for c in document["certificates"]}
    assert tests["corollary 2.3 refined"]["certified"] is True
    assert document["theorem1"]["applicable"] is True


def test_failed_conditions_are_reported_with_their_slack(files):
    result = invoke(files["mission"], "--members", "0", "--target", "4", "--x", "6", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    refined = next(c for c in document["certificates"] if c["test"] == "corollary 2.3 refined")
    assert not refined["certified"] and "M1" in refined["failed"]
    assert refined["conditions"]["M1"]["slack"] < 0 and refined["conditions"]["M1"]["user"] == 0
    assert document["x_in_pareto_window"] is False
    assert document["robustness"]["radius"] == 0


def test_human_output_names_the_statements(files):
    result = invoke(files["rank_one"], "--members", "0,1", "--target", "40", "--x", "1.9")
    assert result.exit_code == 0, result.output
    for needle in ("Theorem 2.1", "Theorem 1:", "corollary 2.3 refined", "Pareto:", "Proposition 4.2", "x_k = "):
        assert needle in result.stdout


def test_outside_the_assumptions_falls_back_and_says_why(files):
    result = invoke(files["rank_two"], "--members", "0", "--target", "4", "--x-max", "6", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["structure"]["ok"] is False and "not rank one" in document["structure"]["reason"]
    assert document["window"]["method"] == "effective_window"
    assert document["spectral"] is None and document["certificates"] == []
    human = invoke(files["rank_two"], "--members", "0", "--target", "4", "--x-max", "6")
    assert "NOT detected" in human.stdout and "not rank one" in human.stdout



def test_bad_inputs_exit_2_with_one_line(files, tmp_path):
    mission = files["mission"]
    assert_clean_error(invoke(mission, "--members", "0", "--target", "9"), "target", "9")
    assert_clean_error(invoke(mission, "--members", "0", "--target", "3,4"), "--target")
    assert_clean_error(invoke(mission, "--members", "a", "--target", "4"), "--members")
    assert_clean_error(invoke(mission, "--members", "0", "--target", "4", "--x", "-1"), "x")
    assert_clean_error(invoke(mission, "--members", "0", "--target", "4", "--x-max", "0"), "x_max")
    assert_clean_error(invoke(tmp_path / "missing.npz", "--members", "0", "--target", "4"), "no such file")
    nan = tmp_path / "nan.npz"
    np.savez(nan, R_true=np.array([[1.0, np.nan], [0.0, 1.0]]), alpha=0.5)
    assert_clean_error(invoke(nan, "--members", "0", "--target", "1"), "NaN")
    usage = invoke(mission, "--target", "4")  # --members missing
    assert usage.exit_code == 2
