"""``recollective attack study``: the benign collective versus every attack at equal budget, over sizes and seeds.

Thin: the same loading, split and targets as ``attack run``, then :func:`recollective.adversarial.run_attack_study`
with a progress bar, and :func:`recollective.report.attack_report.write_study` (rows, curves, plots, HTML report,
replaced only when the whole study succeeded). Importing this module registers the command on ``attack_app``.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._glossary import inverted_auc_lines
from recollective.cli._options import JsonOpt, ModelName, QuietOpt, parse_floats, parse_size, split_list
from recollective.cli._output import (
    console,
    err_console,
    fmt,
    handles_errors,
    parse_index_list,
    render,
    to_jsonable,
)
from recollective.cli._progress import step_progress
from recollective.cli._setup import Setup, with_setup
from recollective.cli.attack import (
    DEFAULT_DETECTORS,
    DEFAULT_SHARES,
    DetectorsOpt,
    FillerOpt,
    FlagSharesOpt,
    ParticipantsOpt,
    _names,
    _pm,
    attack_app,
)
from recollective.errors import InvalidParameterError

__all__ = ["study"]

SplitSeedOpt = Annotated[int, typer.Option("--split-seed", min=0, help="Seed of the train/test split.")]
ReportFlagShareOpt = Annotated[
    float, typer.Option("--report-flag-share", help="Flag share of the printed detector table.")
]


@attack_app.command("study")
@handles_errors
@with_setup(default_model=ModelName.als, targets=True, seed_option=SplitSeedOpt)
def study(
    setup: Setup,
    out: Annotated[Path, typer.Option("--out", help="Folder for rows.parquet, curves.parquet, the plots and "
                                                    "report.html.")] = Path("out/attack"),
    sizes: Annotated[str, typer.Option("--sizes", help="Benign collective sizes (counts or shares).")] = "50,134",
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds of the model and the actions, e.g. 0,1,2.")] = "0,1,2",
    kinds: Annotated[str, typer.Option("--kinds", help="Attack kinds.")] = "random,average,bandwagon,segment,brigading",
    accounts: Annotated[str, typer.Option("--accounts", help="Account types of the attacks: fake, real.")] = "fake",
    filler_size: FillerOpt = "20",
    participants: ParticipantsOpt = "closest",
    detectors: DetectorsOpt = DEFAULT_DETECTORS,
    flag_shares: FlagSharesOpt = DEFAULT_SHARES,
    report_flag_share: ReportFlagShareOpt = 0.05,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Benign collective versus every attack at equal budget, over sizes and seeds: detection, harm, benefit and
    the filtering trade-off. Writes OUT/rows.parquet, curves.parquet, study.json, roc.png, tradeoff.png and
    report.html (files are replaced only when the whole study succeeded). Each finished (seed, size) block is kept
    in OUT/blocks.partial while the study runs: run the same study again after a stop and only the missing blocks
    are evaluated."""
    from recollective.adversarial import ACCOUNT_KINDS, ATTACK_KINDS, DETECTOR_NAMES, run_attack_study

    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"--out {str(out)!r} is a file; give a folder")
    size_list = [parse_size(s) for s in split_list(sizes)]
    if not size_list:
        raise InvalidParameterError("--sizes is empty; give comma-separated sizes such as 50,134")
    seed_list = parse_index_list(seeds, "--seeds")
    kind_list = _names(kinds, "--kinds", ATTACK_KINDS)
    account_list = _names(accounts, "--accounts", ACCOUNT_KINDS)
    names = _names(detectors, "--detectors", DETECTOR_NAMES)
    shares = parse_floats(flag_shares, "--flag-shares")
    filler = parse_size(filler_size, "--filler-size")
    if not any(abs(report_flag_share - s) < 1e-12 for s in shares):
        raise InvalidParameterError(f"--report-flag-share {report_flag_share} must be one of --flag-shares {shares}")
    from recollective.adversarial._study_blocks import StudyBlocks

    recommender, train, test, targets = setup.prepare()
    source, model, split, k = setup.source, setup.model, setup.split, setup.k
    settings = to_jsonable({
        "data": str(source.path), "model": model.value, "params": recommender.get_params(),
        "split": split.method.value, "test_fraction": split.test_fraction, "split_seed": setup.seed,
        "seeds": seed_list, "sizes": size_list, "kinds": kind_list, "accounts": account_list, "filler_size": filler,
        "participants": participants, "detectors": names, "flag_shares": shares, "k": k,
        "targets": _target_rows(train, targets),
    })
    blocks = StudyBlocks(out, settings)
    finished = blocks.load()  # blocks of an earlier run of this study that was stopped
    started = time.perf_counter()
    with step_progress("attack study: fitting the baseline and training detectors", quiet=quiet) as progress:

        def advance(done, total):
            progress.update(done, total, "actions evaluated")

        rows, curves = run_attack_study(
            train, test, model=recommender, targets=targets.item_idx, sizes=size_list, seeds=seed_list,
            attack_kinds=kind_list, accounts=account_list, filler_size=filler, detectors=names, k=k,
            flag_shares=shares, participants=participants, audience=targets.audience.user_idx, progress=advance,
            return_curves=True, finished=finished, on_block=blocks.save,
        )
    seconds = time.perf_counter() - started
    metadata = to_jsonable({
        "name": f"attack study: {source.path.name}", "created": datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds"), "out": str(out), **settings, "report_flag_share": report_flag_share,
        "n_users": train.n_users, "n_items": train.n_items, "audience_size": targets.audience.n_users,
        "target_authors": list(targets.authors), "seconds": seconds, "resumed_blocks": len(finished),
    })
    from recollective.report.attack_report import (
        summarize_detection,
        summarize_effects,
        summarize_tradeoff,
        write_study,
    )

    with err_console.status("drawing the plots and writing the report"):
        files = write_study(out, rows, curves, metadata)
    blocks.remove()

    document = {**metadata, "files": [str(f) for f in files],
                "effects": summarize_effects(rows), "detection": summarize_detection(rows, report_flag_share),
                "tradeoff": summarize_tradeoff(rows)}
    render(document, json_out, _print_study)


def _target_rows(train, targets) -> list[dict]:
    metadata = train.item_metadata or {}
    titles, authors = metadata.get("title"), metadata.get("authors")
    out = []
    for position, item in enumerate(targets.item_idx):
        out.append({"item_id": train.items.ids[item], "title": None if titles is None else titles[item],
                    "authors": None if authors is None else authors[item],
                    "audience": int(targets.audience.per_target[position])})
    return out


def _print_study(document: dict) -> None:
    from recollective.report.attack_plots import action_label

    console.print(f"targets: {len(document['targets'])} item(s) by {', '.join(document['target_authors']) or '–'}; "
                  f"audience {document['audience_size']} users; model {document['model']}, seeds "
                  f"{','.join(map(str, document['seeds']))}")
    table = Table(title="what each action does (means over seeds)")
    for column in ("action", "size", "accounts", "added", "benefit before→after", "harm before→after",
                   "NDCG before→after"):
        table.add_column(column, justify="left" if column == "action" else "right")
    for e in document["effects"]:
        table.add_row(action_label(e["action"], e["accounts"]), str(e["size"]), fmt(e["n_accounts"]),
                      fmt(e["n_actions"]), f"{fmt(e['benefit_before'], '.1%')} → {fmt(e['benefit_after'], '.1%')}",
                      f"{fmt(e['harm_before'], '.1%')} → {fmt(e['harm_after'], '.1%')}",
                      f"{fmt(e['ndcg_before'])} → {fmt(e['ndcg_after'])}")
    console.print(table)
    share = document["report_flag_share"]
    table = Table(title=f"detector performance (AUC over all users; the rest flagging {share:.0%} of users)")
    for column in ("detector", "action", "size", "AUC ± sd", "precision", "recall", "F1", "benign flagged"):
        table.add_column(column, justify="left" if column in ("detector", "action") else "right")
    for e in document["detection"]:
        table.add_row(e["detector"], action_label(e["action"], e["accounts"]), str(e["size"]),
                      _pm(e["roc_auc"], e["roc_auc_sd"]), fmt(e["precision"], ".3f"), fmt(e["recall"], ".3f"),
                      fmt(e["f1"], ".3f"), fmt(e["benign_flagged_share"], ".1%"))
    console.print(table)
    named = [{"detector": f"{e['detector']} on {action_label(e['action'], e['accounts'])}", "roc_auc": e["roc_auc"]}
             for e in document["detection"]]
    for line in inverted_auc_lines(named, "the coordinated accounts (attackers or participants)"):
        console.print(line)
    console.print(f"wrote {', '.join(Path(f).name for f in document['files'])} to {document['out']} in "
                  f"{document['seconds']:.0f} s")
