"""The results store: manifest, atomic Parquet files, resume without duplicates, rows sorted by cell."""

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from recollective.cli import app
from recollective.errors import DataError
from recollective.experiments import (
    CELL_KEYS,
    ResultsStore,
    expand_cells,
    load_experiment_config,
    load_results,
    load_table,
    run_experiment,
)

from .helpers import write_config


@pytest.fixture
def small(tmp_path):
    return load_experiment_config(write_config(tmp_path))


def test_run_writes_manifest_and_rows_sorted_by_cell(tmp_path, small):
    calls = []
    summary = run_experiment(small, tmp_path / "runs", progress=lambda done, total, info: calls.append(done))
    run_dir = tmp_path / "runs" / "small"
    assert summary["run_dir"] == str(run_dir)
    assert (summary["total"], summary["ran"], summary["skipped"], summary["stored"]) == (4, 4, 0, 4)
    assert calls == [0, 1, 2, 3, 4]
    rows = load_results(run_dir)
    assert [tuple(row[key] for key in CELL_KEYS) for row in rows] == [
        ("popularity", "random", "append", 5, 0), ("popularity", "random", "append", 5, 1),
        ("popularity", "random", "append", 15, 0), ("popularity", "random", "append", 15, 1),
    ]
    assert all(isinstance(row["size"], int) and isinstance(row["n_participants"], int) for row in rows)
    assert [row["n_participants"] for row in rows] == [5, 5, 15, 15]
    table = load_table(run_dir)
    assert table.column_names == ["cell", *CELL_KEYS, *small.metrics]
    assert str(table.schema.field("size").type) == "double"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["config"]["name"] == "small" and manifest["config"]["world"]["n_users"] == 200
    assert [cell["cell"] for cell in manifest["cells"]] == [row["cell"] for row in rows]
    assert manifest["versions"]["numpy"] and manifest["versions"]["python"]
    assert manifest["machine"]["cpu_count"] >= 1
    assert "git" in manifest
    assert manifest["runs"][-1]["finished"] and manifest["runs"][-1]["cells_ran"] == 4
    assert len(list(run_dir.glob("rows-*.parquet"))) == 4  # one file per cell in this process
    metadata = pq.read_schema(next(run_dir.glob("rows-*.parquet"))).metadata
    assert float(metadata[b"seconds"]) >= 0


def test_resume_skips_stored_cells_and_recomputes_lost_ones(tmp_path, small):
    root = tmp_path / "runs"
    run_experiment(small, root)
    first = load_results(root / "small")
    again = run_experiment(small, root)
    assert (again["ran"], again["skipped"]) == (0, 4)
    files = sorted((root / "small").glob("rows-*.parquet"))
    files[1].unlink()
    (root / "small" / ".tmp-rows-half.parquet.x").write_bytes(b"PAR1 half-written")  # a killed write
    resumed = run_experiment(small, root)
    assert (resumed["ran"], resumed["skipped"]) == (1, 3)
    assert load_results(root / "small") == first
    assert not list((root / "small").glob(".tmp-*"))  # the next run removes leftovers
    assert len(json.loads((root / "small" / "manifest.json").read_text())["runs"]) == 3


def test_a_reader_ignores_temporary_files(tmp_path, small):
    run_experiment(small, tmp_path)
    rows = load_results(tmp_path / "small")
    (tmp_path / "small" / ".tmp-rows-abc.parquet.123").write_bytes(b"garbage")
    assert load_results(tmp_path / "small") == rows


def test_grid_changes_reuse_unchanged_cells(tmp_path):
    root = tmp_path / "runs"
    run_experiment(load_experiment_config(write_config(tmp_path)), root)
    bigger = load_experiment_config(write_config(tmp_path, replace={"seeds = [0, 1]": "seeds = [0, 1, 2]"}))
    summary = run_experiment(bigger, root)
    assert (summary["ran"], summary["skipped"], summary["total"]) == (2, 4, 6)
    assert len(load_results(root / "small")) == 6
    changed = load_experiment_config(write_config(tmp_path, replace={"n_users = 200": "n_users = 210"}))
    summary = run_experiment(changed, root)
    assert (summary["ran"], summary["skipped"]) == (4, 0)
    rows = load_results(root / "small")  # only the current config's cells, no stale rows
    assert len(rows) == 4 and {row["cell"] for row in rows} == {
        cell["cell"] for cell in json.loads((root / "small" / "manifest.json").read_text())["cells"]
    }


def test_batches_give_the_same_rows(tmp_path, small):
    run_experiment(small, tmp_path / "one")
    summary = run_experiment(small, tmp_path / "four", batch_size=4)
    assert summary["ran"] == 4
    assert len(list((tmp_path / "four" / "small").glob("rows-*.parquet"))) == 2  # one per (model, seed)
    assert load_results(tmp_path / "four" / "small") == load_results(tmp_path / "one" / "small")


def test_one_writer_at_a_time(tmp_path, small):
    store = ResultsStore(tmp_path / "small")
    with store.lock(), pytest.raises(DataError, match="being written by another run"):
        run_experiment(small, tmp_path)


def test_reading_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(DataError, match=r"no manifest\.json"):
        load_results(tmp_path)


def test_run_command_summary_and_json(tmp_path):
    config = write_config(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(config), "--out", str(tmp_path / "runs"), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["total"], document["ran"], document["skipped"]) == (4, 4, 0)
    assert document["run_dir"] == str(tmp_path / "runs" / "small")
    result = runner.invoke(app, ["run", str(config), "--out", str(tmp_path / "runs"), "--quiet"])
    assert result.exit_code == 0
    assert "small: 4/4 cells stored (0 run now, 4 already stored)" in result.stdout
    assert f"results in {tmp_path / 'runs' / 'small'}" in result.stdout
    assert len(expand_cells(load_experiment_config(config))) == 4




def _edit_a_value(path):
    """Change one stored number in place, keeping the file a valid Parquet file (as a hand edit would)."""
    import pyarrow as pa

    table = pq.read_table(path)
    column = table.column_names.index("ndcg_after")
    table = table.set_column(column, "ndcg_after", pa.array([0.123456] * table.num_rows))
    pq.write_table(table, path)


def test_the_manifest_records_a_checksum_per_rows_file_and_no_lock_is_left(tmp_path, small):
    from recollective.experiments._store import file_sha256

    run_experiment(small, tmp_path)
    run_dir = tmp_path / "small"
    files = json.loads((run_dir / "manifest.json").read_text())["files"]
    assert sorted(files) == sorted(p.name for p in run_dir.glob("rows-*.parquet"))
    assert all(record == {"sha256": file_sha256(run_dir / name), "n_cells": 1} for name, record in files.items())
    assert not (run_dir / ".lock").exists()  # removed when the run finished
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(["manifest.json", *files])


@pytest.mark.parametrize("damage", ["edited", "truncated", "missing", "unrecorded_truncated"])
def test_run_recomputes_damaged_files_and_readers_refuse_them(tmp_path, small, damage):
    run_experiment(small, tmp_path)
    run_dir = tmp_path / "small"
    reference = load_results(run_dir)
    victim = sorted(run_dir.glob("rows-*.parquet"))[2]
    if damage == "edited":
        _edit_a_value(victim)
    elif damage == "missing":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes()[:-40])
    if damage == "unrecorded_truncated":  # as a killed run leaves it: written, not yet in the manifest
        manifest = json.loads((run_dir / "manifest.json").read_text())
        del manifest["files"][victim.name]
        (run_dir / "manifest.json").write_text(json.dumps(manifest))
    if damage in ("edited", "truncated"):
        with pytest.raises(DataError) as error:
            load_results(run_dir)
        assert str(error.value) == (
            f"{victim}: altered or truncated after the run wrote it (its SHA-256 differs from manifest.json); run the "
            "experiment again (recollective run CONFIG) to compute its cells afresh"
        )
        report = CliRunner().invoke(app, ["report", str(run_dir)])
        assert report.exit_code == 2 and report.stderr.strip() == f"error: {error.value}"
        assert not (run_dir / "report.html").exists()
    config = write_config(tmp_path)
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["ran"], document["skipped"]) == (1, 3)
    problem = {
        "edited": "was altered or truncated after it was written (its SHA-256 differs from manifest.json); removed, "
        "its cells are computed again",
        "truncated": "was altered or truncated after it was written (its SHA-256 differs from manifest.json); "
        "removed, its cells are computed again",
        "missing": "is missing; its 1 cell(s) are computed again",
        "unrecorded_truncated": "cannot be read (a truncated or damaged Parquet file); removed, its cells are "
        "computed again",
    }[damage]
    assert document["repaired"] == [f"{victim} {problem}"]
    notes = [line for line in result.stderr.splitlines() if not line.startswith("[")]  # not the progress lines
    assert notes == [f"note: {victim} {problem}"]
    assert load_results(run_dir) == reference
    assert json.loads((run_dir / "manifest.json").read_text())["runs"][-1]["files_repaired"] == 1
