"""The HTML report: sections, embedded figures, escaping, the two run-folder formats, errors, atomic writes, and a
headless Chromium rendering."""

import base64
import csv
import math
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from experiments.helpers import SMALL_GRID
from recollective.campaigns import summarize_rows
from recollective.errors import DataError
from recollective.report.html import read_run, write_report
from report.run_folders import (
    MALICIOUS,
    MANY_MODELS,
    N_BINS,
    many_lines_rows,
    sweep_rows,
    write_game_files,
    write_store,
    write_sweep_folder,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
assert MALICIOUS == "<script>alert(1)</script>"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(text):
    parser = Tags()
    parser.feed(text)
    return parser.tags


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run = write_store(tmp_path_factory.mktemp("runs") / "tiny")
    write_game_files(run / "game")
    document = write_report(run)
    return run, document, document["html"].read_text(encoding="utf-8")


def test_report_has_every_section_and_writes_figures_and_tables_beside_it(report):
    run, document, _ = report
    assert document["html"] == run / "report.html"
    assert document["sections"] == ["Summary", "Amplification vs collective size", "Accuracy per group",
                                    "Popularity bias", "Externalities by popularity", "Pareto summary",
                                    "Game windows", "Welfare over rounds", "Numbers per cell", "Provenance"]
    names = {path.name for path in document["files"]}
    for stem in ("exposure", "amplification", "group_accuracy", "popularity_bias", "externalities", "pareto_shares"):
        assert {f"{stem}.png", f"{stem}.svg", f"{stem}.csv"} <= names
    assert {"summary.csv", "window.csv", "online.csv", "online.png"} <= names
    for path in document["files"]:
        assert path.parent == run / "report_files" and path.stat().st_size > 0
    assert document["n_rows"] == 8 and document["kind"] == "results store"
    # atomic writes leave no temporary files or staging folders behind
    assert sorted(p.name for p in run.iterdir()) == ["game", "manifest.json", "report.html", "report_files",
                                                     "rows-00000.parquet", "rows-00001.parquet"]


def test_figures_are_embedded_png_data_uris_and_nothing_external_is_loaded(report):
    _, _, text = report
    tags = parse(text)
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert len(images) == 7  # six campaign figures (exposure in the summary) and online.png (no window.png here)
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_SIGNATURE
    assert not [tag for tag, _ in tags if tag in ("script", "iframe", "object", "embed", "link")]
    assert not [name for _, attrs in tags for name in attrs if name.startswith("on")]
    hrefs = [attrs["href"] for tag, attrs in tags if tag == "a"]
    assert all(h.startswith("#") or h.startswith("report_files/") for h in hrefs)
    assert "http" not in "".join(hrefs) and "url(" not in text and "@import" not in text
    assert "Content-Security-Policy" in text


def test_dataset_strings_are_escaped(report):
    _, _, text = report
    assert "<script" not in text.lower()
    assert ESCAPED in text  # model name, run name, config values
    assert f"tiny {ESCAPED}" in text and f"/data/{ESCAPED}.csv" in text


def test_tables_hold_the_summarized_numbers(report):
    run, _, _ = report
    summary = {(r["model"], r["size"]): r for r in summarize_rows(list(sweep_rows()))}
    with (run / "report_files" / "exposure.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 4
    for row in table:
        expected = summary[(row["model"], int(row["size"]))]
        assert float(row["target_exposure_after"]) == expected["target_exposure_after"]
        # the t-interval, clipped to [0, 1]: a share of the audience cannot be negative or above 100%
        assert float(row["target_exposure_after_low"]) == max(0.0, expected["target_exposure_after_low"])
        assert float(row["target_exposure_after_high"]) == min(1.0, expected["target_exposure_after_high"])
    with (run / "report_files" / "pareto_shares.csv").open() as handle:
        shares = list(csv.DictReader(handle))
    for row in shares:
        total = float(row["better_share"]) + float(row["unchanged_share"]) + float(row["worse_share"])
        assert math.isnan(total) or total == pytest.approx(1.0)
    with (run / "report_files" / "externalities.csv").open() as handle:
        bins = list(csv.DictReader(handle))
    assert len(bins) == 2 * N_BINS  # two lines, at their largest size
    assert all(float(r["share_change"]) == pytest.approx(float(r["share_after"]) - float(r["share_before"]))
               for r in bins)


def test_campaign_sweep_folder_is_read_too(tmp_path):
    folder = write_sweep_folder(tmp_path / "sweep")
    run = read_run(folder)
    assert run.kind == "campaign sweep" and len(run.rows) == 8
    assert isinstance(run.rows[0]["size"], int) and isinstance(run.rows[0]["seed"], int)
    expected = [{k: v for k, v in r.items() if not k.startswith("externality")} for r in sweep_rows()]
    assert repr(run.rows) == repr(expected)  # exact round trip (repr: NaN equals NaN)
    document = write_report(folder, tmp_path / "elsewhere" / "sweep.html")
    text = document["html"].read_text()
    assert "<script" not in text.lower()
    assert ESCAPED in text and "A &amp; B" in text
    assert "Externalities by popularity" not in document["sections"]  # no externality columns in rows.csv
    assert "Game windows" not in document["sections"] and "Welfare over rounds" not in document["sections"]
    assert (tmp_path / "elsewhere" / "sweep_files" / "exposure.png").is_file()


def test_rows_with_only_the_required_columns_give_a_short_report(tmp_path):
    keep = ("model", "seed", "participants", "position", "size", "n_participants", "target_exposure_before",
            "target_exposure_after")
    folder = write_store(tmp_path / "run", rows=[{k: r[k] for k in keep} for r in sweep_rows()])
    (folder / "report_files").mkdir()
    (folder / "report_files" / "externalities.png").write_bytes(b"from an earlier report")
    document = write_report(folder)
    assert document["sections"] == ["Summary", "Numbers per cell", "Provenance"]
    assert sorted(p.name for p in (folder / "report_files").iterdir()) == [
        "exposure.csv", "exposure.png", "exposure.svg", "summary.csv"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda run: shutil.rmtree(run), "does not exist"),
        (lambda run: [p.unlink() for p in run.iterdir()], "holds no results"),
        (lambda run: (run / "manifest.json").write_text("{not json"), "manifest.json: not valid JSON"),
        (lambda run: (run / "manifest.json").write_text("[1, 2]"), "expected a JSON object"),
        (lambda run: (run / "rows-00001.parquet").write_bytes(b"PAR1 garbage"), "not a readable Parquet file"),
        (lambda run: [p.unlink() for p in run.glob("rows-*.parquet")], "no result rows yet"),
    ],
)
def test_bad_run_folders_are_data_errors(tmp_path, damage, message):
    run = write_store(tmp_path / "run")
    damage(run)
    with pytest.raises(DataError, match=message):
        write_report(run)
    assert not (run / "report.html").exists()


def test_missing_columns_are_named(tmp_path):
    run = write_store(tmp_path / "run", rows=[{k: v for k, v in r.items() if k != "n_participants"}
                                              for r in sweep_rows()])
    with pytest.raises(DataError, match=r"rows-\*\.parquet: result rows lack the column\(s\) n_participants"):
        read_run(run)


def test_a_failure_while_building_leaves_no_report_and_no_staging(tmp_path, monkeypatch):
    import recollective.report._html_sections as sections

    keep = ("model", "seed", "participants", "position", "size", "n_participants", "target_exposure_before",
            "target_exposure_after")
    run = write_store(tmp_path / "run", rows=[{k: r[k] for k in keep} for r in sweep_rows()])

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sections, "render_page", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(run)
    assert sorted(p.name for p in run.iterdir()) == ["manifest.json", "rows-00000.parquet", "rows-00001.parquet"]


def run_chromium(url, profile, *args):
    """Headless Chromium with its log on stderr; returns the finished process.

    Everything it writes stays under ``profile``: besides its profile, Chromium keeps crash reports in
    ``$XDG_CONFIG_HOME/chromium`` and a dconf cache in ``$XDG_CACHE_HOME``, so both (and HOME) point there.
    """
    home = Path(profile).with_name(Path(profile).name + "-home")
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-breakpad", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]
    return subprocess.run([CHROMIUM, *flags, *args, url], capture_output=True, text=True, timeout=120, check=True,
                          env=env)


def console_messages(log: str) -> list[str]:
    """Lines of Chromium's log that report a console message (uncaught errors, CSP violations, console.*)."""
    return [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="chromium is not installed (Debian: apt-get install -y chromium)")


@needs_chromium
def test_console_check_sees_script_errors_and_blocked_resources(tmp_path):
    """The check below is not vacuous: a page with an uncaught error and a blocked image is caught."""
    page = tmp_path / "bad.html"
    page.write_text("<html><head><meta http-equiv='Content-Security-Policy' content=\"img-src data:\"></head><body>"
                    "<script>throw new Error('boom')</script><img src='https://example.invalid/x.png'></body></html>")
    messages = console_messages(run_chromium(page.as_uri(), tmp_path / "profile", "--dump-dom").stderr)
    assert any("Uncaught Error: boom" in line for line in messages)
    assert any("example.invalid" in line for line in messages)


@needs_chromium
def test_report_renders_in_headless_chromium(report, tmp_path):
    from matplotlib.image import imread

    run, _, _ = report
    url = (run / "report.html").as_uri()
    dom = run_chromium(url, tmp_path / "profile-dom", "--dump-dom")
    shot = tmp_path / "shot.png"
    screenshot = run_chromium(url, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,2000")
    assert console_messages(dom.stderr) == [] and console_messages(screenshot.stderr) == []
    tags = parse(dom.stdout)
    images = [attrs.get("src", "") for tag, attrs in tags if tag == "img"]
    assert len(images) == 7 and all(src.startswith("data:image/png;base64,") for src in images)
    assert not [tag for tag, _ in tags if tag == "script"]
    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1200)
    assert float(np.var(pixels[..., :3])) > 1e-3  # not a blank page
    assert float((pixels[..., :3].mean(axis=2) < 0.5).mean()) > 0.005  # some dark ink: text and plot lines
    blue = np.abs(pixels[..., :3] - np.array([0x00, 0x72, 0xB2]) / 255).max(axis=2) < 0.08
    assert blue.sum() > 500  # the exposure figure's lines (palette blue) are drawn within the first 2000 pixels


def test_a_game_only_folder_gives_the_game_sections(tmp_path):
    folder = write_game_files(tmp_path / "demo")
    (folder / "summary.json").write_text('{"gap": {"holds": true}}')
    document = write_report(folder)
    assert document["kind"] == "game" and document["n_rows"] == 0
    assert document["sections"] == ["Summary", "Game windows", "Welfare over rounds", "Provenance"]
    text = document["html"].read_text()
    assert "<td class=\"n\">3.93</td>" in text and "1.5–2.5" in text  # the window table and the last round's interval


EXPERIMENT = """
name = "exp"
seeds = [0, 1]
k = 10
metrics = ["target_exposure_before", "target_exposure_after", "ndcg_before", "ndcg_after", "ndcg_majority_before",
           "ndcg_majority_after", "better_share", "worse_share", "unchanged_share", "n_participants"]
""" + SMALL_GRID


def test_a_run_of_the_experiment_runner_is_reported(tmp_path):
    from recollective.experiments import load_experiment_config, load_results, run_experiment

    (tmp_path / "config.toml").write_text(EXPERIMENT)
    summary = run_experiment(load_experiment_config(tmp_path / "config.toml"), tmp_path / "runs")
    run = read_run(summary["run_dir"])
    assert run.rows == load_results(summary["run_dir"]) and len(run.rows) == 4
    document = write_report(summary["run_dir"])
    assert document["sections"] == ["Summary", "Accuracy per group", "Pareto summary", "Numbers per cell",
                                    "Provenance"]
    text = document["html"].read_text()
    assert "cells in the grid" in text and "runs of this folder" in text
    with (Path(summary["run_dir"]) / "report_files" / "group_accuracy.csv").open() as handle:
        # the groups this run kept; in a synthetic world the groups' utility is the true DCG, which gets its own axis
        assert [(row["group"], row["utility"]) for row in csv.DictReader(handle)] == [
            ("all test users", "held-out NDCG@k"), ("majority", "true DCG@k")]
    with (Path(summary["run_dir"]) / "report_files" / "pareto_shares.csv").open() as handle:
        row = next(csv.DictReader(handle))
    stored = [r for r in run.rows if r["size"] == 15]
    assert float(row["unchanged_share"]) == pytest.approx(np.mean([r["unchanged_share"] for r in stored]))


class Outline(HTMLParser):
    """Section ids in order, the text of each section's h2, and whether a section sits inside <details>."""

    def __init__(self):
        super().__init__()
        self.sections, self.titles, self.collapsed = [], [], set()
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.sections.append(dict(attrs).get("id"))
            self.titles.append("")
        elif tag == "h2":
            self._in_h2 = True
        elif tag == "details" and self.sections:
            self.collapsed.add(self.sections[-1])

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.titles[-1] += data


PER_MODEL_FIGURES = {"exposure", "amplification", "group_accuracy", "popularity_bias", "externalities",
                     "pareto_shares"}


@pytest.fixture(scope="module")
def many_lines_report(tmp_path_factory):
    """A run of four models x two participant policies: eight lines, more than the six the report once kept."""
    run = write_store(tmp_path_factory.mktemp("runs") / "many", rows=list(many_lines_rows()), name="many")
    write_game_files(run / "game")
    return run, write_report(run)


def figure_tables(tags, html_dir):
    """Per-model figures of a parsed page: {CSV stem: (data-models, rows of the CSV the figure links to)}."""
    figures, current = {}, None
    for tag, attrs in tags:
        if tag == "figure":
            current = attrs if attrs.get("data-per-model") else None
        elif tag == "a" and current is not None and attrs["href"].endswith(".csv"):
            with (html_dir / attrs["href"]).open(newline="", encoding="utf-8") as handle:
                figures[Path(attrs["href"]).stem] = (current["data-models"].split("\n"), list(csv.DictReader(handle)))
            current = None
    return figures


def check_story_and_models(page: str, html_dir: Path, rows) -> None:
    """The first section is the summary with one sentence per model, the provenance comes last and collapsed,
    and every per-model figure's data holds every model (and every line) of the run."""
    outline = Outline()
    outline.feed(page)
    assert outline.sections[0] == "summary" and outline.titles[0] == "Summary"
    assert outline.sections[-1] == "provenance" and outline.collapsed == {"provenance"}
    models = list(dict.fromkeys(r["model"] for r in rows))
    lines = {(r["model"], r["participants"]) for r in rows}
    figures = figure_tables(parse(page), html_dir)
    assert set(figures) == PER_MODEL_FIGURES
    for stem, (named, table) in figures.items():
        assert named == models, stem
        assert {(r["model"], r["participants"]) for r in table} == lines, stem


def test_the_page_opens_with_the_summary_and_every_figure_has_every_model(many_lines_report):
    run, document = many_lines_report
    rows = many_lines_rows()
    page = document["html"].read_text(encoding="utf-8")
    check_story_and_models(page, run, rows)
    assert len({(r["model"], r["participants"]) for r in rows}) == 8 > 6
    summary = page[page.index('<section id="summary">'):page.index("</section>")]
    sentences = re.findall(r"<li>(.*?)</li>", summary)
    assert [s.split(":")[0] for s in sentences] == [*MANY_MODELS, "One-shot game"]
    assert sentences[-1] == ("One-shot game: the collective&#x27;s uprating x raises social welfare for x in "
                             "[3.16, 3.93], and leaves nobody worse off for x in [3.16, 3.93].")  # window.csv's rows
    # the sentence of a model names its largest exposure gain, from the rows averaged over seeds
    cells = [r for r in summarize_rows(list(rows)) if r["model"] == "knn"]
    best = max(cells, key=lambda r: (r["target_exposure_after"] - r["target_exposure_before"], -r["n_participants"]))
    knn = sentences[0]
    assert f"with {best['n_participants']:.0f} {best['participants']} participants" in knn
    assert f"NDCG@k {best['ndcg_before']:.3f} → {best['ndcg_after']:.3f}" in knn


def test_the_story_check_fails_when_a_model_is_dropped(many_lines_report):
    """The check above is not vacuous: a figure whose table lost a model fails it."""
    run, document = many_lines_report
    page = document["html"].read_text(encoding="utf-8")
    table = run / "report_files" / "amplification.csv"
    kept = table.read_text(encoding="utf-8")
    try:
        table.write_text("\n".join(line for line in kept.splitlines() if not line.startswith("ease,")) + "\n",
                         encoding="utf-8")
        with pytest.raises(AssertionError, match="amplification"):
            check_story_and_models(page, run, many_lines_rows())
    finally:
        table.write_text(kept, encoding="utf-8")
    with pytest.raises(AssertionError):
        check_story_and_models(page.replace('<section id="summary">', '<section id="x">', 1), run,
                               many_lines_rows())


@needs_chromium
def test_chromium_shows_the_summary_first_and_every_model_in_every_figure(many_lines_report, tmp_path):
    """The DOM as headless Chromium builds it: summary first, provenance last and collapsed, and each per-model
    figure's data (the CSV its links name, and its data-models) holds all four models and all eight lines."""
    run, document = many_lines_report
    dom = run_chromium(document["html"].as_uri(), tmp_path / "profile", "--dump-dom")
    assert console_messages(dom.stderr) == []
    check_story_and_models(dom.stdout, run, many_lines_rows())
