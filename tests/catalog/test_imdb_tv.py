"""IMDb people / TV datasets on real databases: filters, roles, alternative titles, seasons,
rejects with file, line and field, idempotent re-import (fixture: tests/imdb_tv_fixture.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import select

from nextshow.catalog import imdb_tv
from nextshow.catalog.imdb_tv_import import TV_DATASETS, import_tv_dataset
from nextshow.db.models import Person, Show, ShowCredit, ShowTitle
from nextshow.recommenders.content_features import ROLE_CODES
from nextshow.textio import MAX_LINE_BYTES
from tests import imdb_tv_fixture as fx

TYPES = frozenset({"tvSeries", "tvMiniSeries"})


def _import(store, tmp_path: Path, batch_size: int = 3):
    return fx.import_fixture(store, tmp_path / "imdb", batch_size=batch_size)


def _credits(store, imdb_id: str) -> set[tuple[str, str, int | None]]:
    with store.sessions() as s:
        rows = s.execute(
            select(Person.name, ShowCredit.role, ShowCredit.ordering)
            .join(Person, Person.id == ShowCredit.person_id)
            .join(Show, Show.id == ShowCredit.show_id)
            .where(Show.imdb_id == imdb_id)
        )
        return {tuple(row) for row in rows}


def test_roles_match_the_schema_and_the_models() -> None:
    assert imdb_tv.ROLES == ROLE_CODES
    assert imdb_tv.role_of("writer", "created by") == "creator"
    assert imdb_tv.role_of("writer", "Creator") == "creator"
    assert imdb_tv.role_of("writer", "developed by") == "writer"
    assert imdb_tv.role_of("actress", "\\N") == "actor"
    assert imdb_tv.role_of("composer", "") == "other"


def test_catalogue_import_keeps_tv_titles_and_their_people(store, tmp_path: Path) -> None:
    summaries = _import(store, tmp_path)
    assert list(summaries) == ["title.basics", *TV_DATASETS]
    with store.sessions() as s:
        shows = {show.imdb_id: show for show in s.scalars(select(Show))}
    # adult (tt9100003), low-vote (tt9100002), the film and the episodes are filtered out
    assert "tt9100003" not in shows and "tt9100002" not in shows and "tt9970210" not in shows
    assert len(shows) == 12
    assert (shows["tt0903747"].seasons, shows["tt0903747"].episodes) == (3, 4)
    assert (shows["tt7366338"].seasons, shows["tt7366338"].episodes) == (1, 5)
    assert (shows["tt0386676"].seasons, shows["tt0386676"].episodes) == (None, 1)

    saul = _credits(store, "tt3032476")
    assert ("Vince Gilligan", "creator", 4) in saul and ("Peter Gould", "creator", 5) in saul
    assert ("Bob Odenkirk", "actor", 1) in saul and ("Jonathan Banks", "actor", 2) in saul
    # title.crew adds roles without billing and never overrides title.principals
    assert ("Vince Gilligan", "director", None) in saul
    # "developed by" is a writer, "creator" a creator
    office = _credits(store, "tt0386676")
    assert ("Greg Daniels", "writer", 3) in office and ("Ricky Gervais", "creator", 4) in office
    # the person missing from name.basics keeps an empty name, found by id
    with store.sessions() as s:
        assert s.scalar(select(Person.name).where(Person.imdb_id == "nm0348152")) is None
        # people of filtered titles are never stored
        assert s.scalar(select(Person.id).where(Person.imdb_id == "nm0009999")) is None
        akas = {
            (t.title, t.region, t.language, t.is_original)
            for t in s.scalars(
                select(ShowTitle)
                .join(Show, Show.id == ShowTitle.show_id)
                .where(Show.imdb_id == "tt6468322")
            )
        }
    assert akas == {
        ("La casa de papel", None, None, True),
        ("Money Heist", "US", "en", False),
        ("Haus des Geldes", "DE", "de", False),
        ("La casa de papel", "ES", "es", False),
    }


def test_every_malformed_line_is_reported_and_never_stops_the_import(store, tmp_path: Path) -> None:
    summaries = _import(store, tmp_path)
    reported = {
        (Path(r.file).name.removesuffix(".tsv.gz"), r.line, r.field)
        for summary in summaries.values()
        for r in summary.rejects
    }
    assert reported == set(fx.BAD_LINES)
    for name, summary in summaries.items():
        if summary.rejects:
            assert summary.report_path is not None and summary.report_path.exists(), name
    # the valid lines after each bad one were still imported
    assert ("Rhea Seehorn", "actor", 3) in _credits(store, "tt3032476")


def test_reimport_is_idempotent(store, tmp_path: Path) -> None:
    _import(store, tmp_path)

    def counts() -> tuple[int, ...]:
        with store.sessions() as s:
            return tuple(
                len(s.scalars(select(table)).all()) for table in (Person, ShowCredit, ShowTitle)
            )

    first = counts()
    _import(store, tmp_path, batch_size=100)
    assert counts() == first == (37, 60, 9)


def test_unknown_dataset_and_bad_header_are_clear(store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown IMDb dataset"):
        import_tv_dataset(
            store.sessions,
            "title.trivia",
            tmp_path,
            title_types=TYPES,
            batch_size=10,
            progress=False,
            reports_dir=tmp_path,
        )
    wrong = tmp_path / "title.akas.tsv"
    wrong.write_text("tconst\tdirectors\twriters\ntt0903747\t\\N\t\\N\n")
    summary = import_tv_dataset(
        store.sessions,
        "title.akas",
        wrong,
        title_types=TYPES,
        batch_size=10,
        progress=False,
        reports_dir=tmp_path,
    )
    assert [(r.line, r.field) for r in summary.rejects] == [(1, "header")]
    assert summary.inserted == 0


def _one_dataset(store, name: str, path: Path):
    return import_tv_dataset(
        store.sessions,
        name,
        path,
        title_types=TYPES,
        batch_size=2,
        progress=False,
        reports_dir=path.parent / "reports",
    )


def test_tv_files_get_the_importers_defences(store, tmp_path: Path) -> None:
    """Control characters per field, over-long lines unread, truncated gzip: what was read stays."""
    _import(store, tmp_path)
    akas = tmp_path / "title.akas.tsv"
    akas.write_text(
        "\t".join(imdb_tv.AKAS_COLUMNS)
        + "\ntt0903747\t20\tBreaking\x1b[31mBad\tUS\ten\t\\N\t\\N\t0"
        + "\ntt0903747\t21\t"
        + "x" * (3 * MAX_LINE_BYTES)
        + "\tUS\ten\t\\N\t\\N\t0"
        + "\ntt0903747\t22\tBreaking Bad (ES)\tES\tes\t\\N\t\\N\t0\n",
        encoding="utf-8",
    )
    summary = _one_dataset(store, "title.akas", akas)
    assert [(r.line, r.field) for r in summary.rejects] == [(2, "title"), (3, "")]
    assert "U+001B" in summary.rejects[0].reason and "bytes long" in summary.rejects[1].reason
    assert summary.inserted == 1 and summary.report_path is not None

    names = tmp_path / "name.basics.tsv"
    names.write_text(
        "\t".join(imdb_tv.NAMES_COLUMNS) + "\nnm0348152\tBad\x00Name\t\\N\t\\N\t\\N\t\\N\n",
        encoding="utf-8",
    )
    summary = _one_dataset(store, "name.basics", names)
    assert [(r.field, summary.updated) for r in summary.rejects] == [("primaryName", 0)]

    body = "\t".join(imdb_tv.AKAS_COLUMNS) + "".join(
        f"\ntt0903747\t{100 + i}\tAlias {i}\tUS\ten\t\\N\t\\N\t0" for i in range(3000)
    )
    whole = gzip.compress(body.encode(), mtime=0)
    cut = tmp_path / "title.akas.tsv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    summary = _one_dataset(store, "title.akas", cut)
    assert summary.aborted is not None and "truncated" in summary.aborted
    with store.sessions() as s:
        stored = s.scalars(select(ShowTitle.title).where(ShowTitle.title.like("Alias %"))).all()
    assert 0 < len(stored) == summary.inserted < 3000
