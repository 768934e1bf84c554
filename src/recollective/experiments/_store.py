"""The results store of one run: ``<root>/<name>/manifest.json`` and Parquet files of finished cells.

Layout::

    runs/<name>/
        manifest.json       config, columns, cells (keys + hash, grid order), versions, git, machine, runs, timings,
                            files (the SHA-256 and cell count of every rows file)
        rows-<id>.parquet   one file per finished batch of cells (a batch is one cell or a few)
        .lock               held (flock) by the run writing here; removed when it finishes (the OS releases the
                            lock of a run that dies)

Every file is written to a temporary name in the same folder, flushed, fsync'ed and renamed over its final name
(``os.replace``), so a reader sees a whole file or none; readers look only at ``rows-*.parquet`` and ignore
temporary files. A cell is stored when its hash is in some file; resuming skips those cells.

Integrity: the manifest records each rows file's SHA-256 (during a run at least every few seconds, and at its
end). A run checks every file first (:meth:`ResultsStore.check_files`): a recorded file that is missing, truncated
or altered, or an unrecorded one that cannot be read, is removed and its cells are computed again, with a note
saying which. Readers (:func:`load_results`, the report) refuse a store whose recorded files do not match.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from recollective._files import atomic_write_bytes
from recollective.errors import DataError

__all__ = ["ResultsStore", "load_results", "load_table"]

MANIFEST = "manifest.json"
_TEXT_COLUMNS = ("cell", "model", "participants", "position")
_INT_COLUMNS = frozenset(
    {"seed", "n_participants", "n_actions", "audience_size", "n_selected", "n_test_users",
     "n_participants_in_test", "hits_before", "hits_after"}
)


def _column_type(name: str) -> pa.DataType:
    if name in _TEXT_COLUMNS:
        return pa.string()
    return pa.int64() if name in _INT_COLUMNS else pa.float64()


def _atomic_write(path: Path, write) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, fsync it, rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, write)


def write_json_atomic(path: Path, document: dict) -> None:
    """``document`` as indented JSON (NaN refused), written atomically."""
    text = json.dumps(document, indent=1, sort_keys=True, allow_nan=False) + "\n"
    _atomic_write(Path(path), lambda handle: handle.write(text.encode()))


def file_sha256(path: Path) -> str:
    """The SHA-256 (hex) of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ResultsStore:
    """The folder of one run. Create it with the run folder (``<root>/<name>``)."""

    def __init__(self, run_dir) -> None:
        self.run_dir = Path(run_dir)

    # --------------------------------------------------------------------------------------- writing
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run folder for writing; DataError when another live process holds it. The lock file is
        removed on the way out (while still held), so a finished run leaves none behind."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / ".lock"
        while True:
            handle = open(path, "a")  # noqa: SIM115 - held for the whole block
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise DataError(
                    f"{self.run_dir} is being written by another run; wait for it or choose another --out"
                ) from None
            try:  # the holder before us may have removed the file we locked: lock the one on disk then
                same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            handle.close()
        try:
            self._remove_temporaries()
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            handle.close()

    def _remove_temporaries(self) -> None:
        """Delete temporary files a killed run left behind (only while holding the lock)."""
        for leftover in self.run_dir.glob(".tmp-*"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()

    def write_manifest(self, document: dict) -> None:
        write_json_atomic(self.run_dir / MANIFEST, document)

    def read_manifest(self) -> dict | None:
        path = self.run_dir / MANIFEST
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"{path}: unreadable manifest ({exc}); remove the run folder to start afresh") from None

    def write_rows(self, rows: Sequence[dict], columns: Sequence[str], seconds: float = math.nan) -> Path:
        """Store finished rows as one Parquet file named by their cell hashes; returns its path (record its
        :func:`file_sha256` in the manifest's ``files``)."""
        if not rows:
            raise DataError("write_rows needs at least one row")
        table = rows_to_table(rows, columns)
        hashes = sorted(row["cell"] for row in rows)
        name = "rows-" + hashlib.sha256("".join(hashes).encode()).hexdigest()[:24] + ".parquet"
        table = table.replace_schema_metadata({"seconds": repr(float(seconds)), "n_rows": str(len(rows))})
        path = self.run_dir / name
        _atomic_write(path, lambda handle: pq.write_table(table, handle))
        return path

    # --------------------------------------------------------------------------------------- reading
    def files(self) -> list[Path]:
        return sorted(self.run_dir.glob("rows-*.parquet")) if self.run_dir.is_dir() else []

    def stored_hashes(self) -> set[str]:
        """Hashes of every stored cell (any config; the manifest says which belong to the current one)."""
        hashes: set[str] = set()
        for path in self.files():
            hashes.update(_read_file(path, ["cell"]).column("cell").to_pylist())
        return hashes

    def check_files(self, recorded: dict) -> tuple[dict, set[str], list[str]]:
        """Check every rows file against ``recorded`` (the manifest's ``files``: name -> sha256, n_cells) while
        holding the lock; remove the damaged ones so that their cells are computed again.

        Returns ``(files, hashes, notes)``: the records of the files kept (unrecorded readable files, left by a
        killed run, are adopted), the cell hashes they hold, and one note per file removed or missing.
        """
        kept, hashes, notes = {}, set(), []
        on_disk = {path.name: path for path in self.files()}
        for name, record in sorted(recorded.items()):
            if name not in on_disk:
                notes.append(f"{self.run_dir / name} is missing; its {record['n_cells']} cell(s) are computed again")
        for name, path in on_disk.items():
            digest = file_sha256(path)
            problem = None
            if name in recorded and recorded[name]["sha256"] != digest:
                problem = "was altered or truncated after it was written (its SHA-256 differs from manifest.json)"
            else:
                try:
                    cells = _read_file(path, ["cell"]).column("cell").to_pylist()
                except DataError:
                    problem = "cannot be read (a truncated or damaged Parquet file)"
            if problem is not None:
                path.unlink()
                notes.append(f"{path} {problem}; removed, its cells are computed again")
                continue
            kept[name] = {"sha256": digest, "n_cells": len(cells)}
            hashes.update(cells)
        return kept, hashes, notes

    def verify(self, manifest: dict) -> None:
        """DataError naming the first rows file that is missing or differs from the manifest's record."""
        for name, record in sorted(manifest.get("files", {}).items()):
            path = self.run_dir / name
            if not path.is_file():
                raise DataError(
                    f"{path}: missing, though manifest.json records it; run the experiment again "
                    "(recollective run CONFIG) to compute its cells"
                )
            if file_sha256(path) != record["sha256"]:
                raise DataError(
                    f"{path}: altered or truncated after the run wrote it (its SHA-256 differs from manifest.json); "
                    "run the experiment again (recollective run CONFIG) to compute its cells afresh"
                )

    def table(self) -> pa.Table:
        """Rows of the manifest's cells, one per cell (first file wins), in the grid's order."""
        manifest = self.read_manifest()
        if manifest is None:
            raise DataError(f"{self.run_dir}: no {MANIFEST}; is this a run folder (runs/<name>)?")
        self.verify(manifest)
        order = {cell["cell"]: index for index, cell in enumerate(manifest["cells"])}
        columns = list(manifest["columns"])
        schema = pa.schema([(name, _column_type(name)) for name in columns])
        parts, seen = [], set()
        for path in self.files():
            table = _read_file(path)
            if not set(columns) <= set(table.column_names):
                continue  # rows of an older config that kept other metrics
            table = table.select(columns).cast(schema)
            keep = [i for i, h in enumerate(table.column("cell").to_pylist()) if h in order and h not in seen]
            seen.update(table.column("cell").to_pylist()[i] for i in keep)
            if keep:
                parts.append(table.take(keep))
        table = pa.concat_tables(parts) if parts else schema.empty_table()
        ranks = [order[h] for h in table.column("cell").to_pylist()]
        return table.take(pa.array(sorted(range(len(ranks)), key=ranks.__getitem__), type=pa.int64()))


def _read_file(path: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(
            f"{path}: unreadable results file ({exc}); run the experiment again (recollective run CONFIG) to "
            "compute its cells afresh"
        ) from None


def rows_to_table(rows: Sequence[dict], columns: Sequence[str]) -> pa.Table:
    """Rows (dicts) to a table with the store's column types (size as float64, counts as int64)."""
    arrays = {}
    for name in columns:
        values = [row[name] for row in rows]
        if name == "size":
            values = [float(v) for v in values]
        arrays[name] = pa.array(values, type=_column_type(name))
    return pa.table(arrays)


def _plain_row(row: dict) -> dict:
    size = row.get("size")
    if isinstance(size, float) and size >= 1 and size.is_integer():
        row["size"] = int(size)  # a count of users (shares are < 1)
    return row


def load_table(run_dir) -> pa.Table:
    """The stored rows of a run as a pyarrow Table (``size`` as float64), sorted in the grid's cell order."""
    return ResultsStore(run_dir).table()


def load_results(run_dir) -> list[dict]:
    """The stored rows of a run as dicts, sorted in the grid's cell order; ``size`` is an int for user counts.

    Only cells of the current manifest are returned (rows left from an earlier config are ignored); cells not yet
    run are absent.
    """
    return [_plain_row(row) for row in load_table(run_dir).to_pylist()]
