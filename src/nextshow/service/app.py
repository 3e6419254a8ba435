"""The FastAPI application factory.

``create_app(settings)`` builds the app; its lifespan opens the process runtime (refusing a
database schema that is not at head: ``nextshow db upgrade`` migrates), loads the title index
and the model holder, and connects the queue. With ``run_worker=True``
(``nextshow serve``) a Huey consumer runs in the same process and shares the holder.

This module and everything it imports are serving code: no ``nextshow.pipeline``,
``nextshow.evaluation`` or scikit-learn (a test checks the import boundary).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import OperationalError

from nextshow import __version__
from nextshow.catalog.matching import load_title_index
from nextshow.config import Settings, get_settings
from nextshow.runtime import Runtime
from nextshow.service.api.deps import Services
from nextshow.service.api.routes import (
    admin,
    group,
    health,
    predictions,
    recommendations,
    review,
    shows,
)
from nextshow.service.holder import freeze_long_lived
from nextshow.service.middleware import (
    BodyLimitMiddleware,
    Metrics,
    MetricsMiddleware,
    RateLimiter,
    RateLimitMiddleware,
)
from nextshow.service.problems import install_problem_handlers, problem_response
from nextshow.service.waiter import PredictionWaiter
from nextshow.service.web import recommend as web_recommend
from nextshow.service.web import routes as web_routes
from nextshow.service.web import together as web_together
from nextshow.service.web.errors import error_page

log = logging.getLogger(__name__)


def build_services(runtime: Runtime, metrics: Metrics | None = None) -> Services:
    """Open everything a request needs from the process runtime."""
    with runtime.sessions() as session:
        index = load_title_index(session)
    return Services(
        settings=runtime.settings,
        engine=runtime.engine,
        sessions=runtime.sessions,
        store=runtime.artifacts,
        index=index,
        holder=runtime.holder,
        queue=runtime.queue,
        waiter=PredictionWaiter(runtime.sessions, limit=runtime.settings.max_connections),
        metrics=metrics or Metrics(),
    )


def release_waiters(app: FastAPI) -> None:
    """Answer every long-poll now (the server is stopping); nothing to do before startup."""
    services = getattr(app.state, "services", None)
    if services is not None:
        services.waiter.close()


def create_app(
    settings: Settings | None = None, *, run_worker: bool = False, runtime: Runtime | None = None
) -> FastAPI:
    """The API; with ``run_worker`` also a thread consumer of the queue (embedded default).

    ``runtime``: one already opened (``nextshow serve`` checks the schema before starting).
    """
    settings = runtime.settings if runtime is not None else settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        process = runtime or Runtime.from_settings(settings)
        services = build_services(process, metrics)
        app.state.services = services
        freeze_long_lived()  # the title index and the model: out of the collector's full passes
        consumer = None
        if run_worker:
            consumer = services.queue.consumer()
            consumer.start()
        log.info(
            "nextshow API ready: %d shows indexed, model %s, queue %s%s",
            len(services.index),
            services.holder.status().version_id or "fallback",
            settings.effective_queue_url.split("@")[-1],
            f", {settings.worker_threads} worker threads" if run_worker else "",
        )
        try:
            yield
        finally:
            services.waiter.close()
            if consumer is not None:
                consumer.stop(graceful=True)
            process.close()

    # FastAPIOffline: /docs loads Swagger UI from files the package ships (served under
    # /static-offline-docs), not from a CDN, so it works without internet. No /redoc: ReDoc's
    # bundle still fetches its logo from the internet.
    app = FastAPIOffline(
        redoc_url=None,
        # nextshow's metrics are Prometheus (/metrics). FastAPI's own OpenTelemetry asks the
        # global tracer, meter and logger providers (reading the environment) on every request
        # to see whether one is set up: 5% of the API's CPU per prediction, for nothing here.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        title="nextshow",
        version=__version__,
        description="Tell it shows you like, get shows you will probably like.",
        lifespan=lifespan,
    )
    install_problem_handlers(app, page=error_page)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc)
        return problem_response(
            503,
            "the database is unavailable; try again shortly",
            instance=request.url.path,
            kind="unavailable",
            headers={"Retry-After": "5"},
        )

    for module in (predictions, recommendations, group, shows, health, admin, review):
        app.include_router(module.router)
    for web in (web_routes, web_recommend, web_together):
        app.include_router(web.router)

    # Added innermost first: CORS outermost (its headers reach error answers too), then metrics
    # (counting 413 and 429), the rate limit, and the body limit nearest the routes.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(settings.rate_limit_per_minute))
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization", "Idempotency-Key"],
            expose_headers=["Location", "Retry-After"],
        )
    return app
