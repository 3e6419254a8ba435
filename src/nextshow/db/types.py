"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    import numpy as np

_SQLITE_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


# Whole-second UTC text from unix seconds: "YYYY-MM-DD HH:" of each hour met (cached) + "MM:SS"
# from a table. Imports bind a timestamp per row, mostly whole seconds (unix times), and this is
# half the cost of formatting each one.
_HOURS: dict[int, str] = {}
_MAX_HOURS = 200_000  # ~23 years of distinct hours, ~20 MB at most
_MINUTES_SECONDS = [f"{m:02d}:{s:02d}.000000" for m in range(60) for s in range(60)]


def _whole_second_text(value: datetime) -> str:
    """``value`` (aware UTC, no microseconds) as SQLite's DATETIME text."""
    hour, rest = divmod(int(value.timestamp()), 3600)
    prefix = _HOURS.get(hour)
    if prefix is None:
        if len(_HOURS) >= _MAX_HOURS:
            _HOURS.clear()
        prefix = _HOURS[hour] = value.isoformat(" ")[:14]
    return prefix + _MINUTES_SECONDS[rest]


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
            if value.tzinfo is UTC:  # the common case
                if not value.microsecond:
                    return _whole_second_text(value)
                return value.isoformat(" ", "microseconds")[:26]  # drop the "+00:00"
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return value.isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def bound_epoch_micros(dialect: Dialect, micros: np.ndarray, present: np.ndarray) -> list[Any]:
    """:class:`UTCDateTime`'s bound values of a column of instants (microseconds since the
    epoch; None where ``present`` is false), formatted for the whole column at once: SQLite's
    DATETIME text as the type writes it (``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC), and on
    PostgreSQL the same text marked UTC (``...Z``), which COPY reads as a timestamptz."""
    # Imported here: every database user imports this module, few write columns of times.
    import pyarrow as pa
    import pyarrow.compute as pc

    # A naive timestamp's cast is ~10x faster than a zoned one's (no time zone lookups).
    texts = pa.array(micros, type=pa.timestamp("us"), mask=~present).cast(pa.string())
    if dialect.name != "sqlite":
        texts = pc.binary_join_element_wise(texts, "Z", "")
    return texts.to_pylist()
