"""A TV catalogue with zero ratings serves the content side of the hybrid (not the popularity
fallback), with people-based reasons; alternative titles resolve to their series."""

from __future__ import annotations

from sqlalchemy import select

from nextshow.db.models import Show
from nextshow.service.web.catalogue import catalogue_text
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
    assert recs[0]["reason"].startswith("Created by Vince Gilligan")
    assert [b["title"] for b in recs[0]["because"]] == ["Breaking Bad"]
    assert {r["title_type"] for r in recs} <= TV_TYPES

    # alternative titles: the Spanish original and the German title name the same series
    for typed in ("La casa de papel", "Haus des Geldes", "Money Heist"):
        found = client.get("/api/recommendations", params={"show": typed, "n": 1}).json()
        assert found["matches"][0]["show"]["title"] == "Money Heist", typed


def test_tv_models_and_label_leave_out_shows_that_are_not_active(store, make_client, tmp_path):
    """Issue 13's rule on the TV path: a show an operator took out is neither offered by the
    content side of the hybrid nor counted in the catalogue the pages name."""
    fx.import_fixture(store, tmp_path / "imdb")
    with store.sessions() as s, s.begin():
        before = catalogue_text(s)
        s.scalar(select(Show).where(Show.imdb_id == "tt3032476")).status = "rejected"
    with store.sessions() as s:
        series = int(before.split(": ")[1].split()[0])
        assert catalogue_text(s) == f"IMDb TV catalogue: {series - 1} series"
    train_and_promote(store, "hybrid")
    client = make_client(service_settings(store), run_worker=False)

    body = client.get("/api/recommendations", params={"show": "Breaking Bad", "n": 10}).json()
    titles = [r["title"] for r in body["recommendations"]]
    assert body["model"]["fallback"] is False and titles
    assert "Better Call Saul" not in titles
