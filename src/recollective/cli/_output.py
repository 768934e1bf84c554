"""Output sinks of the CLI: one JSON document on stdout, or Rich tables; errors as one line on stderr."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
import warnings
from collections.abc import Callable

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from recollective._jsonable import to_jsonable
from recollective.errors import RecollectiveError, plain_message, unknown_name

__all__ = [
    "OneLineUsageErrors",
    "before_after_table",
    "console",
    "emit_json",
    "err_console",
    "fmt",
    "handles_errors",
    "parse_index_list",
    "render",
    "short_indices",
    "to_jsonable",
]

# Wide enough for the window table when stdout is a file or a pipe (Rich would assume 80 columns). No markup: every
# string printed (table cells and titles included) is shown as it is, so a dataset string such as an author
# "[bold]Bo[/bold]ld" or an id "[/]" is never read as Rich markup. Spinner and progress texts are parsed as markup
# by Rich itself: pass dataset strings there through rich.markup.escape.
console = Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, markup=False, width=None if sys.stderr.isatty() else 160)


def emit_json(document: dict) -> None:
    """Print exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(document), allow_nan=False, sort_keys=True) + "\n")
    sys.stdout.flush()


_ERROR_LINE = 1_000  # characters; messages quote at most ~200 of a value, this is the net under every other path


def _readable(message: str) -> str:
    """The message, its middle cut when it is longer than an error line should be (the start says where, the end
    what to do)."""
    if len(message) <= _ERROR_LINE:
        return message
    return f"{message[:700]} ... ({len(message) - 950:,} characters cut) ... {message[-250:]}"


def before_after_table(result: dict, rows) -> Table:
    """A Rich table of ``result[key + "_before"]`` and ``result[key + "_after"]`` for each ``(label, key)``."""
    table = Table(title=f"before / after (K={result['k']})")
    for column in ("quantity", "before", "after"):
        table.add_column(column, justify="left" if column == "quantity" else "right")
    for label, key in rows:
        table.add_row(label, fmt(result.get(f"{key}_before")), fmt(result.get(f"{key}_after")))
    return table


def render(document: dict, json_out: bool, show: Callable[[dict], None]) -> None:
    """The output sink: ``document`` as one JSON document on stdout with ``--json``, else ``show(document)``."""
    if json_out:
        emit_json(document)
    else:
        show(document)


def handles_errors(command: Callable) -> Callable:
    """Turn RecollectiveError (and OS errors such as a denied permission) into one ``error: ...`` line on stderr
    and exit status 2 (traceback with RECOLLECTIVE_DEBUG=1). Warnings raised on the way (an undefined metric, a
    library's notice) become one ``warning: ...`` line each after a command that succeeds, never Python's
    two-line ``file:line: Category: ...`` form; after an error only the error line is printed."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings(record=True) as caught:
                result = command(*args, **kwargs)
            for message in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
                err_console.print(f"warning: {_readable(message)}", markup=False, soft_wrap=True)
            return result
        except RecollectiveError as exc:
            if os.environ.get("RECOLLECTIVE_DEBUG"):
                raise
            message = _readable(" ".join(str(exc).split()))
            err_console.print(f"error: {message}", markup=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except OSError as exc:  # permissions, full disk, a folder where a file was expected
            if os.environ.get("RECOLLECTIVE_DEBUG"):
                raise
            where = f" {exc.filename}" if exc.filename else ""
            err_console.print(
                f"error: cannot access{where}: {exc.strerror or exc}; check the path and its permissions",
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(2) from None

    return wrapper


# Click's usage errors (a missing or unknown option, a bad value); found through BadParameter because Typer vendors
# its own copy of Click from 0.2x on and uses Click itself before.
_USAGE_ERROR = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError")
_NOT_ONE_OF = re.compile(r"(?P<value>'.*') is not one of (?P<choices>'.*')\.?$", re.DOTALL)
# what a value of these flags is called in "unknown <noun> 'x'" (otherwise the flag's name)
_CHOICE_NOUNS = {"--duplicates": "duplicates policy", "--split": "split method"}


def usage_message(error) -> str:
    """One line for a Click usage error: a value outside an option's choices as ``unknown model 'eaze'; did you
    mean 'ease'? (choices: ...)``, any other without a library's prefix (pydantic's ``Value error, ``), followed by
    where to find the usage."""
    import ast

    message = " ".join(plain_message(str(getattr(error, "message", "") or error)).split())
    param = getattr(error, "param", None)
    choice = _NOT_ONE_OF.match(message)
    if choice and param is not None and getattr(param, "opts", None):
        flag = max(param.opts, key=len)
        noun = _CHOICE_NOUNS.get(flag, flag.lstrip("-").replace("-", " "))
        with contextlib.suppress(ValueError, SyntaxError):  # not Python literals after all: the plain message
            choices = [ast.literal_eval(c) for c in re.findall(r"'(?:[^'\\]|\\.)*'", choice["choices"])]
            return unknown_name(noun, ast.literal_eval(choice["value"]), choices)
    if message.startswith("unknown "):  # our own parsers' unknown_name messages
        return message
    line = _pydantic_line(error, param) or " ".join(plain_message(error.format_message()).split())
    ctx = getattr(error, "ctx", None)
    if ctx is not None:
        line += f" (usage: {ctx.command_path} --help)"
    return line


def _pydantic_line(error, param) -> str | None:
    """``--k must be a valid integer; got 'abc'`` for a value Typer checked with pydantic (its ValidationError is
    the cause), else None."""
    cause = error.__cause__
    if param is None or not getattr(param, "opts", None) or not callable(getattr(cause, "errors", None)):
        return None
    try:
        first = cause.errors()[0]
    except (IndexError, TypeError):
        return None
    text = plain_message(str(first.get("msg", "")))
    text = re.sub(r"^Input should be ", "must be ", text)
    text = re.sub(r", unable to parse .*$", "", text)
    return f"{max(param.opts, key=len)} {text}; got {first.get('input')!r}"


@contextlib.contextmanager
def _one_line_usage_errors():
    try:
        yield
    except _USAGE_ERROR as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # no arguments: Click prints the help
            raise
        err_console.print(f"error: {_readable(usage_message(error))}", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None


class OneLineUsageErrors(TyperGroup):
    """The root command group: a usage error anywhere below it (an unknown command or option, a missing option, a
    value of the wrong type or outside its choices) is one ``error: ...`` line on stderr and exit status 2, as
    library errors are (:func:`handles_errors`), instead of Click's usage block and framed message."""

    def make_context(self, *args, **kwargs):
        with _one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _one_line_usage_errors():
            return super().invoke(ctx)


def parse_index_list(text: str, option: str) -> list[int]:
    """Parse "0,1,2" or "0-4,7" into a list of ints; raise InvalidParameterError naming the option."""
    from recollective.errors import InvalidParameterError

    indices: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            if "-" in part[1:]:
                first, last = part.split("-", 1) if not part.startswith("-") else (part, "")
                indices.extend(range(int(first), int(last) + 1))
            else:
                indices.append(int(part))
        except ValueError:
            raise InvalidParameterError(
                f"{option}: {part!r} is not an index or a range like 3-7; give comma-separated integers"
            ) from None
    if not indices:
        raise InvalidParameterError(f"{option} is empty; give comma-separated integer indices such as 0,1,2")
    return indices


def short_indices(indices) -> str:
    """Indices for a human: all of them when few, a range when contiguous, else the first few and a count."""
    values = [int(i) for i in indices]
    if not values:
        return "none"
    if len(values) <= 8:
        return ",".join(map(str, values))
    if values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]} ({len(values)} indices)"
    return ",".join(map(str, values[:6])) + f",... ({len(values)} indices)"


def fmt(value, spec: str = ".4g") -> str:
    """A number for a table cell: ``–`` for None and NaN, else ``format(value, spec)`` (``".1%"``, ``".3f"``)."""
    return "–" if value is None or value != value else format(value, spec)
