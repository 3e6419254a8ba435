"""A TV catalogue with zero ratings serves the content side of the hybrid (not the popularity
fallback), with people-based reasons; alternative titles resolve to their series."""

from __future__ import annotations

from tests import imdb_tv_fixture as fx

from .conftest import service_settings, train_and_promote

TV_TYPES = {"tvSeries", "tvMiniSeries"}


def test_zero_ratings_tv_store_answers_with_people_based_reasons(store, make_client, tmp_path):
    fx.import_fixture(store, tmp_path / "imdb")
    train_and_promote(store, "hybrid")
    client = make_client(service_settings(store), run_worker=False)

    body = client.get("/api/recommendations", params={"show": "Breaking Bad", "n": 5}).json()
    assert body["model"]["name"] == "hybrid" and body["model"]["fallback"] is False
    recs = body["recommendations"]
    assert len(recs) == 5
    assert recs[0]["title"] == "Better Call Saul"
    assert recs[0]["reason"].startswith("created by Vince Gilligan")
    assert [b["title"] for b in recs[0]["because"]] == ["Breaking Bad"]
    assert {r["title_type"] for r in recs} <= TV_TYPES

    # alternative titles: the Spanish original and the German title name the same series
    for typed in ("La casa de papel", "Haus des Geldes", "Money Heist"):
        found = client.get("/api/recommendations", params={"show": typed, "n": 1}).json()
        assert found["matches"][0]["show"]["title"] == "Money Heist", typed
