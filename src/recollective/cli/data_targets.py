"""``recollective data targets PATH``: choose under-represented targets on a dataset and report their audience.

Thin: load the file (the same data-format flags as ``data inspect``), optionally take a k-core, split it
(seeded), call one target-selection function of :mod:`recollective.data` on the training part with the test part
as the audience source, and render. Register with ``data_app.command("targets")(targets)``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._data_source import DataSource, with_data_options
from recollective.cli._options import JsonOpt, Split, SplitName, with_split_options
from recollective.cli._output import console, emit_json, handles_errors
from recollective.errors import InvalidParameterError

__all__ = ["targets"]


class Method(StrEnum):
    longtail = "longtail"
    explicit = "explicit"
    exposure = "exposure"
    community = "community"


class By(StrEnum):
    author = "author"
    item = "item"


@handles_errors
@with_data_options(argument=True)
@with_split_options
def targets(
    source: DataSource,
    split: Split,
    method: Annotated[Method, typer.Option("--method", help="How to choose the targets.")] = Method.longtail,
    like_threshold: Annotated[
        float | None,
        typer.Option("--like-threshold", help="Held-out value that counts as liking (e.g. 4); default: any."),
    ] = None,
    by: Annotated[By, typer.Option("--by", help="Select whole authors or single items.")] = By.author,
    head_share: Annotated[float, typer.Option("--head-share", help="longtail: share of reads the head holds.")] = 0.8,
    min_audience: Annotated[
        int, typer.Option("--min-audience", help="longtail, exposure: users who must like a target.")
    ] = 10,
    max_targets: Annotated[
        int | None, typer.Option("--max-targets", help="longtail, exposure, community: at most this many.")
    ] = None,
    author: Annotated[
        list[str] | None, typer.Option("--author", help="explicit: an author name (repeat the option).")
    ] = None,
    item: Annotated[list[str] | None, typer.Option("--item", help="explicit: an item id (repeat the option).")] = None,
    k: Annotated[int, typer.Option("--k", help="exposure: length of the popularity baseline's lists.")] = 10,
    tail_only: Annotated[
        bool, typer.Option("--tail-only", help="exposure: leave out the head holding --head-share of the reads.")
    ] = False,
    communities: Annotated[int, typer.Option("--communities", help="community: number of communities.")] = 2,
    min_community_users: Annotated[
        int, typer.Option("--min-community-users", help="community: smallest community considered.")
    ] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split and the clustering.")] = 0,
    show: Annotated[int, typer.Option("--show", help="Rows of the target table to print.")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Choose under-represented targets (long tail, explicit list, exposure deficit or minority community) and
    report their audience: the users with a held-out positive on a target."""
    from recollective.data._targets import (
        community_targets,
        explicit_targets,
        exposure_deficit_targets,
        longtail_targets,
        popularity_lists,
    )

    if method is Method.explicit and not (author or item):
        raise InvalidParameterError("--method explicit needs --author NAME or --item ID (repeat either)")
    original = source.load().interactions
    data, train, test = split.apply(original, seed)
    loaded = {"n_users": original.n_users, "n_items": original.n_items, "n_interactions": original.n_interactions}
    common = {"audience_from": test, "threshold": like_threshold}
    if method is Method.longtail:
        chosen = longtail_targets(
            train, head_share=head_share, min_audience=min_audience, by=by.value, max_targets=max_targets, **common
        )
    elif method is Method.explicit:
        chosen = explicit_targets(train, item_ids=item or None, authors=author or None, **common)
    elif method is Method.exposure:
        lists = popularity_lists(train, k)
        chosen = exposure_deficit_targets(
            train,
            lists,
            n_targets=max_targets or 10,
            min_audience=min_audience,
            by=by.value,
            exclude_head=head_share if tail_only else None,
            **common,
        )
    else:
        chosen = community_targets(
            train,
            n_communities=communities,
            min_community_users=min_community_users,
            max_targets=max_targets,
            rng=seed,
            **common,
        )
    document = {
        "path": str(source.path),
        "loaded": loaded,
        "data": {"n_users": data.n_users, "n_items": data.n_items, "n_interactions": data.n_interactions},
        "split": {
            "kind": split.method.value,
            "test_fraction": split.test_fraction if split.method is not SplitName.leave_last_out else None,
            "seed": seed,
            "n_train": train.n_interactions,
            "n_test": test.n_interactions,
        },
        "targets": chosen.as_dict(),
    }
    if json_out:
        emit_json(document)
        return
    _print(document, chosen, train, show)


def _print(document: dict, chosen, train, show: int) -> None:
    data, split, details = document["data"], document["split"], chosen.details
    console.print(
        f"{document['path']}: {data['n_users']:,} users x {data['n_items']:,} items, "
        f"{data['n_interactions']:,} interactions; {split['kind']} split (seed {split['seed']}): "
        f"{split['n_train']:,} train / {split['n_test']:,} held out"
    )
    if chosen.method == "longtail":
        console.print(
            f"head: {details['n_head']:,} of {details['n_units']:,} {chosen.by}s hold "
            f"{details['head_share']:.1%} of the training reads; tail: {details['n_tail']:,} "
            f"({details['tail_interaction_share']:.1%} of reads), {details['n_tail_eligible']:,} with an audience "
            f">= {details['min_audience']}"
        )
    elif chosen.method == "community":
        sizes = ", ".join(
            f"#{c['community']}: {c['n_users']:,} users / {c['n_items']:,} items ({c['interaction_share']:.1%})"
            for c in details["communities"]
        )
        console.print(f"communities: {sizes}; minority: #{details['minority_community']}")
    elif chosen.method == "exposure":
        console.print(
            f"popularity baseline, k={details['k']}: {details['n_exposed_items']:,} items exposed; "
            f"{details['n_units_in_deficit']:,} {chosen.by}s get less exposure than their share of demand"
        )
    rows = details.get("table")
    if rows:
        table = Table(title=f"{chosen.method} targets ({len(rows)} {chosen.by}s)")
        for name in rows[0]:
            table.add_column(name, justify="left" if name == "name" else "right")
        for row in rows[:show]:
            table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()))
        if len(rows) > show:
            table.caption = f"{len(rows) - show} more (--show, or --json for all)"
        console.print(table)
    else:
        _print_items(chosen, train, show)
    audience = chosen.audience
    liking = "any held-out interaction" if audience.threshold is None else f"held-out value >= {audience.threshold:g}"
    console.print(
        f"targets: {chosen.n_targets:,} items by {len(chosen.authors):,} authors; audience: {audience.n_users:,} "
        f"users ({liking}), {audience.n_pairs:,} liked (user, target) pairs"
    )


def _print_items(chosen, train, show: int) -> None:
    from recollective.data._preprocess import primary_authors

    titles = (train.item_metadata or {}).get("title")
    authors = primary_authors(train)
    table = Table(title=f"{chosen.method} targets ({chosen.n_targets} items)")
    for name in ("item_id", "title", "author", "audience"):
        table.add_column(name, justify="right" if name == "audience" else "left")
    for position, index in enumerate(chosen.item_idx[:show]):
        table.add_row(
            str(chosen.item_ids[position]),
            "" if titles is None else str(titles[index]),
            "" if authors is None else str(authors[index]),
            str(int(chosen.audience.per_target[position])),
        )
    if chosen.n_targets > show:
        table.caption = f"{chosen.n_targets - show} more (--show, or --json for all)"
    console.print(table)
