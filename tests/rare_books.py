"""Small synthetic reading data with two taste groups and one rare book in each (composed-campaign tests)."""

import numpy as np

from recollective.data import Interactions
from recollective.data._splits import random_holdout


def two_rare_books(n_users=160, n_items=40, per_user=8, seed=0):
    """Two taste groups (even users read books 0..19, odd users 20..39); book 19 is rare in group A (users with
    ``user % 8 == 0``) and book 39 in group B (``user % 8 == 1``). Ratings 1..5; 30% held out (seed 1)."""
    rng = np.random.default_rng(seed)
    half = n_items // 2
    users, items, values = [], [], []
    for user in range(n_users):
        block = np.arange(half) + half * (user % 2)
        picked = rng.choice(block[:-1], size=per_user, replace=False)
        if user % 8 in (0, 1):
            picked = np.append(picked, block[-1])
        users += [user] * picked.size
        items += picked.tolist()
        values += rng.integers(1, 6, picked.size).tolist()
    data = Interactions.from_arrays(np.array(users), np.array(items), np.array(values, dtype=float))
    return random_holdout(data, 0.3, rng=1)
