"""Run every command of the README's ``bash`` blocks as written, from a clone's root, and tabulate exit and time.

    python scripts/readme_commands.py                 # every command, in order; a table on stdout
    python scripts/readme_commands.py --csv out/readme_commands.csv --only game,data

Commands run one after another in the repository root (later ones use what earlier ones wrote: ``inst.npz``,
``runs/``), through ``bash`` with ``.venv/bin`` first on PATH, as a user who activated the environment would.
A command whose comment says it needs a CUDA machine is skipped (with the reason) where ``nvidia-smi`` finds no
GPU. A line per command is printed when it starts and when it ends, so a piped run shows progress; the table
comes last.

:func:`readme_commands` is also what ``tests/test_readme_commands.py`` checks the README with.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TIME = re.compile(r"\((?:> )?(\d+(?:\.\d+)?) (s|min)\)\s*$")


@dataclass(frozen=True)
class ReadmeCommand:
    """One command of a README ``bash`` block: ``text`` with continuations joined, its comment, its line."""

    text: str
    comment: str
    line: int

    @property
    def stated_seconds(self) -> float | None:
        """The time the comment states, ``(12 s)``, ``(3 min)`` or ``(> 50 min)`` at its end, in seconds; None if
        none."""
        match = _TIME.search(self.comment)
        if match is None:
            return None
        value = float(match.group(1))
        return value * 60 if match.group(2) == "min" else value

    @property
    def needs_cuda(self) -> bool:
        return "needs a CUDA machine" in self.comment


def readme_commands(readme: Path = ROOT / "README.md") -> list[ReadmeCommand]:
    """Every command in the ``bash`` fenced blocks of ``readme``, in order.

    A line ending in ``\\`` continues on the next; ``# ...`` after the command is its comment (a ``#`` inside
    quotes is not a comment). Blank lines and whole-line comments are skipped.
    """
    commands: list[ReadmeCommand] = []
    in_block = False
    pending: list[str] = []
    comments: list[str] = []
    start = 0
    for number, line in enumerate(readme.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_block = stripped == "```bash" if not in_block else False
            continue
        if not in_block or (not pending and (not stripped or stripped.startswith("#"))):
            continue
        code, comment = _split_comment(line)
        if not pending:
            start = number
        if comment:
            comments.append(comment)
        code = code.rstrip()
        if code.endswith("\\"):
            pending.append(code[:-1].strip())
            continue
        pending.append(code.strip())
        commands.append(ReadmeCommand(" ".join(part for part in pending if part), " ".join(comments), start))
        pending, comments = [], []
    return commands


def _split_comment(line: str) -> tuple[str, str]:
    """``line`` split at its first ``#`` outside quotes (preceded by whitespace): (code, comment text)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index], line[index + 1 :].strip()
    return line, ""


def _has_gpu() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    return subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--csv", type=Path, help="also write the table as CSV here")
    parser.add_argument("--only", help="comma-separated words; run only commands whose text contains one")
    parser.add_argument("--skip", help="comma-separated words; skip commands whose text contains one")
    parser.add_argument("--log", type=Path, help="folder for each command's stdout/stderr (default: none kept)")
    args = parser.parse_args(argv)

    commands = readme_commands(args.readme)
    if args.only:
        words = [word.strip() for word in args.only.split(",") if word.strip()]
        commands = [c for c in commands if any(word in c.text for word in words)]
    if args.skip:
        words = [word.strip() for word in args.skip.split(",") if word.strip()]
        commands = [c for c in commands if not any(word in c.text for word in words)]
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(ROOT / ".venv")
    gpu = _has_gpu()
    if args.log:
        args.log.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, command in enumerate(commands, start=1):
        if command.needs_cuda and not gpu:
            rows.append({"line": command.line, "command": command.text, "exit": "", "seconds": "",
                         "note": "not run: needs a CUDA machine (nvidia-smi finds no GPU)"})
            print(f"[{index}/{len(commands)}] skipped (no GPU): {command.text}", flush=True)
            continue
        print(f"[{index}/{len(commands)}] {command.text}", flush=True)
        began = time.perf_counter()
        result = subprocess.run(["bash", "-c", command.text], cwd=args.readme.parent, env=env,
                                capture_output=True, text=True)
        seconds = time.perf_counter() - began
        if args.log:
            (args.log / f"{index:02d}.out").write_text(result.stdout)
            (args.log / f"{index:02d}.err").write_text(result.stderr)
        tail = result.stderr.strip().splitlines()[-1:] if result.returncode else []
        rows.append({"line": command.line, "command": command.text, "exit": result.returncode,
                     "seconds": f"{seconds:.1f}", "note": tail[0][:200] if tail else ""})
        print(f"[{index}/{len(commands)}] exit {result.returncode} in {seconds:.1f} s", flush=True)
    print("\n| line | command | exit | wall (s) | note |\n|---|---|---|---|---|")
    for row in rows:
        text = row["command"] if len(row["command"]) <= 90 else row["command"][:87] + "..."
        print(f"| {row['line']} | `{text}` | {row['exit']} | {row['seconds']} | {row['note']} |")
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with args.csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["line", "command", "exit", "seconds", "note"])
            writer.writeheader()
            writer.writerows(rows)
    return 0 if all(row["exit"] in (0, "") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
