"""Several collectives in one TOML file (``recollective campaign run ... --campaign FILE.toml``), validated with
pydantic: unknown fields are errors, every error names its field, nothing in the file is evaluated.

Example::

    overlap = "disjoint"               # or "shared" (a user may act for several collectives)
    what_if = "fit"                    # a cold fit per run; "refit" (default) uses the model's fast path

    [[collective]]
    name = "hammett"
    target_authors = ["Dashiell Hammett"]
    participants = "closest"
    size = 0.05                        # a share of users in (0, 1) or a count >= 1

    [[collective]]
    name = "smiley"
    target_items = ["2124", "5977"]    # raw item ids of the data file
    participants = "closest"
    size = 100
    rating = 5.0
    action = "add"                     # add, rate_low or remove

Fields of a collective: ``name``, ``target_items``, ``target_authors`` (at least one of the two), ``participants``,
``size``, ``rating``, ``action``, ``position``, ``budget``, ``participation``, ``members`` (raw user ids, for
``participants = "explicit"``). Defaults are those of :class:`~recollective.campaigns.Campaign`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from recollective.campaigns._composed import OVERLAP_RULES
from recollective.campaigns._config import read_toml
from recollective.campaigns._spec import ACTIONS, PARTICIPANT_POLICIES, POSITION_POLICIES
from recollective.errors import ConfigError, did_you_mean, plain_message

__all__ = ["CollectiveSection", "ComposedCampaignFile", "load_composed_campaign"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class CollectiveSection(_Section):
    """One ``[[collective]]`` table."""

    name: str | None = Field(None, min_length=1)
    target_items: list[str | int] = []
    target_authors: list[str] = []
    participants: Literal[PARTICIPANT_POLICIES] = "random"  # type: ignore[valid-type]
    size: float | int = 0.01
    rating: float = Field(5.0, strict=False)  # TOML's 5 is the rating 5.0
    action: Literal[ACTIONS] = "add"  # type: ignore[valid-type]
    position: Literal[POSITION_POLICIES] = "append"  # type: ignore[valid-type]
    budget: int | None = Field(None, ge=1)
    participation: float = Field(1.0, gt=0, le=1, strict=False)
    members: list[str | int] = []

    @field_validator("size")
    @classmethod
    def _size(cls, value):
        if (isinstance(value, int) and value < 1) or (isinstance(value, float) and not 0 < value < 1):
            raise ValueError(f"must be a share in (0, 1) or a count >= 1; got {value!r}")
        return value

    @model_validator(mode="after")
    def _targets_and_members(self):
        if not self.target_items and not self.target_authors:
            raise ValueError("names no targets: give target_items and/or target_authors")
        if self.participants == "explicit" and not self.members:
            raise ValueError('participants is "explicit" but members is empty')
        if self.members and self.participants != "explicit":
            raise ValueError(f'members are only used with participants = "explicit"; got {self.participants!r}')
        return self


class ComposedCampaignFile(_Section):
    """The file: ``overlap``, ``what_if`` and one or more ``[[collective]]`` tables."""

    overlap: Literal[OVERLAP_RULES] = "disjoint"  # type: ignore[valid-type]
    what_if: Literal["refit", "fit"] = "refit"
    """refit: the model's fast path; fit: a cold fit per run (for models whose refit is approximate)."""
    collective: list[CollectiveSection] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self):
        names = self.names()
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"collective names must be distinct; {repeated} used more than once")
        return self

    def names(self) -> list[str]:
        """Each collective's name (``c1``, ``c2``, ... where none is given)."""
        return [c.name or f"c{i + 1}" for i, c in enumerate(self.collective)]


def load_composed_campaign(path) -> ComposedCampaignFile:
    """Read and validate a composed-campaign TOML file.

    Raises
    ------
    ConfigError
        ``<file>: <dotted.field>: <message>`` (one line) for a missing or unreadable file, bad TOML, an unknown
        field, a value of the wrong type or out of range, a collective without targets, repeated names.
    """
    path = Path(path)
    raw = read_toml(path)
    try:
        return ComposedCampaignFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_problems(exc, raw)}") from None


def _problems(error: ValidationError, raw: dict) -> str:
    """Each problem as ``<where>: <what>``, joined by ``; ``: ``collective #2 ("smiley").size: ...`` (tables
    counted from 1, as a reader counts them in the file), a choice as ``must be one of ...; got ...``, an unknown
    field with the allowed ones."""
    problems = []
    tables = raw.get("collective") if isinstance(raw.get("collective"), list) else []
    for item in error.errors():
        loc = list(item["loc"])
        where, fields = [], ComposedCampaignFile.model_fields
        if loc[:1] == ["collective"] and len(loc) > 1 and isinstance(loc[1], int):
            table = tables[loc[1]] if loc[1] < len(tables) else None
            name = table.get("name") if isinstance(table, dict) else None
            where.append(f"collective #{loc[1] + 1}" + (f" ({name!r})" if isinstance(name, str) else ""))
            loc, fields = loc[2:], CollectiveSection.model_fields
        where += [str(part) for part in loc]
        kind, value = item["type"], item.get("input")
        if kind == "literal_error":
            allowed = [a.strip().strip("'") for a in item["ctx"]["expected"].replace(" or ", ", ").split(",")]
            message = f"must be one of {', '.join(allowed)}; got {value!r}{did_you_mean(str(value), allowed)}"
        elif kind == "extra_forbidden":
            message = f"unknown field{did_you_mean(str(loc[-1]), list(fields))} (allowed: {', '.join(fields)})"
        else:
            message = plain_message(item["msg"]) + (f" (got {value!r})" if isinstance(value, bool) else "")
        problems.append(f"{'.'.join(where) or '(top level)'}: {message}")
    return "; ".join(problems)
