"""The README's commands are true as written: every one states its time, every ``recollective`` command names a
real subcommand with real options, and the cheap ones (stated at 5 s or less) run and exit 0.

The commands are read by ``scripts/readme_commands.py`` (which also runs them all, in a clone, for the table of
times). Cheap commands run in-process, in order, from a temporary folder; ``../shared/data`` is the shared data
beside the checkout (skipped without it).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from recollective.cli import app

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("readme_commands", ROOT / "scripts" / "readme_commands.py")
readme_module = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("readme_commands", readme_module)
_SPEC.loader.exec_module(readme_module)

COMMANDS = readme_module.readme_commands(ROOT / "README.md")
RECOLLECTIVE = [command for command in COMMANDS if command.text.startswith("recollective ")]
CHEAP_SECONDS = 5.0


def _words(command) -> list[str]:
    return shlex.split(command.text)[1:]


def _resolve(words: list[str]):
    """The click command a word list names and the words after its path."""
    node = get_command(app)
    rest = list(words)
    while rest and rest[0] in getattr(node, "commands", {}):
        node = node.commands[rest.pop(0)]
    return node, rest


def test_the_readme_has_its_commands():
    assert [c.text for c in COMMANDS[:2]] == ["make demo", "make test"]  # the quick start, exactly two commands
    assert len(RECOLLECTIVE) >= 20


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"line{c.line}")
def test_every_command_states_its_time(command):
    assert command.stated_seconds is not None or command.needs_cuda, (
        f"README.md line {command.line}: the comment should end with the measured time, e.g. '(12 s)'"
    )


@pytest.mark.parametrize("command", RECOLLECTIVE, ids=lambda c: f"line{c.line}")
def test_every_option_exists(command):
    """The subcommand path exists and is a leaf command, and every ``--flag`` written is one of its options."""
    node, rest = _resolve(_words(command))
    assert not hasattr(node, "commands"), f"line {command.line}: {command.text!r} names no subcommand"
    options = {opt for param in node.params for opt in (*param.opts, *param.secondary_opts)}
    flags = [word.split("=")[0] for word in rest if word.startswith("--")]
    unknown = [flag for flag in flags if flag not in options]
    assert not unknown, f"line {command.line}: {unknown} are not options of {node.name!r}"


def _cheap_commands() -> list:
    """Commands stated at CHEAP_SECONDS or less, less those that read what a slower command writes (a path under
    the ``--out`` of a command that is not run)."""
    skipped_outputs, cheap = [], []
    for command in RECOLLECTIVE:
        words = _words(command)
        if command.stated_seconds is None or command.stated_seconds > CHEAP_SECONDS:
            skipped_outputs += [words[i + 1] for i, word in enumerate(words[:-1]) if word == "--out"]
        elif not any(word == out or word.startswith(out + "/") for word in words for out in skipped_outputs):
            cheap.append(command)
    return cheap


_CHEAP = _cheap_commands()


def test_cheap_commands_are_a_real_share():
    assert len(_CHEAP) >= 10


def test_cheap_commands_run_in_order(tmp_path, monkeypatch, shared_data):
    """Run every cheap command in README order (later ones read what earlier ones wrote) and expect exit 0."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "120")
    runner = CliRunner()
    for command in _CHEAP:
        words = [re.sub(r"^\.\./shared/data", str(shared_data), word) for word in _words(command)]
        result = runner.invoke(app, words)
        assert result.exit_code == 0, f"README.md line {command.line}: {command.text}\n{result.output}"
        assert result.output.strip(), f"README.md line {command.line} printed nothing"
    assert (tmp_path / "inst.npz").is_file()
