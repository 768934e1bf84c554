"""``recollective campaign run | plan``: a collective campaign on real data, evaluated by what-if refits.

Thin: load (the data layer's flags), optionally k-core, split (seeded), resolve the targets (raw item ids and/or
author names) and their audience (test users with a held-out interaction on a target), fit the baseline model,
then call :func:`recollective.campaigns.evaluate_campaign` or :func:`recollective.campaigns.plan_campaign`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._glossary import amplification_lines
from recollective.cli._options import JsonOpt, ModelName, option_group, parse_size, split_list
from recollective.cli._output import before_after_table, console, emit_json, err_console, fmt, handles_errors, render
from recollective.cli._setup import Setup, with_setup
from recollective.errors import InvalidParameterError

__all__ = ["campaign_app"]

campaign_app = typer.Typer(
    help="Collective campaigns on real data: run one (before/after, who gains and who loses) or plan the smallest "
    "collective that reaches a goal.",
    no_args_is_help=True,
)

ParticipantsOpt = Annotated[
    str, typer.Option("--participants", help="Who acts: random, majority, fans, closest or explicit.")
]
SizeOpt = Annotated[
    str, typer.Option("--size", help="Collective size: a share of users in (0, 1) (e.g. 0.02) or a count (e.g. 50).")
]
RatingOpt = Annotated[float, typer.Option("--rating", help="Value of each added interaction (uprating).")]
PositionOpt = Annotated[
    str,
    typer.Option("--position", help="Ordered histories: append, random, after_low_anchor or before_high_anchor."),
]
BudgetOpt = Annotated[int | None, typer.Option("--budget", help="Targets each participant adds (default all).")]
ParticipationOpt = Annotated[
    float, typer.Option("--participation", help="Probability that a selected participant acts.")
]
MembersOpt = Annotated[
    str | None, typer.Option("--members", help="explicit participants: raw user ids, comma-separated.")
]


@dataclass(frozen=True)
class Collective:
    """Who acts and how, as the campaign flags give it (``--participants`` ... ``--members``)."""

    participants: str = "random"
    size: str = "0.01"
    rating: float = 5.0
    position: str = "append"
    budget: int | None = None
    participation: float = 1.0
    members: str | None = None

    def campaign(self, targets, train):
        """The :class:`recollective.campaigns.Campaign` on ``targets``; ``--members`` ids resolved in ``train``."""
        from recollective.campaigns import Campaign

        member_idx = ()
        if self.members:
            from recollective.data._targets import _coerce_id

            ids = [_coerce_id(value, train.users.ids) for value in split_list(self.members)]
            member_idx = tuple(int(i) for i in train.users.numbers(ids))
        return Campaign(targets=tuple(int(t) for t in targets.item_idx), participants=self.participants,
                        size=parse_size(self.size), rating=self.rating, position=self.position, budget=self.budget,
                        participation=self.participation, members=member_idx)


# The campaign flags of `campaign run`, in the order of --help (`campaign plan` takes some of them one by one).
COLLECTIVE_FLAGS = {
    "participants": (ParticipantsOpt, "random"), "size": (SizeOpt, "0.01"), "rating": (RatingOpt, 5.0),
    "position": (PositionOpt, "append"), "budget": (BudgetOpt, None), "participation": (ParticipationOpt, 1.0),
    "members": (MembersOpt, None),
}


@campaign_app.command("run")
@handles_errors
@with_setup(default_model=ModelName.puresvd, targets=True)
@option_group("collective", COLLECTIVE_FLAGS, lambda values: Collective(**values))
def run(
    setup: Setup,
    collective: Collective,
    noise_floor: Annotated[
        bool, typer.Option("--noise-floor/--no-noise-floor", help="Estimate the seed-to-seed noise floor.")
    ] = True,
    campaign_file: Annotated[
        Path | None,
        typer.Option("--campaign", help="A TOML file of several [[collective]] tables (targets, participants, size, "
                                        "rating, action): each alone and all together, and their interaction."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="With --campaign: a folder for collectives.csv, summary.json and report.html."),
    ] = None,
    score_users: Annotated[
        str, typer.Option("--score-users", help="needed: the audience and participants in full, the population's "
                                                "numbers from a seeded sample of --sample-size test users (with "
                                                "95% half-widths); all: every test user.")
    ] = "needed",
    sample_size: Annotated[
        int, typer.Option("--sample-size", min=1, help="Test users in the population sample of --score-users needed.")
    ] = 3000,
    json_out: JsonOpt = False,
) -> None:
    """Fit the baseline, let the collective act, refit (fast path), and compare target exposure, accuracy per
    group and per-user utility (NDCG@K on held-out items) before and after."""
    from recollective.campaigns import estimate_noise_floor, evaluate_campaign
    from recollective.campaigns._population import SCORE_USERS
    from recollective.errors import did_you_mean

    if score_users not in SCORE_USERS:
        raise InvalidParameterError(f"--score-users must be one of {', '.join(SCORE_USERS)}; got {score_users!r}"
                                    f"{did_you_mean(score_users, SCORE_USERS)}")
    lean = {"score_users": score_users, "sample_size": sample_size}
    if campaign_file is not None:
        from recollective.cli.campaign_composed import run_composed

        given = [f"--{name.replace('_', '-')}" for name, value in vars(collective).items()
                 if value != getattr(Collective(), name)]
        given += ["--target-items"] * bool(setup.target_items) + ["--target-author"] * bool(setup.target_authors)
        if given:
            raise InvalidParameterError(f"--campaign {campaign_file} describes every collective; drop "
                                        f"{', '.join(given)} (or give them inside the file)")
        run_composed(setup, campaign_file, noise_floor=noise_floor, json_out=json_out, out=out, lean=lean)
        return
    if out is not None:
        raise InvalidParameterError("--out writes the report of several collectives and needs --campaign FILE.toml "
                                    "(for one collective at several sizes: recollective campaign sweep --out)")
    recommender, train, test, targets = setup.prepare()
    model, seed, k, relevance_threshold = setup.model, setup.seed, setup.k, setup.relevance_threshold
    campaign = collective.campaign(targets, train)
    started = time.perf_counter()
    with err_console.status(f"fitting the baseline {model.value}"):
        baseline = recommender.fit(train)
    fit_seconds = time.perf_counter() - started
    floor = 0.0
    if noise_floor:
        with err_console.status("estimating the seed-to-seed noise floor"):
            floor = estimate_noise_floor(baseline.clone(), train, test, k, seeds=(seed, seed + 1_000_003),
                                         fitted=baseline, relevance_threshold=relevance_threshold, **lean)
    started = time.perf_counter()
    with err_console.status("applying the campaign and refitting"):
        outcome = evaluate_campaign(baseline, train, test, campaign, k=k, rng=seed,
                                    audience=targets.audience.user_idx, relevance_threshold=relevance_threshold,
                                    noise_floor=floor, **lean)
    whatif_seconds = time.perf_counter() - started
    result = {
        **setup.describe(recommender),
        "campaign": campaign.as_dict(),
        "target_item_ids": targets.item_ids.tolist(),
        "target_authors": list(targets.authors),
        **outcome.summary,
        "fit_seconds": fit_seconds,
        "whatif_seconds": whatif_seconds,
    }
    result["campaign"]["targets"] = targets.item_ids.tolist()
    render(result, json_out, _print_run)


def _print_run(result: dict) -> None:
    k = result["k"]
    console.print(
        f"{result['n_participants']} participants ({result['campaign']['participants']}) added "
        f"{result['n_actions']} interactions on {len(result['target_item_ids'])} target(s); audience "
        f"{result['audience_size']} readers; model {result['model']}"
    )
    rows = [
        ("target exposure in the audience", "target_exposure"),
        ("discounted target exposure", "discounted_exposure"),
        ("amplification", "amplification"),
        (f"NDCG@{k}, all test users", "ndcg"),
        (f"NDCG@{k}, majority", "ndcg_majority"),
        (f"NDCG@{k}, audience", "ndcg_audience"),
        (f"NDCG@{k}, participants", "ndcg_participants"),
        ("coverage", "coverage"),
        ("ARP", "arp"),
        ("Gini of exposure", "gini"),
    ]
    console.print(before_after_table(result, rows))
    for line in amplification_lines(result.get("amplification_before"), result.get("amplification_after")):
        console.print(line)
    console.print(
        f"users better / unchanged / worse off: {result['better_share']:.1%} / {result['unchanged_share']:.1%} / "
        f"{result['worse_share']:.1%}; participants worse off: {fmt(result['participants_worse_share'], '.1%')} "
        f"(noise floor {result['noise_floor']:.4f})"
    )


@campaign_app.command("plan")
@handles_errors
@with_setup(default_model=ModelName.puresvd, targets=True)
def plan(
    setup: Setup,
    goal_exposure: Annotated[
        float, typer.Option("--goal-exposure", help="Share of the audience that should see a target in its top K.")
    ] = 0.3,
    max_participant_loss: Annotated[
        float, typer.Option("--max-participant-loss", help="Largest acceptable fall of participants' NDCG@K.")
    ] = 0.01,
    sizes: Annotated[str, typer.Option("--sizes", help="Collective sizes to try (shares or counts).")] = (
        "0.005,0.01,0.02,0.05,0.1"
    ),
    policies: Annotated[
        str, typer.Option("--policies", help="Participant policies to try (random, majority, fans, closest, and "
                                             "optimized: the strategy search's participants).")
    ] = "random,majority,fans,closest",
    positions: Annotated[str, typer.Option("--positions", help="Positions to try (ordered data).")] = "append",
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Seeds per cell (intervals over seeds).")] = 3,
    rating: RatingOpt = 5.0,
    budget: BudgetOpt = None,
    participation: ParticipationOpt = 1.0,
    json_out: JsonOpt = False,
) -> None:
    """Find the smallest collective, and the best selection and position policy, that reaches the exposure goal
    while participants' accuracy loss stays within the bound; print a plan a person can act on."""
    from rich.progress import Progress

    from recollective.campaigns import plan_campaign

    recommender, train, test, targets = setup.prepare()
    model, seed, k, relevance_threshold = setup.model, setup.seed, setup.k, setup.relevance_threshold
    fixed = [p for p in split_list(policies) if p != "optimized"]
    template = Collective(fixed[0] if fixed else "random", "0.01", rating, "append", budget,
                          participation).campaign(targets, train)
    size_list = [parse_size(s) for s in split_list(sizes)]
    titles = train.item_metadata.get("title") if train.item_metadata else None

    def names(item_idx):
        ids = train.items.ids[list(item_idx)]
        if titles is None:
            return [str(i) for i in ids]
        return [f"{titles[i]} (id {raw})" if titles[i] else str(raw) for i, raw in zip(item_idx, ids, strict=True)]

    with Progress(console=err_console, transient=True, disable=json_out) as progress:
        task = progress.add_task("planning", total=None)

        def advance(done, total, row):
            progress.update(task, total=total, completed=done,
                            description=f"{row['participants']}, size {row['size']}, seed {row['seed']}")

        result = plan_campaign(
            recommender, train, test, template, goal_exposure=goal_exposure,
            max_participant_loss=max_participant_loss, sizes=size_list, participants=split_list(policies),
            positions=split_list(positions), seeds=list(range(seed, seed + seeds)), k=k,
            relevance_threshold=relevance_threshold, item_names=names, progress=advance,
        )
    document = {
        "feasible": result.feasible,
        "plan": result.text,
        "best": result.best,
        "goal_exposure": goal_exposure,
        "max_participant_loss": max_participant_loss,
        "target_item_ids": targets.item_ids.tolist(),
        "audience_size": targets.audience.n_users,
        "rows": result.rows,
    }
    if json_out:
        emit_json(document)
        return
    table = Table(title=f"campaign plan ({model.value}, {seeds} seed(s), K={k})")
    for column in ("participants", "position", "size", "n", "exposure after (95% CI)", "participant loss", "ok"):
        table.add_column(column, justify="left" if column in ("participants", "position") else "right")
    for row in result.rows:
        table.add_row(
            row["participants"], row["position"], str(row["size"]), f"{row['n_participants']:.0f}",
            f"{row['target_exposure_after']:.1%} ({row['target_exposure_after_low']:.1%}–"
            f"{row['target_exposure_after_high']:.1%})",
            f"{row['participant_loss']:+.4f}", "yes" if row["feasible"] else "no",
        )
    console.print(table)
    console.print(result.text)
