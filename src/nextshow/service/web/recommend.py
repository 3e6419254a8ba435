"""``GET /recommend``: the results page for shows named in its address, answered now.

The refine links of results.html (see refine.py) lead here, and so does the home form when the
browser runs no JavaScript. Like ``GET /api/recommendations`` it records no likes and creates no
shows; inputs it cannot place are listed with their candidates.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from nextshow.schemas.common import MAX_EXCLUDE, MAX_SHOWS, ShowId, ShowText
from nextshow.service.api.deps import IndexDep, RecommenderDep
from nextshow.service.recommend import answer, liked_ids, match_inputs
from nextshow.service.web.refine import refine_context, unique_shows
from nextshow.service.web.routes import render

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/recommend", response_class=HTMLResponse)
async def recommend_page(
    request: Request,
    model: RecommenderDep,
    index: IndexDep,
    show: Annotated[list[ShowText], Query(max_length=MAX_SHOWS)] = [],  # noqa: B006
    exclude: Annotated[list[ShowId], Query(max_length=MAX_EXCLUDE)] = [],  # noqa: B006
) -> Response:
    # async: in-memory matching and scoring, as the API route it mirrors.
    if not show:
        return RedirectResponse("/", status_code=303)
    matches = match_inputs(index, show)
    liked = unique_shows(m.show for m in matches if m.liked and m.show)
    found = answer(model, liked_ids(matches), 10, exclude) if liked else None
    recs = found.recommendations if found else []
    context = {
        "title": "Your recommendations",
        "matches": matches,
        "unused": [m for m in matches if not m.liked],
        "created": [],
        "recommendations": recs,
        "model": found.model if found else None,
        "notice": found.notice if found else None,
        "updated_at": None,
        **refine_context(liked, recs, exclude),
    }
    return render(request, "results.html", context)
