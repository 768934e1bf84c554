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


@contextlib.contextmanager
def _ray_head(tmp_path: Path, cpus: int = 2):
    """A Ray head on 127.0.0.1 in its own process group (``ray start --head --block``); killed with the group."""
    port = _free_port()
    ray = Path(sys.executable).with_name("ray")
    log = (tmp_path / "ray-head.log").open("w")
    head = subprocess.Popen(
        [str(ray), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", f"--num-cpus={cpus}",
         "--include-dashboard=false", "--disable-usage-stats", "--block"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "Ray runtime started" not in (tmp_path / "ray-head.log").read_text():
            assert head.poll() is None, (tmp_path / "ray-head.log").read_text()
            assert time.monotonic() < deadline, "the Ray head did not start within 60 s"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)
        head.wait(timeout=30)
        log.close()


@pytest.mark.slow
@pytest.mark.skipif(RAY_MISSING, reason="ray is not installed (pip install 'ray==2.60.0')")
def test_ray_cluster_on_localhost_gives_the_same_table(tmp_path, reference, ray_token, fresh_home):
    command = cli_command("run", str(TINY), "--out", str(tmp_path / "runs"), "--executor", "ray", "--address",
                          "ADDRESS", "--batch-size", "2", "--json")
    with _ray_head(tmp_path) as address:
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


@pytest.mark.slow
@pytest.mark.skipif(RAY_MISSING, reason="ray is not installed (pip install 'ray==2.60.0')")
def test_local_ray_instance_gives_the_same_table(tmp_path, reference, ray_token, fresh_home):
    summary = run_experiment(load_experiment_config(TINY), tmp_path / "runs", executor="ray", workers=2)
    assert summary["ran"] == 24 and summary["executor"] == "ray, local, 2 CPUs"
    assert load_results(tmp_path / "runs" / "tiny") == reference
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
