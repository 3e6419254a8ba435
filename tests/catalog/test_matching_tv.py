"""Matching on a TV catalogue: alternative titles, well-known series first, type and years."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from nextshow.catalog.title_index import load_title_index
from nextshow.db.models import Show
from tests import imdb_tv_fixture as fx


def _index(store, tmp_path: Path):
    fx.import_fixture(store, tmp_path / "imdb")
    with store.sessions() as session:
        return load_title_index(session)


def test_alternative_titles_resolve_to_one_series(store, tmp_path: Path) -> None:
    index = _index(store, tmp_path)
    found = {text: index.match(text) for text in ("La casa de papel", "Money Heist")}
    found["Haus des Geldes"] = index.match("haus des geldes")
    assert {r.status for r in found.values()} == {"matched"}
    assert len({r.show_id for r in found.values()}) == 1
    assert index.hit_for(found["Money Heist"].show_id).title == "Money Heist"
    # a typo in an alternative title is still found
    assert index.search("Haus des Geldse", 1)[0].title == "Money Heist"


def test_well_known_series_come_first_with_type_and_years(store, tmp_path: Path) -> None:
    index = _index(store, tmp_path)
    hits = index.search("The Off", 3)
    assert [(h.title, h.start_year) for h in hits[:2]] == [
        ("The Office", 2005),
        ("The Office", 2001),
    ]
    assert hits[2].title == "The Officers Club"  # 150 votes: after both
    assert hits[0].as_dict()["title_type"] == "tvSeries"
    assert index.search("Chern", 1)[0].as_dict()["title_type"] == "tvMiniSeries"
    # the same title twice: ask which year, most voted first
    result = index.match("The Office")
    assert result.status == "ambiguous"
    assert [c.start_year for c in result.candidates] == [2005, 2001]
    assert index.match("The Office (2001)").status == "matched"


def test_shows_not_active_are_found_by_none_of_their_names(store, tmp_path: Path) -> None:
    """Issue 13's rule holds for alternative titles too: only active shows are offered."""
    fx.import_fixture(store, tmp_path / "imdb")
    with store.sessions() as s, s.begin():
        heist = s.scalar(select(Show).where(Show.imdb_id == "tt6468322"))
        heist.status = "rejected"
    with store.sessions() as session:
        index = load_title_index(session)
    for name in ("Money Heist", "La casa de papel", "haus des geldes"):
        assert index.match(name).status != "matched", name
        assert all(h.title != "Money Heist" for h in index.search(name, 5)), name
