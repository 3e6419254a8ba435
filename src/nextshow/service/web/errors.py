"""Error pages: a person's browser gets an HTML page in the site's layout, programs get JSON.

The problem handlers (service/problems.py) ask :func:`error_page` first; it answers only for
requests outside the API that do not ask for JSON (the pages' own ``fetch`` calls, such as the
explore graph's, send ``Accept: application/json`` and keep RFC 9457 problem documents).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from nextshow.service.web.routes import render

# Machine routes: always problem documents, whatever the client accepts.
API_PREFIXES = ("/api/", "/healthz", "/readyz", "/livez", "/metrics", "/openapi.json")

HEADINGS = {
    404: ("Page not found", "There is nothing at this address. The link may be mistyped."),
    422: ("That address is not quite right", "Part of the address is not valid here."),
    500: ("Something went wrong", "The server failed to answer. Try again in a moment."),
    503: ("Not available right now", "The service is busy or restarting. Try again shortly."),
}


def wants_page(request: Request) -> bool:
    """True for a browser asking for a page, False for the API and for JSON requests."""
    if request.url.path.startswith(API_PREFIXES):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "application/json" not in accept


def error_page(request: Request, status: int, detail: str | None) -> Response | None:
    """The HTML page for an error on a page route, or None when JSON should answer."""
    if not wants_page(request):
        return None
    heading, text = HEADINGS.get(status, (f"Error {status}", detail or ""))
    if status == 422 and detail:
        text = f"{text} ({detail})"
    return render(
        request,
        "error.html",
        {"title": heading, "heading": heading, "text": text, "status": status},
        status=status,
    )
