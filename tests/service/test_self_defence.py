"""The service defends itself: proxy headers, rate limits on pages, slow headers, cached charts,
de-duplicated retrains, corrupt caches healed, failed versions retried, private readiness."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx

from nextshow.db.models import ModelVersion
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.loading import fetch_artifact
from nextshow.service import holder as holder_module
from nextshow.service.web import charts
from tests.pipeline.conftest import seed_ratings
from tests.service.conftest import ADMIN_TOKEN, service_settings, train_and_promote
from tests.service.test_holder import _corrupt_artifact
from tests.service.test_serve import free_port, start_serve, wait_http

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _serve(store, port: int, **env: str) -> subprocess.Popen:
    proc = start_serve({**store.env(), **env}, port, "--no-worker", quiet=True)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_forwarded_for_cannot_dodge_the_rate_limit_and_pages_are_limited(sqlite_store):
    """Attack: a different X-Forwarded-For per request passed 200 of 200 requests."""
    seed_ratings(sqlite_store)
    port = free_port()
    proc = _serve(sqlite_store, port, NEXTSHOW_RATE_LIMIT_PER_MINUTE="6")
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        codes = [
            httpx.get(
                f"{base}/api/shows",
                params={"q": "show"},
                headers={"X-Forwarded-For": f"10.0.0.{i}"},
            ).status_code
            for i in range(30)
        ]
        # One token to start, one more every 10 s: whatever the header says, no more pass.
        allowed = 1 + (time.monotonic() - started) / 10 + 1
        assert codes.count(200) <= allowed and codes.count(429) == 30 - codes.count(200)
        pages = [httpx.get(f"{base}/about").status_code for _ in range(10)]
        assert 429 in pages  # web pages count too
        assert httpx.get(f"{base}/healthz").status_code == 200  # probes do not
    finally:
        _stop(proc)


def test_trickled_headers_are_cut_off(sqlite_store):
    """Attack: connections that trickle headers were held open without limit."""
    port = free_port()
    proc = _serve(sqlite_store, port, NEXTSHOW_HEADER_TIMEOUT_SECONDS="1")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            closed = False
            for i in range(60):  # would trickle for 30 s
                time.sleep(0.5)
                try:
                    sock.sendall(f"X-Slow-{i}: y\r\n".encode())
                    sock.settimeout(0.01)
                    if sock.recv(1) == b"":
                        closed = True
                        break
                except TimeoutError:
                    continue
                except OSError:
                    closed = True
                    break
            assert closed, "a connection trickling headers was never closed"
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        _stop(proc)


def test_models_chart_is_drawn_once_per_registry_state(client, trained, monkeypatch):
    """Attack: 48 concurrent chart requests drew 48 matplotlib figures."""
    drawn: list[str] = []
    real = charts.versions_chart_svg

    def counting(*args, **kwargs):
        drawn.append(kwargs["metric"])
        return real(*args, **kwargs)

    monkeypatch.setattr(charts, "versions_chart_svg", counting)
    monkeypatch.setattr(charts, "_cache", {})
    first = client.get("/models/chart.svg")
    assert first.status_code == 200 and first.text.startswith("<?xml")
    assert [client.get("/models/chart.svg").text for _ in range(5)] == [first.text] * 5
    assert len(drawn) == 1
    train_and_promote(trained, "itemknn", force_reason="new version", k=10)
    assert client.get("/models/chart.svg").text != first.text
    assert len(drawn) == 2


def test_admin_retrains_are_de_duplicated(trained, make_client):
    """Attack: seven queued admin retrains trained seven versions."""
    client = make_client(service_settings(trained), run_worker=False)
    answers = [client.post("/api/admin/retrain", headers=AUTH).json() for _ in range(7)]
    assert answers[0]["detail"] == "queued for the worker"
    assert all("already queued" in a["detail"] for a in answers[1:])
    assert client.app.state.services.queue.pending() == 1


def test_corrupt_cached_artifact_is_fetched_again(trained, tmp_path):
    artifacts = ArtifactStore(trained.settings.artifacts_url)
    with trained.sessions() as s:
        version = s.get(ModelVersion, 1)
        s.expunge(version)
    folder = fetch_artifact(artifacts, version, tmp_path)
    good = (folder / "arrays.npz").read_bytes()
    (folder / "arrays.npz").write_bytes(good[:-10])  # a crash mid-copy
    assert fetch_artifact(artifacts, version, tmp_path) == folder
    assert (folder / "arrays.npz").read_bytes() == good


def test_a_failed_version_is_retried_with_back_off(trained, make_client, monkeypatch):
    """Attack: a version that failed once (store down) was never tried again until restart."""
    monkeypatch.setattr(holder_module, "RETRY_FIRST", 0.0)
    client = make_client(service_settings(trained, model_poll_seconds=3600), run_worker=False)
    holder = client.app.state.services.holder
    bad = train_and_promote(trained, "itemknn", force_reason="flaky store", k=10)
    artifacts = ArtifactStore(trained.settings.artifacts_url)
    with trained.sessions() as s:
        uri = s.get(ModelVersion, bad).artifact_uri
    npz = Path(artifacts.root) / artifacts.key_of(uri) / "arrays.npz"
    intact = npz.read_bytes()
    _corrupt_artifact(trained, bad)
    assert holder.refresh() is False and holder.status().failed_version_id == bad
    npz.write_bytes(intact)  # the store healed
    assert holder.refresh() is True
    assert holder.status().version_id == bad and holder.status().last_error is None
