"""Reading a run folder for the report: the results store, a campaign sweep's output, or a demo's game files.

:func:`read_run` returns a :class:`RunResults` that :mod:`recollective.report.html` renders (through
:mod:`recollective.report._html_sections`); both import this module, neither imports the other's reader.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from recollective.errors import DataError

__all__ = ["KEY_COLUMNS", "REQUIRED_COLUMNS", "RunResults", "read_run"]

KEY_COLUMNS = ("model", "seed", "participants", "position", "size")
REQUIRED_COLUMNS = (*KEY_COLUMNS, "n_participants")


@dataclasses.dataclass(frozen=True)
class RunResults:
    """A run folder's results: ``metadata`` is its manifest (or the sweep's summary document without the
    summary rows); ``rows`` one dict per cell with :data:`KEY_COLUMNS` and metric columns (empty for a folder
    that holds only game results, ``kind == "game"``, or only several collectives' results, ``kind ==
    "collectives"``)."""

    path: Path
    kind: str
    name: str
    metadata: dict
    rows: list[dict]


def read_run(run_dir) -> RunResults:
    """Read a run folder; raise :class:`DataError` naming the folder or file when it is missing or malformed."""
    path = Path(run_dir)
    if not path.is_dir():
        raise DataError(f"run folder {str(path)!r} does not exist (or is not a folder); give a folder under runs/")
    if (path / "manifest.json").is_file():
        metadata, kind = _read_json(path / "manifest.json"), "results store"
        if isinstance(metadata.get("cells"), list):  # recollective.experiments' store: its reader keeps the
            from recollective.experiments import load_results  # manifest's cells, once each, in grid order

            rows = load_results(path)
        else:
            rows = [row for file in sorted(path.glob("rows-*.parquet")) for row in _read_parquet(file)]
        where = f"{path}/rows-*.parquet"
    elif (path / "summary.json").is_file() and (path / "rows.csv").is_file():
        metadata, kind = _read_json(path / "summary.json"), "campaign sweep"
        metadata = {key: value for key, value in metadata.items() if key not in ("summary", "figures")}
        rows, where = _read_rows_csv(path / "rows.csv"), f"{path}/rows.csv"
    elif (path / "summary.json").is_file() and any((folder / f"{stem}.csv").is_file() for folder in
                                                   (path, path / "game") for stem in ("window", "online")):
        metadata, kind, rows = _read_json(path / "summary.json"), "game", []
        return RunResults(path, kind, str(metadata.get("name") or path.name), metadata, rows)
    elif (path / "collectives.csv").is_file() or (path / "joint_window.csv").is_file():
        metadata = _read_json(path / "summary.json") if (path / "summary.json").is_file() else {}
        kind = "collectives" if (path / "collectives.csv").is_file() else "game"
        return RunResults(path, kind, str(metadata.get("name") or path.name), metadata, [])
    else:
        raise DataError(
            f"run folder {str(path)!r} holds no results: expected manifest.json with rows-*.parquet (a results "
            "store), summary.json with rows.csv (from `recollective campaign sweep`), summary.json with "
            "window.csv / online.csv (from `recollective demo`), collectives.csv (from `recollective campaign run "
            "--campaign FILE --out DIR`) or joint_window.csv (from `recollective game joint-window --plot DIR`)"
        )
    if not rows:
        raise DataError(f"{where}: no result rows yet; run the sweep (or resume it) first")
    missing = [key for key in REQUIRED_COLUMNS if key not in rows[0]]
    if missing:
        raise DataError(f"{where}: result rows lack the column(s) {', '.join(missing)}")
    return RunResults(path, kind, str(metadata.get("name") or path.name), metadata, rows)


def _read_json(file: Path) -> dict:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: not valid JSON ({exc}); the file is damaged, rerun or restore it") from None
    if not isinstance(document, dict):
        raise DataError(f"{file}: expected a JSON object, got {type(document).__name__}")
    return document


def _read_parquet(file: Path) -> list[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(file).to_pylist()
    except pa.ArrowException as exc:
        raise DataError(f"{file}: not a readable Parquet file ({exc})") from None
    return [{key: (math.nan if value is None and key not in KEY_COLUMNS else value) for key, value in row.items()}
            for row in rows]


def _read_rows_csv(file: Path) -> list[dict]:
    from recollective.campaigns._sweep import read_rows_csv

    return read_rows_csv(file)[1]
