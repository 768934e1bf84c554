"""``recollective attack run | detect``: benign versus malicious coordination on real data.

Thin: load (the data layer's flags), optionally k-core, split (seeded), resolve the targets (raw item ids and/or
author names) and their audience, fit the baseline, then call :func:`recollective.adversarial.evaluate_coordination`
(one action) or a detector's ``score`` (detect), and render; ``attack study`` is in
:mod:`recollective.cli.attack_study`. Supervised detectors (``features``) are trained on a separate injection of
attacks against other items, as the study does.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._data_source import DataSource, with_data_options
from recollective.cli._glossary import inverted_auc_lines
from recollective.cli._options import JsonOpt, ModelName, parse_floats, parse_params, parse_size, split_list
from recollective.cli._output import before_after_table, console, emit_json, err_console, fmt, handles_errors, render
from recollective.cli._setup import Setup, with_setup
from recollective.errors import InvalidParameterError, unknown_name

__all__ = ["attack_app"]

attack_app = typer.Typer(
    help="Shilling attacks versus benign collectives at equal budget: run one and see what detectors catch, score "
    "a data set for suspicious accounts, or run the whole study with tables, plots and an HTML report.",
    no_args_is_help=True,
)
DEFAULT_DETECTORS = "pca,features,fraudar,burst"
DEFAULT_SHARES = "0.01,0.02,0.05,0.1"

KindOpt = Annotated[
    str, typer.Option("--kind", help="random, average, bandwagon, segment, brigading, or benign (a campaign).")
]
SizeOpt = Annotated[
    str, typer.Option("--size", help="Attack profiles or benign participants: a share of users (0.01) or a count (50).")
]
FillerOpt = Annotated[
    str, typer.Option("--filler-size", help="Filler items per attack profile: a count (20) or a share of items (0.01).")
]
IntentOpt = Annotated[str, typer.Option("--intent", help="push (targets at the top rating) or nuke (bottom).")]
AccountsOpt = Annotated[str, typer.Option("--accounts", help="fake (new profiles) or real (existing accounts).")]
NSelectedOpt = Annotated[
    int, typer.Option("--n-selected", min=0, help="bandwagon: popular items rated top; segment: segment size.")
]
BudgetOpt = Annotated[
    int | None, typer.Option("--budget", help="Attack: total added interactions (whole profiles); overrides --size.")
]
ParticipantsOpt = Annotated[
    str, typer.Option("--participants", help="Benign campaign: random, majority, fans or closest.")
]
DetectorsOpt = Annotated[str, typer.Option("--detectors", help="Comma-separated: pca, features, fraudar, burst.")]
FlagSharesOpt = Annotated[
    str, typer.Option("--flag-shares", help="Shares of users a platform flags and filters (detection thresholds).")
]


def _names(text: str, option: str, allowed) -> list[str]:
    names = split_list(text)
    if not names:
        raise InvalidParameterError(f"{option} is empty; choose among {', '.join(allowed)}")
    bad = [name for name in names if name not in allowed]
    if bad:
        raise InvalidParameterError(f"{option}: {unknown_name('value', bad[0], allowed)}")
    return list(dict.fromkeys(names))


def _action(kind, targets, size, filler_size, intent, accounts, n_selected, budget, participants, train):
    """The Campaign (``kind == "benign"``) or Attack spec; the library validates every field."""
    from recollective.adversarial import ATTACK_KINDS, Attack
    from recollective.campaigns import Campaign

    item_idx = tuple(int(t) for t in targets.item_idx)
    if kind == "benign":
        return Campaign(item_idx, participants=participants, size=parse_size(size),
                        rating=float(train.matrix.data.max()))
    if kind not in ATTACK_KINDS:
        raise InvalidParameterError(f"--kind: {unknown_name('attack kind', kind, (*ATTACK_KINDS, 'benign'))}")
    return Attack(kind, item_idx, intent=intent, size=parse_size(size), filler_size=parse_size(
        filler_size, "--filler-size"), n_selected=n_selected, accounts=accounts, budget=budget)


def _planned_actions(action, n_users: int, n_items: int) -> int:
    """Interactions the action will add (the training injection's budget for supervised detectors)."""
    from recollective.campaigns import Campaign

    if isinstance(action, Campaign):
        return action.n_selected(n_users) * len(action.targets)
    selected = (len(action.selected) or action.n_selected) if action.uses_selected else 0
    per_profile = len(action.targets) + selected + action.n_fillers(n_items)
    return action.n_profiles(n_users, per_profile) * per_profile


def _detectors(names: list[str], train, action, filler_size, seed: int) -> tuple[dict, dict]:
    """Built detectors by name (supervised ones fitted on a separate injection) and their CV AUCs."""
    from recollective.adversarial import fit_on_injection, make_detector
    from recollective.adversarial._study import study_stream

    built, cv_auc = {}, {}
    for name in names:
        detector = make_detector(name)
        if "rng" in detector.get_params():
            detector.set_params(rng=seed)
        if detector.supervised:
            accounts = ("fake",) if getattr(action, "accounts", "fake") == "fake" else ("fake", "real")
            with err_console.status(f"training detector {name} on a separate injection"):
                cv_auc[name] = fit_on_injection(
                    detector, train, targets=action.targets, budget=_planned_actions(action, train.n_users,
                                                                                     train.n_items),
                    accounts=accounts, filler_size=filler_size, rng=study_stream(seed, "training-injection"))
        built[name] = detector
    return built, cv_auc


@attack_app.command("run")
@handles_errors
@with_setup(default_model=ModelName.als, targets=True)
def run(
    setup: Setup,
    kind: KindOpt = "average",
    size: SizeOpt = "0.01",
    filler_size: FillerOpt = "20",
    intent: IntentOpt = "push",
    accounts: AccountsOpt = "fake",
    n_selected: NSelectedOpt = 3,
    budget: BudgetOpt = None,
    participants: ParticipantsOpt = "closest",
    detectors: DetectorsOpt = DEFAULT_DETECTORS,
    flag_shares: FlagSharesOpt = DEFAULT_SHARES,
    json_out: JsonOpt = False,
) -> None:
    """Apply one attack (or the benign campaign with --kind benign), refit, and report benefit (target exposure
    in the audience), harm (exposure among users who would not like the targets), NDCG, and what each detector
    flags and what filtering the flagged users costs."""
    from recollective.adversarial import DETECTOR_NAMES, evaluate_coordination

    names = _names(detectors, "--detectors", DETECTOR_NAMES)
    shares = parse_floats(flag_shares, "--flag-shares")
    filler = parse_size(filler_size, "--filler-size")
    recommender, train, test, targets = setup.prepare()
    model, seed, k = setup.model, setup.seed, setup.k
    action = _action(kind, targets, size, filler_size, intent, accounts, n_selected, budget, participants, train)
    started = time.perf_counter()
    with err_console.status(f"fitting the baseline {model.value}"):
        baseline = recommender.fit(train)
    built, cv_auc = _detectors(names, train, action, filler, seed)
    embedding = None
    if kind == "benign" and participants == "closest":
        from recollective.campaigns import user_embedding

        embedding = user_embedding(train, rng=seed)
    with err_console.status("applying the action, refitting, detecting and filtering"):
        outcome = evaluate_coordination(baseline, train, test, action, detectors=built, k=k, rng=seed,
                                        audience=targets.audience.user_idx, flag_shares=shares, embedding=embedding)
    for note in outcome.summary["notes"]:
        err_console.print(f"note: {note}", markup=False, soft_wrap=True)
    result = {
        **setup.describe(recommender),
        "spec": action.as_dict(),
        "target_item_ids": targets.item_ids.tolist(),
        "target_authors": list(targets.authors),
        **outcome.summary,
        "cv_auc": cv_auc,
        "detection": outcome.rows,
        "seconds": time.perf_counter() - started,
    }
    result["spec"]["targets"] = targets.item_ids.tolist()
    render(result, json_out, _print_run)


def _print_run(result: dict) -> None:
    k = result["k"]
    who = "participants" if result["action"] == "benign" else f"{result['accounts']} accounts"
    console.print(
        f"{result['action']}: {result['n_accounts']} {who} added {result['n_actions']} interactions on "
        f"{len(result['target_item_ids'])} target(s); audience {result['audience_size']} users, "
        f"{result['n_victims']} other test users; model {result['model']}"
    )
    console.print(before_after_table(result, (
        ("benefit: target exposure in the audience", "benefit"), ("harm: target exposure among the others", "harm"),
        (f"NDCG@{k}, all test users", "ndcg"), (f"NDCG@{k}, audience", "ndcg_audience"),
        (f"NDCG@{k}, others", "ndcg_outside"), (f"hit rate@{k}", "hit_rate"),
    )))
    if not result["detection"]:
        return
    table = Table(title="detectors: flag the top share of users, then filter them and refit")
    columns = ("detector", "flagged", "AUC", "precision", "recall", "F1", "benign flagged", "benefit lost",
               "harm avoided", "NDCG lost")
    for column in columns:
        table.add_column(column, justify="left" if column == "detector" else "right")
    for row in result["detection"]:
        table.add_row(row["detector"], f"{row['flag_share']:.0%} ({row['flagged']})", fmt(row["roc_auc"]),
                      fmt(row["precision"]), fmt(row["recall"]), fmt(row["f1"]),
                      fmt(row["benign_flagged_share"], ".1%"), fmt(row["benefit_lost"]), fmt(row["harm_avoided"]),
                      fmt(row["ndcg_lost"]))
    console.print(table)
    who = "the benign participants" if result["action"] == "benign" else "the attack's accounts"
    for line in inverted_auc_lines(result["detection"], who):
        console.print(line)
    for name, value in result["cv_auc"].items():
        console.print(f"{name}: cross-validated AUC on its training injection {fmt(value)}")


def _pm(mean, sd) -> str:
    return "–" if mean is None else f"{mean:.3f} ± {sd or 0.0:.3f}"


@attack_app.command("detect")
@handles_errors
@with_data_options
def detect(
    source: DataSource,
    detector: Annotated[str, typer.Option("--detector", help="pca, fraudar or burst (unsupervised).")] = "pca",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A detector hyper-parameter as name=value (repeat).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many of the most suspicious users to list.")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Score every user of a data set with an unsupervised detector and list the most suspicious ones."""
    import numpy as np

    from recollective.adversarial import make_detector

    built = make_detector(detector, **parse_params(param))
    if built.supervised:
        raise InvalidParameterError(
            f"--detector {detector} is supervised: it needs labelled attackers to learn from; use `recollective "
            "attack run` or `recollective attack study`, which train it on a separate injection"
        )
    built.checked_params()
    data = source.load().interactions
    started = time.perf_counter()
    with err_console.status(f"scoring {data.n_users:,} users with {detector}"):
        scores = built.score(data)
    seconds = time.perf_counter() - started
    order = np.lexsort((np.arange(scores.size), -scores))[:top]
    counts = np.diff(data.matrix.indptr)
    rows = [{"rank": rank, "user_id": data.users.ids[u], "user_idx": int(u), "score": float(scores[u]),
             "n_interactions": int(counts[u])} for rank, u in enumerate(order, start=1)]
    document = {"detector": detector, "params": built.get_params(), "data": str(source.path),
                "n_users": data.n_users, "score_median": float(np.median(scores)), "score_max": float(scores.max()),
                "top": rows, "seconds": seconds}
    if json_out:
        emit_json(document)
        return
    table = Table(title=f"most suspicious users by {detector} (higher = more suspicious; median score "
                        f"{document['score_median']:.4g})")
    for column in ("rank", "user id", "score", "interactions"):
        table.add_column(column, justify="left" if column == "user id" else "right")
    for row in rows:
        table.add_row(str(row["rank"]), str(row["user_id"]), f"{row['score']:.4g}", str(row["n_interactions"]))
    console.print(table)
