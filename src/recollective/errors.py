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
    "did_you_mean",
    "plain_message",
    "quoted",
    "unknown_name",
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


def did_you_mean(value, choices) -> str:
    """``"; did you mean 'ease'?"`` when ``value`` is a near miss of one of ``choices`` (difflib, case ignored) or
    the start of exactly one of them, else ``""``."""
    import difflib

    text = str(value)
    names = [str(choice) for choice in choices]
    lowered = {name.lower(): name for name in names}
    if text.lower() in lowered:  # a difference of case only
        return f"; did you mean {lowered[text.lower()]!r}?"
    match = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=0.6)
    if not match and len(text) >= 2:  # the start of exactly one name: "rando" for "random-holdout"
        match = [name for name in lowered if name.startswith(text.lower())]
        match = match if len(match) == 1 else []
    return f"; did you mean {lowered[match[0]]!r}?" if match else ""


def unknown_name(what: str, value, choices) -> str:
    """``unknown model 'eaze'; did you mean 'ease'? (choices: popularity, ..., ease)``: the message for a name
    outside its set (a model, a policy, a detector, an attack kind)."""
    return f"unknown {what} {quoted(value, 60)}{did_you_mean(value, choices)} (choices: {', '.join(map(str, choices))})"


# Prefixes libraries put before a message they wrap: pydantic's "Value error, " (a validator's ValueError) and
# "Assertion failed, "; Typer passes pydantic's text on for a bad command-line value.
_LIBRARY_PREFIXES = ("Value error, ", "Assertion failed, ")


def plain_message(message: str) -> str:
    """``message`` without a library's prefix (``Value error, ...`` -> ``...``), wherever it starts a clause."""
    for prefix in _LIBRARY_PREFIXES:
        message = message.replace(f": {prefix}", ": ").replace(f"; {prefix}", "; ")
        message = message.removeprefix(prefix)
    return message


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
