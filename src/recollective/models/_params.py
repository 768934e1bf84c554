"""Hyper-parameter rules: each model declares one table ``{name: rule}``, checked when ``fit`` starts.

A rule turns a raw value into a clean one or raises :class:`InvalidParameterError` naming the model, the
parameter, the value received and what is allowed (scikit-learn's ``_parameter_constraints``, in our words).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from recollective.errors import InvalidParameterError

__all__ = ["Boolean", "HyperParameters", "Integer", "OneOf", "Real", "Seed", "check_parameters"]


def _fail(owner: str, name: str, value, allowed: str):
    raise InvalidParameterError(f"{owner}: {name} must be {allowed}; got {value!r}")


@dataclass(frozen=True)
class Integer:
    """An int in [low, high] (``None`` = unbounded); ``optional`` also admits None."""

    low: int | None = None
    high: int | None = None
    optional: bool = False

    def describe(self) -> str:
        bounds = []
        if self.low is not None:
            bounds.append(f">= {self.low}")
        if self.high is not None:
            bounds.append(f"<= {self.high}")
        text = "an integer" + (" " + " and ".join(bounds) if bounds else "")
        return text + (" or None" if self.optional else "")

    def check(self, owner: str, name: str, value):
        if value is None and self.optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            _fail(owner, name, value, self.describe())
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            _fail(owner, name, value, self.describe())
        return int(value)


@dataclass(frozen=True)
class Real:
    """A finite float in the interval (low, high) with the stated closed ends; ``optional`` admits None."""

    low: float | None = None
    high: float | None = None
    low_closed: bool = True
    high_closed: bool = True
    optional: bool = False

    def describe(self) -> str:
        left = "-inf" if self.low is None else f"{self.low:g}"
        right = "inf" if self.high is None else f"{self.high:g}"
        bracket_l = "[" if self.low_closed and self.low is not None else "("
        bracket_r = "]" if self.high_closed and self.high is not None else ")"
        return f"a finite number in {bracket_l}{left}, {right}{bracket_r}" + (" or None" if self.optional else "")

    def check(self, owner: str, name: str, value):
        if value is None and self.optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            _fail(owner, name, value, self.describe())
        value = float(value)
        if not math.isfinite(value):
            _fail(owner, name, value, self.describe())
        if self.low is not None and (value < self.low or (value == self.low and not self.low_closed)):
            _fail(owner, name, value, self.describe())
        if self.high is not None and (value > self.high or (value == self.high and not self.high_closed)):
            _fail(owner, name, value, self.describe())
        return value


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of strings."""

    options: tuple[str, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def check(self, owner: str, name: str, value):
        if value not in self.options:
            _fail(owner, name, value, self.describe())
        return value


@dataclass(frozen=True)
class Boolean:
    def describe(self) -> str:
        return "True or False"

    def check(self, owner: str, name: str, value):
        if not isinstance(value, bool | np.bool_):
            _fail(owner, name, value, self.describe())
        return bool(value)


@dataclass(frozen=True)
class Seed:
    """A non-negative int seed, a numpy Generator, or None (fresh entropy)."""

    def describe(self) -> str:
        return "a non-negative integer seed, a numpy Generator or None"

    def check(self, owner: str, name: str, value):
        if value is None or isinstance(value, np.random.Generator):
            return value
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            _fail(owner, name, value, self.describe())
        return int(value)


def check_parameters(owner: str, rules: dict, values: dict) -> dict:
    """Checked copies of ``values`` (a ``get_params()`` dict) under ``rules``; parameters without a rule pass."""
    return {name: rules[name].check(owner, name, value) if name in rules else value for name, value in values.items()}


class HyperParameters:
    """scikit-learn-style keyword hyper-parameters, shared by recommenders and detectors.

    ``__init__`` stores its keyword arguments as attributes; ``get_params``, ``set_params``, ``clone`` and
    ``checked_params`` (the class's ``parameter_rules``) work from its signature. Messages name ``owner``
    (default: the class's ``name``).
    """

    name: ClassVar[str] = "object"
    parameter_rules: ClassVar[dict] = {}

    @property
    def owner(self) -> str:
        """How error messages name this object."""
        return self.name

    @classmethod
    def _parameter_names(cls) -> list[str]:
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self) -> dict:
        """The hyper-parameters as given to ``__init__`` (``{name: value}``)."""
        return {name: getattr(self, name) for name in self._parameter_names()}

    def set_params(self, **params):
        """Set hyper-parameters (unknown names raise ``InvalidParameterError``); returns ``self``."""
        names = self._parameter_names()
        for key, value in params.items():
            if key not in names:
                raise InvalidParameterError(
                    f"{self.owner}: unknown hyper-parameter {key!r}; known: {', '.join(names) or 'none'}"
                )
            setattr(self, key, value)
        return self

    def clone(self):
        """An unfitted copy with the same hyper-parameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def checked_params(self) -> dict:
        """The hyper-parameters after their rules (raises ``InvalidParameterError`` naming the first bad one)."""
        return check_parameters(self.owner, self.parameter_rules, self.get_params())
