"""Asking for recommendations and the answers: synchronous, or stored as a prediction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    ConfigDict,
    Field,
    TypeAdapter,
    computed_field,
    model_validator,
)

from nextshow.schemas.common import (
    MAX_N,
    MAX_SHOWS,
    Body,
    Parsed,
    ShowText,
    UserId,
)
from nextshow.schemas.shows import ShowPublic, ShowRef

Status = Literal["pending", "done", "failed"]


class InputMatch(Body):
    """What one typed input became: ``matched``/``created`` inputs count as likes; the others
    (``ambiguous``, ``fuzzy``: pick a candidate and ask again; ``not_found``) do not."""

    input: str
    status: Literal["matched", "created", "ambiguous", "fuzzy", "not_found"]
    show: ShowRef | None = None
    candidates: list[ShowRef] = Field(default_factory=list)

    @property
    def liked(self) -> bool:
        return self.status in ("matched", "created") and self.show is not None


class MatchPreview(InputMatch):
    """What ``POST /api/predictions`` would make of one input (``GET /api/shows/match``)."""

    will_add: bool = Field(
        description="An unknown title that the POST would add as a new user-submitted show."
    )


# Matches are stored as JSON text with the request; this reads and writes that text.
InputMatches = TypeAdapter(list[InputMatch])


class ModelInfo(Body):
    version: int | None = Field(description="Registry version; null for the fallback.")
    name: str
    fallback: bool = Field(description="True when popularity answered instead of the model.")


class RecommendationPublic(ShowPublic):
    score: float
    because: list[ShowRef] = Field(description="The liked shows that led to this one.")
    reason: str | None = Field(
        default=None,
        description='The tie in words, when the model knows it: "created by Vince Gilligan, '
        'like Breaking Bad".',
    )


class Recommendations(Body):
    """The model's part of an answer (stored as a prediction's results)."""

    recommendations: list[RecommendationPublic]
    model: ModelInfo


class RecommendationsPublic(Recommendations):
    matches: list[InputMatch]


class PredictionCreate(Body):
    model_config = ConfigDict(extra="forbid")

    shows: list[ShowText] = Field(
        min_length=1,
        max_length=MAX_SHOWS,
        description="1–5 titles, 'Title (Year)' or IMDb ids (tt0141842).",
        examples=[["The Wire", "tt0903747"]],
    )
    user_id: UserId | None = Field(
        default=None, description="Your own user id; default: an anonymous user per request."
    )
    n: int = Field(default=10, ge=1, le=MAX_N, description="How many shows to recommend.")
    add_shows: list[ShowText] = Field(
        default_factory=list,
        max_length=MAX_SHOWS,
        description="Inputs of `shows` to add as new shows even when a similar title exists "
        '(the user said "none of these" to the fuzzy candidates).',
    )


_ID = AliasChoices("prediction_id", "id")


class PredictionAccepted(Body):
    prediction_id: str = Field(validation_alias=_ID)
    status: Status
    matches: Annotated[list[InputMatch], Parsed]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_url(self) -> str:
        return f"/api/predictions/{self.prediction_id}"


class PredictionPublic(Body):
    """A stored prediction request (ORM object or Core row); results once it is done."""

    prediction_id: str = Field(validation_alias=_ID)
    status: Status
    created_at: datetime
    updated_at: datetime
    matches: Annotated[list[InputMatch], Parsed]
    recommendations: list[RecommendationPublic] | None = None
    model: ModelInfo | None = None
    error: str | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _results(cls, data: Any, handler: Any) -> PredictionPublic:
        body = handler(data)
        results = None if isinstance(data, dict) else getattr(data, "results", None)
        if body.status == "done" and results:
            done = Recommendations.model_validate_json(results)
            body.recommendations, body.model = done.recommendations, done.model
        return body
