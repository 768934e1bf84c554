"""The HTML report of an attack study folder (``recollective attack study --out DIR``).

A study folder holds ``rows.parquet`` (one row per action x size x seed x detector x flag share,
:data:`~recollective.adversarial.STUDY_COLUMNS`), ``curves.parquet`` (ROC points,
:data:`~recollective.adversarial.CURVE_COLUMNS`) and ``study.json`` (what was run: data, model, targets, grid).
:func:`write_study` writes it (staged, then moved into place), :func:`read_study` reads it; the ``summarize_*``
functions average rows over seeds (the tables of the CLI, the report and ``docs/adversarial.md``);
:func:`write_attack_report` draws ``roc`` and ``tradeoff`` (PNG, SVG, CSV) beside the HTML and writes
``report.html`` with the page builders of :mod:`recollective.report._html_sections`: every dataset string
escaped, figures as ``data:`` PNGs, no scripts. Nothing is recomputed from the data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from recollective.errors import DataError, InvalidParameterError

__all__ = [
    "StudyResults",
    "inverted_detectors",
    "read_study",
    "summarize_detection",
    "summarize_effects",
    "summarize_tradeoff",
    "write_attack_report",
    "write_parquet",
    "write_study",
]

ROWS_FILE, CURVES_FILE, META_FILE = "rows.parquet", "curves.parquet", "study.json"
_EFFECTS = ("benefit", "harm", "ndcg", "ndcg_audience", "ndcg_outside")


@dataclasses.dataclass(frozen=True)
class StudyResults:
    """A study folder's contents: ``metadata`` (``study.json``), ``rows`` and ``curves`` (lists of dict)."""

    path: Path
    metadata: dict
    rows: list[dict]
    curves: list[dict]

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or self.path.name)


# ---------------------------------------------------------------------------------------------- files
def write_parquet(path, rows: list[dict], columns) -> Path:
    """Write ``rows`` (keys ``columns``) as Parquet through a temporary file and ``os.replace`` (atomic)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if rows:
        table = pa.Table.from_pylist([{key: row.get(key) for key in columns} for row in rows])
    else:
        table = pa.table({key: pa.array([], pa.null()) for key in columns})
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")  # created with the usual permissions
    try:
        pq.write_table(table, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_study(out, rows: list[dict], curves: list[dict], metadata: dict) -> list[Path]:
    """Write a study folder: rows, ROC points, ``study.json``, the figures and ``report.html``.

    Every file is first written into a staging folder inside ``out`` and then moved into place with
    ``os.replace`` (``report.html`` last), so files of an earlier study in ``out`` are replaced whole or not at
    all; the staging folder is removed whatever happens.

    Parameters
    ----------
    out : str or Path
        The study folder (created when missing).
    rows, curves : list of dict
        ``run_attack_study(..., return_curves=True)``'s output.
    metadata : dict
        JSON-ready description of the run (``study.json``); ``out`` names the folder in the report.

    Returns
    -------
    list of Path
        The files written, in the order they were moved into place.
    """
    from recollective.adversarial import CURVE_COLUMNS, STUDY_COLUMNS

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".attack-study-", dir=out))
    try:
        write_parquet(staging / ROWS_FILE, rows, STUDY_COLUMNS)
        write_parquet(staging / CURVES_FILE, curves, CURVE_COLUMNS)
        (staging / META_FILE).write_text(json.dumps(metadata, allow_nan=False, sort_keys=True, indent=1) + "\n",
                                         encoding="utf-8")
        write_attack_report(staging, staging / "report.html")
        written = []
        for file in sorted(staging.iterdir(), key=lambda f: (f.name == "report.html", f.name)):
            os.replace(file, out / file.name)
            written.append(out / file.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def read_study(study_dir) -> StudyResults:
    """Read a study folder; ``DataError`` naming the folder or file when something is missing or damaged."""
    path = Path(study_dir)
    if not path.is_dir():
        raise DataError(f"study folder {str(path)!r} does not exist; run `recollective attack study --out DIR` first")
    if not (path / ROWS_FILE).is_file():
        raise DataError(f"study folder {str(path)!r} has no {ROWS_FILE}; run `recollective attack study` into it")
    rows = _read_parquet(path / ROWS_FILE)
    if not rows:
        raise DataError(f"{path / ROWS_FILE}: no result rows")
    missing = [key for key in ("action", "accounts", "size", "seed", "detector", "flag_share", "roc_auc")
               if key not in rows[0]]
    if missing:
        raise DataError(f"{path / ROWS_FILE}: rows lack the column(s) {', '.join(missing)}")
    curves = _read_parquet(path / CURVES_FILE) if (path / CURVES_FILE).is_file() else []
    metadata = {}
    if (path / META_FILE).is_file():
        try:
            metadata = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path / META_FILE}: not valid JSON ({exc}); rerun the study") from None
        if not isinstance(metadata, dict):
            raise DataError(f"{path / META_FILE}: expected a JSON object, got {type(metadata).__name__}")
    return StudyResults(path, metadata, rows, curves)


def _read_parquet(file: Path) -> list[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(file).to_pylist()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{file}: not a readable Parquet file ({exc})") from None
    for row in rows:  # counts stored among shares come back as floats: 50.0 -> 50
        size = row.get("size")
        if isinstance(size, float) and size.is_integer() and size >= 1:
            row["size"] = int(size)
    return rows


# ---------------------------------------------------------------------------------------------- summaries
def _group(rows: list[dict], keys: tuple) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
    return groups


def _stats(rows: list[dict], key: str) -> tuple[float | None, float | None]:
    """(mean, sample standard deviation) of the finite values of ``key``; None when there are none."""
    values = [float(r[key]) for r in rows if r.get(key) is not None and math.isfinite(float(r[key]))]
    if not values:
        return None, None
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return mean, sd


def _order(row: dict) -> tuple:
    return (row.get("action") != "benign", str(row.get("action")), str(row.get("accounts")), float(row["size"]))


def _at_share(rows: list[dict], flag_share: float) -> list[dict]:
    shares = sorted({float(r["flag_share"]) for r in rows if r.get("flag_share") is not None})
    kept = [r for r in rows if r.get("flag_share") is not None and math.isclose(float(r["flag_share"]), flag_share)]
    if not kept:
        raise InvalidParameterError(f"flag share {flag_share} is not in the study; it has {shares}")
    return kept


def summarize_detection(rows: list[dict], flag_share: float) -> list[dict]:
    """Detector performance per detector x action x account type x size, means over seeds.

    Returns
    -------
    list of dict
        ``detector``, ``action``, ``accounts``, ``size``, ``n_seeds``, ``n_accounts``, ``roc_auc`` and
        ``roc_auc_sd`` (over all users), and at ``flag_share``: ``precision``, ``recall``, ``f1``,
        ``benign_flagged_share`` (benign rows: the share of participants flagged; None for attacks),
        ``ordinary_flagged_share`` (uninvolved users flagged), ``cv_auc`` (supervised detectors).
    """
    out = []
    for (detector, action, accounts, size), group in _group(_at_share(rows, flag_share),
                                                            ("detector", "action", "accounts", "size")).items():
        entry = {"detector": detector, "action": action, "accounts": accounts, "size": size,
                 "flag_share": flag_share, "n_seeds": len({r["seed"] for r in group})}
        entry["n_accounts"] = _stats(group, "n_accounts")[0]
        entry["roc_auc"], entry["roc_auc_sd"] = _stats(group, "roc_auc")
        for key in ("precision", "recall", "f1", "benign_flagged_share", "ordinary_flagged_share", "cv_auc"):
            entry[key] = _stats(group, key)[0]
        out.append(entry)
    return sorted(out, key=lambda e: (str(e["detector"]), *_order(e)))


def summarize_effects(rows: list[dict]) -> list[dict]:
    """What each action does to the recommender, per action x account type x size, means over seeds.

    Returns
    -------
    list of dict
        ``action``, ``accounts``, ``size``, ``n_seeds``, ``n_accounts``, ``n_fake``, ``n_actions``, ``budget``,
        and ``<m>_before`` / ``<m>_after`` (with ``<m>_after_sd``) for benefit, harm, ndcg, ndcg_audience and
        ndcg_outside, plus ``ndcg_change`` (after minus before).
    """
    out = []
    for (action, accounts, size), group in _group(rows, ("action", "accounts", "size")).items():
        cells = list({r["seed"]: r for r in group}.values())  # effect columns repeat on every detector row
        entry = {"action": action, "accounts": accounts, "size": size, "n_seeds": len(cells)}
        for key in ("n_accounts", "n_fake", "n_actions", "budget"):
            entry[key] = _stats(cells, key)[0]
        for measure in _EFFECTS:
            entry[f"{measure}_before"] = _stats(cells, f"{measure}_before")[0]
            entry[f"{measure}_after"], entry[f"{measure}_after_sd"] = _stats(cells, f"{measure}_after")
        before, after = entry["ndcg_before"], entry["ndcg_after"]
        entry["ndcg_change"] = None if before is None or after is None else after - before
        out.append(entry)
    return sorted(out, key=_order)


def summarize_tradeoff(rows: list[dict]) -> list[dict]:
    """The filtering policy per detector x size x flag share, means over seeds (and over attack kinds).

    Returns
    -------
    list of dict
        ``detector``, ``size``, ``flag_share``, ``benign_flagged_share``, ``benefit_lost`` and ``ndcg_lost`` of
        the benign collective, ``attack_recall``, ``harm_avoided`` and ``attack_ndcg_lost`` over the attacks.
    """
    out = []
    with_detector = [r for r in rows if r.get("detector") is not None]
    for (detector, size, share), group in _group(with_detector, ("detector", "size", "flag_share")).items():
        benign = [r for r in group if r["action"] == "benign"]
        attacks = [r for r in group if r["action"] != "benign"]
        out.append({
            "detector": detector, "size": size, "flag_share": share,
            "benign_flagged_share": _stats(benign, "benign_flagged_share")[0],
            "benefit_lost": _stats(benign, "benefit_lost")[0], "ndcg_lost": _stats(benign, "ndcg_lost")[0],
            "attack_recall": _stats(attacks, "recall")[0], "harm_avoided": _stats(attacks, "harm_avoided")[0],
            "attack_ndcg_lost": _stats(attacks, "ndcg_lost")[0],
        })
    return sorted(out, key=lambda e: (str(e["detector"]), float(e["size"]), float(e["flag_share"])))


def inverted_detectors(rows: list[dict], below: float = 0.5) -> list[dict]:
    """Detector x action x account type x size whose mean ROC-AUC over seeds is below ``below`` (inverted:
    the coordinated accounts look *less* suspicious than other users); sorted by AUC."""
    shares = sorted({float(r["flag_share"]) for r in rows if r.get("flag_share") is not None})
    if not shares:
        return []
    found = [e for e in summarize_detection(rows, shares[0]) if e["roc_auc"] is not None and e["roc_auc"] < below]
    return sorted(found, key=lambda e: e["roc_auc"])


# ---------------------------------------------------------------------------------------------- the page
def write_attack_report(study_dir, out=None, *, flag_share: float | None = None) -> dict:
    """Write the HTML report of a study folder to ``out`` (default ``<study_dir>/report.html``).

    ``roc`` and ``tradeoff`` (``.png``, ``.svg``, ``.csv``) and ``detection.csv`` go beside the HTML; each file
    is written to a temporary name and moved into place, the HTML last, so a report on disk always has its
    figures.

    Parameters
    ----------
    study_dir : str or Path
    out : str or Path, optional
    flag_share : float, optional
        Flag share of the detection table (default the study's ``report_flag_share``, else 0.05 when present,
        else its smallest).

    Returns
    -------
    dict
        ``html`` (path), ``files`` (figures and tables), ``sections`` (titles), ``name``, ``n_rows``.
    """
    from recollective.report._html_sections import render_page
    from recollective.report.html import RunResults, _atomic_write

    study = read_study(study_dir)
    html_path = Path(out) if out is not None else study.path / "report.html"
    if html_path.is_dir():
        raise DataError(f"out {str(html_path)!r} is a folder; give a file name such as report.html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    shares = sorted({float(r["flag_share"]) for r in study.rows if r.get("flag_share") is not None})
    if flag_share is None:
        wanted = study.metadata.get("report_flag_share", 0.05)
        flag_share = wanted if any(math.isclose(wanted, s) for s in shares) else (shares[0] if shares else 0.05)
    staging = Path(tempfile.mkdtemp(prefix=".attack-report-", dir=html_path.parent))
    try:
        sections = _sections(study, float(flag_share), staging, html_path.parent)
        shown = Path(str(study.metadata.get("out") or study.path))  # a staged study names its final folder
        run = RunResults(shown, "attack study", study.name, study.metadata, study.rows)
        page = render_page(run, sections)
        written = []
        for file in sorted(staging.iterdir()):
            os.replace(file, html_path.parent / file.name)
            written.append(html_path.parent / file.name)
        _atomic_write(html_path, page)
        umask = os.umask(0)
        os.umask(umask)
        html_path.chmod(0o666 & ~umask)  # mkstemp made it private; give it the usual permissions
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"html": html_path, "files": written, "sections": [s["title"] for s in sections], "name": study.name,
            "n_rows": len(study.rows)}


def _sections(study: StudyResults, flag_share: float, staging: Path, html_dir: Path) -> list[dict]:
    from recollective.report._figures import write_csv
    from recollective.report._html_sections import _figure, esc, fmt, html_table
    from recollective.report.attack_plots import action_label, plot_roc_curves, plot_tradeoff

    sections = [_study_section(study)]
    effects = summarize_effects(study.rows)
    header = ["action", "size", "accounts (n)", "added interactions", "benefit before → after",
              "harm before → after", "NDCG before → after", "NDCG audience after", "NDCG others after"]
    table = [[action_label(e["action"], e["accounts"]), fmt(e["size"]), fmt(e["n_accounts"]), fmt(e["n_actions"]),
              f"{fmt(e['benefit_before'], True)} → {fmt(e['benefit_after'], True)}",
              f"{fmt(e['harm_before'], True)} → {fmt(e['harm_after'], True)}",
              f"{fmt(e['ndcg_before'])} → {fmt(e['ndcg_after'])}", fmt(e["ndcg_audience_after"]),
              fmt(e["ndcg_outside_after"])] for e in effects]
    sections.append({"id": "effects", "title": "What each action does to the recommender", "blocks": [
        html_table(header, table, numeric=set(range(1, 9)))],
        "intro": "Means over seeds at equal budget (every attack gets the benign collective's number of added "
                 "interactions, in whole profiles). Benefit: share of the audience (test users who like a "
                 "target) with a target in their top k; harm: the same share among the other test users, who "
                 "would not like the targets; NDCG@k on held-out items."})
    detection = summarize_detection(study.rows, flag_share)
    header = ["detector", "action", "size", "AUC ± sd", "precision", "recall", "F1", "benign participants flagged",
              "uninvolved users flagged", "CV AUC (training injection)"]
    table = [[e["detector"], action_label(e["action"], e["accounts"]), fmt(e["size"]),
              "–" if e["roc_auc"] is None else f"{e['roc_auc']:.3f} ± {e['roc_auc_sd']:.3f}", fmt(e["precision"]),
              fmt(e["recall"]), fmt(e["f1"]),
              fmt(e["benign_flagged_share"], True), fmt(e["ordinary_flagged_share"], True), fmt(e["cv_auc"])]
             for e in detection]
    columns = list(detection[0]) if detection else []
    write_csv(staging / "detection.csv", columns, [[e[c] for c in columns] for e in detection])
    inverted = inverted_detectors(study.rows)
    note = ("AUC below 0.5 (inverted: the coordinated accounts look less suspicious than everyone else): "
            + "; ".join(f"{e['detector']} on {action_label(e['action'], e['accounts'])} at size {fmt(e['size'])} "
                        f"({fmt(e['roc_auc'])})" for e in inverted)) if inverted else "No detector is inverted."
    sections.append({"id": "detection", "title": f"Detector performance (flagging {flag_share:.0%} of users)",
                     "blocks": [html_table(header, table, numeric=set(range(2, 10))), f"<p>{esc(note)}</p>"],
                     "intro": "Per detector, action and size, means over seeds. The coordinated accounts are the "
                              "attackers, or the benign collective's participants; for the benign collective, "
                              "recall is the share of participants a platform would flag."})
    if study.curves:
        paths = plot_roc_curves(study.curves, staging / "roc")
        sections.append({"id": "roc", "title": "ROC curves", "blocks": [_figure(
            paths, "ROC curves per detector", html_dir, html_dir)],
            "intro": "Coordinated accounts against every other user, at the largest collective size, mean over "
                     "seeds; solid: fake accounts, dashed: real accounts, black: the benign collective."})
    paths = plot_tradeoff(study.rows, staging / "tradeoff")
    trade = summarize_tradeoff(study.rows)
    header = ["detector", "size", "flagged", "benign participants flagged", "benefit lost (benign)",
              "NDCG lost (benign)", "attackers caught (recall)", "harm avoided (attacks)", "NDCG lost (attacks)"]
    table = [[e["detector"], fmt(e["size"]), f"{e['flag_share']:.0%}", fmt(e["benign_flagged_share"], True),
              fmt(e["benefit_lost"]), fmt(e["ndcg_lost"]), fmt(e["attack_recall"], True), fmt(e["harm_avoided"]),
              fmt(e["attack_ndcg_lost"])] for e in trade]
    sections.append({"id": "tradeoff", "title": "What filtering costs and what it saves", "blocks": [
        _figure(paths, "filtering policy trade-off", html_dir, html_dir),
        html_table(header, table, numeric=set(range(1, 9)))],
        "intro": "The platform drops every interaction of the flagged users and refits. Welfare lost by "
                 "filtering the benign collective (benefit and NDCG, after minus filtered) against harm avoided "
                 "by filtering the attacks, as the share of users flagged grows."})
    return sections


def _study_section(study: StudyResults) -> dict:
    from recollective.report._html_sections import fmt, html_table

    meta = study.metadata
    facts = [("name", study.name), ("folder", str(meta.get("out") or study.path)), ("result rows", len(study.rows))]
    for key in ("created", "data", "model", "params", "split", "test_fraction", "split_seed", "seeds", "sizes",
                "kinds", "accounts", "filler_size", "participants", "detectors", "flag_shares", "k", "n_users",
                "n_items", "audience_size", "seconds"):
        if key in meta:
            value = meta[key]
            if isinstance(value, list):
                text = ", ".join(map(str, value))
            elif isinstance(value, dict):
                text = json.dumps(value, sort_keys=True)
            else:
                text = fmt(value)
            facts.append((key.replace("_", " "), text))
    blocks = [html_table(None, facts)]
    targets = [t for t in meta.get("targets", []) if isinstance(t, dict)]
    if targets:
        blocks.append("<h3>targets</h3>" + html_table(
            ["item id", "title", "authors", "audience"],
            [[t.get("item_id", "–"), t.get("title") or "–", t.get("authors") or "–", t.get("audience", "–")]
             for t in targets], numeric={3}))
    return {"id": "study", "title": "The study", "intro": "", "blocks": blocks}
