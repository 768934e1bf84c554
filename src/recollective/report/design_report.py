"""Files of a designed campaign: the organizer's plan (Markdown, CSV), the full record (JSON), the search's trace as a
figure (PNG, SVG, CSV) and one self-contained HTML page; every dataset string escaped, every file written atomically."""

from __future__ import annotations

import html
import io
import json
import math
from pathlib import Path

from recollective._files import atomic_write_bytes
from recollective._jsonable import to_jsonable
from recollective.campaigns.design import exchange_trials
from recollective.report._figures import BLUE, DPI, GREY, ORANGE, STYLE, csv_cell
from recollective.report._html_sections import data_uri

__all__ = ["plot_design_trace", "write_design"]


def plot_design_trace(design, path_stem) -> list[Path]:
    """Audience reach against participants: the search's estimate after each step (and after each exchange trade
    kept), and the verified cold fit. The table has one row per trace row, its ``stage`` the construction, or
    ``exchange kept`` / ``exchange not kept``."""
    import matplotlib
    from matplotlib.figure import Figure

    stem = Path(path_stem)
    png, svg, table = (stem.with_name(stem.name + s) for s in (".png", ".svg", ".csv"))
    trials = exchange_trials(design.trace)
    built = [row for row in design.trace if row.get("construction") != "exchange"]  # the exchange adds no reader
    kept = [row for row in trials if row["accepted"]]
    steps = [row["n_participants"] for row in built]
    labels = sorted({label for row in design.trace for label in row["exposure"]})
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(6.4, 3.8))
        axes = figure.add_subplot()
        for number, label in enumerate(labels):
            values = [row["exposure"][label] for row in built]
            axes.plot([0, *steps], [design.verified["target_exposure_before"], *values], drawstyle="steps-post",
                      color=BLUE if number == 0 else GREY, lw=1.6 if number == 0 else 1.0,
                      label="search estimate" + ("" if len(labels) == 1 else f" ({label})"))
        if kept:
            axes.scatter([row["n_participants"] for row in kept], [min(row["exposure"].values()) for row in kept],
                         marker="^", facecolors="none", edgecolors=BLUE, zorder=3,
                         label=f"after exchange trades ({len(kept)} kept)")
        axes.scatter([design.verified["n_participants"]], [design.verified["target_exposure_after"]], color=ORANGE,
                     zorder=3, label="verified by a cold fit")
        goal = design.settings.get("goal_exposure")
        if goal:
            axes.axhline(goal, color=GREY, ls=":", lw=1.0, label=f"goal {goal:.0%}")
        axes.set_xlabel("participants")
        axes.set_ylabel(f"audience with a target in its top {design.verified['k']}")
        axes.set_ylim(-0.02, 1.02)
        axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        axes.legend(loc="upper left")
        figure.tight_layout()
        _save(figure, png, svg)
    def stage(row):
        if row.get("construction") == "exchange":
            return "exchange kept" if row["accepted"] else "exchange not kept"
        return row.get("construction", "greedy")

    rows = [["n_participants", *[f"exposure_{label}" for label in labels], "stage"]]
    rows += [[row["n_participants"], *[row["exposure"][label] for label in labels], stage(row)]
             for row in design.trace]
    text = "\n".join(",".join(csv_cell(v) for v in row) for row in rows) + "\n"
    atomic_write_bytes(table, lambda h: h.write(text.encode()))
    return [png, svg, table]


def _save(figure, png: Path, svg: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    for path, kind, metadata in ((png, "png", {"Software": "recollective"}),
                                 (svg, "svg", {"Date": None, "Creator": "recollective"})):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=kind, dpi=DPI, metadata=metadata)
        atomic_write_bytes(path, lambda h, b=buffer: h.write(b.getvalue()))


def write_design(design, out, *, title: str = "Campaign design") -> list[Path]:
    """Write ``plan.md``, ``plan.csv``, ``design.json``, ``design_trace.{png,svg,csv}`` and ``design.html``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("plan.md", design.to_markdown()), ("plan.csv", design.to_csv()),
                       ("design.json", json.dumps(to_jsonable(design.as_dict()), indent=2, allow_nan=False) + "\n")):
        atomic_write_bytes(out / name, lambda h, t=text: h.write(t.encode("utf-8")))
        written.append(out / name)
    figures = plot_design_trace(design, out / "design_trace")
    written += figures
    page = _page(design, title, data_uri(figures[0]))
    atomic_write_bytes(out / "design.html", lambda h: h.write(page.encode("utf-8")))
    written.append(out / "design.html")
    return written


def _page(design, title: str, image: str) -> str:
    v = design.verified
    e = html.escape
    rows = []
    for number, action in enumerate(design.actions, start=1):
        record = design._action_dict(action)
        rows.append(
            f"<tr><td>{number}</td><td>{e(str(record['user_id']))}</td>"
            f"<td>{e('; '.join(str(t) for t in record['titles']))}</td><td>{action.value:g}</td>"
            f"<td>{e(action.position)}</td></tr>"
        )
    numbers = [
        ("audience (readers who would like the targets)", f"{v['audience_size']}"),
        (f"reach before → after (target in top {v['k']}, cold fit)",
         f"{_pct(v['target_exposure_before'])} → {_pct(v['target_exposure_after'])}"),
        ("search estimate of the reach", _pct(v["predicted_exposure"])),
        (f"participants' NDCG@{v['k']} before → after", f"{_num(v['ndcg_participants_before'])} → "
                                                        f"{_num(v['ndcg_participants_after'])}"),
        ("participants worse off beyond the noise floor", _pct(v["participants_worse_share"])),
        (f"everyone else's NDCG@{v['k']} before → after", f"{_num(v['ndcg_majority_before'])} → "
                                                          f"{_num(v['ndcg_majority_after'])}"),
        ("constraints met", f"{'yes' if design.feasible else 'no'} ({design.stop_reason})"),
        ("marginal gains", design.gain_kind),
    ]
    table = "".join(f"<tr><th>{e(a)}</th><td>{e(b)}</td></tr>" for a, b in numbers)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(title)}</title><style>body{{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;"
        "padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;"
        "padding:4px 10px;text-align:left;vertical-align:top}img{max-width:100%}</style></head><body>"
        f"<h1>{e(title)}</h1><p>Model {e(design.settings['model'])}; every number below is from a model refitted "
        "from scratch on the training data plus the plan, unless it says otherwise.</p>"
        f"<h2>What the plan does</h2><table>{table}</table>"
        f"<img alt='reach against participants' src='{image}'>"
        f"<h2>Who does what ({len(design.actions)} participants)</h2>"
        "<table><tr><th>#</th><th>reader</th><th>adds</th><th>rating</th><th>where</th></tr>"
        f"{''.join(rows)}</table></body></html>\n"
    )


def _pct(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def _num(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"
