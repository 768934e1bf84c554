"""Kill -9 (and Ctrl-C) at random points, then resume: the final results equal an uninterrupted run's."""

import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest

from recollective.experiments import ResultsStore, load_experiment_config, load_results, run_experiment

from .helpers import TINY, cli_command, write_config

# The tiny sweep on a larger world: 24 cells of about 0.1 s each, so that kills land between cells.
KILL_REPLACEMENTS = {'name = "tiny"': 'name = "kill"', "n_users = 300": "n_users = 1500",
                     "n_items = 150": "n_items = 600", "n_interactions = 5000": "n_interactions = 30000"}


def _default_sigint():
    """In the child: Ctrl-C's default action. A shell starts background jobs with SIGINT ignored, which their
    children (pytest, then this CLI) would inherit, and Python keeps an ignored SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(config, out, *options):
    return subprocess.Popen(cli_command("run", str(config), "--out", str(out), "--quiet", *options),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_default_sigint)


def _stored(run_dir) -> int:
    """Cells stored so far; every stored file must be whole (a reader never sees a half-written one)."""
    if not (run_dir / "manifest.json").is_file():
        return 0
    rows = load_results(run_dir)
    assert len({row["cell"] for row in rows}) == len(rows)
    return len(rows)


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_equals_an_uninterrupted_run(tmp_path):
    path = write_config(tmp_path, TINY.read_text(), "kill.toml", replace=KILL_REPLACEMENTS)
    run_experiment(load_experiment_config(path), tmp_path / "reference")
    reference = load_results(tmp_path / "reference" / "kill")
    total = len(reference)
    rng = np.random.default_rng(20250107)
    interrupted_midway = 0
    for trial in range(5):
        out = tmp_path / f"trial{trial}"
        options = ["--workers", "2", "--batch-size", "2"] if trial % 2 else []
        for _ in range(2):  # two kills per trial: the second one interrupts a resumed run
            # a random point of the sweep: once a random number of cells is stored, after a random short delay
            target, delay = int(rng.integers(0, total - 6)), rng.uniform(0.0, 0.25)
            process = _start(path, out, *options)
            deadline = time.monotonic() + 120
            while process.poll() is None and _stored(out / "kill") < target:
                assert time.monotonic() < deadline, "the sweep made no progress"
                time.sleep(0.02)
            time.sleep(delay)
            os.killpg(process.pid, signal.SIGKILL)  # the CLI and its pool workers, as kill -9 would
            process.wait(timeout=30)
            stored = _stored(out / "kill")
            interrupted_midway += 0 < stored < total
        resumed = subprocess.run(cli_command("run", str(path), "--out", str(out), "--quiet"),
                                 capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        assert load_results(out / "kill") == reference
        files = ResultsStore(out / "kill").files()
        assert sum(len(_cells_in(f)) for f in files) == total  # no duplicated rows on disk either
    assert interrupted_midway >= 5, f"only {interrupted_midway} of 10 kills landed in the middle of a sweep"


def _cells_in(path):
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["cell"]).column("cell").to_pylist()


@pytest.mark.slow
def test_ctrl_c_stops_and_the_next_run_resumes(tmp_path):
    path = write_config(tmp_path, TINY.read_text(), "kill.toml", replace=KILL_REPLACEMENTS)
    run_experiment(load_experiment_config(path), tmp_path / "reference")
    for _attempt in range(5):  # on a fast machine the sweep may finish before the signal: start afresh then
        process = _start(path, tmp_path / "runs")
        deadline = time.monotonic() + 120
        while process.poll() is None and _stored(tmp_path / "runs" / "kill") < 1:
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.01)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            break
        process.wait()
        shutil.rmtree(tmp_path / "runs")
    else:
        pytest.fail("the sweep finished every time before Ctrl-C could interrupt it")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert b"Traceback" not in stderr
    assert 1 <= _stored(tmp_path / "runs" / "kill") < 24
    resumed = subprocess.run(cli_command("run", str(path), "--out", str(tmp_path / "runs"), "--json"),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert load_results(tmp_path / "runs" / "kill") == load_results(tmp_path / "reference" / "kill")
