"""What every command's output shares (cli/_output.py): warnings and errors as one readable line each."""

import warnings

import typer
from typer.testing import CliRunner

from recollective.cli import app
from recollective.cli._output import handles_errors
from recollective.errors import DataError
from recollective.metrics import UndefinedMetricWarning

runner = CliRunner()


def _app(command) -> typer.Typer:
    single = typer.Typer()
    single.command()(handles_errors(command))
    return single


def test_warnings_become_one_line_each_and_repeats_are_dropped():
    def noisy() -> None:
        for _ in range(3):
            warnings.warn("the audience is empty;\n target exposure is NaN", UndefinedMetricWarning, stacklevel=1)
        warnings.warn("another notice", UserWarning, stacklevel=1)
        print("result")

    result = runner.invoke(_app(noisy), [])
    assert result.exit_code == 0 and result.stdout == "result\n"
    assert result.stderr == "warning: the audience is empty; target exposure is NaN\nwarning: another notice\n"


def test_after_an_error_only_the_error_line_is_printed():
    message = "data.csv: line 2: " + "v" * 10_000_000 + " is not a number; fix the file"

    def failing() -> None:
        warnings.warn("a notice on the way", UserWarning, stacklevel=1)
        raise DataError(message)

    result = runner.invoke(_app(failing), [])
    assert result.exit_code == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and len(line) < 1_100  # a 10 MB message is cut in the middle
    assert line.startswith("error: data.csv: line 2: vvv") and line.endswith("vvv is not a number; fix the file")
    assert f" ... ({len(message) - 950:,} characters cut) ... " in line


def test_a_one_row_file_has_nothing_to_evaluate(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("user_id,item_id,rating\nu1,1,5\n")
    result = runner.invoke(app, ["models", "evaluate", "--data", str(path), "--rating-col", "rating", "--model",
                                 "popularity", "--json"])
    assert result.exit_code == 2 and result.stdout == ""  # once: exit 0, every metric null, a raw warning
    assert result.stderr == ("error: nothing to evaluate: the test part holds no interaction (0 held out for 1 "
                             "user(s)); use more data, a larger --test-fraction\n")


def test_a_path_that_looks_like_markup_is_shown_as_it_is(tmp_path):
    path = tmp_path / "r[" / "]x.csv"  # the path reads "...r[/]x.csv": Rich's closing tag with nothing to close
    result = runner.invoke(app, ["models", "evaluate", "--data", str(path), "--model", "popularity"])
    assert result.exit_code == 2  # once: MarkupError from the loading spinner, before the file was even opened
    assert result.stderr == f"error: {path}: no such file\n"
