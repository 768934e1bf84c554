"""Small multiples for campaign figures: one panel per model, one line style per variant.

A "line" is one (model, participants, position) combination of :func:`recollective.campaigns.summarize_rows`
output; a "variant" is its (participants, position) part. Every model of the summary gets a panel (no cap), in
the order the summary first names it, and keeps its colour across figures of the same run
(:func:`recollective.report._figures.line_style`).
"""

from __future__ import annotations

import math

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.report._figures import GREY, WIDTH, line_style

__all__ = ["Lines", "model_axes", "panel_legend", "text_label", "values"]


def text_label(text) -> str:
    """A dataset string as matplotlib text: ``$`` would start mathtext."""
    return str(text).replace("$", r"\$")


class Lines:
    """Summary rows grouped into lines, each sorted by the number of participants.

    Attributes
    ----------
    lines : dict of (model, participants, position) to list of dict
    models : list of str
        In order of first appearance.
    variants : list of (participants, position)
        In order of first appearance.
    several : bool
        Whether the run has more than one variant (names then include it).
    """

    def __init__(self, summary_rows: list[dict], needed: tuple[str, ...] = ()):
        if not summary_rows:
            raise InvalidParameterError("summary_rows is empty: nothing to plot")
        missing = [key for key in ("model", "participants", "position", "n_participants", *needed)
                   if key not in summary_rows[0]]
        if missing:
            raise InvalidParameterError(f"summary rows have no column(s) {', '.join(map(repr, missing))}")
        lines: dict[tuple, list[dict]] = {}
        for row in summary_rows:
            lines.setdefault((row["model"], row["participants"], row["position"]), []).append(row)
        self.lines = {label: sorted(rows, key=lambda r: r["n_participants"]) for label, rows in lines.items()}
        self.models = list(dict.fromkeys(label[0] for label in self.lines))
        self.variants = list(dict.fromkeys(label[1:] for label in self.lines))
        self.several = len(self.variants) > 1

    def of_model(self, model) -> list[tuple[tuple, list[dict]]]:
        return [(label, rows) for label, rows in self.lines.items() if label[0] == model]

    def style(self, label: tuple) -> dict:
        return line_style(self.models.index(label[0]), self.variants.index(label[1:]))

    def variant_name(self, label: tuple) -> str:
        """``"closest"`` (or ``"closest, first"`` when positions differ across the run)."""
        positions = {variant[1] for variant in self.variants}
        return text_label(label[1] if len(positions) == 1 else f"{label[1]}, {label[2]}")

    def name(self, label: tuple) -> str:
        return text_label(f"{label[0]} ({self.variant_name(label)})" if self.several else label[0])

    def largest(self) -> list[tuple[tuple, dict]]:
        """Each line's row with the most participants (every line: no cap)."""
        return [(label, rows[-1]) for label, rows in self.lines.items()]

    def handles(self, band: str | None = None) -> list:
        """Legend entries: the dotted "before" line, one black "after" line per variant (its line style and
        marker), and the interval band named by ``band``."""
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [Line2D([], [], color=GREY, linestyle=":", linewidth=1.6, label="before (no campaign)")]
        for index, variant in enumerate(self.variants):
            style = line_style(0, index)
            handles.append(Line2D([], [], color=GREY, linewidth=2, linestyle=style["linestyle"],
                                  marker=style["marker"], label=f"after, {self.variant_name((None, *variant))} "
                                  "participants"))
        if band:
            handles.append(Patch(color=GREY, alpha=0.3, label=band.replace(", clipped", ",\nclipped")))
        return handles

    def n_seeds(self) -> list[int]:
        return [int(r.get("n_seeds", 1)) for rows in self.lines.values() for r in rows]


def model_axes(figure, n_models: int, *, ncols: int = 3, sharey: bool = True, panel_height: float = 2.5):
    """One axes per model in a grid of at most ``ncols`` columns, the figure resized to :data:`WIDTH` wide.

    Returns the first ``n_models`` axes and the first spare grid cell (an axes without axis lines, for the legend;
    None when the grid is full). Further spare cells are removed.
    """
    ncols = max(1, min(ncols, n_models))
    nrows = math.ceil(n_models / ncols)
    figure.set_size_inches(WIDTH, 1.3 + panel_height * nrows)
    axes = np.atleast_1d(figure.subplots(nrows, ncols, sharex=True, sharey=sharey, squeeze=False)).ravel()
    for extra in axes[n_models + 1:]:
        extra.remove()
    spare = axes[n_models] if axes.size > n_models else None
    if spare is not None:
        spare.axis("off")
    for ax in axes[:n_models]:
        ax.tick_params(labelbottom=True, labelleft=True)
    return list(axes[:n_models]), spare


def panel_legend(figure, spare, handles) -> None:
    """The legend in the spare grid cell when there is one, else below the panels: never over data."""
    if spare is not None:
        spare.legend(handles=handles, loc="center", frameon=False)
    else:
        figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 2))


def values(rows: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=float)
