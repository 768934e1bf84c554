"""Configs for the experiment tests: the tiny synthetic sweep and smaller variants written to a temporary folder."""

import sys
from pathlib import Path

CONFIGS = Path(__file__).resolve().parent / "configs"
TINY = CONFIGS / "tiny.toml"

# The small grid's world, targets, campaign and model: SMALL below, and the report tests' run (tests/report).
SMALL_GRID = """
[world]
n_users = 200
n_items = 120
n_interactions = 3000
seed = 1

[targets]
method = "longtail"
max_targets = 2
min_audience = 3

[campaign]
participants = ["random"]
sizes = [5, 15]

[models.popularity]
"""
SMALL = """
name = "small"
seeds = [0, 1]
k = 10
metrics = ["target_exposure_before", "target_exposure_after", "ndcg_before", "ndcg_after", "n_participants",
           "n_actions", "audience_size", "better_share"]
""" + SMALL_GRID


def write_config(folder: Path, text: str = SMALL, name: str = "config.toml", **replacements) -> Path:
    """Write ``text`` (with ``old=new`` pairs given as replacements={"old": "new"}) to ``folder/name``."""
    for old, new in replacements.get("replace", {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / name
    path.write_text(text)
    return path


def cli_command(*args: str) -> list[str]:
    """The ``recollective`` command line in a subprocess, with this interpreter."""
    return [sys.executable, "-c", "from recollective.cli import main; main()", *args]
