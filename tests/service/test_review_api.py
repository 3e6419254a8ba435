"""The poisoning attack through the API, and the review of user-submitted shows (API and CLI)."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from nextshow.db.models import Show
from tests.conftest import run_cli
from tests.service.conftest import ADMIN_TOKEN, train_and_promote, wait_done

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FAKE = "Zqxv Blorp Nine"


def _titles(body: dict) -> list[str]:
    return [r["title"] for r in body["recommendations"]]


def _wait_version(client, version: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while client.app.state.services.holder.current.version_id != version:
        assert time.monotonic() < deadline, f"version {version} not loaded in {timeout} s"
        time.sleep(0.05)


def test_a_made_up_title_liked_by_many_requests_is_never_offered(client, trained):
    """Attack: requests naming a real show plus a made-up one made it the top recommendation
    for the real show after a retrain, and an autocomplete suggestion for everyone."""
    ids = [
        client.post(
            "/api/predictions", json={"shows": ["Show 1", FAKE], "add_shows": [FAKE]}
        ).json()["prediction_id"]
        for _ in range(30)
    ]
    assert all(wait_done(client, i)["status"] == "done" for i in ids)
    assert client.get("/api/shows", params={"q": "Zqxv"}).json()["count"] == 0

    version = train_and_promote(trained, "itemknn", k=20, force_reason="retrain on feedback")
    _wait_version(client, version)
    done = wait_done(
        client, client.post("/api/predictions", json={"shows": ["Show 1"]}).json()["prediction_id"]
    )
    assert done["model"]["version"] == version and not done["model"]["fallback"]
    assert done["recommendations"] and FAKE not in _titles(done)
    synced = client.get("/api/recommendations", params={"shows": "Show 1"})
    if synced.status_code == 200:
        assert FAKE not in _titles(synced.json())


def test_admin_reviews_pending_shows(client, trained):
    created = client.post("/api/predictions", json={"shows": ["Show 1", FAKE]}).json()
    wait_done(client, created["prediction_id"])
    assert client.get("/api/admin/shows/pending").status_code == 401
    pending = client.get("/api/admin/shows/pending", headers=AUTH).json()
    assert [(p["title"], p["likers"]) for p in pending["data"]] == [(FAKE, 1)]
    show_id = pending["data"][0]["id"]

    approved = client.post(f"/api/admin/shows/{show_id}/approve", headers=AUTH)
    assert approved.status_code == 200, approved.text
    assert client.get("/api/shows", params={"q": "Zqxv"}).json()["data"][0]["id"] == show_id
    again = client.post(f"/api/admin/shows/{show_id}/approve", headers=AUTH)
    assert again.status_code == 409
    assert client.post("/api/admin/shows/999999/reject", headers=AUTH).status_code == 404
    assert client.get("/api/admin/shows/pending", headers=AUTH).json()["count"] == 0


def test_cli_reviews_pending_shows(client, trained):
    for title in ("Made Up One", "Made Up Two"):
        wait_done(
            client,
            client.post("/api/predictions", json={"shows": ["Show 2", title]}).json()[
                "prediction_id"
            ],
        )
    env = trained.env()
    listed = json.loads(run_cli("shows", "pending", "--json", env=env, check=True).stdout)
    ids = {row["title"]: row["id"] for row in listed}
    assert set(ids) == {"Made Up One", "Made Up Two"}
    with trained.sessions() as s:
        target = s.scalar(select(Show.id).where(Show.title == "Show 3"))
    run_cli("shows", "reject", str(ids["Made Up One"]), env=env, check=True)
    run_cli("shows", "merge", str(ids["Made Up Two"]), str(target), env=env, check=True)
    failed = run_cli("shows", "approve", str(ids["Made Up One"]), env=env)
    assert failed.returncode != 0 and "rejected, not pending" in failed.stderr
    with trained.sessions() as s:
        assert s.get(Show, ids["Made Up One"]).status == "rejected"
        assert s.get(Show, ids["Made Up Two"]) is None
    assert json.loads(run_cli("shows", "pending", "--json", env=env, check=True).stdout) == []


def test_control_characters_in_typed_titles_are_refused_on_every_database(client, trained):
    """Attack: a NUL in a title gave a 500 on PostgreSQL; ANSI escapes were stored and shown."""
    for text in ("Bad\x00Show", "Red \x1b[31mShow", "A\u202eB"):
        response = client.post(
            "/api/predictions", json={"shows": ["Show 1", text], "add_shows": [text]}
        )
        assert response.status_code == 202, response.text
        status = {m["input"]: m["status"] for m in response.json()["matches"]}
        assert status[text] == "not_found"
        wait_done(client, response.json()["prediction_id"])
    with trained.sessions() as s:
        assert s.scalars(select(Show).where(Show.user_submitted)).all() == []
