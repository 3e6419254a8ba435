"""Watching together: the group request (2–4 people, each with their shows) and its answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from nextshow.schemas.common import MAX_N, MAX_SHOWS, Body, ShowText
from nextshow.schemas.predictions import InputMatch, ModelInfo
from nextshow.schemas.shows import ShowPublic, ShowRef

# The strategies of nextshow.recommenders.group (a test keeps them equal; no numpy here).
Strategy = Literal["average-without-misery", "average", "least-misery"]
DEFAULT_STRATEGY: Strategy = "average-without-misery"
MIN_MEMBERS = 2
MAX_MEMBERS = 4
MAX_NAME = 40

MemberName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)
]


class MemberCreate(Body):
    model_config = ConfigDict(extra="forbid")

    name: MemberName | None = Field(
        default=None, description="How the answer names this person; default 'Person 1', ..."
    )
    shows: list[ShowText] = Field(
        min_length=1,
        max_length=MAX_SHOWS,
        description="1–5 titles this person likes, 'Title (Year)' or IMDb ids.",
    )


class GroupCreate(Body):
    model_config = ConfigDict(extra="forbid")

    members: list[MemberCreate] = Field(min_length=MIN_MEMBERS, max_length=MAX_MEMBERS)
    n: int = Field(default=10, ge=1, le=MAX_N, description="How many shows to recommend.")
    strategy: Strategy = Field(
        default=DEFAULT_STRATEGY,
        description="How the members' fits make one score: the mean without shows any member "
        "ranks in their bottom half (default), the mean, or the least-served member's fit.",
    )

    @model_validator(mode="after")
    def _distinct_names(self) -> GroupCreate:
        # Reasons are addressed by name: two people called "Sam" could not tell theirs apart.
        names = [m.name.casefold() for m in self.members if m.name]
        if len(names) != len(set(names)):
            raise ValueError("member names must differ (case-insensitive)")
        return self

    def labels(self) -> list[str]:
        """Each member's name, or 'Person <position>' for a member without one."""
        return [m.name or f"Person {i}" for i, m in enumerate(self.members, start=1)]


class MemberMatches(Body):
    name: str
    matches: list[InputMatch]


class MemberFit(Body):
    name: str
    fit: float = Field(description="0–1: the share of candidates this person's model ranks lower.")
    because: list[ShowRef] = Field(description="This person's liked shows that led here.")
    reason: str = Field(description="e.g. 'Sam: because you liked The Office'.")


class GroupRecommendation(ShowPublic):
    score: float = Field(description="The strategy's group score (0–1).")
    members: list[MemberFit]


class GroupRecommendations(Body):
    strategy: Strategy
    members: list[MemberMatches]
    recommendations: list[GroupRecommendation]
    model: ModelInfo
