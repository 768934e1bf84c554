"""Figures and tables of docs/llm.md from stored runs (python docs/llm_figures.py RUN_DIR [RUN_DIR ...]).

Each RUN_DIR is a `recollective run` folder of the LLM campaign configs (configs/goodbooks_llm_*.toml); the
figures go to docs/img/llm/ and a Markdown table per run is printed (mean ± sd over the seeds present).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from recollective.experiments import load_results  # noqa: E402

OUT = Path(__file__).parent / "img" / "llm"
ORDER = ["popularity", "als", "itemknn", "ease", "sequential", "llm"]
COLUMNS = [
    ("target_exposure", "exposure (audience)"),
    ("hit_rate", "HR@10 all"),
    ("ndcg", "NDCG@10 all"),
    ("hit_rate_majority", "HR@10 majority"),
    ("hit_rate_audience", "HR@10 audience"),
]


def stats(rows, key):
    values = np.array([r[key] for r in rows], dtype=float)
    return values.mean(), (values.std(ddof=1) if values.size > 1 else 0.0)


def table(name, rows):
    models = [m for m in ORDER if any(r["model"] == m for r in rows)]
    seeds = sorted({r["seed"] for r in rows})
    print(f"\n{name} (seeds {seeds})\n")
    print("| model | seeds | " + " | ".join(f"{label} before -> after" for _, label in COLUMNS) + " | worse off |")
    print("|---|---|" + "---|" * (len(COLUMNS) + 1))
    for model in models:
        sel = [r for r in rows if r["model"] == model]
        cells = []
        for key, _ in COLUMNS:
            b, bs = stats(sel, f"{key}_before")
            a, as_ = stats(sel, f"{key}_after")
            cells.append(f"{b:.3f} ± {bs:.3f} -> {a:.3f} ± {as_:.3f}")
        w, ws = stats(sel, "worse_share")
        print(f"| {model} | {len(sel)} | " + " | ".join(cells) + f" | {w:.2f} ± {ws:.2f} |")
    return models


def figure(name, rows, models):
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    x = np.arange(len(models))
    for ax, (key, label) in zip(axes, [COLUMNS[0], COLUMNS[3], COLUMNS[4]], strict=True):
        for offset, when, color in ((-0.2, "before", "#9aa5b1"), (0.2, "after", "#d1495b")):
            means, sds = zip(*(stats([r for r in rows if r["model"] == m], f"{key}_{when}") for m in models),
                             strict=True)
            ax.bar(x + offset, means, 0.4, yerr=sds, color=color, label=when, capsize=3)
        ax.set_xticks(x, models, rotation=20)
        ax.set_ylim(0, 1.05)
        ax.set_title(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(frameon=False)
    fig.suptitle(f"{name}: before and after the collective (mean ± sd over seeds)")
    fig.tight_layout()
    OUT.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT / f"{name}.png", dpi=110)
    plt.close(fig)


def main(run_dirs):
    for run_dir in run_dirs:
        rows = load_results(run_dir)
        name = Path(run_dir).name
        models = table(name, rows)
        figure(name, rows, models)


if __name__ == "__main__":
    main(sys.argv[1:])
