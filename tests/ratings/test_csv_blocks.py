"""CSV read in blocks of columns gives what the row parser gives: rows, rejects, stored result."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from nextshow.catalog.store import ShowSpec, get_or_create_shows
from nextshow.db.session import transaction
from nextshow.ratings import csv_blocks
from nextshow.ratings.csv_blocks import iter_csv_blocks
from nextshow.ratings.csv_format import iter_csv_ratings
from nextshow.ratings.records import EPOCH, ParsedRating, RatingColumns
from nextshow.rejects import Reject
from tests.ratings.test_fast_csv import CASES, _write
from tests.ratings.test_importer import _import


def _rows(items) -> list[tuple[object, ...]]:
    """Rows and rejects as comparable tuples, whichever form they came in."""
    out: list[tuple[object, ...]] = []
    for item in items:
        if isinstance(item, RatingColumns):
            for i in range(len(item)):
                rating = None if np.isnan(item.rating[i]) else float(item.rating[i])
                liked = None if item.liked[i] < 0 else bool(item.liked[i])
                stamp = int(item.stamp[i]) if item.dated[i] else None
                show = item.shows[item.show[i]]
                user = item.user_keys[item.user[i]]
                out.append((int(item.lines[i]), user, show, rating, liked, stamp, item.raws[i]))
        elif isinstance(item, ParsedRating):
            stamp = None if item.timestamp is None else (item.timestamp - EPOCH).total_seconds()
            stamp = None if stamp is None else round(stamp * 1_000_000)
            out.append(
                (item.line, item.user_key, item.show, item.rating, item.liked, stamp, item.raw)
            )
        else:
            out.append((item,))
    return out


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
@pytest.mark.parametrize(("header", "lines", "fast_rows"), CASES)
def test_blocks_agree_with_the_row_parser(tmp_path, header, lines, fast_rows, size):
    path = _write(tmp_path, header, lines)
    blocks = list(iter_csv_blocks(path, size))
    assert _rows(blocks) == _rows(iter_csv_ratings(path))
    if size == 1:  # each line its own block: every common line was read as columns
        assert sum(isinstance(item, RatingColumns) for item in blocks) >= fast_rows - 1


def test_a_bad_header_stops_the_blocks_too(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("user,show,rating\n1,tt0903747,8\n")
    items = list(iter_csv_blocks(path, 10))
    assert [type(item) for item in items] == [Reject]
    assert (items[0].line, items[0].field) == (1, "header")


# ------------------------------------------------------------------- stored result, both paths

HEADER = "user_id,show,genres,rating,liked,timestamp"
_GOOD = [
    "{u},tt{s:07d},Drama,{r},,{t}",  # IMDb id, unix time
    '{u},"Show {s}, The ({y})","Comedy,Drama",{r},,{iso}',  # quoted title with a comma, ISO
    "{u},Show {s},,{r},yes,",  # title, liked stated, undated
    "{u},tt{s:07d},,,no,{t}",  # liked only
    "{u},{sid},,{r},,{t}",  # an internal id (one that does not exist: a reject per row)
]
_BAD = [
    "{u},tt{s:07d},,11,,{t}",  # rating out of range
    "{u},tt{s:07d},,{r},,yesterday",  # bad timestamp
    "{u},tt{s:07d},,{r}",  # too few fields
    '{u},"Show ""{s}""",,{r},,{t}',  # doubled quote: valid, but not the common shape
    "{u},tt{s:07d},Dr\tama,{r},,{t}",  # control character
    "",  # blank
]


def _lines(count: int, seed: int, *, bad: bool) -> list[str]:
    """Seeded rows: few users and shows, so pairs repeat (later rating wins), in and across
    batches. With ``bad``, a bad line now and then in every third stretch of 100 lines, so some
    blocks fall back to the row parser and others do not."""
    rng = random.Random(seed)
    lines = []
    for index in range(count):
        if bad and index // 100 % 3 == 0 and rng.random() < 0.1:
            pattern = rng.choice(_BAD)
        else:
            pattern = rng.choice(_GOOD[:4] if rng.random() < 0.97 else _GOOD)
        t = rng.choice([1_300_000_000, 1_300_000_000, 1_400_000_000 + rng.randint(0, 10**8)])
        iso = f"2014-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T12:00:00.25+02:00"
        values = dict(u=f"u{rng.randint(0, 40)}", s=rng.randint(1, 30), y=2000 + rng.randint(0, 9))
        values.update(r=rng.choice(["7", "8.5", "10", "3"]), t=t, iso=iso, sid=999_999)
        lines.append(pattern.format(**values))
    return lines


def _stored(store) -> dict[str, list[tuple[object, ...]]]:
    """Users, shows and ratings by their natural keys, times as the database holds them."""
    queries = {
        "users": "SELECT source, external_id, anonymous FROM users",
        "shows": (
            "SELECT imdb_id, source, external_id, title, normalized_title, start_year, genres, "
            "status FROM shows"
        ),
        "ratings": (
            "SELECT u.external_id, s.imdb_id, s.external_id, r.rating, r.liked, r.source, "
            "CAST(r.rated_at AS TEXT) FROM ratings r JOIN users u ON u.id = r.user_id "
            "JOIN shows s ON s.id = r.show_id"
        ),
    }
    with store.sessions() as s:
        return {
            name: sorted(map(tuple, s.execute(text(sql))), key=repr)
            for name, sql in queries.items()
        }


def _catalogue(store) -> None:
    """A few shows already known, so some titles match and some ids exist."""
    with transaction(store.sessions) as session:
        specs = [
            ShowSpec(
                title=f"Show {s}", source="imdb", external_id=f"tt{s:07d}", imdb_id=f"tt{s:07d}"
            )
            for s in range(1, 30, 3)
        ]
        get_or_create_shows(session, specs)


def _both_paths(store, monkeypatch, paths: list[Path], batch_size: int):
    """Import ``paths`` in turn into a fresh store, by the block path (counting the blocks
    read as columns) then by the row path alone: [(stored result, summary) after each file]."""
    results: dict[str, list[tuple[dict, object]]] = {"columns": [], "rows": []}
    parse = csv_blocks._BlockParser.parse
    seen: list[bool] = []

    def counted(self, first, lines):
        block = parse(self, first, lines)
        seen.append(block is not None)
        return block

    for way, reader in (("columns", counted), ("rows", lambda self, first, lines: None)):
        monkeypatch.setattr(csv_blocks._BlockParser, "parse", reader)
        with transaction(store.sessions) as session:
            for table in ("ratings", "users", "shows"):
                session.execute(text(f"DELETE FROM {table}"))
        _catalogue(store)
        for path in paths:
            summary = _import(store, path, "csv", batch_size=batch_size)
            results[way].append((_stored(store), summary))
    return results["columns"], results["rows"], seen


@pytest.mark.parametrize(("batch_size", "bad"), [(7, True), (200, True), (10_000, False)])
def test_import_through_columns_stores_what_the_row_path_stores(
    store, tmp_path, monkeypatch, batch_size, bad
):
    paths = []
    for seed in (42, 43):  # the second file updates, repeats and loses to the first's ratings
        path = tmp_path / f"ratings-{seed}.csv"
        path.write_text("\n".join([HEADER, *_lines(1200, seed, bad=bad)]) + "\n")
        paths.append(path)
    # A session zone other than UTC: times must reach the database as instants, not local text.
    monkeypatch.setenv("PGTZ", "America/New_York")
    store.engine.dispose()
    columns, rows, seen = _both_paths(store, monkeypatch, paths, batch_size)
    assert any(seen)
    assert all(seen) != bad  # with bad lines, some blocks fell back to the row parser
    for (stored, by_columns), (expected, by_rows) in zip(columns, rows, strict=True):
        assert stored == expected
        assert stored["ratings"]
        assert by_columns.rejected > (15 if bad else 0)
        assert any(reject.reason == "no show with id 999999" for reject in by_columns.rejects)
        # The same rejects: lines, fields, reasons and text (the writer's come after their
        # batch, and batches may be cut elsewhere, so compared as sets).
        assert sorted(map(repr, by_columns.rejects)) == sorted(map(repr, by_rows.rejects))
        assert by_columns.rejected == by_rows.rejected
        if not bad:  # one batch each way: the same counts
            counts = ("inserted", "updated", "unchanged", "skipped")
            assert [getattr(by_columns, n) for n in counts] == [getattr(by_rows, n) for n in counts]
    assert columns[1][1].updated and columns[1][1].skipped and columns[1][1].unchanged
