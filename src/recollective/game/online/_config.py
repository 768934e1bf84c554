"""Configuration of the online game and of a collective acting inside it (pydantic, frozen, no extra keys)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from recollective.errors import InvalidParameterError, plain_message

__all__ = ["CollectiveInLoop", "OnlineConfig", "build"]


class OnlineConfig(BaseModel):
    """The learner's loop: explore, complete, exploit (explore-then-commit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rounds: int = Field(100, ge=1, description="Rounds T.")
    explore_rounds: int = Field(20, ge=1, description="Exploration rounds E <= T; the matrix is completed after them.")
    observe_prob: float | None = Field(
        None,
        gt=0,
        le=1,
        description="During exploration each pair is observed with this probability per round; None: each user is "
        "shown one uniformly random item per round.",
    )
    noise: float = Field(0.0, ge=0, description="Standard deviation sigma of the Gaussian feedback noise.")
    estimator: Literal["usvt", "softimpute", "als"] = Field("usvt", description="Matrix-completion estimator.")
    refit_every: int | None = Field(None, ge=1, description="Also re-complete every K exploitation rounds.")
    slate_size: int = Field(1, ge=1, description="Items recommended per user per round; the user takes the best.")
    epsilon: float = Field(0.0, ge=0, le=1, description="Chance that an exploitation round serves a random item.")
    softimpute_shrinkage: float | None = Field(None, ge=0, description="SoftImpute threshold (default alpha * p).")
    als_reg: float = Field(0.1, gt=0, description="Ridge penalty of ALS.")
    als_max_rank: int = Field(64, ge=1, description="Cap on the ALS rank (cost grows with its square and cube).")

    @model_validator(mode="after")
    def _explore_within_rounds(self):
        if self.explore_rounds > self.rounds:
            raise ValueError(f"explore_rounds ({self.explore_rounds}) must be <= rounds ({self.rounds})")
        return self


class CollectiveInLoop(BaseModel):
    """A collective acting during the online game.

    Participating members report ``uprating`` (drawn once per member and target around it with standard deviation
    ``coordination_noise``, clipped at 0) whenever the learner observes them on a target (unless
    ``report_when_met`` is False), and each round they also seek out ``budget`` targets (drawn with replacement)
    and report them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    members: list[int] = Field(min_length=1)
    targets: list[int] = Field(min_length=1)
    uprating: float = Field(ge=0)
    participation: float = Field(1.0, ge=0, le=1, description="Each member takes part with this probability.")
    coordination_noise: float = Field(0.0, ge=0)
    budget: int = Field(0, ge=0, description="Targets each participating member seeks out per round.")
    report_when_met: bool = Field(
        True, description="Report the uprating value when the learner happens to show a target (else truthful then)."
    )


def build(model: type[BaseModel], **values) -> BaseModel:
    """Validate ``values`` into ``model``; a ValidationError becomes InvalidParameterError naming each field."""
    try:
        return model(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or model.__name__}: {plain_message(error['msg'])}"
            for error in exc.errors()
        )
        raise InvalidParameterError(f"invalid {model.__name__}: {problems}") from None
