"""Title normalisation: one canonical form so that what users type meets what IMDb calls a show.

The same function fills ``shows.normalized_title`` at import time and turns a user's query into a
lookup key, so the two sides can only meet if both go through here. Change the rules and stored
values go stale: the in-memory title index (catalog/matching.py) therefore recomputes the form from
``shows.title`` and keeps the stored value only as an extra alias.
"""

from __future__ import annotations

import re
import unicodedata

# The longest title a user may type (queries and user-submitted shows).
MAX_TITLE_LENGTH = 200
# Only English articles: stripping "la"/"el"/"die" would merge real titles ("Die Anstalt").
_LEADING_ARTICLES = ("the ", "a ", "an ")
# Letters NFKD does not decompose into a base letter plus accent.
_FOLD = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "ı": "i",
    }
)
# Apostrophes join their word ("Marvel's" -> "marvels", matching what people type without one).
_APOSTROPHES = re.compile(r"['’ʼ`´]")
# Runs of single letters joined by dots, stars or hyphens ("S.H.I.E.L.D.", "M*A*S*H") and single
# digits joined by hyphens ("9-1-1") are one word: people type them as "shield", "mash", "911".
# Digits joined by dots are left alone: "1.5" is a number, not an initialism.
_INITIALISM = re.compile(
    r"(?<!\w)[^\W\d_](?:[.*-][^\W\d_](?!\w))+\.?"  # letters: S.H.I.E.L.D., M*A*S*H
    r"|(?<!\w)\d(?:-\d(?!\w))+"  # digits: 9-1-1
)
_INITIALISM_SEPARATORS = re.compile(r"[.*-]")
# \W keeps letters of every script: a Japanese or Cyrillic title must not normalise to "".
_NON_WORD = re.compile(r"[\W_]+")
_YEAR_SUFFIX = re.compile(
    r"^(?P<title>.*?)\s*[(\[]\s*(?P<year>\d{4})\s*(?:[–—-]\s*(?:\d{4})?\s*)?[)\]]\s*$"
)


def strip_accents(text: str) -> str:
    """Drop combining accents ("Café" -> "Cafe") and fold letters like "ø" that have none."""
    if text.isascii():  # nothing to fold or decompose; most titles, and 10x faster
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_title(title: str) -> str:
    """Lower case, no accents or punctuation, ``&`` read as ``and``, no leading article.

    Returns ``""`` when the title has no letters or digits; callers decide whether that is an error.

    >>> normalize_title("The Office")
    'office'
    >>> normalize_title("Law & Order: Special Victims Unit")
    'law and order special victims unit'
    >>> normalize_title("Marvel's Agents of S.H.I.E.L.D.")
    'marvels agents of shield'
    >>> normalize_title("Café Society")
    'cafe society'
    """
    text = strip_accents(title).casefold().replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    text = _INITIALISM.sub(lambda m: _INITIALISM_SEPARATORS.sub("", m.group(0)), text)
    text = " ".join(_NON_WORD.sub(" ", text).split())
    for article in _LEADING_ARTICLES:
        # Keep the article when it is the whole title ("The", "A").
        if text.startswith(article) and len(text) > len(article):
            text = text[len(article) :]
            break
    return text


def split_title_year(text: str) -> tuple[str, int | None]:
    """``"The Office (2005)"`` -> ``("The Office", 2005)``; no year -> ``(text, None)``.

    Also reads IMDb-style runs (``"Lost (2004–2010)"`` gives the start year) and square brackets.
    A text that is only a year in brackets is a title, not a year: ``"(2005)"`` stays as it is.
    """
    stripped = text.strip()
    match = _YEAR_SUFFIX.match(stripped)
    if not match or not match.group("title").strip():
        return stripped, None
    return match.group("title").strip(), int(match.group("year"))


# Bidirectional overrides and isolates reorder what is displayed: a title can look like another.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def first_control_character(text: str) -> str | None:
    """The first character that has no place in a title (C0/C1 controls such as NUL and the ESC
    of ANSI escapes, surrogates, unassigned or private-use code points, bidi overrides), or None.
    """
    if text.isascii() and text.isprintable():
        return None  # the common case in one C pass: printable ASCII holds none of them
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") or char in _BIDI_CONTROLS:
            return char
    return None
