"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always hands back timezone-aware UTC datetimes.

    PostgreSQL stores a ``timestamptz`` and returns it in the session's zone; SQLite stores naive
    text and returns naive datetimes. Values are converted to UTC on the way in (a naive value is
    taken to be UTC already) and labelled or converted to UTC on the way out, so callers compare
    and subtract datetimes from either database alike. The stored form is what ``DateTime`` wrote
    before (UTC text on SQLite, the same instant on PostgreSQL): no migration needed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
