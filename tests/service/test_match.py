"""GET /api/shows/match answers what POST /api/predictions decides, input by input."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from nextshow.catalog.matching import TitleIndex
from nextshow.catalog.normalize import normalize_title
from nextshow.catalog.titles import ShowRow
from nextshow.db.models import Show
from nextshow.service.recommend import match_inputs
from tests.service.conftest import service_settings

# Every kind of input: exact, by year, ambiguous, fuzzy, unknown (added), an unknown IMDb id,
# text with no letter at all, and the same show typed another way.
INPUTS = [
    "Show 3",
    "show 3",
    "Twin Peaks",
    "Twin Peaks (2017)",
    "Shw 12",
    "Zqxv Brand New Serial",
    "tt0000001",
    "!!!",
]


@pytest.fixture
def twins_client(trained, make_client):
    with trained.sessions() as session, session.begin():
        session.execute(
            insert(Show),
            [
                {
                    "title": "Twin Peaks",
                    "normalized_title": normalize_title("Twin Peaks"),
                    "source": "test",
                    "external_id": f"twin-{year}",
                    "start_year": year,
                }
                for year in (1990, 2017)
            ],
        )
    return make_client(service_settings(trained))


def _post_match(client, text: str, add: bool) -> dict:
    """The match the POST records for ``text`` (with a known show beside it, so it is 202)."""
    body = {"shows": ["Show 5", text], "add_shows": [text] if add else []}
    response = client.post("/api/predictions", json=body)
    assert response.status_code == 202, response.text
    return response.json()["matches"][1]


@pytest.mark.parametrize("add", [False, True])
def test_match_endpoint_decides_as_the_prediction_post(twins_client, add):
    client = twins_client
    previews = {}
    for text in INPUTS:
        response = client.get("/api/shows/match", params={"q": text, "add": add})
        assert response.status_code == 200, response.text
        previews[text] = response.json()
    statuses = {t: p["status"] for t, p in previews.items()}
    assert statuses == {
        "Show 3": "matched",
        "show 3": "matched",
        "Twin Peaks": "ambiguous",
        "Twin Peaks (2017)": "matched",
        "Shw 12": "fuzzy",
        "Zqxv Brand New Serial": "not_found",
        "tt0000001": "not_found",
        "!!!": "not_found",
    }
    assert previews["show 3"]["show"] == previews["Show 3"]["show"]
    assert previews["Twin Peaks (2017)"]["show"]["start_year"] == 2017
    added = {t for t, p in previews.items() if p["will_add"]}
    assert added == ({"Zqxv Brand New Serial", "Shw 12"} if add else {"Zqxv Brand New Serial"})

    for text, preview in previews.items():
        posted = _post_match(client, text, add)
        if preview["will_add"]:
            # The POST adds it (or finds the show an earlier POST of this test added).
            assert posted["status"] in ("created", "matched"), (text, posted)
            assert posted["show"]["title"] == text
        else:
            expected = {k: v for k, v in preview.items() if k != "will_add"}
            assert posted == expected, text


def test_match_endpoint_creates_nothing(twins_client, trained):
    with trained.sessions() as session:
        before = session.query(Show).count()
    body = twins_client.get("/api/shows/match", params={"q": "Zqxv Never Added"}).json()
    assert body["will_add"] and body["status"] == "not_found"
    with trained.sessions() as session:
        assert session.query(Show).count() == before


def test_one_show_typed_three_ways_is_one_like(twins_client):
    response = twins_client.get(
        "/api/recommendations", params={"show": ["Show 3", "show 3", "SHOW 3"], "n": 5}
    )
    assert response.status_code == 200, response.text
    for rec in response.json()["recommendations"]:
        ids = [b["id"] for b in rec["because"]]
        assert ids and len(ids) == len(set(ids))


def test_remembered_matches_follow_the_index():
    """Read-only matches are remembered per index version: a show added later is found."""
    index = TitleIndex([ShowRow(id=1, title="The Wire", start_year=2002, imdb_id="tt0306414")])
    first = match_inputs(index, ["The Wire", "Severance"])
    assert [m.status for m in first] == ["matched", "not_found"]
    assert match_inputs(index, ["The Wire"])[0] is first[0]  # remembered, not rebuilt
    index.add(ShowRow(id=2, title="Severance", start_year=2022))
    again = match_inputs(index, ["The Wire", "Severance"])
    assert [m.status for m in again] == ["matched", "matched"]
    assert again[1].show is not None and again[1].show.id == 2
