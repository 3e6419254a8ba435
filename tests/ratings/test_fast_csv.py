"""The fast path for CSV data lines gives exactly what the full path gives, rejects included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nextshow.ratings.csv_format import csv_line, fast_row_parser, iter_csv_ratings
from nextshow.ratings.records import MAX_GENRES, MAX_TITLE, MAX_USER_KEY, ParsedRating, decode_line
from nextshow.rejects import Reject
from nextshow.textio import iter_lines

SOON = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
FAR = int((datetime.now(UTC) + timedelta(days=30)).timestamp())
BB = "tt0903747,Breaking Bad,2008"

# The benchmark's layout: every show column and the metadata.
EXPLICIT = [
    f'1,{BB},"Crime,Drama",9,1365029107',  # quoted genres
    f"2,{BB},Crime|Drama,8.5,2013-04-03T22:45:07Z",  # ISO with Z
    "3,TT0903747,Breaking Bad,2008,Crime,10,2013-04-03 22:45:07",  # upper-case id, naive ISO
    "4,,Amélie (2001),,Comedy,7,1365029107",  # title with its year, unicode
    '5,,"Le Fabuleux Destin, d\'Amélie",2001,,0,',  # quoted comma, no timestamp
    "6, tt0903747 , Breaking Bad ,2008, Crime , 9 , 1365029107 ",  # spaces around values
    f'7,{BB},"Crime,Drama",9,1365029107\r',  # CRLF line end (dropped by iter_lines)
    f'8,{BB},"",9,1365029107',  # empty quoted field
    '9,tt0903747,"Breaking ""Bad""",2008,,9,1365029107',  # doubled quote (full path)
    f"10,{BB},,9,1365029107.5",  # fractional unix time
    f"11,{BB},,9,{SOON}",  # within the future slack
    f"12,{BB},,9,0001365029107",  # leading zeros
    "ユーザー,,東京物語,1953,Drama,8,1365029107",  # unicode user and title
    "13,tt0903747,Breaking\u00a0Bad,2008,,9,1365029107",  # no-break space (full path)
    "14,,,2008,,9,1365029107",  # no show
    f"15,{BB},,11,1365029107",  # rating out of range
    f"16,{BB},,-1,1365029107",
    f"17,{BB},,nan,1365029107",
    f"18,{BB},,,1365029107",  # neither rating nor liked
    f"19,{BB},,9,599999999",  # before 1990
    f"20,{BB},,9,{FAR}",  # too far ahead
    f"21,{BB},,9,yesterday",
    f"22,{BB},,9,12345678901",
    "23,tt0903747,Breaking Bad,20x8,,9,1365029107",  # bad year
    "24,tt0903747,Breaking Bad,999,,9,1365029107",
    f"25,{BB},{'G' * (MAX_GENRES + 1)},9,1365029107",  # genres too long
    f"26,,{'T' * (MAX_TITLE + 1)},,,9,1365029107",  # title too long
    "27,tt12,Breaking Bad,2008,,9,1365029107",  # not an IMDb id
    f",{BB},,9,1365029107",  # empty user
    f"{'u' * (MAX_USER_KEY + 1)},{BB},,9,1365029107",  # user too long
    f"28,{BB},,9",  # six fields
    f"29,{BB},,9,1365029107,extra",
    '30,tt0903747,"Breaking Bad,2008,,9,1365029107',  # unterminated quote
    '31,tt0903747,"Breaking" Bad,2008,,9,1365029107',  # text after the closing quote
    "32,tt0903747,Breaking\tBad,2008,,9,1365029107",  # control characters
    "33,tt0903747,Breaking\x00Bad,2008,,9,1365029107",
    "34,tt0903747,Breaking\x1b[31mBad,2008,,9,1365029107",
    "35,tt0903747,Breaking\u202eBad,2008,,9,1365029107",
    "",  # blank lines are skipped
    "   ",
    f'1,{BB},"Crime,Drama",9,1365029107',  # the same show again: shared
]
HEADER_EXPLICIT = "user_id,imdb_id,title,year,genres,rating,timestamp"

# The generic ``show`` column, ``liked``, mixed-case header names.
GENERIC = [
    "1,tt0903747,9,,1365029107",
    "1,903747,,yes,1365029107",  # digits: an internal id
    "2,Breaking Bad (2008),,NO,",
    "3,The Wire,7,maybe,",  # bad liked
    "4,The Wire,,,",  # neither
    "5,tt0903747,8,True,2013-04-03T22:45:07+02:00",
    "6,,8,,",  # no show
    '7,"The Wire",,f,1365029107',
]
HEADER_GENERIC = "User_ID,Show,rating,LIKED,timestamp"

# One show column only, and an unused column, in another order.
SHOW_ID = ["1,42,8", "1,x42,8", "2,00042,5", "3,12345678901,5", "4, 42 ,5"]
OTHER = ['8,Amélie,1,"great, really"', "8,Amélie,1,tab\there", "8,Amélie,1,fine"]

CASES = [
    (HEADER_EXPLICIT, EXPLICIT, 13),
    (HEADER_GENERIC, GENERIC, 5),
    ("user_id,show_id,rating", SHOW_ID, 3),
    ("rating,Title,user_id,notes", OTHER, 2),
]


def _write(tmp_path: Path, header: str, lines: list[str]) -> Path:
    path = tmp_path / "ratings.csv"
    body = [line.encode() for line in [header, *lines]]
    body.insert(3, b"40,tt0903747,Caf\xe9,2008,,9,1365029107")  # not UTF-8
    path.write_bytes(b"\n".join(body) + b"\n")
    return path


def _full(path: Path, header: str) -> list[ParsedRating | Reject]:
    """The file by the full path alone, line by line."""
    names = [name.strip().lower() for name in header.split(",")]
    expected: list[ParsedRating | Reject] = []
    for number, data in list(iter_lines(path))[1:]:
        if not data.strip():
            continue
        text = decode_line(path, number, data)
        expected.append(
            text if isinstance(text, Reject) else csv_line(str(path), number, text, names)
        )
    return expected


def _comparable(items: list[ParsedRating | Reject]) -> list[tuple[object, str]]:
    return [(item, item.raw) for item in items]  # raw is not part of ParsedRating equality


@pytest.mark.parametrize(("header", "lines", "fast_rows"), CASES)
def test_fast_path_agrees_with_the_full_path(tmp_path, header, lines, fast_rows):
    path = _write(tmp_path, header, lines)
    expected = _full(path, header)
    assert _comparable(list(iter_csv_ratings(path))) == _comparable(expected)
    assert any(isinstance(item, Reject) for item in expected)
    fast = fast_row_parser([name.strip().lower() for name in header.split(",")])
    taken = [
        row
        for number, data in list(iter_lines(path))[1:]
        if (row := fast(number, data)) is not None
    ]
    assert len(taken) == fast_rows  # the common rows did take the fast path
    by_line = {item.line: item for item in expected}
    for row in taken:
        assert (row, row.raw) == (by_line[row.line], by_line[row.line].raw)


def test_rows_of_one_show_share_its_reference(tmp_path):
    path = _write(tmp_path, HEADER_EXPLICIT, EXPLICIT)
    rows = [row for row in iter_csv_ratings(path) if isinstance(row, ParsedRating)]
    first, last = rows[0], rows[-1]
    assert (first.user_key, last.user_key) == ("1", "1")
    assert first.show is last.show
