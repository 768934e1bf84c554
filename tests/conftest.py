"""Shared pytest configuration: hypothesis profiles and the real-data fixture.

Hypothesis profiles (choose with the environment variable ``HYPOTHESIS_PROFILE``; default ``ci``):

* ``ci``: derandomized (the same examples on every run and machine), no example database, 100 examples per
  property; expensive properties ask for fewer through :func:`strategies.n_examples`. The whole ``tests/game``
  run takes well under a minute on two cores.
* ``dev``: the same budget, randomized, with the local example database (failures are replayed first).
* ``thorough``: ten times the examples, randomized; for an occasional long run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Tests never write the user's home: matplotlib keeps its config and font cache (~/.cache/matplotlib otherwise) in
# a temporary folder, removed at exit. `make test` runs pytest with an empty temporary HOME and fails if anything
# lands there.
if "MPLCONFIGDIR" not in os.environ:
    os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="recollective-tests-matplotlib-")
    atexit.register(shutil.rmtree, os.environ["MPLCONFIGDIR"], ignore_errors=True)

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None, print_blob=True)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# MISSION.md, "Data you have": ../shared/data beside the project checkout; never copied into the repository.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data sets (goodbooks-10k, MovieLens, Goodreads fixtures); skips when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
