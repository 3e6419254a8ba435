"""The bundled demo data: loaded into an empty store once, skipped when ratings exist."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from nextshow.catalog.store import ShowSpec, get_or_create_shows
from nextshow.catalog.title_index import load_title_index
from nextshow.db.models import Rating, User
from nextshow.ratings.demo import demo_files, load_demo
from tests.conftest import run_cli


def test_demo_files_are_bundled_with_their_licence():
    names = {entry.name for entry in demo_files().iterdir()}
    assert {"ratings.dat.gz", "movies.dat.gz", "LICENSE"} <= names


def test_demo_is_skipped_when_the_store_holds_ratings(store):
    with store.sessions() as s, s.begin():
        ids = get_or_create_shows(s, [ShowSpec(title="X", source="csv", external_id="x")]).ids
        user = User(external_id="1", source="csv")
        s.add(user)
        s.flush()
        s.add(Rating(user_id=user.id, show_id=next(iter(ids.values())), liked=True, source="csv"))
    assert load_demo(store.sessions, store.settings, progress=False) is None
    with store.sessions() as s:
        assert len(s.scalars(select(Rating)).all()) == 1


@pytest.mark.slow
def test_demo_loads_once_then_is_skipped(sqlite_store):
    env = sqlite_store.env()
    first = run_cli("demo", env=env, check=True)
    assert "imported 100000," in first.stdout
    second = run_cli("demo", env=env, check=True)
    assert "not loaded again" in second.stdout
    status = json.loads(run_cli("status", "--json", env=env, check=True).stdout)
    assert (status["ratings"], status["likes"], status["users"]) == (100_000, 50_542, 16_554)
    # the films have no IMDb votes: their likes rank the autocomplete
    with sqlite_store.sessions() as session:
        hits = load_title_index(session).search("The Dark", 5)
    assert "The Dark Knight" in [hit.title for hit in hits]
