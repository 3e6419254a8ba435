"""Title normalisation: one canonical form so that what users type meets what IMDb calls a show."""

from __future__ import annotations

import re
import unicodedata

_LEADING_ARTICLES = ("the ", "a ", "an ")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_YEAR_SUFFIX = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[–-]\d{0,4})?\s*\)\s*$")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_title(title: str) -> str:
    """Lower case, no accents or punctuation, ``&`` read as ``and``, no leading article.

    >>> normalize_title("The Office")
    'office'
    >>> normalize_title("Law & Order: Special Victims Unit")
    'law and order special victims unit'
    """
    text = strip_accents(title).lower().replace("&", " and ")
    text = _NON_WORD.sub(" ", text).strip()
    for article in _LEADING_ARTICLES:
        # Keep the article when it is the whole title ("The", "A").
        if text.startswith(article) and len(text) > len(article):
            text = text[len(article) :]
            break
    return " ".join(text.split())


def split_title_year(text: str) -> tuple[str, int | None]:
    """``"The Office (2005)"`` -> ``("The Office", 2005)``; no year -> ``(text, None)``."""
    match = _YEAR_SUFFIX.match(text)
    if not match:
        return text.strip(), None
    return match.group("title").strip(), int(match.group("year"))
