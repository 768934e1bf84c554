"""recollective._files: inputs are regular files read no further than their size; outputs get the usual mode."""

import os
import stat

import pytest

from recollective._files import atomic_write_bytes, new_file_mode, open_regular, read_regular, require_regular
from recollective.errors import ConfigError, DataError


def test_reading_stops_at_the_size_the_file_had_when_opened(tmp_path):
    path = tmp_path / "growing.csv"
    path.write_bytes(b"user_id,item_id\nu1,1\n")
    with open_regular(path) as handle:
        with path.open("ab") as writer:  # the file grows while it is read (a log, an attacker)
            writer.write(b"u2,2\n" * 100_000)
        first = handle.readline()
        rest = handle.read()
    assert first + rest == b"user_id,item_id\nu1,1\n"
    with open_regular(path) as handle:
        assert len(handle.read(10**9)) == path.stat().st_size == 21 + 500_000


def test_special_paths_name_what_they_are(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"pipe: is a FIFO \(named pipe\), not a regular file; give a \.toml file$"):
        read_regular(fifo, "a .toml file", ConfigError)
    with pytest.raises(DataError, match=r"^/dev/null: is a character device, not a regular file; give a data file$"):
        require_regular("/dev/null")
    with pytest.raises(DataError, match=r": is a folder, not a regular file; give a data file$"):
        open_regular(tmp_path)
    with pytest.raises(DataError, match=r"absent: no such file$"):
        open_regular(tmp_path / "absent")
    link = tmp_path / "link"
    link.symlink_to(fifo)  # a link is followed: what it points at is checked
    with pytest.raises(DataError, match="is a FIFO"):
        read_regular(link)


def test_atomic_writes_get_the_mode_of_a_normally_created_file(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic_write_bytes(tmp_path / "atomic.txt", lambda handle: handle.write(b"y"))
    mode = stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == new_file_mode()
    assert (tmp_path / "atomic.txt").read_bytes() == b"y"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.txt", "plain.txt"]  # no temporary left
