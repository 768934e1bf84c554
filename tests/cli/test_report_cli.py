"""``recollective report RUN_DIR``: the HTML report from the command line; bad folders exit 2 with one line."""

import json

import pytest
from typer.testing import CliRunner

from recollective.cli import app
from report.run_folders import write_store, write_sweep_folder

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    keep = ("model", "seed", "participants", "position", "size", "n_participants", "target_exposure_before",
            "target_exposure_after", "ndcg_before", "ndcg_after")
    from report.run_folders import sweep_rows

    return write_store(tmp_path_factory.mktemp("runs") / "small", rows=[{k: r[k] for k in keep} for r in sweep_rows()])


def test_report_json_names_what_was_written(store, tmp_path):
    out = tmp_path / "site" / "index.html"
    result = runner.invoke(app, ["report", str(store), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["html"] == str(out) and out.is_file()
    assert document["sections"] == ["Summary", "Accuracy per group", "Numbers per cell", "Provenance"]
    assert document["n_rows"] == 8 and document["kind"] == "results store"
    assert sorted(str(p) for p in (tmp_path / "site" / "index_files").iterdir()) == sorted(document["files"])
    assert "<script" not in out.read_text().lower()


def test_report_default_path_and_human_output(tmp_path):
    folder = write_sweep_folder(tmp_path / "sweep")
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"wrote {folder / 'report.html'}" in " ".join(result.stdout.split())
    assert (folder / "report.html").is_file() and (folder / "report_files" / "exposure.svg").is_file()


def _absent(tmp):
    return tmp / "absent"


def _empty(tmp):
    return tmp


def _broken_manifest(tmp):
    (tmp / "manifest.json").write_text("{")
    return tmp


def _foreign_rows(tmp):
    (tmp / "summary.json").write_text("{}")
    (tmp / "rows.csv").write_text("a,b\n1,2\n")
    return tmp


def _text_in_a_number_column(tmp):
    folder = write_sweep_folder(tmp / "sweep")
    header, first, *rest = (folder / "rows.csv").read_text().splitlines()
    first = first.split(",")
    first[1] = "x"  # the seed
    (folder / "rows.csv").write_text("\n".join([header, ",".join(first), *rest]) + "\n")
    return folder


def _short_line(tmp):
    folder = write_sweep_folder(tmp / "sweep")
    with (folder / "rows.csv").open("a") as handle:
        handle.write("knn,0\n")
    return folder


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (_absent, "does not exist"),
        (_empty, "holds no results"),
        (_broken_manifest, "manifest.json: not valid JSON"),
        (_foreign_rows, "lack the column(s) model, seed"),
        (_text_in_a_number_column, "rows.csv: line 2 holds a value that is not a number"),
        (_short_line, "line 10 has 2 fields"),
    ],
)
def test_bad_run_folders_exit_2_with_one_line(tmp_path, setup, message):
    folder = setup(tmp_path)
    result = runner.invoke(app, ["report", str(folder), "--json"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not list(tmp_path.rglob("report.html"))


def test_out_that_is_a_folder_is_refused(store, tmp_path):
    result = runner.invoke(app, ["report", str(store), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder" in result.stderr


def test_the_report_gets_the_permissions_of_every_other_output(store, tmp_path):
    from recollective._files import new_file_mode

    out = tmp_path / "report.html"
    assert runner.invoke(app, ["report", str(store), "--out", str(out)]).exit_code == 0
    figures = sorted((tmp_path / "report_files").iterdir())
    assert out.stat().st_mode & 0o777 == new_file_mode()  # once 0600 (mkstemp) while the figures were 0644
    assert {f.stat().st_mode & 0o777 for f in figures} == {new_file_mode()}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
