"""Synchronous recommendations: the same answer as a prediction, in one round trip."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from nextshow.schemas.common import MAX_EXCLUDE, MAX_N, MAX_SHOWS, ShowId, ShowText
from nextshow.schemas.predictions import RecommendationsPublic
from nextshow.service.api.deps import IndexDep, RecommenderDep, in_memory_get, require_likes
from nextshow.service.recommend import answer, match_inputs

router = APIRouter(prefix="/api/recommendations", tags=["recommendations"])
Shows = Annotated[
    list[ShowText],
    Query(min_length=1, max_length=MAX_SHOWS, description="Title, 'Title (Year)' or IMDb id."),
]
Exclude = Annotated[
    list[ShowId],
    Query(max_length=MAX_EXCLUDE, description='Show ids to leave out ("not for me").'),
]


@in_memory_get(
    router,
    RecommendationsPublic,
    "Recommendations for 1–5 liked shows, now (records no likes, creates no shows)",
)
async def recommendations(
    model: RecommenderDep,
    index: IndexDep,
    show: Shows,
    n: Annotated[int, Query(ge=1, le=MAX_N)] = 10,
    exclude: Exclude = [],  # noqa: B006 - FastAPI copies query defaults per request
) -> RecommendationsPublic:
    matches = match_inputs(index, show)
    found = answer(model, require_likes(matches), n, exclude)
    return RecommendationsPublic(matches=matches, **found.model_dump())
