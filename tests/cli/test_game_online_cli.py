"""``recollective game online``: the JSON contract, consistency with the one-shot engine, and bad input."""

import json

import numpy as np
import pytest

from recollective.game import CollectiveStrategy, load_instance, outcome

from .helpers import invoke


def test_contract_fields_and_consistency_with_one_shot(instance_file):
    result = invoke(
        "game", "online", instance_file, "--rounds", 7, "--explore-rounds", 2, "--observe-prob", 1.0,
        "--noise", 0, "--estimator", "usvt", "--seed", 4, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    instance = load_instance(instance_file)
    expected = outcome(instance.R_true, None, instance.alpha)
    assert len(document["welfare_per_round"]) == 7
    assert document["final_top_items"] == expected.top_items.tolist()
    assert document["welfare_per_round"][-1] == pytest.approx(expected.social_welfare, rel=1e-12)
    assert document["rank_per_round"][:2] == [-1, -1]


def test_learner_sees_r_reported(tmp_path, instance_file):
    instance = load_instance(instance_file)
    reported = CollectiveStrategy([13], [45], 3.6).apply(instance.R_true)
    path = tmp_path / "reported.npz"
    np.savez(path, R_true=instance.R_true, R_reported=reported, alpha=instance.alpha)
    result = invoke("game", "online", path, "--rounds", 3, "--explore-rounds", 1, "--observe-prob", 1, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["final_top_items"] == outcome(instance.R_true, reported, instance.alpha).top_items.tolist()


def test_collective_runs_with_a_truthful_comparison(instance_file):
    result = invoke(
        "game", "online", instance_file, "--rounds", 12, "--explore-rounds", 6, "--noise", 0.1, "--seeds", 3,
        "--members", "13", "--targets", "45", "--uprating", 3.6, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["summary"]["seeds"] == [0, 1, 2]
    assert document["truthful"]["seeds"] == [0, 1, 2]
    # exploration draws are shared, so the first round is identical with and without the collective
    assert document["summary"]["welfare"]["mean"][0] == document["truthful"]["welfare"]["mean"][0]
    assert len(document["summary"]["welfare"]["ci95_low"]) == 12


def test_human_output(instance_file):
    result = invoke("game", "online", instance_file, "--rounds", 5, "--explore-rounds", 2, "--seeds", 2)
    assert result.exit_code == 0, result.output
    assert "welfare (mean ± 95% CI)" in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--rounds", 3, "--explore-rounds", 5], "explore_rounds (5) must be <= rounds (3)"),
        (["--observe-prob", 2], "observe_prob"),
        (["--estimator", "magic"], "estimator"),
        (["--noise", -1], "noise"),
        (["--members", "1"], "go together"),
        (["--members", "500", "--targets", "45", "--uprating", 1], "members: user index 500 is out of range"),
        (["--seeds", 0], "--seeds"),
    ],
)
def test_bad_inputs_exit_2(instance_file, args, needle):
    result = invoke("game", "online", instance_file, *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], result.stderr
    assert "Value error" not in lines[0]  # no pydantic prefix in a user's error


def test_not_an_instance_file(tmp_path):
    path = tmp_path / "x.npz"
    path.write_text("nope")
    result = invoke("game", "online", path)
    assert result.exit_code == 2
    assert "not a readable .npz" in result.stderr
