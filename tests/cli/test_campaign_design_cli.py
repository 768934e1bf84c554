"""``recollective campaign design`` and ``campaign plan --policies ...,optimized``: JSON contract, files, errors."""

import json

import pytest
from tests.cli.test_campaign_cli import _write
from typer.testing import CliRunner

from recollective.cli import app

runner = CliRunner()

DESIGN = ["campaign", "design", "--model", "itemknn", "--target-author", "Rare Author", "--k", "5",
          "--test-fraction", "0.3", "--seed", "1"]


def test_design_json_contract_and_files(tmp_path):
    data = _write(tmp_path)
    out = tmp_path / "plan"
    result = runner.invoke(app, [*DESIGN, *data, "--max-participants", "6", "--out", str(out), "--swap-rounds", "1",
                                 "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["target_item_ids"] == ["b39"]
    verified = document["verified"]
    assert verified["target_exposure_after"] > verified["target_exposure_before"]
    assert verified["approximation_error"] == 0.0  # item-kNN gains are exact
    assert 1 <= len(document["strategy"]) <= 6
    first = document["strategy"][0]
    assert first["item_ids"] == ["b39"] and first["titles"] == ["Book 39"] and first["user_id"].startswith("u")
    assert {p.split("/")[-1] for p in document["files"]} == {
        "plan.md", "plan.csv", "design.json", "design.html", "design_trace.png", "design_trace.svg",
        "design_trace.csv"}
    assert "Who does what" in (out / "plan.md").read_text() and "exchange trial(s)" in (out / "plan.md").read_text()
    trace = (out / "design_trace.csv").read_text().splitlines()
    assert trace[0].endswith(",stage") and any(line.endswith(",exchange not kept") or line.endswith(",exchange kept")
                                               for line in trace)
    assert (out / "plan.csv").read_text().count("\n") == 1 + len(document["strategy"])
    assert json.loads((out / "design.json").read_text())["feasible"] == document["feasible"]


def test_design_prints_progress_and_the_plan(tmp_path):
    data = _write(tmp_path)
    result = runner.invoke(app, [*DESIGN, *data, "--max-participants", "3"])
    assert result.exit_code == 0, result.output
    assert "step 1/3" in result.stderr and "estimated reach" in result.stderr
    assert "exchange: 1 reader(s) traded" in result.stderr  # the exchange runs by default (--exchange-rounds 8)
    assert "audience reached" in result.stdout and "Book 39" in result.stdout


def test_pool_file_limits_who_acts(tmp_path):
    data = _write(tmp_path)
    (tmp_path / "pool.csv").write_text("user_id,name\nu0,a\nu2,b\nu4,c\n")
    result = runner.invoke(app, [*DESIGN, *data, "--max-participants", "5", "--pool", str(tmp_path / "pool.csv"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    chosen = {row["user_id"] for row in json.loads(result.stdout)["strategy"]}
    assert chosen <= {"u0", "u2", "u4"}


@pytest.mark.parametrize(
    ("pool", "extra", "message"),
    [
        ("u0\nu999\n", [], "unknown user id 'u999'"),
        ("", [], "pool file is empty"),
        (b"u0\n\xff\xfe\n", [], "not UTF-8 text"),
        (None, ["--values", "five"], "--values"),
        (None, ["--goal-exposure", "1.5"], "--goal-exposure"),
        (None, ["--robust-seeds", "2", "--model", "ease"], "deterministic"),
        (None, ["--position", "random"], "ordered interactions"),
        (None, ["--constructions", "greedy,closests"], "got 'closests'"),
        (None, ["--exchange-rounds", "-1"], "--exchange-rounds must be greater than or equal to 0"),
    ],
)
def test_bad_designs_exit_2_with_one_line(tmp_path, pool, extra, message):
    data = _write(tmp_path)
    args = [*DESIGN, *data, *extra, "--json"]
    if pool is not None:
        path = tmp_path / "pool.txt"
        path.write_bytes(pool) if isinstance(pool, bytes) else path.write_text(pool)
        args += ["--pool", str(tmp_path / "pool.txt")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_plan_with_the_optimized_policy_keeps_its_row_fields(tmp_path):
    data = _write(tmp_path)
    result = runner.invoke(app, ["campaign", "plan", *data, "--model", "itemknn", "--target-items", "b39",
                                 "--sizes", "2,6", "--policies", "closest,optimized", "--seeds", "1", "--k", "5",
                                 "--test-fraction", "0.3", "--goal-exposure", "0.3", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert {row["participants"] for row in rows} == {"closest", "optimized"}
    for row in rows:
        for key in ("participants", "size", "n_participants", "target_exposure_after"):
            assert key in row


def test_dataset_strings_print_as_they_are(tmp_path):
    data = _write(tmp_path)
    books = (tmp_path / "books.csv").read_text().replace("Book 39", "[bold]Bo[/bold]ld [/]")
    (tmp_path / "books.csv").write_text(books)
    result = runner.invoke(app, [*DESIGN, *data, "--max-participants", "2"])
    assert result.exit_code == 0, result.output
    assert "[bold]Bo[/bold]ld [/]" in result.stdout
