"""Local pool and Ray give the same result table as one process, for the same config and seeds."""

import contextlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recollective.experiments import load_experiment_config, load_results, run_experiment

from .helpers import TINY, cli_command

RAY_MISSING = importlib.util.find_spec("ray") is None


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny sweep's rows, run in this process (one worker, one cell per file)."""
    root = tmp_path_factory.mktemp("reference")
    run_experiment(load_experiment_config(TINY), root)
    return load_results(root / "tiny")


def test_local_pool_gives_the_same_table(tmp_path, reference):
    summary = run_experiment(load_experiment_config(TINY), tmp_path, workers=2, batch_size=3)
    assert summary["ran"] == 24 and summary["executor"] == "local, 2 workers"
    assert load_results(tmp_path / "tiny") == reference


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    """An empty HOME (as on a new machine) and no Ray token settings inherited from the environment."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def ray_token(tmp_path, fresh_home, monkeypatch):
    """Token authentication with a token made for this test, in a file outside HOME (``RAY_AUTH_TOKEN_PATH``):
    the Ray head, the client and in-process Ray all read it, so Ray never creates ``~/.ray/auth_token``."""
    token = tmp_path / "ray-auth-token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))
    return token


def _wait_for(log: Path, text: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 90
    while text not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{what} did not start within 90 s"
        time.sleep(0.2)


@contextlib.contextmanager
def _ray_cluster(tmp_path: Path, workers: int = 2):
    """A Ray cluster on 127.0.0.1: a head with no CPUs of its own and ``workers`` worker nodes of one CPU each
    (``ray start --block``, each in its own process group, killed with the group), so every task runs on a
    worker node, as on a cluster of several machines."""
    port = _free_port()
    ray = Path(sys.executable).with_name("ray")
    common = ["--node-ip-address=127.0.0.1", "--disable-usage-stats", "--block"]
    processes, logs = [], []
    try:
        for index in range(workers + 1):
            log_path = tmp_path / f"ray-node-{index}.log"
            logs.append(log_path.open("w"))
            if index == 0:
                command = [str(ray), "start", "--head", f"--port={port}", "--num-cpus=0",
                           "--include-dashboard=false", *common]
            else:
                command = [str(ray), "start", f"--address=127.0.0.1:{port}", "--num-cpus=1", *common]
            processes.append(subprocess.Popen(command, stdout=logs[-1], stderr=subprocess.STDOUT,
                                              start_new_session=True))
            _wait_for(log_path, "Ray runtime started", processes[-1], "the Ray head" if index == 0 else
                      f"Ray worker node {index}")
        yield f"127.0.0.1:{port}"
    finally:
        for process in reversed(processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        for log in logs:
            log.close()


@pytest.mark.slow
@pytest.mark.skipif(RAY_MISSING, reason="ray is not installed (pip install 'ray==2.60.0')")
def test_ray_cluster_of_three_nodes_on_localhost_gives_the_same_table(tmp_path, reference, ray_token, fresh_home):
    command = cli_command("run", str(TINY), "--out", str(tmp_path / "runs"), "--executor", "ray", "--address",
                          "ADDRESS", "--batch-size", "2", "--json")
    with _ray_cluster(tmp_path, workers=2) as address:
        command[command.index("ADDRESS")] = address
        # a client without the head's token: one line saying how to give it, nothing stored
        tokenless = {key: value for key, value in os.environ.items() if key != "RAY_AUTH_TOKEN_PATH"}
        refused = subprocess.run(command, capture_output=True, text=True, timeout=300, env=tokenless)
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert refused.returncode == 2, refused.stderr[-3000:]
    line = refused.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"error: cannot start or reach the Ray cluster at {address}: ")
    assert "RAY_AUTH_MODE=token" in line and "RAY_AUTH_TOKEN_PATH=FILE" in line
    assert result.returncode == 0, result.stderr[-3000:]
    document = json.loads(result.stdout)
    assert (document["ran"], document["total"]) == (24, 24)
    assert document["executor"] == f"ray at {address}"
    assert load_results(tmp_path / "runs" / "tiny") == reference
    assert list(fresh_home.iterdir()) == []  # nothing read from or written to HOME (no ~/.ray/auth_token)


DATA_CONFIG = """
name = "from-a-file"
seeds = [0, 1]
k = 5
metrics = ["target_exposure_before", "target_exposure_after", "ndcg_before", "ndcg_after", "n_participants"]
[data]
path = "ratings.csv"
format = "csv"
user_col = "user"
item_col = "book"
rating_col = "stars"
[targets]
method = "explicit"
item_ids = ["b39"]
[campaign]
participants = ["closest", "random"]
sizes = [5, 20]
[models.itemknn]
[models.popularity]
"""


@pytest.mark.slow
@pytest.mark.skipif(RAY_MISSING, reason="ray is not installed (pip install 'ray==2.60.0')")
def test_local_ray_gets_the_data_from_the_object_store_and_gives_the_same_table(tmp_path, ray_token, fresh_home,
                                                                               monkeypatch):
    """The driver prepares the inputs once and puts them into Ray's object store: the data file is deleted right
    after that, so a task that read it again would fail."""
    from recollective.experiments import _runner
    from taste_groups import write_readers_csv

    write_readers_csv(tmp_path / "ratings.csv")
    (tmp_path / "config.toml").write_text(DATA_CONFIG)
    config = load_experiment_config(tmp_path / "config.toml")
    run_experiment(config, tmp_path / "reference")
    real = _runner.prepared_inputs

    def prepared_then_deleted(config):
        inputs = real(config)
        (tmp_path / "ratings.csv").unlink()
        return inputs

    monkeypatch.setattr(_runner, "prepared_inputs", prepared_then_deleted)
    summary = run_experiment(config, tmp_path / "ray", executor="ray", workers=2, batch_size=2)
    assert not (tmp_path / "ratings.csv").exists()
    assert summary["ran"] == 16 and summary["executor"] == "ray, local, 2 CPUs"
    assert load_results(tmp_path / "ray" / "from-a-file") == load_results(tmp_path / "reference" / "from-a-file")
    assert list(fresh_home.iterdir()) == []  # Ray used the test's token, not a new ~/.ray/auth_token


@pytest.mark.skipif(RAY_MISSING, reason="ray is not installed (pip install 'ray==2.60.0')")
def test_unreachable_ray_address_is_one_error_line(tmp_path):
    from typer.testing import CliRunner

    from recollective.cli import app

    result = CliRunner().invoke(app, ["run", str(TINY), "--out", str(tmp_path), "--executor", "ray", "--address",
                                      "127.0.0.1:notaport"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --address must be HOST:PORT (for example 127.0.0.1:6379); got " \
                                    "'127.0.0.1:notaport'"
