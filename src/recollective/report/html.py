"""The self-contained HTML report of a run folder: figures embedded as ``data:`` PNGs, no scripts, no external
resources, every dataset string HTML-escaped.

:func:`read_run` reads a run folder — the results store (``manifest.json`` + ``rows-*.parquet``) or the output of
``recollective campaign sweep`` (``summary.json`` + ``rows.csv``), or a game-only folder of ``recollective demo``
(``summary.json`` + ``window.csv`` / ``online.csv``) — and :func:`write_report` writes
``report.html`` plus its figures (PNG, SVG) and tables (CSV) in a folder beside it. The report reads results and
never recomputes them: it only averages rows over seeds (:func:`recollective.campaigns.summarize_rows`) and plots.
Optional sections (game windows, welfare over rounds, per-user Pareto scatters) appear when the run folder holds
their files (``window.csv``, ``online.csv``, ``pareto_*.png``, at the top level or under ``game/``).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

from recollective.errors import DataError

__all__ = ["KEY_COLUMNS", "REQUIRED_COLUMNS", "RunResults", "read_run", "write_report"]

KEY_COLUMNS = ("model", "seed", "participants", "position", "size")
REQUIRED_COLUMNS = (*KEY_COLUMNS, "n_participants")
_STRING_COLUMNS = ("model", "participants", "position")


@dataclasses.dataclass(frozen=True)
class RunResults:
    """A run folder's results: ``metadata`` is its manifest (or the sweep's summary document without the
    summary rows); ``rows`` one dict per cell with :data:`KEY_COLUMNS` and metric columns (empty for a folder
    that holds only game results, ``kind == "game"``)."""

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
    else:
        raise DataError(
            f"run folder {str(path)!r} holds no results: expected manifest.json with rows-*.parquet (a results "
            "store), summary.json with rows.csv (from `recollective campaign sweep`) or summary.json with "
            "window.csv / online.csv (from `recollective demo`)"
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
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{file}: not a readable CSV file ({exc})") from None
    header, rows = (lines[0] if lines else []), []
    for number, values in enumerate(lines[1:], start=2):
        if len(values) != len(header):
            raise DataError(f"{file}: line {number} has {len(values)} fields; the header has {len(header)}")
        try:
            rows.append({key: (value if key in _STRING_COLUMNS else _number(value))
                         for key, value in zip(header, values, strict=True)})
        except ValueError:
            raise DataError(f"{file}: line {number} holds a value that is not a number") from None
    return rows


def _number(text: str) -> int | float:
    if text == "":
        return math.nan
    try:
        return int(text)
    except ValueError:
        return float(text)


# ---------------------------------------------------------------------------------------------------- writing


def write_report(run_dir, out=None) -> dict:
    """Write the HTML report of ``run_dir`` to ``out`` (default ``<run_dir>/report.html``).

    Figures and tables go to ``<out stem>_files/`` beside the HTML. Every file is written to a temporary name and
    moved into place (``os.replace``); the HTML comes last, so a report on disk always has its files. Figures and
    tables of an earlier report in that folder that this one no longer has are removed afterwards.

    Returns
    -------
    dict
        ``html`` (path), ``files`` (figures and tables written), ``sections`` (titles), ``name``, ``kind``,
        ``n_rows``.
    """
    from recollective.report._html_sections import build_sections, render_page

    run = read_run(run_dir)
    html_path = Path(out) if out is not None else run.path / "report.html"
    if html_path.is_dir():
        raise DataError(f"--out {str(html_path)!r} is a folder; give a file name such as report.html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    assets = html_path.with_name(html_path.stem + "_files")
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=html_path.parent))
    try:
        sections = build_sections(run, staging, assets)
        page = render_page(run, sections)
        assets.mkdir(exist_ok=True)
        written = []
        for file in sorted(staging.iterdir()):
            os.replace(file, assets / file.name)
            written.append(assets / file.name)
        _atomic_write(html_path, page)
        for stale in set(assets.iterdir()) - set(written):  # figures of an earlier report of this run
            if stale.is_file() and stale.suffix in (".png", ".svg", ".csv"):
                stale.unlink()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"html": html_path, "files": written, "sections": [s["title"] for s in sections], "name": run.name,
            "kind": run.kind, "n_rows": len(run.rows)}


def _atomic_write(path: Path, text: str) -> None:
    """``text`` to ``path`` through a temporary file, with the permissions of a normally created file."""
    from recollective._files import atomic_write_bytes

    atomic_write_bytes(path, lambda handle: handle.write(text.encode("utf-8")), fsync=False)


