"""Plain-words lines printed beside the CLI's jargon: what a number means and, where it helps, what to do.

Each function returns the lines to print under a table or a summary (none when the output needs no explanation),
indented and wrapped to ``WIDTH`` characters; the commands print them only in their human-readable output, never in
``--json``. The meanings follow docs/windows.md (uncertified cells, certified radius), metrics/_amplification.py
(amplification) and docs/adversarial.md (detector AUC).
"""

from __future__ import annotations

import math
import textwrap

__all__ = ["WIDTH", "amplification_lines", "inverted_auc_lines", "radius_lines", "uncertified_lines"]

WIDTH = 118
"""Characters per glossary line (they are read in a terminal, under tables that are often as wide)."""


def _paragraph(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False)


def uncertified_lines(uncertified, x_max: float) -> list[str]:
    """Under ``game window``'s count of uncertified cells: what such a cell is and what it leaves open."""
    if not uncertified:
        return []
    widths = [hi - lo for lo, hi in uncertified]
    share = sum(widths) / x_max if x_max > 0 else math.nan
    return _paragraph(
        f"uncertified cells ({share:.0%} of [0, {x_max:.6g}], each at most {max(widths):.3g} wide): both ends of "
        "each give the same outcome, but the certificate could not prove it constant in between, so a change "
        "narrower than one cell could hide there; the breakpoints are accurate to the tolerance above. Common on "
        "generated instances, whose scores are nearly tied; see docs/windows.md."
    )


def radius_lines(radius: float, binding: str) -> list[str]:
    """Under ``game certify``'s certified radius: what the number promises, and what a radius of 0 means."""
    if radius > 0:
        return _paragraph(
            f"certified radius {radius:.6g}: every change of the reported preferences with spectral norm below it "
            "keeps k* and every user's top item."
        )
    cause = (
        f"{binding.removeprefix('tie at ')}'s top item is decided by a tie (as for every suppressed minority user "
        "under truthful play)"
        if binding.startswith("tie at ")
        else f"the {binding} constraint leaves no room"
    )
    return _paragraph(
        "radius 0: no perturbation of the preferences, however small, is certified to keep this outcome; any change "
        f"may alter it (and a strategy relying on it). Here {cause}. See docs/windows.md."
    )


def amplification_lines(before: float | None, after: float | None) -> list[str]:
    """Under a before/after table with amplification: what ``–`` (undefined) and ``inf`` mean there."""
    values = [v for v in (before, after) if v is not None]
    parts = []
    if any(v != v for v in values):  # NaN, printed as –
        parts.append(
            "amplification –: undefined: no other items are as frequent in training as the targets to compare them "
            "with, or neither were recommended (0/0)."
        )
    if any(v == math.inf for v in values):
        parts.append(
            "amplification inf: the targets were recommended while items as frequent in training never were, so "
            "the ratio is infinite."
        )
    if not parts:
        return []
    return _paragraph(" ".join(parts) + " Read the target exposure rows (the absolute change) instead.")


def inverted_auc_lines(rows, who: str = "the accounts that acted") -> list[str]:
    """Under a detector table: what an AUC below 0.5 means, naming the detectors it concerns (``rows`` are
    dicts with ``detector`` and ``roc_auc``)."""
    inverted = sorted({row["detector"] for row in rows if row.get("roc_auc") is not None and row["roc_auc"] < 0.5})
    if not inverted:
        return []
    return _paragraph(
        f"AUC < 0.5 ({', '.join(inverted)}): the detector ranks {who} as *less* suspicious than ordinary users; "
        "flagging by its scores catches fewer of them than flagging at random would (0.5 = chance, 1 = all of them "
        "ranked first). See docs/adversarial.md."
    )
