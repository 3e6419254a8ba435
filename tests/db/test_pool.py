"""Pooled PostgreSQL connections: a connection that died while idle is replaced, not used."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from nextshow.db import session as db_session
from tests.conftest import POSTGRES_URL, _make_store

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="NEXTSHOW_TEST_POSTGRES_URL not set")


@pytest.fixture
def pg_store(tmp_path, postgres_admin):
    yield from _make_store("postgresql", tmp_path, postgres_admin)


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(admin_engine, pid: int) -> None:
    """End backend ``pid`` and wait until it is gone (pg_terminate_backend only signals it)."""
    with admin_engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :p")
        for _ in range(500):
            if admin.execute(gone, {"p": pid}).scalar():
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} still runs")


def test_an_idle_connection_killed_by_the_server_is_replaced(pg_store, postgres_admin, monkeypatch):
    pid = _backend_pid(pg_store.engine)  # now idle in the pool
    _terminate(postgres_admin, pid)
    monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 0.0)  # it idled long enough
    assert _backend_pid(pg_store.engine) != pid  # the next checkout works, on a new connection


def test_a_connection_used_a_moment_ago_is_not_pinged(pg_store, postgres_admin):
    """No ping (no extra round trip) for a connection just returned: the dead one is handed out
    and fails its statement once; SQLAlchemy then replaces the pool's connections."""
    pid = _backend_pid(pg_store.engine)
    _terminate(postgres_admin, pid)
    with pytest.raises(Exception, match=r"terminat|closed|connection"):
        _backend_pid(pg_store.engine)
    assert _backend_pid(pg_store.engine) != pid
