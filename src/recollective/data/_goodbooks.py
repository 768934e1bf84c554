"""goodbooks-10k (Zając, CC BY-SA 4.0): Goodreads ratings of 10,000 books, with authors and titles.

``ratings.csv`` (53,424 users, 5,976,479 ratings) or a sample of it with the same columns (``ratings_random.csv``:
user_id, book_id, rating 1–5), and ``books.csv`` (book_id, title, authors as comma-separated names, ...). The
ratings have no timestamps, but their rows are "sorted by time" (the dataset's README), so each row's position
is kept as ``Interactions.order``.
"""

from __future__ import annotations

from pathlib import Path

from recollective.data._interactions import Interactions
from recollective.data._items import read_item_table
from recollective.data._tabular import TableSpec, read_delimited
from recollective.data._validation import LoadResult
from recollective.errors import DataError

__all__ = ["GOODBOOKS_RATINGS_FILES", "load_goodbooks", "read_goodbooks", "split_authors"]

GOODBOOKS_RATINGS_FILES = ("ratings.csv", "ratings_random.csv")


def split_authors(authors: str | None) -> list[str]:
    """``"J.K. Rowling, Mary GrandPré"`` -> ``["J.K. Rowling", "Mary GrandPré"]``."""
    return [name.strip() for name in (authors or "").split(",") if name.strip()]


def read_goodbooks(
    path,
    *,
    books_path=None,
    catalogue: bool = False,
    duplicates: str = "error",
    skip_bad_lines: bool = False,
) -> LoadResult:
    """Read goodbooks-10k ratings with book metadata.

    Parameters
    ----------
    path : path-like
        The dataset folder (``ratings.csv`` is used if present, else ``ratings_random.csv``) or a ratings file.
    books_path : path-like, optional
        ``books.csv``; by default the one beside the ratings, when present. Item metadata then holds ``title``,
        ``authors`` (as in the file) and ``primary_author`` (the first of them).
    catalogue : bool
        Make every book of ``books.csv`` an item, rated or not (default: the rated books only).
    duplicates : {"error", "last", "max"}
    skip_bad_lines : bool
    """
    path = Path(path)
    if path.is_dir():
        ratings = next((path / name for name in GOODBOOKS_RATINGS_FILES if (path / name).is_file()), None)
        if ratings is None:
            raise DataError(
                f"{path}: no goodbooks-10k ratings file here (expected {' or '.join(GOODBOOKS_RATINGS_FILES)})"
            )
    else:
        ratings = path
    if books_path is None and (ratings.parent / "books.csv").is_file():
        books_path = ratings.parent / "books.csv"
    if catalogue and books_path is None:
        raise DataError(f"{ratings}: catalogue=True (--catalogue) needs books.csv; none beside the ratings")
    spec = TableSpec(
        user_col="user_id",
        item_col="book_id",
        rating_col="rating",
        rating_range=(1, 5),
        duplicates=duplicates,
        skip_bad_lines=skip_bad_lines,
        order_by_position=True,
    ).checked()
    options = {}
    if books_path is not None:
        books = read_item_table(Path(books_path), "book_id", ["title", "authors"])
        options["item_metadata"] = books.metadata(
            {
                "title": lambda row: row["title"],
                "authors": lambda row: row["authors"],
                "primary_author": lambda row: (split_authors(row["authors"]) or [None])[0],
            }
        )
        if catalogue:
            options["item_vocabulary"] = lambda rated: books.ids
    return read_delimited(ratings, spec, "goodbooks", **options)


def load_goodbooks(path, **options) -> Interactions:
    """:func:`read_goodbooks`'s interactions alone."""
    return read_goodbooks(path, **options).interactions
