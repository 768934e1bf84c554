"""``recollective campaign run | plan``: the JSON contract, the plan text, bad specifications exiting 2."""

import json

import pytest
from typer.testing import CliRunner

from recollective.cli import app
from taste_groups import readers

runner = CliRunner()


def _write(tmp_path):
    """120 readers in two taste groups over 40 books; book b39 (group B) is rare. Items table with authors."""
    rows = ["user,book,stars"]
    for user, picked, rng in readers(120, 40, per_user=9, rare_every=10):
        rows += [f"u{user},b{item},{int(rng.integers(3, 6))}" for item in picked]
    (tmp_path / "ratings.csv").write_text("\n".join(rows) + "\n")
    items = ["item_id,title,authors"] + [f"b{i},Book {i},{'Rare Author' if i == 39 else f'Author {i}'}"
                                         for i in range(40)]
    (tmp_path / "books.csv").write_text("\n".join(items) + "\n")
    return ["--data", str(tmp_path / "ratings.csv"), "--format", "csv", "--user-col", "user", "--item-col", "book",
            "--rating-col", "stars", "--items", str(tmp_path / "books.csv")]


def test_run_json_contract(tmp_path):
    data = _write(tmp_path)
    args = ["campaign", "run", *data, "--model", "itemknn", "--target-items", "b39", "--participants", "random",
            "--size", "0.2", "--rating", "5", "--split", "random-holdout", "--test-fraction", "0.3", "--seed", "1",
            "--k", "5", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    for key in ("audience_size", "n_participants", "target_exposure_before", "target_exposure_after",
                "ndcg_before", "ndcg_after", "participants_worse_share"):
        assert key in document
    assert document["n_participants"] == 24
    assert document["audience_size"] > 0
    assert document["target_item_ids"] == ["b39"]
    assert document["target_exposure_after"] >= document["target_exposure_before"]
    assert json.loads(runner.invoke(app, args).stdout)["target_exposure_after"] == document["target_exposure_after"]


def test_run_by_author_prints_a_table(tmp_path):
    data = _write(tmp_path)
    result = runner.invoke(app, ["campaign", "run", *data, "--model", "itemknn", "--target-author", "Rare Author",
                                 "--participants", "closest", "--size", "20", "--k", "5", "--test-fraction", "0.3"])
    assert result.exit_code == 0, result.output
    assert "target exposure in the audience" in result.stdout and "participants worse off" in result.stdout
    # amplification is undefined before and after here: the table's – comes with what it means
    assert "  amplification –: undefined: no other items are as frequent in training" in result.stdout
    assert "Read the target exposure rows (the absolute change) instead." in " ".join(result.stdout.split())


def test_plan_prints_an_actionable_plan(tmp_path):
    data = _write(tmp_path)
    result = runner.invoke(app, ["campaign", "plan", *data, "--model", "itemknn", "--target-items", "b39",
                                 "--sizes", "2,10,30", "--policies", "closest,random", "--seeds", "2", "--k", "5",
                                 "--test-fraction", "0.3", "--goal-exposure", "0.3", "--max-participant-loss", "1",
                                 "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["feasible"] and "readers" in document["plan"]
    assert len(document["rows"]) == 6


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target-author", "Nobody Known"], "Nobody Known"),
        (["--target-items", "b999"], "b999"),
        ([], "no targets"),
        (["--target-items", "b39", "--size", "5000"], "campaign.size asks for 5000"),
        (["--target-items", "b39", "--position", "middle"], "campaign.position"),
        (["--target-items", "b39", "--position", "random"], "ordered interactions"),
        (["--target-items", "b39", "--participants", "everyone"], "campaign.participants"),
        (["--target-items", "b39", "--size", "many"], "--size"),
        (["--target-items", "b39", "--score-users", "some"], "--score-users must be one of needed, all; got 'some'"),
        (["--target-items", "b39", "--sample-size", "0"], "--sample-size"),
    ],
)
def test_bad_campaigns_exit_2_naming_the_field(tmp_path, extra, message):
    data = _write(tmp_path)
    result = runner.invoke(app, ["campaign", "run", *data, "--model", "popularity", *extra, "--json"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_run_scores_a_sample_of_the_population_when_asked(tmp_path):
    """--sample-size below the test users: the audience and participants are scored in full, the population's
    numbers come from the sample (with half-widths); --score-users all scores everyone, as before."""
    data = _write(tmp_path)
    args = ["campaign", "run", *data, "--model", "itemknn", "--target-items", "b39", "--participants", "random",
            "--size", "0.2", "--test-fraction", "0.3", "--seed", "1", "--k", "5", "--json"]
    full = json.loads(runner.invoke(app, [*args, "--score-users", "all"]).stdout)
    lean = json.loads(runner.invoke(app, [*args, "--sample-size", "40"]).stdout)
    assert full["n_sampled_users"] == full["n_test_users"] > 40 and lean["n_sampled_users"] == 40
    assert lean["n_scored_users"] < full["n_scored_users"]
    for key in ("target_exposure_before", "target_exposure_after", "audience_size", "n_participants"):
        assert lean[key] == full[key], key  # the audience and the participants: every one of them, both ways
    assert "ndcg_before_ci95" in lean
