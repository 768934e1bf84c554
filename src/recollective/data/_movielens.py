"""MovieLens (GroupLens; Harper & Konstan 2015) in its three layouts.

* ml-latest-small, ml-latest, ml-20m, ml-25m, ml-32m: ``ratings.csv`` (userId, movieId, rating, timestamp, a
  header line) and ``movies.csv`` (movieId, title, genres).
* ml-1m, ml-10m: ``ratings.dat`` (``UserID::MovieID::Rating::Timestamp``, no header) and ``movies.dat``
  (``MovieID::Title::Genres``; ml-1m's is Latin-1).
* ml-100k: ``u.data`` (tab-separated user, item, rating, timestamp) and ``u.item`` (``|``-separated, Latin-1:
  id, title, release date, ...).

Ratings lie in [0.5, 5] (half stars in the newer sets); the timestamp (Unix seconds) is kept as
``Interactions.order``; titles (and genres where given) become item metadata.
"""

from __future__ import annotations

from pathlib import Path

from recollective.data._interactions import Interactions
from recollective.data._items import read_item_table
from recollective.data._tabular import TableSpec, read_delimited
from recollective.data._validation import LoadResult
from recollective.errors import DataError

__all__ = ["MOVIELENS_LAYOUTS", "load_movielens", "read_movielens"]

# ratings file -> (separator, column names or None for a header line, movies file, its reader options)
MOVIELENS_LAYOUTS = {
    "ratings.csv": (",", None, "movies.csv"),
    "ratings.dat": ("::", ("user_id", "item_id", "rating", "timestamp"), "movies.dat"),
    "u.data": ("\t", ("user_id", "item_id", "rating", "timestamp"), "u.item"),
}


def read_movielens(
    path,
    *,
    catalogue: bool = False,
    duplicates: str = "error",
    skip_bad_lines: bool = False,
) -> LoadResult:
    """Read a MovieLens ratings file (or the folder holding one) with its movie titles.

    Parameters
    ----------
    path : path-like
        A folder with ``ratings.csv``, ``ratings.dat`` or ``u.data``, or one of those files.
    catalogue : bool
        Make every movie of the movies file an item, rated or not (default: the rated movies only).
    duplicates : {"error", "last", "max"}
    skip_bad_lines : bool
    """
    path = Path(path)
    if path.is_dir():
        ratings = next((path / name for name in MOVIELENS_LAYOUTS if (path / name).is_file()), None)
        if ratings is None:
            names = ", ".join(MOVIELENS_LAYOUTS)
            raise DataError(f"{path}: no MovieLens ratings file here (expected one of {names})")
    else:
        ratings = path
    if ratings.name not in MOVIELENS_LAYOUTS:
        raise DataError(
            f"{ratings}: not a MovieLens ratings file name (expected {', '.join(MOVIELENS_LAYOUTS)}); "
            "for another file use --format csv with --user-col, --item-col, --rating-col"
        )
    sep, names, movies_name = MOVIELENS_LAYOUTS[ratings.name]
    spec = TableSpec(
        user_col="userId" if names is None else "user_id",
        item_col="movieId" if names is None else "item_id",
        rating_col="rating",
        order_col="timestamp",
        sep=sep,
        names=names,
        rating_range=(0.5, 5),
        duplicates=duplicates,
        skip_bad_lines=skip_bad_lines,
    ).checked()
    options = {}
    movies_path = ratings.parent / movies_name
    if movies_path.is_file():
        movies = _read_movies(movies_path)
        columns = {"title": lambda row: row["title"]}
        if movies_name != "u.item":
            columns["genres"] = lambda row: row["genres"]
        options["item_metadata"] = movies.metadata(columns)
        if catalogue:
            options["item_vocabulary"] = lambda rated: movies.ids
    elif catalogue:
        raise DataError(f"{ratings}: catalogue=True (--catalogue) needs {movies_name} beside the ratings; none found")
    return read_delimited(ratings, spec, "movielens", **options)


def load_movielens(path, **options) -> Interactions:
    """:func:`read_movielens`'s interactions alone."""
    return read_movielens(path, **options).interactions


def _read_movies(path: Path):
    if path.name == "movies.csv":
        return read_item_table(path, "movieId", ["title", "genres"])
    if path.name == "movies.dat":
        try:
            return read_item_table(path, "item_id", ["title", "genres"], sep="::", names=["item_id", "title", "genres"])
        except DataError as exc:
            if "not valid utf-8" not in str(exc):
                raise
            return read_item_table(
                path, "item_id", ["title", "genres"], sep="::", encoding="latin-1", names=["item_id", "title", "genres"]
            )
    names = ["item_id", "title", "release_date", "video_release_date", "url"]
    return read_item_table(path, "item_id", ["title"], sep="|", encoding="latin-1", names=names)
