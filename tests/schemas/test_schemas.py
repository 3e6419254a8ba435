"""Response bodies: built from real rows, importable without the web stack."""

from __future__ import annotations

import json
import subprocess
import sys

from nextshow.db.models import DatasetSnapshot, Show
from nextshow.registry.versions import list_events, list_versions, register_version
from nextshow.schemas.models import ModelEventPublic, ModelVersionsPublic
from nextshow.schemas.predictions import InputMatch, InputMatches, RecommendationPublic
from nextshow.schemas.shows import ShowDetail, ShowPublic, ShowRef


def test_schemas_import_no_web_stack_nor_numpy() -> None:
    # The CLI prints these for --json; importing them must stay cheap.
    code = (
        "import sys, nextshow.schemas.models, nextshow.schemas.predictions, "
        "nextshow.schemas.shows, nextshow.schemas.health, nextshow.schemas.group\n"
        "heavy = {'fastapi', 'starlette', 'numpy', 'scipy', 'sqlalchemy', 'rapidfuzz'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_show_bodies_from_a_row(store) -> None:
    with store.sessions() as session, session.begin():
        session.add(
            Show(
                imdb_id="tt0903747",
                title="Breaking Bad",
                normalized_title="breaking bad",
                start_year=2008,
                end_year=2013,
                genres="Crime,Drama,Thriller",
                imdb_rating=9.5,
                imdb_votes=2_000_000,
                source="imdb",
            )
        )
    with store.sessions() as session:
        show = session.query(Show).one()
        public = ShowPublic.model_validate(show)
        detail = ShowDetail.model_validate(show)
    assert public.genres == ["Crime", "Drama", "Thriller"]
    assert public.model_dump()["imdb_url"] == "https://www.imdb.com/title/tt0903747/"
    assert detail.imdb_votes == 2_000_000 and detail.user_submitted is False
    # A narrower layer built from a wider one serialises only its own fields.
    ref = RecommendationPublic(
        **public.model_dump(exclude={"imdb_url"}),
        score=0.5,
        because=[ShowRef.model_validate(public)],
    ).model_dump()["because"][0]
    assert ref == {
        "id": show.id,
        "title": "Breaking Bad",
        "start_year": 2008,
        "imdb_id": "tt0903747",
    }


def test_matches_round_trip_through_their_json_text() -> None:
    matches = [
        InputMatch(input="the wire", status="matched", show=ShowRef(id=3, title="The Wire")),
        InputMatch(input="zzz", status="not_found"),
    ]
    again = InputMatches.validate_json(InputMatches.dump_json(matches))
    assert again == matches
    assert [m.liked for m in again] == [True, False]


def test_model_versions_from_registry_rows(store) -> None:
    with store.sessions() as session, session.begin():
        session.add(
            DatasetSnapshot(
                id="a" * 64,
                uri="file:///s",
                rows=1,
                users=1,
                shows=1,
                likes=1,
                like_threshold=7.0,
                manifest="{}",
            )
        )
        session.flush()
        register_version(
            session,
            model_name="itemknn",
            params={"k": 50},
            snapshot_id="a" * 64,
            metrics={"ndcg@10": 0.25},
            fit_seconds=1.23456,
            artifact_uri="file:///a",
            artifact_sha256="b" * 64,
            artifact_bytes=10,
            code_version="1",
            git_commit=None,
        )
    with store.sessions() as session:
        page = ModelVersionsPublic.of(list_versions(session))
        event = ModelEventPublic.model_validate(list_events(session)[0])
    body = json.loads(page.model_dump_json())
    assert body["count"] == 1
    version = body["data"][0]
    assert version["model"] == "itemknn" and version["params"] == {"k": 50}
    assert version["metrics"] == {"ndcg@10": 0.25} and version["fit_seconds"] == 1.235
    assert page.data[0].created_at.utcoffset() is not None  # SQLite's naive times, labelled UTC
    assert event.action == "register" and event.version == page.data[0].version
