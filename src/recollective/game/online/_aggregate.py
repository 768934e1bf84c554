"""Many seeds of the online game: per-round means and 95% confidence intervals, truthful versus collective."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from recollective.errors import InvalidParameterError
from recollective.game.online._config import CollectiveInLoop, OnlineConfig
from recollective.game.online._simulation import OnlineRun, simulate

__all__ = ["OnlineSummary", "SeriesSummary", "run_online", "summarise"]

SERIES = (
    "welfare",
    "minority_welfare",
    "members_welfare",
    "regret",
    "predicted_engagement",
    "retained_variation_per_round",
    "fit_error_per_round",
)


@dataclass(frozen=True, eq=False)
class SeriesSummary:
    """Mean and 95% t-interval half-width across seeds, per round (ndarrays of shape (rounds,)).

    ``half_width`` is NaN with a single seed.
    """

    mean: np.ndarray
    half_width: np.ndarray

    @property
    def low(self) -> np.ndarray:
        return self.mean - self.half_width

    @property
    def high(self) -> np.ndarray:
        return self.mean + self.half_width

    def as_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "ci95_low": self.low.tolist(), "ci95_high": self.high.tolist()}


def summarise(samples: np.ndarray) -> SeriesSummary:
    """Per-column mean and 95% Student-t half-width of ``samples`` (ndarray of shape (n_seeds, rounds))."""
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.shape[0]
    mean = samples.mean(axis=0)  # NaN where a series is undefined (e.g. predictions before the first fit)
    if n < 2:
        return SeriesSummary(mean, np.full(samples.shape[1], np.nan))
    sd = samples.std(axis=0, ddof=1)
    return SeriesSummary(mean, stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n))


@dataclass(frozen=True, eq=False)
class OnlineSummary:
    """Runs of several seeds and their per-round summaries."""

    runs: tuple[OnlineRun, ...]
    series: dict[str, SeriesSummary]
    final_welfare: SeriesSummary
    completion_error: SeriesSummary

    @property
    def seeds(self) -> list[int]:
        return [run.seed for run in self.runs]

    def as_dict(self, include_runs: bool = False) -> dict:
        out = {name: summary.as_dict() for name, summary in self.series.items()}
        out["final_social_welfare"] = self.final_welfare.as_dict()
        out["completion_error"] = self.completion_error.as_dict()
        out["seeds"] = self.seeds
        out["mean_rank_final"] = float(np.mean([run.final_rank for run in self.runs]))
        if include_runs:
            out["runs"] = [run.as_dict() for run in self.runs]
        return out


def run_online(
    R_true,
    alpha,
    config: OnlineConfig | None = None,
    *,
    seeds=(0,),
    collective: CollectiveInLoop | None = None,
    R_reported=None,
    user_group=None,
    progress: Callable[[int, int], None] | None = None,
) -> OnlineSummary:
    """Play the online game once per seed and summarise (``progress(done, total)`` after each seed)."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise InvalidParameterError("seeds is empty; give at least one seed")
    runs = []
    for index, seed in enumerate(seeds):
        runs.append(
            simulate(
                R_true, alpha, config, collective=collective, R_reported=R_reported, user_group=user_group, seed=seed
            )
        )
        if progress is not None:
            progress(index + 1, len(seeds))
    series = {name: summarise(np.stack([getattr(run, name) for run in runs])) for name in SERIES}
    series["rank"] = summarise(np.stack([run.rank.astype(np.float64) for run in runs]))
    final = summarise(np.array([[float(run.final_utilities.sum())] for run in runs]))
    error = summarise(np.array([[run.completion_error] for run in runs]))
    return OnlineSummary(tuple(runs), series, final, error)
