"""Liveness and readiness bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from nextshow.schemas.common import Body


class Health(Body):
    status: Literal["ok"]


class Check(Body):
    ok: bool
    detail: str | None = None


class ModelCheck(Check):
    version: int | None
    name: str | None
    fallback: bool
    loaded_at: datetime | None
    last_check: datetime | None
    failed_version: int | None
    last_error: str | None


class Readiness(Body):
    status: Literal["ok", "degraded", "unavailable"]
    database: Check
    queue: Check
    model: ModelCheck
    worker: Check
