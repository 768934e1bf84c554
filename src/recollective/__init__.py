"""recollective: simulate, plan and evaluate collective action in recommender systems.

The one-shot game of Fedorova, Kitch & Podimata (arXiv 2506.04525), as reconstructed in docs/model.md,
lives in :mod:`recollective.game`.
"""

from recollective.errors import (
    ConfigError,
    DataError,
    InvalidParameterError,
    NotFittedError,
    RecollectiveError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "InvalidParameterError",
    "NotFittedError",
    "RecollectiveError",
    "__version__",
]
