"""The report's first section: what was asked, the headline result in one sentence per model, the key figure.

Everything here is read from the run folder (its manifest or summary document, its result rows averaged over
seeds, its game tables); nothing is recomputed. Sentences are plain text, escaped by the page builder.
"""

from __future__ import annotations

import math

__all__ = ["asked", "audience_sizes", "game_sentences", "headline_sentences", "is_world"]


def is_world(metadata: dict) -> bool:
    """Whether the run played on a synthetic world (its per-group utilities are then true DCG@k)."""
    config = metadata.get("config")
    return isinstance(config, dict) and isinstance(config.get("world"), dict)


def _percent(value) -> str:
    """A share as a percentage: whole percents from 10% up (and for 0), one decimal below."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.0%}" if value == 0 or value >= 0.0995 else f"{value:.1%}"


def _listing(values) -> str:
    return ", ".join(str(v) for v in values)


def _sizes(summary: list[dict]) -> str:
    """Collective sizes as configured, with the participant counts they gave: ``1%, 2% of users (20, 40
    participants)``."""
    counts: dict = {}
    for row in summary:
        counts.setdefault(row["size"], set()).add(round(row["n_participants"]))
    sizes = sorted(counts)
    given = "; ".join(_listing(sorted(counts[size])) for size in sizes)
    if all(isinstance(size, float) and 0 < size < 1 for size in sizes):
        return f"{_listing(_percent(size) for size in sizes)} of users ({given} participants)"
    return f"{_listing(sizes)} ({given} participants)"


def _data(metadata: dict) -> str | None:
    config = metadata.get("config") if isinstance(metadata.get("config"), dict) else {}
    world = config.get("world")
    if isinstance(world, dict):
        shape = " × ".join(f"{world[key]} {name}" for key, name in (("n_users", "users"), ("n_items", "items"))
                           if key in world)
        extra = f", {world['n_interactions']} interactions" if "n_interactions" in world else ""
        return f"synthetic {str(world.get('kind', '')).replace('_', '–')} world: {shape}{extra}".replace("  ", " ")
    data = config.get("data") if isinstance(config.get("data"), dict) else metadata.get("data")
    if isinstance(data, dict):
        if "path" in data:
            return str(data["path"])
        if "n_users" in data:
            return f"{data['n_users']} users × {data.get('n_items', '?')} items" + (
                f", {data['n_interactions']} interactions" if "n_interactions" in data else "")
    return None


def _targets(metadata: dict) -> str | None:
    targets = metadata.get("targets")
    if isinstance(targets, dict) and targets.get("item_ids"):
        titles = targets.get("titles") or []
        named = [f"{item} ({title})" if title else str(item)
                 for item, title in zip(targets["item_ids"], [*titles, *[None] * len(targets["item_ids"])],
                                        strict=False)]
        audience = f"; audience: {targets['audience_size']} users" if "audience_size" in targets else ""
        return _listing(named) + audience
    config = metadata.get("config") if isinstance(metadata.get("config"), dict) else {}
    chosen = config.get("targets")
    if isinstance(chosen, dict):
        if chosen.get("item_ids"):
            return "items " + _listing(chosen["item_ids"])
        if chosen.get("method"):
            limit = f", at most {chosen['max_targets']}" if chosen.get("max_targets") else ""
            audience = f", each liked by at least {chosen['min_audience']} users" if chosen.get("min_audience") else ""
            return f"chosen by the {chosen['method']} rule{limit}{audience}"
    return None


def asked(run, summary: list[dict]) -> list[tuple[str, str]]:
    """(what, value) pairs: the data, the targets, the models, the collective (participant policies, placements,
    sizes), seeds and list length."""
    rows = run.rows
    facts = []
    for label, value in (("data", _data(run.metadata)), ("targets", _targets(run.metadata))):
        if value:
            facts.append((label, value))
    facts.append(("models", _listing(dict.fromkeys(r["model"] for r in rows))))
    policies = " or ".join(dict.fromkeys(str(r["participants"]) for r in rows))
    positions = " or ".join(dict.fromkeys(str(r["position"]) for r in rows))
    facts.append(("collective", f"{policies} participants, targets placed: {positions}; sizes {_sizes(summary)}"))
    seeds = sorted(dict.fromkeys(r["seed"] for r in rows))
    config = run.metadata.get("config") if isinstance(run.metadata.get("config"), dict) else {}
    k = f"; lists of k = {config['k']}" if "k" in config else ""
    facts.append(("repetitions", f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({_listing(seeds)}){k}"))
    return facts


def audience_sizes(summary: list[dict]) -> list[int]:
    """The audience sizes of the summary rows (users who like a target), distinct and sorted."""
    return sorted({round(r["audience_size"]) for r in summary
                   if isinstance(r.get("audience_size"), int | float) and math.isfinite(r["audience_size"])})


def headline_sentences(summary: list[dict], k=None, utility: str = "NDCG") -> list[str]:
    """One sentence per model: target exposure before → after at the cell with the largest gain (the smallest
    collective on ties), with its interval, and accuracy (all test users, held-out) before → after there."""
    if not summary or "target_exposure_after" not in summary[0] or "target_exposure_before" not in summary[0]:
        return []
    at_k = f"@{k}" if k else "@k"
    sentences = []
    for model in dict.fromkeys(r["model"] for r in summary):
        cells = [r for r in summary if r["model"] == model and math.isfinite(r["target_exposure_after"])
                 and math.isfinite(r["target_exposure_before"])]
        if not cells:
            sentences.append(f"{model}: target exposure is undefined in every cell (an empty audience).")
            continue
        best = max(cells, key=lambda r: (r["target_exposure_after"] - r["target_exposure_before"],
                                         -r["n_participants"]))
        who = f"{best['n_participants']:.0f} {best['participants']} participants"
        if len({r["position"] for r in summary}) > 1:
            who += f" ({best['position']})"
        low, high = best.get("target_exposure_after_low"), best.get("target_exposure_after_high")
        seeds = int(best.get("n_seeds", 1))
        interval = ""
        if seeds > 1 and low is not None and high is not None:
            same = "both" if seeds == 2 else f"all {seeds}"
            interval = (f" (the same in {same} seeds)" if _percent(low) == _percent(high) else
                        f" (95% t-interval over {seeds} seeds: {_percent(low)}–{_percent(high)})")
        before, after = best["target_exposure_before"], best["target_exposure_after"]
        if after - before <= 0:
            text = f"{model}: no collective raised target exposure above {_percent(before)} of the audience"
        else:
            text = f"{model}: {_percent(before)} → {_percent(after)} of the audience see a target with {who}{interval}"
        if "ndcg_before" in best and "ndcg_after" in best:
            text += f"; {utility}{at_k} {best['ndcg_before']:.3f} → {best['ndcg_after']:.3f}"
        sentences.append(text + ".")
    return sentences


def game_sentences(window_rows: list[dict]) -> list[str]:
    """The one-shot game's windows from the rows of ``window.csv``: where the strategy raises social welfare and
    where nobody is worse off."""
    if not window_rows or "is_effective" not in window_rows[0]:
        return []

    def where(flag):
        spans = _spans([r for r in window_rows if r.get(flag) in ("1", "True", "true")])
        return " and ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in spans) if spans else None

    effective = where("is_effective")
    if effective is None:
        return ["One-shot game: no uprating value x of the collective raises social welfare."]
    text = f"One-shot game: the collective's uprating x raises social welfare for x in {effective}"
    if "is_pareto_effective" in window_rows[0]:
        pareto = where("is_pareto_effective")
        text += (f", and leaves nobody worse off for x in {pareto}" if pareto else
                 ", but never without somebody worse off")
    return [text + "."]


def _spans(rows: list[dict]) -> list[tuple[float, float]]:
    """Adjacent [lo, hi] pieces merged."""
    spans: list[list[float]] = []
    for row in rows:
        lo, hi = float(row["lo"]), float(row["hi"])
        if spans and math.isclose(spans[-1][1], lo):
            spans[-1][1] = hi
        else:
            spans.append([lo, hi])
    return [(lo, hi) for lo, hi in spans]
