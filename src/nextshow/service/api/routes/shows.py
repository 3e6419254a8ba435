"""The catalogue: autocomplete and one show."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from nextshow.db.models import Show
from nextshow.service.api.deps import IndexDep, SessionDep
from nextshow.service.holder import ShowInfo
from nextshow.service.problems import ProblemError, problem_responses
from nextshow.service.schemas import ShowDetail, ShowsPublic, ShowText

router = APIRouter(prefix="/api/shows", tags=["shows"])


@router.get(
    "",
    response_model=ShowsPublic,
    responses=problem_responses(400, 422, 429),
    summary="Autocomplete: shows whose title starts with (or nearly matches) q",
)
async def search_shows(
    index: IndexDep,
    q: Annotated[ShowText, Query(description="What the user typed so far.")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    try:
        hits = index.search(q, limit=limit)
    except ValueError:
        hits = []  # nothing searchable typed yet (no letter or digit): no suggestions
    data = [
        {
            "id": h.show_id,
            "title": h.title,
            "start_year": h.start_year,
            "end_year": h.end_year,
            "imdb_id": h.imdb_id,
            "score": h.score,
            "match": h.match,
        }
        for h in hits
    ]
    return {"data": data, "count": len(data)}


@router.get(
    "/{show_id}",
    response_model=ShowDetail,
    responses=problem_responses(404, 422, 429),
    summary="One show",
)
def get_show(
    show_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep
) -> dict[str, Any]:
    show = session.get(Show, show_id)
    if show is None:
        raise ProblemError(404, f"no show {show_id}", kind="not-found")
    return {
        **ShowInfo.from_show(show).as_dict(),
        "original_title": show.original_title,
        "imdb_votes": show.imdb_votes,
        "user_submitted": bool(show.user_submitted),
    }
