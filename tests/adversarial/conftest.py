"""The split the detection and attack-study tests share: a majority/minority world of 300 users and 120 items."""

import pytest

from recollective.data._splits import random_holdout
from recollective.data._worlds import majority_minority_world


@pytest.fixture(scope="module")
def split():
    """(train, test) of a 6000-rating majority/minority world (seed 0), 20% of each user's ratings held out."""
    world = majority_minority_world(300, 120, 6000, values="rating", rng=0)
    return random_holdout(world.interactions, 0.2, rng=1)
