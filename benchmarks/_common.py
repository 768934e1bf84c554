"""What every benchmark records besides its timings: the machine, its BLAS pools, the code version; and timing.

The scripts run as ``.venv/bin/python benchmarks/bench_<topic>.py``, so this folder is first on ``sys.path`` and
they import this module as ``_common``. Progress goes to stderr (:func:`log`) so that ``--json`` leaves exactly
one document on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["blas_pools", "code_version", "log", "machine", "median_time", "new_parser", "print_provenance", "profiled",
           "window_parser"]

ROOT = Path(__file__).resolve().parents[1]


def new_parser(doc: str, quick: str) -> argparse.ArgumentParser:
    """A script's argument parser (its description: the first paragraph of ``doc``) with the options every
    script shares: ``--quick`` (a smoke run; ``quick`` says what it shortens), ``--json`` and ``--threads``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {quick}")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout, nothing else")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    return parser


def window_parser(doc: str, quick: str) -> argparse.ArgumentParser:
    """:func:`new_parser` plus what both window benchmarks (bench_windows, bench_theory) take: the baseline grid
    (``--grid``, default 2000; 200 with ``--quick``), ``--x-max``, ``--members`` and the instance ``--seed``."""
    parser = new_parser(doc, quick)
    parser.add_argument("--grid", type=int, default=None, help="grid points of the baseline (default 2000; 200 quick)")
    parser.add_argument("--x-max", type=float, default=10.0, help="upper end of the uprating values (default 10)")
    parser.add_argument("--members", type=int, default=20, help="majority users in the collective (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="instance seed (default 1)")
    return parser


def print_provenance(host: dict, code: dict, blas, threads: int) -> None:
    """The machine, code and BLAS lines of a script's human-readable summary."""
    print(
        f"machine: {host['cpu']}, {host['n_cpus']} CPUs (1-min load average at start "
        f"{host['load_average_1min']:.2f}); python {host['python']}, numpy {host['numpy']}, scipy {host['scipy']}"
    )
    print(f"code: commit {code['commit']}, src/ modified since: {code['src_modified']}, sources sha256 "
          f"{code['sources_sha256']}")
    print(f"BLAS: {blas}; pinned to {threads} thread(s)" if threads else f"BLAS: {blas}; threads not pinned")


def log(message: str) -> None:
    """One progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def median_time(function, repeats: int):
    """(last result, median seconds, every run's seconds) of ``repeats`` calls of ``function()``."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times), times


def profiled(function, top: int) -> str:
    """``function()`` run under cProfile: the ``top`` functions by own time, as pstats prints them."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def _cpu_model() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            return next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        return cpu


def blas_pools() -> list[dict]:
    """The BLAS thread pools loaded now (threadpoolctl): library, version and threads of each."""
    from threadpoolctl import threadpool_info

    return [
        {key: info.get(key) for key in ("internal_api", "version", "num_threads")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]


def machine(**versions) -> dict:
    """CPU model and count, the 1-minute load average (other processes on a shared machine skew timings), the
    versions of Python, numpy and scipy (plus ``versions``), and the BLAS pools."""
    import numpy
    import scipy

    return {
        "cpu": _cpu_model(),
        "n_cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        **versions,
        "blas": blas_pools(),
    }


def code_version(package) -> dict:
    """The commit, whether src/ differs from it, and a digest of ``package``'s sources (subpackages included) as
    this process imported them: ``{"commit", "src_modified", "sources_sha256"}``."""
    folder = Path(package.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    version = {"commit": None, "src_modified": None, "sources_sha256": digest.hexdigest()[:16]}
    git = ["git", "-C", str(ROOT)]
    try:
        version["commit"] = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True,
                                check=True)
        version["src_modified"] = bool(status.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    return version
