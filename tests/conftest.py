"""Shared fixtures: a fresh, migrated store on SQLite and (when configured) on PostgreSQL.

``NEXTSHOW_TEST_POSTGRES_URL`` set means the PostgreSQL variant of every ``store`` test runs, and
fails, not skips, when that server cannot be reached.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from nextshow.config import Settings
from nextshow.db.session import make_engine, session_factory, upgrade

POSTGRES_URL = os.environ.get("NEXTSHOW_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("NEXTSHOW_TEST_REDIS_URL")
REPO_ROOT = Path(__file__).resolve().parents[1]
DATASET_DIR = REPO_ROOT.parent / "shared" / "datasets" / "movietweetings-100k"

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _psycopg_url(url: str) -> str:
    return Settings(database_url=url).db_url


@dataclass
class Store:
    """A migrated, empty database: its URL, engine, session factory and settings pointing at it."""

    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    settings: Settings
    home: Path

    def env(self) -> dict[str, str]:
        """Environment for a ``nextshow`` subprocess using this store."""
        return {
            **os.environ,
            "NEXTSHOW_HOME": str(self.home),
            "NEXTSHOW_DATABASE_URL": self.url,
            "NEXTSHOW_PROGRESS": "false",
        }


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine | None]:
    if not POSTGRES_URL:
        yield None
        return
    engine = create_engine(_psycopg_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    # Fail loudly: the variable says a server is expected.
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    yield engine
    engine.dispose()


def _make_store(
    backend: str, tmp_path: Path, admin: Engine | None, revision: str | None = "head"
) -> Iterator[Store]:
    """A store migrated to ``revision`` (None: an empty database, no tables at all)."""
    home = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=tmp_path))
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{home / 'nextshow.db'}"
    else:
        assert admin is not None and POSTGRES_URL
        # One schema per test keeps tests independent without creating databases.
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in POSTGRES_URL else "?"
        url = _psycopg_url(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}")
    engine = make_engine(url)
    if revision is not None:
        upgrade(engine, revision)
    settings = Settings(home=home, database_url=url, progress=False)
    try:
        yield Store(backend, url, engine, session_factory(engine), settings, home)
    finally:
        engine.dispose()
        if schema and admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: Engine | None):
    """A fresh migrated store, once per configured backend (SQLite always, PostgreSQL when set)."""
    yield from _make_store(request.param, tmp_path, postgres_admin)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh migrated SQLite store, for tests that are about the embedded default only."""
    yield from _make_store("sqlite", tmp_path, None)


def run_cli(
    *args: str, env: dict[str, str], check: bool = False, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``nextshow`` command in a subprocess."""
    result = subprocess.run(
        [sys.executable, "-m", "nextshow.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"nextshow {' '.join(args)} exited {result.returncode}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture
def movietweetings_ratings() -> Path:
    """The MovieTweetings-100k ratings file: the shared copy beside the repository, or (in a
    clone without ../shared) the bundled gzip copy of the same file."""
    shared = DATASET_DIR / "ratings.dat"
    if shared.is_file():
        return shared
    return REPO_ROOT / "src" / "nextshow" / "data" / "demo" / "ratings.dat.gz"
