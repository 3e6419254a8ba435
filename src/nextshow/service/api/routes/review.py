"""Admin review of user-submitted shows: list the pending ones, approve, reject or merge them.

The same functions as ``nextshow shows pending|approve|reject|merge`` (nextshow.catalog.review).
An approved show joins this process's title index at once; other processes at their restart.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from nextshow.catalog import review
from nextshow.catalog.titles import ShowRow
from nextshow.schemas.models import AdminResult
from nextshow.schemas.shows import PendingShowsPublic, ShowMerge
from nextshow.service.api.deps import ServicesDep, SessionDep, require_admin
from nextshow.service.problems import ProblemError, problem_responses

router = APIRouter(
    prefix="/api/admin/shows",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=problem_responses(401, 404, 409, 422, 429),
)

ShowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/pending", response_model=PendingShowsPublic, summary="Shows waiting for review")
def pending(
    session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> PendingShowsPublic:
    rows = review.pending_shows(session, limit=limit)
    return PendingShowsPublic.of(
        {"id": show.id, "title": show.title, "start_year": show.start_year, "likers": n}
        for show, n in rows
    )


def _act(services: ServicesDep, action: str, show_id: int, **kwargs: int) -> AdminResult:
    try:
        with services.sessions() as session, session.begin():
            show = getattr(review, action)(session, show_id, **kwargs)
            row = ShowRow.from_show(show)
            detail = f"show {show_id} -> {show.id} {show.title!r} ({show.status})"
    except review.ReviewError as err:
        status = 404 if "does not exist" in str(err) else 409
        kind = "not-found" if status == 404 else "conflict"
        raise ProblemError(status, str(err), kind=kind) from err
    if action == "approve" and row.id not in services.index:
        services.index.add(row)
    return AdminResult(action=action, version=None, detail=detail)


@router.post("/{show_id}/approve", response_model=AdminResult, summary="Approve a pending show")
def approve(services: ServicesDep, show_id: ShowId) -> AdminResult:
    return _act(services, "approve", show_id)


@router.post("/{show_id}/reject", response_model=AdminResult, summary="Reject a pending show")
def reject(services: ServicesDep, show_id: ShowId) -> AdminResult:
    return _act(services, "reject", show_id)


@router.post(
    "/{show_id}/merge", response_model=AdminResult, summary="Merge a pending show into another"
)
def merge(services: ServicesDep, show_id: ShowId, body: ShowMerge) -> AdminResult:
    return _act(services, "merge", show_id, into=body.into)
