"""Experiment configs: the invalid-config corpus with its exact messages, and what valid configs resolve to."""

import pytest
from typer.testing import CliRunner

from recollective.campaigns._config import SweepConfig
from recollective.cli import app
from recollective.errors import ConfigError
from recollective.experiments import METRICS, ExperimentConfig, load_experiment_config, parse_experiment_config

from .helpers import CONFIGS, SMALL, TINY, write_config

INVALID = CONFIGS / "invalid"

# file stem -> the exact message after "<file>: "
EXPECTED = {
    "bad_hyperparameter": "models.itemknn: n_neighbors must be an integer >= 1; got 0",
    "bad_name": "name: String should match pattern '^[A-Za-z0-9._-]+$'",
    "bad_participants": "campaign.participants: each entry must be one of random, majority, fans, "
    "closest; got ['everyone']",
    "bad_position": "campaign.positions: each entry must be one of append, random, after_low_anchor, "
    "before_high_anchor; got ['middle']",
    "bad_size": "campaign.sizes: sizes are shares in (0, 1) or counts >= 1; got 1.5",
    "bad_split_method": "split.method: Input should be 'random-holdout', 'leave-last-out' or 'temporal'",
    "bad_target_method": "targets.method: Input should be 'explicit' or 'longtail'",
    "bad_test_fraction": "split.test_fraction: Input should be less than 1",
    "bad_toml": "not valid TOML: Unclosed array (at line 4, column 1)",
    "both_sources": "(top level): give exactly one of [data] (a file) or [world] (a synthetic world)",
    "duplicate_seed": "seeds: seeds are listed twice: [1]",
    "duplicate_size": "campaign: sizes lists a value twice: [10, 10]",
    "explicit_without_ids": "targets: method 'explicit' needs item_ids or authors (or both)",
    "k_zero": "k: Input should be greater than or equal to 1",
    "missing_name": "name: Field required",
    "negative_seed": "seeds: seeds must be integers >= 0; got [0, -1]",
    "no_source": "(top level): give exactly one of [data] (a file) or [world] (a synthetic world)",
    "seeds_not_a_list": "seeds: Input should be a valid list",
    "two_problems": "k: Input should be greater than or equal to 1; "
    "targets.min_audience: Input should be greater than or equal to 1",
    "unknown_hyperparameter": "models.puresvd: unknown hyper-parameter 'factors'; known: rank_rule, n_factors, "
    "alpha, rng",
    "unknown_key": "colour: Extra inputs are not permitted",
    "unknown_metric": f"metrics: unknown metric(s) ['accuracy']; choose from {', '.join(METRICS)}",
    "unknown_model": "models: unknown model(s) ['svd']; choose from popularity, puresvd, als, bpr, "
    "itemknn, ease, sequential, llm; did you mean 'puresvd'?",
    "world_bad_values": "world.values: Input should be 'implicit' or 'rating'",
    "world_too_small": "world.n_users: Input should be greater than or equal to 2",
    "rating_nan": "campaign.rating: Input should be a finite number",
    "world_inf": "world.rating_noise: Input should be a finite number",
    "hyperparameter_nan": "models: puresvd.alpha is nan; give a finite number",
    "seeds_booleans": "seeds.0: Input should be a valid integer (got true); seeds.1: Input should be a valid integer "
    "(got false)",
    "k_boolean": "k: Input should be a valid integer (got true)",
    "world_unknown_key": "world.colour: Extra inputs are not permitted",
}


def test_the_corpus_has_a_message_for_every_file():
    stems = {path.stem for path in INVALID.glob("*.toml")}
    assert stems == set(EXPECTED)
    assert len(stems) >= 15


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_invalid_config_gives_the_exact_message(stem):
    path = INVALID / f"{stem}.toml"
    with pytest.raises(ConfigError) as error:
        load_experiment_config(path)
    assert str(error.value) == f"{path}: {EXPECTED[stem]}"


def test_missing_file_and_folder():
    with pytest.raises(ConfigError, match="no such config file"):
        load_experiment_config(CONFIGS / "absent.toml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_experiment_config(CONFIGS)


def test_tiny_config_is_valid_and_frozen():
    config = load_experiment_config(TINY)
    assert isinstance(config, SweepConfig)  # one schema: the campaign sweep's, extended
    assert config.world.n_users == 300 and config.data is None
    assert list(config.models) == ["popularity", "itemknn", "puresvd"]
    with pytest.raises(ValueError, match="frozen"):
        config.k = 3


def test_sweep_configs_with_data_load_and_resolve_relative_paths(tmp_path):
    text = SMALL.replace("[world]\nn_users = 200\nn_items = 120\nn_interactions = 3000\nseed = 1\n",
                         '[data]\npath = "ratings.csv"\nitems = "sub/books.csv"\n')
    config = load_experiment_config(write_config(tmp_path, text))
    assert config.data.path == tmp_path / "ratings.csv" and config.data.items == tmp_path / "sub" / "books.csv"
    assert config.metrics[0] == "target_exposure_before"


def test_parse_from_a_dict_names_the_source():
    with pytest.raises(ConfigError) as error:
        parse_experiment_config({"name": "x", "models": {"popularity": {}}, "world": {"n_items": 1}}, "inline")
    assert str(error.value) == "inline: world.n_items: Input should be greater than or equal to 2"
    assert isinstance(parse_experiment_config({"name": "x", "models": {"popularity": {}}, "world": {}}),
                      ExperimentConfig)


def test_run_command_rejects_a_bad_config_with_one_line_and_no_output(tmp_path):
    result = CliRunner().invoke(app, ["run", str(INVALID / "k_zero.toml"), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: {INVALID / 'k_zero.toml'}: {EXPECTED['k_zero']}"]
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--executor", "dask"], "error: --executor must be one of local, ray; got 'dask'"),
        (["--workers", "0"], "error: --workers must be an integer >= 1; got 0"),
        (["--address", "127.0.0.1:1"], "error: --address is for --executor ray; leave it out with --executor local"),
        (["--batch-size", "0"], "error: --batch-size must be an integer >= 1; got 0"),
    ],
)
def test_run_command_rejects_bad_options(tmp_path, options, message):
    config = write_config(tmp_path)
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(tmp_path / "runs"), *options])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [message]
    assert not (tmp_path / "runs").exists()
