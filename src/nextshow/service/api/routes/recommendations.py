"""Synchronous recommendations: the same answer as a prediction, in one round trip."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from nextshow.service.api.deps import IndexDep, RecommenderDep
from nextshow.service.problems import ProblemError, problem_responses
from nextshow.service.recommend import answer, liked_ids, match_inputs
from nextshow.service.schemas import MAX_N, MAX_SHOWS, RecommendationsPublic, ShowText

router = APIRouter(prefix="/api/recommendations", tags=["recommendations"])


@router.get(
    "",
    response_model=RecommendationsPublic,
    responses=problem_responses(400, 422, 429),
    summary="Recommendations for 1–5 liked shows, now (records no likes, creates no shows)",
)
async def recommendations(
    model: RecommenderDep,
    index: IndexDep,
    show: Annotated[
        list[ShowText],
        Query(min_length=1, max_length=MAX_SHOWS, description="Title, 'Title (Year)' or IMDb id."),
    ],
    n: Annotated[int, Query(ge=1, le=MAX_N)] = 10,
) -> dict[str, Any]:
    # async on purpose: matching and scoring are in-memory work of about a millisecond, and the
    # event loop runs them without a thread-pool hop.
    matches = match_inputs(index, show)
    liked = liked_ids(matches)
    if not liked:
        raise ProblemError(
            422,
            "none of the shows could be identified: pick one of the candidates",
            kind="no-match",
            matches=matches,
        )
    return {"matches": matches, **answer(model, liked, n)}
