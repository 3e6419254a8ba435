"""`nextshow serve` on a port another program holds: one sentence and exit 1, at once."""

from __future__ import annotations

import socket

from tests.conftest import run_cli


def test_busy_port_fails_with_a_sentence(sqlite_store):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli(
            "serve", "--host", "127.0.0.1", "--port", str(port), env=sqlite_store.env(), timeout=60
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"port {port} is in use; set NEXTSHOW_PORT or --port" in result.stderr
    assert "Traceback" not in result.stderr
    assert "worker process" not in result.stderr  # nothing was started before the check
