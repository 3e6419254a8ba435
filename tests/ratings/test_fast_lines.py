"""The fast path for well-formed ``.dat`` lines gives exactly what the full line parsers give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nextshow.ratings.dat_formats import fast_line_parser, movielens_line, movietweetings_line
from nextshow.ratings.formats import iter_ratings
from nextshow.ratings.items import read_items
from nextshow.ratings.records import ItemInfo
from nextshow.rejects import Reject

ITEMS = {"110912": ItemInfo("Pulp Fiction", 1994, "Crime,Drama")}
ML_ITEMS = {"42": ItemInfo("Forty Two", 1990, None)}
SOON = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
FAR = int((datetime.now(UTC) + timedelta(days=30)).timestamp())

MT_LINES = [
    "1::0110912::9::1365029107",  # plain, title known
    "7::1234567::0::1365029107",  # no title in the items
    "8::0110912::10::1365029107",
    "9::0110912::8.5::1365029107",
    f"10::0110912::8::{SOON}",  # within the future slack
    "11::0110912::11::1365029107",  # rating out of range
    "12::0110912::8::599999999",  # before 1990
    f"13::0110912::8::{FAR}",  # too far in the future
    "14::0110912::8::12345678901",  # 11 digits
    "u15::0110912::8::1365029107",  # letters in the user id: full path
    " 16::0110912::8::1365029107",  # spaces: full path
    "17::12345678901::8::1365029107",  # item id too long
    "18::0110912::8",  # three fields
    "19::0110912::-1::1365029107",
    "9" * 129 + "::0110912::8::1365029107",  # user id too long
    "20::0000000::8::1365029107",
]
ML_LINES = [
    "1\t42\t4\t881250949",
    "1::042::4.5::881250949",
    "1\t43\t4\t881250949",  # item not in the items file
    "1\t42\t0\t881250949",  # below half a star
    "1\t42\t5.5\t881250949",
]


def _same(fmt: str, lines: list[str], items: dict[str, ItemInfo]) -> int:
    fast = fast_line_parser(fmt, items)
    full = movietweetings_line if fmt == "movietweetings" else movielens_line
    taken = 0
    for number, line in enumerate(lines, 1):
        quick = fast(number, line.encode())
        slow = full("f", number, line, items)
        if quick is None:
            continue
        taken += 1
        assert not isinstance(slow, Reject), line
        assert (quick, quick.raw) == (slow, slow.raw), line
    return taken


def test_fast_path_agrees_with_the_full_parsers():
    assert _same("movietweetings", MT_LINES, ITEMS) == 6
    assert _same("movielens", ML_LINES, ML_ITEMS) == 2


@pytest.mark.parametrize(("fmt", "lines", "items_text"), [
    ("movietweetings", MT_LINES, "0110912::Pulp Fiction (1994)::Crime|Drama\n"),
    ("movielens", ML_LINES, "42::Forty Two (1990)::Drama\n"),
])  # fmt: skip
def test_a_file_parses_as_its_lines_do(tmp_path, fmt, lines, items_text):
    items = tmp_path / "movies.dat"
    items.write_text(items_text)
    path = tmp_path / "ratings.dat"
    path.write_text("\n".join(lines) + "\n")
    parsed = list(iter_ratings(path, fmt, items))
    full = movietweetings_line if fmt == "movietweetings" else movielens_line
    reader = read_items(items, fmt)
    try:
        while True:
            next(reader)
    except StopIteration as done:
        known = done.value
    expected = [full(str(path), n, line, known) for n, line in enumerate(lines, 1)]
    assert parsed == expected
