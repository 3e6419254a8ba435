"""Watching together: one list for 2–4 people, with each person's reason."""

from __future__ import annotations

from fastapi import APIRouter

from nextshow.schemas.group import GroupCreate, GroupRecommendations
from nextshow.service.api.deps import IndexDep, RecommenderDep
from nextshow.service.group import recommend_group
from nextshow.service.problems import problem_responses

router = APIRouter(prefix="/api/recommendations", tags=["recommendations"])


@router.post(
    "/group",
    response_model=GroupRecommendations,
    responses=problem_responses(400, 413, 422, 429),
    summary="One list for 2–4 people: every show with each person's fit and reason "
    "(records no likes, creates no shows)",
)
async def group_recommendations(
    body: GroupCreate, model: RecommenderDep, index: IndexDep
) -> GroupRecommendations:
    # async on purpose, like the GET route: in-memory matching and scoring, no thread-pool hop.
    return recommend_group(model, index, body)
