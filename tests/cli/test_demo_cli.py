"""``recollective demo``: the main job end to end."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recollective.cli import app


@pytest.mark.slow
def test_demo_json_tells_the_whole_story(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["gap"]["holds"] is True
    truthful = document["truthful"]
    assert truthful["minority_welfare"] == 0.0
    assert truthful["minority_users_with_zero_utility"] == truthful["n_minority_users"] == 15
    search = document["search"]
    assert search["found"] is True and search["members_worst_change"] >= 0
    assert search["minority_welfare_after"] > 0
    lo, hi = document["window"]["pareto_intervals"][0]
    assert lo < search["strategy"]["uprating"] < hi
    assert document["strategic"]["comparison"]["is_pareto_effective"] is True
    assert set(document["online"]) >= {"truthful_minority", "collective_minority", "seeds"}
    for path in document["plots"]:
        assert Path(path).is_file() and Path(path).stat().st_size > 0
    assert json.loads((out / "summary.json").read_text())["search"] == search
    assert (out / "instance.npz").is_file()


@pytest.mark.slow
def test_demo_quick_runs_the_campaign_sweep_and_writes_the_report(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--quick", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    campaign = document["campaign"]
    assert campaign["cells"]["stored"] == campaign["cells"]["total"] == 2 * 2 * 2  # models x policies x sizes
    assert set(campaign["best_per_model"]) == {"itemknn", "puresvd"}
    report = Path(document["report"])
    html = report.read_text()
    assert report == out / "report.html" and "<script" not in html
    assert html.count("data:image/png;base64,") >= 5
    assert (out / "runs" / "demo-campaign" / "manifest.json").is_file()
    assert not (out / "runs" / "demo-campaign" / ".lock").exists()  # removed when the run finished
    again = CliRunner().invoke(app, ["demo", "--quick", "--out", str(out), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["campaign"]["cells"]["skipped"] == 8  # the sweep resumes, nothing re-run
