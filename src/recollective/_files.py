"""Files in and out, safely: inputs must be regular files and are read no further than their size; outputs are
written to a temporary name and renamed into place with the permissions a new file normally gets.

A FIFO, a character or block device (``/dev/zero``), a socket or a folder given where a file is expected is a
one-line :class:`~recollective.errors.RecollectiveError` naming the path and what it is, never a hang (a FIFO
blocks until a writer appears) or an unbounded read (``/dev/zero`` never ends).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import io
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from recollective.errors import DataError, RecollectiveError

__all__ = ["atomic_write_bytes", "new_file_mode", "open_regular", "read_regular", "require_regular"]

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _not_regular(path, mode: int, expected: str, error: type[RecollectiveError]) -> RecollectiveError:
    return error(f"{path}: is {_kind(mode)}, not a regular file; give {expected}")


def require_regular(path, expected: str = "a data file", error: type[RecollectiveError] = DataError) -> int:
    """The size in bytes of the regular file at ``path`` (symbolic links followed); ``error`` naming the path
    when it is missing, unreadable or not a regular file (a folder, FIFO, device or socket)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path, info.st_mode, expected, error)
    return info.st_size


class _Bounded(io.FileIO):
    """A file read no further than ``limit`` bytes (its size when opened), however it grows or lies."""

    def __init__(self, descriptor: int, limit: int) -> None:
        super().__init__(descriptor, "rb", closefd=True)
        self._limit = limit

    def _left(self) -> int:
        return max(0, self._limit - self.tell())

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        return super().readinto(view[: self._left()]) if self._left() else 0

    def read(self, size: int = -1) -> bytes:
        left = self._left()
        return super().read(left if size is None or size < 0 else min(size, left)) if left else b""

    def readall(self) -> bytes:
        return self.read(-1)


def open_regular(path, expected: str = "a data file", error: type[RecollectiveError] = DataError) -> BinaryIO:
    """A buffered binary reader of the regular file at ``path``, bounded by its size.

    The file is opened without blocking (a FIFO cannot stall the open) and checked on the open descriptor, so
    what is checked is what is read. Raises ``error`` naming the path otherwise.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):  # a socket cannot be opened at all
            require_regular(path, expected, error)
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(path, info.st_mode, expected, error)
        flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
        fcntl.fcntl(descriptor, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        raw = _Bounded(descriptor, info.st_size)
    except BaseException:
        os.close(descriptor)
        raise
    return io.BufferedReader(raw)


def read_regular(path, expected: str = "a data file", error: type[RecollectiveError] = DataError) -> bytes:
    """The bytes of the regular file at ``path`` (at most its size); ``error`` naming the path otherwise."""
    with open_regular(path, expected, error) as handle:
        return handle.read()


@functools.cache
def new_file_mode() -> int:
    """The permissions ``open(path, "w")`` gives a new file: 0o666 less the process umask (0o644 usually)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):  # Linux: read without changing it
        status = Path("/proc/self/status").read_text()
        return 0o666 & ~int(next(line for line in status.splitlines() if line.startswith("Umask:")).split()[1], 8)
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: Path, write: Callable[[BinaryIO], object], fsync: bool = True) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path`` and rename it over ``path``.

    The temporary file gets the permissions of a normally created file (``tempfile`` makes it 0600), is flushed
    and (with ``fsync``) synced before the rename, and is removed if anything fails: ``path`` is either the old
    file or the whole new one.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".tmp-{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), new_file_mode())
            write(handle)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if fsync:
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
