"""``INSERT ... ON CONFLICT`` and bulk writes, with the one switch between SQLite and PostgreSQL.

Both dialects offer ``on_conflict_do_nothing`` / ``on_conflict_do_update`` on their own
``insert``; :func:`conflict_insert` picks it, so callers write the conflict clause once. The
bulk helpers send a whole batch per statement: ``unnest`` of array parameters on PostgreSQL
(executemany would cost a round trip per row), executemany on SQLite (sqlite3 loops in C).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Table, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import bindparam


def conflict_insert(bind: Session | Connection | Engine, table: Table) -> Insert:
    """The dialect's INSERT for ``table``: it offers ``on_conflict_do_nothing`` / ``do_update``.

    Raises NotImplementedError on other databases, which lack ``INSERT ... ON CONFLICT``.
    """
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    name = engine.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"INSERT ... ON CONFLICT is not supported on {name}")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    names = list(rows[0])
    if any(len(row) != len(names) for row in rows):
        raise ValueError("every row of a bulk write must have the same columns")
    return names


def _pg_unnest(session: Session, table: Table, rows: list[dict[str, Any]]) -> tuple[str, dict]:
    """``unnest(CAST(:c0 AS type[]), ...) AS v(col, ...)`` with one array parameter per column.

    On PostgreSQL this sends a whole batch as a handful of array parameters in one statement;
    executemany would cost a round trip per row, and multi-row VALUES make psycopg parse a
    statement with thousands of placeholders (slower than the insert itself).
    """
    dialect = session.get_bind().dialect
    names = _columns(rows)
    arrays = ", ".join(
        f"CAST(:c{i} AS {table.c[name].type.compile(dialect=dialect)}[])"
        for i, name in enumerate(names)
    )
    alias = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    params = {
        f"c{i}": _pg_array_literal([row[name] for row in rows]) for i, name in enumerate(names)
    }
    return f"unnest({arrays}) AS v({alias})", params


def _pg_element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return repr(value)
    text_value = value.isoformat() if isinstance(value, datetime) else str(value)
    return '"' + text_value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pg_array_literal(values: list[Any]) -> str:
    """A PostgreSQL array literal (``{1,NULL,"a \\"b\\""}``), cast to its type by the statement.

    Built here because psycopg's list adaptation runs regular expressions per element, which
    took longer than the database write itself on 100k-row imports.
    """
    return "{" + ",".join(map(_pg_element, values)) + "}"


def _pg_insert(
    session: Session, table: Table, rows: list[dict[str, Any]], on_conflict: str
) -> None:
    source, params = _pg_unnest(session, table, rows)
    quote = session.get_bind().dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in rows[0])
    sql = (
        f"INSERT INTO {quote.format_table(table)} ({names}) "
        f"SELECT {names} FROM {source} {on_conflict}"
    )
    session.execute(text(sql), params)


def insert_ignoring_conflicts(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Multi-row INSERT that skips rows violating a unique constraint (another writer won the race).

    Callers select the ids afterwards, so a row inserted concurrently by someone else is found too.
    """
    if not rows:
        return
    dialect = _dialect(session)
    if dialect == "postgresql":
        _pg_insert(session, table, rows, "ON CONFLICT DO NOTHING")
    elif dialect == "sqlite":  # executemany: sqlite3 loops in C, no round trips to save
        session.execute(conflict_insert(session, table).on_conflict_do_nothing(), rows)
    else:  # other engines: a race surfaces as IntegrityError and rolls the batch back
        session.execute(insert(table), rows)


def upsert_rows(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    keys: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """INSERT the rows, or UPDATE ``update_columns`` of those whose ``keys`` already exist.

    Every row must carry every NOT NULL column, since the database checks the row as an insert
    first. One statement per batch on PostgreSQL, executemany on SQLite.
    """
    if not rows:
        return
    dialect = _dialect(session)
    if dialect == "postgresql":
        quote = session.get_bind().dialect.identifier_preparer.quote
        sets = ", ".join(f"{quote(name)} = EXCLUDED.{quote(name)}" for name in update_columns)
        target = ", ".join(quote(name) for name in keys)
        _pg_insert(session, table, rows, f"ON CONFLICT ({target}) DO UPDATE SET {sets}")
    elif dialect == "sqlite":
        stmt = conflict_insert(session, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c[name] for name in keys],
            set_={name: stmt.excluded[name] for name in update_columns},
        )
        session.execute(stmt, rows)
    else:
        raise NotImplementedError(f"upsert on {dialect}")


def update_rows(session: Session, table: Table, rows: list[dict[str, Any]], *, key: str) -> None:
    """UPDATE the rows' columns where ``key`` equals their ``key`` value (a bulk UPDATE by id)."""
    if not rows:
        return
    if _dialect(session) == "postgresql":
        source, params = _pg_unnest(session, table, rows)
        quote = session.get_bind().dialect.identifier_preparer.quote
        sets = ", ".join(f"{quote(name)} = v.{quote(name)}" for name in rows[0] if name != key)
        name = session.get_bind().dialect.identifier_preparer.format_table(table)
        sql = f"UPDATE {name} SET {sets} FROM {source} WHERE {name}.{quote(key)} = v.{quote(key)}"
        session.execute(text(sql), params)
        return
    stmt = (
        update(table)
        .where(table.c[key] == bindparam(f"b_{key}"))
        .values({name: bindparam(f"b_{name}") for name in rows[0] if name != key})
    )
    session.execute(stmt, [{f"b_{name}": value for name, value in row.items()} for row in rows])
