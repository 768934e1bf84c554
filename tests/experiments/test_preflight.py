"""Before a run writes anything: configs that cannot run give one error line and leave no folder, manifest or lock;
grids and worlds above the stated sizes need --yes."""

import pytest
from typer.testing import CliRunner

from recollective.cli import app
from recollective.errors import ConfigError
from recollective.experiments import load_experiment_config, load_results, run_experiment
from recollective.experiments._preflight import MAX_CELLS, grid_size, world_memory

from .helpers import SMALL, write_config

WORLD = "[world]\nn_users = 200\nn_items = 120\nn_interactions = 3000\nseed = 1\n"
MANY_SEEDS = "seeds = [" + ", ".join(map(str, range(MAX_CELLS // 2 + 1))) + "]"

# config text replacements -> the exact error line ({dir} is the config's folder)
CASES = {
    "missing_data": ({WORLD: '[data]\npath = "absent.csv"\n'}, "error: {dir}/absent.csv: no such file"),
    "bad_data": (
        {WORLD: '[data]\npath = "bad.csv"\nrating_col = "rating"\n'},
        "error: {dir}/bad.csv: line 3: 2 fields separated by ',' but the header has 3 (a line cut short?)",
    ),
    "unknown_target_ids": (
        {'method = "longtail"': 'method = "explicit"\nitem_ids = [999999]'},
        "error: targets.item_ids: unknown item id 999999 (1 unknown in all)",
    ),
    "size_above_user_count": (
        {"sizes = [5, 15]": "sizes = [5, 100000]"},
        "error: campaign.size asks for 100000 participants but policy 'random' has only 200 eligible users; lower "
        "the size or choose another policy",
    ),
    "nan_rating": ({"sizes = [5, 15]": "sizes = [5, 15]\nrating = nan"},
                   "error: {dir}/config.toml: campaign.rating: Input should be a finite number"),
    "inf_hyperparameter": ({"[models.popularity]": "[models.puresvd]\nalpha = inf"},
                           "error: {dir}/config.toml: models: puresvd.alpha is inf; give a finite number"),
    "boolean_seeds": ({"seeds = [0, 1]": "seeds = [true, false]"},
                      "error: {dir}/config.toml: seeds.0: Input should be a valid integer (got true); seeds.1: Input "
                      "should be a valid integer (got false)"),
    "huge_world": ({"n_users = 200": "n_users = 1_000_000_000_000"}, None),
    "huge_grid": ({"seeds = [0, 1]": MANY_SEEDS},
                  f"error: small: the grid has {2 * (MAX_CELLS // 2 + 1):,} cells (1 models x 1 campaign.participants "
                  f"x 1 campaign.positions x 2 campaign.sizes x {MAX_CELLS // 2 + 1:,} seeds), more than "
                  f"{MAX_CELLS:,}; shrink it or pass --yes to run it anyway"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_config_that_cannot_run_writes_nothing(tmp_path, case):
    replacements, expected = CASES[case]
    (tmp_path / "bad.csv").write_text("user_id,item_id,rating\nu1,1,5\nu2,2\n")
    config = write_config(tmp_path, replace=replacements)
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    if expected is None:  # the machine's memory is in the message
        assert lines[0].startswith("error: small: world needs about 149,011.6 GiB of memory (world.n_users = "
                                   "1,000,000,000,000, world.n_items = 120, world.n_interactions = 3,000) but this "
                                   "machine has ")
        assert lines[0].endswith(" GiB; make the world smaller or pass --yes to try anyway")
    else:
        assert lines[0] == expected.format(dir=tmp_path)
    assert not (tmp_path / "runs").exists()  # no run folder, manifest.json or .lock


def test_the_grid_size_is_counted_without_expanding_it(tmp_path):
    config = load_experiment_config(write_config(tmp_path, replace={"seeds = [0, 1]": MANY_SEEDS}))
    assert grid_size(config) == (2 * (MAX_CELLS // 2 + 1), [1, 1, 1, 2, MAX_CELLS // 2 + 1])
    small = load_experiment_config(write_config(tmp_path, name="small.toml"))
    # 200 users x (16 x 6 + 64) + 120 items x (16 x 6 + 200) + 3000 interactions x 80
    assert world_memory(small.world) == 200 * 160 + 120 * 296 + 3000 * 80


def test_yes_runs_a_grid_above_the_limit(tmp_path):
    config = load_experiment_config(write_config(tmp_path, SMALL))
    with pytest.raises(ConfigError, match=r"the grid has 4 cells .* more than 3; shrink it or pass --yes"):
        run_experiment(config, tmp_path / "runs", max_cells=3)
    assert not (tmp_path / "runs").exists()
    summary = run_experiment(config, tmp_path / "runs", max_cells=3, yes=True)
    assert summary["ran"] == 4 and len(load_results(tmp_path / "runs" / "small")) == 4
