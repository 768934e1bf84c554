"""``recollective report RUN_DIR``: the self-contained HTML report of a run folder (a results store under
``runs/<name>/`` or a ``recollective campaign sweep`` output folder), with its figures and tables beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recollective.cli._options import JsonOpt
from recollective.cli._output import console, emit_json, handles_errors

__all__ = ["report"]


@handles_errors
def report(
    run_dir: Annotated[Path, typer.Argument(help="Run folder, e.g. runs/demo (or a campaign sweep's --out folder).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file to write (default: RUN_DIR/report.html).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write an HTML report (figures embedded, no scripts) plus PNG/SVG figures and CSV tables beside it."""
    from recollective.report.html import write_report

    document = write_report(run_dir, out)
    if json_out:
        emit_json(document)
        return
    console.print(f"wrote {document['html']} ({len(document['sections'])} sections; "
                  f"{len(document['files'])} figure and table files in {Path(document['html']).stem}_files/)")
