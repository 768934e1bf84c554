"""End-to-end tests of ``recollective game ...`` through Typer's CliRunner."""

import json

import numpy as np
import pytest

from recollective._files import new_file_mode
from recollective.game import (
    CollectiveStrategy,
    compare_outcomes,
    load_instance,
    outcome,
)

from .helpers import assert_clean_error, invoke


def test_generate_then_evaluate_json_contract(tmp_path):
    path = tmp_path / "inst.npz"
    result = invoke("game", "generate", path, "--seed", 3, "--json")
    assert result.exit_code == 0, result.output
    generated = json.loads(result.stdout)
    assert generated["gap"]["holds"] is True
    assert path.is_file()

    result = invoke("game", "evaluate", path, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    instance = load_instance(path)
    expected = outcome(instance.R_true, None, instance.alpha)
    assert document["k_star"] == expected.rank
    assert document["top_items"] == expected.top_items.tolist()
    np.testing.assert_allclose(document["utilities"], expected.utilities, rtol=0, atol=0)
    assert document["social_welfare"] == pytest.approx(expected.social_welfare, rel=1e-15)
    assert set(document["platform_utilities"]) == {
        "predicted_engagement",
        "realised_engagement",
        "retained_variation",
        "fit_error",
    }
    assert document["minority_welfare"] == 0.0  # suppression under the gap condition


def test_evaluate_uses_reported_matrix_when_present(tmp_path, instance_file):
    instance = load_instance(instance_file)
    strategy = CollectiveStrategy([13], [45], 3.5)
    reported = strategy.apply(instance.R_true)
    path = tmp_path / "reported.npz"
    np.savez(path, R_true=instance.R_true, R_reported=reported, alpha=instance.alpha)
    result = invoke("game", "evaluate", path, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    expected = outcome(instance.R_true, reported, instance.alpha)
    assert document["evaluated"] == "R_reported"
    assert document["k_star"] == expected.rank
    assert document["top_items"] == expected.top_items.tolist()
    truthful = outcome(instance.R_true, None, instance.alpha)
    assert document["versus_truthful"]["welfare_change"] == pytest.approx(
        compare_outcomes(truthful, expected).welfare_change, abs=1e-12
    )


def test_window_json_matches_independent_evaluations(instance_file):
    result = invoke("game", "window", instance_file, "--members", "13", "--targets", "45", "--x-max", 10, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["pareto_intervals"] and document["effective_intervals"]
    instance = load_instance(instance_file)
    truthful = outcome(instance.R_true, None, instance.alpha)
    for lo, hi in document["pareto_intervals"]:
        assert 0 <= lo < hi <= 10
        x = 0.5 * (lo + hi)
        after = outcome(instance.R_true, CollectiveStrategy([13], [45], x).apply(instance.R_true), instance.alpha)
        assert compare_outcomes(truthful, after).is_pareto_effective
    # just below the first Pareto interval nothing has changed yet
    lo = document["pareto_intervals"][0][0]
    before = outcome(instance.R_true, CollectiveStrategy([13], [45], 0.99 * lo).apply(instance.R_true), instance.alpha)
    assert not compare_outcomes(truthful, before).is_pareto_effective


def test_window_human_output_names_the_windows(instance_file):
    result = invoke("game", "window", instance_file, "--members", "13", "--targets", "45")
    assert result.exit_code == 0, result.output
    assert "Pareto window:" in result.stdout
    assert "effective window:" in result.stdout
    # the count of uncertified cells comes with what such a cell is (all of [0, 10] on this generated instance)
    assert "536 uncertified cell(s)" in result.stdout
    assert "  uncertified cells (100% of [0, 10], each at most 0.0195 wide): both ends" in result.stdout
    assert "a change narrower than one cell could hide there" in " ".join(result.stdout.split())


def test_certify_explains_the_radius_in_plain_words(instance_file, tmp_path):
    result = invoke("game", "certify", instance_file, "--n-trials", 2)
    assert result.exit_code == 0, result.output
    assert "certified radius (spectral norm) = 0" in result.stdout
    text = " ".join(result.stdout.split())
    assert "radius 0: no perturbation of the preferences, however small, is certified to keep this outcome" in text
    assert "Here user 60's top item is decided by a tie" in text
    path = tmp_path / "small.npz"
    np.savez(path, R_true=np.array([[3.0, 1.0, 0.0], [1.0, 2.5, 0.2], [0.0, 0.3, 2.0]]), alpha=0.5)
    result = invoke("game", "certify", path, "--n-trials", 2)
    assert "every change of the reported preferences with spectral norm below it keeps k* and every user's top" in (
        " ".join(result.stdout.split()))


def test_search_json_finds_a_pareto_strategy(instance_file):
    result = invoke("game", "search", instance_file, "--max-members", 3, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["found"] is True
    assert document["members_worst_change"] >= 0
    assert document["guaranteed_welfare_gain"] > 0
    assert document["minority_welfare_after"] > document["minority_welfare_before"]
    lo, hi = document["window"]
    assert lo < document["strategy"]["uprating"] < hi


def test_certify_json(instance_file, tmp_path):
    instance = load_instance(instance_file)
    R = np.array([[3.0, 1.0, 0.0], [1.0, 2.5, 0.2], [0.0, 0.3, 2.0]])
    path = tmp_path / "small.npz"
    np.savez(path, R_true=R, alpha=0.5)
    result = invoke("game", "certify", path, "--n-trials", 5, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["radius"] > 0
    assert document["smallest_change_found"] >= document["radius"]
    assert 0 < document["tightness"] <= 1
    # the truthful majority–minority outcome rests on ties among suppressed users: radius 0
    result = invoke("game", "certify", instance_file, "--n-trials", 2, "--json")
    assert json.loads(result.stdout)["radius"] == 0.0
    assert instance.R_true.shape == (75, 50)



def test_bad_inputs_exit_2_with_one_line(tmp_path, instance_file):
    negative = tmp_path / "negative.npz"
    np.savez(negative, R_true=np.array([[1.0, -1.0], [0.0, 1.0]]), alpha=0.5)
    assert_clean_error(invoke("game", "evaluate", negative, "--json"), "negative")

    nan = tmp_path / "nan.npz"
    np.savez(nan, R_true=np.array([[1.0, np.nan], [0.0, 1.0]]), alpha=0.5)
    assert_clean_error(invoke("game", "evaluate", nan), "NaN")

    vector = tmp_path / "vector.npz"
    np.savez(vector, R_true=np.ones(3), alpha=0.5)
    assert_clean_error(invoke("game", "evaluate", vector), "2-D")

    mismatched = tmp_path / "mismatch.npz"
    np.savez(mismatched, R_true=np.ones((2, 2)), R_reported=np.ones((3, 2)), alpha=0.5)
    assert_clean_error(invoke("game", "evaluate", mismatched), "shape")

    negative_alpha = tmp_path / "alpha.npz"
    np.savez(negative_alpha, R_true=np.ones((2, 2)), alpha=-1.0)
    assert_clean_error(invoke("game", "evaluate", negative_alpha), "alpha")

    not_npz = tmp_path / "notes.npz"
    not_npz.write_text("user,item,rating\n1,2,3\n")
    assert_clean_error(invoke("game", "evaluate", not_npz), "not a readable .npz")

    no_truth = tmp_path / "empty.npz"
    np.savez(no_truth, something=np.ones(2))
    assert_clean_error(invoke("game", "evaluate", no_truth), "R_true")

    assert_clean_error(invoke("game", "evaluate", tmp_path / "missing.npz"), "no such file")

    assert_clean_error(
        invoke("game", "window", instance_file, "--members", "0,999", "--targets", "45"), "999", "members"
    )
    assert_clean_error(invoke("game", "window", instance_file, "--members", "0", "--targets", "50"), "targets")
    assert_clean_error(invoke("game", "window", instance_file, "--members", "a,b", "--targets", "45"), "--members")
    assert_clean_error(invoke("game", "evaluate", instance_file, "--alpha", "-2"), "alpha")


def test_generate_refuses_impossible_gap_without_writing(tmp_path):
    path = tmp_path / "nogap.npz"
    result = invoke("game", "generate", path, "--minority-scale", 5.0)
    assert_clean_error(result, "gap")
    assert not path.exists()


def test_usage_error_exits_2(instance_file):
    result = invoke("game", "window", instance_file, "--targets", "45")  # --members missing
    assert result.exit_code == 2


def test_generate_with_a_strategy_stores_the_reports(tmp_path):
    path = tmp_path / "reported.npz"
    result = invoke("game", "generate", path, "--members", "13", "--targets", "45", "--uprating", 3.6, "--json")
    assert result.exit_code == 0, result.output
    instance = load_instance(path)
    expected = instance.R_true.copy()
    expected[13, 45] = 3.6
    np.testing.assert_array_equal(instance.R_reported, expected)
    document = json.loads(invoke("game", "evaluate", path, "--json").stdout)
    assert document["evaluated"] == "R_reported"
    assert document["versus_truthful"]["is_pareto_effective"] is True  # inside the window [3.157, 3.930]

    incomplete = tmp_path / "incomplete.npz"
    assert_clean_error(invoke("game", "generate", incomplete, "--members", "13"), "go together")
    assert not incomplete.exists()


def test_paths_say_what_they_are_and_what_was_expected(tmp_path):
    folder = tmp_path / "instances"
    folder.mkdir()
    assert_clean_error(invoke("game", "evaluate", folder),  # once: "no such file" for a folder that exists
                        f"error: {folder}: is a folder, not a regular file; give an instance file (.npz, written by "
                        "`recollective game generate`)")
    readme = tmp_path / "README.md"
    readme.write_text("# notes\n")
    result = invoke("game", "evaluate", readme)
    assert_clean_error(result, f"error: {readme}: not a readable .npz file (it is a text file, not a zip archive of "
                                "arrays); write one with `recollective game generate`")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, R_true=np.array([{"a": 1}], dtype=object), alpha=1.0)
    result = invoke("game", "evaluate", pickled)
    assert_clean_error(result, "(it holds object (pickled) arrays, which are never loaded)")
    assert "allow_pickle" not in result.stderr + result.stdout  # numpy's hint is never the answer here


def test_generate_into_a_folder_named_like_a_file_leaves_nothing(tmp_path):
    target = tmp_path / "out.npz"
    target.mkdir()
    assert_clean_error(invoke("game", "generate", target),
                        f"error: {target} is a folder; give the name of the instance file to write (*.npz)")
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"] and not any(target.iterdir())  # no out.npz.tmp.npz
    written = tmp_path / "g.npz"
    assert invoke("game", "generate", written).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.npz", "out.npz"]
    assert written.stat().st_mode & 0o777 == new_file_mode()  # as a file made with open(), not mkstemp's 0600
