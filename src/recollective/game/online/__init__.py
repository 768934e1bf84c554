"""The online matrix-completion game: an explore-then-commit learner, collectives acting in the loop.

See docs/online.md. ``simulate`` plays one seed; ``run_online`` many, with per-round means and 95% intervals.
"""

from recollective.game.online._aggregate import OnlineSummary, SeriesSummary, run_online, summarise
from recollective.game.online._config import CollectiveInLoop, OnlineConfig, build
from recollective.game.online._estimators import ESTIMATORS, Completion, als, complete, soft_impute, usvt
from recollective.game.online._preferences import latent_preferences
from recollective.game.online._simulation import OnlineRun, simulate

__all__ = [
    "ESTIMATORS",
    "CollectiveInLoop",
    "Completion",
    "OnlineConfig",
    "OnlineRun",
    "OnlineSummary",
    "SeriesSummary",
    "als",
    "build",
    "complete",
    "latent_preferences",
    "run_online",
    "simulate",
    "soft_impute",
    "summarise",
    "usvt",
]
