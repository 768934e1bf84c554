"""What ``recollective data inspect`` reports: counts, density, popularity concentration, ratings, authors."""

from __future__ import annotations

import math

import numpy as np

from recollective.data._interactions import Interactions
from recollective.data._validation import LoadResult

__all__ = ["describe", "gini", "top_share"]

_MAX_RATING_LEVELS = 20  # more distinct values than this: quantiles instead of a table of counts


def gini(counts) -> float:
    """Gini coefficient of non-negative counts (0 = all equal, -> 1 = all on one); NaN when all are zero.

    ``G = sum_i (2 i - n - 1) x_(i) / (n sum_i x_i)`` with ``x_(1) <= ... <= x_(n)``.
    """
    values = np.sort(np.asarray(counts, dtype=np.float64))
    n = values.size
    total = values.sum()
    if n == 0 or total <= 0:
        return math.nan
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * values) / (n * total))


def top_share(counts, fraction: float) -> float:
    """Share of the total held by the top ``ceil(fraction * n)`` entries; NaN when the total is zero."""
    values = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    total = values.sum()
    if values.size == 0 or total <= 0:
        return math.nan
    k = max(1, math.ceil(fraction * values.size))
    return float(values[:k].sum() / total)


def _spread(counts: np.ndarray) -> dict:
    if counts.size == 0:
        return {"min": None, "median": None, "mean": None, "max": None}
    return {
        "min": int(counts.min()),
        "median": float(np.median(counts)),
        "mean": float(counts.mean()),
        "max": int(counts.max()),
    }


def describe(result: LoadResult | Interactions, top_authors: int = 10) -> dict:
    """A JSON-ready summary.

    Keys: ``n_users``, ``n_items``, ``n_interactions`` (rows after dropping exact duplicate rows, before any
    filtering: one per kept row), ``n_stored`` (matrix entries), the load counts (``n_rows``, ``n_bad_lines``,
    ``n_filtered``, ``n_duplicate_rows``, ``n_conflicting_rows``), ``density``, ``per_user`` / ``per_item``
    (min, median, mean, max interactions), ``popularity`` (Gini of the item counts over all items, share of the
    interactions on the top 1% and 10% of items, fewest items holding half of them), ``ratings`` (None for
    implicit data; else mean and counts per value, or quantiles when values are many), ``order`` (range, when
    present) and ``authors`` (when items have a primary author: number of authors, their Gini and top-1% share,
    and the ``top_authors`` most read: author, interactions, items, users).
    """
    data = result.interactions if isinstance(result, LoadResult) else result
    matrix = data.matrix
    per_user = np.diff(matrix.indptr)
    per_item = np.bincount(matrix.indices, minlength=data.n_items)
    summary: dict = {
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_interactions": result.n_distinct_rows if isinstance(result, LoadResult) else data.n_interactions,
        "n_stored": data.n_interactions,
        "density": data.density,
        "per_user": _spread(per_user),
        "per_item": _spread(per_item),
    }
    if isinstance(result, LoadResult):
        summary.update(
            path=result.path,
            format=result.format,
            n_rows=result.n_rows,
            n_bad_lines=result.n_bad_lines,
            n_filtered=result.n_filtered,
            n_duplicate_rows=result.n_duplicate_rows,
            n_conflicting_rows=result.n_conflicting_rows,
        )
    sorted_items = np.sort(per_item)[::-1]
    cumulative = np.cumsum(sorted_items)
    half = int(np.searchsorted(cumulative, 0.5 * cumulative[-1]) + 1) if cumulative.size and cumulative[-1] else None
    summary["popularity"] = {
        "gini": gini(per_item),
        "top_1pct_items": max(1, math.ceil(0.01 * data.n_items)) if data.n_items else 0,
        "top_1pct_share": top_share(per_item, 0.01),
        "top_10pct_share": top_share(per_item, 0.10),
        "items_for_half": half,
        "n_items_never_rated": int((per_item == 0).sum()),
    }
    summary["ratings"] = _ratings(matrix.data)
    if data.order is not None and data.order.nnz:
        order = data.order.data[np.isfinite(data.order.data)]
        summary["order"] = {
            "min": float(order.min()) if order.size else None,
            "max": float(order.max()) if order.size else None,
            "n_missing": int(data.order.nnz - order.size),
        }
    else:
        summary["order"] = None
    summary["authors"] = _authors(data, per_item, top_authors)
    return summary


def _ratings(values: np.ndarray) -> dict | None:
    if values.size == 0 or np.all(values == 1.0):
        return None
    levels, counts = np.unique(values, return_counts=True)
    out = {"mean": float(values.mean()), "min": float(levels[0]), "max": float(levels[-1])}
    if levels.size <= _MAX_RATING_LEVELS:
        out["counts"] = {_level(v): int(c) for v, c in zip(levels, counts, strict=True)}
    else:
        qs = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
        out["quantiles"] = {str(q): float(x) for q, x in zip(qs, np.quantile(values, qs), strict=True)}
    return out


def _level(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _authors(data: Interactions, per_item: np.ndarray, top: int) -> dict | None:
    metadata = data.item_metadata
    if metadata is None or "primary_author" not in metadata:
        return None
    authors = np.asarray(metadata["primary_author"], dtype=object)
    known = np.array([a is not None and a == a and a != "" for a in authors.tolist()], dtype=bool)
    if not known.any():
        return None
    names, author_of_item = np.unique(authors[known].astype(str), return_inverse=True)
    item_idx = np.flatnonzero(known)
    interactions = np.bincount(author_of_item, weights=per_item[item_idx], minlength=names.size).astype(np.int64)
    items = np.bincount(author_of_item, minlength=names.size)
    # users per author: distinct (user, author) pairs among the interactions on known items
    author_by_item = np.full(data.n_items, -1, dtype=np.int64)
    author_by_item[item_idx] = author_of_item
    coo = data.matrix.tocoo()
    author_col = author_by_item[coo.col]
    on_known = author_col >= 0
    pairs = np.unique(coo.row[on_known].astype(np.int64) * names.size + author_col[on_known])
    users = np.bincount(pairs % names.size, minlength=names.size)
    ranking = np.lexsort((names, -interactions))[:top]
    return {
        "n_authors": int(names.size),
        "n_items_without_author": int((~known).sum()),
        "gini": gini(interactions),
        "top_1pct_share": top_share(interactions, 0.01),
        "top": [
            {
                "author": str(names[i]),
                "n_interactions": int(interactions[i]),
                "n_items": int(items[i]),
                "n_users": int(users[i]),
            }
            for i in ranking
        ],
    }
