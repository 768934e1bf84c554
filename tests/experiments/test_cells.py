"""Grid expansion, cell hashes and the cell function (equal to the campaign sweep, independent of order)."""

import pytest

from recollective.campaigns import Campaign, sweep_campaigns
from recollective.experiments import (
    CELL_KEYS,
    Cell,
    _cells,
    cell_hash,
    expand_cells,
    load_experiment_config,
    run_cell,
)
from recollective.models import make_model

from .helpers import TINY, write_config


@pytest.fixture(scope="module")
def tiny():
    return load_experiment_config(TINY)


def test_grid_order_and_size(tiny):
    cells = expand_cells(tiny)
    assert len(cells) == 3 * 2 * 1 * 2 * 2
    assert cells[0] == Cell("popularity", "closest", "append", 10, 0)
    assert cells[1] == Cell("popularity", "closest", "append", 10, 1)
    assert cells[-1] == Cell("puresvd", "random", "append", 0.1, 1)
    assert len(set(cells)) == len(cells)


def test_hash_follows_what_the_cell_depends_on(tmp_path, tiny):
    cell = Cell("itemknn", "random", "append", 10, 0)
    base = cell_hash(tiny, cell)
    assert len(base) == 64 and base == cell_hash(load_experiment_config(TINY), cell)
    text = TINY.read_text()

    def hash_with(old, new):
        return cell_hash(load_experiment_config(write_config(tmp_path, text, replace={old: new})), cell)

    # other cells of the grid do not matter
    assert hash_with("seeds = [0, 1]", "seeds = [0, 1, 2]") == base
    assert hash_with("sizes = [10, 0.1]", "sizes = [10, 0.1, 0.2]") == base
    assert hash_with("n_factors = 16", "n_factors = 8") == base  # another model's hyper-parameter
    assert hash_with('name = "tiny"', 'name = "renamed"') == base
    # what the cell's row depends on does
    assert hash_with("n_neighbors = 50", "n_neighbors = 20") != base
    assert hash_with("n_users = 300", "n_users = 301") != base
    assert hash_with("max_targets = 2", "max_targets = 1") != base
    assert hash_with("k = 10", "k = 5") != base
    assert hash_with('"noise_floor"]', '"noise_floor", "gini_after"]') != base
    assert hash_with("[campaign]", "[campaign]\nrating = 4.0") != base
    assert cell_hash(tiny, Cell("itemknn", "random", "append", 10, 1)) != base


def test_rows_equal_the_campaign_sweep(tiny):
    inputs = _cells._prepare(tiny)
    models = {name: make_model(name, **params) for name, params in tiny.models.items()}
    template = Campaign(targets=inputs.targets, participants="closest")
    expected = sweep_campaigns(models, inputs.train, inputs.test, template, sizes=tiny.campaign.sizes,
                               seeds=tiny.seeds, participants=tiny.campaign.participants,
                               positions=tiny.campaign.positions, k=tiny.k, world=inputs.world)
    assert inputs.world is not None  # a world config: utilities on the true preferences
    rows = {tuple(row[key] for key in CELL_KEYS): row for row in expected}
    for cell in expand_cells(tiny):
        row = run_cell(tiny, cell)
        reference = rows[(cell.model, cell.participants, cell.position, cell.size, cell.seed)]
        assert row == {"cell": cell_hash(tiny, cell), **cell.as_dict(),
                       **{metric: reference[metric] for metric in tiny.metrics}}


def test_rows_do_not_depend_on_the_order_cells_run_in(tiny):
    cells = expand_cells(tiny)
    _cells._INPUTS.clear()
    _cells._BASELINES.clear()
    forward = [run_cell(tiny, cell) for cell in cells]
    _cells._INPUTS.clear()
    _cells._BASELINES.clear()
    backward = [run_cell(tiny, cell) for cell in reversed(cells)][::-1]
    assert forward == backward
    batch = _cells.run_batch(tiny.model_dump(mode="json"), [cells[5].as_dict(), cells[0].as_dict()])
    assert batch == [forward[5], forward[0]]
