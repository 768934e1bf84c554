"""Benchmark: loading and validating 10M interactions, our loaders against pandas and the json module.

Generates, in a temporary folder (deleted at the end unless ``--keep``),

* a CSV of ``--n`` interactions (default 10,000,000) like MovieLens' ratings.csv: ``user_id,item_id,rating,
  timestamp``, distinct (user, item) pairs, Zipf-like item popularity, half-star ratings, Unix timestamps;
  rows sorted by user then item (``--layout sorted``, MovieLens' documented order) or in random order
  (``--layout shuffled``);
* the same interactions as JSON lines in the UCSD Goodreads schema (``user_id`` as 16 hex digits, ``book_id``
  as a string, ``rating`` 0-5, ``is_read``, ``date_added`` like "Wed Mar 29 00:12:52 +0000 2017").

and times, each in a fresh subprocess so that peak memory (``ru_maxrss``) is its own:

* CSV, candidate: ``read_table(path, rating_col="rating", order_col="timestamp", rating_range=(0.5, 5))`` —
  parse, check every value (types, NaN, range, duplicate pairs) and build the immutable ``Interactions``
  (CSR values + CSR order + vocabularies);
* CSV, baseline: ``pandas.read_csv(path)`` with its defaults (parsing only: no validation, no matrix);
* JSON lines, candidate: ``read_goodreads(path, signal="shelved")`` — every line kept, dates parsed into the
  order, values validated;
* JSON lines, baseline: a ``json.loads`` loop collecting the five fields into lists (no date parsing, no
  checks), and with ``--pandas-json`` also ``pandas.read_json(path, lines=True)`` (slow and memory-hungry).

Each is run ``--repeats`` times (default 3), alternating; the table shows the median wall time, the median CPU
time (user + system: on a shared machine wall time also counts waiting for a core) and the largest peak
resident memory (VmHWM), both as the process total and as the increase over the process after its imports. This is a
script, not a test: no timing assertions live in ``tests/`` (STYLE.md item 23).

Usage::

    .venv/bin/python benchmarks/bench_loading.py                  # 10M rows, CSV and JSON lines
    .venv/bin/python benchmarks/bench_loading.py --n 1000000      # a quicker run
    .venv/bin/python benchmarks/bench_loading.py --layout shuffled
    .venv/bin/python benchmarks/bench_loading.py --json           # one JSON document on stdout
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import log

CASES = {
    "csv": ("csv-ours", "csv-pandas"),
    "jsonl": ("jsonl-ours", "jsonl-json"),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="interactions (default 10,000,000)")
    parser.add_argument("--users", type=int, default=200_000, help="users (default 200,000)")
    parser.add_argument("--items", type=int, default=50_000, help="items (default 50,000)")
    parser.add_argument("--layout", choices=("sorted", "shuffled"), default="sorted", help="row order of the CSV")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each case (default 3)")
    parser.add_argument("--formats", default="csv,jsonl", help="which files: csv, jsonl or both (default)")
    parser.add_argument("--pandas-json", action="store_true", help="also time pandas.read_json(lines=True)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data (default 0)")
    parser.add_argument("--dir", type=Path, default=None, help="where to generate (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout, nothing else")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------------------- generation
def generate(folder: Path, n: int, n_users: int, n_items: int, layout: str, seed: int, formats: list[str]) -> dict:
    """Write ratings.csv and interactions.json (as asked) into ``folder``; return their paths and sizes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity /= popularity.sum()
    keys = np.empty(0, dtype=np.int64)
    while keys.size < n:  # distinct (user, item) pairs
        m = int((n - keys.size) * 1.05) + 1_000
        users = rng.integers(0, n_users, m)
        items = rng.choice(n_items, size=m, p=popularity)
        keys = np.unique(np.concatenate([keys, users.astype(np.int64) * n_items + items]))
    keys = np.sort(rng.choice(keys, n, replace=False))
    if layout == "shuffled":
        keys = rng.permutation(keys)
    users = keys // n_items + 1
    items = keys % n_items + 1
    del keys
    ratings = rng.integers(1, 11, n) / 2
    timestamps = rng.integers(1_000_000_000, 1_600_000_000, n)
    files = {}
    if "csv" in formats:
        path = folder / "ratings.csv"
        table = pa.table({"user_id": users, "item_id": items, "rating": ratings, "timestamp": timestamps})
        pcsv.write_csv(table, path, pcsv.WriteOptions(quoting_style="none"))
        del table
        files["csv"] = path
    if "jsonl" in formats:
        path = folder / "interactions.json"
        with path.open("w", encoding="utf-8") as out:
            for start in range(0, n, 1_000_000):
                stop = min(n, start + 1_000_000)
                user = pa.array([f"{u:016x}" for u in users[start:stop].tolist()])
                book = pc.cast(pa.array(items[start:stop]), pa.string())
                stars = pc.cast(
                    pa.array(np.ceil(ratings[start:stop]).astype(np.int64) * (rng.random(stop - start) < 0.7)),
                    pa.string(),
                )
                read = pa.array(np.where(rng.random(stop - start) < 0.8, "true", "false"))
                dates = pc.strftime(
                    pa.array(timestamps[start:stop], type=pa.timestamp("s", tz="UTC")),
                    format="%a %b %d %H:%M:%S %z %Y",
                )
                line = pc.binary_join_element_wise(
                    '{"user_id": "', user, '", "book_id": "', book, '", "rating": ', stars,
                    ', "is_read": ', read, ', "date_added": "', dates, '"}', "",
                )  # fmt: skip
                out.write("\n".join(line.to_pylist()))
                out.write("\n")
        files["jsonl"] = path
    return {name: {"path": str(p), "bytes": p.stat().st_size} for name, p in files.items()}


# ----------------------------------------------------------------------------------------------- workers
def _maxrss_mib() -> float:
    """Peak resident memory of this process image (VmHWM: unlike ru_maxrss it is not inherited through the
    fork and exec that started the worker, so the parent's memory does not leak into the number)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(case: str, path: str) -> dict:
    """Import, note the memory, run one case, note time and memory: one JSON line on stdout."""
    if case == "csv-ours":
        from recollective.data import read_table

        def run():
            result = read_table(path, rating_col="rating", order_col="timestamp", rating_range=(0.5, 5))
            return result.interactions.n_interactions

    elif case == "jsonl-ours":
        from recollective.data import read_goodreads

        def run():
            return read_goodreads(path, signal="shelved").interactions.n_interactions

    elif case == "csv-pandas":
        import pandas as pd

        def run():
            return len(pd.read_csv(path))

    elif case == "jsonl-pandas":
        import pandas as pd

        def run():
            return len(pd.read_json(path, lines=True))

    elif case == "jsonl-json":

        def run():
            columns = {"user_id": [], "book_id": [], "rating": [], "is_read": [], "date_added": []}
            with open(path, encoding="utf-8") as lines:
                for line in lines:
                    record = json.loads(line)
                    for name, values in columns.items():
                        values.append(record[name])
            return len(columns["user_id"])

    else:
        raise SystemExit(f"unknown case {case}")
    before = _maxrss_mib()
    cpu = _cpu_seconds()
    start = time.perf_counter()
    n = run()
    seconds = time.perf_counter() - start
    return {
        "case": case,
        "n": n,
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu,
        "rss_after_imports_mib": before,
        "peak_rss_mib": _maxrss_mib(),
    }


def run_case(case: str, path: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", case, path], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"{case} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------- the run
def versions() -> dict:
    import numpy
    import pyarrow
    import scipy

    out = {"python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__}
    out["pyarrow"] = pyarrow.__version__
    try:
        import pandas

        out["pandas"] = pandas.__version__
    except ImportError:
        out["pandas"] = None
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    folder = args.dir or Path(tempfile.mkdtemp(prefix="recollective-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    needed = args.n * (30 * ("csv" in formats) + 120 * ("jsonl" in formats))
    free = shutil.disk_usage(folder).free
    if free < 2 * needed:
        raise SystemExit(f"{folder}: {free / 2**30:.1f} GiB free, the files need about {needed / 2**30:.1f} GiB")
    report = {
        "n": args.n,
        "users": args.users,
        "items": args.items,
        "layout": args.layout,
        "repeats": args.repeats,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_before": os.getloadavg()},
        "versions": versions(),
        "results": {},
    }
    try:
        log(f"generating {args.n:,} interactions in {folder} ...")
        start = time.perf_counter()
        report["files"] = generate(folder, args.n, args.users, args.items, args.layout, args.seed, formats)
        log(f"  done in {time.perf_counter() - start:.1f} s: {report['files']}")
        for name in formats:
            cases = list(CASES[name]) + (["jsonl-pandas"] if name == "jsonl" and args.pandas_json else [])
            runs: dict[str, list[dict]] = {case: [] for case in cases}
            for repeat in range(args.repeats):
                for case in cases:
                    result = run_case(case, report["files"][name]["path"])
                    if result["n"] != args.n:
                        raise SystemExit(f"{case} read {result['n']:,} rows, expected {args.n:,}")
                    runs[case].append(result)
                    log(
                        f"  {case} run {repeat + 1}: {result['seconds']:.2f} s (cpu {result['cpu_seconds']:.2f} s), "
                        f"peak {result['peak_rss_mib']:.0f} MiB"
                    )
            for case, results in runs.items():
                report["results"][case] = {
                    "seconds_median": statistics.median(r["seconds"] for r in results),
                    "seconds_min": min(r["seconds"] for r in results),
                    "cpu_seconds_median": statistics.median(r["cpu_seconds"] for r in results),
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
                    "peak_increase_mib": max(r["peak_rss_mib"] - r["rss_after_imports_mib"] for r in results),
                    "runs": results,
                }
        report["machine"]["load_after"] = os.getloadavg()
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
        elif not args.keep:
            for generated in report.get("files", {}).values():
                Path(generated["path"]).unlink(missing_ok=True)
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return
    print(f"{args.n:,} interactions, layout {args.layout}, {args.repeats} runs each; {report['versions']}")
    print("| case | wall (median) | cpu (median) | peak RSS | peak increase over imports |")
    print("|---|---|---|---|---|")
    for case, result in report["results"].items():
        print(
            f"| {case} | {result['seconds_median']:.2f} s | {result['cpu_seconds_median']:.2f} s | "
            f"{result['peak_rss_mib']:.0f} MiB | {result['peak_increase_mib']:.0f} MiB |"
        )
    for ours, theirs in (("csv-ours", "csv-pandas"), ("jsonl-ours", "jsonl-json"), ("jsonl-ours", "jsonl-pandas")):
        if ours in report["results"] and theirs in report["results"]:
            a, b = report["results"][ours], report["results"][theirs]
            print(
                f"{ours} vs {theirs}: {b['seconds_median'] / a['seconds_median']:.2f}x faster (wall), "
                f"{b['cpu_seconds_median'] / a['cpu_seconds_median']:.2f}x (cpu); peak memory "
                f"{a['peak_rss_mib'] / b['peak_rss_mib']:.2f} of theirs "
                f"({a['peak_increase_mib'] / b['peak_increase_mib']:.2f} counting the increase only)"
            )


if __name__ == "__main__":
    main()
