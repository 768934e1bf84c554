"""docs/design.md's experiment tables are derived from the committed rows (docs/results/design/**/rows.csv)."""

import contextlib
import importlib.util
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results" / "design"
DOC = ROOT / "docs" / "design.md"

_SPEC = importlib.util.spec_from_file_location("design_experiment", ROOT / "scripts" / "design_experiment.py")
design_experiment = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(design_experiment)


def test_every_table_row_of_the_script_is_in_the_doc_verbatim():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        design_experiment.tables(RESULTS, figure=False)
    rows = [line for line in printed.getvalue().splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 60  # four tables: N/2 against N, the stuck sets, accuracy, the whole design
    doc = DOC.read_text()
    missing = [row for row in rows if row not in doc]
    assert not missing, ("docs/design.md lacks these rows (python scripts/design_experiment.py tables --out "
                         "docs/results/design):\n" + "\n".join(missing))


def test_the_whole_design_kept_every_participant_mean_within_the_floor():
    rows = [r for r in design_experiment._read(RESULTS) if r["policy"] == "designed"]
    assert {(r["dataset"], r["model"]) for r in rows} >= {("movielens", "puresvd"), ("goodbooks", "itemknn"),
                                                           ("goodbooks", "ease")}
    for row in rows:  # the bound was the noise floor: the participants' mean NDCG may not fall beyond it
        assert row["ndcg_participants_after"] - row["ndcg_participants_before"] >= -row["noise_floor"], row
