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


def test_an_unknown_model_name_says_what_was_meant_in_one_line():
    from .helpers import assert_error_line

    choices = "popularity, puresvd, als, bpr, itemknn, ease, sequential, llm"
    result = runner.invoke(app, ["models", "evaluate", "--data", "x.csv", "--model", "eaze"])
    assert_error_line(result, f"unknown model 'eaze'; did you mean 'ease'? (choices: {choices})")
    result = runner.invoke(app, ["campaign", "run", "--data", "x.csv", "--model", "item-knn"])
    assert_error_line(result, f"unknown model 'item-knn'; did you mean 'itemknn'? (choices: {choices})")
    result = runner.invoke(app, ["models", "evaluate", "--data", "x.csv", "--model", "zzz"])
    assert_error_line(result, f"unknown model 'zzz' (choices: {choices})")  # nothing close: no guess


def test_usage_errors_are_one_line_without_library_prefixes():
    from .helpers import assert_clean_error, assert_error_line

    cases = [
        (["--format", "parqet"], "unknown format 'parqet'; did you mean 'parquet'? (choices: csv, tsv, parquet, "),
        (["--split", "rando"], "unknown split method 'rando'; did you mean 'random-holdout'?"),
        (["--duplicates", "lats"], "unknown duplicates policy 'lats'; did you mean 'last'?"),
        (["--k", "abc"], "--k must be a valid integer; got 'abc' (usage: recollective models evaluate --help)"),
        (["--seed", "-1"], "--seed must be greater than or equal to 0; got '-1'"),
        (["--bogus"], "No such option: --bogus"),
    ]
    for extra, needle in cases:
        line = assert_clean_error(runner.invoke(app, ["models", "evaluate", "--data", "x.csv", *extra]), needle)
        assert "Value error" not in line and "Input should" not in line and "│" not in line
    assert_error_line(runner.invoke(app, ["models", "evaluate"]),
                      "Missing option '--data'. (usage: recollective models evaluate --help)")
    assert_error_line(runner.invoke(app, ["modles"]),
                      "No such command 'modles'. Did you mean 'models'? (usage: recollective --help)")


def test_help_and_no_arguments_still_show_the_usage():
    assert runner.invoke(app, ["models", "evaluate", "--help"]).exit_code == 0
    bare = runner.invoke(app, [])
    assert "Usage" in bare.output and "error:" not in bare.output


def test_did_you_mean_and_library_prefixes():
    from recollective.errors import did_you_mean, plain_message, unknown_name

    assert did_you_mean("eaze", ["ease", "als"]) == "; did you mean 'ease'?"
    assert did_you_mean("EASE", ["ease", "als"]) == "; did you mean 'ease'?"
    assert did_you_mean("closets", ["random", "closest"]) == "; did you mean 'closest'?"
    assert did_you_mean("qqq", ["ease", "als"]) == ""
    assert unknown_name("detector", "fraudr", ["pca", "fraudar"]) == (
        "unknown detector 'fraudr'; did you mean 'fraudar'? (choices: pca, fraudar)")
    assert plain_message("Value error, give one") == "give one"
    assert plain_message("models: Value error, bad; seeds: Assertion failed, worse") == "models: bad; seeds: worse"


def test_step_progress_prints_a_line_per_step_with_time_left_when_piped(capsys):
    """Piped (stderr is not a terminal, as under pytest): one line per finished step, the estimate while steps
    remain, and nothing when quiet."""
    from recollective.cli._progress import step_progress

    with step_progress("sweep") as progress:
        for done in (1, 2, 2, 3):  # a repeated count (a second update of the same step) prints once
            progress.update(done, 3, f"cell {done}")
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in lines] == ["[1/3] cell 1", "[2/3] cell 2", "[3/3] cell 3"]
    assert "left)" in lines[0] and "left" not in lines[2]
    with step_progress("sweep", quiet=True) as progress:
        progress.update(1, 3, "cell 1")
    assert capsys.readouterr().err == ""
