"""JSON problem details (RFC 9457) for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from nextshow.schemas.common import Problem

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://nextshow.invalid/problems/"


class ProblemError(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.headers = headers
        self.extra = extra


def problem_response(
    status: int,
    detail: str | None,
    *,
    instance: str | None = None,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem documents for ``statuses``."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        out.append(
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return out


# An HTML page for the error when the request came from a person's browser (None: JSON).
PageHook = Callable[[Request, int, str | None], Response | None]


def install_problem_handlers(app: FastAPI, page: PageHook | None = None) -> None:
    """Turn every error into a problem document (with the right status); ``page`` may answer
    first with an HTML page (the web layer's error pages)."""

    def as_page(request: Request, status: int, detail: str | None) -> Response | None:
        return page(request, status, detail) if page is not None else None

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        if (html := as_page(request, exc.status, exc.detail)) is not None:
            return html
        return problem_response(
            exc.status,
            exc.detail,
            instance=request.url.path,
            kind=exc.kind,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        where = ", ".join(".".join(e["loc"][1:] or e["loc"]) + ": " + e["msg"] for e in errors)
        if (html := as_page(request, 422, where)) is not None:
            return html
        # A body that is not JSON at all is a malformed request (400); JSON of the wrong shape
        # is well-formed but unprocessable (422).
        if any(e["type"] == "json_invalid" for e in errors):
            return problem_response(
                400,
                "the request body is not valid JSON",
                instance=request.url.path,
                kind="malformed-json",
                errors=errors,
            )
        return problem_response(
            422,
            "the request does not match the schema",
            instance=request.url.path,
            kind="validation",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = str(exc.detail) if exc.detail else None
        if (html := as_page(request, exc.status_code, detail)) is not None:
            return html
        return problem_response(
            exc.status_code,
            str(exc.detail) if exc.detail else None,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if (html := as_page(request, 500, None)) is not None:
            return html
        return problem_response(500, "internal error", instance=request.url.path)
