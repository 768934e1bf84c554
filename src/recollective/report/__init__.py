"""Reports: figures and tables drawn from results that already exist (never recomputed).

matplotlib is imported inside each plotting function, so importing this package stays cheap.
"""

from recollective.report.game_plots import plot_spectrum, plot_window

__all__ = ["plot_spectrum", "plot_window"]
