"""Adversarial import files: bounded memory, rejects streamed, clear stops, per-field checks."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nextshow.catalog.imdb_import import import_imdb_titles
from nextshow.db.models import Rating, Show
from nextshow.ratings.importer import import_ratings
from nextshow.rejects import REJECT_SAMPLE
from nextshow.textio import GZIP_RATIO_FLOOR, MAX_LINE_BYTES, OverlongLine, iter_lines

HEADER = "user_id,show,rating,timestamp\n"


def _import(store, path: Path):
    return import_ratings(
        store.sessions,
        path,
        fmt="csv",
        items_path=None,
        like_threshold=8.0,
        batch_size=2,
        progress=False,
        reports_dir=store.home / "reports",
    )


def _count(store) -> int:
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(Rating))


def _report_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def test_control_characters_are_rejected_per_field_and_valid_rows_kept(store, tmp_path):
    """Attack: a NUL in a title gave a 500 on PostgreSQL and a traceback that dropped the rows."""
    path = tmp_path / "nul.csv"
    path.write_text(
        HEADER
        + "u1,Good Show (2001),9,1365029107\n"
        + "u2,Bad\x00Show (2001),9,1365029107\n"
        + "u3,Red \x1b[31mShow,9,1365029107\n"
        + "u\x004,Good Show (2001),9,1365029107\n"
        + "u5,Good Show (2001),9,1365029107\n",
        encoding="utf-8",
    )
    summary = _import(store, path)
    assert (summary.inserted, summary.rejected) == (2, 3)
    assert [(r.line, r.field) for r in summary.rejects] == [
        (3, "show"),
        (4, "show"),
        (5, "user_id"),
    ]
    assert "U+0000" in summary.rejects[0].reason and str(path) in str(summary.rejects[0])
    with store.sessions() as s:
        assert s.scalars(select(Show.title)).all() == ["Good Show"]


def test_timestamps_out_of_the_window_are_rejected_at_import(store, tmp_path):
    path = tmp_path / "dates.csv"
    path.write_text(
        HEADER
        + "u1,Good Show,9,9999-12-31\n"
        + "u2,Good Show,9,0001-01-01\n"
        + "u3,Good Show,9,2013-04-03\n",
        encoding="utf-8",
    )
    summary = _import(store, path)
    assert (summary.inserted, [r.field for r in summary.rejects]) == (1, ["timestamp"] * 2)


def test_overlong_lines_are_rejected_without_reading_them_whole(store, tmp_path):
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER + "u1,Good Show,9,1365029107\n")
        handle.write("u2," + "x" * (3 * MAX_LINE_BYTES) + ",9,1365029107\n")
        handle.write("u3,Good Show,9,1365029107\n")
    lines = list(iter_lines(path))
    assert lines[2] == (3, OverlongLine(3 * MAX_LINE_BYTES + len("u2,,9,1365029107")))
    summary = _import(store, path)
    assert (summary.inserted, summary.rejected) == (2, 1)
    assert summary.rejects[0].line == 3 and "bytes long" in summary.rejects[0].reason


def test_rejects_stream_to_the_report_with_a_capped_sample(store, tmp_path):
    """Attack: every rejected row was kept in memory (50 MB of garbage -> 489 MB RSS)."""
    n = REJECT_SAMPLE * 3
    path = tmp_path / "garbage.csv"
    path.write_text(HEADER + "garbage\n" * n + "u1,Good Show,9,1365029107\n", encoding="utf-8")
    summary = _import(store, path)
    assert summary.rejected == n
    assert len(summary.rejects) == REJECT_SAMPLE
    rows = _report_rows(summary.report_path)
    assert len(rows) == n and rows[-1][1] == str(n + 1)
    assert summary.inserted == 1


def test_truncated_gzip_stops_with_a_clear_message_and_keeps_what_was_read(store, tmp_path):
    """Attack: a truncated .gz printed only "Aborted!" and left a half import unexplained."""
    body = HEADER + "".join(f"u{i},Good Show,9,1365029107\n" for i in range(2000))
    whole = gzip.compress(body.encode(), mtime=0)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    summary = _import(store, path)
    assert summary.aborted is not None
    assert "truncated" in summary.aborted and str(path) in summary.aborted
    assert 0 < summary.inserted == _count(store) < 2000


def test_gzip_bomb_is_refused(store, tmp_path, monkeypatch):
    """Attack: a 1 MB gzip holding one 1 GiB line took 7.2 GB of memory."""
    import nextshow.textio as textio

    monkeypatch.setattr(textio, "GZIP_RATIO_FLOOR", 1 << 20)  # the real floor is 64 MiB
    assert GZIP_RATIO_FLOOR >= 1 << 20
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(HEADER.encode() + b"u1,Good Show,9,1365029107\n")
        handle.write(b"x" * (8 << 20))
    summary = _import(store, path)
    assert summary.aborted is not None and "decompression bomb" in summary.aborted
    assert summary.inserted == 1


def test_imdb_titles_with_control_characters_are_rejected_per_field(store, tmp_path):
    basics = tmp_path / "title.basics.tsv"
    ratings = tmp_path / "title.ratings.tsv"
    columns = "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear"
    basics.write_text(
        f"{columns}\truntimeMinutes\tgenres\n"
        "tt0000001\ttvSeries\tGood\tGood\t0\t2001\t\\N\t\\N\tDrama\n"
        "tt0000002\ttvSeries\tBad\x00One\tBad\t0\t2001\t\\N\t\\N\tDrama\n",
        encoding="utf-8",
    )
    ratings.write_text(
        "tconst\taverageRating\tnumVotes\ntt0000001\t8.0\t100\ntt0000002\t8.0\t100\n",
        encoding="utf-8",
    )
    summary = import_imdb_titles(
        store.sessions,
        basics,
        ratings,
        title_types=frozenset({"tvSeries"}),
        min_votes=1,
        batch_size=10,
        progress=False,
        reports_dir=store.home / "reports",
    )
    assert (summary.inserted, [(r.line, r.field) for r in summary.rejects]) == (
        1,
        [(3, "primaryTitle")],
    )
    assert _report_rows(summary.report_path)[0][2] == "primaryTitle"


@pytest.mark.parametrize("value", ["\u0663", "0" * 34 + "1"])
def test_show_ids_accept_ascii_digits_of_imdb_length_only(store, tmp_path, value):
    path = tmp_path / "ids.csv"
    path.write_text(f"user_id,show_id,rating\nu1,{value},9\n", encoding="utf-8")
    summary = _import(store, path)
    assert summary.inserted == 0 and summary.rejected == 1
