"""Engine and session creation, and the Alembic revisions (locked upgrades: db/migrate.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, exc, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling is kept on purpose: it begins a transaction only at the
    # first write, so read-then-write sessions take the write lock when they write and wait for it
    # (busy_timeout) instead of failing. The price: SAVEPOINTs (session.begin_nested) are not
    # reliable on SQLite; use INSERT ... ON CONFLICT instead of catching IntegrityError in one.
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while an import or the worker writes; busy_timeout makes writers wait
    # for each other instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, foreign keys and its folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # The pool keeps as many connections as an API process uses at once under load (its thread
    # pool runs up to 40 requests). SQLAlchemy's default keeps 5 and closes every connection
    # beyond them when it is returned: above ~5 concurrent requests each one then paid for a
    # new PostgreSQL connection (a backend process forked, authentication), and throughput fell
    # off a cliff (100 predictions/s fine, 150/s completing fewer than 60/s). Connections are
    # still opened only when needed.
    engine = create_engine(url, pool_size=40, max_overflow=10)
    _ping_when_idle(engine)
    return engine


# A pooled connection unused for longer than this is tested before it is handed out.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection at checkout only when it sat idle: a dead one is replaced.

    ``pool_pre_ping`` tests every checkout: one more round trip per request and per worker task
    (an eighth of the API's CPU per prediction at 250/s). A connection used a moment ago is
    almost always alive; one that idled may have been closed by a database restart or a
    firewall, and is pinged. A connection that dies while in use still fails its request once;
    SQLAlchemy then discards every connection of the pool opened before it, as after any
    disconnect.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info["nextshow_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("nextshow_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as err:
            # The pool discards this connection and checks out another (a new one if need be).
            raise exc.DisconnectionError(f"pooled connection is dead: {err}") from err


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database (None before the first migration)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) > 1:  # branches: let Alembic say what is wrong
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    return rows[0] if rows else None


# ``revision = "0005"`` / ``down_revision = "0004"`` (or None), as every migration here writes them.
_REVISION_LINE = re.compile(
    r"^(down_revision|revision)(?:\s*:[^=]*)?\s*=\s*(?:None|\"([^\"]+)\"|'([^']+)')\s*$", re.M
)


def head_revision() -> str | None:
    """The newest migration of this code.

    Read from the migration files' ``revision`` lines: a command's start then skips importing
    Alembic (and Mako, Pygments), a tenth of a second. Anything unusual (a merge, a branch, a line
    written differently) is left to Alembic's own reading.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = {name: a or b for name, a, b in _REVISION_LINE.findall(path.read_text("utf-8"))}
        if "revision" not in found or "down_revision" not in found:
            return _alembic_head()
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else _alembic_head()


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` without the lock (tests and benchmarks set up stores
    with it; processes sharing a database use :func:`nextshow.db.migrate.upgrade_locked`)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed at the end of the block, or rolled back on any error."""
    with factory() as session, session.begin():
        yield session
