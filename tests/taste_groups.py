"""The small synthetic reading data of the campaign and attack tests: two taste groups and one rare book.

Users alternate between group A (even indices, the first half of the books) and group B (odd indices, the second
half); each reads ``per_user`` books of its half, drawn without replacement from all but the half's last book.
The very last book is rare: only the B readers with ``user % rare_every == 1`` have read it.
"""

import numpy as np

from recollective.data import Interactions
from recollective.data._splits import random_holdout


def readers(n_users: int, n_items: int, per_user: int, rare_every: int):
    """Yield ``(user, picked item indices, rng)`` per user from one seeded generator; a caller drawing values
    from ``rng`` while iterating gets the same numbers on every run."""
    rng = np.random.default_rng(0)
    half = n_items // 2
    for user in range(n_users):
        block = np.arange(half) + half * (user % 2)
        picked = rng.choice(block[:-1], size=per_user, replace=False)
        if user % 2 and user % rare_every == 1:
            picked = np.append(picked, n_items - 1)
        yield user, picked, rng


def reading_split(n_users: int = 120, n_items: int = 40, per_user: int = 9, rare_every: int = 10):
    """``(train, test)``: the readers as Interactions (every rating 5.0), 30% of each user's books held out
    (``random_holdout`` with seed 1)."""
    users, items = [], []
    for user, picked, _ in readers(n_users, n_items, per_user, rare_every):
        users += [user] * picked.size
        items += picked.tolist()
    data = Interactions.from_arrays(np.array(users), np.array(items), np.full(len(users), 5.0))
    return random_holdout(data, 0.3, rng=1)


def write_readers_csv(path) -> None:
    """The readers as ``user,book,stars`` lines (ids ``u<user>``, ``b<item>``, every rating 5), for CLI and config
    tests that read a CSV file."""
    rows = ["user,book,stars"]
    for user, picked, _ in readers(120, 40, per_user=9, rare_every=10):
        rows += [f"u{user},b{item},5" for item in picked]
    path.write_text("\n".join(rows) + "\n")
