"""The catalogue: autocomplete and one show."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from nextshow.db.models import Show
from nextshow.schemas.common import ShowText
from nextshow.schemas.predictions import MatchPreview
from nextshow.schemas.shows import ShowDetail, ShowsPublic
from nextshow.service.api.deps import IndexDep, SessionDep, in_memory_get
from nextshow.service.problems import ProblemError, problem_responses
from nextshow.service.recommend import preview_match

router = APIRouter(prefix="/api/shows", tags=["shows"])
Typed = Annotated[ShowText, Query(description="What the user typed so far.")]


@in_memory_get(
    router, ShowsPublic, "Autocomplete: shows whose title starts with (or nearly matches) q"
)
async def search_shows(
    index: IndexDep, q: Typed, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> ShowsPublic:
    try:
        return ShowsPublic.of(index.search(q, limit=limit))
    except ValueError:
        return ShowsPublic.of([])  # nothing searchable typed yet (no letter or digit)


@router.get(
    "/match",
    response_model=MatchPreview,
    responses=problem_responses(422, 429),
    summary="What POST /api/predictions would make of one typed show (creates nothing)",
)
async def match_show(
    index: IndexDep,
    q: Typed,
    add: Annotated[
        bool, Query(description='The user said "none of these": q is sent in add_shows.')
    ] = False,
) -> MatchPreview:
    # async: in-memory matching, as the autocomplete above.
    return preview_match(index, q, add=add)


@router.get(
    "/{show_id}",
    response_model=ShowDetail,
    responses=problem_responses(404, 422, 429),
    summary="One show",
)
def get_show(show_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep) -> ShowDetail:
    show = session.get(Show, show_id)
    if show is None:
        raise ProblemError(404, f"no show {show_id}", kind="not-found")
    return ShowDetail.model_validate(show)
