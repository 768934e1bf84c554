"""What the CLI tests share: invoking the app with any arguments, and the one-line error contract."""

from typer.testing import CliRunner

from recollective.cli import app

runner = CliRunner()


def invoke(*args):
    """Run ``recollective ARGS...`` (each argument through ``str``) and return the Click result."""
    return runner.invoke(app, [str(a) for a in args])


def assert_clean_error(result, *needles) -> str:
    """Exit status 2, nothing on stdout, exactly one ``error: ...`` line on stderr (no traceback) holding every
    needle; returns that line."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def assert_error_line(result, expected: str | None = None) -> None:
    """:func:`assert_clean_error`, and the line is exactly ``error: <expected>`` when ``expected`` is given."""
    line = assert_clean_error(result)
    if expected is not None:
        assert line == f"error: {expected}"
