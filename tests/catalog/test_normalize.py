"""Title normalisation: the table of spellings that must meet, and the year suffix parser."""

from __future__ import annotations

import pytest

from nextshow.catalog.normalize import normalize_title, split_title_year, strip_accents


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Café", "cafe"),
        ("CAFÉ", "cafe"),
        ("Law & Order", "law and order"),
        ("Law and Order", "law and order"),
        ("Law & Order: Special Victims Unit", "law and order special victims unit"),
        ("The Office", "office"),
        ("the office", "office"),
        ("  The   Office!  ", "office"),
        ("Office, The", "office the"),  # only leading articles go
        ("A Very English Scandal", "very english scandal"),
        ("An Idiot Abroad", "idiot abroad"),
        ("The", "the"),  # an article that is the whole title stays
        ("Theodosia", "theodosia"),  # "the" inside a word is not an article
        ("Marvel's Agents of S.H.I.E.L.D.", "marvels agents of shield"),
        ("Marvels Agents of SHIELD", "marvels agents of shield"),
        ("Marvel’s Agents of S.H.I.E.L.D", "marvels agents of shield"),  # curly apostrophe
        ("M*A*S*H", "mash"),
        ("9-1-1", "911"),
        ("Mr. Robot", "mr robot"),
        ("Spider-Man", "spider man"),
        ("1.5 Kilos", "1 5 kilos"),  # a decimal is not an initialism
        ("Ørnen", "ornen"),
        ("Straße", "strasse"),
        ("Les Misérables", "les miserables"),  # only English articles are dropped
        ("進撃の巨人", "進撃の巨人"),  # other scripts keep their letters
        ("Это мы", "это мы"),
        ("?!", ""),
        ("", ""),
    ],
)
def test_normalize_title(title: str, expected: str) -> None:
    assert normalize_title(title) == expected


def test_normalize_is_idempotent() -> None:
    for title in ["The Office", "Marvel's Agents of S.H.I.E.L.D.", "Law & Order", "Café"]:
        once = normalize_title(title)
        assert normalize_title(once) == once


def test_strip_accents() -> None:
    assert strip_accents("Zoë Åsa Ñandú") == "Zoe Asa Nandu"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Office (2005)", ("The Office", 2005)),
        ("The Office(2001)", ("The Office", 2001)),
        ("Lost (2004–2010)", ("Lost", 2004)),
        ("Lost (2004-)", ("Lost", 2004)),
        ("Dark [2017]", ("Dark", 2017)),
        ("  Dark  ", ("Dark", None)),
        ("Blade Runner 2049", ("Blade Runner 2049", None)),
        ("(2005)", ("(2005)", None)),  # a bracketed year alone is a title
        ("1983 (2018)", ("1983", 2018)),
    ],
)
def test_split_title_year(text: str, expected: tuple[str, int | None]) -> None:
    assert split_title_year(text) == expected


def test_first_control_character_of_every_ascii_and_some_unicode():
    """The printable-ASCII shortcut agrees with the per-character rule."""
    import unicodedata

    from nextshow.catalog.normalize import first_control_character

    for code in range(128):
        char = chr(code)
        bad = unicodedata.category(char) == "Cc"
        assert first_control_character(f"Show {char} One") == (char if bad else None)
    assert first_control_character("Café Noir") is None
    assert first_control_character("Good\u202eevil") == "\u202e"
    assert first_control_character("Priv\ue000ate") == "\ue000"
    assert first_control_character("Nul\x00") == "\x00"
