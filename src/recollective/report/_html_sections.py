"""Sections and page of the HTML report (see :mod:`recollective.report.html`).

Markup is built only through :func:`esc` (every value, dataset strings included, is HTML-escaped, quotes too) and the
small builders of :mod:`recollective.report._html_parts`; figures are ``<img>`` elements with base64 ``data:`` PNGs.
The page carries a Content-Security-Policy that forbids scripts and any resource that is not inline.
"""

from __future__ import annotations

from pathlib import Path

from recollective.report._figures import DISPLAY_PX
from recollective.report._html_parts import copy_existing as _copy_existing
from recollective.report._html_parts import data_uri, esc, fmt, html_table
from recollective.report._html_parts import figure_block as _figure
from recollective.report._html_parts import read_csv as _read_csv

__all__ = ["build_sections", "data_uri", "esc", "html_table", "render_page"]

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1rem 2rem;color:#222;line-height:1.45;background:#fff}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
.sub{color:#555;margin:0;font-size:.9rem}figure{margin:1rem 0}
img{max-width:min(100%,%(display)spx);height:auto;border:1px solid #eee;display:block}
figcaption,.files{font-size:.85rem;color:#555}table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
nav{font-size:.85rem;margin:.4rem 0}nav ul{display:inline;padding:0}nav li{display:inline}
nav li+li:before{content:" · "}code{font-size:.85rem;word-break:break-all}
ul.headline li{margin:.25rem 0}table.asked th{font-weight:normal;color:#555;background:none;border:0;padding-left:0}
table.asked td{border:0}details>summary{cursor:pointer;color:#333}
""".replace("%(display)s", str(DISPLAY_PX))
def _flatten(value, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _flatten(item, f"{prefix}.{key}" if prefix else key)]
    if isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value)
        return [(prefix, text if len(text) <= 300 else text[:300] + f" … ({len(value)} values)")]
    return [(prefix, "–" if value is None else str(value))]


def _provenance_section(run) -> dict:
    """Where the numbers come from: folder, commit, runs and timings, versions, machine, configuration; shown
    collapsed at the end of the page."""
    meta = run.metadata
    facts = [("name", run.name), ("kind", run.kind), ("folder", str(run.path))]
    if run.rows or run.kind != "collectives":
        facts.append(("result rows", len(run.rows)))
    facts += [(key, meta[key]) for key in ("created", "cells", "commit", "seconds")
              if key in meta and not isinstance(meta[key], dict | list)]
    if isinstance(meta.get("cells"), list):
        facts.append(("cells in the grid", len(meta["cells"])))
    if isinstance(meta.get("git"), dict):
        dirty = " (local changes)" if meta["git"].get("dirty") else ""
        facts.append(("git commit", f"{meta['git'].get('commit')}{dirty}"))
    blocks = [html_table(None, facts)]
    runs = [r for r in meta.get("runs", []) if isinstance(r, dict)] if isinstance(meta.get("runs"), list) else []
    if runs:
        columns = list(dict.fromkeys(key for r in runs for key in r))
        blocks.append("<h3>runs of this folder (timings)</h3>" + html_table(
            columns, [[fmt(r.get(c)) for c in columns] for r in runs]))
    for key, title in (("data", "data"), ("targets", "targets"), ("versions", "package versions"),
                       ("machine", "machine"), ("config", "configuration")):
        if isinstance(meta.get(key), dict) and meta[key]:
            blocks.append(f"<h3>{esc(title)}</h3>" + html_table(["field", "value"], _flatten(meta[key])))
    return {"id": "provenance", "title": "Provenance", "blocks": blocks,
            "collapsed": "versions, machine, configuration and timings of this run",
            "intro": "What produced these numbers."}


def _summary_section(run, summary: list[dict], key_figure: str | None, game: list[str],
                     collectives: dict | None = None) -> dict:
    """What was asked, one sentence per model, the key figure."""
    from recollective.report._summary import asked, audience_sizes, headline_sentences, is_world

    config = run.metadata.get("config") if isinstance(run.metadata.get("config"), dict) else {}
    blocks = []
    if run.rows:
        rows = "".join(f"<tr><th>{esc(what)}</th><td>{esc(value)}</td></tr>" for what, value in asked(run, summary))
        blocks.append(f'<table class="asked"><tbody>{rows}</tbody></table>')
        sentences = headline_sentences(summary, config.get("k"))
        if sentences:
            sizes = audience_sizes(summary)
            audience = f" ({' to '.join(map(str, sizes[:: max(1, len(sizes) - 1)]))} users)" if sizes else ""
            top = f"top {config['k']}" if "k" in config else "top k"
            world = " (per-group utilities in this synthetic world are true DCG@k)" if is_world(run.metadata) else ""
            blocks.append(f"<p>For each model, the collective that raised target exposure most: the share of the "
                          f"audience{esc(audience)}, the users who like a target, with a target in their {esc(top)}; "
                          f"and the held-out NDCG of all test users{esc(world)}.</p>")
    elif collectives and collectives["asked"]:
        sentences = []
        rows = "".join(f"<tr><th>{esc(what)}</th><td>{esc(value)}</td></tr>" for what, value in collectives["asked"])
        blocks.append(f'<table class="asked"><tbody>{rows}</tbody></table>')
        blocks.append("<p>For each model, what the collectives achieved for their own audiences (the users who like "
                      "their targets) alone, and what was left of it when they all acted at once.</p>")
    else:
        sentences = []
        blocks.append("<p>This folder holds game results only (no campaign sweep).</p>")
    items = [*sentences, *(collectives["sentences"] if collectives else []), *game]
    if items:
        blocks.append('<ul class="headline">' + "".join(f"<li>{esc(s)}</li>" for s in items) + "</ul>")
    if key_figure:
        blocks.append(key_figure)
    return {"id": "summary", "title": "Summary", "intro": "", "blocks": blocks}


def _numbers(summary: list[dict]) -> dict:
    from recollective.report._ranges import interval_method

    header = ["model", "participants", "position", "size", "participants (n)", "seeds", "exposure before",
              "exposure after (95% t-interval)", "amplification before → after", "NDCG change", "better off",
              "worse off"]
    rows = []
    for r in sorted(summary, key=lambda r: (str(r["model"]), str(r["participants"]), str(r["position"]),
                                            r["n_participants"])):
        interval = (f" ({fmt(r.get('target_exposure_after_low'), True)}–"
                    f"{fmt(r.get('target_exposure_after_high'), True)})" if r["n_seeds"] > 1 else "")
        rows.append([r["model"], r["participants"], r["position"], fmt(r["size"]), fmt(r["n_participants"]),
                     r["n_seeds"], fmt(r.get("target_exposure_before"), True),
                     f"{fmt(r.get('target_exposure_after'), True)}{interval}",
                     f"{fmt(r.get('amplification_before'))} → {fmt(r.get('amplification_after'))}",
                     fmt(r["ndcg_after"] - r["ndcg_before"]) if "ndcg_after" in r else "–",
                     fmt(r.get("better_share"), True), fmt(r.get("worse_share"), True)])
    intro = ("Means over seeds for each model, participant policy, placement and collective size; target exposure "
             "is the share of the target audience with a target item in its top k; intervals: "
             f"{interval_method(r['n_seeds'] for r in summary)}.")
    return {"id": "numbers", "title": "Numbers per cell", "intro": intro,
            "blocks": [html_table(header, rows, numeric=set(range(3, 12)))]}


def _campaign_sections(summary, staging, html_dir, assets, world: bool) -> tuple[str | None, list[dict]]:
    """The key figure (target exposure, for the summary) and the sections of the other campaign figures."""
    from recollective.report import campaign_report as cr
    from recollective.report._ranges import interval_method
    from recollective.report.campaign_plots import plot_exposure_by_size

    models = list(dict.fromkeys(str(r["model"]) for r in summary))
    method = interval_method(r["n_seeds"] for r in summary)
    utility = "true DCG@k (synthetic world)" if world else "held-out NDCG@k"

    def has(*keys):
        return all(key in summary[0] for key in keys)

    def section(key, title, intro, paths, caption):
        return {"id": key, "title": title, "intro": intro,
                "blocks": [_figure(paths, caption, html_dir, assets, models)]}

    key_figure = None
    if has("target_exposure_before", "target_exposure_after"):
        key_figure = _figure(plot_exposure_by_size(summary, staging / "exposure"),
                             f"Target exposure (share of the audience with a target in its top k) against the number "
                             f"of participants, one panel per model; dotted: without the campaign; bands: {method}.",
                             html_dir, assets, models)
    out = []
    if has("amplification_before", "amplification_after"):
        out.append(section("amplification", "Amplification vs collective size",
                           "Amplification (Baumann & Mendler-Dünner): recommendations of the targets relative to "
                           "non-target items with the same training frequency; above 1 the targets are amplified. "
                           "Each model has its own y scale.",
                           cr.plot_metric_by_size(summary, staging / "amplification", metric="amplification",
                                                  ylabel="amplification of the targets (×)"),
                           f"amplification per model; bands: {method}"))
    if has("ndcg_before", "ndcg_after"):
        out.append(section("accuracy", "Accuracy per group",
                           "Accuracy before (hollow) and after (filled) for all test users (held-out NDCG@k) and "
                           f"for the majority, the audience and the participants ({utility}), at each line's "
                           "largest collective.",
                           cr.plot_group_accuracy(summary, staging / "group_accuracy",
                                                  group_utility="true DCG@k" if world else None),
                           f"accuracy per group and model; after: {method}"))
    if has("arp_before", "arp_after", "coverage_before", "coverage_after"):
        out.append(section("popularity", "Popularity bias",
                           "Average recommended popularity (ARP) and catalogue coverage of the test users' lists.",
                           cr.plot_popularity_bias(summary, staging / "popularity_bias"),
                           f"ARP and coverage, every model and policy; bands: {method}"))
    if cr.externality_bins(summary):
        out.append(section("externalities", "Externalities by popularity",
                           "Change in the share of list slots held by non-target items of each popularity bin.",
                           cr.plot_externalities(summary, staging / "externalities"), "externalities per model"))
    if has("better_share", "worse_share"):
        out.append(section("pareto", "Pareto summary",
                           f"Who gains and who loses: shares of users whose utility ({utility}) rose, stayed "
                           "within the noise floor, or fell.",
                           cr.plot_pareto_shares(summary, staging / "pareto_shares"), "Pareto shares per model"))
    return key_figure, out


def _pareto_scatters(run, staging, html_dir, assets) -> list[str]:
    blocks = []
    for png in sorted(run.path.glob("pareto_*.png")):
        if png.stem == "pareto_shares":
            continue
        blocks.append(_figure(_copy_existing(run.path, png.stem, staging), f"per-user utility ({png.stem[7:]})",
                              html_dir, assets))
    return blocks


def _game_sections(run, staging, html_dir, assets) -> list[dict]:
    out = []
    window = _copy_existing(run.path, "window", staging)
    if window:
        blocks = []
        if any(p.suffix == ".png" for p in window):
            blocks.append(_figure(window, "social welfare and group utility against the uprating value",
                                  html_dir, assets))
        spectrum = _copy_existing(run.path, "spectrum", staging)
        if any(p.suffix == ".png" for p in spectrum):
            blocks.append(_figure(spectrum, "singular values, truthful and strategic", html_dir, assets))
        if (staging / "window.csv").is_file():
            header, records = _read_csv(staging / "window.csv")
            columns = [c for c in ("lo", "hi", "k_star", "social_welfare", "welfare_change", "n_better", "n_worse",
                                   "is_effective", "is_pareto_effective") if c in header]
            blocks.append(html_table(columns, [[_short(r[c]) for c in columns] for r in records],
                                     numeric=set(range(len(columns)))))
        out.append({"id": "windows", "title": "Game windows", "blocks": blocks,
                    "intro": "The one-shot game: uprating values x where the collective's strategy raises social "
                             "welfare (effective window) and where nobody is worse off (Pareto window)."})
    online = _copy_existing(run.path, "online", staging)
    if online:
        blocks = [_figure(online, "welfare per round", html_dir, assets)] if any(
            p.suffix == ".png" for p in online) else []
        if (staging / "online.csv").is_file():
            header, records = _read_csv(staging / "online.csv")
            rows = []
            for column in header:
                if "_mean_" in column and records:
                    series, label = column.split("_mean_", 1)
                    last = records[-1]
                    rows.append([label, series, _short(last[column] or ""),
                                 f"{_short(last.get(f'{series}_ci95_low_{label}', ''))}–"
                                 f"{_short(last.get(f'{series}_ci95_high_{label}', ''))}"])
            if rows:
                blocks.append(html_table(["run", "series", f"round {records[-1].get('round', '')} mean", "95% CI"],
                                         rows, numeric={2, 3}))
        out.append({"id": "welfare", "title": "Welfare over rounds", "blocks": blocks,
                    "intro": "The online game: welfare and minority welfare per round, mean and 95% interval over "
                             "seeds."})
    return out


def _short(text: str) -> str:
    try:
        return fmt(float(text)) if text not in ("0", "1") else text
    except ValueError:
        return text


def build_sections(run, staging: Path, assets: Path) -> list[dict]:
    """Sections of the report, the summary first and the provenance last; figures and tables are written into
    ``staging`` (later moved to ``assets``)."""
    from recollective.campaigns import summarize_rows
    from recollective.report._figures import write_csv
    from recollective.report._ranges import clip_intervals
    from recollective.report._run_folder import KEY_COLUMNS
    from recollective.report._summary import game_sentences, is_world
    from recollective.report.collectives_report import collectives_sections

    html_dir = assets.parent
    key_figure, figures, summary = None, [], []
    if run.rows:
        metrics = [key for key, value in run.rows[0].items()
                   if key not in KEY_COLUMNS and isinstance(value, int | float) and not isinstance(value, bool)]
        summary = clip_intervals(summarize_rows(run.rows, metrics=metrics), true_utility=is_world(run.metadata))
        key_figure, figures = _campaign_sections(summary, staging, html_dir, assets, is_world(run.metadata))
        header = list(summary[0])
        write_csv(staging / "summary.csv", header, [[row[key] for key in header] for row in summary])
    scatters = _pareto_scatters(run, staging, html_dir, assets)
    if scatters:
        pareto = next((s for s in figures if s["id"] == "pareto"), None)
        if pareto is None:
            pareto = {"id": "pareto", "title": "Pareto summary", "intro": "", "blocks": []}
            figures.append(pareto)
        pareto["blocks"] += scatters
    game = _game_sections(run, staging, html_dir, assets)
    game_story = []
    if (staging / "window.csv").is_file():
        game_story = game_sentences(_read_csv(staging / "window.csv")[1])
    collectives = collectives_sections(run.path, staging, html_dir, assets)
    if key_figure is None and collectives["key_figure"]:
        key_figure = collectives["key_figure"]  # a folder of several collectives: their figure tells its story
    elif collectives["key_figure"]:
        collectives["sections"][0]["blocks"].insert(0, collectives["key_figure"])
    if key_figure is None and game and game[0]["blocks"] and game[0]["blocks"][0].startswith("<figure"):
        key_figure = game[0]["blocks"].pop(0)  # a game-only folder: the window figure tells its story
    sections = [_summary_section(run, summary, key_figure, game_story, collectives), *figures,
                *collectives["sections"], *game]
    if summary:
        sections.append(_numbers(summary))
    sections.append(_provenance_section(run))
    return sections


def render_page(run, sections: list[dict]) -> str:
    """The whole HTML document: escaped text, inline CSS, embedded images, no scripts. A section with a
    ``collapsed`` text shows only that line until opened (``<details>``, no script needed)."""
    nav = "".join(f'<li><a href="#{esc(s["id"])}">{esc(s["title"])}</a></li>' for s in sections)
    body = []
    for s in sections:
        intro = f"<p>{esc(s['intro'])}</p>" if s.get("intro") else ""
        content = intro + "".join(s["blocks"])
        if s.get("collapsed"):
            content = f"<details><summary>{esc(s['collapsed'])}</summary>{content}</details>"
        body.append(f'<section id="{esc(s["id"])}"><h2>{esc(s["title"])}</h2>{content}</section>')
    title = f"recollective report: {run.name}"
    rows = f" · {len(run.rows)} result rows" if run.rows or run.kind != "collectives" else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_CSP)}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1><p class=\"sub\">{esc(run.kind)}{rows} · "
        f"<code>{esc(run.path)}</code></p><nav>Contents: <ul>{nav}</ul></nav>{''.join(body)}"
        "</body></html>\n"
    )
