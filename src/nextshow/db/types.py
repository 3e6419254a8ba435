"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_SQLITE_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


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

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite" or dialect.type_descriptor(self.impl)._storage_format != (  # type: ignore[attr-defined]
            _SQLITE_FORMAT
        ):
            return super().bind_processor(dialect)
        general = super().bind_processor(dialect)

        # The same text as SQLAlchemy's SQLite DATETIME writes, from datetime's own C formatter:
        # bulk imports bind a datetime per row, and the generic path costs 3 us each.
        def process(value: Any) -> Any:
            if type(value) is not datetime:
                return general(value)  # type: ignore[misc]
            if value.tzinfo is UTC:  # the common case: drop the "+00:00"
                return value.isoformat(" ", "microseconds")[:26]
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return value.isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
