"""The shows and ratings tables read into Arrow tables at the database driver's speed.

A snapshot reads every rating. Going through ORM rows, Python ``datetime`` objects and one dict
per row cost ten seconds at the original scale (517,000 ratings); here the database converts
timestamps to unix seconds, the driver's cursor hands over plain tuples, and numpy takes each
chunk of tuples in one C loop (``np.fromiter``), nulls travelling as a value plus a flag. The
Arrow tables are value for value what the ORM path built, so snapshot ids do not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from nextshow.db.models import FEEDBACK_SOURCE

CHUNK_ROWS = 100_000
SHOWS_SCHEMA = pa.schema(
    [
        ("show_id", pa.int64()),
        ("imdb_id", pa.string()),
        ("title", pa.string()),
        ("title_type", pa.string()),
        ("start_year", pa.int32()),
        ("end_year", pa.int32()),
        ("genres", pa.string()),
        ("imdb_rating", pa.float32()),
        ("imdb_votes", pa.int64()),
        ("user_submitted", pa.bool_()),
    ]
)
# Who made and starred in each show (IMDb people datasets); written only when there are credits,
# so a catalogue without them keeps the snapshot ids it always had.
CREDITS_SCHEMA = pa.schema(
    [
        ("show_id", pa.int64()),
        ("person_id", pa.int64()),
        ("name", pa.string()),  # the nm id when name.basics was not imported
        ("role", pa.string()),
        ("ordering", pa.int32()),
    ]
)
RATINGS_SCHEMA = pa.schema(
    [
        ("user_id", pa.int64()),
        ("show_id", pa.int64()),
        ("rating", pa.float32()),
        ("liked", pa.bool_()),
        ("rated_at", pa.int64()),  # unix seconds, null when unknown
    ]
)

# One ratings row as the query below returns it.
_RATING_ROW = np.dtype(
    [
        ("user_id", "i8"),
        ("show_id", "i8"),
        ("rating", "f8"),
        ("no_rating", "?"),
        ("liked", "?"),
        ("rated_at", "i8"),
        ("no_time", "?"),
        ("trusted", "?"),  # outside the feedback loop: where the decay cut-off comes from
    ]
)


def unix_sql(column: str, dialect: str) -> str:
    """SQL for a UTC timestamp column as whole unix seconds (NULL stays NULL)."""
    if dialect == "sqlite":  # UTC text, as ``UTCDateTime`` stores it
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"


def _rows(session: Session, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """``sql``'s rows in chunks of CHUNK_ROWS tuples from the driver's cursor, in the session's
    transaction (so a snapshot sees one consistent state)."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            yield rows
    finally:
        cursor.close()


def _arrow_column(values: tuple[Any, ...], field: pa.Field) -> pa.Array:
    if pa.types.is_boolean(field.type):  # SQLite hands back 0/1
        return pa.array([None if v is None else bool(v) for v in values], pa.bool_())
    return pa.array(values, field.type)


def _tables(session: Session, sql: str, schema: pa.Schema) -> Iterator[pa.Table]:
    for rows in _rows(session, sql):
        columns = zip(*rows, strict=True)
        yield pa.Table.from_arrays(
            [_arrow_column(values, f) for values, f in zip(columns, schema, strict=True)],
            schema=schema,
        )


def show_tables(session: Session) -> Iterator[pa.Table]:
    """The shows table by id, as Arrow tables of at most CHUNK_ROWS rows."""
    sql = (
        "SELECT id, imdb_id, title, title_type, start_year, end_year, genres, imdb_rating, "
        "imdb_votes, user_submitted FROM shows ORDER BY id"
    )
    return _tables(session, sql, SHOWS_SCHEMA)


def credit_tables(session: Session) -> Iterator[pa.Table]:
    """Show credits with the person's name (its nm id when unnamed), by show, person and role."""
    sql = (
        "SELECT c.show_id, c.person_id, COALESCE(p.name, p.imdb_id), c.role, c.ordering "
        "FROM show_credits c JOIN people p ON p.id = c.person_id "
        "ORDER BY c.show_id, c.person_id, c.role"
    )
    return _tables(session, sql, CREDITS_SCHEMA)


@dataclass
class RatingsSummary:
    """What a manifest says about the ratings, gathered while they stream past."""

    rows: int = 0
    likes: int = 0
    users: int = 0
    _last_user: int | None = None
    _newest: int | None = None
    _newest_trusted: int | None = None
    _shows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def shows(self) -> int:
        return len(self._shows)

    @property
    def cutoff(self) -> int | None:
        """The newest like time outside the feedback loop, else the newest at all (unix s)."""
        return self._newest_trusted if self._newest_trusted is not None else self._newest

    def add(self, chunk: np.ndarray) -> None:
        users = chunk["user_id"]  # sorted: the query orders by user
        self.rows += len(chunk)
        self.likes += int(np.count_nonzero(chunk["liked"]))
        self.users += int(np.count_nonzero(users[1:] != users[:-1])) + 1
        if self._last_user == int(users[0]):
            self.users -= 1  # the previous chunk ended inside this user
        self._last_user = int(users[-1])
        self._shows = np.union1d(self._shows, chunk["show_id"])
        timed = ~chunk["no_time"]
        self._newest = _newest(self._newest, chunk["rated_at"][timed])
        self._newest_trusted = _newest(
            self._newest_trusted, chunk["rated_at"][timed & chunk["trusted"]]
        )


def _newest(current: int | None, times: np.ndarray) -> int | None:
    if not len(times):
        return current
    newest = int(times.max())
    return newest if current is None else max(current, newest)


def rating_tables(session: Session, summary: RatingsSummary) -> Iterator[pa.Table]:
    """The ratings table by (user, show), as Arrow tables of CHUNK_ROWS rows; fills ``summary``."""
    unix = unix_sql("rated_at", session.get_bind().dialect.name)
    sql = (
        f"SELECT user_id, show_id, COALESCE(rating, 0), rating IS NULL, liked, "
        f"COALESCE({unix}, 0), {unix} IS NULL, source <> '{FEEDBACK_SOURCE}' "
        "FROM ratings ORDER BY user_id, show_id"
    )
    for rows in _rows(session, sql):
        chunk = np.fromiter(rows, dtype=_RATING_ROW, count=len(rows))
        summary.add(chunk)
        yield pa.Table.from_arrays(
            [
                pa.array(chunk["user_id"]),
                pa.array(chunk["show_id"]),
                pa.array(chunk["rating"].astype(np.float32), mask=chunk["no_rating"]),
                pa.array(chunk["liked"]),
                pa.array(chunk["rated_at"], mask=chunk["no_time"]),
            ],
            schema=RATINGS_SCHEMA,
        )
