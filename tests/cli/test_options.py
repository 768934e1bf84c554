"""Each shared flag is declared once: wherever a command takes it, it has the same type, default and help."""

from collections import defaultdict

import pytest
import typer

from recollective.cli import app
from recollective.cli._data_source import DATA_FLAGS

# The families of cli/_options.py and cli/_data_source.py (--k, --param and --seed also name other things
# elsewhere: the popularity baseline's list length in data targets, a detector's hyper-parameter, a survey seed).
# `campaign sweep --data` is not the family's: it replaces the data path of a config that holds the data options.
CONFIG_OVERRIDES = {"campaign sweep"}
FAMILY_FLAGS = {"--data", "--split", "--test-fraction", "--k-core-users", "--k-core-items", "--model",
                "--relevance-threshold", "--json"}


def _commands(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def _declarations() -> dict[str, dict[tuple, list[str]]]:
    """flag -> (annotation, help, bounds) -> the commands that declare it so."""
    found = defaultdict(lambda: defaultdict(list))
    for name, command in _commands(typer.main.get_command(app)):
        for param in command.params:
            for flag in param.opts:
                if name in CONFIG_OVERRIDES and flag == "--data":
                    continue
                kind = repr(param.type_descriptor.annotation)
                found[flag][(kind, param.help, param.min, param.max)].append(name)
    return found


DECLARATIONS = _declarations()


def test_the_data_flags_come_from_one_table():
    assert len(DATA_FLAGS) >= 17
    assert {"--format", "--sep", "--user-col", "--items", "--catalogue"} <= set(DECLARATIONS)


@pytest.mark.parametrize("flag", sorted(FAMILY_FLAGS | {"--format", "--sep", "--encoding", "--user-col",
                                                         "--item-col", "--rating-col", "--order-col", "--items",
                                                         "--duplicates", "--skip-bad-lines"}))
def test_a_shared_flag_is_declared_alike_everywhere(flag):
    variants = DECLARATIONS[flag]
    users = sorted(command for commands in variants.values() for command in commands)
    assert len(users) >= 2, f"{flag} is used by {users} only"
    assert len(variants) == 1, {key: commands for key, commands in variants.items()}


def test_every_command_that_reads_data_takes_every_data_flag():
    data_commands = {command for commands in DECLARATIONS["--data"].values() for command in commands}
    data_commands |= {"data inspect", "data convert", "data targets"}
    for flag in ("--format", "--sep", "--names", "--signal", "--catalogue"):
        takers = {command for commands in DECLARATIONS[flag].values() for command in commands}
        assert data_commands <= takers, (flag, data_commands - takers)
