"""Goodreads book metadata for the loaded books: titles and authors from the UCSD Book Graph's
``goodreads_books*.json[.gz]`` and ``goodreads_book_authors.json[.gz]``, streamed, keeping only the books
that were loaded (the full books file is about 2.3M lines)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pjson

from recollective.data._text import iter_lines, iter_segments
from recollective.data._validation import Source
from recollective.errors import DataError

__all__ = ["book_metadata"]


def book_metadata(books_path: Path, authors_path):
    """A function of the loaded book ids giving title / authors / primary_author (None for unknown books)."""

    def metadata(book_ids: np.ndarray) -> dict:
        wanted = pa.array([str(b) for b in book_ids.tolist()], type=pa.string())
        titles: dict[str, str] = {}
        book_authors: dict[str, list[tuple[str, str]]] = {}
        schema = pa.schema(
            [
                ("book_id", pa.string()),
                ("title", pa.string()),
                ("authors", pa.list_(pa.struct([("author_id", pa.string()), ("role", pa.string())]))),
            ]
        )
        for table in _json_tables(books_path, schema, "book_id"):
            table = table.filter(pc.is_in(table.column("book_id"), value_set=wanted))
            for row in table.to_pylist():
                titles[row["book_id"]] = row["title"]
                book_authors[row["book_id"]] = [(a["author_id"], a["role"] or "") for a in row["authors"] or []]
        names: dict[str, str] = {}
        if authors_path is not None:
            needed = pa.array(sorted({a for authors in book_authors.values() for a, _ in authors}), type=pa.string())
            author_schema = pa.schema([("author_id", pa.string()), ("name", pa.string())])
            for table in _json_tables(Path(authors_path), author_schema, "author_id"):
                table = table.filter(pc.is_in(table.column("author_id"), value_set=needed))
                names.update(zip(table.column("author_id").to_pylist(), table.column("name").to_pylist(), strict=True))
        title_column = np.full(book_ids.size, None, dtype=object)
        authors_column = np.full(book_ids.size, None, dtype=object)
        primary_column = np.full(book_ids.size, None, dtype=object)
        for i, book in enumerate(wanted.to_pylist()):
            if book not in titles:
                continue
            title_column[i] = titles[book]
            authors = book_authors[book]
            if authors:
                shown = [names.get(a, a) for a, _ in authors]
                authors_column[i] = ", ".join(shown)
                main = next((names.get(a, a) for a, role in authors if not role), shown[0])
                primary_column[i] = main
        return {"title": title_column, "authors": authors_column, "primary_author": primary_column}

    return metadata


def _json_tables(path: Path, schema: pa.Schema, key: str):
    """Tables of a JSON-lines metadata file, segment by segment; DataError naming the first bad line."""
    source = Source(str(path), column_word="field")
    parse_options = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    for segment in iter_segments(path):
        try:
            table = pjson.read_json(pa.BufferReader(segment), parse_options=parse_options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            _explain_metadata(path, source, schema)
            raise source.error("cannot be read as JSON lines") from None
        if table.column(key).null_count:
            _explain_metadata(path, source, schema)
        yield table


def _explain_metadata(path: Path, source: Source, schema: pa.Schema) -> None:
    """Raise a DataError for the first line of a metadata file that is not an object with the fields."""
    key = schema.names[0]
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise source.error(f"not valid JSON ({getattr(exc, 'msg', exc)})", number) from None
        if not isinstance(record, dict):
            raise source.error("expected a JSON object {...}", number)
        if not isinstance(record.get(key), str):
            raise source.error(f"no string field {key!r}", number, None)
    raise DataError(f"{path}: cannot be read as JSON lines with the fields {', '.join(schema.names)}")
