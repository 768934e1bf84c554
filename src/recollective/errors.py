"""The one exception family of recollective.

Every error the library raises on bad input is a :class:`RecollectiveError`; its message says what is wrong,
where (argument, file, field), the value received and what to do. The CLI prints it as one line and exits 2.
"""

__all__ = [
    "ConfigError",
    "DataError",
    "InvalidParameterError",
    "NotFittedError",
    "RecollectiveError",
]


class RecollectiveError(Exception):
    """Base class of every error raised by recollective on bad input or misuse."""


class InvalidParameterError(RecollectiveError, ValueError):
    """A function argument or hyper-parameter is out of its allowed set."""


class DataError(RecollectiveError, ValueError):
    """Input data (an array or a file) is malformed: wrong shape, NaN, negative values, missing fields."""


class ConfigError(RecollectiveError, ValueError):
    """A configuration file or object is invalid."""


class NotFittedError(RecollectiveError, AttributeError):
    """A model was used before ``fit``."""
