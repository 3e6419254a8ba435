"""ASGI middleware: body size limit, per-client rate limit, request metrics.

Plain ASGI (not BaseHTTPMiddleware): they sit on every request, and the plain form adds the
least latency and never buffers a response.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from nextshow.service.problems import PROBLEM_MEDIA_TYPE

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _send_problem(
    send: Send, status: int, title: str, detail: str, headers: list[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """413 for bodies over ``max_bytes``, whether announced (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    await _send_problem(send, 400, "Bad Request", "invalid Content-Length")
                    return
                if too_big:
                    await self._refuse(send)
                    return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        # Chunked bodies announce no length: read up to the limit before the app sees any.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await _send_problem(
            send,
            413,
            "Content Too Large",
            f"the request body is larger than {self.max_bytes} bytes",
        )


class RateLimiter:
    """A token bucket per client address: ``per_minute`` requests, bursts up to a tenth of it.

    In memory, per API process: with N processes behind a balancer a client gets up to N times
    the rate, which is the usual trade-off for not needing a shared store on every request.
    """

    def __init__(self, per_minute: int, max_clients: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 10.0)
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> tuple[bool, float]:
        """Take a token; (allowed, seconds until the next token when refused)."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if len(self._buckets) >= self.max_clients and client not in self._buckets:
                self._buckets.clear()  # a flood of addresses: forget, rather than grow unbounded
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return True, 0.0
            self._buckets[client] = (tokens, now)
            return False, (1.0 - tokens) / self.rate


# Probes and static files are not rate limited: orchestrators poll them, pages load many.
RATE_EXEMPT = ("/healthz", "/readyz", "/metrics", "/static/")


class RateLimitMiddleware:
    """429 with Retry-After when a client exceeds its rate: API routes and web pages alike.

    The client is the connection's peer address; uvicorn replaces it with X-Forwarded-For only
    for connections from ``NEXTSHOW_TRUSTED_PROXIES`` (see nextshow.service.server).
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(RATE_EXEMPT):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        allowed, wait = self.limiter.allow(client[0] if client else "unknown")
        if allowed:
            await self.app(scope, receive, send)
            return
        retry_after = str(max(1, int(wait + 0.999)))
        await _send_problem(
            send,
            429,
            "Too Many Requests",
            f"rate limit exceeded; retry in {retry_after} s",
            [(b"retry-after", retry_after.encode())],
        )


class Metrics:
    """The Prometheus metrics of one app (its own registry, so several apps can coexist)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nextshow_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "nextshow_http_request_seconds",
            "HTTP request latency by route and method.",
            ["route", "method"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        # Set at scrape time from the queue, the holder and the database (shared by processes).
        self.queue_depth = Gauge(
            "nextshow_queue_depth", "Tasks waiting in the queue.", registry=self.registry
        )
        self.model_version = Gauge(
            "nextshow_model_version",
            "Registry version of the model this process serves (0: fallback).",
            registry=self.registry,
        )
        self.model_fallback = Gauge(
            "nextshow_model_fallback",
            "1 when this process answers with the popularity fallback.",
            registry=self.registry,
        )
        self.predictions = Gauge(
            "nextshow_predictions",
            "Prediction requests in the database by status.",
            ["status"],
            registry=self.registry,
        )
        self.oldest_pending = Gauge(
            "nextshow_oldest_pending_seconds",
            "Age of the oldest pending prediction request (0: none pending).",
            registry=self.registry,
        )
        self.worker_idle = Gauge(
            "nextshow_worker_last_task_seconds",
            "Seconds since any worker took a task (-1: never).",
            registry=self.registry,
        )
        self.worker_restarts = Gauge(
            "nextshow_worker_restarts",
            "Times `nextshow serve` restarted its dead worker process.",
            registry=self.registry,
        )


class MetricsMiddleware:
    """Counts and times every request, labelled by route template (not the raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            # Unmatched paths share one label: raw paths would let clients grow the label set.
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - started)
