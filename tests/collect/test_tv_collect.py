"""`nextshow collect imdb-datasets --datasets ...` against the local fixture server: the TV files
in IMDb's layout are downloaded (resumably, skipped when unchanged) and imported in order."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from nextshow.db.models import Person, Show, ShowCredit, ShowTitle
from tests import imdb_tv_fixture as fx

from ..conftest import Store, run_cli
from .conftest import FixtureServer

TV = "title.basics,title.ratings,title.principals,name.basics,title.akas,title.episode,title.crew"


def test_tv_datasets_download_and_import(store: Store, fixture_server: FixtureServer, tmp_path):
    fixture_server.files.update(
        {f"/datasets/{name}": data for name, data in fx.tv_dataset_bytes().items()}
    )
    name = "/datasets/title.principals.tsv.gz"
    fixture_server.cut_first[name] = 200  # the biggest file drops once: resumed, not restarted
    args = [
        "collect",
        "imdb-datasets",
        "--base-url",
        f"{fixture_server.base_url}/datasets",
        "--dest",
        str(tmp_path / "imdb"),
        "--datasets",
        TV,
        "--min-votes",
        str(fx.MIN_VOTES),
        "--json",
    ]
    env = {**store.env(), "NEXTSHOW_COLLECT_RETRY_BACKOFF": "0.1"}
    first = run_cli(*args, env=env)
    # malformed lines are rejects (exit code 1), never a failed import
    assert first.returncode == 1, first.stderr
    body = json.loads(first.stdout)
    assert [d["status"] for d in body["downloads"]] == ["downloaded"] * 7
    tries = fixture_server.requests_to(name)
    assert [t.status for t in tries] == [200, 206]
    assert tries[1].headers.get("Range") == "bytes=200-"
    assert set(body["import"]) == {
        "title.basics",
        "title.akas",
        "title.episode",
        "title.crew",
        "title.principals",
        "name.basics",
    }
    rejected = sum(part["rejected"] for part in body["import"].values())
    assert rejected == len(fx.BAD_LINES)
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Show)) == 12
        assert s.scalar(select(func.count()).select_from(ShowCredit)) == 60
        assert s.scalar(select(func.count()).select_from(ShowTitle)) == 9
        assert s.scalar(select(Person.name).where(Person.imdb_id == "nm0319213")) == (
            "Vince Gilligan"
        )

    again = run_cli(*args, env=env)
    assert [d["status"] for d in json.loads(again.stdout)["downloads"]] == ["unchanged"] * 7
    assert [t.status for t in fixture_server.requests_to(name)] == [200, 206, 304]


def test_unknown_dataset_is_refused_before_any_download(store: Store, fixture_server, tmp_path):
    result = run_cli(
        "collect",
        "imdb-datasets",
        "--base-url",
        f"{fixture_server.base_url}/datasets",
        "--dest",
        str(Path(tmp_path) / "imdb"),
        "--datasets",
        "title.basics,title.ratings,title.trivia",
        env=store.env(),
    )
    assert result.returncode == 2
    assert "title.trivia" in result.stderr
    assert fixture_server.paths() == []
