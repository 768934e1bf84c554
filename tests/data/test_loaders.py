"""Loaders: the shared real data with the counts their READMEs state, every format and option, and the corpus
of malformed files under malformed/ with the exact one-line error each must give."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import signal
import socket
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recollective.data import (
    Interactions,
    describe,
    detect_format,
    gini,
    load_goodbooks,
    load_movielens,
    read_goodbooks,
    read_goodreads,
    read_interactions,
    read_movielens,
    read_table,
    top_share,
    write_interactions_parquet,
)
from recollective.data._csv_exact import read_exact
from recollective.data._goodreads import DATE_FORMAT, _fixed_width_dates
from recollective.data._goodreads import _read_exact as goodreads_exact
from recollective.data._tabular import TableSpec, _read_fast
from recollective.data._text import read_header
from recollective.data._validation import NeedsExactPass, Source, assemble
from recollective.errors import DataError, InvalidParameterError

CORPUS = Path(__file__).parent / "malformed"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))
YOUNG_ADULT = "goodreads-ucsd-sample/goodreads_interactions_young_adult_sample.json"
CHILDREN = "goodreads-ucsd-sample/goodreads_interactions_children_sample.json"


def _same(a: Interactions, b: Interactions) -> None:
    assert a.users == b.users and a.items == b.items
    np.testing.assert_array_equal(a.matrix.indptr, b.matrix.indptr)
    np.testing.assert_array_equal(a.matrix.indices, b.matrix.indices)
    np.testing.assert_array_equal(a.matrix.data, b.matrix.data)
    assert (a.order is None) == (b.order is None)
    if a.order is not None:
        np.testing.assert_array_equal(a.order.data, b.order.data)


# ------------------------------------------------------------------------------------------ shared data
def test_goodbooks_sample_has_the_readme_counts(shared_data):
    result = read_goodbooks(shared_data / "goodbooks-10k")
    data = result.interactions
    assert result.path.endswith("ratings_random.csv")
    # README: 298,176 ratings, 2,672 users (24-197 ratings each, median 111), 9,990 distinct books, ratings 1-5
    assert (data.n_interactions, data.n_users, data.n_items) == (298_176, 2_672, 9_990)
    per_user = np.diff(data.matrix.indptr)
    assert (per_user.min(), int(np.median(per_user)), per_user.max()) == (24, 111, 197)
    assert set(np.unique(data.matrix.data)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert (result.n_bad_lines, result.n_duplicate_rows, result.n_conflicting_rows) == (0, 0, 0)
    # metadata from books.csv: book_id 1 is The Hunger Games, book 2 has two authors
    titles = dict(zip(data.items.ids.tolist(), data.item_metadata["title"].tolist(), strict=True))
    assert titles[1] == "The Hunger Games (The Hunger Games, #1)"
    at = data.items.number(2)
    assert data.item_metadata["authors"][at] == "J.K. Rowling, Mary GrandPré"
    assert data.item_metadata["primary_author"][at] == "J.K. Rowling"
    # order is the row position: user 58's first row (book 26) comes first in the file
    assert data.order[data.users.number(58), data.items.number(26)] == 0
    assert data.order.data.max() == 298_175


def test_goodbooks_catalogue_has_every_book(shared_data):
    data = load_goodbooks(shared_data / "goodbooks-10k", catalogue=True)
    assert (data.n_items, data.n_interactions) == (10_000, 298_176)
    assert int((np.bincount(data.matrix.indices, minlength=data.n_items) == 0).sum()) == 10


def test_movielens_latest_small_has_the_readme_counts(shared_data):
    result = read_movielens(shared_data / "movielens-latest-small")
    data = result.interactions
    # README: 100,836 ratings, 610 users, 9,742 movies (9,724 rated), half stars 0.5-5
    assert (data.n_interactions, data.n_users, data.n_items) == (100_836, 610, 9_724)
    assert np.unique(data.matrix.data).tolist() == [x / 2 for x in range(1, 11)]
    assert np.diff(data.matrix.indptr).min() == 20  # "All selected users had rated at least 20 movies"
    # first line: 1,1,4.0,964982703
    assert data.matrix[0, data.items.number(1)] == 4.0
    assert data.order[0, data.items.number(1)] == 964_982_703
    assert data.item_metadata["title"][data.items.number(1)] == "Toy Story (1995)"
    assert load_movielens(shared_data / "movielens-latest-small", catalogue=True).n_items == 9_742


@pytest.mark.parametrize(
    ("name", "signal", "counts"),
    [
        # README: rows, users, books; rating > 0; is_read (users and books of those rows counted here)
        (YOUNG_ADULT, "shelved", (5_000, 64, 3_555)),
        (YOUNG_ADULT, "rating", (1_456, 60, 914)),
        (YOUNG_ADULT, "read", (1_501, 62, 931)),
        (CHILDREN, "shelved", (5_000, 261, 2_856)),
        (CHILDREN, "rating", (3_778, 233, 2_249)),
        (CHILDREN, "read", (3_862, 235, 2_284)),
    ],
)
def test_goodreads_samples_have_the_readme_counts(shared_data, name, signal, counts):
    result = read_goodreads(shared_data / name, signal=signal)
    data = result.interactions
    assert (data.n_interactions, data.n_users, data.n_items) == counts
    assert result.n_rows == 5_000 and result.n_filtered == 5_000 - counts[0]
    assert data.items.ids.dtype == np.int64  # numeric book ids become integers, hex user ids stay strings
    assert isinstance(data.users.ids[0], str) and len(data.users.ids[0]) == 32
    expected_values = {1.0, 2.0, 3.0, 4.0, 5.0} if signal == "rating" else {1.0}
    assert set(np.unique(data.matrix.data)) == expected_values


def test_goodreads_first_line_is_read_exactly(shared_data):
    data = read_goodreads(shared_data / YOUNG_ADULT, signal="shelved").interactions
    # {"user_id": "8842281e...", "book_id": "18667753", ... "date_added": "Wed Mar 29 00:12:52 -0700 2017"}
    user, book = data.users.number("8842281e1d1347389f2ab93d60773d4d"), data.items.number(18667753)
    assert data.matrix[user, book] == 1.0
    assert data.order[user, book] == 1490771572  # 2017-03-29 07:12:52 UTC
    read_at = read_goodreads(shared_data / YOUNG_ADULT, signal="shelved", order="read_at").interactions
    assert np.isnan(read_at.order.data).sum() == 4194  # read_at is empty on 4,194 of the 5,000 lines


@pytest.mark.parametrize("signal", ["rating", "read", "shelved"])
def test_goodreads_fast_and_exact_paths_agree(shared_data, signal):
    path = shared_data / CHILDREN
    fast = read_goodreads(path, signal=signal).interactions
    exact = assemble(goodreads_exact(path, Source(str(path)), signal, "date_added", False), Source(str(path)), "x")
    _same(fast, exact.interactions)


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)),
    st.integers(-12 * 4, 14 * 4).map(lambda quarters: timedelta(minutes=15 * quarters)),
)
def test_fixed_width_goodreads_dates_agree_with_strptime(moment, offset):
    text = moment.replace(tzinfo=timezone(offset), microsecond=0).strftime(DATE_FORMAT)
    parsed = _fixed_width_dates(pa.array([text, ""]))
    assert parsed[0] == datetime.strptime(text, DATE_FORMAT).timestamp() and np.isnan(parsed[1])


def test_dates_outside_the_fixed_layout_go_to_the_general_parser():
    assert _fixed_width_dates(pa.array(["Thu Feb 30 23:59:59 +0530 2023"])) is None  # no such day
    assert _fixed_width_dates(pa.array(["Wed Mar 29 00:12:52 -0700 17"])) is None  # another width
    assert _fixed_width_dates(pa.array(["Wed Mxr 29 00:12:52 -0700 2017"])) is None  # no such month


def test_goodreads_reads_gzip_and_metadata(shared_data, tmp_path):
    source = shared_data / YOUNG_ADULT
    gz = tmp_path / "goodreads_interactions_young_adult.json.gz"
    gz.write_bytes(gzip.compress(source.read_bytes()))
    books = tmp_path / "books.json"
    books.write_text(
        json.dumps({"book_id": "18667753", "title": "Book One", "authors": [{"author_id": "7", "role": ""}]})
        + "\n"
        + json.dumps(
            {
                "book_id": "428263",
                "title": "Book Two",
                "authors": [{"author_id": "9", "role": "Illustrator"}, {"author_id": "8", "role": ""}],
            }
        )
        + "\n"
        + json.dumps({"book_id": "1", "title": "Not loaded", "authors": []})
        + "\n"
    )
    authors = tmp_path / "authors.json"
    authors.write_text('{"author_id": "7", "name": "Ann"}\n{"author_id": "8", "name": "Bo"}\n')
    result = read_interactions(gz, signal="shelved", books_path=books, authors_path=authors)
    plain = read_goodreads(source, signal="shelved").interactions
    _same(result.interactions, plain)
    data = result.interactions
    one, two = data.items.number(18667753), data.items.number(428263)
    assert data.item_metadata["title"][one] == "Book One" and data.item_metadata["primary_author"][one] == "Ann"
    assert data.item_metadata["authors"][two] == "9, Bo"  # author 9 has no name in authors.json
    assert data.item_metadata["primary_author"][two] == "Bo"  # the illustrator is not the primary author
    assert sum(t is not None for t in data.item_metadata["title"]) == 2


@pytest.mark.parametrize(
    ("relative", "spec"),
    [
        ("movielens-latest-small/ratings.csv", TableSpec("userId", "movieId", "rating", "timestamp")),
        ("goodbooks-10k/ratings_random.csv", TableSpec("user_id", "book_id", "rating")),
        ("goodbooks-10k/ratings_random.csv", TableSpec("user_id", "book_id", None, id_type="str")),
    ],
)
def test_csv_fast_and_exact_paths_agree(shared_data, relative, spec):
    path = shared_data / relative
    source = Source(str(path))
    names, header = read_header(path, ",", "utf-8", source)
    fast = assemble(_read_fast(path, spec, names, header, source), source, "csv", id_type=spec.id_type).interactions
    exact = assemble(read_exact(path, spec, names, header, source), source, "csv", id_type=spec.id_type)
    _same(fast, exact.interactions)
    assert fast.users.ids.dtype == (object if spec.id_type == "str" else np.int64)


def test_inspect_numbers_of_goodbooks(shared_data):
    summary = describe(read_goodbooks(shared_data / "goodbooks-10k"), top_authors=3)
    assert summary["n_interactions"] == 298_176 and summary["density"] == pytest.approx(298_176 / (2_672 * 9_990))
    assert summary["ratings"]["counts"] == {"1": 6_502, "2": 18_533, "3": 69_438, "4": 106_126, "5": 97_577}
    assert summary["popularity"]["top_1pct_items"] == 100
    assert summary["authors"]["top"][0] == {
        "author": "J.K. Rowling",
        "n_interactions": 6_376,
        "n_items": 20,
        "n_users": 1_474,
    }


# ------------------------------------------------------------------------------------ formats and options
RATINGS = "user_id,item_id,rating,timestamp\nu1,10,4,100\nu1,11,5,101\nu2,10,3,102\n"


def test_generic_csv_tsv_and_parquet_give_the_same_interactions(tmp_path):
    csv_path = tmp_path / "r.csv"
    csv_path.write_text(RATINGS)
    tsv_path = tmp_path / "r.tsv"
    tsv_path.write_text(RATINGS.replace(",", "\t"))
    mapping = {"rating_col": "rating", "order_col": "timestamp"}
    from_csv = read_table(csv_path, **mapping).interactions
    from_tsv = read_interactions(tsv_path, **mapping).interactions
    _same(from_csv, from_tsv)
    out = tmp_path / "r.parquet"
    assert write_interactions_parquet(from_csv, out) == [out]
    table = pq.read_table(out)
    assert table.column_names == ["user_id", "item_id", "value", "order"]
    assert table.column("user_id").to_pylist() == ["u1", "u1", "u2"]
    back = read_interactions(out, rating_col="value", order_col="order").interactions
    _same(from_csv, back)
    assert from_csv.users.ids.tolist() == ["u1", "u2"] and from_csv.items.ids.tolist() == [10, 11]


def test_parquet_round_trip_keeps_item_metadata(shared_data, tmp_path):
    data = load_movielens(shared_data / "movielens-latest-small")
    out = tmp_path / "ml.parquet"
    written = write_interactions_parquet(data, out)
    assert written == [out, tmp_path / "ml.items.parquet"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    back = read_interactions(out, rating_col="value", order_col="order").interactions
    _same(data, back)
    assert back.item_metadata["title"].tolist() == data.item_metadata["title"].tolist()


def test_headerless_file_with_a_double_colon_separator_is_ml_1m(tmp_path):
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
    (folder / "movies.dat").write_bytes(
        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation\n"
        "1::Misérables, Les (1995)::Drama\n".encode("latin-1")
    )
    result = read_interactions(folder)
    assert result.format == "movielens"
    data = result.interactions
    assert (data.n_users, data.n_items, data.n_interactions) == (2, 2, 3)
    assert data.matrix[data.users.number(2), data.items.number(1193)] == 4
    assert data.order[0, data.items.number(661)] == 978302109
    assert data.item_metadata["genres"].tolist() == ["Animation", "Drama"]
    assert load_movielens(folder, catalogue=True).item_metadata["title"][0] == "Misérables, Les (1995)"


def test_ml_100k_layout(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t878887116\n")
    (folder / "u.item").write_bytes(
        b"242|Kolya (1996)|24-Jan-1997||http://x|0|0\n302|L.A. Confidential (1997)|01-Jan-1997||http://y|0|0\n"
    )
    data = load_movielens(folder / "u.data")
    assert (data.n_users, data.n_items, data.n_interactions) == (2, 2, 3)
    assert data.item_metadata["title"].tolist() == ["Kolya (1996)", "L.A. Confidential (1997)"]


def test_duplicates_policies_and_counts(tmp_path):
    path = tmp_path / "d.csv"
    # (u1, 10): 4 at t=100, exact copy, then 2 at t=50 (older); (u2, 10) once
    path.write_text("user_id,item_id,rating,t\nu1,10,4,100\nu1,10,4,100\nu2,10,3,1\nu1,10,2,50\n")
    options = {"rating_col": "rating", "order_col": "t"}
    last = read_table(path, duplicates="last", **options)
    assert last.interactions.matrix[0, 0] == 4  # latest by order, not last in the file
    assert (last.n_rows, last.n_duplicate_rows, last.n_conflicting_rows, last.n_distinct_rows) == (4, 1, 1, 3)
    assert read_table(path, duplicates="max", **options).interactions.matrix[0, 0] == 4
    no_order = read_table(path, duplicates="last", rating_col="rating").interactions
    assert no_order.matrix[0, 0] == 2  # without an order "last" is the last line
    with pytest.raises(DataError, match=r"line 5: user 'u1' and item 10 again \(first on line 2\)"):
        read_table(path, **options)


def test_skip_bad_lines_counts_every_kind_of_bad_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"user_id,item_id,rating\n"
        b"u1,10,4\n"
        b"u1,11\n"  # short
        b"u2,10,five\n"  # not a number
        b"\n"  # blank: ignored, not bad
        b"u3,10,nan\n"  # not finite
        b"u\xe9,10,3\n"  # undecodable
        b'u4,"10,2\n'  # unclosed quote
        b",10,3\n"  # empty user
        b"u2,12,1,9\n"  # long
        b"u2,11,2\r\n"  # good, CRLF
    )
    result = read_table(path, rating_col="rating", skip_bad_lines=True)
    assert result.n_bad_lines == 7 and result.n_rows == 2
    data = result.interactions
    assert data.users.ids.tolist() == ["u1", "u2"] and data.matrix[1, 1] == 2
    with pytest.raises(DataError, match="line 3: 2 fields"):
        read_table(path, rating_col="rating")


def test_latin_1_and_utf_16_files_read_with_their_encoding(tmp_path):
    text = "user_id,item_id\nJosé,10\nZoë,11\n"
    latin = tmp_path / "latin.csv"
    latin.write_bytes(text.encode("latin-1"))
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(text.encode("utf-16"))
    for path, encoding in ((latin, "latin-1"), (utf16, "utf-16")):
        data = read_table(path, encoding=encoding).interactions
        assert data.users.ids.tolist() == ["José", "Zoë"] and data.n_interactions == 2


def test_string_ids_that_look_like_integers_become_integers_unless_asked(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("user_id,item_id\n7,a\n12,b\nx1,a\n")
    data = read_table(path).interactions
    assert data.users.ids.tolist() == ["12", "7", "x1"]  # one non-integer: all user ids are strings
    assert data.items.ids.tolist() == ["a", "b"]
    ints = tmp_path / "ints.csv"
    ints.write_text("user_id,item_id\n7,1\n12,2\n")
    assert read_table(ints).interactions.users.ids.tolist() == [7, 12]
    assert read_table(ints, id_type="str").interactions.users.ids.tolist() == ["12", "7"]
    big = tmp_path / "big.csv"
    big.write_text("user_id,item_id\n7,1\n12000000000,2\n")  # beyond int32
    assert read_table(big).interactions.users.ids.tolist() == [7, 12_000_000_000]


def test_format_detection(shared_data, tmp_path):
    assert detect_format(shared_data / "goodbooks-10k") == "goodbooks"
    assert detect_format(shared_data / "goodbooks-10k" / "ratings_random.csv") == "goodbooks"
    assert detect_format(shared_data / "movielens-latest-small") == "movielens"
    assert detect_format(shared_data / "movielens-latest-small" / "ratings.csv") == "movielens"
    assert detect_format(shared_data / YOUNG_ADULT) == "goodreads"
    assert detect_format(tmp_path / "x.json.gz") == "goodreads"
    assert detect_format(tmp_path / "x.tsv") == "tsv" and detect_format(tmp_path / "x.parquet") == "parquet"
    assert detect_format(tmp_path / "anything.txt") == "csv"
    with pytest.raises(DataError, match="neither MovieLens"):
        detect_format(tmp_path)


def test_column_options_read_a_dataset_named_file_as_a_plain_table(shared_data, tmp_path):
    ratings = shared_data / "goodbooks-10k" / "ratings_random.csv"  # detected as goodbooks by its name
    columns = {"user_col": "user_id", "item_col": "book_id", "rating_col": "rating"}
    plain = read_interactions(ratings, **columns).interactions
    _same(plain, read_interactions(ratings, "csv", **columns).interactions)
    assert plain.item_metadata is None  # the generic reader: no books.csv titles
    # a MovieLens-named ratings.csv with its own columns
    movielens = tmp_path / "ratings.csv"
    movielens.write_text("u,i,r\n1,10,4\n2,10,3\n")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n10,A,Drama\n")
    data = read_interactions(movielens, user_col="u", item_col="i", rating_col="r").interactions
    assert data.n_interactions == 2 and data.items.ids.tolist() == [10]
    # --sep is a column option too
    assert read_interactions(ratings, sep=",", **columns).interactions.n_interactions == plain.n_interactions


def test_column_options_are_refused_where_no_table_can_be_read(shared_data):
    columns = {"user_col": "user_id", "item_col": "book_id"}
    ratings = shared_data / "goodbooks-10k" / "ratings_random.csv"
    with pytest.raises(InvalidParameterError, match=r"^--item-col, --user-col do not apply to --format goodbooks; "
                                                    r"leave --format out \(or give --format csv\)"):
        read_interactions(ratings, "goodbooks", **columns)  # explicit: the user asked for goodbooks
    with pytest.raises(InvalidParameterError, match=r"goodbooks-10k is a folder, read as goodbooks; give the "
                                                    "interactions file itself"):
        read_interactions(shared_data / "goodbooks-10k", user_col="user_id")
    with pytest.raises(InvalidParameterError,
                       match=r"^--books does not apply to --format csv \(read as csv because --user-col was given\)"):
        read_interactions(ratings, user_col="user_id", books_path=shared_data / "goodbooks-10k" / "books.csv")


def test_options_that_do_not_apply_are_refused(shared_data):
    with pytest.raises(InvalidParameterError, match="--signal does not apply to --format movielens"):
        read_interactions(shared_data / "movielens-latest-small", signal="read")
    with pytest.raises(InvalidParameterError, match="--duplicates"):
        read_table(shared_data / "goodbooks-10k" / "ratings_random.csv", duplicates="first")
    with pytest.raises(InvalidParameterError, match="signal must be one of rating, read, shelved"):
        read_goodreads(shared_data / YOUNG_ADULT, signal="liked")
    with pytest.raises(InvalidParameterError, match="--rating-range"):
        read_table(shared_data / "goodbooks-10k" / "ratings_random.csv", rating_range=(5, 1))


def test_gini_and_top_share():
    assert gini([1, 1, 1, 1]) == 0.0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)  # (n - 1) / n for all on one of n
    assert np.isnan(gini([0, 0]))
    assert top_share([5, 3, 1, 1], 0.25) == pytest.approx(0.5)
    assert top_share([5, 3, 1, 1], 0.01) == pytest.approx(0.5)  # at least one item


# ----------------------------------------------------------------------------------------- the corpus
def _corpus_options(name: str) -> tuple[Path, str | None, dict]:
    entry = EXPECTED[name]
    options = dict(entry.get("options", {}))
    if "rating_range" in options:
        options["rating_range"] = tuple(options["rating_range"])
    return CORPUS / name, entry.get("format"), options


def test_the_corpus_is_complete():
    files = sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.toml")
    assert files == sorted(EXPECTED)
    assert len(files) >= 25
    messages = [entry["error"] for entry in EXPECTED.values()]
    assert len(set(messages)) == len(messages)  # each a distinct failure


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_gives_its_exact_one_line_error(name, tmp_path):
    path, format, options = _corpus_options(name)
    before = sorted(CORPUS.rglob("*"))
    with pytest.raises(DataError) as info:
        read_interactions(path, format, **options)
    message = str(info.value)
    assert message == EXPECTED[name]["error"].replace("{path}", str(path))
    assert "\n" not in message
    assert sorted(CORPUS.rglob("*")) == before  # nothing written beside the input


def test_corpus_files_still_fail_with_skip_bad_lines_when_not_about_lines(tmp_path):
    # a copy of a bad-line file loads once its bad line is skipped
    copy = tmp_path / "short_row.csv"
    shutil.copy(CORPUS / "short_row.csv", copy)
    result = read_interactions(copy, "csv", rating_col="rating", skip_bad_lines=True)
    assert result.n_bad_lines == 1 and result.interactions.n_interactions == 3


def test_parquet_with_bad_rows_can_skip_them(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"user_id": ["a", "b", None], "item_id": [1, 2, 3], "rating": [1.0, np.nan, 2.0]}), path)
    with pytest.raises(DataError, match=r"row 2, column 'rating': nan is not a finite number"):
        read_table(path, rating_col="rating")
    result = read_table(path, rating_col="rating", skip_bad_lines=True)
    assert result.n_bad_lines == 2 and result.interactions.n_interactions == 1


# ------------------------------------------------------------------------- special files, long values, quotes
@contextlib.contextmanager
def _within(seconds: int):
    """Fail instead of hanging when a read blocks (a FIFO without a writer) or never ends (/dev/zero)."""

    def expired(signum, frame):
        raise AssertionError(f"still reading after {seconds} s: a hang or an unbounded read")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def special_files(tmp_path):
    """A FIFO, a socket and a character device, each given where a data file is expected."""
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock.csv"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    yield {"fifo": (fifo, "a FIFO (named pipe)"), "socket": (sock_path, "a socket"),
           "device": (Path("/dev/zero"), "a character device")}
    server.close()


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
@pytest.mark.parametrize("format", ["csv", "tsv", "parquet", "goodreads"])
def test_special_files_are_refused_at_once(special_files, kind, format):
    path, what = special_files[kind]
    expected = "the Parquet file" if format == "parquet" else "the data file"
    with _within(10), pytest.raises(DataError) as info:
        read_interactions(path, format)
    assert str(info.value) == f"{path}: is {what}, not a regular file; give {expected}"


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_a_special_file_as_the_items_table_is_refused(special_files, tmp_path, kind):
    path, what = special_files[kind]
    ratings = tmp_path / "r.csv"
    ratings.write_text(RATINGS)
    with _within(10), pytest.raises(DataError) as info:
        read_interactions(ratings, "csv", items_path=path)
    assert str(info.value) == f"{path}: is {what}, not a regular file; give the items table (--items)"


def test_a_ten_megabyte_value_is_quoted_in_200_characters(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("user_id,item_id,rating\nu1,1,5\nu2,2," + "x" * 10_000_000 + "\n")
    with pytest.raises(DataError) as info:
        read_interactions(path, "csv", rating_col="rating")
    assert str(info.value) == (f"{path}: line 3, column 'rating': {'x' * 200!r}... (10,000,000 characters) is not "
                               "a number")
    header = tmp_path / "header.csv"
    header.write_bytes(bytes(range(0xC0, 0x100)) * 512 + b"\nu1,1\n")  # a binary-looking 32 KB header line
    with pytest.raises(DataError) as info:
        read_interactions(header, "csv", encoding="latin-1")
    assert len(str(info.value)) < len(str(header)) + 300 and str(info.value).endswith("... (32,768 characters)")


def test_a_stray_quote_is_rejected_or_skipped_alike_on_both_paths():
    path = CORPUS / "stray_quote.csv"  # the quote opened on line 4 closes on line 6
    spec = TableSpec("user_id", "item_id", skip_bad_lines=True)
    source = Source(str(path))
    names, header = read_header(path, ",", "utf-8", source)
    with pytest.raises(NeedsExactPass):  # once, pyarrow's fast path read lines 4-6 as one item id and finished
        _read_fast(path, spec, names, header, source)
    exact = read_exact(path, spec, names, header, source)
    assert exact.n_bad_lines == 2  # line 4 (unclosed quote) and line 6 (a quote inside a value)
    result = read_interactions(path, "csv", skip_bad_lines=True)
    assert (result.n_bad_lines, result.interactions.n_interactions) == (2, 4)
    assert result.interactions.items.ids.tolist() == [10, 11, 13, 15]
    assert not any("\n" in str(i) for i in result.interactions.items.ids)


@pytest.mark.parametrize("sep", [";", "::"])
def test_the_items_table_is_read_with_the_same_separator_and_encoding(tmp_path, sep):
    ratings = tmp_path / "r.csv"
    ratings.write_text("user_id;item_id\nu1;1\nu2;2\nu3;1\n".replace(";", sep), encoding="latin-1")
    books = tmp_path / "books.csv"
    books.write_text("item_id;title;primary_author\n1;Café Stories;Renée Dupré\n2;Naïve;Zoë\n".replace(";", sep),
                     encoding="latin-1")
    data = read_interactions(ratings, "csv", sep=sep, encoding="latin-1", items_path=books).interactions
    assert data.item_metadata["title"].tolist() == ["Café Stories", "Naïve"]
    assert data.item_metadata["primary_author"].tolist() == ["Renée Dupré", "Zoë"]
    if sep == ";":
        with pytest.raises(DataError) as info:  # the right separator, the wrong encoding
            read_interactions(ratings, "csv", sep=sep, items_path=books)
        assert str(info.value) == (f"{books}: column 'title' is not valid utf-8 text; pass the file's encoding "
                                   "(--encoding, e.g. latin-1)")
