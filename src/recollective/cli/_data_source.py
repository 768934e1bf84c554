"""The data-source flag family: ``--data PATH`` (or a ``PATH`` argument) plus the data layer's flags, declared once.

Every command that reads interactions takes the same flags (``--format``, ``--sep``, ``--encoding``,
``--user-col``, ...) with the same types and help. A command declares ``source: DataSource`` and is decorated with
:func:`with_data_options`, which puts the flags where ``source`` stands in the signature and hands the command one
:class:`DataSource`; ``source.load()`` reads the file through :func:`recollective.data.read_interactions`.

To add a data flag: add one row to ``DATA_FLAGS`` (its type, flag, help, the keyword of ``read_interactions`` it
feeds and, when the text needs it, a conversion and a default). Nothing else changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from recollective.cli._options import REQUIRED, option_group
from recollective.errors import InvalidParameterError

__all__ = [
    "DATA_FLAGS",
    "DataFormat",
    "DataSource",
    "Duplicates",
    "Signal",
    "data_flags",
    "load_any",
    "source_from_flags",
    "with_data_options",
]


class DataFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"
    goodreads = "goodreads"
    goodbooks = "goodbooks"
    movielens = "movielens"


class Duplicates(StrEnum):
    error = "error"
    last = "last"
    max = "max"


class Signal(StrEnum):
    rating = "rating"
    read = "read"
    shelved = "shelved"


DataOpt = Annotated[
    Path, typer.Option("--data", help="Interactions file (CSV, TSV, Parquet) or a goodbooks-10k / MovieLens folder.")
]
PathArg = Annotated[Path, typer.Argument(help="The data file (or a goodbooks-10k / MovieLens folder).")]


def _separator(text: str | None) -> str | None:
    if text is None:
        return None
    return {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(text, text)


def _rating_range(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise InvalidParameterError(f"--rating-range must be two numbers like 1,5; got {text!r}") from None
    return low, high


def _names(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(n.strip() for n in text.split(","))


def _enum_value(value):
    return getattr(value, "value", value)


def _same(value):
    return value


@dataclass(frozen=True)
class DataFlag:
    """One data flag: its ``Annotated`` type for Typer, its default, the :func:`~recollective.data.read_interactions`
    keyword it feeds, and how the command-line value becomes that keyword's value."""

    option: Any
    default: Any
    keyword: str
    convert: Callable[[Any], Any] = field(default=_same)


def _flag(kind, flag: str, help: str, keyword: str, convert=_same, default=None) -> DataFlag:
    return DataFlag(Annotated[kind, typer.Option(flag, help=help)], default, keyword, convert)


_DUPLICATES_HELP = (
    "Rows repeating a (user, item) pair with another value: error, keep the last (latest), or the max. Exact "
    "duplicate rows are always dropped. Default: last for inspect, error elsewhere."
)
_SIGNAL_HELP = (
    "goodreads: what an interaction is: rating (rating > 0, explicit), read (is_read, implicit) or shelved (every "
    "line, implicit). Default rating."
)

# Command parameter name -> flag, in the order of --help. One row per flag: nothing else declares them.
DATA_FLAGS: dict[str, DataFlag] = {
    "data_format": _flag(
        DataFormat | None, "--format",
        "File format; default: from the name (.csv, .tsv, .parquet, .json[.gz], folders).", "format", _enum_value,
    ),
    "sep": _flag(str | None, "--sep", "Field separator of csv / tsv (',', ';', '\\t', '::').", "sep", _separator),
    "encoding": _flag(str | None, "--encoding", "Text encoding of csv / tsv (default utf-8).", "encoding"),
    "user_col": _flag(str | None, "--user-col", "Column of user ids (default user_id).", "user_col"),
    "item_col": _flag(str | None, "--item-col", "Column of item ids (default item_id).", "item_col"),
    "rating_col": _flag(
        str | None, "--rating-col", "Column of ratings; without it every interaction is 1 (implicit).", "rating_col"
    ),
    "order_col": _flag(str | None, "--order-col", "Column of timestamps or positions.", "order_col"),
    "names": _flag(
        str | None, "--names", "Column names of a file without a header line, e.g. user,item,rating.", "names",
        _names,
    ),
    "rating_range": _flag(
        str | None, "--rating-range", "Inclusive range ratings must lie in, e.g. 1,5.", "rating_range", _rating_range
    ),
    "duplicates": _flag(Duplicates | None, "--duplicates", _DUPLICATES_HELP, "duplicates", _enum_value),
    "skip_bad_lines": _flag(
        bool, "--skip-bad-lines", "Skip and count malformed lines instead of failing on the first.", "skip_bad_lines",
        default=False,
    ),
    "signal": _flag(Signal | None, "--signal", _SIGNAL_HELP, "signal", _enum_value),
    "order_field": _flag(
        str | None, "--order-field", "goodreads: date kept as the order (date_added, read_at, ..., or none).", "order"
    ),
    "books": _flag(
        Path | None, "--books", "goodreads: books JSON; goodbooks: books.csv (default: beside).", "books_path"
    ),
    "authors": _flag(Path | None, "--authors", "goodreads: authors JSON (names of authors).", "authors_path"),
    "items": _flag(
        Path | None, "--items", "csv / tsv / parquet: items table (item id, title, authors, ...).", "items_path"
    ),
    "catalogue": _flag(
        bool, "--catalogue", "goodbooks / movielens: every catalogued item, rated or not.", "catalogue", default=False
    ),
}


@dataclass(frozen=True)
class DataSource:
    """Where the data is and how to read it (the data flags as given on the command line, by parameter name)."""

    path: Path
    options: dict
    default_duplicates: str = "error"

    def load(self):
        """The :class:`recollective.data.LoadResult` (raises ``DataError`` naming the file on bad input)."""
        from recollective.cli._output import err_console
        from recollective.data import read_interactions

        keywords = {
            flag.keyword: flag.convert(self.options.get(name, flag.default)) for name, flag in DATA_FLAGS.items()
        }
        keywords["duplicates"] = keywords["duplicates"] or self.default_duplicates
        from rich.markup import escape

        with err_console.status(f"loading {escape(str(self.path))}"):  # a spinner's text is Rich markup
            return read_interactions(self.path, keywords.pop("format"), **keywords)


def data_flags(where: str = "data") -> dict:
    """The data family as ``option_group`` flags: ``--data`` (``where="data"``) or a ``PATH`` argument
    (``where="path"``), then every row of ``DATA_FLAGS``."""
    flags = {where: (PathArg if where == "path" else DataOpt, REQUIRED)}
    flags.update({name: (flag.option, flag.default) for name, flag in DATA_FLAGS.items()})
    return flags


def source_from_flags(values: dict, where: str = "data", default_duplicates: str = "error") -> DataSource:
    """The :class:`DataSource` of the data family's values (by parameter name)."""
    options = {name: value for name, value in values.items() if name != where}
    return DataSource(values[where], options, default_duplicates)


def with_data_options(command=None, *, argument: bool = False, default_duplicates: str = "error"):
    """Decorate a command taking ``source: DataSource`` so that Typer sees ``--data`` and the data flags (listed
    last) or, with ``argument=True``, a ``PATH`` argument first and the data flags where ``source`` stands;
    ``--duplicates`` defaults to ``default_duplicates``.

    Usable bare (``@with_data_options``) or with keywords (``@with_data_options(argument=True)``).
    """
    where = "path" if argument else "data"
    flags = data_flags(where)
    decorate = option_group(
        "source",
        flags,
        functools.partial(source_from_flags, where=where, default_duplicates=default_duplicates),
        first=(where,) if argument else (),
        last=() if argument else tuple(flags),
    )
    return decorate if command is None else decorate(command)


def load_any(path: Path, format=None, **options):
    """Load data given the data flags as keyword options (``format`` as a string or :class:`DataFormat`; the
    other names as the command parameters of ``DATA_FLAGS``) with the same rules as every command."""
    return DataSource(Path(path), {"data_format": format, **options}).load()
