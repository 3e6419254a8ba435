"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from nextshow.db.models import PREDICTION_STATUSES as STATUSES
from nextshow.db.models import PredictionRequest
from nextshow.schemas.health import Health, Readiness
from nextshow.service.api.deps import ServicesDep, is_admin
from nextshow.service.predictions import oldest_pending_age

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@dataclass(frozen=True)
class WorkerHealth:
    """What the queue's storage and the database say about the workers, from any process."""

    oldest_pending: float | None  # seconds; None: nothing pending
    since_last_task: float | None  # seconds; None: no worker ever took a task
    restarts: int
    stall_seconds: float

    @property
    def stalled(self) -> bool:
        """Tasks waited longer than the limit and no worker took any in that time."""
        limit = self.stall_seconds
        waiting = self.oldest_pending is not None and self.oldest_pending > limit
        return waiting and (self.since_last_task is None or self.since_last_task > limit)

    def detail(self) -> str:
        def ago(value: float | None) -> str:
            return "never" if value is None else f"{value:.0f} s ago"

        oldest = "none" if self.oldest_pending is None else f"{self.oldest_pending:.0f} s"
        verdict = "no worker is taking tasks" if self.stalled else "taking tasks"
        return (
            f"{verdict}: last task taken {ago(self.since_last_task)}, oldest pending {oldest}, "
            f"{self.restarts} restarts"
        )


def worker_health(services: Any) -> WorkerHealth:
    last = services.queue.last_task_taken()
    return WorkerHealth(
        oldest_pending=oldest_pending_age(services.sessions),
        since_last_task=None if last is None else max(time.time() - last, 0.0),
        restarts=services.queue.worker_restarts(),
        stall_seconds=services.settings.worker_stall_seconds,
    )


def _readiness(services: Any) -> tuple[int, dict[str, Any]]:
    database: dict[str, Any] = {"ok": True, "detail": None}
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:
        database = {"ok": False, "detail": f"{err.__class__.__name__}: {err}"[:500]}
    queue: dict[str, Any] = {"ok": True, "detail": None}
    try:
        queue["detail"] = f"{services.queue.pending()} pending"
    except Exception as err:
        queue = {"ok": False, "detail": f"{err.__class__.__name__}: {err}"[:500]}
    status = services.holder.status()
    model_ok = not (status.fallback and services.settings.require_model)
    if status.fallback:
        detail = "no production model could be loaded: answering with popularity"
    else:
        detail = f"serving version {status.version_id} ({status.name})"
    if status.last_error:
        detail += f"; {status.last_error}"
    model = {
        "ok": model_ok,
        "detail": detail,
        "version": status.version_id,
        "name": status.name,
        "fallback": status.fallback,
        "loaded_at": status.loaded_at,
        "last_check": status.last_check,
        "failed_version": status.failed_version_id,
        "last_error": status.last_error,
    }
    try:
        health = worker_health(services)
        worker: dict[str, Any] = {"ok": not health.stalled, "detail": health.detail()}
    except Exception as err:
        worker = {"ok": False, "detail": f"{err.__class__.__name__}: {err}"[:500]}
    ready = database["ok"] and queue["ok"] and model_ok and worker["ok"]
    degraded = status.fallback or status.last_error is not None
    overall = "unavailable" if not ready else ("degraded" if degraded else "ok")
    body = {
        "status": overall,
        "database": database,
        "queue": queue,
        "model": model,
        "worker": worker,
    }
    return (200 if ready else 503), body


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready"}},
    summary="Database, queue and model: ready to answer?",
)
async def readyz(request: Request, services: ServicesDep) -> Any:
    status_code, body = await run_in_threadpool(_readiness, services)
    if not is_admin(request, services.settings.admin_token):
        body = _public(body)
    payload = Readiness.model_validate(body).model_dump(mode="json")
    return JSONResponse(payload, status_code=status_code)


def _public(body: dict[str, Any]) -> dict[str, Any]:
    """The readiness body without its details: errors name file paths, checksums and hosts.

    Probes need only the status code and the ok flags; the details go to admins (bearer token).
    """
    hidden = "details for admins only"
    out = {**body}
    for name in ("database", "queue", "model", "worker"):
        part = {**body[name]}
        if part.get("detail") is not None:
            part["detail"] = hidden
        if part.get("last_error") is not None:
            part["last_error"] = hidden
        out[name] = part
    return out


def _collect(services: Any) -> None:
    metrics = services.metrics
    try:
        metrics.queue_depth.set(services.queue.pending())
    except Exception:
        log.warning("metrics: queue depth unavailable", exc_info=True)
    try:
        health = worker_health(services)
        metrics.oldest_pending.set(health.oldest_pending or 0.0)
        idle = health.since_last_task
        metrics.worker_idle.set(-1.0 if idle is None else idle)
        metrics.worker_restarts.set(health.restarts)
    except Exception:
        log.warning("metrics: worker health unavailable", exc_info=True)
    status = services.holder.status()
    metrics.model_version.set(status.version_id or 0)
    metrics.model_fallback.set(1 if status.fallback else 0)
    try:
        with services.sessions() as session:
            counts = dict(
                session.execute(
                    select(PredictionRequest.status, func.count()).group_by(
                        PredictionRequest.status
                    )
                ).all()
            )
        for name in STATUSES:
            metrics.predictions.labels(name).set(counts.get(name, 0))
    except Exception:
        log.warning("metrics: prediction counts unavailable", exc_info=True)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
    summary="Prometheus metrics",
)
async def metrics(services: ServicesDep) -> Response:
    await run_in_threadpool(_collect, services)
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
