"""``recollective models list | evaluate``: the JSON contract, the table, and bad input exiting 2."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from recollective.cli import app
from recollective.cli._options import parse_params
from recollective.cli._output import handles_errors

runner = CliRunner()


def _write_blocks(path, seed=0):
    """Two reader groups, each reading within its own 20-book block (CF can learn it; popularity cannot)."""
    rng = np.random.default_rng(seed)
    rows = ["user,book,stars"]
    for user in range(80):
        block = np.arange(20) + 20 * (user % 2)
        for item in rng.choice(block, size=10, replace=False):
            rows.append(f"u{user},b{item},{int(rng.integers(1, 6))}")
    path.write_text("\n".join(rows) + "\n")


DATA_FLAGS = ["--format", "csv", "--user-col", "user", "--item-col", "book", "--rating-col", "stars"]


def _evaluate(path, *extra):
    args = ["models", "evaluate", "--data", str(path), *DATA_FLAGS, "--split", "random-holdout"]
    return runner.invoke(app, [*args, "--test-fraction", "0.3", "--seed", "3", "--k", "5", *extra])


def test_evaluate_json_contract_and_cf_beats_popularity(tmp_path):
    path = tmp_path / "ratings.csv"
    _write_blocks(path)
    documents = {}
    for model in ("popularity", "itemknn"):
        result = _evaluate(path, "--model", model, "--json")
        assert result.exit_code == 0, result.output
        documents[model] = json.loads(result.stdout)
    for document in documents.values():
        for key in ("recall", "ndcg", "precision", "hit_rate", "coverage", "n_test_users"):
            assert key in document
        assert document["n_test_users"] == 80
        assert 0 <= document["recall"] <= 1 and 0 <= document["coverage"] <= 1
    assert documents["itemknn"]["recall"] > documents["popularity"]["recall"] + 0.1
    again = json.loads(_evaluate(path, "--model", "itemknn", "--json").stdout)
    assert again["recall"] == documents["itemknn"]["recall"]


def test_evaluate_prints_a_table(tmp_path):
    path = tmp_path / "ratings.csv"
    _write_blocks(path)
    result = _evaluate(path, "--model", "popularity")
    assert result.exit_code == 0, result.output
    assert "recall@5" in result.stdout and "test users" in result.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "nosuchmodel"], "nosuchmodel"),
        (["--model", "popularity", "--param", "by=median"], "by must be one of"),
        (["--model", "popularity", "--param", "factors=3"], "unknown hyper-parameter 'factors'"),
        (["--model", "popularity", "--param", "oops"], "name=value"),
        (["--model", "popularity", "--test-fraction", "1.5"], "fraction"),
        (["--model", "popularity", "--user-col", "reader"], "reader"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, extra, message):
    path = tmp_path / "ratings.csv"
    _write_blocks(path)
    result = _evaluate(path, *extra)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_file_exits_2(tmp_path):
    result = runner.invoke(app, ["models", "evaluate", "--data", str(tmp_path / "absent.csv"), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "absent.csv" in result.stderr


def test_list_names_every_model():
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    names = [row["model"] for row in json.loads(result.stdout)["models"]]
    assert names == ["popularity", "puresvd", "als", "bpr", "itemknn", "ease", "sequential", "llm"]


def test_parse_params_converts_without_evaluating():
    assert parse_params(["factors=32", "alpha=0.5", "binary=true", "rng=none", "rank_rule=fixed"]) == {
        "factors": 32, "alpha": 0.5, "binary": True, "rng": None, "rank_rule": "fixed"}
    assert parse_params(["x=__import__('os')"]) == {"x": "__import__('os')"}


def test_os_errors_become_one_line(capsys):
    import typer

    @handles_errors
    def denied():
        raise PermissionError(13, "Permission denied", "/root/secret.csv")

    with pytest.raises(typer.Exit) as exit_info:
        denied()
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: cannot access /root/secret.csv: Permission denied; check the path and its permissions"


def test_sequential_fit_reports_epochs_through_a_progress_callback_and_restores_it(tmp_path):
    from recollective.cli.models import fitting_progress
    from recollective.models import make_model

    model = make_model("sequential", epochs=2, embedding_dim=8, n_negatives=None, patience=None)
    seen = []
    with fitting_progress(model, "fitting", quiet=True):
        callback = model.get_params()["progress"]
        assert callable(callback)
        model.set_params(progress=lambda e, n, m: (seen.append((e, n)), callback(e, n, m)))
        from models.contract import block_interactions

        model.fit(block_interactions()[0])
    assert seen == [(1, 2), (2, 2)]
    assert model.get_params()["progress"] is None


def test_column_flags_read_a_goodbooks_named_file_without_format(shared_data):
    """The README's `--data ratings_random.csv --user-col user_id ...` needs no --format: the column flags select
    the generic reader although the name says goodbooks-10k."""
    ratings = shared_data / "goodbooks-10k" / "ratings_random.csv"
    columns = ["--user-col", "user_id", "--item-col", "book_id", "--rating-col", "rating"]
    result = runner.invoke(app, ["models", "evaluate", "--data", str(ratings), *columns, "--model", "popularity",
                                 "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["n_users"] == 2672 and document["n_items"] == 9990
    explicit = runner.invoke(app, ["models", "evaluate", "--data", str(ratings), "--format", "goodbooks", *columns,
                                   "--json"])
    assert explicit.exit_code == 2 and explicit.stdout == ""
    assert explicit.stderr.startswith("error: --item-col, --rating-col, --user-col do not apply to --format goodbooks")
