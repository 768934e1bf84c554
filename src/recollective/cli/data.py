"""``recollective data ...``: inspect and convert interaction files (Goodreads, goodbooks-10k, MovieLens, any
CSV / TSV / Parquet with a column mapping).

Thin: each command turns its options into keyword options of :func:`recollective.data.read_interactions`
(imported inside the command so ``recollective --help`` stays fast), and renders. The data flags are the family
declared once in :mod:`recollective.cli._data_source`, shared by every command that takes data: the same flags
select a file everywhere. Loading validates everything before anything is written, so a bad file gives one
``error: ...`` line on stderr, exit status 2, and no output file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recollective.cli._data_source import DataFormat, DataSource, load_any, with_data_options
from recollective.cli._options import JsonOpt
from recollective.cli._output import console, emit_json, err_console, handles_errors
from recollective.errors import InvalidParameterError

__all__ = ["DataFormat", "data_app", "load_any"]

data_app = typer.Typer(
    help="Real interaction data: inspect a file (counts, density, popularity, ratings, authors) or convert it "
    "to Parquet. Formats: goodreads (UCSD JSON lines), goodbooks (goodbooks-10k), movielens, or any csv / tsv / "
    "parquet with --user-col / --item-col / --rating-col.",
    no_args_is_help=True,
)


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _note_load(result) -> None:
    """Warnings about what loading dropped, on stderr."""
    if result.n_bad_lines:
        err_console.print(f"note: skipped {result.n_bad_lines:,} malformed line(s) (--skip-bad-lines)", markup=False)
    if result.n_duplicate_rows:
        err_console.print(f"note: dropped {result.n_duplicate_rows:,} exact duplicate row(s)", markup=False)
    if result.n_conflicting_rows:
        err_console.print(
            f"note: {result.n_conflicting_rows:,} row(s) repeated a (user, item) pair with another value and "
            "gave way to the kept one (--duplicates)",
            markup=False,
        )


def _print_summary(summary: dict) -> None:
    overview = Table(title=f"{summary['path']} ({summary['format']})", show_header=False)
    overview.add_column("quantity")
    overview.add_column("value", justify="right")
    for key in ("n_users", "n_items", "n_interactions", "n_stored", "density"):
        overview.add_row(key, _fmt(summary[key]))
    for key in ("n_rows", "n_bad_lines", "n_filtered", "n_duplicate_rows", "n_conflicting_rows"):
        overview.add_row(key, _fmt(summary[key]))
    for who in ("per_user", "per_item"):
        spread = summary[who]
        overview.add_row(
            f"interactions {who.replace('_', ' ')}",
            f"min {_fmt(spread['min'])}, median {_fmt(spread['median'])}, mean {_fmt(spread['mean'])}, "
            f"max {_fmt(spread['max'])}",
        )
    popularity = summary["popularity"]
    overview.add_row("Gini of item counts", _fmt(popularity["gini"]))
    overview.add_row(f"share on top 1% items ({popularity['top_1pct_items']})", _fmt(popularity["top_1pct_share"]))
    overview.add_row("share on top 10% items", _fmt(popularity["top_10pct_share"]))
    overview.add_row("items holding half the interactions", _fmt(popularity["items_for_half"]))
    if summary["order"] is not None:
        overview.add_row("order range", f"{_fmt(summary['order']['min'])} .. {_fmt(summary['order']['max'])}")
    console.print(overview)
    ratings = summary["ratings"]
    if ratings is None:
        console.print("ratings: none (implicit data: every interaction is 1)")
    elif "counts" in ratings:
        table = Table(title=f"ratings (mean {_fmt(ratings['mean'])})")
        table.add_column("rating", justify="right")
        table.add_column("count", justify="right")
        table.add_column("share", justify="right")
        total = sum(ratings["counts"].values())
        for level, count in ratings["counts"].items():
            table.add_row(level, f"{count:,}", f"{count / total:.3f}")
        console.print(table)
    else:
        quantiles = ", ".join(f"q{float(q):g}={_fmt(v)}" for q, v in ratings["quantiles"].items())
        console.print(f"ratings: mean {_fmt(ratings['mean'])}; {quantiles}")
    authors = summary["authors"]
    if authors is not None:
        table = Table(
            title=f"top authors by interactions ({authors['n_authors']:,} authors; Gini {_fmt(authors['gini'])}, "
            f"top 1% hold {_fmt(authors['top_1pct_share'])})"
        )
        for column in ("author", "interactions", "items", "users"):
            table.add_column(column, justify="left" if column == "author" else "right")
        for row in authors["top"]:
            table.add_row(row["author"], f"{row['n_interactions']:,}", f"{row['n_items']:,}", f"{row['n_users']:,}")
        console.print(table)


@data_app.command("inspect")
@handles_errors
@with_data_options(argument=True, default_duplicates="last")
def inspect(
    source: DataSource,
    top: Annotated[int, typer.Option("--top", min=0, help="Authors listed in the author table.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """Counts, density, popularity concentration, ratings and (when known) the author table of a data file.

    n_interactions counts rows after exact duplicate rows are dropped, before any filtering; conflicting
    duplicates keep the last row (--duplicates) and are counted in n_conflicting_rows.
    """
    from recollective.data import describe

    result = source.load()
    summary = describe(result, top_authors=top)
    if json_out:
        emit_json(summary)
        return
    _note_load(result)
    _print_summary(summary)


@data_app.command("convert")
@handles_errors
@with_data_options(argument=True)
def convert(
    out: Annotated[Path, typer.Argument(help="Output .parquet (user_id, item_id, value[, order]).")],
    source: DataSource,
    json_out: JsonOpt = False,
) -> None:
    """Validate a data file and write it as Parquet (plus OUT.items.parquet with the item metadata, if any).

    The files are written to temporary names and renamed into place when complete; nothing is written when
    loading fails.
    """
    from recollective.data import write_interactions_parquet

    if not out.name.endswith(".parquet") or out.name.endswith(".items.parquet"):
        raise InvalidParameterError(f"OUT must end in .parquet (not .items.parquet); got {str(out)!r}")
    if out.is_dir():
        raise InvalidParameterError(f"OUT {str(out)!r} is a directory; give a file name")
    if not out.parent.is_dir():
        raise InvalidParameterError(f"OUT: the directory {str(out.parent)!r} does not exist; create it first")
    result = source.load()
    written = write_interactions_parquet(result.interactions, out)
    data = result.interactions
    document = {
        "path": result.path,
        "format": result.format,
        "written": [str(p) for p in written],
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_interactions": result.n_distinct_rows,
        "n_stored": data.n_interactions,
        "n_rows": result.n_rows,
        "n_bad_lines": result.n_bad_lines,
        "n_filtered": result.n_filtered,
        "n_duplicate_rows": result.n_duplicate_rows,
        "n_conflicting_rows": result.n_conflicting_rows,
        "has_order": data.order is not None,
        "item_metadata": sorted(data.item_metadata) if data.item_metadata is not None else [],
    }
    if json_out:
        emit_json(document)
        return
    _note_load(result)
    console.print(
        f"wrote {written[0]}: {data.n_interactions:,} interactions, {data.n_users:,} users x {data.n_items:,} items"
        + (" (with order)" if data.order is not None else ""),
        markup=False,
    )
    for extra in written[1:]:
        console.print(f"wrote {extra}: item metadata ({', '.join(document['item_metadata'])})", markup=False)
