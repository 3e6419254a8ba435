"""POST /api/recommendations/group: the happy path, members the matcher cannot place, limits."""

from __future__ import annotations

from tests.pipeline.conftest import seed_ratings
from tests.service.conftest import service_settings
from tests.service.test_api import _assert_problem

URL = "/api/recommendations/group"


def _group(*members: tuple[str | None, list[str]], **extra) -> dict:
    body = [{"shows": shows} | ({"name": name} if name else {}) for name, shows in members]
    return {"members": body, **extra}


def test_group_happy_path(client):
    # Sam likes taste group 0 (id % 3 == 0), Alex taste group 1: each card names both people.
    body = _group(("Sam", ["Show 0", "Show 3"]), ("Alex", ["Show 1", "Show 4"]), n=6)
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["strategy"] == "average-without-misery"
    assert answer["model"] == {"version": 1, "name": "itemknn", "fallback": False}
    assert [m["name"] for m in answer["members"]] == ["Sam", "Alex"]
    assert [m["status"] for m in answer["members"][0]["matches"]] == ["matched", "matched"]
    recs = answer["recommendations"]
    assert len(recs) == 6
    titles = {r["title"] for r in recs}
    assert not titles & {"Show 0", "Show 3", "Show 1", "Show 4"}  # nobody gets their own likes
    # Both taste groups are served, not only one person's.
    groups = {int(t.split()[1]) % 3 for t in titles}
    assert {0, 1} <= groups
    for rec in recs:
        assert [m["name"] for m in rec["members"]] == ["Sam", "Alex"]
        assert all(0 <= m["fit"] <= 1 for m in rec["members"])
    sam_reasons = [r["members"][0] for r in recs if r["members"][0]["because"]]
    assert sam_reasons
    for fit in sam_reasons:
        liked = " and ".join(b["title"] for b in fit["because"])
        assert {b["title"] for b in fit["because"]} <= {"Show 0", "Show 3"}
        assert fit["reason"] == f"Sam: because you liked {liked}"


def test_group_strategies_differ_and_are_named(client):
    members = (("Sam", ["Show 0", "Show 3", "Show 6"]), ("Alex", ["Show 1"]), ("Kim", ["Show 2"]))
    answers = {}
    for strategy in ("average", "least-misery", "average-without-misery"):
        response = client.post(URL, json=_group(*members, n=5, strategy=strategy))
        assert response.status_code == 200, response.text
        assert response.json()["strategy"] == strategy
        answers[strategy] = response.json()["recommendations"]
    least = answers["least-misery"]
    # Least misery: the group score is each show's smallest member fit.
    for rec in least:
        assert rec["score"] == min(m["fit"] for m in rec["members"])
    assert [r["score"] for r in least] == sorted((r["score"] for r in least), reverse=True)
    for rec in answers["average"]:
        mean = sum(m["fit"] for m in rec["members"]) / 3
        assert abs(rec["score"] - mean) < 1e-3


def test_unnamed_members_are_numbered(client):
    response = client.post(URL, json=_group((None, ["Show 0"]), (None, ["Show 1"])))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [m["name"] for m in answer["members"]] == ["Person 1", "Person 2"]
    assert answer["recommendations"][0]["members"][1]["reason"].startswith("Person 2: ")


def test_a_member_with_only_unknown_shows_is_named(client):
    body = _group(("Sam", ["Show 0"]), ("Alex", ["tt9999999", "zzzz qqqq xxxx"]))
    problem = _assert_problem(client.post(URL, json=body), 422)
    assert problem["member"] == "Alex"
    assert "Alex" in problem["detail"]
    assert [m["status"] for m in problem["matches"]] == ["not_found", "not_found"]


def test_duplicate_members(client):
    # The same name twice: reasons would be ambiguous.
    same_name = _group(("Sam", ["Show 0"]), ("sam", ["Show 1"]))
    problem = _assert_problem(client.post(URL, json=same_name), 422)
    assert "names must differ" in problem["errors"][0]["msg"]
    # The same shows under two names: allowed, and both fit every show equally.
    twins = client.post(URL, json=_group(("Sam", ["Show 0"]), ("Alex", ["Show 0"]), n=3))
    assert twins.status_code == 200, twins.text
    for rec in twins.json()["recommendations"]:
        sam, alex = rec["members"]
        assert sam["fit"] == alex["fit"]
        assert [b["id"] for b in sam["because"]] == [b["id"] for b in alex["because"]]


def test_group_limits(client):
    one = _group(("Sam", ["Show 0"]))
    assert _assert_problem(client.post(URL, json=one), 422)["errors"][0]["loc"][:2] == [
        "body",
        "members",
    ]
    five = _group(*[(f"P{i}", ["Show 0"]) for i in range(5)])
    _assert_problem(client.post(URL, json=five), 422)
    four = _group(*[(f"P{i}", [f"Show {i}"]) for i in range(4)], n=3)
    assert client.post(URL, json=four).status_code == 200
    six_shows = _group(("Sam", [f"Show {i}" for i in range(6)]), ("Alex", ["Show 1"]))
    _assert_problem(client.post(URL, json=six_shows), 422)
    no_shows = _group(("Sam", []), ("Alex", ["Show 1"]))
    _assert_problem(client.post(URL, json=no_shows), 422)
    for bad in ({"n": 0}, {"n": 51}, {"strategy": "median"}, {"extra": 1}):
        _assert_problem(
            client.post(URL, json=_group(("A", ["Show 0"]), ("B", ["Show 1"]), **bad)), 422
        )
    long_name = _group(("x" * 41, ["Show 0"]), ("B", ["Show 1"]))
    _assert_problem(client.post(URL, json=long_name), 422)
    _assert_problem(
        client.post(URL, content=b'{"members": [', headers={"content-type": "application/json"}),
        400,
    )
    big = _group(("A", ["Show 0"]), ("B", ["Show 1"])) | {"pad": "y" * 20_000}
    _assert_problem(client.post(URL, json=big), 413)


def test_group_without_a_model_uses_popularity(store, make_client):
    seed_ratings(store)
    client = make_client(service_settings(store))
    response = client.post(URL, json=_group(("Sam", ["Show 0"]), ("Alex", ["Show 1"]), n=4))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"]["fallback"] is True
    recs = answer["recommendations"]
    assert len(recs) == 4
    assert not {r["title"] for r in recs} & {"Show 0", "Show 1"}
    assert recs[0]["members"][0]["reason"] == "Sam: popular with everyone"
