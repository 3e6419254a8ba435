"""Request and response bodies of the API (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nextshow.catalog.matching import MAX_TITLE_LENGTH

MAX_SHOWS = 5
MAX_N = 50
MAX_USER_ID = 128

ShowText = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TITLE_LENGTH, pattern=r"\S")
]
UserId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_USER_ID, pattern=r"^[A-Za-z0-9_.@:-]+$")
]


class Problem(BaseModel):
    """RFC 9457 problem details (media type application/problem+json)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class ShowRef(BaseModel):
    id: int
    title: str
    start_year: int | None = None
    imdb_id: str | None = None


class ShowPublic(BaseModel):
    id: int
    imdb_id: str | None
    title: str
    start_year: int | None
    end_year: int | None
    genres: list[str]
    imdb_rating: float | None
    imdb_url: str | None


class ShowDetail(ShowPublic):
    original_title: str | None
    imdb_votes: int | None
    user_submitted: bool


class ShowHit(ShowRef):
    end_year: int | None = None
    score: float = Field(description="Match quality 0–100 (not rank).")
    match: str


class ShowsPublic(BaseModel):
    data: list[ShowHit]
    count: int


class RecommendedShow(ShowPublic):
    score: float
    because: list[ShowRef] = Field(description="The liked shows that led to this one.")


class InputMatch(BaseModel):
    """What one typed input became: ``matched``/``created`` inputs count as likes; the others
    (``ambiguous``, ``fuzzy``: pick a candidate and ask again; ``not_found``) do not."""

    input: str
    status: Literal["matched", "created", "ambiguous", "fuzzy", "not_found"]
    show: ShowRef | None = None
    candidates: list[ShowRef] = Field(default_factory=list)


class ModelInfo(BaseModel):
    version: int | None = Field(description="Registry version; null for the fallback.")
    name: str
    fallback: bool = Field(description="True when popularity answered instead of the model.")


class PredictionCreate(BaseModel):
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


class PredictionAccepted(BaseModel):
    prediction_id: str
    status: Literal["pending", "done", "failed"]
    status_url: str
    matches: list[InputMatch]


class PredictionPublic(BaseModel):
    prediction_id: str
    status: Literal["pending", "done", "failed"]
    created_at: datetime
    updated_at: datetime
    matches: list[InputMatch]
    recommendations: list[RecommendedShow] | None = None
    model: ModelInfo | None = None
    error: str | None = None


class RecommendationsPublic(BaseModel):
    matches: list[InputMatch]
    recommendations: list[RecommendedShow]
    model: ModelInfo


class Health(BaseModel):
    status: Literal["ok"]


class Check(BaseModel):
    ok: bool
    detail: str | None = None


class ModelCheck(Check):
    version: int | None
    name: str | None
    fallback: bool
    loaded_at: datetime | None
    last_check: datetime | None
    failed_version: int | None
    last_error: str | None


class Readiness(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    database: Check
    queue: Check
    model: ModelCheck


class VersionPublic(BaseModel):
    version: int
    model: str
    stage: str
    snapshot: str
    metrics: dict[str, float]
    created_at: datetime
    promoted_at: datetime | None


class VersionsPublic(BaseModel):
    data: list[VersionPublic]
    count: int


class AdminAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class AdminResult(BaseModel):
    action: str
    version: int | None = None
    detail: str
