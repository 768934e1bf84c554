"""``--data PATH`` plus the data layer's generic-file flags, added to any command by one decorator.

``@with_data_options`` appends the options of ``recollective data inspect`` (``--format``, ``--sep``,
``--user-col``, ...) and a required ``--data`` to a command's signature, and hands the command one
:class:`DataSource` instead; ``source.load()`` reads the file with the same rules as ``data inspect``.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from recollective.cli import data as data_cli

__all__ = ["DataSource", "with_data_options"]

DataOpt = Annotated[
    Path, typer.Option("--data", help="Interactions file (CSV, TSV, Parquet) or a goodbooks-10k / MovieLens folder.")
]

_FLAGS = {
    "data_format": (data_cli.FormatOpt, None),
    "sep": (data_cli.SepOpt, None),
    "encoding": (data_cli.EncodingOpt, None),
    "user_col": (data_cli.UserColOpt, None),
    "item_col": (data_cli.ItemColOpt, None),
    "rating_col": (data_cli.RatingColOpt, None),
    "order_col": (data_cli.OrderColOpt, None),
    "names": (data_cli.NamesOpt, None),
    "rating_range": (data_cli.RatingRangeOpt, None),
    "duplicates": (data_cli.DuplicatesOpt, None),
    "skip_bad_lines": (data_cli.SkipBadLinesOpt, False),
    "signal": (data_cli.SignalOpt, None),
    "order_field": (data_cli.OrderFieldOpt, None),
    "books": (data_cli.BooksOpt, None),
    "authors": (data_cli.AuthorsOpt, None),
    "items": (data_cli.ItemsOpt, None),
    "catalogue": (data_cli.CatalogueOpt, False),
}


@dataclass(frozen=True)
class DataSource:
    """Where the data is and how to read it (the options as given on the command line)."""

    path: Path
    options: dict

    def load(self):
        """The :class:`recollective.data.LoadResult` (raises ``DataError`` naming the file on bad input)."""
        from recollective.cli._output import err_console

        options = dict(self.options)
        data_format = options.pop("data_format")
        with err_console.status(f"loading {self.path}"):
            return data_cli.load_data(self.path, data_format, **options)


def with_data_options(command):
    """Decorate a command taking ``source: DataSource`` so that Typer sees ``--data`` and the data flags instead."""
    signature = inspect.signature(command, eval_str=True)
    kept = [p for name, p in signature.parameters.items() if name != "source"]
    added = [inspect.Parameter("data", inspect.Parameter.KEYWORD_ONLY, annotation=DataOpt)]
    added += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
        for name, (annotation, default) in _FLAGS.items()
    ]

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        path = kwargs.pop("data")
        options = {name: kwargs.pop(name, default) for name, (_, default) in _FLAGS.items()}
        return command(*args, source=DataSource(path, options), **kwargs)

    wrapper.__signature__ = signature.replace(
        parameters=[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in kept] + added
    )
    wrapper.__annotations__ = {p.name: p.annotation for p in wrapper.__signature__.parameters.values()}
    return wrapper
