"""The one exception family of recollective.

Every error the library raises on bad input is a :class:`RecollectiveError`; its message says what is wrong,
where (argument, file, field), the value received and what to do. The CLI prints it as one line and exits 2.
"""

__all__ = [
    "QUOTE_LIMIT",
    "ConfigError",
    "DataError",
    "InvalidParameterError",
    "NotFittedError",
    "RecollectiveError",
    "clip",
    "quoted",
]

QUOTE_LIMIT = 200
"""Characters of an offending value an error message quotes: a 10 MB field or a binary file stays one short line."""


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` (already formatted for a message), cut to ``limit`` characters with its full length said."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def quoted(value, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, at most about ``limit`` characters (a long string is cut, its
    length said)."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    return clip(repr(value), limit)


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
