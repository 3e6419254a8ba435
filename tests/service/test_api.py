"""The API contract on every backend: happy paths, every error status, the feedback loop."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, update

from nextshow.db.models import PredictionRequest, Rating, Show, User
from nextshow.schemas.predictions import PredictionPublic
from nextshow.service.predictions import process_request
from tests.service.conftest import ADMIN_TOKEN, request_row, service_settings, wait_done

PROBLEM = "application/problem+json"


def _show_id(store, title: str) -> int:
    with store.sessions() as session:
        return session.scalars(select(Show.id).where(Show.title == title)).one()


def _web_likes(store) -> list[tuple[str, int, bool]]:
    with store.sessions() as session:
        return sorted(
            session.execute(
                select(User.external_id, Rating.show_id, Rating.liked)
                .join(User, User.id == Rating.user_id)
                .where(Rating.source == "web")
            ).all()
        )


def _assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and "type" in body
    return body


def test_sync_recommendations(client):
    response = client.get("/api/recommendations", params={"show": ["Show 0", "Show 3"], "n": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m["status"] for m in body["matches"]] == ["matched", "matched"]
    assert body["model"] == {"version": 1, "name": "itemknn", "fallback": False}
    recs = body["recommendations"]
    assert 0 < len(recs) <= 5
    titles = {r["title"] for r in recs}
    assert not titles & {"Show 0", "Show 3"}  # liked shows are never recommended
    # Shows 0 and 3 are in taste group 0 (id % 3 == 0): its shows dominate the answer.
    assert sum(int(t.split()[1]) % 3 == 0 for t in titles) >= len(recs) - 1
    assert all(r["because"] for r in recs)
    assert {b["title"] for r in recs for b in r["because"]} <= {"Show 0", "Show 3"}
    assert recs == sorted(recs, key=lambda r: -r["score"])
    # item kNN scores are all taste: each reason names the liked shows in `because`, in order.
    for r in recs:
        assert r["reason_kind"] == "because"
        named = [b["title"] for b in r["because"]]
        assert r["reason"] == "Because you liked " + " and ".join(named) + "."
    assert body["notice"] is None


def test_sync_recommendations_exclude(client):
    """Shows turned down ("not for me") leave the list; the next ones take their places."""
    params = {"show": ["Show 0", "Show 3"], "n": 5}
    first = client.get("/api/recommendations", params=params).json()["recommendations"]
    dropped = [r["id"] for r in first[:2]]
    again = client.get("/api/recommendations", params={**params, "exclude": dropped})
    assert again.status_code == 200, again.text
    ids = [r["id"] for r in again.json()["recommendations"]]
    assert len(ids) == len(first) and not set(ids) & set(dropped)
    assert ids[:3] == [r["id"] for r in first[2:5]]
    for bad in (0, -1, 2**31, "x"):
        _assert_problem(client.get("/api/recommendations", params={**params, "exclude": bad}), 422)
    many = {**params, "exclude": list(range(1, 52))}
    _assert_problem(client.get("/api/recommendations", params=many), 422)


def test_shows_search_and_get(client, trained):
    found = client.get("/api/shows", params={"q": "show 1"}).json()
    assert found["count"] == len(found["data"]) > 0
    assert found["data"][0]["title"] == "Show 1"
    show_id = found["data"][0]["id"]
    one = client.get(f"/api/shows/{show_id}")
    assert one.status_code == 200
    assert one.json()["title"] == "Show 1" and one.json()["user_submitted"] is False
    _assert_problem(client.get("/api/shows/999999"), 404)
    _assert_problem(client.get("/api/shows/abc"), 422)


def test_prediction_round_trip_records_likes_once(client, trained):
    response = client.post("/api/predictions", json={"shows": ["Show 1", "Brand New Series"]})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status_url"] == f"/api/predictions/{accepted['prediction_id']}"
    assert response.headers["location"] == accepted["status_url"]
    statuses = {m["input"]: m["status"] for m in accepted["matches"]}
    assert statuses == {"Show 1": "matched", "Brand New Series": "created"}

    done = wait_done(client, accepted["prediction_id"])
    assert done["status"] == "done", done
    assert done["model"]["version"] == 1 and not done["model"]["fallback"]
    assert done["recommendations"] and all(r["title"] != "Show 1" for r in done["recommendations"])

    new_id = _show_id(trained, "Brand New Series")
    anon = f"anon:{accepted['prediction_id']}"
    expected = sorted([(anon, _show_id(trained, "Show 1"), True), (anon, new_id, True)])
    assert _web_likes(trained) == expected

    # Huey delivers at least once: the same task again, and again after a crash between the
    # commit and the acknowledgement (status back to pending), records nothing new.
    row = request_row(trained, accepted["prediction_id"])
    holder_model = client.app.state.services.holder.current
    assert process_request(trained.sessions, holder_model, row.id) == "done"
    with trained.sessions() as session, session.begin():
        session.execute(
            update(PredictionRequest)
            .where(PredictionRequest.id == row.id)
            .values(status="pending", results=None)
        )
    assert process_request(trained.sessions, holder_model, row.id) == "done"
    assert _web_likes(trained) == expected
    assert request_row(trained, row.id).attempts == 2


def test_stored_answer_is_served_as_validating_it_would(client, trained):
    prediction_id = client.post("/api/predictions", json={"shows": ["Show 1"]}).json()[
        "prediction_id"
    ]
    wait_done(client, prediction_id)
    row = request_row(trained, prediction_id)
    assert row.results.startswith('{"schema":"')  # stamped: served without validation
    served = client.get(f"/api/predictions/{prediction_id}")
    assert served.text == PredictionPublic.model_validate(row).model_dump_json()
    assert "schema" not in served.json()

    # Results written by another version of the schema are validated into this one: an older
    # one (no stamp; recommendations without reason_kind and reason), or another stamp.
    stored = json.loads(row.results)
    del stored["schema"]
    for recommendation in stored["recommendations"]:
        del recommendation["reason_kind"], recommendation["reason"]
    for results in (json.dumps(stored), '{"schema":"0000000000000000",' + json.dumps(stored)[1:]):
        with trained.sessions() as session, session.begin():
            session.execute(
                update(PredictionRequest)
                .where(PredictionRequest.id == prediction_id)
                .values(results=results)
            )
        body = client.get(f"/api/predictions/{prediction_id}").json()
        assert "schema" not in body
        first = body["recommendations"][0]
        assert first["reason_kind"] == "because" and first["reason"] == ""
        assert first["title"] == stored["recommendations"][0]["title"]


def test_concurrent_deliveries_record_likes_once(client, trained):
    # Two workers running the same task at the same moment (a re-enqueue racing the original):
    # exactly one moves the request to done, the likes exist once, attempts counts one run.
    row_id = str(uuid.uuid4())
    matches = [
        {"input": t, "status": "matched", "show": {"id": _show_id(trained, t), "title": t}}
        for t in ("Show 1", "Show 2")
    ]
    with trained.sessions() as session, session.begin():
        session.add(
            PredictionRequest(id=row_id, inputs="{}", matches=json.dumps(matches), n=5, attempts=0)
        )
    model = client.app.state.services.holder.current
    barrier = threading.Barrier(4)

    def deliver() -> str | None:
        barrier.wait()
        return process_request(trained.sessions, model, row_id)

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: deliver(), range(4)))
    assert statuses == ["done"] * 4
    anon = f"anon:{row_id}"
    likes = [(u, s) for u, s, _ in _web_likes(trained) if u == anon]
    assert sorted(likes) == sorted((anon, _show_id(trained, t)) for t in ("Show 1", "Show 2"))
    assert request_row(trained, row_id).attempts == 1


def test_given_user_gets_one_like_per_show(client, trained):
    user_show = _show_id(trained, "Show 2")
    ids = []
    for shows in (["Show 1", "Show 2"], ["Show 2", "Show 4"], ["Show 2"]):
        response = client.post("/api/predictions", json={"shows": shows, "user_id": "alice"})
        assert response.status_code == 202
        ids.append(response.json()["prediction_id"])
    for prediction_id in ids:
        assert wait_done(client, prediction_id)["status"] == "done"
    likes = [(u, s) for u, s, _ in _web_likes(trained)]
    assert sorted(likes) == sorted(
        [("alice", _show_id(trained, t)) for t in ("Show 1", "Show 2", "Show 4")]
    )
    assert user_show in [s for _, s in likes]


def test_worker_marks_unfixable_requests_failed(client, trained):
    # A row the API would never write (n=0): the model refuses it, and no retry can fix that.
    prediction_id = str(uuid.uuid4())
    matches = [{"input": "Show 1", "status": "matched", "show": {"id": 1, "title": "Show 1"}}]
    with trained.sessions() as session, session.begin():
        session.add(
            PredictionRequest(
                id=prediction_id, inputs="{}", matches=json.dumps(matches), n=0, attempts=0
            )
        )
    client.app.state.services.queue.enqueue_prediction(prediction_id)
    failed = wait_done(client, prediction_id)
    assert failed["status"] == "failed" and "n must be a positive int" in failed["error"]
    assert failed["recommendations"] is None


def test_idempotency_key(client):
    headers = {"Idempotency-Key": "k-123"}
    first = client.post("/api/predictions", json={"shows": ["Show 1"]}, headers=headers)
    again = client.post("/api/predictions", json={"shows": ["Show 1"]}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["prediction_id"] == again.json()["prediction_id"]
    other = client.post("/api/predictions", json={"shows": ["Show 2"]}, headers=headers)
    body = _assert_problem(other, 409)
    assert "k-123" in body["detail"]


def test_error_statuses(client):
    _assert_problem(
        client.post(
            "/api/predictions", content=b'{"shows": [', headers={"content-type": "application/json"}
        ),
        400,
    )
    _assert_problem(client.get(f"/api/predictions/{uuid.uuid4()}"), 404)
    _assert_problem(client.get("/api/predictions/not-a-uuid"), 422)
    too_big = {"shows": ["x" * 100] * 5, "pad": "y" * 20_000}
    _assert_problem(client.post("/api/predictions", json=too_big), 413)
    six = {"shows": [f"Show {i}" for i in range(6)]}
    body = _assert_problem(client.post("/api/predictions", json=six), 422)
    assert body["errors"][0]["loc"][:2] == ["body", "shows"]
    _assert_problem(client.post("/api/predictions", json={"shows": ["x" * 201]}), 422)
    _assert_problem(client.post("/api/predictions", json={"shows": []}), 422)
    _assert_problem(client.post("/api/predictions", json={"shows": ["Show 1"], "n": 0}), 422)
    _assert_problem(client.post("/api/predictions", json={"shows": ["ok"], "extra": 1}), 422)
    unknown_id = client.post("/api/predictions", json={"shows": ["tt9999999"]})
    body = _assert_problem(unknown_id, 422)
    assert body["matches"][0]["status"] == "not_found"
    sync = client.get("/api/recommendations", params={"show": ["tt9999999"]})
    assert _assert_problem(sync, 422)["matches"][0]["status"] == "not_found"
    _assert_problem(client.get("/api/recommendations"), 422)
    _assert_problem(client.get("/api/nothing-here"), 404)


def test_rate_limit(trained, make_client):
    client = make_client(service_settings(trained, rate_limit_per_minute=60), run_worker=False)
    statuses = [client.get("/api/shows", params={"q": "show"}).status_code for _ in range(10)]
    assert statuses[0] == 200 and statuses[-1] == 429
    limited = client.get("/api/shows", params={"q": "show"})
    _assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1
    assert client.get("/healthz").status_code == 200  # health checks are never limited


def test_cors(trained, make_client):
    settings = service_settings(trained, cors_origins=["https://example.org"])
    client = make_client(settings, run_worker=False)
    ok = client.get("/api/shows", params={"q": "show"}, headers={"Origin": "https://example.org"})
    assert ok.headers["access-control-allow-origin"] == "https://example.org"
    other = client.get("/api/shows", params={"q": "show"}, headers={"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in other.headers


def test_health_readiness_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["queue"]["ok"]
    assert body["model"]["version"] == 1 and not body["model"]["fallback"]
    accepted = client.post("/api/predictions", json={"shows": ["Show 1"]}).json()
    wait_done(client, accepted["prediction_id"])
    text = client.get("/metrics").text
    assert 'nextshow_http_requests_total{method="POST",route="/api/predictions",status="202"}' in (
        text
    )
    assert 'nextshow_http_request_seconds_bucket{le="0.01",method="GET"' in text
    assert "nextshow_model_version 1.0" in text
    assert 'nextshow_predictions{status="done"} 1.0' in text
    assert "nextshow_queue_depth" in text


def test_fallback_without_production_model(store, make_client):
    from tests.pipeline.conftest import seed_ratings

    seed_ratings(store)
    client = make_client(service_settings(store))
    body = client.get("/api/recommendations", params={"show": "Show 1", "n": 3}).json()
    assert body["model"] == {"version": None, "name": "popularity-fallback", "fallback": True}
    assert len(body["recommendations"]) == 3
    assert all(r["title"] != "Show 1" for r in body["recommendations"])
    ready = client.get("/readyz").json()
    assert ready["status"] == "degraded" and ready["model"]["fallback"]
    done = wait_done(
        client, client.post("/api/predictions", json={"shows": ["Show 1"]}).json()["prediction_id"]
    )
    assert done["status"] == "done" and done["model"]["fallback"]

    strict = make_client(service_settings(store, require_model=True), run_worker=False)
    not_ready = strict.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.json()["status"] == "unavailable"


def test_admin_routes(client, trained, make_client):
    _assert_problem(client.get("/api/admin/models"), 401)
    bad = client.get("/api/admin/models", headers={"Authorization": "Bearer wrong"})
    _assert_problem(bad, 401)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    listing = client.get("/api/admin/models", headers=auth).json()
    assert [(v["version"], v["stage"]) for v in listing["data"]] == [(1, "production")]
    _assert_problem(client.post("/api/admin/models/1/promote", headers=auth), 409)
    _assert_problem(client.post("/api/admin/models/99/promote", headers=auth), 404)
    _assert_problem(client.post("/api/admin/rollback", headers=auth, json={}), 409)
    off = make_client(service_settings(trained, admin_token=None), run_worker=False)
    _assert_problem(off.get("/api/admin/models", headers=auth), 404)


def test_prediction_count_matches_requests(client, trained):
    ids = [
        client.post("/api/predictions", json={"shows": [f"Show {i}"]}).json()["prediction_id"]
        for i in range(8)
    ]
    assert all(wait_done(client, i)["status"] == "done" for i in ids)
    with trained.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PredictionRequest)) == 8
        anon = session.scalar(select(func.count()).select_from(User).where(User.anonymous))
    assert anon == 8


def test_add_shows_creates_a_title_that_only_resembles_a_known_one(client, trained):
    """ "Shw 12" is a near match of "Show 12": a candidate to confirm, unless the user said
    "none of these" (add_shows), when it becomes a new user-submitted show and a like."""
    plain = client.post("/api/predictions", json={"shows": ["Show 1", "Shw 12"]})
    assert plain.status_code == 202, plain.text
    status = {m["input"]: m["status"] for m in plain.json()["matches"]}
    assert status["Shw 12"] == "fuzzy"

    added = client.post(
        "/api/predictions", json={"shows": ["Show 1", "Shw 12"], "add_shows": ["Shw 12"]}
    )
    assert added.status_code == 202, added.text
    match = {m["input"]: m for m in added.json()["matches"]}["Shw 12"]
    assert match["status"] == "created" and match["show"]["title"] == "Shw 12"
    with trained.sessions() as session:
        show = session.scalars(select(Show).where(Show.title == "Shw 12")).one()
        assert show.user_submitted
