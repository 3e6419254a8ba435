"""Server configuration: when CI names PostgreSQL and Redis they must answer (fail, not skip)."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import pytest
from sqlalchemy import text

from tests.conftest import POSTGRES_URL, REDIS_URL


@pytest.mark.skipif(not POSTGRES_URL, reason="NEXTSHOW_TEST_POSTGRES_URL not set")
def test_postgres_is_reachable(postgres_admin):
    with postgres_admin.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1


@pytest.mark.skipif(not REDIS_URL, reason="NEXTSHOW_TEST_REDIS_URL not set")
def test_redis_is_reachable():
    url = urlparse(REDIS_URL)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=5) as s:
        s.sendall(b"PING\r\n")
        assert s.recv(64).startswith(b"+PONG")
