"""`nextshow db upgrade` under its lock: two processes at once, the schema migrated exactly once.

The test holds the migration lock itself, starts two real upgrade processes, waits until the
database server (PostgreSQL: ``pg_locks``) or the kernel (SQLite: ``/proc/locks``) shows both
blocked on that lock, and only then lets them go: so the two really compete.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from nextshow.db.migrate import ADVISORY_LOCK_KEY
from nextshow.db.session import current_revision, head_revision
from tests.conftest import Store


def _blocked_on_file(path: Path) -> int:
    """Processes waiting for a flock on ``path`` (the ``->`` lines of /proc/locks)."""
    inode = path.stat().st_ino
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(1 for line in lines if "->" in line and line.split()[6].endswith(f":{inode}"))


@contextmanager
def _sqlite_lock(store: Store) -> Iterator[Callable[[], int]]:
    lock_path = store.home / "nextshow.db.migrate.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield lambda: _blocked_on_file(lock_path)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _postgres_lock(store: Store) -> Iterator[Callable[[], int]]:
    engine = create_engine(store.url, isolation_level="AUTOCOMMIT")
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
    )
    key = {"high": ADVISORY_LOCK_KEY >> 32, "low": ADVISORY_LOCK_KEY & 0xFFFFFFFF}
    try:
        with engine.connect() as conn, engine.connect() as watcher:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            try:
                yield lambda: int(watcher.execute(waiting, key).scalar_one())
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
    finally:
        engine.dispose()


def test_two_concurrent_upgrades_migrate_once(empty_store: Store):
    holding = _sqlite_lock if empty_store.backend == "sqlite" else _postgres_lock
    args = [sys.executable, "-m", "nextshow.cli", "db", "upgrade"]
    with holding(empty_store) as blocked:
        procs = [
            subprocess.Popen(
                args, env=empty_store.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 120  # a guard against a hang, not a speed assertion
        while blocked() < 2:
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                for p in procs:
                    p.kill()
                pytest.fail("the upgrade processes did not wait for the migration lock")
            time.sleep(0.05)
        # Both wait for the lock; nothing has been created yet.
        assert inspect(empty_store.engine).get_table_names() == []
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    said = sorted(out.decode().strip() for out, _ in outputs)
    head = head_revision()
    assert said == [
        f"database at revision {head}: nothing to do",
        f"database upgraded from revision none to {head}",
    ]
    assert current_revision(empty_store.engine) == head
    with empty_store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
