"""Building blocks of the HTML report's markup, shared by every page the package writes.

Markup is built only through :func:`esc` (every value, dataset strings included, is HTML-escaped, quotes too) and
these small builders; figures are ``<img>`` elements with base64 ``data:`` PNGs.
"""

from __future__ import annotations

import base64
import csv
import math
import os
import shutil
from html import escape
from pathlib import Path

__all__ = ["copy_existing", "data_uri", "esc", "figure_block", "fmt", "html_table", "read_csv"]

_MAX_TABLE_ROWS = 60


def esc(value) -> str:
    """Any value as HTML text (quotes escaped too, so the result is also safe inside an attribute)."""
    return escape(str(value), quote=True)


def data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(png).read_bytes()).decode("ascii")


def fmt(value, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.1%}" if percent else f"{value:.4g}"


def html_table(header, rows, numeric: set[int] | None = None) -> str:
    """A table of escaped cells; ``numeric`` column indices are right-aligned; no header row when ``header`` is
    None. Long tables are cut with a note."""
    numeric = numeric or set()
    head = "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead>" if header else ""
    body = []
    for row in rows[:_MAX_TABLE_ROWS]:
        cells = "".join(f'<td class="n">{esc(v)}</td>' if i in numeric else f"<td>{esc(v)}</td>"
                        for i, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    note = (f'<p class="files">showing {_MAX_TABLE_ROWS} of {len(rows)} rows; the CSV has them all</p>'
            if len(rows) > _MAX_TABLE_ROWS else "")
    return f"<table>{head}<tbody>{''.join(body)}</tbody></table>{note}"


def figure_block(paths: list[Path], caption: str, html_dir: Path, assets: Path, models: list[str] | None = None) -> str:
    """An embedded PNG (from the staging folder) with links to its PNG/SVG/CSV as they will lie beside the HTML.

    A figure with one panel or line per model (``models``) says so: ``data-per-model`` and ``data-models`` on the
    ``<figure>``, and the models in the image's alt text.
    """
    png = next(p for p in paths if p.suffix == ".png")
    links = " · ".join(
        f'<a href="{esc(Path(os.path.relpath(assets / p.name, html_dir)).as_posix())}">{esc(p.suffix[1:].upper())}</a>'
        for p in paths
    )
    attributes, alt = "", caption
    if models is not None:
        attributes = f' class="per-model" data-per-model="1" data-models="{esc(chr(10).join(models))}"'
        alt = f"{caption}; models: {', '.join(models)}"
    return (f'<figure{attributes}><img src="{data_uri(png)}" alt="{esc(alt)}"><figcaption>{esc(caption)} '
            f'<span class="files">({links})</span></figcaption></figure>')


def copy_existing(run_dir: Path, stem: str, staging: Path) -> list[Path]:
    """Copy ``<stem>.png/.svg/.csv`` that a run already holds (top level or ``game/``) into the staging folder."""
    for folder in (run_dir, run_dir / "game"):
        if (folder / f"{stem}.csv").is_file() or (folder / f"{stem}.png").is_file():
            copied = []
            for suffix in (".png", ".svg", ".csv"):
                if (folder / f"{stem}{suffix}").is_file():
                    shutil.copyfile(folder / f"{stem}{suffix}", staging / f"{stem}{suffix}")
                    copied.append(staging / f"{stem}{suffix}")
            return copied
    return []


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    from recollective.errors import DataError

    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            return list(reader.fieldnames or []), list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path.name}: not a readable CSV file ({exc})") from None
