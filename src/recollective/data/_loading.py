"""One entry point for every format: ``read_interactions(path, format, **options)``."""

from __future__ import annotations

from pathlib import Path

from recollective.data._goodbooks import GOODBOOKS_RATINGS_FILES, read_goodbooks
from recollective.data._goodreads import read_goodreads
from recollective.data._interactions import Interactions
from recollective.data._movielens import MOVIELENS_LAYOUTS, read_movielens
from recollective.data._tabular import FORMATS_BY_SUFFIX, TableSpec, read_table
from recollective.data._validation import LoadResult
from recollective.errors import DataError, InvalidParameterError

__all__ = ["FORMATS", "detect_format", "load_interactions", "read_interactions"]

FORMATS = ("csv", "tsv", "parquet", "goodreads", "goodbooks", "movielens")
_TABLE_OPTIONS = {name for name in TableSpec.__dataclass_fields__ if name != "order_by_position"} | {"items_path"}
_TABLE_FORMATS = ("csv", "tsv", "parquet")
# options only the generic readers take: one of them given without --format means the file is a plain table
_TABLE_ONLY = _TABLE_OPTIONS - {"duplicates", "skip_bad_lines"}
# keyword -> CLI flag where the two are not spelled alike
_FLAG_SPELLING = {"books_path": "books", "authors_path": "authors", "items_path": "items", "order": "order_field"}
# the options each format takes (keyword names; the CLI spells them with dashes)
FORMAT_OPTIONS = {
    "csv": _TABLE_OPTIONS,
    "tsv": _TABLE_OPTIONS,
    "parquet": _TABLE_OPTIONS - {"sep", "encoding", "names"},
    "goodreads": {"signal", "order", "books_path", "authors_path", "duplicates", "skip_bad_lines"},
    "goodbooks": {"books_path", "catalogue", "duplicates", "skip_bad_lines"},
    "movielens": {"catalogue", "duplicates", "skip_bad_lines"},
}


def detect_format(path) -> str:
    """The format of ``path`` from its name and, for folders and ratings.csv, what lies beside it."""
    path = Path(path)
    if path.is_dir():
        if any((path / name).is_file() for name in MOVIELENS_LAYOUTS) and not (path / "books.csv").is_file():
            return "movielens"
        if any((path / name).is_file() for name in GOODBOOKS_RATINGS_FILES):
            return "goodbooks"
        raise DataError(
            f"{path}: a folder that is neither MovieLens ({', '.join(MOVIELENS_LAYOUTS)}) nor goodbooks-10k "
            f"({' or '.join(GOODBOOKS_RATINGS_FILES)}); give the data file and --format"
        )
    name = path.name.lower()
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if name in ("ratings.dat", "u.data") or (name == "ratings.csv" and (path.parent / "movies.csv").is_file()):
        return "movielens"
    if name in GOODBOOKS_RATINGS_FILES and (path.parent / "books.csv").is_file():
        return "goodbooks"
    if suffixes and suffixes[-1] in (".json", ".jsonl", ".ndjson"):
        return "goodreads"
    return FORMATS_BY_SUFFIX.get(suffixes[-1] if suffixes else "", "csv")


def read_interactions(path, format: str | None = None, **options) -> LoadResult:
    """Read interactions in any supported format; ``options`` are the format's keyword options.

    Formats and their options (see :func:`read_table`, :func:`read_goodreads`, :func:`read_goodbooks`,
    :func:`read_movielens`): csv / tsv / parquet take a column mapping (``user_col``, ``item_col``,
    ``rating_col``, ``order_col``) and ``sep``, ``encoding``, ``names``, ``rating_range``, ``id_type``,
    ``items_path``; goodreads takes ``signal``, ``order``, ``books_path``, ``authors_path``; goodbooks
    ``books_path``, ``catalogue``; movielens ``catalogue``; all take ``duplicates`` and ``skip_bad_lines``.
    Options left at None (or False) are ignored, so a caller can pass every option it has.
    """
    given = {name: value for name, value in options.items() if value is not None and value is not False}
    why = ""
    if format is None:
        format, why = _detected_format(path, given)
    if format not in FORMATS:
        raise InvalidParameterError(f"format must be one of {', '.join(FORMATS)} (--format); got {format!r}")
    unknown = set(given) - FORMAT_OPTIONS[format]
    if unknown and not why and format not in _TABLE_FORMATS and unknown & _TABLE_ONLY:
        why = "; leave --format out (or give --format csv) to read the file as a plain table with these columns"
    if unknown:
        raise InvalidParameterError(f"{_flag_names(unknown)} {_apply(unknown)} to --format {format}{why}")
    if format in ("csv", "tsv", "parquet"):
        return read_table(path, format, **given)
    if format == "goodreads":
        return read_goodreads(path, **given)
    if format == "goodbooks":
        return read_goodbooks(path, **given)
    return read_movielens(path, **given)


def _detected_format(path, given: dict) -> tuple[str, str]:
    """(format, why) of a read without ``format``: the name decides (:func:`detect_format`), except that a column
    option (``user_col``, ``sep``, ...) on a file named like a dataset (goodbooks-10k's ``ratings.csv``, MovieLens's
    ``ratings.csv``) selects the generic reader of its suffix, since the flags describe a plain table; ``why`` is
    what an error about the options adds."""
    detected = detect_format(path)
    table_only = set(given) & _TABLE_ONLY
    if detected in _TABLE_FORMATS or not table_only:
        return detected, ""
    path = Path(path)
    table = _table_format(path)
    if table is None:  # a folder or a JSON file: no table to read
        where = "a folder" if path.is_dir() else "a JSON file"
        return detected, (
            f" ({path.name} is {where}, read as {detected}; give the interactions file itself, or --format with "
            "the reader that fits)"
        )
    flags = _flag_names(table_only)
    return table, f" (read as {table} because {flags} {'was' if len(table_only) == 1 else 'were'} given)"


def _table_format(path: Path) -> str | None:
    """csv, tsv or parquet by the suffix of a file (``.gz`` ignored; csv by default); None for a folder or JSON."""
    if path.is_dir():
        return None
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in (".json", ".jsonl", ".ndjson"):
        return None
    return FORMATS_BY_SUFFIX.get(suffixes[-1] if suffixes else "", "csv")


def _flag_names(names) -> str:
    return ", ".join("--" + _FLAG_SPELLING.get(name, name).replace("_", "-") for name in sorted(names))


def _apply(names) -> str:
    return "does not apply" if len(names) == 1 else "do not apply"


def load_interactions(path, format: str | None = None, **options) -> Interactions:
    """:func:`read_interactions`'s interactions alone."""
    return read_interactions(path, format, **options).interactions
