"""docs/llm.md's experiment tables are derived from the committed rows (docs/results/llm/llm_protocols.csv)."""

import csv
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
ROWS = ROOT / "docs" / "results" / "llm" / "llm_protocols.csv"
DOC = ROOT / "docs" / "llm.md"

_SPEC = importlib.util.spec_from_file_location("llm_experiment", ROOT / "scripts" / "llm_experiment.py")
llm_experiment = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(llm_experiment)


def _rows() -> list[dict]:
    with ROWS.open() as handle:
        return list(csv.DictReader(handle))


def test_rows_hold_both_refit_modes_with_three_seeds_or_more():
    rows = _rows()
    for mode in ("retrain", "continue"):
        seeds = {r["seed"] for r in rows if r["refit_mode"] == mode and r["model"] == "llm"}
        assert len(seeds) >= 3, (mode, seeds)
    keys = [(r["refit_mode"], r["targets"], r["model"], r["seed"]) for r in rows]
    assert len(keys) == len(set(keys))  # one row per (refit_mode, targets, model, seed)


def test_every_table_of_the_script_is_in_the_doc_verbatim():
    doc = DOC.read_text()
    blocks = [block for block in llm_experiment.tables(ROWS).split("\n\n") if block.startswith("|")]
    assert len(blocks) >= 2
    for block in blocks:
        assert block in doc, f"docs/llm.md lacks this table (python scripts/llm_experiment.py tables):\n{block}"


def _doc_cell(label: str, column: int) -> str:
    """The text of ``column`` (0 = retrain, 1 = continue) in the first row labelled ``label`` of docs/llm.md."""
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == label:
            return cells[1 + column]
    raise AssertionError(f"docs/llm.md has no table row {label!r}")


@pytest.mark.parametrize(("column", "mode"), [(0, "retrain"), (1, "continue")])
def test_the_majority_hit_rate_change_is_recomputed_from_the_rows(column, mode):
    # independent of the script: numpy and scipy on the CSV, against the number printed in the doc (tail targets)
    text = _doc_cell("HR@10 majority, change", column)
    mean_text, half_text = re.fullmatch(r"(-?[0-9.]+) ± ([0-9.]+)", text.replace("−", "-")).groups()
    rows = [r for r in _rows() if (r["refit_mode"], r["targets"], r["model"]) == (mode, "tail", "llm")]
    change = np.array([float(r["hit_rate_majority_after"]) - float(r["hit_rate_majority_before"]) for r in rows])
    half = stats.t.ppf(0.975, change.size - 1) * change.std(ddof=1) / np.sqrt(change.size)
    assert float(mean_text) == pytest.approx(change.mean(), abs=5e-4)
    assert float(half_text) == pytest.approx(half, abs=5e-4)
