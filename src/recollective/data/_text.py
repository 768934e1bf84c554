"""Reading text files for the loaders: plain or gzip, by segments (fast path) or by numbered lines (exact path).

Both paths see the same bytes: lines end at ``\\n`` (a ``\\r`` before it is dropped), blank lines are ignored,
and a gzip stream that is corrupt or cut short is a :class:`~recollective.errors.DataError`.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recollective._files import open_regular
from recollective.data._validation import Source
from recollective.errors import DataError

__all__ = [
    "ascii_compatible",
    "check_encoding",
    "iter_lines",
    "iter_segments",
    "open_binary",
    "read_header",
    "split_fields",
    "undecodable",
]

SEGMENT_BYTES = 1 << 24  # 16 MiB of text per pyarrow read: memory stays about two segments above what is kept
_GZIP_MAGIC = b"\x1f\x8b"


def check_encoding(encoding: str) -> str:
    """The codec's canonical name, or DataError naming the option."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise DataError(
            f"unknown encoding {encoding!r} (--encoding); use a Python codec name such as utf-8 or latin-1"
        ) from None


def ascii_compatible(encoding: str) -> bool:
    """Whether ``\\n`` and the ASCII separators are single bytes in ``encoding`` (utf-8, latin-1, cp1252, ...)."""
    try:
        return "\n,;\t|:".encode(encoding) == b"\n,;\t|:"
    except UnicodeError:
        return False


@contextmanager
def open_binary(path: Path | bytes) -> Iterator[io.BufferedIOBase]:
    """The file's bytes, decompressed when it is gzip (by content, whatever its name); ``bytes`` are read as is."""
    if isinstance(path, bytes):  # text already transcoded to UTF-8 (see _tabular)
        yield io.BytesIO(path)
        return
    path = Path(path)
    with open_regular(path, "the data file") as handle:  # a FIFO or device is an error, reads stop at the size
        if handle.peek(2)[:2] == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=handle) as stream:
                yield stream
        else:
            yield handle


@contextmanager
def _gzip_errors(path: Path):
    try:
        yield
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: the gzip stream is corrupt or cut short ({exc}); download the file again") from None


def iter_lines(path: Path | bytes) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, line without its ``\\r\\n``) for every line, blank ones included."""
    with open_binary(path) as stream, _gzip_errors(path):
        for number, line in enumerate(stream, start=1):
            if line.endswith(b"\n"):
                line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
            yield number, line


def iter_segments(path: Path | bytes, skip_lines: int = 0, segment_bytes: int = SEGMENT_BYTES) -> Iterator:
    """The file after its first ``skip_lines`` lines, in pieces of about ``segment_bytes`` that end at a line end
    (pyarrow buffers read without copies for plain files; bytes for gzip)."""
    if not isinstance(path, bytes):
        with open_binary(path) as stream:
            compressed = isinstance(stream, gzip.GzipFile)
        if not compressed:
            yield from _plain_segments(Path(path), skip_lines, segment_bytes)
            return
    with open_binary(path) as stream, _gzip_errors(path):
        for _ in range(skip_lines):
            stream.readline()
        carry = b""
        while True:
            block = stream.read(segment_bytes)
            if not block:
                break
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                carry += block
                continue
            yield carry + block[:cut]
            carry = block[cut:]
        if carry:
            yield carry


def _plain_segments(path: Path, skip_lines: int, segment_bytes: int) -> Iterator:
    import numpy as np
    import pyarrow as pa

    with open_regular(path, "the data file") as handle:
        for _ in range(skip_lines):
            handle.readline()
        start = handle.tell()
        size = os.fstat(handle.fileno()).st_size  # what was checked is what is read: no further than this
    with pa.OSFile(str(path)) as stream:
        while start < size:
            stream.seek(start)
            buffer = stream.read_buffer(min(segment_bytes, size - start))
            if buffer.size == 0:  # the file shrank while it was read
                break
            if start + buffer.size < size:
                tail = np.frombuffer(buffer, dtype=np.uint8)
                newlines = np.flatnonzero(tail[-min(tail.size, 1 << 20) :] == 10)
                if newlines.size:
                    cut = buffer.size - min(tail.size, 1 << 20) + int(newlines[-1]) + 1
                else:  # a line longer than the look-back window: find its end the slow way
                    cut = bytes(buffer).rfind(b"\n") + 1 or buffer.size
                buffer = buffer.slice(0, cut)
            yield buffer
            start += buffer.size


def undecodable(text: str) -> int | None:
    """The first byte that ``surrogateescape`` decoding kept as a lone surrogate, or None."""
    for char in text:
        if "\udc80" <= char <= "\udcff":
            return ord(char) - 0xDC00
    return None


def split_fields(text: str, sep: str) -> list[str]:
    """Fields of one line: quotes as in CSV (``"a,b"``, ``""`` inside quotes) for a one-character ``sep``;
    a literal split for a longer one (``::``). ValueError for an unclosed or misplaced quote."""
    if len(sep) > 1 or '"' not in text:
        return text.split(sep)
    try:
        return next(csv.reader([text], delimiter=sep, quotechar='"', strict=True))
    except csv.Error as exc:
        raise ValueError(str(exc)) from None


def read_header(path: Path | bytes, sep: str, encoding: str, source: Source) -> tuple[list[str], int]:
    """(column names, line number of the header) from the first non-blank line."""
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        if line.startswith((b"\xff\xfe", b"\xfe\xff")) and not encoding.startswith("utf-16"):
            raise source.error(
                "the file starts with a UTF-16 byte-order mark; pass --encoding utf-16 (or save it as UTF-8)", number
            )
        if line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError as exc:
            raise source.error(
                f"byte 0x{line[exc.start]:02x} is not valid {encoding}; pass the file's encoding "
                "(--encoding, e.g. latin-1)",
                number,
            ) from None
        try:
            names = split_fields(text, sep)
        except ValueError:
            raise source.error("unclosed quote in the header", number) from None
        return [name.strip() for name in names], number
    raise source.error("the file is empty; expected a header line naming the columns, then data lines")
