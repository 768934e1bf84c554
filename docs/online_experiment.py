"""Reproduce the experiment of docs/online.md: suppression and collective gains in the online game.

On the majority–minority instance ``majority_minority(rng=0)`` (75 users x 50 items, alpha from the instance)
this plays the online game (``recollective.game.online``) truthfully and with a collective, with the same seeds
(common random numbers), and prints Markdown tables of means with 95% Student-t intervals over seeds:

1. exploration length E in (5, 20, 50, 100, 200), with the collective's search budget 0 and 1;
2. feedback noise sigma in (0, 0.1, 0.3) at E in (50, 100, 200);
3. participation probability q in (0.2, ..., 1.0) for two five-member collectives;
4. the three estimators (USVT, SoftImpute, ALS) at E = 100 and 200.

It writes the figures (PNG, SVG and the CSV of the plotted numbers), the tables (``tables.md``) and the numbers
(``numbers.json``) to ``--out``, and copies the PNGs (reduced to a 64-colour palette) and CSVs to ``--img``
(docs/img by default). This file is a script, not a test (pytest collects only ``tests/``); it takes about
40 s on one core.

Usage::

    .venv/bin/python docs/online_experiment.py                  # 20 seeds, tables on stdout
    .venv/bin/python docs/online_experiment.py --seeds 10 --img ''   # fewer seeds, do not touch docs/img
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from recollective.game import CollectiveStrategy, compare_outcomes, effective_window, majority_minority, outcome
from recollective.game.online import CollectiveInLoop, OnlineConfig, run_online, summarise
from recollective.report._figures import BLUE, GREY, STYLE, VERMILION, output_paths, save_figure, write_csv
from recollective.report.online_plots import plot_online

ROUNDS = 300
NOISE = 0.1
EXPLORE = (5, 20, 50, 100, 200)
MEMBER, TARGET, UPRATING = 13, 45, 3.6
# Two five-member collectives uprating item 45 (see docs/online.md for their one-shot windows):
#   A: Pareto-effective only when all five take part (x = 1.6 lies in their Pareto window [1.487, 1.720]);
#   B: effective as soon as any three take part (x = 2.0 lies in their effective window [1.440, 2.300]).
GROUPS = {"A": ([0, 13, 26, 39, 52], 1.6), "B": ([10, 11, 12, 13, 14], 2.0)}
PARTICIPATION = (0.2, 0.4, 0.6, 0.8, 1.0)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def mean_ci(values) -> tuple[float, float]:
    """Mean and 95% t half-width across seeds (the engine's ``summarise``)."""
    result = summarise(np.asarray(values, dtype=np.float64)[:, None])
    return float(result.mean[0]), float(result.half_width[0])


def fmt(values, digits: int = 2) -> str:
    mean, half = mean_ci(values)
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


# What every table compares: the truthful and collective runs' ranks, welfare and the member's utility.
COMPARED = ("k_T", "k_C", "W_T", "dW", "M_T", "M_C", "d_members")
COMPARED_HEADER = ("k truthful", "k collective", "welfare truthful", "Δ welfare", "minority truthful",
                   "minority collective", f"Δ user {MEMBER}")


def compared_cells(result) -> list[str]:
    return [fmt(result["k_T"], 1), fmt(result["k_C"], 1), *(fmt(result[key]) for key in COMPARED[2:])]


def share(flags) -> str:
    flags = np.asarray(flags, dtype=bool)
    return f"{int(flags.sum())}/{flags.size}"


def paired(instance, config: OnlineConfig, collective: CollectiveInLoop, seeds) -> dict:
    """Truthful and collective runs on the same seeds; per-seed exploitation metrics (arrays over seeds).

    Without refits and epsilon-exploration the learner serves the same items in every exploitation round, so
    the per-round exploitation welfare equals the welfare of the final model (checked).
    """
    R, alpha, groups = instance.R_true, instance.alpha, instance.user_group
    common = {"seeds": seeds, "user_group": groups}
    truthful = run_online(R, alpha, config, **common)
    strategic = run_online(R, alpha, config, collective=collective, **common)
    E = config.explore_rounds
    minority = groups == 1
    members = np.asarray(collective.members)
    out = {key: [] for key in ("W_T", "W_C", "M_T", "M_C", "members_T", "members_C", "k_T", "k_C", "worse", "better")}
    out["participants"] = []
    out["others_worse"] = []
    out["one_shot_gain"] = []
    out["one_shot_effective"] = []
    base = outcome(R, instance.R_reported, alpha)
    for t_run, c_run in zip(truthful.runs, strategic.runs, strict=True):
        for run in (t_run, c_run):
            exploit = run.welfare[E:]
            assert np.allclose(exploit, run.final_utilities.sum(), rtol=1e-12, atol=1e-9), "exploitation drifted"
        u_t, u_c = t_run.final_utilities, c_run.final_utilities
        out["W_T"].append(u_t.sum())
        out["W_C"].append(u_c.sum())
        out["M_T"].append(u_t[minority].sum())
        out["M_C"].append(u_c[minority].sum())
        out["members_T"].append(u_t[members].sum())
        out["members_C"].append(u_c[members].sum())
        out["k_T"].append(t_run.final_rank)
        out["k_C"].append(c_run.final_rank)
        diff = u_c - u_t
        out["worse"].append(int(np.count_nonzero(diff < -1e-9)))
        out["better"].append(int(np.count_nonzero(diff > 1e-9)))
        others = np.ones(diff.size, dtype=bool)
        others[members] = False
        out["others_worse"].append(int(np.count_nonzero(diff[others] < -1e-9)))
        out["participants"].append(int(c_run.participants.size))
        # The one-shot game with the same participants (what the learner would do seeing the whole matrix).
        if c_run.participants.size:
            strategy = CollectiveStrategy(c_run.participants, collective.targets, collective.uprating)
            one_shot = outcome(R, strategy.apply(R), alpha)
            out["one_shot_gain"].append(one_shot.social_welfare - base.social_welfare)
            out["one_shot_effective"].append(compare_outcomes(base, one_shot).is_effective)
        else:
            out["one_shot_gain"].append(0.0)
            out["one_shot_effective"].append(False)
    arrays = {key: np.asarray(value, dtype=np.float64) for key, value in out.items()}
    arrays["dW"] = arrays["W_C"] - arrays["W_T"]
    arrays["dM"] = arrays["M_C"] - arrays["M_T"]
    arrays["d_members"] = arrays["members_C"] - arrays["members_T"]
    arrays["effective"] = arrays["dW"] > 1e-9
    arrays["pareto"] = (arrays["worse"] == 0) & (arrays["better"] > 0)
    arrays["summaries"] = {"truthful": truthful, "collective": strategic}
    return arrays


def coverage(E: int, n_items: int) -> float:
    """Expected share of pairs seen at least once after E rounds of one uniformly random item per user."""
    return 1.0 - (1.0 - 1.0 / n_items) ** E


def table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def plot_exploration(results, references, path_stem) -> list[Path]:
    """Minority welfare in exploitation and the learner's rank against E (truthful and collective, budget 0)."""
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

    png, svg, csv_path = output_paths(path_stem)
    Es = np.array(EXPLORE)
    stats = {}
    for key in ("M_T", "M_C", "k_T", "k_C", "W_T", "W_C"):
        pairs = [mean_ci(results[E][key]) for E in EXPLORE]
        stats[key] = (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    header = ["explore_rounds"]
    for key in stats:
        header += [f"{key}_mean", f"{key}_ci95_half_width"]
    write_csv(
        csv_path,
        header,
        [[int(E)] + [v for key in stats for v in (stats[key][0][i], stats[key][1][i])] for i, E in enumerate(Es)],
    )
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(8.0, 6.0), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True)
        for key, colour, label, marker in (("M_T", BLUE, "truthful", "o"), ("M_C", VERMILION, "collective", "D")):
            mean, half = stats[key]
            top.errorbar(Es, mean, yerr=half, color=colour, marker=marker, capsize=3, linewidth=1.5, label=label)
        top.axhline(references["M_T"], color=BLUE, linestyle=":", linewidth=1.2, label="one-shot, truthful")
        top.axhline(references["M_C"], color=VERMILION, linestyle=":", linewidth=1.2, label="one-shot, collective")
        top.set_ylabel("minority welfare per round\nin exploitation")
        top.set_title(
            f"Exploration length: user {MEMBER} uprates item {TARGET} by {UPRATING} (noise {NOISE}, mean and 95% "
            "interval)",
            loc="left",
        )
        top.set_ylim(-0.3, 6.6)  # room for the legend above the one-shot lines
        top.legend(loc="upper left", ncols=4)
        for key, colour, label, marker in (("k_T", BLUE, "truthful", "o"), ("k_C", VERMILION, "collective", "D")):
            mean, half = stats[key]
            bottom.errorbar(Es, mean, yerr=half, color=colour, marker=marker, capsize=3, linewidth=1.5, label=label)
        bottom.axhline(references["k_T"], color=GREY, linestyle=":", linewidth=1.2, label="one-shot $k^*$ (2 / 3)")
        bottom.axhline(references["k_C"], color=GREY, linestyle=":", linewidth=1.2)
        bottom.set_yscale("log")
        ticks = [2, 3, 5, 10, 20, 40]
        bottom.yaxis.set_major_locator(FixedLocator(ticks))
        bottom.yaxis.set_major_formatter(FixedFormatter([str(t) for t in ticks]))
        bottom.yaxis.set_minor_formatter(NullFormatter())
        bottom.set_ylabel("learner's rank $k$\n(singular values of $Y/p$ above $\\alpha$)")
        bottom.set_xscale("log")
        bottom.set_xticks(Es, [str(E) for E in Es])
        bottom.set_xlabel("exploration rounds $E$ (log scale; 50 items)")
        bottom.legend(loc="upper right")
        save_figure(figure, png, svg)
    return [png, svg, csv_path]


def plot_participation(results, path_stem) -> list[Path]:
    """Welfare gain against q for both five-member collectives: online (E = 100, 200) and the one-shot game."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    png, svg, csv_path = output_paths(path_stem)
    qs = np.array(PARTICIPATION)
    # (source, E) -> collective -> (means, half-widths) over q; source "one-shot" uses the E = 200 participants
    # (the participants drawn for a seed do not depend on E).
    curves = {}
    for name in GROUPS:
        for E in (100, 200):
            pairs = [mean_ci(results[(name, E, q)]["dW"]) for q in PARTICIPATION]
            curves.setdefault(("online", E), {})[name] = pairs
        pairs = [mean_ci(results[(name, 200, q)]["one_shot_gain"]) for q in PARTICIPATION]
        curves.setdefault(("one-shot", 0), {})[name] = pairs
    header = ["explore_rounds_0_for_one_shot", "q"]
    for name in GROUPS:
        header += [f"gain_mean_{name}", f"gain_ci95_half_width_{name}"]
    rows = []
    for (_, E), by_name in curves.items():
        for index, q in enumerate(qs):
            row = [int(E), float(q)]
            for name in GROUPS:
                row += list(by_name[name][index])
            rows.append(row)
    write_csv(csv_path, header, rows)
    styles = {
        ("online", 100): (VERMILION, "D", "-", "online, E = 100", -0.02),
        ("online", 200): (BLUE, "o", "-", "online, E = 200", 0.0),
        ("one-shot", 0): (GREY, "s", "--", "one-shot game, same participants", 0.02),
    }
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(8.0, 3.9), layout="constrained")
        axes = figure.subplots(1, 2, sharey=True)
        for ax, name in zip(axes, GROUPS, strict=True):
            members, x = GROUPS[name]
            for key, by_name in curves.items():
                colour, marker, linestyle, label, dodge = styles[key]
                mean = np.array([p[0] for p in by_name[name]])
                half = np.array([p[1] for p in by_name[name]])
                ax.errorbar(
                    qs + dodge,
                    mean,
                    yerr=half,
                    color=colour,
                    marker=marker,
                    linestyle=linestyle,
                    capsize=3,
                    label=label,
                )
            ax.axhline(0.0, color="black", linewidth=0.6)
            ax.set_title(f"collective {name}: users {members}, x = {x}", loc="left", fontsize=9.5)
            ax.set_xlabel("participation probability $q$")
            ax.set_xticks(qs)
        axes[0].set_ylabel("welfare gain per round in exploitation\n(collective − truthful)")
        figure.suptitle(
            f"Participation: five members uprate item {TARGET} (noise {NOISE}, mean and 95% interval; points "
            "dodged sideways)",
            x=0.01,
            ha="left",
            fontsize=10.5,
        )
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=3)
        save_figure(figure, png, svg)
    return [png, svg, csv_path]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per setting (default 20)")
    parser.add_argument("--out", default="out/online_experiment", help="figures, tables and JSON go here")
    parser.add_argument("--img", default="docs/img", help="copy PNGs and CSVs here ('' to skip)")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error("--seeds must be >= 2 for intervals")
    seeds = list(range(args.seeds))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    instance = majority_minority(rng=0)
    R, alpha = instance.R_true, instance.alpha
    n_items = R.shape[1]
    tables = []
    numbers = {}

    # One-shot references.
    base = outcome(R, None, alpha)
    single = outcome(R, CollectiveStrategy([MEMBER], [TARGET], UPRATING).apply(R), alpha)
    window = effective_window(R, [MEMBER], [TARGET], alpha, x_max=6.0)
    minority = instance.user_group == 1
    references = {
        "W_T": base.social_welfare,
        "W_C": single.social_welfare,
        "M_T": float(base.utilities[minority].sum()),
        "M_C": float(single.utilities[minority].sum()),
        "k_T": base.rank,
        "k_C": single.rank,
        "member_T": float(base.utilities[MEMBER]),
        "member_C": float(single.utilities[MEMBER]),
        "effective_window": window.effective_intervals,
        "pareto_window": window.pareto_intervals,
    }
    for name, (members, _) in GROUPS.items():
        group_window = effective_window(R, members, [TARGET], alpha, x_max=6.0)
        references[f"group_{name}"] = {
            "effective_window": group_window.effective_intervals,
            "pareto_window": group_window.pareto_intervals,
        }
    numbers["one_shot"] = references
    tables.append(
        "### One-shot reference\n\n"
        + table(
            ["play", "k*", "welfare", "minority welfare", f"user {MEMBER}"],
            [
                [
                    "truthful",
                    base.rank,
                    f"{base.social_welfare:.3f}",
                    f"{references['M_T']:.3f}",
                    f"{references['member_T']:.3f}",
                ],
                [
                    f"user {MEMBER} uprates item {TARGET} by {UPRATING}",
                    single.rank,
                    f"{single.social_welfare:.3f}",
                    f"{references['M_C']:.3f}",
                    f"{references['member_C']:.3f}",
                ],
            ],
        )
        + f"\n\nalpha = {alpha:.4f}; window of user {MEMBER} on item {TARGET}: effective "
        + ", ".join(f"[{lo:.3f}, {hi:.3f}]" for lo, hi in window.effective_intervals)
        + ", Pareto "
        + ", ".join(f"[{lo:.3f}, {hi:.3f}]" for lo, hi in window.pareto_intervals)
        + "".join(
            f"; collective {name} {GROUPS[name][0]}: effective "
            + ", ".join(f"[{lo:.3f}, {hi:.3f}]" for lo, hi in references[f"group_{name}"]["effective_window"])
            + ", Pareto "
            + (", ".join(f"[{lo:.3f}, {hi:.3f}]" for lo, hi in references[f"group_{name}"]["pareto_window"]) or "none")
            for name in GROUPS
        )
    )

    # 1. Exploration length, budget 0 and 1.
    log("exploration length ...")
    explore_results = {}
    rows = []
    for budget in (0, 1):
        collective = CollectiveInLoop(members=[MEMBER], targets=[TARGET], uprating=UPRATING, budget=budget)
        for E in EXPLORE:
            config = OnlineConfig(rounds=ROUNDS, explore_rounds=E, noise=NOISE)
            result = paired(instance, config, collective, seeds)
            if budget == 0:
                explore_results[E] = result
                if E in (20, 100):
                    plot_online(result["summaries"], out / f"online_explore{E}", explore_rounds=E)
            rows.append(
                [
                    E,
                    budget,
                    f"{coverage(E, n_items):.0%}",
                    *compared_cells(result),
                    fmt(result["others_worse"], 1),
                    share(result["effective"]),
                    share(result["pareto"]),
                ]
            )
            numbers[f"explore_E{E}_budget{budget}"] = {
                key: mean_ci(result[key])
                for key in ("k_T", "k_C", "W_T", "W_C", "dW", "M_T", "M_C", "d_members", "others_worse")
            }
    tables.append(
        f"### 1. Exploration length (noise {NOISE}, user {MEMBER} uprates item {TARGET} by {UPRATING}, "
        f"{len(seeds)} seeds, {ROUNDS} rounds)\n\n"
        + table(
            [
                "E",
                "budget",
                "pairs seen (expected)",
                *COMPARED_HEADER,
                "non-members worse off",
                "effective seeds",
                "Pareto seeds",
            ],
            rows,
        )
    )
    plot_exploration(explore_results, references, out / "online_exploration")

    # 2. Noise.
    log("noise ...")
    rows = []
    collective = CollectiveInLoop(members=[MEMBER], targets=[TARGET], uprating=UPRATING)
    for noise in (0.0, 0.1, 0.3):
        for E in (50, 100, 200):
            config = OnlineConfig(rounds=ROUNDS, explore_rounds=E, noise=noise)
            result = paired(instance, config, collective, seeds)
            rows.append(
                [
                    noise,
                    E,
                    *compared_cells(result),
                    share(result["effective"]),
                    share(result["pareto"]),
                ]
            )
            numbers[f"noise{noise}_E{E}"] = {
                key: mean_ci(result[key]) for key in COMPARED
            }
    tables.append(
        f"### 2. Feedback noise (budget 0, user {MEMBER} uprates item {TARGET} by {UPRATING}, {len(seeds)} seeds)\n\n"
        + table(
            [
                "sigma",
                "E",
                *COMPARED_HEADER,
                "effective seeds",
                "Pareto seeds",
            ],
            rows,
        )
    )

    # 3. Participation.
    log("participation ...")
    participation_results = {}
    for name, (members, x) in GROUPS.items():
        rows = []
        for E in (100, 200):
            for q in PARTICIPATION:
                collective = CollectiveInLoop(members=members, targets=[TARGET], uprating=x, participation=q)
                config = OnlineConfig(rounds=ROUNDS, explore_rounds=E, noise=NOISE)
                result = paired(instance, config, collective, seeds)
                participation_results[(name, E, q)] = result
                rows.append(
                    [
                        E,
                        q,
                        fmt(result["participants"], 1),
                        fmt(result["one_shot_gain"]),
                        share(result["one_shot_effective"]),
                        fmt(result["dW"]),
                        fmt(result["dM"]),
                        fmt(result["d_members"]),
                        share(result["effective"]),
                        share(result["pareto"]),
                    ]
                )
                numbers[f"participation_{name}_E{E}_q{q}"] = {
                    key: mean_ci(result[key]) for key in ("participants", "one_shot_gain", "dW", "dM", "d_members")
                }
        tables.append(
            f"### 3{name}. Participation: collective {name} = users {members} uprate item {TARGET} by {x} "
            f"(noise {NOISE}, budget 0, {len(seeds)} seeds)\n\n"
            + table(
                [
                    "E",
                    "q",
                    "participants",
                    "one-shot Δ welfare (same participants)",
                    "one-shot effective",
                    "online Δ welfare",
                    "online Δ minority",
                    "Δ members",
                    "effective seeds",
                    "Pareto seeds",
                ],
                rows,
            )
        )
    plot_participation(participation_results, out / "online_participation")

    # 4. Estimators.
    log("estimators ...")
    rows = []
    collective = CollectiveInLoop(members=[MEMBER], targets=[TARGET], uprating=UPRATING)
    for estimator in ("usvt", "softimpute", "als"):
        for E in (100, 200):
            config = OnlineConfig(rounds=ROUNDS, explore_rounds=E, noise=NOISE, estimator=estimator)
            result = paired(instance, config, collective, seeds)
            rows.append(
                [
                    estimator,
                    E,
                    *compared_cells(result),
                    share(result["effective"]),
                ]
            )
            numbers[f"estimator_{estimator}_E{E}"] = {
                key: mean_ci(result[key]) for key in COMPARED
            }
    tables.append(
        f"### 4. Estimators (noise {NOISE}, budget 0, user {MEMBER} uprates item {TARGET} by {UPRATING}, "
        f"{len(seeds)} seeds)\n\n"
        + table(
            [
                "estimator",
                "E",
                *COMPARED_HEADER,
                "effective seeds",
            ],
            rows,
        )
    )

    text = "\n\n".join(tables) + "\n"
    (out / "tables.md").write_text(text)
    (out / "numbers.json").write_text(json.dumps(numbers, indent=1, sort_keys=True, default=float))
    print(text)
    if args.img:
        img = Path(args.img)
        img.mkdir(parents=True, exist_ok=True)
        for path in sorted(out.glob("online_*.csv")):
            shutil.copyfile(path, img / path.name)
        for path in sorted(out.glob("online_*.png")):
            # Copies for the docs are reduced to a 64-colour palette (a third of the size, same look).
            with Image.open(path) as image:
                palette = image.convert("RGB").quantize(colors=64, dither=Image.Dither.NONE)
                palette.save(img / path.name, optimize=True)
        log(f"copied figures to {img}")
    return 0


if __name__ == "__main__":
    with threadpool_limits(1, "blas"):  # small matrices: threads only add overhead
        sys.exit(main())
