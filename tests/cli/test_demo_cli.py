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
    human = CliRunner().invoke(app, ["demo", "--quick", "--out", str(out)])
    assert human.exit_code == 0, human.output
    lines = human.stdout.splitlines()
    assert lines[0] == "recollective demo: collective action against an alpha-tolerant SVD recommender"
    assert any(line.startswith("online game (60 rounds, 40 exploring") for line in lines)  # the quick game's own
    assert [line.split()[0] for line in lines if line.startswith("  ") and " exposure " in line] == [
        "itemknn", "puresvd"]  # one short line per model
    assert max(len(line) for line in lines if str(tmp_path) not in line) <= 118


def _summary(best: dict) -> dict:
    return {
        "alpha": 3.9641,
        "gap": {"holds": True, "majority_rank": 2, "s_k_majority": 8.39997, "s_1_minority": 3.47123},
        "truthful": {"k_star": 2, "social_welfare": 105.378, "minority_welfare": 0.0,
                     "minority_users_with_zero_utility": 15, "n_minority_users": 15},
        "window": {"pareto_intervals": [[3.16053, 3.93078]], "effective_intervals": [[3.16053, 10.0]]},
        "strategic": {"k_star": 3, "social_welfare": 110.379},
        "online": {"config": {"rounds": 300, "explore_rounds": 200, "noise": 0.1}, "seeds": list(range(10)),
                   "truthful_minority": "0.504 ± 0.350", "collective_minority": "4.571 ± 0.946",
                   "truthful_welfare": "105.525 ± 0.452", "collective_welfare": "108.279 ± 1.345"},
        "campaign": {"cells": {"stored": 90}, "run_dir": "out/demo/runs/demo-campaign", "best_per_model": best},
    }


def test_the_summary_is_short_lines_with_one_per_model():
    from types import SimpleNamespace

    import numpy as np

    from recollective.cli.demo import WIDTH, summary_lines

    def cell(before, after, n, policy, ndcg_before, ndcg_after):
        return {"target_exposure_before": before, "target_exposure_after": after, "gain": after - before,
                "n_participants": n, "participants": policy, "ndcg_before": ndcg_before, "ndcg_after": ndcg_after}

    best = {"popularity": cell(0.0, 0.0, 100, "random", 0.232, 0.232), "ease": cell(0.0, 0.0036, 100, "random",
            0.232, 0.232), "itemknn": cell(0.0, 0.4, 100, "closest", 0.317,
            0.309), "als": cell(0.15, 0.37, 40, "closest", 0.064, 0.063)}
    instance = SimpleNamespace(shape=(75, 50), minority_items=np.arange(40, 50))
    found = SimpleNamespace(alphas=(3.88482, 4.04338), n_scenarios=12, minority_welfare_before=0.0,
                            minority_welfare_after=5.00074, members_worst_change=0.0, reason="")
    strategy = SimpleNamespace(members=np.array([13]), targets=np.array([43]), uprating=3.61796)
    plots = [Path("out/demo") / f"{stem}.{kind}" for stem in ("window", "online") for kind in ("png", "svg", "csv")]
    lines = summary_lines(_summary(best), instance, found, strategy, plots)
    assert all(len(line) <= WIDTH for line in lines), max(lines, key=len)
    assert "  popularity  exposure 0%, no gain at any size" in lines
    assert "  ease        exposure 0.0% -> 0.4% with 100 random participants; NDCG 0.232 -> 0.232" in lines
    assert "  itemknn     exposure 0% -> 40% with 100 closest participants; NDCG 0.317 -> 0.309" in lines
    assert "  als         exposure 15% -> 37% with 40 closest participants; NDCG 0.064 -> 0.063" in lines
    assert "robust strategy: 1 majority member [13] reports x = 3.61796 on minority item [43]" in lines
    assert "online game (300 rounds, 200 exploring, noise 0.1, 10 seeds), last round (mean ± 95% interval):" in lines
    assert "plots (png, svg, csv each): out/demo/window, out/demo/online" in lines
    assert not any("[bold]" in line for line in lines)
    # without a strategy: the reason, and no game lines
    lines = summary_lines(_summary(best), instance, SimpleNamespace(reason="no collective of at most 3 members"),
                          None, [])
    assert "no robust strategy found: no collective of at most 3 members" in lines
    assert not any(line.startswith(("online game", "plots")) for line in lines)
