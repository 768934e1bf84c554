"""Frozen result dataclasses as JSON-ready dicts: the one conversion behind the game's ``as_dict`` methods."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

__all__ = ["plain", "record"]


def plain(value):
    """``value`` as JSON-ready Python: arrays to lists, numpy scalars to numbers, nested results through their
    ``as_dict``, tuples to lists and mappings to dicts (recursively); anything else unchanged."""
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def record(result, *, rename: Mapping[str, str] | None = None, drop: tuple[str, ...] = (), **extra) -> dict:
    """The fields of the dataclass ``result`` (in field order, values through :func:`plain`) as a dict.

    ``rank`` is written ``k_star`` (the paper's k*); ``rename`` renames other fields, ``drop`` leaves fields out
    (matrices, intermediate arrays) and ``extra`` adds derived entries.
    """
    names = {"rank": "k_star", **(rename or {})}
    document = {
        names.get(field.name, field.name): plain(getattr(result, field.name))
        for field in dataclasses.fields(result)
        if field.name not in drop
    }
    document.update(extra)
    return document
