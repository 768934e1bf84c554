"""Finished blocks of an attack study kept on disk while it runs, so that a stopped study loses none of them.

``<out>/blocks.partial/`` holds ``settings.json`` (what the study was asked: data, model, seeds, sizes, attacks,
detectors, ...) and, per finished block (every action at one size and seed), ``<n>.curves.parquet`` and then
``<n>.rows.parquet``, each written whole through a temporary file. A block counts as finished once its rows file is
there. Running the same study into the same folder again reads the finished blocks back (exact values: Parquet
keeps every float and int as it was) and evaluates only the others; the folder is removed once the study's own
files are written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from recollective.errors import DataError

__all__ = ["PARTIAL_DIR", "StudyBlocks"]

PARTIAL_DIR = "blocks.partial"


class StudyBlocks:
    """The ``blocks.partial`` folder of a study folder ``out``, for the study described by ``settings`` (any
    JSON-ready dict; a different one is refused rather than mixed in)."""

    def __init__(self, out, settings: dict):
        self.folder = Path(out) / PARTIAL_DIR
        self.settings = json.loads(json.dumps(settings))
        self.count = 0

    def load(self) -> dict[tuple, tuple[list[dict], list[dict]]]:
        """Finished blocks by (seed, size); empty when there is no earlier run. Raises :class:`DataError` when the
        folder belongs to a study with other settings."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        settings_file = self.folder / "settings.json"
        if not settings_file.is_file():
            return {}
        try:
            recorded = json.loads(settings_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = None
        if recorded != self.settings:
            raise DataError(f"{self.folder}: the finished blocks of a study with other settings; give another --out, "
                            f"or delete {self.folder} to start over")
        blocks = {}
        for rows_file in sorted(self.folder.glob("*.rows.parquet")):
            curves_file = rows_file.with_name(rows_file.name.replace(".rows.", ".curves."))
            try:
                rows = pq.read_table(rows_file).to_pylist()
                curves = pq.read_table(curves_file).to_pylist() if curves_file.is_file() else []
            except (pa.ArrowException, OSError) as exc:
                raise DataError(f"{rows_file}: not a readable block ({exc}); delete {self.folder} to start "
                                "over") from None
            if rows:
                blocks[(int(rows[0]["seed"]), rows[0]["size"])] = (rows, curves)
        self.count = len(list(self.folder.glob("*.rows.parquet")))
        return blocks

    def save(self, seed: int, size, rows: list[dict], curves: list[dict]) -> None:
        """Store one finished block (its curves first, its rows last: the rows file marks it finished)."""
        from recollective.adversarial._curves import CURVE_COLUMNS
        from recollective.adversarial._study import STUDY_COLUMNS
        from recollective.report.attack_report import write_parquet

        if not (self.folder / "settings.json").is_file():  # the first block: the folder starts afresh
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            (self.folder / "settings.json").write_text(json.dumps(self.settings, indent=1), encoding="utf-8")
        stem = f"{self.count:04d}"
        write_parquet(self.folder / f"{stem}.curves.parquet", curves, CURVE_COLUMNS)
        write_parquet(self.folder / f"{stem}.rows.parquet", rows, STUDY_COLUMNS)
        self.count += 1

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
