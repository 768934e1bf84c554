"""End-to-end tests of ``recollective data inspect | convert`` through Typer's CliRunner (the root app)."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from recollective.cli import app

from .helpers import assert_error_line

runner = CliRunner()
CORPUS = Path(__file__).parents[1] / "data" / "malformed"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))


def invoke(*args):
    return runner.invoke(app, ["data", *(str(a) for a in args)])



def _contract(path: Path, sep: str, *extra) -> list:
    return [
        "inspect",
        path,
        "--format",
        "csv",
        "--sep",
        sep,
        "--encoding",
        "utf-8",
        "--user-col",
        "who",
        "--item-col",
        "what",
        "--rating-col",
        "stars",
        *extra,
        "--json",
    ]


def test_inspect_contract_counts_after_dropping_exact_duplicates(tmp_path):
    path = tmp_path / "ratings.txt"
    path.write_text("who|what|stars\nann|b1|4\nann|b2|5\nann|b1|4\nbo|b1|3\ncy|b3|1\nbo|b1|3\n")
    result = invoke(*_contract(path, "|"))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["n_users"], document["n_items"], document["n_interactions"]) == (3, 3, 4)
    assert document["n_bad_lines"] == 0 and document["n_duplicate_rows"] == 2
    assert document["density"] == pytest.approx(4 / 9)
    assert document["ratings"]["counts"] == {"1": 1, "3": 1, "4": 1, "5": 1}
    assert result.stderr == ""


def test_inspect_contract_with_skip_bad_lines(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("who,what,stars\nann,b1,4\nann,b2\nbo,b1,x\nbo,b2,2\nbo,b2,2,9\ncy,b2,5\n")
    failed = invoke(*_contract(path, ","))
    assert_error_line(failed, f"{path}: line 3: 2 fields separated by ',' but the header has 3 (a line cut short?)")
    result = invoke(*_contract(path, ",", "--skip-bad-lines"))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["n_users"], document["n_items"], document["n_interactions"], document["n_bad_lines"]) == (
        3,
        2,
        3,
        3,
    )


def test_inspect_counts_conflicting_duplicates_and_keeps_the_last(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("who,what,stars\nann,b1,4\nann,b1,2\nbo,b1,3\n")
    result = invoke(*_contract(path, ","))
    document = json.loads(result.stdout)
    assert document["n_interactions"] == 3 and document["n_stored"] == 2 and document["n_conflicting_rows"] == 1
    assert document["ratings"]["counts"] == {"2": 1, "3": 1}
    strict = invoke(*_contract(path, ",", "--duplicates", "error"))
    assert_error_line(strict)
    assert "line 3: user 'ann' and item 'b1' again (first on line 2)" in strict.stderr


def test_inspect_goodbooks_human_output_and_json(shared_data):
    result = invoke("inspect", shared_data / "goodbooks-10k", "--top", 3)
    assert result.exit_code == 0, result.output
    for text in ("298,176", "2,672", "9,990", "J.K. Rowling", "Stephen King", "top authors by interactions"):
        assert text in result.stdout
    document = json.loads(invoke("inspect", shared_data / "goodbooks-10k", "--top", 3, "--json").stdout)
    assert document["format"] == "goodbooks" and document["n_interactions"] == 298_176
    assert [row["author"] for row in document["authors"]["top"]] == ["J.K. Rowling", "Stephen King", "Suzanne Collins"]


def test_inspect_goodreads_signals(shared_data):
    path = shared_data / "goodreads-ucsd-sample" / "goodreads_interactions_children_sample.json"
    counts = {}
    for signal in ("rating", "read", "shelved"):
        document = json.loads(invoke("inspect", path, "--signal", signal, "--json").stdout)
        counts[signal] = (document["n_interactions"], document["n_users"], document["n_items"])
    assert counts == {"rating": (3_778, 233, 2_249), "read": (3_862, 235, 2_284), "shelved": (5_000, 261, 2_856)}


def test_convert_writes_parquet_and_items_atomically(shared_data, tmp_path):
    out = tmp_path / "ml.parquet"
    result = invoke("convert", shared_data / "movielens-latest-small", out, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["written"] == [str(out), str(tmp_path / "ml.items.parquet")]
    assert (document["n_users"], document["n_items"], document["n_interactions"]) == (610, 9_724, 100_836)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ml.items.parquet", "ml.parquet"]
    table = pq.read_table(out)
    assert table.num_rows == 100_836 and table.column_names == ["user_id", "item_id", "value", "order"]
    again = invoke("inspect", out, "--rating-col", "value", "--order-col", "order", "--json")
    assert json.loads(again.stdout)["n_interactions"] == 100_836
    human = invoke("convert", shared_data / "movielens-latest-small", tmp_path / "again.parquet")
    assert human.exit_code == 0 and "wrote" in human.stdout and "100,836 interactions" in human.stdout


def _cli_options(entry: dict) -> list[str]:
    args = ["--format", entry["format"]]
    for key, value in entry.get("options", {}).items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, list):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, str(value)]
    return args


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_malformed_file_exits_2_with_one_line_and_writes_nothing(name, tmp_path):
    entry = EXPECTED[name]
    path = CORPUS / name
    out = tmp_path / "out.parquet"
    result = invoke("convert", path, out, *_cli_options(entry))
    assert_error_line(result, entry["error"].replace("{path}", str(path)))
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file left behind


def test_usage_errors_are_one_line_too(shared_data, tmp_path):
    assert_error_line(
        invoke("inspect", shared_data / "movielens-latest-small", "--signal", "read"),
        "--signal does not apply to --format movielens",
    )
    assert_error_line(invoke("convert", shared_data / "goodbooks-10k", tmp_path / "out.csv"))
    assert_error_line(invoke("inspect", tmp_path / "missing.csv"), f"{tmp_path / 'missing.csv'}: no such file")
    assert_error_line(
        invoke(
            "inspect", shared_data / "goodbooks-10k" / "ratings_random.csv", "--format", "csv", "--rating-range", "x"
        )
    )
    assert list(tmp_path.iterdir()) == []


def test_data_group_is_registered():
    result = runner.invoke(app, ["data", "--help"])
    assert result.exit_code == 0 and "inspect" in result.stdout and "convert" in result.stdout


def test_load_any_is_the_dispatch_other_commands_share(shared_data):
    from recollective.cli.data import DataFormat, load_any

    result = load_any(shared_data / "goodbooks-10k" / "ratings_random.csv", format=DataFormat.csv, item_col="book_id")
    assert (result.interactions.n_interactions, result.interactions.n_items) == (298_176, 9_990)
    assert result.interactions.matrix.data.max() == 1.0  # no --rating-col: implicit
    assert load_any(shared_data / "goodbooks-10k", format="goodbooks").interactions.item_metadata is not None


# --------------------------------------------------------- special files, long values, markup, items tables
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_special_file_is_one_error_line_and_writes_nothing(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "in" / "ratings.csv"
        path.parent.mkdir()
        os.mkfifo(path)
        what = "a FIFO (named pipe)"
    else:
        path, what = Path("/dev/zero"), "a character device"
    out = tmp_path / "out"
    out.mkdir()
    expected = f"{path}: is {what}, not a regular file; give the data file"
    assert_error_line(invoke("inspect", path, "--format", "csv"), expected)
    assert_error_line(invoke("convert", path, out / "x.parquet", "--format", "csv"), expected)
    ratings = tmp_path / "r.csv"
    ratings.write_text("user_id,item_id\nu1,1\n")
    assert_error_line(invoke("convert", ratings, out / "x.parquet", "--items", path),
                       f"{path}: is {what}, not a regular file; give the items table (--items)")
    assert list(out.iterdir()) == []


def test_a_ten_megabyte_field_gives_a_short_error_line(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("user_id,item_id,rating\nu1,1,5\nu2,2," + "7" * 10_000_000 + "x\n")
    result = invoke("inspect", path, "--rating-col", "rating")
    assert_error_line(result)
    assert len(result.stderr) < 400 and "... (10,000,001 characters) is not a number" in result.stderr


def test_dataset_strings_are_printed_as_they_are_never_as_rich_markup(tmp_path):
    ratings = tmp_path / "r.csv"
    ratings.write_text("user_id,item_id\nu1,1\nu2,1\nu3,2\n")
    books = tmp_path / "books.csv"
    books.write_text('item_id,title,primary_author\n1,A,[/]\n2,B,"[bold]Bo[/bold]ld"\n')
    result = invoke("inspect", ratings, "--items", books, "--top", "5")
    assert result.exit_code == 0, result.output  # once: MarkupError on "[/]"
    assert "│ [/]" in result.stdout and "│ [bold]Bo[/bold]ld" in result.stdout


def test_items_table_follows_sep_and_encoding(tmp_path):
    ratings = tmp_path / "r.csv"
    ratings.write_text("user_id;item_id\nu1;1\nu2;1\nu3;2\n")
    books = tmp_path / "books.csv"
    books.write_bytes("item_id;title;primary_author\n1;Café;Renée Dupré\n2;Naïve;Zoë\n".encode("latin-1"))
    result = invoke("inspect", ratings, "--sep", ";", "--encoding", "latin-1", "--items", books, "--json")
    assert result.exit_code == 0, result.output
    top = json.loads(result.stdout)["authors"]["top"]
    assert [(row["author"], row["n_interactions"]) for row in top] == [("Renée Dupré", 2), ("Zoë", 1)]


def test_convert_writes_files_with_the_usual_permissions(tmp_path):
    from recollective._files import new_file_mode

    ratings = tmp_path / "r.csv"
    ratings.write_text("user_id,item_id,title\nu1,1,A\n")
    books = tmp_path / "books.csv"
    books.write_text("item_id,title\n1,A\n")
    assert invoke("convert", ratings, tmp_path / "r.parquet", "--items", books).exit_code == 0
    for name in ("r.parquet", "r.items.parquet"):
        assert (tmp_path / name).stat().st_mode & 0o777 == new_file_mode()  # not mkstemp's 0600
