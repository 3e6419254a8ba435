"""Asking for recommendations and the answers: synchronous, or stored as a prediction."""

from __future__ import annotations

import hashlib
import json
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
from pydantic_core import to_json

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
    because: list[ShowRef] = Field(
        description="The liked shows that contributed most to this one, largest first (at most "
        "3; only the largest when popularity carries the score; none for the popularity list)."
    )
    reason_kind: Literal["because", "popular", "most-popular"] = Field(
        default="because",
        description="because: the liked shows in `because` led here; popular: popularity "
        "carries most of the score; most-popular: none of the typed shows is known.",
    )
    reason: str = Field(default="", description="The reason as one sentence for the page.")


class Recommendations(Body):
    """The model's part of an answer (stored as a prediction's results)."""

    recommendations: list[RecommendationPublic]
    model: ModelInfo
    notice: str | None = Field(
        default=None,
        description="Set when nothing typed is known: the list is the most popular shows.",
    )


def _fingerprint(body: type[Body]) -> str:
    schema = body.model_json_schema(mode="serialization")
    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()[:16]


# A prediction's stored results begin with the fingerprint of the schema that wrote them. The
# answer to a poll then carries the stored text as it is when the schema is still the same (no
# validating and serialising again of ten recommendations on every answer: ~15% of the API's
# CPU per prediction), and validates, as before, rows that another version wrote.
_STAMP = f'{{"schema":"{_fingerprint(Recommendations)}",'


def dump_results(results: Recommendations) -> str:
    """The results as stored with a prediction: their JSON, stamped with the schema."""
    return _STAMP + results.model_dump_json()[1:]


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


# ``id`` first: rows have it, and a Row asked for a column it lacks raises (slowly) inside.
_ID = AliasChoices("id", "prediction_id")


class PredictionAccepted(Body):
    prediction_id: str = Field(validation_alias=_ID)
    status: Status
    matches: Annotated[list[InputMatch], Parsed]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_url(self) -> str:
        return f"/api/predictions/{self.prediction_id}"


class _PredictionHead(Body):
    """The part of :class:`PredictionPublic` that is not the stored results."""

    prediction_id: str = Field(validation_alias=_ID)
    status: Status
    created_at: datetime
    updated_at: datetime
    matches: Annotated[list[InputMatch], Parsed]


class PredictionPublic(_PredictionHead):
    """A stored prediction request (ORM object or Core row); results once it is done."""

    recommendations: list[RecommendationPublic] | None = None
    model: ModelInfo | None = None
    notice: str | None = None
    error: str | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _results(cls, data: Any, handler: Any) -> PredictionPublic:
        body = handler(data)
        results = None if isinstance(data, dict) else getattr(data, "results", None)
        if body.status == "done" and results:
            done = Recommendations.model_validate_json(results)
            body.recommendations, body.model = done.recommendations, done.model
            body.notice = done.notice
        return body


def prediction_json(row: Any) -> str:
    """``PredictionPublic.model_validate(row).model_dump_json()``, the same text, with the
    stored results spliced in as they are when this schema wrote them (see ``_STAMP``)."""
    results = row.results
    if row.status != "done" or not results or not results.startswith(_STAMP):
        return PredictionPublic.model_validate(row).model_dump_json()
    head = _PredictionHead.model_validate(row).model_dump_json()
    # The results' members follow the head's in PredictionPublic's field order.
    error = to_json(row.error).decode()
    return f'{head[:-1]},{results[len(_STAMP) : -1]},"error":{error}}}'
