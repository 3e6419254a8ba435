"""`nextshow serve` as a user runs it: a real uvicorn process with its embedded worker."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.conftest import run_cli
from tests.pipeline.conftest import seed_ratings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(
    env: dict[str, str], port: int, *args: str, quiet: bool = False
) -> subprocess.Popen:
    """``nextshow serve`` on 127.0.0.1:``port``; its output (stdout and stderr) readable from
    ``proc.stdout`` as text, or discarded when ``quiet``."""
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, "-m", "nextshow.cli", "serve", "--port", str(port), *args],
        env=env,
        stdout=out,
        stderr=subprocess.DEVNULL if quiet else subprocess.STDOUT,
        text=True,
    )


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_serve_starts_on_fallback_and_picks_up_a_promoted_model(sqlite_store):
    seed_ratings(sqlite_store)
    port = free_port()
    env = {**sqlite_store.env(), "NEXTSHOW_MODEL_POLL_SECONDS": "0.2"}
    proc = start_serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz", proc=proc)
        ready = httpx.get(f"{base}/readyz").json()
        assert ready["status"] == "degraded" and ready["model"]["fallback"]

        run_cli("train", "--model", "itemknn", "--param", "k=20", "--promote", env=env, check=True)
        deadline = time.monotonic() + 10
        while httpx.get(f"{base}/readyz").json()["model"]["version"] != 1:
            assert time.monotonic() < deadline, "the promoted model was not picked up"
            time.sleep(0.1)

        accepted = httpx.post(f"{base}/api/predictions", json={"shows": ["Show 1", "Show 4"]})
        assert accepted.status_code == 202
        status_url = base + accepted.json()["status_url"]
        deadline = time.monotonic() + 10
        while (body := httpx.get(status_url).json())["status"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert body["status"] == "done" and body["model"]["version"] == 1
        assert len(body["recommendations"]) == 10

        sync = httpx.get(f"{base}/api/recommendations", params={"show": ["Show 1"], "n": 3})
        assert sync.status_code == 200 and len(sync.json()["recommendations"]) == 3
        assert httpx.get(f"{base}/docs").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert proc.returncode == 0, out
    assert "worker threads" in out  # the embedded worker ran
