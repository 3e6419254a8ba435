"""Synchronous recommendations: the same answer as a prediction, in one round trip."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from nextshow.schemas.common import MAX_N, MAX_SHOWS, ShowText
from nextshow.schemas.predictions import RecommendationsPublic
from nextshow.service.api.deps import IndexDep, RecommenderDep, in_memory_get, require_likes
from nextshow.service.recommend import answer, match_inputs

router = APIRouter(prefix="/api/recommendations", tags=["recommendations"])
Shows = Annotated[
    list[ShowText],
    Query(min_length=1, max_length=MAX_SHOWS, description="Title, 'Title (Year)' or IMDb id."),
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
) -> RecommendationsPublic:
    matches = match_inputs(index, show)
    found = answer(model, require_likes(matches), n)
    return RecommendationsPublic(matches=matches, **found.model_dump())
