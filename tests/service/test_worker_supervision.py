"""A dead worker is noticed and restarted: `nextshow serve` supervises its child, /readyz and
/metrics report a stalled queue from any process (the heartbeat lives in the queue's storage)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.pipeline.conftest import seed_ratings
from tests.service.conftest import ADMIN_TOKEN, service_settings
from tests.service.test_serve import free_port, start_serve, wait_http


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def test_readyz_fails_when_tasks_wait_and_no_worker_takes_them(trained, make_client):
    """Attack: with the worker dead, /readyz stayed 200 "ok" with 622 pending."""
    client = make_client(service_settings(trained, worker_stall_seconds=0.3), run_worker=False)
    assert client.get("/readyz").status_code == 200
    accepted = client.post("/api/predictions", json={"shows": ["Show 1"]})
    assert accepted.status_code == 202
    time.sleep(0.6)
    ready = client.get("/readyz", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable" and not body["worker"]["ok"]
    assert "no worker is taking tasks" in body["worker"]["detail"]
    metrics = client.get("/metrics").text
    assert _metric(metrics, "nextshow_oldest_pending_seconds") > 0.3
    assert _metric(metrics, "nextshow_worker_last_task_seconds") == -1


def test_readyz_is_fine_while_a_worker_takes_tasks(trained, make_client):
    client = make_client(service_settings(trained, worker_stall_seconds=0.3))
    accepted = client.post("/api/predictions", json={"shows": ["Show 1"]}).json()
    deadline = time.monotonic() + 15
    while client.get(accepted["status_url"]).json()["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert 0 <= _metric(client.get("/metrics").text, "nextshow_worker_last_task_seconds") < 15


def _state(pid: int) -> str | None:
    """The process state letter (Z: zombie), None when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return None


def test_serve_restarts_its_killed_worker(sqlite_store):
    """Attack: kill -9 of the worker child left a zombie and a queue nobody served."""
    seed_ratings(sqlite_store)
    port = free_port()
    proc = start_serve({**sqlite_store.env(), "NEXTSHOW_WORKER_STALL_SECONDS": "5"}, port)
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    try:
        while not (found := re.search(r"queue worker process (\d+)", lines[-1] if lines else "")):
            line = proc.stdout.readline()
            assert line, "serve exited before starting its worker:\n" + "".join(lines)
            lines.append(line)
        first = int(found.group(1))
        wait_http(f"{base}/healthz", proc=proc)
        os.kill(first, signal.SIGKILL)

        deadline = time.monotonic() + 30
        while _metric(httpx.get(f"{base}/metrics").text, "nextshow_worker_restarts") < 1:
            assert time.monotonic() < deadline, "the killed worker was not restarted"
            time.sleep(0.1)
        assert _state(first) in (None, "X")  # reaped: no zombie left behind

        accepted = httpx.post(f"{base}/api/predictions", json={"shows": ["Show 1"]})
        status_url = base + accepted.json()["status_url"]
        deadline = time.monotonic() + 30
        while (body := httpx.get(status_url).json())["status"] == "pending":
            assert time.monotonic() < deadline, "nothing completes after the restart"
            time.sleep(0.05)
        assert body["status"] == "done"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    out = "".join(lines) + out
    assert re.search(rf"worker process {first} exited with code -9", out), out
    assert "(restart 1)" in out
