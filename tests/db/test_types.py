"""UTCDateTime: aware UTC datetimes back from SQLite and PostgreSQL, stored as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text

from nextshow.db.models import User


def test_datetimes_come_back_aware_in_utc(store):
    berlin = timezone(timedelta(hours=2))
    with store.sessions() as session:
        session.add_all(
            [
                User(
                    external_id="aware",
                    source="t",
                    created_at=datetime(2024, 5, 1, 14, 0, tzinfo=berlin),
                ),
                User(external_id="naive", source="t", created_at=datetime(2024, 5, 1, 12, 0)),
            ]
        )
        session.commit()
    with store.sessions() as session:
        stamps = dict(session.execute(select(User.external_id, User.created_at)).all())
        later = session.scalar(
            select(User.external_id).where(
                User.created_at > datetime(2024, 5, 1, 11, 59, tzinfo=UTC)
            )
        )
    expected = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert stamps == {"aware": expected, "naive": expected}
    assert all(value.utcoffset() == timedelta(0) for value in stamps.values())
    assert later is not None  # comparisons bind the same way


def test_sqlite_keeps_storing_naive_utc_text(sqlite_store):
    with sqlite_store.sessions() as session:
        session.add(
            User(
                external_id="u",
                source="t",
                created_at=datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
            )
        )
        session.commit()
        raw = session.scalar(text("SELECT created_at FROM users"))
    assert raw == "2024-05-01 12:00:00.000000"


def test_sqlite_whole_second_text_is_the_general_text():
    """The bind processor's whole-second shortcut writes exactly what the general path does."""
    from sqlalchemy.dialects import sqlite

    from nextshow.db.types import UTCDateTime

    process = UTCDateTime().bind_processor(sqlite.dialect())
    berlin = timezone(timedelta(hours=2))
    values = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(5, 6, 7, 8, 9, 10, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2017, 7, 14, 2, 40, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 0, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    values += [datetime.fromtimestamp(1_500_000_000 + n * 7_919, UTC) for n in range(2_000)]
    for value in values:
        assert process(value) == value.replace(tzinfo=None).isoformat(" ", "microseconds")
    assert process(datetime(2024, 5, 1, 14, 0, 0, 5, tzinfo=berlin)) == "2024-05-01 12:00:00.000005"
    assert process(datetime(2024, 5, 1, 14, 0, tzinfo=berlin)) == "2024-05-01 12:00:00.000000"
