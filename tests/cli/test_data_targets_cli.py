"""``recollective data targets``: long-tail targets and their audience from a generic CSV; bad input exits 2."""

import json

import numpy as np
from typer.testing import CliRunner

from recollective.cli import app

runner = CliRunner()


def _write_ratings(path, seed=0):
    rng = np.random.default_rng(seed)
    rows = ["user_id,item_id,rating"]
    for user in range(60):
        items = rng.choice(40, size=12, replace=False, p=np.r_[np.full(5, 0.12), np.full(35, 0.4 / 35)])
        rows += [f"u{user},i{item},{int(rng.integers(1, 6))}" for item in items]
    path.write_text("\n".join(rows) + "\n")
    items = ["item_id,title,authors"] + [f"i{item},Book {item},Author {item // 2}" for item in range(40)]
    (path.parent / "items.csv").write_text("\n".join(items) + "\n")


def test_longtail_targets_json(tmp_path):
    path = tmp_path / "ratings.csv"
    _write_ratings(path)
    args = ["data", "targets", str(path), "--format", "csv", "--rating-col", "rating", "--head-share", "0.5"]
    args += ["--items", str(tmp_path / "items.csv")]
    result = runner.invoke(app, [*args, "--min-audience", "1", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["data"] == {"n_interactions": 720, "n_items": 40, "n_users": 60}
    assert document["split"]["n_train"] + document["split"]["n_test"] == 720
    audience = document["targets"]["audience"]
    assert audience["n_users"] == len(audience["user_ids"]) > 0


def test_bad_column_exits_2(tmp_path):
    path = tmp_path / "ratings.csv"
    _write_ratings(path)
    result = runner.invoke(app, ["data", "targets", str(path), "--format", "csv", "--user-col", "reader"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "reader" in lines[0]


def test_split_names_are_those_of_every_command_and_the_former_spellings_still_work(tmp_path):
    path = tmp_path / "ratings.csv"
    _write_ratings(path)
    lines = path.read_text().splitlines()  # an order column: the line number
    path.write_text("\n".join([lines[0] + ",ts"] + [f"{line},{n}" for n, line in enumerate(lines[1:])]) + "\n")
    args = ["data", "targets", str(path), "--format", "csv", "--order-col", "ts", "--by", "item", "--min-audience", "1"]
    args.append("--json")
    documents = {}
    for name in ("random", "random-holdout", "last", "leave-last-out", "temporal"):
        result = runner.invoke(app, [*args, "--split", name])
        assert result.exit_code == 0, result.output
        documents[name] = json.loads(result.stdout)["split"]
    assert documents["random"] == documents["random-holdout"]
    assert documents["random"]["kind"] == "random-holdout" and documents["random"]["test_fraction"] == 0.2
    assert documents["last"] == documents["leave-last-out"]
    assert documents["last"]["n_test"] == 60 and documents["last"]["test_fraction"] is None
    assert documents["temporal"]["n_test"] == 144  # round(0.2 * 720)
    result = runner.invoke(app, [*args, "--split", "sideways"])
    assert result.exit_code == 2 and "random-holdout" in result.output
