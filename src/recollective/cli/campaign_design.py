"""``recollective campaign design``: who of a pool should act, doing what, verified by cold refits.

Thin: the shared data, model, split and target options of ``campaign run``; the pool (``--pool FILE`` of raw user
ids, one per line or a ``user_id`` column); then :func:`recollective.campaigns.design.design_campaign` with a
progress line per search step, and the organizer's plan on screen and (``--out``) as Markdown, CSV, JSON and HTML.
Register with ``campaign_app.command("design")(design)``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._options import JsonOpt, ModelName, parse_floats
from recollective.cli._output import console, emit_json, err_console, fmt, handles_errors
from recollective.cli._setup import Setup, with_setup
from recollective.cli.campaign import PositionOpt
from recollective.errors import DataError, InvalidParameterError, unknown_name

__all__ = ["design", "read_pool"]


def read_pool(path: Path, train) -> list[int]:
    """User indices of the raw user ids in ``path`` (one per line; a CSV's ``user_id`` column or first column)."""
    from recollective._files import read_regular

    try:
        text = read_regular(path, "a pool file of user ids").decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start}); save the pool file as UTF-8, one user id "
                        "per line") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path}: the pool file is empty; list one user id per line")
    column = 0
    header = [cell.strip() for cell in lines[0].split(",")]
    if "user_id" in header:
        column, lines = header.index("user_id"), lines[1:]
    ids = []
    integer = train.users.ids.dtype.kind in "iu"
    for number, line in enumerate(lines, start=2 if column or "user_id" in header else 1):
        cells = line.split(",")
        value = cells[column].strip() if column < len(cells) else ""
        if integer:
            try:
                value = int(value)
            except ValueError:
                raise DataError(
                    f"{path}, line {number}: {value[:200]!r} is not a user id (user ids here are integers)"
                ) from None
        ids.append(value)
    found = train.users.numbers(ids, missing="negative")
    if (found < 0).any():
        bad = ids[int((found < 0).nonzero()[0][0])]
        raise DataError(
            f"{path}: unknown user id {str(bad)[:200]!r} ({int((found < 0).sum())} of {len(ids)} ids are not in the "
            "data); list ids of the interactions file"
        )
    return sorted(set(int(i) for i in found))


@handles_errors
@with_setup(default_model=ModelName.itemknn, targets=True)
def design(
    setup: Setup,
    max_participants: Annotated[
        int, typer.Option("--max-participants", min=1, help="At most this many participants.")
    ] = 20,
    max_actions: Annotated[
        int | None, typer.Option("--max-actions", min=1, help="Items each participant adds (default: every target).")
    ] = None,
    values: Annotated[
        str, typer.Option("--values", help="Ratings a participant may give, comma-separated (each is tried).")
    ] = "5",
    bridges: Annotated[
        int, typer.Option("--bridges", min=0, help="Bridge candidates: non-target items the audience holds most.")
    ] = 0,
    pool: Annotated[
        Path | None, typer.Option("--pool", help="File of willing participants' user ids (default: every "
                                                  "user outside the audience).")
    ] = None,
    goal_exposure: Annotated[
        float | None, typer.Option("--goal-exposure", help="Stop once this share of the audience is reached.")
    ] = None,
    robust_seeds: Annotated[
        int, typer.Option("--robust-seeds", min=1, help="Require the plan for this many model seeds (worst case).")
    ] = 1,
    max_participant_loss: Annotated[
        float, typer.Option("--max-participant-loss", min=0.0,
                            help="Largest mean NDCG@K loss of participants (as campaign plan's default).")
    ] = 0.01,
    max_majority_loss: Annotated[
        float, typer.Option("--max-majority-loss", help="Largest mean NDCG@K loss of everyone outside the audience.")
    ] = 0.01,
    position: PositionOpt = "append",
    restarts: Annotated[
        int, typer.Option("--restarts", min=0, help="Extra greedy runs from a random one of the 10 best first picks.")
    ] = 0,
    swap_rounds: Annotated[
        int, typer.Option("--swap-rounds", min=0, help="Local search rounds replacing one participant at a time.")
    ] = 0,
    exchange_rounds: Annotated[
        int, typer.Option("--exchange-rounds", min=0,
                          help="Trials trading the plan's weakest participants for the best outsiders (closed-form "
                               "gains: popularity, EASE, item-kNN, PureSVD, ALS); 0 turns the exchange off.")
    ] = 8,
    constructions: Annotated[
        str, typer.Option("--constructions", help="How plans are built, comma-separated: greedy, closest, coread, "
                                                 "coread_per_reader (default all; the best plan wins).")
    ] = "greedy,closest,coread,coread_per_reader",
    screen: Annotated[
        bool, typer.Option("--screen/--no-screen",
                           help="Before searching, leave out readers whose own held-out accuracy would fall from "
                                "adding the targets (model held fixed).")
    ] = True,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for plan.md, plan.csv, design.json, design.html, figures.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Choose who of the pool acts and what each adds so that the most readers who would like the targets see
    them, within the budget and without making participants or everyone else worse off; verify by refitting the
    model from scratch, and print the plan an organizer could send."""
    from recollective.campaigns.design import design_campaign

    value_list = parse_floats(values, "--values", example="5 or 4,5")
    if goal_exposure is not None and not 0 < goal_exposure <= 1:
        raise InvalidParameterError(f"--goal-exposure must lie in (0, 1]; got {goal_exposure}")
    recommender, train, test, targets = setup.prepare()
    source, model, seed, k = setup.source, setup.model, setup.seed, setup.k
    relevance_threshold = setup.relevance_threshold
    pool_idx = read_pool(pool, train) if pool is not None else None
    titles = train.item_metadata.get("title") if train.item_metadata else None

    def names(item_idx):
        ids = train.items.ids[list(item_idx)]
        if titles is None:
            return [str(i) for i in ids]
        return [str(titles[i]) if titles[i] else str(raw) for i, raw in zip(item_idx, ids, strict=True)]

    robust = {"rng": [seed + i for i in range(1, robust_seeds)]} if robust_seeds > 1 else None
    if robust and "rng" not in recommender.get_params():
        raise InvalidParameterError(f"--robust-seeds: model {model.value} has no seed (it is deterministic)")
    from recollective.campaigns import POSITION_POLICIES

    if position not in POSITION_POLICIES:
        raise InvalidParameterError(f"--position: {unknown_name('position policy', position, POSITION_POLICIES)}")
    if position != "append" and train.order is None:
        raise InvalidParameterError(
            f"--position {position} needs ordered interactions (load the data with --order-col); use append"
        )
    started = time.perf_counter()
    if not json_out:
        err_console.print(f"fitting the baseline {model.value} on {train.n_users} users x {train.n_items} items",
                          highlight=False)
    baseline = recommender.fit(train)

    def step(done, total, row):
        reach = ", ".join(f"{value:.1%}" for value in row["exposure"].values())
        if row.get("construction", "greedy") == "greedy":
            what = f"step {done}/{total}: reader {train.users.ids[row['user']]} adds {len(row['items'])} item(s)"
        elif row["construction"] == "exchange":
            verdict = "kept" if row["accepted"] else "not kept"
            what = f"exchange: {row['traded']} reader(s) traded for better-placed ones, {verdict}"
        else:
            what = f"{row['construction']} start {done}/{total}: {row['added']} more reader(s) add the targets"
        err_console.print(f"{what}; estimated reach {reach} ({row['seconds']:.2f} s)", highlight=False)

    result = design_campaign(
        baseline, train, test, targets.item_idx, audience=targets.audience.user_idx, pool=pool_idx,
        max_participants=max_participants, max_actions=max_actions, values=value_list, n_bridges=bridges, k=k,
        goal_exposure=goal_exposure, robust=robust, max_participant_loss=max_participant_loss,
        max_majority_loss=max_majority_loss, relevance_threshold=relevance_threshold, position=position,
        restarts=restarts, swap_rounds=swap_rounds, exchange_rounds=exchange_rounds,
        constructions=[c.strip() for c in constructions.split(",")],
        screen=screen,
        rng=seed, item_names=names, progress=None if json_out else step,
    )
    seconds = time.perf_counter() - started
    document = {"data": str(source.path), "split": setup.split.method.value, "seed": seed, "seconds": seconds,
                "target_item_ids": targets.item_ids.tolist(), **result.as_dict()}
    written = []
    if out is not None:
        from recollective.report.design_report import write_design

        written = write_design(result, out, title=f"Campaign design: {model.value} on {source.path.name}")
        document["files"] = [str(p) for p in written]
    if json_out:
        emit_json(document)
        return
    _print(result, seconds, written)


def _print(result, seconds: float, written) -> None:
    v = result.verified
    table = Table(title=f"designed campaign, verified by a cold fit (K={v['k']})")
    for column in ("quantity", "before", "after"):
        table.add_column(column, justify="left" if column == "quantity" else "right")
    table.add_row("audience reached", f"{v['target_exposure_before']:.1%}", f"{v['target_exposure_after']:.1%}")
    for label, key in (("participants' NDCG", "ndcg_participants"), ("everyone else's NDCG", "ndcg_majority")):
        table.add_row(label, fmt(v[f"{key}_before"], ".4f"), fmt(v[f"{key}_after"], ".4f"))
    console.print(table)
    console.print(
        f"{len(result.actions)} participants; search estimate {v['predicted_exposure']:.1%} vs verified "
        f"{v['target_exposure_after']:.1%}; gains {result.gain_kind}; constraints met: "
        f"{'yes' if result.feasible else 'no'} ({result.stop_reason}); {seconds:.0f} s", highlight=False,
    )
    for action_row in result.as_dict()["strategy"][:10]:
        console.print(f"  reader {action_row['user_id']}: " + "; ".join(str(t) for t in action_row["titles"])
                      + f" (rating {action_row['value']:g})", highlight=False)
    if len(result.actions) > 10:
        console.print(f"  ... and {len(result.actions) - 10} more (see plan.csv with --out)", highlight=False)
    for path in written:
        if path.suffix in (".md", ".html"):
            console.print(f"wrote {path}", highlight=False)
