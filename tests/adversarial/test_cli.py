"""``recollective attack run | detect | study``: the JSON contract, the written study folder, bad input exiting 2."""

import json
import re

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from recollective.adversarial import STUDY_COLUMNS
from recollective.cli import app
from recollective.errors import DataError
from taste_groups import readers

runner = CliRunner()
N_BOTS = 20


def _write(tmp_path, bots: bool = False):
    """160 readers in two taste groups over 50 books with timestamps; book b49 (group B) is rare. Items table with
    titles (one holds markup) and authors. ``bots``: 20 extra accounts rate the same 20 new books 5 within minutes."""
    rows = ["user,book,stars,time"]
    for user, picked, rng in readers(160, 50, per_user=12, rare_every=8):
        rows += [f"u{user},b{item},{int(rng.integers(2, 6))},{int(rng.integers(0, 10**8))}" for item in picked]
    if bots:
        for bot in range(N_BOTS):
            rows += [f"bot{bot},b{item},5,{10**8 + 60 * bot + item}" for item in range(50, 70)]
    (tmp_path / "ratings.csv").write_text("\n".join(rows) + "\n")
    items = ["item_id,title,authors"] + [
        f"b{i},{'<script>alert(1)</script>' if i == 49 else f'Book {i}'},{'Rare Author' if i == 49 else f'Author {i}'}"
        for i in range(70 if bots else 50)]
    (tmp_path / "books.csv").write_text("\n".join(items) + "\n")
    return ["--data", str(tmp_path / "ratings.csv"), "--format", "csv", "--user-col", "user", "--item-col", "book",
            "--rating-col", "stars", "--order-col", "time", "--items", str(tmp_path / "books.csv")]


COMMON = ["--model", "itemknn", "--target-items", "b49", "--test-fraction", "0.3", "--k", "5"]


def _one_error_line(result, message):
    """Exit 2 and one error line; progress lines of steps finished before the failure (``[2/4] ...``) may
    precede it, as in a piped log."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip() and not re.match(r"\[\d+/\d+\] ", line)]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.output and result.stdout == ""


def test_run_an_attack_json_contract(tmp_path):
    data = _write(tmp_path)
    args = ["attack", "run", *data, *COMMON, "--kind", "average", "--size", "6", "--filler-size", "8",
            "--detectors", "pca,features,fraudar,burst", "--flag-shares", "0.05,0.1", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["action"] == "average" and document["accounts"] == "fake"
    assert document["n_accounts"] == document["n_fake"] == 6 and document["n_actions"] == 6 * (1 + 8)
    assert document["target_item_ids"] == ["b49"] and document["spec"]["targets"] == ["b49"]
    for key in ("benefit_before", "benefit_after", "harm_before", "harm_after", "ndcg_before", "ndcg_after"):
        assert document[key] is None or 0.0 <= document[key] <= 1.0
    assert document["detectors"] == ["pca", "features", "fraudar", "burst"]
    assert len(document["detection"]) == 4 * 2
    assert 0.5 < document["cv_auc"]["features"] <= 1.0  # trained on a separate injection
    assert document["roc_auc_features"] > 0.5
    again = json.loads(runner.invoke(app, args).stdout)
    assert again["detection"] == document["detection"]  # seeded


def test_run_the_benign_campaign_prints_tables(tmp_path):
    data = _write(tmp_path)
    result = runner.invoke(app, ["attack", "run", *data, *COMMON, "--kind", "benign", "--participants", "random",
                                 "--size", "10", "--detectors", "pca,fraudar"])
    assert result.exit_code == 0, result.output
    assert "benign: 10 participants added 10 interactions" in result.stdout
    assert "benefit: target exposure in the audience" in result.stdout and "benign flagged" in result.stdout
    # PCA-VarSelect ranks these participants below ordinary users (AUC 0.26): said in plain words under the table
    assert "AUC < 0.5 (pca): the detector ranks the benign participants as *less* suspicious than ordinary" in (
        " ".join(result.stdout.split()))


def test_detect_lists_a_planted_dense_block_first(tmp_path):
    data = _write(tmp_path, bots=True)
    result = runner.invoke(app, ["attack", "detect", *data, "--detector", "fraudar", "--top", str(N_BOTS),
                                 "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [row["rank"] for row in document["top"]] == list(range(1, N_BOTS + 1))
    assert {row["user_id"] for row in document["top"]} == {f"bot{i}" for i in range(N_BOTS)}
    scores = [row["score"] for row in document["top"]]
    assert scores == sorted(scores, reverse=True) and document["n_users"] == 160 + N_BOTS
    table = runner.invoke(app, ["attack", "detect", *data, "--detector", "burst", "--top", "3"])
    assert table.exit_code == 0, table.output
    assert "bot" in table.stdout and "most suspicious users by burst" in table.stdout


def test_detect_refuses_the_supervised_detector(tmp_path):
    data = _write(tmp_path)
    _one_error_line(runner.invoke(app, ["attack", "detect", *data, "--detector", "features", "--json"]),
                    "--detector features is supervised")
    _one_error_line(runner.invoke(app, ["attack", "detect", *data, "--detector", "knn"]), "unknown detector 'knn'")
    _one_error_line(runner.invoke(app, ["attack", "detect", *data, "--detector", "bursts"]),
                    "unknown detector 'bursts'; did you mean 'burst'? (choices: pca, features, fraudar, burst)")
    _one_error_line(runner.invoke(app, ["attack", "detect", *data, "--detector", "pca", "--param", "n_components=0"]),
                    "n_components")


def test_study_writes_rows_plots_and_report(tmp_path):
    data = _write(tmp_path)
    out = tmp_path / "study"
    result = runner.invoke(app, ["attack", "study", *data, *COMMON, "--sizes", "6,12", "--seeds", "0,1",
                                 "--kinds", "average,segment", "--filler-size", "5", "--detectors", "pca,fraudar",
                                 "--flag-shares", "0.05,0.1", "--report-flag-share", "0.1", "--out", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    rows = pq.read_table(out / "rows.parquet").to_pylist()
    assert len(rows) == 2 * 2 * 3 * 2 * 2  # seeds x sizes x actions x detectors x flag shares
    assert tuple(rows[0]) == STUDY_COLUMNS
    assert {e["flag_share"] for e in document["detection"]} == {0.1}
    assert len(document["effects"]) == 2 * 3 and document["targets"][0]["title"] == "<script>alert(1)</script>"
    for name in ("rows.parquet", "curves.parquet", "study.json", "roc.png", "tradeoff.png", "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "roc.png").read_bytes().startswith(b"\x89PNG")
    html = (out / "report.html").read_text()
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('src="data:image/png;base64,') == 2
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left behind
    human = runner.invoke(app, ["attack", "study", *data, *COMMON, "--sizes", "6", "--seeds", "0", "--kinds",
                                "random", "--filler-size", "5", "--detectors", "fraudar", "--out", str(out), "-q"])
    assert human.exit_code == 0, human.output
    assert "detector performance" in human.stdout and "wrote" in human.stdout
    assert len(pq.read_table(out / "rows.parquet").to_pylist()) == 2 * 4  # replaced by the second study


def test_a_failing_study_leaves_earlier_files_intact(tmp_path, monkeypatch):
    import recollective.report.attack_report as attack_report

    data = _write(tmp_path)
    out = tmp_path / "study"
    out.mkdir()
    (out / "rows.parquet").write_bytes(b"earlier rows")
    (out / "report.html").write_text("earlier report")

    def broken(*args, **kwargs):
        raise DataError("the disk is full")

    monkeypatch.setattr(attack_report, "write_attack_report", broken)
    result = runner.invoke(app, ["attack", "study", *data, *COMMON, "--sizes", "6", "--seeds", "0", "--kinds",
                                 "random", "--filler-size", "5", "--detectors", "fraudar", "--out", str(out)])
    _one_error_line(result, "the disk is full")
    assert (out / "rows.parquet").read_bytes() == b"earlier rows"
    assert (out / "report.html").read_text() == "earlier report"
    assert sorted(p.name for p in out.iterdir()) == ["blocks.partial", "report.html", "rows.parquet"]
    assert len(list((out / "blocks.partial").glob("*.rows.parquet"))) == 1  # the finished block is kept


def test_a_stopped_study_resumes_with_only_the_missing_blocks(tmp_path, monkeypatch):
    from recollective.adversarial import _study

    data = _write(tmp_path)
    args = [*data, *COMMON, "--sizes", "6,12", "--seeds", "0,1", "--kinds", "average", "--filler-size", "5",
            "--detectors", "pca,fraudar", "--flag-shares", "0.05,0.1", "--report-flag-share", "0.1", "--json"]
    whole = runner.invoke(app, ["attack", "study", *args, "--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    real, calls = _study.evaluate_coordination, []

    def stop_in_the_third_block(*a, **kw):
        calls.append(1)
        if len(calls) == 5:  # blocks hold 2 actions: two blocks are finished, the third is under way
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(_study, "evaluate_coordination", stop_in_the_third_block)
    out = tmp_path / "stopped"
    runner.invoke(app, ["attack", "study", *args, "--out", str(out)])
    assert len(list((out / "blocks.partial").glob("*.rows.parquet"))) == 2 and not (out / "rows.parquet").exists()
    calls.clear()
    monkeypatch.setattr(_study, "evaluate_coordination", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    resumed = runner.invoke(app, ["attack", "study", *args, "--out", str(out)])
    assert resumed.exit_code == 0, resumed.output
    assert len(calls) == 2 * 2  # the two missing blocks, two actions each
    assert pq.read_table(out / "rows.parquet").to_pylist() == pq.read_table(tmp_path / "whole" / "rows.parquet"
                                                                            ).to_pylist()
    assert pq.read_table(out / "curves.parquet").equals(pq.read_table(tmp_path / "whole" / "curves.parquet"))
    assert not (out / "blocks.partial").exists()
    calls.clear()
    monkeypatch.setattr(_study, "evaluate_coordination", stop_in_the_third_block)
    runner.invoke(app, ["attack", "study", *args, "--out", str(tmp_path / "again")])
    before = sorted(p.name for p in (tmp_path / "again" / "blocks.partial").iterdir())
    other = runner.invoke(app, ["attack", "study", *args, "--k", "4", "--out", str(tmp_path / "again")])
    _one_error_line(other, "the finished blocks of a study with other settings")
    assert sorted(p.name for p in (tmp_path / "again" / "blocks.partial").iterdir()) == before


@pytest.mark.parametrize(
    ("command", "extra", "message"),
    [
        ("run", ["--kind", "averge"], "--kind: unknown attack kind 'averge'; did you mean 'average'? (choices: "),
        ("run", ["--intent", "sideways"], "attack.intent"),
        ("run", ["--accounts", "bots"], "attack.accounts"),
        ("run", ["--filler-size", "many"], "--filler-size"),
        ("run", ["--size", "-3"], "attack.size"),
        ("run", ["--detectors", "pca,nope"], "--detectors: unknown value 'nope'"),
        ("run", ["--detectors", "pca,fraudr"], "--detectors: unknown value 'fraudr'; did you mean 'fraudar'?"),
        ("run", ["--kind", "benign", "--participants", "closets"], "got 'closets'; did you mean 'closest'?"),
        ("run", ["--flag-shares", "0.05,2"], "flag_share must be strictly between 0 and 1"),
        ("run", ["--kind", "benign", "--participants", "everyone"], "campaign.participants"),
        ("study", ["--sizes", ","], "--sizes is empty"),
        ("study", ["--seeds", "zero"], "--seeds"),
        ("study", ["--kinds", "average,sybil"], "--kinds: unknown value 'sybil'"),
        ("study", ["--accounts", "bots"], "--accounts: unknown value 'bots'"),
        ("study", ["--report-flag-share", "0.3"], "--report-flag-share 0.3 must be one of"),
        ("study", ["--target-items", "b999"], "b999"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_files(tmp_path, command, extra, message):
    data = _write(tmp_path)
    out = tmp_path / "out"
    args = ["attack", command, *data, *COMMON, *extra, "--json"]
    if command == "study":
        args += ["--out", str(out)]
    _one_error_line(runner.invoke(app, args), message)
    assert not out.exists()


def test_detect_prints_account_ids_as_they_are_never_as_markup(tmp_path):
    data = _write(tmp_path, bots=True)
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(ratings.read_text().replace("bot0,", "[/],").replace("bot1,", "[bold]Bo[/bold]ld,"))
    result = runner.invoke(app, ["attack", "detect", *data, "--detector", "fraudar", "--top", str(N_BOTS)])
    assert result.exit_code == 0, result.output  # once: MarkupError on the id "[/]"
    assert "[/]" in result.stdout and "[bold]Bo[/bold]ld" in result.stdout


def test_study_table_says_what_an_auc_below_one_half_means(tmp_path):
    data = _write(tmp_path)
    result = runner.invoke(app, ["attack", "study", *data, *COMMON, "--sizes", "10", "--seeds", "0",
                                 "--kinds", "average", "--filler-size", "5", "--detectors", "pca,fraudar",
                                 "--flag-shares", "0.1", "--report-flag-share", "0.1", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "detector performance" in text
    assert ("AUC < 0.5 (fraudar on average, pca on benign collective): the detector ranks the coordinated accounts "
            "(attackers or participants) as *less* suspicious than ordinary users") in text
