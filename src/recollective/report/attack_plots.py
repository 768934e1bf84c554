"""Figures of an attack study (:func:`recollective.adversarial.run_attack_study`), drawn from its stored rows.

- :func:`plot_roc_curves` — one panel per detector, one ROC curve per action (each attack kind and account type,
  and the benign collective): the coordinated accounts against every other user, mean true-positive rate over
  seeds at one collective size;
- :func:`plot_tradeoff` — the filtering policy as the detection threshold (the share of users flagged) varies:
  welfare lost by filtering the benign collective (its benefit, and NDCG) against harm avoided by filtering the
  attacks, one line per detector.

Each writes ``<stem>.png``, ``.svg`` and ``.csv`` (exactly the plotted numbers, STYLE.md item 19). Nothing is
recomputed from the data: curves come from the study's ROC points (:data:`~recollective.adversarial.CURVE_COLUMNS`),
the trade-off from its rows (:data:`~recollective.adversarial.STUDY_COLUMNS`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.report import _figures as fig
from recollective.report._figures import PALETTE, STYLE, output_paths, save_figure, write_csv

__all__ = ["action_label", "largest_size", "plot_roc_curves", "plot_tradeoff"]

_ATTACK_COLOURS = {
    "random": fig.BLUE, "average": fig.VERMILION, "bandwagon": fig.GREEN, "segment": fig.PURPLE, "brigading": fig.ORANGE
}
_DETECTOR_COLOURS = PALETTE
_BENIGN = "#111111"


def action_label(action, accounts) -> str:
    """``"benign collective"``, ``"average"`` (fake accounts) or ``"average (real accounts)"``."""
    if action == "benign":
        return "benign collective"
    return str(action) if accounts == "fake" else f"{action} ({accounts} accounts)"


def largest_size(rows: list[dict]):
    """The largest collective size among ``rows`` (sizes compare as numbers: counts and shares alike)."""
    sizes = {row["size"] for row in rows if row.get("size") is not None}
    if not sizes:
        raise InvalidParameterError("rows have no size: nothing to plot")
    return max(sizes, key=float)


def _at_size(rows: list[dict], size, what: str) -> tuple[list[dict], object]:
    if not rows:
        raise InvalidParameterError(f"{what} is empty: nothing to plot")
    chosen = largest_size(rows) if size is None else size
    kept = [row for row in rows if row.get("size") is not None and math.isclose(float(row["size"]), float(chosen))]
    if not kept:
        raise InvalidParameterError(f"{what} hold no size {chosen!r}; sizes: {sorted({r['size'] for r in rows})}")
    return kept, chosen


def _label(text) -> str:
    """A dataset string as matplotlib text: ``$`` would start mathtext."""
    return str(text).replace("$", r"\$")


def _actions(rows: list[dict]) -> list[tuple]:
    """(action, accounts) pairs: the benign collective first, then attacks in the order they appear."""
    found = list(dict.fromkeys((row["action"], row["accounts"]) for row in rows))
    return sorted(found, key=lambda pair: (pair[0] != "benign", found.index(pair)))


def _style(action, accounts) -> dict:
    if action == "benign":
        return {"color": _BENIGN, "linewidth": 2.6, "linestyle": "-"}
    return {"color": _ATTACK_COLOURS.get(action, fig.GREY), "linewidth": 1.5,
            "linestyle": "-" if accounts == "fake" else "--"}


def plot_roc_curves(curves: list[dict], path_stem, *, size=None) -> list[Path]:
    """ROC curves per detector: coordinated accounts (attackers, or the benign collective's participants) against
    every other user, at one collective size (default the largest), mean TPR over seeds at each FPR.

    Parameters
    ----------
    curves : list of dict
        ROC points with the keys of :data:`~recollective.adversarial.CURVE_COLUMNS`.
    path_stem : str or Path
    size : int or float, optional
        Which collective size to draw (default: the largest).

    Returns
    -------
    list of Path
        PNG, SVG, CSV (``detector, action, accounts, size, fpr, tpr_mean, tpr_min, tpr_max, n_seeds, auc``).
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    kept, chosen = _at_size(curves, size, "curves")
    detectors = list(dict.fromkeys(row["detector"] for row in kept))
    actions = _actions(kept)
    png, svg, csv_path = output_paths(path_stem)
    table = []
    n_cols = min(len(detectors), 2)
    n_rows = math.ceil(len(detectors) / n_cols)
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(4.4 * n_cols + 0.4, 3.9 * n_rows + 0.5 + 0.22 * math.ceil(len(actions) / 3)),
                        layout="constrained")
        axes = np.atleast_1d(figure.subplots(n_rows, n_cols, squeeze=False).reshape(-1))
        for ax, detector in zip(axes, detectors, strict=False):
            ax.plot([0, 1], [0, 1], color=fig.GREY, linewidth=0.8, linestyle=":")
            aucs = []
            for action, accounts in actions:
                points = [r for r in kept if (r["detector"], r["action"], r["accounts"]) == (detector, action,
                                                                                             accounts)]
                if not points:
                    continue
                fpr, tpr, low, high, n_seeds = _mean_curve(points)
                auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
                ax.plot(fpr, tpr, label=_label(action_label(action, accounts)) if ax is axes[0] else None,
                        **_style(action, accounts))
                aucs.append((action_label(action, accounts), auc))
                table += [[detector, action, accounts, chosen, f, t, lo, hi, n_seeds, auc]
                          for f, t, lo, hi in zip(fpr, tpr, low, high, strict=True)]
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            benign = next((a for name, a in aucs if name == action_label("benign", "real")), None)
            attacks = [a for name, a in aucs if name != action_label("benign", "real")]
            summary = f"AUC benign {benign:.2f}" if benign is not None else ""
            if attacks:
                summary += f"{'; ' if summary else ''}attacks {min(attacks):.2f}–{max(attacks):.2f}"
            ax.set_title(_label(f"detector {detector}  ({summary})"), loc="left", fontsize=10)
            ax.set_xlabel("false-positive rate (other users flagged)")
            ax.set_ylabel("true-positive rate (coordinated)")
        for ax in axes[len(detectors):]:
            ax.set_visible(False)
        figure.legend(loc="outside lower center", ncols=3, fontsize=8.5)
        figure.suptitle(_label(f"ROC curves at collective size {chosen} (mean over seeds; dotted: chance; "
                               "AUC below 0.5: inverted)"), x=0.01, ha="left", fontsize=11)
        save_figure(figure, png, svg)
    write_csv(csv_path, ["detector", "action", "accounts", "size", "fpr", "tpr_mean", "tpr_min", "tpr_max",
                         "n_seeds", "auc"], table)
    return [png, svg, csv_path]


def _mean_curve(points: list[dict]):
    """(fpr, mean tpr, min tpr, max tpr, n_seeds) over the seeds of one curve's points."""
    by_seed: dict = {}
    for row in points:
        by_seed.setdefault(row["seed"], []).append((float(row["fpr"]), float(row["tpr"])))
    grids = [np.array(sorted(values)) for values in by_seed.values()]
    fpr = grids[0][:, 0]
    if any(g.shape != grids[0].shape or not np.allclose(g[:, 0], fpr) for g in grids):
        raise InvalidParameterError("ROC points of one curve use different FPR grids across seeds")
    tpr = np.stack([g[:, 1] for g in grids])
    return fpr, tpr.mean(axis=0), tpr.min(axis=0), tpr.max(axis=0), len(grids)


def _mean(rows: list[dict], key: str) -> tuple[float, float, int]:
    values = np.array([row[key] for row in rows if row.get(key) is not None and math.isfinite(row[key])], float)
    if values.size == 0:
        return math.nan, math.nan, 0
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0, int(values.size)


def plot_tradeoff(rows: list[dict], path_stem, *, size=None) -> list[Path]:
    """The filtering policy against its threshold: what it costs the benign collective, what it saves from attacks.

    Three panels, x = the share of users flagged (and filtered), one line per detector (mean over seeds, band
    one standard deviation): (a) benefit lost by filtering the benign collective (its target exposure in the
    audience, after minus filtered), with the collective's gain (after minus before) as a dotted line; (b) harm
    avoided by filtering the attacks (target exposure among the users who would not like the targets), mean over
    attack kinds and account types, with the harm they added (after minus before) as a dotted line; (c) NDCG@k
    lost by filtering, for the benign collective (solid) and the attacks (dashed).

    Parameters
    ----------
    rows : list of dict
        Study rows (:data:`~recollective.adversarial.STUDY_COLUMNS`).
    path_stem : str or Path
    size : int or float, optional
        Which collective size (default: the largest).

    Returns
    -------
    list of Path
        PNG, SVG, CSV (``detector, flag_share, size, benign_benefit_lost, benign_ndcg_lost,
        attack_harm_avoided, attack_ndcg_lost`` with their standard deviations).
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    kept, chosen = _at_size([r for r in rows if r.get("detector") is not None], size, "rows with a detector")
    detectors = list(dict.fromkeys(row["detector"] for row in kept))
    shares = sorted({float(row["flag_share"]) for row in kept})
    benign = [r for r in kept if r["action"] == "benign"]
    attacks = [r for r in kept if r["action"] != "benign"]
    panels = (
        (benign, "benefit_lost", "(a) benign collective: benefit lost", "target exposure in the audience lost"),
        (attacks, "harm_avoided", "(b) attacks: harm avoided", "target exposure among victims avoided"),
        (None, "ndcg_lost", "(c) accuracy lost by filtering", "NDCG@k lost (after minus filtered)"),
    )
    png, svg, csv_path = output_paths(path_stem)
    series: dict[tuple, tuple] = {}
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(12.0, 4.2), layout="constrained")
        axes = figure.subplots(1, 3)
        for ax, (group, key, title, ylabel) in zip(axes, panels, strict=True):
            for index, detector in enumerate(detectors):
                colour = _DETECTOR_COLOURS[index % len(_DETECTOR_COLOURS)]
                for part, name, style in ((benign, "benign", "-"), (attacks, "attack", "--")):
                    if group is not None and part is not group:
                        continue
                    stats = [_mean([r for r in part if r["detector"] == detector
                                    and math.isclose(float(r["flag_share"]), s)], key) for s in shares]
                    mean = np.array([s[0] for s in stats])
                    spread = np.array([s[1] for s in stats])
                    series[(detector, f"{name}_{key}")] = (mean, spread)
                    if np.isnan(mean).all():
                        continue
                    ax.fill_between(shares, mean - spread, mean + spread, color=colour, alpha=0.12, linewidth=0)
                    label = _label(detector) if key != "ndcg_lost" or name == "benign" else None
                    ax.plot(shares, mean, marker="o", markersize=3.5, color=colour, linestyle=style, linewidth=1.8,
                            label=label)
            if key == "benefit_lost":
                gain = _mean(benign, "benefit_after")[0] - _mean(benign, "benefit_before")[0]
                ax.axhline(gain, color=_BENIGN, linestyle=":", linewidth=1.2, label="the collective's gain")
            elif key == "harm_avoided":
                harm = _mean(attacks, "harm_after")[0] - _mean(attacks, "harm_before")[0]
                ax.axhline(harm, color=_BENIGN, linestyle=":", linewidth=1.2, label="harm the attacks added")
            else:
                ax.plot([], [], color=fig.GREY, linestyle="-", label="benign collective")
                ax.plot([], [], color=fig.GREY, linestyle="--", label="attacks (mean)")
            ax.axhline(0.0, color=fig.GREY, linewidth=0.8)
            ax.set_xscale("log")
            ax.set_xticks(shares, [f"{s:.0%}" if s >= 0.01 else f"{s:.1%}" for s in shares])
            ax.minorticks_off()
            ax.set_xlabel("share of users flagged and filtered")
            ax.set_ylabel(ylabel)
            ax.set_title(title, loc="left")
            ax.legend(loc="best", fontsize=7.5)
        figure.suptitle(_label(f"Filtering policy trade-off at collective size {chosen} (mean over seeds, band: "
                               "one s.d.)"), x=0.01, ha="left", fontsize=11)
        save_figure(figure, png, svg)
    header = ["detector", "flag_share", "size"]
    keys = ["benign_benefit_lost", "attack_harm_avoided", "benign_ndcg_lost", "attack_ndcg_lost"]
    header += [item for key in keys for item in (key, f"{key}_sd")]
    table = []
    for detector in detectors:
        for index, share in enumerate(shares):
            line = [detector, share, chosen]
            for key in keys:
                mean, spread = series.get((detector, key), (np.full(len(shares), np.nan),) * 2)
                line += [mean[index], spread[index]]
            table.append(line)
    write_csv(csv_path, header, table)
    return [png, svg, csv_path]
