"""``recollective campaign sweep CONFIG``: the paper-style experiment — target exposure against collective size
for several models over seeds — from a TOML config, with tables and plots. Register with
``campaign_app.command("sweep")(sweep)``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._options import JsonOpt, QuietOpt
from recollective.cli._output import console, emit_json, handles_errors
from recollective.cli._progress import step_progress

__all__ = ["sweep"]


@handles_errors
def sweep(
    config: Annotated[Path, typer.Argument(help="Sweep config (TOML), e.g. configs/goodbooks_campaign.toml.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for rows.csv, summary.csv/json and the figures.")] = Path(
        "out/campaign"
    ),
    data: Annotated[
        Path | None, typer.Option("--data", help="Use this data path instead of the config's data.path.")
    ] = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Run a campaign sweep (models x participant policies x positions x sizes x seeds) and write its results."""
    from recollective.campaigns._config import load_sweep_config
    from recollective.campaigns._experiment import run_sweep_config

    settings = load_sweep_config(config)
    if data is not None:
        settings = settings.model_copy(update={"data": settings.data.model_copy(update={"path": data})})
    with step_progress("campaign sweep: fitting baselines", quiet=quiet) as progress:

        def advance(done, total, row):
            progress.update(done, total, f"{row['model']} seed {row['seed']} size {row['size']}")

        document = run_sweep_config(settings, out, progress=advance)
    if json_out:
        emit_json(document)
        return
    targets = document["targets"]
    console.print(f"targets: {len(targets['item_ids'])} item(s) by {', '.join(targets['authors']) or '–'}; "
                  f"audience {targets['audience_size']} readers")
    table = Table(title=f"{document['name']}: target exposure in the audience (mean, 95% CI over seeds)")
    for column in ("model", "participants", "position", "n", "before", "after", "NDCG change", "participants worse"):
        table.add_column(column, justify="left" if column in ("model", "participants", "position") else "right")
    for row in document["summary"]:
        table.add_row(
            row["model"], row["participants"], row["position"], f"{row['n_participants']:.0f}",
            f"{row['target_exposure_before']:.1%}",
            f"{row['target_exposure_after']:.1%} ({row['target_exposure_after_low']:.1%}–"
            f"{row['target_exposure_after_high']:.1%})",
            f"{row['ndcg_after'] - row['ndcg_before']:+.4f}", f"{row['participants_worse_share']:.1%}",
        )
    console.print(table)
    console.print(f"wrote {out}/summary.csv, rows.csv, summary.json and {len(document['figures'])} figure files "
                  f"in {document['seconds']:.0f} s")
