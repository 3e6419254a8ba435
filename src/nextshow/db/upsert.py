"""``INSERT ... ON CONFLICT`` and bulk writes, with the one switch between SQLite and PostgreSQL.

Both dialects offer ``on_conflict_do_nothing`` / ``on_conflict_do_update`` on their own
``insert``; :func:`conflict_insert` picks it, so callers write the conflict clause once. The
bulk helpers send a whole batch per statement: ``unnest`` of array parameters on PostgreSQL
(executemany would cost a round trip per row), executemany on SQLite (sqlite3 loops in C).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Table, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
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


_SAMPLE = 64  # values whose distinctness decides how a column is converted


def _bound_values(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[Sequence[Any]]:
    """The rows' columns with each column's bind processing applied (what SQLAlchemy would send).

    Only columns whose type has a processor (datetimes, booleans on SQLite) are converted, a
    column at a time. A column whose first values repeat (a batch shares one ``now`` and two
    flags) converts each distinct value once; one whose values differ (the ratings' own times)
    converts each in turn, without the set and the lookup that would only add to it.
    """
    dialect = session.get_bind().dialect
    processors = [
        (i, processor)
        for i, name in enumerate(columns)
        if (processor := table.c[name].type._cached_bind_processor(dialect)) is not None
    ]
    by_column: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for i, processor in processors:
        values = by_column[i]
        try:
            # One column holds one Python type, so equal values (True and 1) never meet in a set.
            head = values[:_SAMPLE]
            if len(set(head)) * 2 > len(head):
                by_column[i] = tuple(map(processor, values))
                continue
            converted = {value: processor(value) for value in set(values)}
        except TypeError:  # unhashable values (JSON): convert each
            by_column[i] = tuple(map(processor, values))
        else:
            by_column[i] = tuple(map(converted.__getitem__, values))
    return by_column


def bulk_insert(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    on_conflict: str,
) -> None:
    """``INSERT INTO table (columns) ... <on_conflict>`` of plain tuples, by the driver's bulk path.

    ``on_conflict`` is the SQL clause both dialects accept (``ON CONFLICT DO NOTHING``, or
    ``ON CONFLICT (k) DO UPDATE SET c = excluded.c``). SQLite: one executemany of the tuples
    (sqlite3 loops in C; no statement compilation or per-row parameter dicts). PostgreSQL: COPY
    into a temporary staging table, then one ``INSERT ... SELECT`` from it, all in the caller's
    transaction.
    """
    if not rows:
        return
    bulk_insert_bound(
        session, table, columns, _bound_values(session, table, columns, rows), on_conflict
    )


def bulk_insert_bound(
    session: Session,
    table: Table,
    columns: Sequence[str],
    values: Sequence[Sequence[Any]],
    on_conflict: str,
) -> None:
    """:func:`bulk_insert` of values already in the driver's form, one sequence per column
    (each column's bind processing done by the caller, e.g. for a whole column at once).
    Without a conflict clause (rows that cannot exist yet), PostgreSQL COPYs them straight into
    the table."""
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    target = dialect.identifier_preparer.format_table(table)
    connection = session.connection()
    if dialect.name == "postgresql":
        data = copy_text(values)
        if not on_conflict:
            _copy(connection, target, names, data)
            return
        stage = quote(f"stage_{table.name}")
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
            f"SELECT {names} FROM {target} WITH NO DATA"
        )
        _copy(connection, stage, names, data)
        connection.exec_driver_sql(
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {stage} {on_conflict}"
        )
        # Dropped now, not at commit: the same transaction may write this table again.
        connection.exec_driver_sql(f"DROP TABLE {stage}")
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(
        f"INSERT INTO {target} ({names}) VALUES ({marks}) {on_conflict}",
        list(zip(*values, strict=True)),
    )


def _copy(connection: Connection, table: str, names: str, data: str) -> None:
    """``COPY table (names) FROM STDIN`` of ``data`` (COPY's text format), on the session's own
    psycopg connection.

    A database error (a constraint, a trigger) is raised as SQLAlchemy raises the driver's
    errors of the statements it runs (``DBAPIError`` and its subclasses), so callers catch one
    kind whichever way a batch was written.
    """
    sql = f"COPY {table} ({names}) FROM STDIN"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        with cursor.copy(sql) as copy:
            copy.write(data)
    except driver_error as exc:
        raise DBAPIError.instance(sql, None, exc, driver_error) from exc


_COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(columns: Sequence[Sequence[Any]]) -> str:
    """Rows given as columns in COPY's text format: tab-separated fields, ``\\N`` for NULL,
    backslash escapes, one line per row.

    Built a column at a time (a column of one value, of ints, floats or plain text is formatted
    by one C-level call), then joined: psycopg's ``write_row`` cost more per row than the
    database's own work on bulk imports.
    """
    if not columns or not len(columns[0]):
        return ""
    texts = [_copy_column(column) for column in columns]
    return "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"


def _copy_column(values: Sequence[Any]) -> Sequence[str]:
    kinds = set(map(type, values))
    if len(kinds) == 1 and values.count(values[0]) == len(values):  # one value (a batch's now)
        return [_copy_field(values[0])] * len(values)
    if kinds == {int}:
        return list(map(str, values))
    if kinds == {float}:
        return list(map(repr, values))
    if kinds == {str}:
        joined = "".join(values)
        if not any(special in joined for special in "\\\t\n\r"):
            return values
    return [_copy_field(value) for value in values]


def _copy_field(value: Any) -> str:
    """One value as a field of COPY's text format (the server casts it to the column's type)."""
    if value is None:
        return _COPY_NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _dict_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    names = _columns(rows)
    return names, [tuple(row[name] for name in names) for row in rows]


def insert_ignoring_conflicts(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Multi-row INSERT that skips rows violating a unique constraint (another writer won the race).

    Callers select the ids afterwards, so a row inserted concurrently by someone else is found too.
    """
    if not rows:
        return
    if _dialect(session) in ("postgresql", "sqlite"):
        bulk_insert(session, table, *_dict_rows(rows), "ON CONFLICT DO NOTHING")
    else:  # other engines: a race surfaces as IntegrityError and rolls the batch back
        session.execute(insert(table), rows)


def insert_returning(
    session: Session,
    table: Table,
    column: str,
    values: Sequence[str | int],
    fixed: Mapping[str, Any],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """One row per value of ``column`` (the other columns from ``fixed``), skipping rows that
    violate a unique constraint; ``returning``'s columns of the rows inserted.

    One statement whatever the number of values, which go as a single parameter: a JSON array
    read by ``json_each`` on SQLite, an array cast by ``unnest`` on PostgreSQL. Rows are
    inserted in the order of ``values``. A row left out by a conflict (its key exists, or
    another writer inserted it meanwhile) is not returned: callers look those up.
    """
    if not values:
        return []
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    if dialect.name == "postgresql":
        type_ = table.c[column].type.compile(dialect=dialect)
        rows, param = f"unnest(CAST(:values AS {type_}[])) AS v(value)", _pg_array_literal(values)
        where = ""
    elif dialect.name == "sqlite":
        # WHERE true: SQLite's parser would read ON CONFLICT as part of the SELECT's join.
        rows, param, where = "json_each(:values)", json.dumps(list(values)), " WHERE true"
    else:
        raise NotImplementedError(f"INSERT ... RETURNING of many rows on {dialect.name}")
    names = [column, *fixed]
    picks = ", ".join(["value", *(f":f{i}" for i in range(len(fixed)))])
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(name) for name in names)}) SELECT {picks} FROM {rows}{where} "
        f"ON CONFLICT DO NOTHING RETURNING {', '.join(quote(name) for name in returning)}"
    )
    # Typed parameters: the fixed values get their columns' bind processing (datetimes, flags).
    typed = [
        bindparam(f"f{i}", fixed[name], type_=table.c[name].type) for i, name in enumerate(fixed)
    ]
    stmt = text(sql).bindparams(*typed)
    return [tuple(row) for row in session.execute(stmt, {"values": param})]


def upsert_clause(session: Session, keys: Sequence[str], update_columns: Sequence[str]) -> str:
    """``ON CONFLICT (keys) DO UPDATE SET c = excluded.c, ...`` for :func:`bulk_insert`."""
    quote = session.get_bind().dialect.identifier_preparer.quote
    sets = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in update_columns)
    target = ", ".join(quote(name) for name in keys)
    return f"ON CONFLICT ({target}) DO UPDATE SET {sets}"


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
    first. Keys must be unique within ``rows`` (PostgreSQL refuses to update a row twice).
    """
    if not rows:
        return
    if _dialect(session) not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"upsert on {_dialect(session)}")
    bulk_insert(session, table, *_dict_rows(rows), upsert_clause(session, keys, update_columns))


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
