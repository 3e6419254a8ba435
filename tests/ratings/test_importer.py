"""Rating import on real databases: each format, rejects, newest wins, batches, 100k dataset."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from nextshow.catalog.store import ShowSpec, get_or_create_shows
from nextshow.db.models import Rating, Show, User
from nextshow.db.session import transaction
from nextshow.ratings.formats import ParsedRating, ShowRef, iter_ratings
from nextshow.ratings.importer import _BatchStats, _get_or_create_users, import_ratings
from tests.conftest import run_cli

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _import(store, path: Path, fmt: str, *, items: Path | None = None, batch_size: int = 1000):
    return import_ratings(
        store.sessions,
        path,
        fmt=fmt,
        items_path=items,
        like_threshold=8.0,
        batch_size=batch_size,
        progress=False,
        reports_dir=store.home / "reports",
    )


def _ratings(store) -> dict[tuple[str, str], tuple[float | None, bool, datetime | None]]:
    """(user external id, show title) -> (rating, liked, rated_at in UTC)."""
    with store.sessions() as s:
        rows = s.execute(
            select(User.external_id, Show.title, Rating.rating, Rating.liked, Rating.rated_at)
            .join(User, User.id == Rating.user_id)
            .join(Show, Show.id == Rating.show_id)
        )
        return {
            (user, title): (rating, liked, at.replace(tzinfo=UTC) if at else None)
            for user, title, rating, liked, at in rows
        }


def _count(store, model) -> int:
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def _gzip(src: Path, dest: Path) -> Path:
    with src.open("rb") as fin, gzip.open(dest, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    return dest


def _ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# ------------------------------------------------------------------------------ pure parsing


def test_iter_ratings_is_pure_and_typed():
    rows = list(iter_ratings(FIXTURES / "movietweetings" / "ratings.dat", "movietweetings"))
    assert all(isinstance(row, ParsedRating) for row in rows)
    first = rows[0]
    assert first.line == 1 and first.user_key == "1" and first.rating == 9.0
    assert first.liked is None and first.timestamp == _ts(1365029107)
    assert first.show == ShowRef(
        imdb_id="tt0110912",
        source="movietweetings",
        external_id="0110912",
        title="Pulp Fiction",
        year=1994,
        genres="Crime,Drama",
    )


# ----------------------------------------------------------------------------------- formats


def test_movietweetings_gz_with_titles_beside(store, tmp_path):
    ratings = _gzip(FIXTURES / "movietweetings" / "ratings.dat", tmp_path / "ratings.dat.gz")
    _gzip(FIXTURES / "movietweetings" / "movies.dat", tmp_path / "movies.dat.gz")
    summary = _import(store, ratings, "movietweetings")
    assert (summary.inserted, summary.rejected) == (5, 0)
    stored = _ratings(store)
    assert stored[("1", "Pulp Fiction")] == (9.0, True, _ts(1365029107))
    assert stored[("1", "The Wire")][:2] == (7.0, False)
    assert stored[("3", "tt9999999")][:2] == (6.0, False)  # not in movies.dat: id as title
    with store.sessions() as s:
        wire = s.scalars(select(Show).where(Show.imdb_id == "tt0306414")).one()
        assert (wire.start_year, wire.genres, wire.normalized_title) == (
            2002,
            "Crime,Drama,Thriller",
            "wire",
        )
        assert (wire.source, wire.external_id, wire.user_submitted) == (
            "movietweetings",
            "0306414",
            False,
        )
        assert set(s.scalars(select(User.source))) == {"movietweetings"}
    again = _import(store, ratings, "movietweetings")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)


def test_movielens_100k_stars_doubled_latin1_titles_and_genre_flags(store):
    summary = _import(store, FIXTURES / "movielens-100k" / "u.data", "movielens")
    assert (summary.inserted, summary.rejected) == (3, 0)
    stored = _ratings(store)
    assert stored[("196", "Toy Story")] == (6.0, False, _ts(881250949))
    assert stored[("186", "Café au lait")][:2] == (10.0, True)
    assert stored[("22", "Toy Story")][:2] == (8.0, True)
    with store.sessions() as s:
        toy = s.scalars(select(Show).where(Show.title == "Toy Story")).one()
    assert (toy.source, toy.external_id, toy.imdb_id, toy.start_year) == (
        "movielens",
        "1",
        None,
        1995,
    )
    assert toy.genres == "Animation,Children's,Comedy"


def test_movielens_1m_half_stars_and_range(store, tmp_path):
    folder = tmp_path / "ml"
    shutil.copytree(FIXTURES / "movielens-1m", folder)
    with (folder / "ratings.dat").open("a") as handle:
        handle.write("3::1193::6::978300762\n3::42::4::978300763\n")  # lines 4, 5
    summary = _import(store, folder / "ratings.dat", "movielens")
    assert summary.inserted == 3
    assert [(r.line, r.field) for r in summary.rejects] == [(4, "rating"), (5, "item_id")]
    stored = _ratings(store)
    assert stored[("2", "One Flew Over the Cuckoo's Nest")][:2] == (7.0, False)
    assert stored[("2", "James and the Giant Peach")][:2] == (1.0, False)


def _seed_catalogue(store) -> dict[str, int]:
    with store.sessions() as s, s.begin():
        written = get_or_create_shows(
            s,
            [
                ShowSpec(title="The Wire", source="imdb", external_id="tt0306414",
                         imdb_id="tt0306414", start_year=2002, imdb_votes=1000),
                ShowSpec(title="The Office", source="imdb", external_id="tt0386676",
                         imdb_id="tt0386676", start_year=2005, imdb_votes=5000),
                ShowSpec(title="The Office", source="imdb", external_id="tt0290978",
                         imdb_id="tt0290978", start_year=2001, imdb_votes=3000),
            ],
        )  # fmt: skip
    return {key[1]: show_id for key, show_id in written.ids.items()}


def test_csv_show_column_forms(store, tmp_path):
    ids = _seed_catalogue(store)
    path = tmp_path / "ratings.csv"
    path.write_text(
        "user_id,show,rating,liked,timestamp,genres\n"
        f"u1,{ids['tt0306414']},9,,2024-01-01T10:00:00Z,\n"
        "u2,TT0306414,7,,1700000000,\n"
        "u3,The Office,10,,,\n"
        "u3,the office (2001),4,,2024-02-01 12:00:00,\n"
        "u4,tt9999998,8,,,\n"
        "u5,Brand New Show (2023),,true,,Drama|Comedy\n"
        "u6,999999,5,,,\n"
        "u7,Brand New Show (2023),3,1,,\n"
    )
    summary = _import(store, path, "csv")
    assert summary.inserted == 7
    assert [(r.line, r.field, r.reason) for r in summary.rejects] == [
        (8, "show_id", "no show with id 999999")
    ]
    with store.sessions() as s:
        rows = s.execute(
            select(User.external_id, Rating.show_id, Rating.rating, Rating.liked)
            .join(User, User.id == Rating.user_id)
            .order_by(User.external_id, Rating.rating)
        ).all()
        new_show = s.scalars(select(Show).where(Show.title == "Brand New Show")).one()
        created_by_id = s.scalars(select(Show).where(Show.imdb_id == "tt9999998")).one()
    assert rows[:4] == [
        ("u1", ids["tt0306414"], 9.0, True),
        ("u2", ids["tt0306414"], 7.0, False),
        ("u3", ids["tt0290978"], 4.0, False),  # year given: the 2001 one
        ("u3", ids["tt0386676"], 10.0, True),  # no year: the most voted
    ]
    assert rows[4][0] == "u4" and rows[4][1] == created_by_id.id
    assert rows[5] == ("u5", new_show.id, None, True)
    assert rows[6] == ("u7", new_show.id, 3.0, True)  # the liked column overrides the rating
    assert (new_show.source, new_show.start_year, new_show.genres) == ("csv", 2023, "Drama,Comedy")
    assert (created_by_id.title, created_by_id.source) == ("tt9999998", "csv")


def test_csv_explicit_columns(store, tmp_path):
    ids = _seed_catalogue(store)
    path = tmp_path / "explicit.csv"
    path.write_text(
        "USER_ID,show_id,imdb_id,title,year,rating\n"
        f"a,{ids['tt0386676']},,,,9\n"
        "b,,tt1475582,Sherlock,2010,8\n"
        "c,,,The Office,2001,7\n"
        "d,,,Sherlock,2010,6\n"
    )
    summary = _import(store, path, "csv")
    assert (summary.inserted, summary.rejected) == (4, 0)
    with store.sessions() as s:
        sherlocks = s.scalars(select(Show).where(Show.normalized_title == "sherlock")).all()
    # "b" created Sherlock from its IMDb id; "d" names it by title and finds that same show.
    assert [(show.imdb_id, show.start_year) for show in sherlocks] == [("tt1475582", 2010)]
    stored = _ratings(store)
    assert stored[("a", "The Office")][0] == 9.0
    assert stored[("d", "Sherlock")][0] == 6.0


# --------------------------------------------------------------------------- rejects and CLI


def test_mixed_file_keeps_valid_rows_and_names_bad_lines(store, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"user_id,imdb_id,title,rating,timestamp\n"  # 1
        b"u1,tt0000001,One,9,1700000000\n"  # 2 ok
        b"u1,tt0000002,Two\n"  # 3 wrong field count
        b"u2,tt0000001,One,11,1700000000\n"  # 4 rating out of scale
        b"u2,tt0000002,Two,abc,1700000000\n"  # 5 rating not numeric
        b"u3,tt0000001,One,8,yesterday\n"  # 6 bad timestamp
        b",tt0000001,One,8,1700000000\n"  # 7 empty user id
        b"u4,tt0000003,Thr\xe9e,8,1700000000\n"  # 8 undecodable (Latin-1 byte)
        b"u5,tt0000002,Two,5,\n"  # 9 ok
        b"\n"  # 10 blank: ignored
        b"u6,xx123,Bad,5,\n"  # 11 not an IMDb id
        b"u7,,Three (1999),7.5,2020-05-01T00:00:00+02:00\n"  # 12 ok
    )
    result = run_cli("import", "ratings", str(path), "--format", "csv", env=store.env())
    assert result.returncode == 1, result.stderr
    assert "imported 3," in result.stdout
    bad_lines = {
        3: "",
        4: "rating",
        5: "rating",
        6: "timestamp",
        7: "user_id",
        8: "",
        11: "imdb_id",
    }
    for line in bad_lines:
        assert f"{path}:{line}" in result.stderr
    (report,) = (store.home / "reports").glob("rejects-ratings-mixed.csv-*.csv")
    with report.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {int(r["line"]): r["field"] for r in rows} == bad_lines
    assert all(r["file"] == str(path) and r["reason"] for r in rows)
    assert "UTF-8" in next(r["reason"] for r in rows if r["line"] == "8")
    stored = _ratings(store)
    assert set(stored) == {("u1", "One"), ("u5", "Two"), ("u7", "Three")}
    assert stored[("u7", "Three")][2] == datetime(2020, 4, 30, 22, tzinfo=UTC)


def test_undecodable_bytes_in_a_dat_file(store, tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_bytes(
        b"1::0110912::9::1365029107\n2::011\xff0912::9::1365029107\n3::0110912::2::1365029108\n"
    )
    summary = _import(store, path, "movietweetings", items=FIXTURES / "movietweetings/movies.dat")
    assert summary.inserted == 2
    assert [(r.line, r.field) for r in summary.rejects] == [(2, "")]
    assert "UTF-8" in summary.rejects[0].reason


def test_bad_csv_header_is_one_reject(store, tmp_path):
    path = tmp_path / "noheader.csv"
    path.write_text("u1,tt0000001,9\n")
    summary = _import(store, path, "csv")
    assert [(r.line, r.field) for r in summary.rejects] == [(1, "header")]
    assert _count(store, Rating) == 0


# ------------------------------------------------------------------------------ newest wins


def test_later_rating_wins_and_older_never_overwrites(store, tmp_path):
    first = tmp_path / "first.csv"
    first.write_text(
        "user_id,imdb_id,title,rating,timestamp\n"
        "u1,tt0000001,One,4,2020-01-02T00:00:00Z\n"
        "u1,tt0000001,One,9,2020-01-03T00:00:00Z\n"  # later: wins
        "u1,tt0000001,One,2,2020-01-01T00:00:00Z\n"  # older, later in the file: loses
        "u2,tt0000001,One,5,\n"
        "u2,tt0000001,One,6,\n"  # both undated: the later line wins
        "u3,tt0000001,One,7,2020-01-01T00:00:00Z\n"
    )
    summary = _import(store, first, "csv", batch_size=2)  # duplicates span batches too
    assert (summary.inserted, summary.updated, summary.skipped) == (3, 1, 2)
    stored = _ratings(store)
    assert stored[("u1", "One")][:2] == (9.0, True)
    assert stored[("u2", "One")][0] == 6.0

    second = tmp_path / "second.csv"
    second.write_text(
        "user_id,imdb_id,title,rating,timestamp\n"
        "u1,tt0000001,One,1,2020-01-02T12:00:00Z\n"  # older than the stored one: ignored
        "u2,tt0000001,One,8,1577836800\n"  # dated beats undated
        "u3,tt0000001,One,3,\n"  # undated never overwrites dated
    )
    summary = _import(store, second, "csv")
    assert (summary.inserted, summary.updated, summary.unchanged, summary.skipped) == (0, 1, 0, 2)
    stored = _ratings(store)
    assert stored[("u1", "One")] == (9.0, True, datetime(2020, 1, 3, tzinfo=UTC))
    assert stored[("u2", "One")] == (8.0, True, datetime(2020, 1, 1, tzinfo=UTC))
    assert stored[("u3", "One")][0] == 7.0


def test_users_another_writer_created_during_an_import_are_found_not_new(store):
    """An import that began with no users of its source creates users without looking them up;
    one that appeared meanwhile (the insert skips it) is read instead, and counted as existing,
    so its stored ratings are compared with the file's."""
    with transaction(store.sessions) as session:
        session.add(User(external_id="taken", source="csv"))
    with store.sessions() as session:
        taken = session.scalar(select(User.id).where(User.external_id == "taken"))
    stats = _BatchStats(source_stored=False)  # what the import saw when it began
    with transaction(store.sessions) as session:
        ids, new = _get_or_create_users(session, "csv", {"taken", "fresh"}, stats)
    assert ids["taken"] == taken
    assert new == {ids["fresh"]}
    assert (stats.users_created, stats.user_ids) == (1, ids)


# -------------------------------------------------------------------------- batch atomicity


def _install_failing_trigger(store, pause: float = 0.0) -> None:
    """Make the database itself refuse a rating of 4.5 (a real failure mid-batch); on
    PostgreSQL after ``pause`` seconds (a slow failure, while another batch is written)."""
    with store.engine.begin() as conn:
        if store.backend == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER boom BEFORE INSERT ON ratings WHEN NEW.rating = 4.5 "
                    "BEGIN SELECT RAISE(ABORT, 'boom'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.rating = 4.5 THEN PERFORM pg_sleep({pause}); RAISE EXCEPTION 'boom'; "
                    "END IF; RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER boom BEFORE INSERT ON ratings "
                    "FOR EACH ROW EXECUTE FUNCTION boom()"
                )
            )


@pytest.mark.parametrize("shared", [False, True], ids=["own shows", "shared shows"])
def test_interrupted_import_leaves_only_whole_batches(store, tmp_path, shared):
    """Batch 2 fails: batches 0 and 1 are stored whole, nothing after. With shows shared (so
    batch 3 has nothing in common with batch 2), PostgreSQL writes batch 3 beside the slowly
    failing batch 2, and rolls it back."""
    _install_failing_trigger(store, pause=0.5 if shared else 0.0)
    lines = ["user_id,imdb_id,title,rating,timestamp"]
    for batch in range(5):
        for i in range(3):
            rating = 4.5 if (batch, i) == (2, 1) else 7
            show = (f"tt{i:07d},Show {i}") if shared else f"tt{batch:03d}{i:04d},Show {batch}-{i}"
            lines.append(f"b{batch}u{i},{show},{rating},1600000000")
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DBAPIError, match="boom"):
        _import(store, path, "csv", batch_size=3)
    with store.sessions() as s:
        users = set(s.scalars(select(User.external_id)))
        shows = set(s.scalars(select(Show.imdb_id)))
    assert users == {f"b{b}u{i}" for b in (0, 1) for i in range(3)}
    stored = range(1) if shared else range(2)
    assert shows == {f"tt{b:03d}{i:04d}" for b in stored for i in range(3)}
    assert _count(store, Rating) == 6


# ----------------------------------------------------------------------------- real dataset


@pytest.mark.slow
def test_real_movietweetings_100k_via_cli(store, movietweetings_ratings):
    result = run_cli(
        "import",
        "ratings",
        str(movietweetings_ratings),
        "--format",
        "movietweetings",
        "--json",
        env=store.env(),
        check=True,
    )
    summary = json.loads(result.stdout)
    assert (summary["inserted"], summary["rejected"]) == (100_000, 0)
    status = json.loads(run_cli("status", "--json", env=store.env(), check=True).stdout)
    assert (status["ratings"], status["likes"], status["users"], status["shows"]) == (
        100_000,
        50_542,
        16_554,
        10_506,
    )


def test_rating_parsers_import_no_database_code():
    """The parsers are pure: loading them pulls in neither SQLAlchemy nor the table models."""
    code = (
        "import sys, nextshow.ratings.formats; "
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'nextshow.db.'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['nextshow.db.limits']"


def test_dat_file_later_wins_across_batches_and_rejects_are_reported(store, tmp_path):
    """The well-formed-line fast path and the bulk writes keep newest-wins, counts and rejects."""
    path = tmp_path / "ratings.dat"
    path.write_text(
        "1::0110912::5::1365029107\n"  # 1 batch 1
        "1::0110912::9::1365029200\n"  # 2 batch 1: later, wins
        "2::0110912::11::1365029107\n"  # 3 rating out of range
        "2::0110912::7::1365029107\n"  # 4 batch 2
        "1::0110912::3::1365029000\n"  # 5 batch 2: older than the stored one, skipped
        "3::0110912::8::99\n"  # 6 before 1990
        "1::0110912::10::1365029300\n"  # 7 batch 3: newer, updates
    )
    summary = _import(
        store, path, "movietweetings", items=FIXTURES / "movietweetings/movies.dat", batch_size=2
    )
    assert (summary.inserted, summary.updated, summary.skipped, summary.rejected) == (2, 1, 2, 2)
    (report,) = (store.home / "reports").glob("rejects-ratings-ratings.dat-*.csv")
    with report.open(newline="") as handle:
        rows = [(r["file"], int(r["line"]), r["field"]) for r in csv.DictReader(handle)]
    assert rows == [(str(path), 3, "rating"), (str(path), 6, "timestamp")]
    stored = {user: value for (user, _title), value in _ratings(store).items()}
    assert stored == {"1": (10.0, True, _ts(1365029300)), "2": (7.0, False, _ts(1365029107))}


# ------------------------------------------------------------- parsing ahead of the writes


def _csv_blocks_file(tmp_path: Path, blocks: int, size: int) -> Path:
    lines = ["user_id,imdb_id,title,rating,timestamp"]
    for block in range(blocks):
        lines += [
            f"u{block}-{i},tt{block:03d}{i:04d},S{block}-{i},7,1600000000" for i in range(size)
        ]
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_error_parsing_the_next_block_while_one_is_written_leaves_that_one_whole(
    store, tmp_path, monkeypatch
):
    """Parsing block 2 fails while block 1 is being written (on PostgreSQL in the parse
    thread; on SQLite in turn, after it): block 1 is stored whole (as the single-threaded
    import, which wrote it before parsing on), block 2 not at all, and the import raises the
    parser's own error; no thread is left behind."""
    import threading

    import nextshow.ratings.csv_blocks as csv_blocks
    import nextshow.ratings.importer as importer

    writing = threading.Event()
    write_batch, parse = importer._write_batch, csv_blocks._BlockParser.parse

    def slow_write(*args, **kwargs):
        writing.set()
        threading.Event().wait(0.2)  # the parse thread fails while this batch is in flight
        return write_batch(*args, **kwargs)

    def failing_parse(self, first, lines):
        if first > 1 + 3:  # the second block of three data lines
            assert writing.wait(10)
            raise OSError("disk went away")
        return parse(self, first, lines)

    monkeypatch.setattr(importer, "_write_batch", slow_write)
    monkeypatch.setattr(csv_blocks._BlockParser, "parse", failing_parse)
    path = _csv_blocks_file(tmp_path, blocks=3, size=3)
    with pytest.raises(OSError, match="disk went away"):
        _import(store, path, "csv", batch_size=3)
    with store.sessions() as s:
        assert set(s.scalars(select(User.external_id))) == {f"u0-{i}" for i in range(3)}
    assert _count(store, Rating) == 3
    assert "import-parse" not in {thread.name for thread in threading.enumerate()}


def test_a_failed_write_stops_the_parse_thread(store, tmp_path):
    import threading

    _install_failing_trigger(store)
    path = _csv_blocks_file(tmp_path, blocks=40, size=3)
    path.write_text(path.read_text().replace("u1-1,tt0010001,S1-1,7", "u1-1,tt0010001,S1-1,4.5"))
    with pytest.raises(DBAPIError, match="boom"):
        _import(store, path, "csv", batch_size=3)
    assert _count(store, Rating) == 3
    assert "import-parse" not in {thread.name for thread in threading.enumerate()}


def test_rejects_are_reported_in_the_single_threaded_order_across_many_batches(store, tmp_path):
    """Rejects of the lines (malformed, out of range) and of the batches (an unknown internal
    show id, reported once its batch committed) come in the order the single-threaded import
    (e9fda78) gave: a batch's line rejects, then its show rejects, batch after batch."""
    lines = ["user_id,show_id,imdb_id,rating,timestamp"]
    for i in range(60):
        if i % 7 == 3:
            lines.append(f"u{i},,tt{i:07d},11,1600000000")  # rating out of range
        elif i % 11 == 5:
            lines.append(f"u{i},999999,,7,1600000000")  # no such show: rejected by its batch
        elif i % 13 == 8:
            lines.append(f"u{i},,tt{i:07d},7")  # too few fields
        else:
            lines.append(f"u{i},,tt{i:07d},7,1600000000")
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    summary = _import(store, path, "csv", batch_size=4)
    (report,) = (store.home / "reports").glob("rejects-ratings-ratings.csv-*.csv")
    with report.open(newline="") as handle:
        reported = [(int(row["line"]), row["field"]) for row in csv.DictReader(handle)]
    assert reported == [
        (5, "rating"),
        (7, "show_id"),
        (10, ""),
        (12, "rating"),
        (19, "rating"),
        (18, "show_id"),  # line 19 was read before line 18's batch was written
        (23, ""),
        (26, "rating"),
        (29, "show_id"),
        (33, "rating"),
        (36, ""),
        (40, "rating"),
        (47, "rating"),
        (49, ""),
        (51, "show_id"),
        (54, "rating"),
        (61, "rating"),
    ]
    assert summary.rejected == 17
    assert _count(store, Rating) == 60 - 17


def _shared_shows_file(tmp_path: Path, rows: int, seed: int = 42) -> Path:
    """Users that run on across batches (so some batches share a user with the one before and
    some do not), a few shows shared by all, dated and undated duplicates of a pair."""
    import random

    rng = random.Random(seed)
    lines = ["user_id,imdb_id,title,rating,timestamp"]
    user = 0
    for _ in range(rows):
        user += rng.random() < 0.4
        show = rng.randrange(5)
        stamp = "" if rng.random() < 0.2 else str(1_600_000_000 + rng.randrange(50))
        lines.append(f"u{user},tt{show:07d},Show {show},{rng.randrange(11)},{stamp}")
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_batches_written_at_once_store_what_one_writer_stores(store, sqlite_store, tmp_path):
    """On PostgreSQL batches that cannot see each other are written on two connections at
    once; the stored ratings and the counts are those of SQLite's single writer."""
    path = _shared_shows_file(tmp_path, rows=400)
    overlapped = _import(store, path, "csv", batch_size=7)
    single = _import(sqlite_store, path, "csv", batch_size=7)
    assert overlapped.as_dict() == single.as_dict()
    assert _ratings(store) == _ratings(sqlite_store)
    again = _import(store, path, "csv", batch_size=7)  # a re-run, against the store
    assert again.as_dict() == _import(sqlite_store, path, "csv", batch_size=7).as_dict()
    assert _ratings(store) == _ratings(sqlite_store)
