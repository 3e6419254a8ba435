"""The "Watching together" page: the form is rendered here, its answers come from the API
(``POST /api/recommendations/group``) through the page's script, so results refine in place."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from nextshow.schemas.group import MAX_MEMBERS, MAX_NAME
from nextshow.service.web.routes import templates

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/together", response_class=HTMLResponse)
def together(request: Request) -> Response:
    context = {
        "active": "together.html",
        "title": "Watching together",
        "max_members": MAX_MEMBERS,
        "max_name": MAX_NAME,
    }
    return templates.TemplateResponse(request, "together.html", context)
