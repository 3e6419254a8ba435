"""Admin: list models, retrain, promote, roll back (bearer token; off without one).

Retraining and the promotion gate run training code, which the API process never imports: they
are queued for the worker. Rollback is a registry change only and runs here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from nextshow.registry.versions import RegistryError, get_version, list_versions, rollback
from nextshow.schemas.models import AdminAction, AdminResult, ModelVersionsPublic
from nextshow.service.api.deps import ServicesDep, SessionDep, require_admin
from nextshow.service.problems import ProblemError, problem_responses

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=problem_responses(401, 404, 429),
)


@router.get("/models", response_model=ModelVersionsPublic, summary="Model versions and stages")
def models(session: SessionDep) -> ModelVersionsPublic:
    return ModelVersionsPublic.of(list_versions(session))


@router.post(
    "/retrain",
    status_code=202,
    response_model=AdminResult,
    responses=problem_responses(422, 503),
    summary="Queue a retrain (snapshot, train, gated promotion) for the worker",
)
def retrain(services: ServicesDep, body: AdminAction | None = None) -> AdminResult:
    reason = (body.reason if body else None) or "admin request"
    if not services.queue.enqueue_retrain(reason):
        return AdminResult(action="retrain", detail="a retrain is already queued: not queued again")
    return AdminResult(action="retrain", detail="queued for the worker")


@router.post(
    "/models/{version}/promote",
    status_code=202,
    response_model=AdminResult,
    responses=problem_responses(409, 422, 503),
    summary="Queue a gated promotion of a version for the worker",
)
def promote(
    services: ServicesDep,
    session: SessionDep,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: AdminAction | None = None,
) -> AdminResult:
    try:
        row = get_version(session, version)
    except RegistryError as err:
        raise ProblemError(404, str(err), kind="not-found") from err
    if row.stage == "production":
        raise ProblemError(409, f"version {version} is already in production", kind="conflict")
    services.queue.enqueue_promote(version, (body.reason if body else None) or "admin request")
    return AdminResult(action="promote", version=version, detail="queued for the worker (gated)")


@router.post(
    "/rollback",
    response_model=AdminResult,
    responses=problem_responses(409, 422),
    summary="Production back to the version the current one replaced",
)
def roll_back(services: ServicesDep, body: AdminAction | None = None) -> AdminResult:
    try:
        with services.sessions() as session, session.begin():
            event = rollback(session, reason=(body.reason if body else None) or "admin request")
            back_to, left = event.version_id, event.previous_production_id
    except RegistryError as err:
        raise ProblemError(409, str(err), kind="conflict") from err
    services.holder.refresh()  # this process swaps now; the others at their next poll
    return AdminResult(action="rollback", version=back_to, detail=f"version {left} archived")
