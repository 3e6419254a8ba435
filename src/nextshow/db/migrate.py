"""Schema upgrades under a lock, and the revision check every other process runs at start.

Only ``nextshow db upgrade`` (and ``dev.py run``, which calls it first) migrates a live schema.
N API replicas and N workers starting together must not race on a new migration, so the
upgrade holds a lock: a PostgreSQL advisory lock on the connection that runs Alembic, or an
``fcntl.flock`` on ``<db file>.migrate.lock`` beside a SQLite file. Everything else checks the
revision and refuses an old schema. A database without any table is created at head by one-shot
commands under the same lock (creation, not a migration of a schema someone is using).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from nextshow.db.session import MIGRATIONS_DIR, alembic_config, current_revision, head_revision

# A fixed key: every nextshow process on one PostgreSQL server serialises its upgrades on it.
ADVISORY_LOCK_KEY = 0x6E65787473686F77  # "nextshow" in ASCII
UPGRADE_COMMAND = "nextshow db upgrade"


class SchemaOutdated(RuntimeError):
    """The database schema is not the one this code needs (the message says what to run)."""


def _sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the migration lock; Alembic runs on this very connection."""
    db_file = _sqlite_file(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            conn.commit()  # the lock is per session: it outlives this transaction
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                conn.commit()
        return
    if db_file is None:  # an in-memory database: no other process can see it
        with engine.connect() as conn:
            yield conn
        return
    db_file.parent.mkdir(parents=True, exist_ok=True)
    with db_file.with_name(db_file.name + ".migrate.lock").open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def upgrade_locked(
    engine: Engine, revision: str = "head", *, only_if_empty: bool = False
) -> tuple[str | None, str | None]:
    """Upgrade to ``revision`` under the lock; (revision before, revision after).

    The state is read again once the lock is held, so of two processes upgrading together the
    second finds the work done and changes nothing. ``only_if_empty``: create a database that
    has no tables at all, and leave an existing schema alone.
    """
    with migration_lock(engine) as conn:
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        before = MigrationContext.configure(conn).get_current_revision()
        occupied = bool(inspect(conn).get_table_names())
        conn.commit()
        target = head_revision() if revision == "head" else revision
        if before != target and not (only_if_empty and occupied):
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        after = MigrationContext.configure(conn).get_current_revision()
        conn.commit()
    return before, after


def is_empty(engine: Engine) -> bool:
    """No tables at all: a fresh database (the default SQLite file on first use)."""
    return not inspect(engine).get_table_names()


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutdated` unless the schema is at this code's head revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    from alembic.script import ScriptDirectory

    known = {rev.revision for rev in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    where = engine.url.render_as_string(hide_password=True)
    if current is not None and current not in known:
        raise SchemaOutdated(
            f"the database {where} is at revision {current}, newer than this nextshow "
            f"(head {head}): run a newer nextshow"
        )
    raise SchemaOutdated(
        f"the database {where} is at revision {current or 'none'}, this nextshow needs {head}: "
        f"run `{UPGRADE_COMMAND}` first"
    )


def prepare_schema(engine: Engine, *, create_if_empty: bool = False) -> None:
    """Check the revision; with ``create_if_empty`` a database without tables is created first."""
    if create_if_empty and is_empty(engine):
        upgrade_locked(engine, only_if_empty=True)
    check_schema(engine)
