"""``recollective campaign run ... --campaign FILE.toml``: several collectives at once.

Thin: validate the file (before any data is read), load and split the data as ``campaign run`` does, resolve each
collective's targets (raw item ids and/or authors) and explicit members, fit the baseline once, and call
:func:`recollective.campaigns.evaluate_composed`. Per collective: its effect alone and together, the interaction,
the efficacy drop and the Pareto accounting of the joint run.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.table import Table

from recollective.cli._output import console, err_console, fmt, render
from recollective.errors import DataError, InvalidParameterError

__all__ = ["run_composed"]


def run_composed(setup, path: Path, *, noise_floor: bool, json_out: bool, out: Path | None = None,
                 lean: dict | None = None) -> None:
    """Evaluate the collectives of the TOML file ``path`` on ``setup``'s data, model and split; print or emit; with
    ``out``, also write ``collectives.csv``, ``summary.json`` and the HTML report there. ``lean``: ``score_users``
    and ``sample_size`` of :func:`~recollective.campaigns.evaluate_composed` and the noise floor."""
    from recollective.campaigns import Campaign, estimate_noise_floor, evaluate_composed
    from recollective.campaigns._composed_config import load_composed_campaign
    from recollective.data._targets import _coerce_id, explicit_targets

    spec = load_composed_campaign(path)
    if out is not None and out.exists() and not out.is_dir():
        raise InvalidParameterError(f"--out {str(out)!r} is a file; give a folder for collectives.csv and the report")
    recommender = setup.build_model()
    _, train, test = setup.load_split()
    names = spec.names()
    campaigns, target_sets = [], []
    for index, (name, section) in enumerate(zip(names, spec.collective, strict=True)):
        where = f"{path}: collective #{index + 1} ({name!r})"
        try:
            targets = explicit_targets(train, item_ids=[str(i) for i in section.target_items] or None,
                                       authors=section.target_authors or None, audience_from=test,
                                       threshold=setup.relevance_threshold)
        except (DataError, InvalidParameterError) as exc:
            fields = " / ".join(f for f in ("target_items", "target_authors") if getattr(section, f))
            raise type(exc)(f"{where}.{fields}: {exc}") from None
        if targets.n_targets == 0:
            raise InvalidParameterError(f"{where}: the target set is empty after resolving its targets")
        members = ()
        if section.members:
            try:
                ids = [_coerce_id(str(m), train.users.ids) for m in section.members]
                members = tuple(int(i) for i in train.users.numbers(ids))
            except (DataError, KeyError, ValueError) as exc:
                raise DataError(f"{where}.members: {exc}") from None
        try:
            campaigns.append(Campaign(
                targets=tuple(int(t) for t in targets.item_idx), participants=section.participants,
                size=section.size, rating=section.rating, position=section.position, budget=section.budget,
                participation=section.participation, members=members, action=section.action))
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{where}: {exc}") from None
        target_sets.append(targets)

    started = time.perf_counter()
    with err_console.status(f"fitting the baseline {setup.model.value}"):
        baseline = recommender.fit(train)
    fit_seconds = time.perf_counter() - started
    floor = 0.0
    if noise_floor:
        with err_console.status("estimating the seed-to-seed noise floor"):
            floor = estimate_noise_floor(baseline.clone(), train, test, setup.k,
                                         seeds=(setup.seed, setup.seed + 1_000_003), fitted=baseline,
                                         relevance_threshold=setup.relevance_threshold, **(lean or {}))
    started = time.perf_counter()
    with err_console.status(f"{len(campaigns)} collective(s): each alone, then all together"):
        try:
            outcome = evaluate_composed(
                baseline, train, test, campaigns, k=setup.k, rng=setup.seed, names=names,
                audiences=[t.audience.user_idx for t in target_sets], relevance_threshold=setup.relevance_threshold,
                noise_floor=floor, overlap=spec.overlap, what_if=spec.what_if, **(lean or {}))
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{path}: {exc}") from None
    whatif_seconds = time.perf_counter() - started

    collectives = []
    for entry, targets in zip(outcome.collectives, target_sets, strict=True):
        joint = entry["joint"]
        campaign = {**entry["campaign"], "targets": targets.item_ids.tolist()}
        collectives.append({
            "name": entry["name"], "campaign": campaign, "target_item_ids": targets.item_ids.tolist(),
            "target_authors": list(targets.authors), "audience_size": entry["audience_size"],
            "n_participants_solo": entry["solo"]["n_participants"], "n_participants_joint": joint["n_participants"],
            **{key: entry[key] for key in ("exposure_before", "exposure_solo", "exposure_joint", "effect_solo",
                                           "effect_joint", "spillover", "interaction", "efficacy_drop")},
            "pareto": {key: joint[key] for key in ("better_share", "unchanged_share", "worse_share",
                                                   "participants_better_share", "participants_worse_share",
                                                   "n_participants_in_test")},
            "solo": entry["solo"], "joint": joint,
        })
    document = {
        **setup.describe(recommender),
        "campaign_file": str(path),
        **outcome.overall,
        "collectives": collectives,
        "exposure": outcome.exposure,
        "fit_seconds": fit_seconds,
        "whatif_seconds": whatif_seconds,
    }
    if out is not None:
        document["written"] = _write(out, document, outcome, setup)
    render(document, json_out, _print)


def _write(out: Path, document: dict, outcome, setup) -> list[str]:
    """``collectives.csv`` (one row per collective, :func:`recollective.campaigns.interaction_rows`),
    ``summary.json`` (the printed document) and ``report.html``; each file written whole or not at all."""
    import csv
    import io
    import json

    from recollective._files import atomic_write_bytes
    from recollective._jsonable import to_jsonable
    from recollective.campaigns import interaction_rows
    from recollective.report._figures import csv_cell
    from recollective.report.html import write_report

    out.mkdir(parents=True, exist_ok=True)
    rows = interaction_rows(outcome, dataset=Path(str(setup.source.path)).name, model=document["model"],
                            seed=document["seed"], noise_floor=document["noise_floor"])
    for row, collective in zip(rows, document["collectives"], strict=True):
        row["targets"] = " ".join(str(t) for t in collective["target_item_ids"])
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(list(rows[0]))
    writer.writerows([csv_cell(value) for value in row.values()] for row in rows)
    atomic_write_bytes(out / "collectives.csv", lambda h: h.write(text.getvalue().encode("utf-8")), fsync=False)
    summary = {"name": Path(str(document["campaign_file"])).stem, **to_jsonable(document)}
    atomic_write_bytes(out / "summary.json",
                       lambda h: h.write(json.dumps(summary, indent=2, allow_nan=False, default=str).encode("utf-8")),
                       fsync=False)
    report = write_report(out)
    return [str(out / "collectives.csv"), str(out / "summary.json"), str(report["html"])]


def _print(document: dict) -> None:
    console.print(
        f"{document['n_collectives']} collective(s) on model {document['model']} (what-if runs: "
        f"{'cold fits' if document['what_if'] == 'fit' else 'refit'}; overlap: {document['overlap']}; "
        f"{document['n_shared_users']} user(s) act for several, {document['n_contested_cells']} cell(s) claimed "
        "twice take the larger value)"
    )
    table = Table(title=f"target exposure in each collective's own audience (K={document['k']})")
    columns = ("collective", "targets", "audience", "participants alone / together", "before", "alone", "together",
               "effect alone", "effect together", "interaction", "efficacy drop", "participants worse off")
    for column in columns:
        table.add_column(column, justify="left" if column in ("collective", "targets") else "right")
    for c in document["collectives"]:
        targets = ", ".join(c["target_authors"]) or ", ".join(str(t) for t in c["target_item_ids"][:4])
        if not c["target_authors"] and len(c["target_item_ids"]) > 4:
            targets += f" (+{len(c['target_item_ids']) - 4})"
        action = c["campaign"].get("action", "add")
        table.add_row(
            c["name"] + ("" if action == "add" else f" ({action})"), targets, str(c["audience_size"]),
            f"{c['n_participants_solo']} / {c['n_participants_joint']}", fmt(c["exposure_before"], ".1%"),
            fmt(c["exposure_solo"], ".1%"), fmt(c["exposure_joint"], ".1%"), fmt(c["effect_solo"], "+.1%"),
            fmt(c["effect_joint"], "+.1%"), fmt(c["interaction"], "+.1%"), fmt(c["efficacy_drop"], ".0%"),
            fmt(c["pareto"]["participants_worse_share"], ".1%"),
        )
    console.print(table)
    console.print(
        f"NDCG@{document['k']}, all test users: {document['ndcg_before']:.4f} -> {document['ndcg_after']:.4f}; "
        f"users better / unchanged / worse off with everyone acting: {document['better_share']:.1%} / "
        f"{document['unchanged_share']:.1%} / {document['worse_share']:.1%} (noise floor "
        f"{document['noise_floor']:.4f})"
    )
    for path in document.get("written", []):
        console.print(f"wrote {path}", highlight=False)
    console.print(
        "interaction = effect together - the sum of every collective's effect alone on this audience (0 when the "
        "collectives neither help nor hinder each other); efficacy drop = 1 - effect together / effect alone "
        "(– where the collective has no effect alone)."
    )
