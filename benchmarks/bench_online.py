"""Benchmark: the online game's vectorised rounds against a hand-written per-user loop.

Plays the online game (``recollective.game.online``) on a 2,000 users x 500 items majority–minority instance
for 200 rounds (50 of exploration, feedback noise 0.1, USVT) over 10 seeds, once truthfully and once with a
collective (the first ``--members`` majority users uprate the minority item with the largest column sum of R*,
each also seeking it out ``--budget`` times per round), and times in the same run

(a) the candidate: ``run_online(...)`` for the truthful and the collective runs, and
(b) the baseline a user would write by hand: the same simulation with every round's work done by a Python
    loop over users (each user's exploration draw is recorded, their noisy feedback added to running sums,
    and in exploitation each user's top item found from their row of R^ with the one-shot tie-break), and each
    completion done by a full ``np.linalg.svd`` of Y / p (USVT) — the same random streams, so both must give the
    same per-round welfare, which is checked.

It prints both times, their ratio, the per-simulation cost, whether the two agree, and the welfare numbers. With
``--profile N`` it adds a cProfile (top N by own time) of the candidate and a timing of its phases.

BLAS threads are pinned with threadpoolctl (``--threads``, default 1) and recorded. This is a script, not a
test: no timing assertions live in ``tests/`` (STYLE.md item 23).

Usage::

    .venv/bin/python benchmarks/bench_online.py              # full run: 2,000 x 500 x 200 rounds x 10 seeds
    .venv/bin/python benchmarks/bench_online.py --quick      # smoke run: 3 seeds, baseline on 1 seed
    .venv/bin/python benchmarks/bench_online.py --json       # one JSON document on stdout
    .venv/bin/python benchmarks/bench_online.py --profile 15 # add a cProfile of the candidate
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import recollective.game.online
from _common import blas_pools, code_version, log, machine, new_parser, print_provenance, profiled
from recollective.game import DEFAULT_TIE_RTOL, as_rank_rule, majority_minority, top_items
from recollective.game.online import CollectiveInLoop, OnlineConfig, complete, run_online, simulate, summarise

COMPARED = ("welfare", "minority_welfare", "members_welfare", "regret")


def parse_args(argv=None) -> argparse.Namespace:
    parser = new_parser(__doc__, "3 seeds, baseline on 1 seed")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per run (default 10; 3 with --quick)")
    parser.add_argument(
        "--baseline-seeds", type=int, default=None, help="seeds the baseline plays (default: all; 1 with --quick)"
    )
    parser.add_argument("--rounds", type=int, default=200, help="rounds T (default 200)")
    parser.add_argument("--explore-rounds", type=int, default=50, help="exploration rounds E (default 50)")
    parser.add_argument("--noise", type=float, default=0.1, help="feedback noise sigma (default 0.1)")
    parser.add_argument(
        "--estimator", choices=("usvt", "softimpute", "als"), default="usvt", help="estimator (default usvt)"
    )
    parser.add_argument("--members", type=int, default=20, help="majority users in the collective (default 20)")
    parser.add_argument("--uprating", type=float, default=6.0, help="the collective's uprating value (default 6)")
    parser.add_argument("--budget", type=int, default=1, help="targets each member seeks per round (default 1)")
    parser.add_argument("--instance-seed", type=int, default=1, help="seed of the instance (default 1)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the top N cProfile rows")
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = 3 if args.quick else 10
    if args.baseline_seeds is None:
        args.baseline_seeds = 1 if args.quick else args.seeds
    if not 1 <= args.baseline_seeds <= args.seeds:
        parser.error(f"--baseline-seeds must lie in [1, --seeds = {args.seeds}]; got {args.baseline_seeds}")
    return args


# --------------------------------------------------------------------------------------------------------------
# The baseline: the same game, with each round's work written as a Python loop over users.


def _user_top(row, tol, col_l1, l1_tol) -> int:
    """One user's top item from their row of R^ with the one-shot tie-break (the same rule as ``top_items``)."""
    best = int(np.argmax(row))
    tied = np.flatnonzero(row >= row[best] - tol)
    if tied.size > 1:
        norms = col_l1[tied]
        best = int(tied[np.flatnonzero(norms >= norms.max() - l1_tol)[0]])
    return best


def baseline_simulate(R_true, alpha, config: OnlineConfig, collective, user_group, seed: int) -> dict:
    """Per-user loop version of ``simulate`` for the one-item exploration mode, top-1 serving, no epsilon.

    Uses the same random streams as ``simulate`` (``SeedSequence(seed).spawn(5)``), so the served items and
    the welfare series must agree with it.
    """
    n_users, n_items = R_true.shape
    rule = as_rank_rule(alpha)
    explore_rng, noise_rng, collective_rng, _, seek_noise_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    revealed = R_true.copy()
    members = np.empty(0, np.int64)
    participants = np.empty(0, np.int64)
    targets = np.empty(0, np.int64)
    if collective is not None:
        members = np.unique(np.asarray(collective.members, dtype=np.int64))
        targets = np.unique(np.asarray(collective.targets, dtype=np.int64))
        participants = members[collective_rng.random(members.size) < collective.participation]
        values = collective.uprating + collective.coordination_noise * collective_rng.standard_normal(
            (participants.size, targets.size)
        )
        for row, u in enumerate(participants):
            for col, i in enumerate(targets):
                revealed[u, i] = max(values[row, col], 0.0)
    is_minority = np.asarray(user_group) == 1
    is_member = np.zeros(n_users, dtype=bool)
    is_member[members] = True
    best = R_true.max(axis=1)
    sums = np.zeros(R_true.shape)
    counts = np.zeros(R_true.shape)
    out = {name: np.zeros(config.rounds) for name in COMPARED}
    R_hat = None

    def observe(u, i, z):
        sums[u, i] += revealed[u, i] + config.noise * z
        counts[u, i] += 1.0

    def fit():
        mask = counts > 0
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=mask)
        if config.estimator == "usvt":
            fraction = np.count_nonzero(mask) / mask.size
            U, s, Vt = np.linalg.svd(np.where(mask, means, 0.0) / fraction, full_matrices=False)
            rank = int(np.count_nonzero(s > alpha))
            R_hat = (U[:, :rank] * s[:rank]) @ Vt[:rank] if rank else np.zeros(R_true.shape)
        else:
            completion = complete(config.estimator, means, mask, rule, alpha, als_reg=config.als_reg)
            R_hat, rank = completion.R_hat, completion.rank
        # Matrix-wide constants of the tie rule (as in top_items).
        tol = DEFAULT_TIE_RTOL * max(1.0, float(np.abs(R_hat.max(axis=1)).max()), -float(R_hat.min()))
        col_l1 = np.abs(R_hat).sum(axis=0)
        l1_tol = DEFAULT_TIE_RTOL * max(1.0, float(col_l1.max()))
        return R_hat, rank, (tol, col_l1, l1_tol)

    for t in range(config.rounds):
        served = np.zeros(n_users)
        if t < config.explore_rounds:
            shown = explore_rng.integers(n_items, size=n_users)
            z = noise_rng.standard_normal(n_users)
            for u in range(n_users):
                observe(u, shown[u], z[u])
                served[u] = R_true[u, shown[u]]
        else:
            if R_hat is None:
                R_hat, rank, ties = fit()
            z = noise_rng.standard_normal(n_users)
            for u in range(n_users):
                item = _user_top(R_hat[u], *ties)
                observe(u, item, z[u])
                served[u] = R_true[u, item]
        if participants.size and collective.budget:
            sought = targets[collective_rng.integers(targets.size, size=(participants.size, collective.budget))]
            z = seek_noise_rng.standard_normal(sought.size)
            for k, (u, i) in enumerate(zip(np.repeat(participants, collective.budget), sought.ravel(), strict=True)):
                observe(u, i, z[k])
        out["welfare"][t] = served.sum()
        out["minority_welfare"][t] = served[is_minority].sum()
        out["members_welfare"][t] = served[is_member].sum()
        out["regret"][t] = (best - served).sum()
    if R_hat is None:  # the game ended in exploration: the final model fits after the last round
        R_hat, rank, ties = fit()
    out["final_rank"] = rank
    out["final_top_items"] = np.array([_user_top(R_hat[u], *ties) for u in range(n_users)])
    return out


# --------------------------------------------------------------------------------------------------------------


def build(args):
    instance = majority_minority(1800, 200, 450, 50, majority_rank=5, minority_scale=0.15, rng=args.instance_seed)
    minority_items = instance.minority_items
    target = int(minority_items[np.argmax(instance.R_true[:, minority_items].sum(axis=0))])
    collective = CollectiveInLoop(
        members=instance.majority_users[: args.members].tolist(),
        targets=[target],
        uprating=args.uprating,
        budget=args.budget,
    )
    config = OnlineConfig(
        rounds=args.rounds, explore_rounds=args.explore_rounds, noise=args.noise, estimator=args.estimator
    )
    return instance, collective, config


def exploit_mean(summary_runs, name, explore_rounds):
    """Mean over seeds and 95% half-width of the per-seed mean of ``name`` over the exploitation rounds."""
    per_seed = np.array([[getattr(run, name)[explore_rounds:].mean()] for run in summary_runs])
    result = summarise(per_seed)
    return float(result.mean[0]), float(result.half_width[0])


def phase_times(instance, config, seed: int) -> dict:
    """Wall time of one truthful simulate() and of its parts.

    ``exploration + completion`` is simulate() cut short at E rounds (it then completes once); the completion
    alone is ``complete()`` on a matrix observed like the exploration's (E random items per user); one serving
    pass is ``top_items`` on that completion's R^, which the exploitation loop runs once per round.
    """
    R, alpha, groups = instance.R_true, instance.alpha, instance.user_group
    start = time.perf_counter()
    simulate(R, alpha, config, user_group=groups, seed=seed)
    total = time.perf_counter() - start
    start = time.perf_counter()
    simulate(R, alpha, config.model_copy(update={"rounds": config.explore_rounds}), user_group=groups, seed=seed)
    explore_and_fit = time.perf_counter() - start
    rng = np.random.default_rng(seed)
    mask = np.zeros(R.shape, dtype=bool)
    for _ in range(config.explore_rounds):
        mask[np.arange(R.shape[0]), rng.integers(R.shape[1], size=R.shape[0])] = True
    values = np.where(mask, R + config.noise * rng.standard_normal(R.shape), 0.0)
    start = time.perf_counter()
    fit = complete(config.estimator, values, mask, as_rank_rule(alpha), alpha, als_reg=config.als_reg)
    completion = time.perf_counter() - start
    n_exploit = config.rounds - config.explore_rounds
    start = time.perf_counter()
    for _ in range(max(1, n_exploit)):
        top_items(fit.R_hat)
    serve = (time.perf_counter() - start) / max(1, n_exploit)
    return {
        "simulate_seconds": total,
        "exploration_rounds_seconds": explore_and_fit - completion,
        "completion_seconds": completion,
        "exploitation_rounds_seconds": total - explore_and_fit,
        "top_items_one_pass_seconds": serve,
    }


def profile_candidate(instance, config, collective, top: int) -> str:
    def both():
        simulate(instance.R_true, instance.alpha, config, user_group=instance.user_group, seed=0)
        simulate(instance.R_true, instance.alpha, config, collective=collective, user_group=instance.user_group, seed=0)

    return profiled(both, top)


def main(argv=None) -> int:
    args = parse_args(argv)
    host = machine()
    version = code_version(recollective.game.online)
    instance, collective, config = build(args)
    R, alpha, groups = instance.R_true, instance.alpha, instance.user_group
    seeds = list(range(args.seeds))
    log(
        f"instance {R.shape[0]} x {R.shape[1]}, alpha = {alpha:.4f}; {config.rounds} rounds, explore "
        f"{config.explore_rounds}, noise {config.noise}, {config.estimator}; {len(seeds)} seeds; collective of "
        f"{len(collective.members)} uprating item {collective.targets[0]} by {collective.uprating}, budget "
        f"{collective.budget}"
    )
    with threadpool_limits(limits=args.threads, user_api="blas"):
        blas = blas_pools()
        simulate(R, alpha, config.model_copy(update={"rounds": 2, "explore_rounds": 1}), seed=0)  # warm-up

        start = time.perf_counter()
        truthful = run_online(R, alpha, config, seeds=seeds, user_group=groups)
        strategic = run_online(R, alpha, config, seeds=seeds, collective=collective, user_group=groups)
        candidate_time = time.perf_counter() - start
        log(f"(a) run_online, truthful + collective, {len(seeds)} seeds: {candidate_time:.2f} s")

        baseline_seeds = seeds[: args.baseline_seeds]
        start = time.perf_counter()
        base_truthful = [baseline_simulate(R, alpha, config, None, groups, s) for s in baseline_seeds]
        base_strategic = [baseline_simulate(R, alpha, config, collective, groups, s) for s in baseline_seeds]
        baseline_time = time.perf_counter() - start
        log(f"(b) per-user loop, truthful + collective, {len(baseline_seeds)} seeds: {baseline_time:.2f} s")

        phases = phase_times(instance, config, 0) if args.profile else None
        profile = profile_candidate(instance, config, collective, args.profile) if args.profile else None

    # Agreement on the seeds both played: per-round series, final rank and final top items.
    worst = 0.0
    same_items = True
    same_rank = True
    for ours_summary, theirs_list in ((truthful, base_truthful), (strategic, base_strategic)):
        for run, theirs in zip(ours_summary.runs, theirs_list, strict=False):
            for name in COMPARED:
                ours = getattr(run, name)
                scale = max(1.0, float(np.abs(ours).max()))
                worst = max(worst, float(np.abs(ours - theirs[name]).max()) / scale)
            same_rank &= run.final_rank == theirs["final_rank"]
            same_items &= bool(np.array_equal(run.final_top_items, theirs["final_top_items"]))
    agree = worst <= 1e-12 and same_rank and same_items

    n_candidate = 2 * len(seeds)
    n_baseline = 2 * len(baseline_seeds)
    per_candidate = candidate_time / n_candidate
    per_baseline = baseline_time / n_baseline
    E = config.explore_rounds
    numbers = {}
    for label, summary in (("truthful", truthful), ("collective", strategic)):
        numbers[label] = {
            name: exploit_mean(summary.runs, name, E) for name in ("welfare", "minority_welfare", "members_welfare")
        }
        numbers[label]["final_rank_mean"] = float(np.mean([run.final_rank for run in summary.runs]))
        numbers[label]["completion_error_mean"] = float(summary.completion_error.mean[0])
    summary = {
        "machine": host,
        "code": version,
        "blas": blas,
        "threads": args.threads,
        "instance": {"shape": list(R.shape), "seed": args.instance_seed, "alpha": alpha},
        "config": config.model_dump(),
        "collective": collective.model_dump(),
        "seeds": len(seeds),
        "baseline_seeds": len(baseline_seeds),
        "candidate_seconds": candidate_time,
        "candidate_seconds_per_simulation": per_candidate,
        "baseline_seconds": baseline_time,
        "baseline_seconds_per_simulation": per_baseline,
        "speedup_per_simulation": per_baseline / per_candidate,
        "baseline_seconds_extrapolated_to_all_seeds": per_baseline * n_candidate,
        "agreement": {
            "agree": bool(agree),
            "max_relative_difference": worst,
            "same_final_rank": bool(same_rank),
            "same_final_top_items": bool(same_items),
        },
        "exploitation_means": numbers,
    }
    if phases is not None:
        summary["phases"] = phases
        summary["profile"] = profile
    if args.json:
        print(json.dumps(summary, allow_nan=False, sort_keys=True, indent=2))
        return 0

    print_provenance(summary["machine"], version, blas, args.threads)
    print(
        f"game: {R.shape[0]} x {R.shape[1]}, alpha = {alpha:.6g}, {config.rounds} rounds ({E} exploring), noise "
        f"{config.noise}, {config.estimator}; collective: {len(collective.members)} majority users, target item "
        f"{collective.targets[0]}, uprating {collective.uprating}, budget {collective.budget}"
    )
    print(
        f"(a) run_online, truthful + collective, {len(seeds)} seeds each: {candidate_time:.2f} s "
        f"({per_candidate:.3f} s per simulation)"
    )
    print(
        f"(b) per-user Python loop, truthful + collective, {len(baseline_seeds)} seeds each: {baseline_time:.2f} s "
        f"({per_baseline:.3f} s per simulation; {per_baseline * n_candidate:.1f} s for {len(seeds)} seeds)"
    )
    print(f"speed-up (b) / (a) per simulation: {summary['speedup_per_simulation']:.1f}x")
    print(
        f"agreement on {len(baseline_seeds)} seed(s): {agree} (max relative difference of the per-round series "
        f"{worst:.3g}; same final rank: {same_rank}; same final top items: {same_items})"
    )
    for label, values in numbers.items():
        parts = ", ".join(
            f"{name} {values[name][0]:.3f} ± {values[name][1]:.3f}"
            for name in ("welfare", "minority_welfare", "members_welfare")
        )
        print(
            f"{label}: exploitation means per round {parts}; final rank {values['final_rank_mean']:.1f}, "
            f"completion error {values['completion_error_mean']:.4f}"
        )
    if phases is not None:
        print(
            "phases of one truthful simulate(): "
            + ", ".join(f"{key} {value * 1e3:.1f} ms" for key, value in phases.items())
        )
        print(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
