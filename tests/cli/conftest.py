"""Fixtures of the CLI tests."""

import pytest

from recollective.game import majority_minority, save_instance


@pytest.fixture(scope="module")
def instance_file(tmp_path_factory):
    """The default majority–minority instance (seed 0) saved as .npz, once per test module."""
    path = tmp_path_factory.mktemp("game") / "instance.npz"
    save_instance(majority_minority(rng=0), path)
    return path
