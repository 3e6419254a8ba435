"""Bulk writes (COPY + INSERT .. SELECT on PostgreSQL, executemany on SQLite) and key lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Table, select, text

from nextshow.db.lookup import rows_where_in
from nextshow.db.models import Rating, Show, User
from nextshow.db.session import transaction
from nextshow.db.upsert import bulk_insert, insert_returning, upsert_clause

USERS: Table = User.__table__  # type: ignore[assignment]
RATINGS: Table = Rating.__table__  # type: ignore[assignment]
T0 = datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
COLUMNS = ("user_id", "show_id", "rating", "liked", "rated_at", "source", "updated_at")


def _seed(store) -> None:
    """Users 1, 2 and shows 1, 2 (ids from the sequences: explicit ids would leave PostgreSQL's
    behind, and a later insert would conflict on the primary key)."""
    with transaction(store.sessions) as session:
        for i in (1, 2):
            session.add(User(external_id=f"u{i}", source="t"))
            session.add(Show(title=f"S{i}", normalized_title=f"s{i}", source="t"))
            session.flush()


def _stored(store) -> dict[tuple[int, int], tuple]:
    with store.sessions() as session:
        rows = session.execute(
            select(Rating.user_id, Rating.show_id, Rating.rating, Rating.liked, Rating.rated_at)
        )
        return {(u, s): (r, liked, at) for u, s, r, liked, at in rows}


def test_bulk_upsert_inserts_updates_and_round_trips_types(store):
    _seed(store)
    berlin = timezone(timedelta(hours=2))
    clause = "ON CONFLICT (user_id, show_id) DO UPDATE SET rating = excluded.rating, " + (
        "liked = excluded.liked, rated_at = excluded.rated_at"
    )
    first = [
        (1, 1, 7.0, False, T0, "t", T0),
        (1, 2, 9.0, True, None, "t", T0),
        (2, 1, 8.5, True, T0.astimezone(berlin), "t", T0),
    ]
    with transaction(store.sessions) as session:
        bulk_insert(session, RATINGS, COLUMNS, first, clause)
        # The same table twice in one transaction (PostgreSQL reuses the staging table's name).
        bulk_insert(session, RATINGS, COLUMNS, [(2, 2, None, False, None, "t", T0)], clause)
    later = T0 + timedelta(days=1)
    with transaction(store.sessions) as session:
        bulk_insert(session, RATINGS, COLUMNS, [(1, 1, 3.0, False, later, "t", later)], clause)
    assert _stored(store) == {
        (1, 1): (3.0, False, later),
        (1, 2): (9.0, True, None),
        (2, 1): (8.5, True, T0),
        (2, 2): (None, False, None),
    }


def test_bulk_insert_ignoring_conflicts_and_rolled_back_with_its_transaction(store):
    _seed(store)
    columns = ("external_id", "source", "anonymous", "created_at")
    ignore = "ON CONFLICT DO NOTHING"
    with transaction(store.sessions) as session:
        bulk_insert(
            session, USERS, columns, [("u1", "t", False, T0), ("u3", "t", True, T0)], ignore
        )
    with pytest.raises(RuntimeError), transaction(store.sessions) as session:
        bulk_insert(session, USERS, columns, [("u4", "t", False, T0)], ignore)
        raise RuntimeError("the batch fails after its write")
    with store.sessions() as session:
        users = {u.external_id: (u.anonymous, u.created_at) for u in session.scalars(select(User))}
    assert users == {"u1": (False, users["u1"][1]), "u2": (False, users["u2"][1]), "u3": (True, T0)}


def test_upsert_clause_and_lookup_in_chunks(store):
    _seed(store)
    with transaction(store.sessions) as session:
        clause = upsert_clause(session, ("user_id", "show_id"), ("rating",))
        bulk_insert(session, RATINGS, COLUMNS, [(1, 1, 5.0, False, None, "t", T0)], clause)
        bulk_insert(session, RATINGS, COLUMNS, [(1, 1, 6.0, False, None, "t", T0)], clause)
        session.execute(
            text("INSERT INTO users (external_id, source, anonymous, created_at) "
                 "SELECT 'x' || n, 'many', false, CURRENT_TIMESTAMP FROM "
                 "(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 4500)"
                 " SELECT n FROM c) AS c")
        )  # fmt: skip
        wanted = [f"x{n}" for n in range(0, 4600, 2)]  # 2,300 keys: two chunks, x0 is absent
        sql = "SELECT external_id FROM users WHERE source = {p} AND external_id IN ({in_})"
        found = {row[0] for row in rows_where_in(session, sql, wanted, ("many",))}
    assert found == {f"x{n}" for n in range(2, 4501, 2)}
    assert _stored(store)[(1, 1)][0] == 6.0


def test_insert_returning_creates_in_order_and_skips_existing_keys(store):
    _seed(store)  # users u1, u2 of source "t"
    with transaction(store.sessions) as session:
        fixed = {"source": "t", "anonymous": True, "created_at": T0}
        created = insert_returning(
            session, USERS, "external_id", ["u3", "u1", "u4"], fixed, ("external_id", "id")
        )
        again = insert_returning(session, USERS, "external_id", ["u3"], fixed, ("id",))
    assert [key for key, _ in created] == ["u3", "u4"]  # u1 exists: not inserted, not returned
    assert created[0][1] < created[1][1]  # ids in the order of the values
    assert again == []
    with store.sessions() as session:
        users = {
            u.external_id: (u.id, u.anonymous, u.created_at) for u in session.scalars(select(User))
        }
    assert users["u3"] == (created[0][1], True, T0)  # the fixed values, with their types' binding
    assert users["u4"] == (created[1][1], True, T0)
    assert users["u1"][1] is False


def test_bulk_insert_round_trips_text_that_copy_escapes(store):
    """COPY's text format gives tab, newline, return and backslash a meaning, and reads ``\\N``
    as NULL: values holding them are stored as they are (both with and without a conflict
    clause, which on PostgreSQL are a COPY straight into the table and one through staging)."""
    titles = ["a\tb", "line\nbreak", "cr\rhere", "back\\slash", "\\N", "NULL", "", "Amélie ✓"]
    columns = ("title", "normalized_title", "source", "external_id", "genres", "start_year")
    columns += ("user_submitted", "created_at", "updated_at")
    rows = [
        (title, f"n{i}", "t", f"e{i}", None if i % 2 else title, 2000 + i, i % 2 == 0, T0, T0)
        for i, title in enumerate(titles)
    ]
    shows: Table = Show.__table__  # type: ignore[assignment]
    with transaction(store.sessions) as session:
        bulk_insert(session, shows, columns, rows[:4], "")
        bulk_insert(session, shows, columns, rows[4:], "ON CONFLICT DO NOTHING")
    with store.sessions() as session:
        stored = session.execute(
            select(*(shows.c[name] for name in columns)).order_by(shows.c.external_id)
        )
        assert [tuple(row) for row in stored] == rows
