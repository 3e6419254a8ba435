"""Stores that are not at head: migrated to an old revision, or without any table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import BACKENDS, Store, _make_store

OLD_REVISION = "0002"


@pytest.fixture(params=BACKENDS)
def old_store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: Engine | None
) -> Iterator[Store]:
    """A store whose schema stopped at revision 0002 (a newer nextshow needs an upgrade)."""
    yield from _make_store(request.param, tmp_path, postgres_admin, OLD_REVISION)


@pytest.fixture(params=BACKENDS)
def empty_store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: Engine | None
) -> Iterator[Store]:
    """A database without any table (a fresh SQLite file, an empty PostgreSQL schema)."""
    yield from _make_store(request.param, tmp_path, postgres_admin, None)
