"""Sweep configs (errors name the file and the dotted field) and ``campaign sweep`` end to end on small data."""

import json

import pytest
from typer.testing import CliRunner

from recollective.campaigns._config import load_sweep_config
from recollective.cli import app
from recollective.errors import ConfigError
from taste_groups import write_readers_csv

runner = CliRunner()

VALID = """
name = "small"
seeds = [0, 1]
k = 5
[data]
path = "ratings.csv"
format = "csv"
user_col = "user"
item_col = "book"
rating_col = "stars"
items = "books.csv"
[split]
test_fraction = 0.3
[targets]
method = "explicit"
item_ids = ["b39"]
[campaign]
participants = ["closest", "random"]
sizes = [5, 20]
[models.itemknn]
[models.popularity]
"""


def _write_data(folder):
    write_readers_csv(folder / "ratings.csv")
    items = ["item_id,title,authors"] + [f"b{i},Book {i},Author {i}" for i in range(40)]
    (folder / "books.csv").write_text("\n".join(items) + "\n")


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (('name = "small"', 'name = "a b"'), "name: String should match pattern"),
        (("k = 5", "k = 0"), "k: Input should be greater than or equal to 1"),
        (('participants = ["closest", "random"]', 'participants = ["everyone"]'), "campaign.participants"),
        (("sizes = [5, 20]", "sizes = [0]"), "campaign.sizes"),
        (("sizes = [5, 20]", "sizes = [1.5]"), "campaign.sizes"),
        (("[models.itemknn]", "[models.svd]"), "models: unknown model(s) ['svd']"),
        (('method = "explicit"', 'method = "magic"'), "targets.method"),
        (("test_fraction = 0.3", "test_fraction = 1.3"), "split.test_fraction"),
        (('format = "csv"', 'format = "xls"'), "data.format"),
        (("[split]", "colour = 3\n[split]"), "data.colour: Extra inputs are not permitted"),
        (("seeds = [0, 1]", "seeds = []"), "seeds"),
        (("seeds = [0, 1]", "seeds = [0, 1"), "not valid TOML"),
    ],
)
def test_invalid_configs_name_file_and_field(tmp_path, replace, message):
    path = tmp_path / "sweep.toml"
    path.write_text(VALID.replace(*replace))
    with pytest.raises(ConfigError) as error:
        load_sweep_config(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(VALID)
    config = load_sweep_config(path)
    assert config.data.path == tmp_path / "ratings.csv" and config.data.items == tmp_path / "books.csv"


def test_sweep_command_writes_tables_and_figures(tmp_path):
    _write_data(tmp_path)
    (tmp_path / "sweep.toml").write_text(VALID)
    out = tmp_path / "out"
    result = runner.invoke(app, ["campaign", "sweep", str(tmp_path / "sweep.toml"), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["summary"]) == 2 * 2 * 2  # models x policies x sizes
    for name in ("rows.csv", "summary.csv", "summary.json", "exposure.png", "exposure.svg", "pareto_itemknn.png"):
        assert (out / name).stat().st_size > 0
    rows = (out / "rows.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2 * 2 * 2  # header + models x policies x sizes x seeds
    knn = [r for r in document["summary"] if r["model"] == "itemknn" and r["participants"] == "closest"]
    assert max(r["target_exposure_after"] for r in knn) > max(r["target_exposure_before"] for r in knn)


def test_sweep_with_a_bad_config_exits_2(tmp_path):
    (tmp_path / "sweep.toml").write_text(VALID.replace("k = 5", "k = -1"))
    result = runner.invoke(app, ["campaign", "sweep", str(tmp_path / "sweep.toml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "k: Input should be greater than or equal to 1" in result.stderr
    assert not (tmp_path / "o").exists()


class _Stop(Exception):
    pass


def test_a_stopped_sweep_keeps_its_cells_and_a_rerun_evaluates_only_the_rest(tmp_path, monkeypatch):
    from recollective.campaigns import _sweep
    from recollective.campaigns._experiment import PARTIAL_CONFIG, PARTIAL_ROWS, run_sweep_config

    _write_data(tmp_path)
    (tmp_path / "sweep.toml").write_text(VALID)
    config = load_sweep_config(tmp_path / "sweep.toml")
    whole = run_sweep_config(config, tmp_path / "whole")

    def stop_after_5(done, total, row):
        if done == 5:
            raise _Stop
    out = tmp_path / "stopped"
    with pytest.raises(_Stop):
        run_sweep_config(config, out, progress=stop_after_5)
    assert not (out / "rows.csv").exists()
    lines = (out / PARTIAL_ROWS).read_text().splitlines()
    assert len(lines) == 1 + 5  # the header and every cell finished before the stop
    with (out / PARTIAL_ROWS).open("a") as handle:  # a line cut short by the stop is dropped, its cell rerun
        handle.write("itemknn,1,random")

    evaluated = []
    real = _sweep.evaluate_campaign
    monkeypatch.setattr(_sweep, "evaluate_campaign", lambda *a, **kw: evaluated.append(1) or real(*a, **kw))
    resumed = run_sweep_config(config, out)
    assert len(evaluated) == 16 - 5
    assert resumed["summary"] == whole["summary"]  # the same numbers as a run that never stopped
    assert (out / "rows.csv").read_text() == (tmp_path / "whole" / "rows.csv").read_text()
    assert not (out / PARTIAL_ROWS).exists() and not (out / PARTIAL_CONFIG).exists()


def test_a_stopped_sweep_of_another_config_is_not_overwritten(tmp_path):
    from recollective.campaigns._experiment import PARTIAL_ROWS, run_sweep_config

    _write_data(tmp_path)
    (tmp_path / "sweep.toml").write_text(VALID)
    out = tmp_path / "out"

    def stop(done, total, row):
        raise _Stop
    with pytest.raises(_Stop):
        run_sweep_config(load_sweep_config(tmp_path / "sweep.toml"), out, progress=stop)
    before = (out / PARTIAL_ROWS).read_text()
    (tmp_path / "other.toml").write_text(VALID.replace("k = 5", "k = 3"))
    result = runner.invoke(app, ["campaign", "sweep", str(tmp_path / "other.toml"), "--out", str(out)])
    assert result.exit_code == 2
    assert "rows.partial.csv: the unfinished cells of a sweep with another configuration" in result.output
    assert (out / PARTIAL_ROWS).read_text() == before
