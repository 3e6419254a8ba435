"""IMDb title import on real databases: filters, idempotence, updates, rejects.

The fixture title.basics.tsv (min_votes=500, default types tvSeries + tvMiniSeries):

    tconst     type          votes  outcome
    tt0306414  tvSeries      1000   kept (The Wire)
    tt7366338  tvMiniSeries   800   kept (Chernobyl)
    tt0110912  movie         5000   skipped: type
    tt9000004  tvSeries       900   skipped: adult
    tt9000005  tvSeries        10   skipped: too few votes
    tt0749451  tvEpisode      700   skipped: type
    tt9000007  tvSeries         -   skipped: no ratings line
    tt9000008  tvSeries       600   kept, all \\N fields -> NULL
    tt4269716  tvSeries       500   kept (exactly min_votes), accented title
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from nextshow.catalog.imdb_import import import_imdb_titles
from nextshow.db.models import Show
from tests.conftest import run_cli

FIXTURES = Path(__file__).parents[1] / "fixtures" / "imdb"
TYPES = frozenset({"tvSeries", "tvMiniSeries"})


def _import(store, basics: Path, ratings: Path, *, batch_size: int = 2, min_votes: int = 500):
    return import_imdb_titles(
        store.sessions,
        basics,
        ratings,
        title_types=TYPES,
        min_votes=min_votes,
        batch_size=batch_size,
        progress=False,
        reports_dir=store.home / "reports",
    )


def _shows(store) -> dict[str, Show]:
    with store.sessions() as s:
        return {show.imdb_id: show for show in s.scalars(select(Show))}


def _gzip(src: Path, dest: Path) -> Path:
    with src.open("rb") as fin, gzip.open(dest, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    return dest


@pytest.mark.parametrize("compressed", [False, True], ids=["tsv", "gz"])
def test_filters_and_fields(store, tmp_path, compressed):
    basics, ratings = FIXTURES / "title.basics.tsv", FIXTURES / "title.ratings.tsv"
    if compressed:
        basics = _gzip(basics, tmp_path / "title.basics.tsv.gz")
        ratings = _gzip(ratings, tmp_path / "title.ratings.tsv.gz")
    summary = _import(store, basics, ratings)
    assert (summary.inserted, summary.updated, summary.unchanged) == (4, 0, 0)
    assert (summary.skipped, summary.rejected, summary.report_path) == (5, 0, None)

    shows = _shows(store)
    assert set(shows) == {"tt0306414", "tt7366338", "tt9000008", "tt4269716"}
    wire = shows["tt0306414"]
    assert (wire.title, wire.normalized_title, wire.title_type) == ("The Wire", "wire", "tvSeries")
    assert (wire.start_year, wire.end_year, wire.genres) == (2002, 2008, "Crime,Drama,Thriller")
    assert (wire.imdb_rating, wire.imdb_votes) == (9.3, 1000)
    assert (wire.source, wire.external_id, wire.user_submitted) == ("imdb", "tt0306414", False)
    nulls = shows["tt9000008"]
    assert (nulls.original_title, nulls.start_year, nulls.end_year, nulls.genres) == (
        None,
        None,
        None,
        None,
    )
    assert shows["tt4269716"].normalized_title == "cafe society and co"


def test_reimport_is_idempotent_and_changes_update(store, tmp_path):
    basics, ratings = FIXTURES / "title.basics.tsv", FIXTURES / "title.ratings.tsv"
    _import(store, basics, ratings)
    again = _import(store, basics, ratings)
    assert (again.inserted, again.updated, again.unchanged, again.skipped) == (0, 0, 4, 5)

    # The Wire gets more votes, Chernobyl a new title; a new series reaches the vote threshold.
    changed_ratings = tmp_path / "title.ratings.tsv"
    text = (FIXTURES / "title.ratings.tsv").read_text()
    text = text.replace("tt0306414\t9.3\t1000", "tt0306414\t9.2\t1500")
    text = text.replace("tt9000005\t7.5\t10", "tt9000005\t7.5\t510")
    changed_ratings.write_text(text)
    changed_basics = tmp_path / "title.basics.tsv"
    changed_basics.write_text(basics.read_text().replace("\tChernobyl\t", "\tChornobyl\t", 1))
    before = _shows(store)
    summary = _import(store, changed_basics, changed_ratings)
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 2, 2)
    after = _shows(store)
    assert (after["tt0306414"].imdb_rating, after["tt0306414"].imdb_votes) == (9.2, 1500)
    assert after["tt7366338"].title == "Chornobyl"
    assert after["tt7366338"].normalized_title == "chornobyl"
    assert after["tt7366338"].id == before["tt7366338"].id
    assert after["tt9000005"].title == "Obscure Show"


def test_show_from_a_rating_import_takes_imdb_data(store):
    from nextshow.catalog.store import ShowSpec, get_or_create_shows

    with store.sessions() as s, s.begin():
        created = get_or_create_shows(
            s,
            [
                ShowSpec(
                    title="Wire",
                    source="movietweetings",
                    external_id="0306414",
                    imdb_id="tt0306414",
                    start_year=2002,
                )
            ],
        )
    (show_id,) = created.ids.values()
    summary = _import(store, FIXTURES / "title.basics.tsv", FIXTURES / "title.ratings.tsv")
    assert (summary.inserted, summary.updated) == (3, 1)
    wire = _shows(store)["tt0306414"]
    assert wire.id == show_id
    assert (wire.title, wire.source, wire.external_id, wire.imdb_votes) == (
        "The Wire",
        "imdb",
        "tt0306414",
        1000,
    )


def test_a_title_typed_on_the_web_becomes_the_imdb_show(store):
    """A pending user-submitted "The Wire" (no year) is merged into IMDb's, likes and all."""
    from nextshow.catalog.user_shows import get_or_create_user_show
    from nextshow.db.models import Rating, User

    with store.sessions() as s, s.begin():
        typed, created = get_or_create_user_show(s, title="The Wire")
        user = User(external_id="anon:1", source="web", anonymous=True)
        s.add(user)
        s.flush()
        s.add(Rating(user_id=user.id, show_id=typed.id, liked=True, source="web"))
        typed_id = typed.id
    assert created and typed.status == "pending"
    _import(store, FIXTURES / "title.basics.tsv", FIXTURES / "title.ratings.tsv")
    wire = _shows(store)["tt0306414"]
    with store.sessions() as s:
        assert s.get(Show, typed_id) is None
        assert s.scalars(select(Rating.show_id)).all() == [wire.id]


def test_malformed_lines_are_rejected_and_valid_rows_kept(store, tmp_path):
    lines = (FIXTURES / "title.basics.tsv").read_bytes().splitlines(keepends=True)
    bad = [
        b"tt9100001\ttvSeries\tToo Few Fields\t0\t2001\n",  # line 11
        b"tt9100002\ttvSeries\tBad Year\tBad Year\t0\t20x1\t\\N\t\\N\tDrama\n",  # line 12
        b"tt9100003\ttvSeries\tBad \xff\xfe Bytes\tB\t0\t2001\t\\N\t\\N\tDrama\n",  # line 13
        b"tt9100004\ttvSeries\tBad Adult\tBad Adult\t2014\t\\N\t\\N\t\\N\tDrama\n",  # line 14
    ]
    basics = tmp_path / "title.basics.tsv"
    basics.write_bytes(b"".join(lines[:5] + bad[:2] + lines[5:] + bad[2:]))
    ratings = tmp_path / "title.ratings.tsv"
    ratings.write_bytes(
        (FIXTURES / "title.ratings.tsv").read_bytes()
        + b"tt9100002\t8.0\t900\ntt9100005\t8.0\tmany\ntt9100006\t11.5\t900\n"
    )
    summary = _import(store, _gzip(basics, tmp_path / "b.tsv.gz"), ratings)
    assert summary.inserted == 4
    assert set(_shows(store)) == {"tt0306414", "tt7366338", "tt9000008", "tt4269716"}
    found = {(Path(r.file).name, r.line, r.field) for r in summary.rejects}
    assert found == {
        ("b.tsv.gz", 6, ""),
        ("b.tsv.gz", 7, "startYear"),
        ("b.tsv.gz", 13, ""),
        ("b.tsv.gz", 14, "isAdult"),
        ("title.ratings.tsv", 11, "numVotes"),
        ("title.ratings.tsv", 12, "averageRating"),
    }
    assert any("UTF-8" in r.reason for r in summary.rejects if r.line == 13)
    with summary.report_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((Path(r["file"]).name, int(r["line"])) for r in rows) == sorted(
        (name, line) for name, line, _ in found
    )


def test_cli_imports_and_reports(store):
    result = run_cli(
        "import",
        "imdb-titles",
        str(FIXTURES / "title.basics.tsv"),
        str(FIXTURES / "title.ratings.tsv"),
        "--min-votes",
        "700",
        "--title-types",
        "tvSeries",
        "--json",
        env=store.env(),
        check=True,
    )
    summary = json.loads(result.stdout)
    assert (summary["inserted"], summary["skipped"], summary["rejected"]) == (1, 8, 0)
    assert set(_shows(store)) == {"tt0306414"}
