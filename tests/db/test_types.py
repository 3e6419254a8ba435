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
