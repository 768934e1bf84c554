"""The range each campaign metric can take, and intervals clipped to it.

:func:`recollective.campaigns.summarize_rows` gives symmetric Student-t intervals over seeds, which can reach
outside what a quantity can be (a share below 0%). The report shows them clipped to the quantity's range
(:func:`clip_intervals`) and says so (:func:`interval_method`).
"""

from __future__ import annotations

import math
import re

__all__ = ["clip_intervals", "interval_method", "metric_range"]

_SHARES = re.compile(r"^(target_exposure(_majority)?|coverage|aplt|gini|target_ndcg|ndcg|recall(_\w+)?|"
                     r"hit_rate(_\w+)?|externality_bin\d+_share|(participants_)?(better|worse|unchanged)_share)$")
_NON_NEGATIVE = re.compile(r"^(amplification|arp|discounted_exposure|ndcg_\w+|n_\w+|audience_size|hits|"
                           r"noise_floor|welfare)$")


def metric_range(metric: str, true_utility: bool = False) -> tuple[float, float]:
    """``(low, high)``: the values ``metric`` (with or without ``_before`` / ``_after``) can take.

    Shares, NDCG, recall, hit rate and coverage lie in [0, 1]; amplification, ARP, counts and discounted exposure
    in [0, inf). The per-group utilities ``ndcg_<group>`` are NDCG@k in [0, 1] on data, but the true DCG@k in
    [0, inf) in a synthetic world (``true_utility=True``). Anything else is unbounded.
    """
    name = re.sub(r"_(before|after)$", "", metric)
    if name.startswith("ndcg_") and not true_utility:
        return 0.0, 1.0
    if _SHARES.match(name):
        return 0.0, 1.0
    if _NON_NEGATIVE.match(name):
        return 0.0, math.inf
    return -math.inf, math.inf


def clip_intervals(summary_rows: list[dict], true_utility: bool = False) -> list[dict]:
    """Copies of ``summary_rows`` with every ``<metric>_low`` / ``<metric>_high`` clipped to the metric's range
    (:func:`metric_range`); means are left as they are (a mean of values in range is in range)."""
    out = []
    for row in summary_rows:
        row = dict(row)
        for key in list(row):
            for side in ("_low", "_high"):
                if key.endswith(side) and key[: -len(side)] in row and isinstance(row[key], int | float):
                    low, high = metric_range(key[: -len(side)], true_utility)
                    value = float(row[key])
                    row[key] = value if math.isnan(value) else min(max(value, low), high)
        out.append(row)
    return out


def interval_method(n_seeds) -> str:
    """How the report's intervals are made, for captions: ``"95% t-interval over 3 seeds, clipped to the
    quantity's range"`` (or a note that one seed gives none)."""
    counts = sorted({int(n) for n in n_seeds})
    if not counts or counts[-1] <= 1:
        return "one seed, so no interval"
    seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    return f"95% t-interval over {seeds} seeds, clipped to the quantity's range"
