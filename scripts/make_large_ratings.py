"""A large, item-heavy ratings CSV tiled from goodbooks-10k, for scale runs of ``campaign run`` (seeded; data to /tmp).

    .venv/bin/python scripts/make_large_ratings.py --out /tmp/goodbooks_tiled.csv             # ~1.2M x 107k x 160k
    .venv/bin/python scripts/make_large_ratings.py --out /tmp/gb.csv --tiles 80 --keep 0.05  # other shapes

How the file is built (every draw from one ``numpy.random.Generator`` seeded by ``--seed``):

- goodbooks-10k's ``ratings_random.csv`` (298,176 ratings; the full histories of 2,672 users over 9,990 books) is
  copied ``--tiles`` times (default 40). Tile ``t`` has its own users: user ``u`` becomes ``t * 100000 + u``.
- Each tile keeps every rating independently with probability ``--keep`` (default 0.1), so a tiled user has about
  a tenth of the original history (about 11 ratings, a sparse, Book-Crossing-like profile).
- A kept rating of book ``b`` stays on the shared book ``b`` with probability ``--shared`` (default 0.3; the
  popular head every tile reads) and otherwise moves to tile ``t``'s own copy ``t * 100000 + b`` (the long tail
  only that tile's readers know), which makes the catalogue item-heavy.
- With probability ``--perturb`` (default 0.2) a kept rating moves one star up or down (clipped to 1..5).

No (user, item) pair repeats: a tiled user rates each original book at most once and each book maps to one item.
The output has the header ``user_id,item_id,rating`` and reads through the generic CSV path
(``--data FILE``). It prints the file's size and a few target suggestions (tile copies with 20-60 ratings) on
stderr. Write it to /tmp; generated data is never committed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

STRIDE = 100_000
"""Tile ``t``'s user and item ids are ``t * STRIDE + original id`` (original ids are below 60,000)."""


def tiled_ratings(users, books, ratings, *, tiles: int, keep: float, shared: float, perturb: float, seed: int):
    """(user_id, item_id, rating) arrays of the tiled data (see the module docstring); ``users``, ``books`` and
    ``ratings`` are the original columns."""
    rng = np.random.default_rng(seed)
    parts = []
    for tile in range(tiles):
        kept = np.flatnonzero(rng.random(users.size) < keep)
        to_copy = rng.random(kept.size) >= shared
        step = np.where(rng.random(kept.size) < perturb, rng.choice(np.array([-1, 1]), kept.size), 0)
        item = books[kept] + np.where(to_copy, tile * STRIDE, 0)
        rating = np.clip(ratings[kept] + step, 1, 5)
        parts.append((users[kept] + tile * STRIDE, item, rating))
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="CSV to write (put it under /tmp)")
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
                        / "goodbooks-10k" / "ratings_random.csv", help="goodbooks-10k ratings_random.csv")
    parser.add_argument("--tiles", type=int, default=40)
    parser.add_argument("--keep", type=float, default=0.1)
    parser.add_argument("--shared", type=float, default=0.3)
    parser.add_argument("--perturb", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    table = np.loadtxt(args.source, delimiter=",", skiprows=1, dtype=np.int64)
    users, items, ratings = tiled_ratings(table[:, 0], table[:, 1], table[:, 2], tiles=args.tiles, keep=args.keep,
                                          shared=args.shared, perturb=args.perturb, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as handle:
        handle.write("user_id,item_id,rating\n")
        np.savetxt(handle, np.column_stack([users, items, ratings]), fmt="%d", delimiter=",")
    distinct_items, counts = np.unique(items, return_counts=True)
    print(f"{args.out}: {users.size} ratings, {np.unique(users).size} users, {distinct_items.size} items "
          f"(seed {args.seed}, {args.tiles} tiles, keep {args.keep}, shared {args.shared})", file=sys.stderr)
    suggestions = distinct_items[(distinct_items >= STRIDE) & (counts >= 20) & (counts <= 60)][:5]
    print(f"target suggestions (tile copies with 20-60 ratings): {','.join(map(str, suggestions))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
