"""The one IMDb id rule: tt + 7 to 10 digits, bare or inside an IMDb title URL."""

from __future__ import annotations

import pytest

from nextshow.ids import format_imdb_id, is_imdb_id, parse_imdb_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tt0903747", "tt0903747"),
        ("  TT0903747 ", "tt0903747"),
        ("tt12345678", "tt12345678"),  # 8 digits: titles added since 2017
        ("tt1234567890", "tt1234567890"),  # 10 digits: the most the rule allows
        ("https://www.imdb.com/title/tt0903747/", "tt0903747"),
        ("imdb.com/title/tt0903747/?ref_=nv_sr_1", "tt0903747"),
        ("http://m.imdb.com/title/tt0903747#reviews", "tt0903747"),
        ("tt123456", None),  # 6 digits
        ("tt12345678901", None),  # 11 digits
        ("0903747", None),
        ("https://example.com/title/tt0903747/", None),
        ("Breaking Bad", None),
    ],
)
def test_parse_imdb_id(text, expected):
    assert parse_imdb_id(text) == expected


def test_is_imdb_id_takes_only_the_stored_form():
    assert is_imdb_id("tt0903747")
    assert not is_imdb_id("TT0903747")
    assert not is_imdb_id("tt0903747/")
    assert not is_imdb_id("tt123456")


def test_format_imdb_id_pads_to_seven_digits_and_refuses_what_the_rule_refuses():
    assert format_imdb_id("110912") == "tt0110912"
    assert format_imdb_id(12345678) == "tt12345678"
    with pytest.raises(ValueError, match="7 to 10 digits"):
        format_imdb_id("12345678901")
    with pytest.raises(ValueError, match="not a numeric"):
        format_imdb_id("-5")


def test_person_ids_follow_the_same_digits_rule() -> None:
    from nextshow.ids import is_person_id

    assert is_person_id("nm0319213") and is_person_id("nm12345678")
    for bad in ("nm031921", "mm0319213", "tt0319213", "nm0319213 ", "NM0319213", "nm03192x3"):
        assert not is_person_id(bad), bad
