"""Checks before a run writes anything: the grid's size, the memory a synthetic world needs, and every input the
cells share (the data or world, the split, the targets, enough eligible users for each policy and size).

:func:`check_run` raises the same one-line errors a cell would meet later, so a config that cannot run leaves no
run folder, manifest or lock behind. Grids above :data:`MAX_CELLS` cells and worlds whose estimated memory
exceeds the machine's are refused unless the caller confirms (``--yes``).
"""

from __future__ import annotations

import math
import os

from recollective.errors import ConfigError, DataError

__all__ = ["MAX_CELLS", "check_run", "grid_size", "machine_memory", "world_memory"]

MAX_CELLS = 10_000
"""Largest grid run without ``--yes`` (about a day at a few seconds a cell on one core)."""

_GRID_FIELDS = ("models", "campaign.participants", "campaign.positions", "campaign.sizes", "seeds")


def grid_size(config) -> tuple[int, list[int]]:
    """(number of cells, the length of each grid axis in :data:`_GRID_FIELDS` order), without expanding."""
    campaign = config.campaign
    axes = [len(config.models), len(campaign.participants), len(campaign.positions), len(campaign.sizes),
            len(config.seeds)]
    return math.prod(axes), axes


def world_memory(world) -> int:
    """A rough estimate (bytes) of the memory building ``world`` (a ``[world]`` section) and splitting it takes:
    float64 factors and per-user / per-item working arrays, and about 80 bytes per interaction (sampling, the
    sparse matrix, its order, the train and test copies)."""
    rank = world.rank_majority + world.rank_minority
    return world.n_users * (16 * rank + 64) + world.n_items * (16 * rank + 200) + world.n_interactions * 80


def machine_memory() -> int | None:
    """Physical memory of this machine in bytes (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check_run(config, *, yes: bool = False, max_cells: int = MAX_CELLS, prepare: bool = True) -> None:
    """Raise the error a run of ``config`` would meet, before anything is written.

    Parameters
    ----------
    config : ExperimentConfig
    yes : bool
        Run grids above ``max_cells`` cells and worlds larger than this machine's memory anyway.
    max_cells : int
    prepare : bool
        Also build the shared inputs (load the data or the world, split, select targets) and check each
        participant policy and size against them; False when every cell is stored already.

    Raises
    ------
    ConfigError
        The grid or the world is too large (without ``yes``).
    RecollectiveError
        Whatever the shared inputs raise: a missing or malformed data file, unknown target ids, an empty target
        selection, a size larger than the users a policy can draw from.
    """
    n_cells, axes = grid_size(config)
    if n_cells > max_cells and not yes:
        shape = " x ".join(f"{n:,} {name}" for n, name in zip(axes, _GRID_FIELDS, strict=True))
        raise ConfigError(
            f"{config.name}: the grid has {n_cells:,} cells ({shape}), more than {max_cells:,}; shrink it or pass "
            "--yes to run it anyway"
        )
    if config.world is not None:
        need, have = world_memory(config.world), machine_memory()
        if have is not None and need > have and not yes:
            world = config.world
            raise ConfigError(
                f"{config.name}: world needs about {_gib(need)} of memory (world.n_users = {world.n_users:,}, "
                f"world.n_items = {world.n_items:,}, world.n_interactions = {world.n_interactions:,}) but this "
                f"machine has {_gib(have)}; make the world smaller or pass --yes to try anyway"
            )
    if prepare:
        _check_inputs(config)


def _check_inputs(config) -> None:
    from recollective.campaigns import Campaign
    from recollective.campaigns._participants import checked_pool
    from recollective.experiments._cells import prepared_inputs

    try:
        inputs = prepared_inputs(config)
    except MemoryError:
        source = "the world" if config.world is not None else f"the data ({config.data.path})"
        raise DataError(
            f"{config.name}: out of memory while building {source}; make it smaller (world.n_users, "
            "data.sample_users, data.k_core_*)"
        ) from None
    campaign = config.campaign
    for policy in campaign.participants:
        for size in campaign.sizes:
            spec = Campaign(targets=inputs.targets, participants=policy, size=size, rating=campaign.rating,
                            budget=campaign.budget, participation=campaign.participation)
            checked_pool(spec, inputs.train, inputs.audience)
