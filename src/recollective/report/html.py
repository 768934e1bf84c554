"""The self-contained HTML report of a run folder: figures embedded as ``data:`` PNGs, no scripts, no external
resources, every dataset string HTML-escaped.

:func:`read_run` reads a run folder — the results store (``manifest.json`` + ``rows-*.parquet``) or the output of
``recollective campaign sweep`` (``summary.json`` + ``rows.csv``), or a game-only folder of ``recollective demo``
(``summary.json`` + ``window.csv`` / ``online.csv``) — and :func:`write_report` writes
``report.html`` plus its figures (PNG, SVG) and tables (CSV) in a folder beside it. The report reads results and
never recomputes them: it only averages rows over seeds (:func:`recollective.campaigns.summarize_rows`, whose 95%
t-intervals it clips to each quantity's range) and plots.

The page opens with the story: a summary of what was asked (data, targets, models, the collective's policies and
sizes, seeds), one sentence per model with its largest gain in target exposure, and the exposure figure; the
figures follow, one panel (or line) for every model; the table of every cell and the provenance (versions,
machine, configuration, timings, collapsed in ``<details>``) come last. Optional sections (game windows, welfare
over rounds, per-user Pareto scatters) appear when the run folder holds their files (``window.csv``,
``online.csv``, ``pareto_*.png``, at the top level or under ``game/``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from recollective.errors import DataError
from recollective.report._run_folder import KEY_COLUMNS, REQUIRED_COLUMNS, RunResults, read_run

__all__ = ["KEY_COLUMNS", "REQUIRED_COLUMNS", "RunResults", "read_run", "write_report"]


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


