"""The attack-study report: summaries average over seeds, plots are real PNGs, the HTML escapes dataset strings."""

import csv
import json

import numpy as np
import pytest

from recollective.adversarial import CURVE_COLUMNS, ROC_FPR_GRID, STUDY_COLUMNS
from recollective.errors import DataError, InvalidParameterError
from recollective.report.attack_plots import plot_roc_curves, plot_tradeoff
from recollective.report.attack_report import (
    inverted_detectors,
    read_study,
    summarize_detection,
    summarize_effects,
    summarize_tradeoff,
    write_attack_report,
    write_parquet,
)

ACTIONS = (("benign", "real"), ("average", "fake"), ("segment", "fake"), ("average", "real"))
DETECTORS = ("pca", "fraudar")
SHARES = (0.02, 0.05)
SIZES = (10, 30)
SEEDS = (0, 1)
PNG = b"\x89PNG\r\n\x1a\n"


def _auc(detector, action, seed):
    """pca finds attacks (0.9 + 0.02 seed) and is inverted on the benign collective (0.2); fraudar is 0.6."""
    if detector == "fraudar":
        return 0.6
    return 0.2 if action == "benign" else 0.9 + 0.02 * seed


def fake_rows():
    rows = []
    for seed in SEEDS:
        for size in SIZES:
            for action, accounts in ACTIONS:
                benign = action == "benign"
                for detector in DETECTORS:
                    for share in SHARES:
                        row = dict.fromkeys(STUDY_COLUMNS)
                        row.update(
                            model="als", seed=seed, size=size, action=action, accounts=accounts, intent="push",
                            budget=2 * size, n_accounts=size if benign else size // 5, n_fake=0 if benign else 2,
                            n_actions=2 * size, benefit_before=0.1, benefit_after=0.5 if benign else 0.12 + seed / 100,
                            harm_before=0.0, harm_after=0.01 if benign else 0.05, ndcg_before=0.3,
                            ndcg_after=0.3 if benign else 0.29, detector=detector, flag_share=share,
                            precision=0.5, recall=share * 10 + seed / 10, f1=0.4,
                            roc_auc=_auc(detector, action, seed),
                            benign_flagged_share=share * 2 if benign else None, ordinary_flagged_share=share,
                            benefit_lost=share if benign else 0.0, harm_avoided=0.0 if benign else share / 2,
                            ndcg_lost=share / 10, skipped_detectors="",
                        )
                        rows.append(row)
    return rows


def fake_curves():
    curves = []
    for seed in SEEDS:
        for size in SIZES:
            for action, accounts in ACTIONS:
                for detector in DETECTORS:
                    tpr = np.clip(ROC_FPR_GRID * (3 if detector == "pca" else 1) + 0.1 * seed, 0, 1)
                    tpr[0], tpr[-1] = 0.0, 1.0
                    curves += [{"model": "als", "seed": seed, "size": size, "action": action, "accounts": accounts,
                                "detector": detector, "fpr": float(f), "tpr": float(t)}
                               for f, t in zip(ROC_FPR_GRID, tpr, strict=True)]
    return curves


@pytest.fixture
def study_dir(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    write_parquet(folder / "rows.parquet", fake_rows(), STUDY_COLUMNS)
    write_parquet(folder / "curves.parquet", fake_curves(), CURVE_COLUMNS)
    metadata = {"name": "test <study>", "model": "als", "seeds": list(SEEDS), "sizes": list(SIZES),
                "report_flag_share": 0.05,
                "targets": [{"item_id": 7, "title": "<script>alert('x')</script>", "authors": "A & B", "audience": 3}]}
    (folder / "study.json").write_text(json.dumps(metadata))
    return folder


def test_rows_round_trip_through_parquet(study_dir):
    study = read_study(study_dir)
    assert len(study.rows) == len(fake_rows()) and tuple(study.rows[0]) == STUDY_COLUMNS
    assert {row["size"] for row in study.rows} == {10, 30}
    assert len(study.curves) == len(fake_curves()) and study.metadata["model"] == "als"
    assert not list(study_dir.glob(".*.tmp"))  # the temporary files were renamed


def test_summaries_average_over_seeds(study_dir):
    rows = read_study(study_dir).rows
    detection = summarize_detection(rows, 0.05)
    assert len(detection) == len(DETECTORS) * len(ACTIONS) * len(SIZES)
    pca_average = next(e for e in detection if (e["detector"], e["action"], e["accounts"], e["size"]) ==
                       ("pca", "average", "fake", 30))
    assert pca_average["roc_auc"] == pytest.approx(0.91)  # (0.90 + 0.92) / 2
    assert pca_average["roc_auc_sd"] == pytest.approx(np.std([0.90, 0.92], ddof=1))
    assert pca_average["recall"] == pytest.approx(0.55) and pca_average["n_seeds"] == 2
    assert pca_average["benign_flagged_share"] is None
    benign = next(e for e in detection if (e["detector"], e["action"], e["size"]) == ("pca", "benign", 10))
    assert benign["benign_flagged_share"] == pytest.approx(0.1)
    effects = summarize_effects(rows)
    assert [e["action"] for e in effects][:2] == ["benign", "benign"]  # the benign collective first
    average = next(e for e in effects if (e["action"], e["accounts"], e["size"]) == ("average", "fake", 10))
    assert average["benefit_after"] == pytest.approx(0.125) and average["n_accounts"] == 2
    assert average["ndcg_change"] == pytest.approx(-0.01)
    trade = summarize_tradeoff(rows)
    cell = next(e for e in trade if (e["detector"], e["size"], e["flag_share"]) == ("fraudar", 10, 0.02))
    assert cell["benefit_lost"] == pytest.approx(0.02) and cell["harm_avoided"] == pytest.approx(0.01)
    inverted = inverted_detectors(rows)
    assert {(e["detector"], e["action"]) for e in inverted} == {("pca", "benign")}
    with pytest.raises(InvalidParameterError, match=r"flag share 0.5 is not in the study"):
        summarize_detection(rows, 0.5)


def test_plots_are_non_empty_pngs_with_their_numbers(study_dir, tmp_path):
    study = read_study(study_dir)
    roc = plot_roc_curves(study.curves, tmp_path / "roc")
    trade = plot_tradeoff(study.rows, tmp_path / "tradeoff", size=10)
    for paths in (roc, trade):
        png, svg, _ = paths
        assert png.read_bytes().startswith(PNG) and png.stat().st_size > 10_000 and svg.stat().st_size > 0
    with roc[2].open() as handle:
        records = list(csv.DictReader(handle))
    assert {r["size"] for r in records} == {"30"}  # the largest size by default
    point = next(r for r in records if (r["detector"], r["action"], r["fpr"]) == ("fraudar", "average", "0.5"))
    assert float(point["tpr_mean"]) == pytest.approx(0.55) and point["n_seeds"] == "2"  # (0.5 + 0.6) / 2
    with trade[2].open() as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == len(DETECTORS) * len(SHARES)
    assert float(records[0]["benign_benefit_lost"]) == pytest.approx(SHARES[0])
    with pytest.raises(InvalidParameterError, match="no size 99"):
        plot_tradeoff(study.rows, tmp_path / "bad", size=99)
    with pytest.raises(InvalidParameterError, match="empty"):
        plot_roc_curves([], tmp_path / "bad")


def test_report_escapes_dataset_strings_and_embeds_the_figures(study_dir):
    result = write_attack_report(study_dir)
    html = result["html"].read_text()
    assert "<script" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "A &amp; B" in html and "test &lt;study&gt;" in html
    assert html.count('src="data:image/png;base64,') == 2
    assert 'href="roc.png"' in html and 'href="tradeoff.csv"' in html
    for name in ("roc.png", "tradeoff.png", "roc.csv", "tradeoff.svg", "detection.csv"):
        assert (study_dir / name).stat().st_size > 0
    assert (study_dir / "roc.png").read_bytes().startswith(PNG)
    assert "inverted" in html and "pca on benign collective" in html
    assert result["sections"][0] == "The study" and not list(study_dir.glob(".attack-report-*"))


def test_unreadable_studies_are_data_errors_naming_the_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_study(tmp_path / "nowhere")
    (tmp_path / "rows.parquet").write_text("not parquet")
    with pytest.raises(DataError, match=r"rows.parquet: not a readable Parquet file"):
        read_study(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"has no rows\.parquet"):
        write_attack_report(empty)
