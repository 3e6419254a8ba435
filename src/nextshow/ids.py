"""IMDb ids (titles ``tt0903747``, people ``nm0319213``): the one rule every part of nextshow uses.

The rule: ``tt`` followed by 7 to 10 digits. IMDb ids have 7 digits, or 8 for titles added since
2017; two more digits leave room for growth while still refusing arbitrary digit strings (and
keep ids well inside the 16-character ``shows.imdb_id`` column). Ids are stored lower-case.
"""

from __future__ import annotations

import re

MIN_DIGITS = 7
MAX_DIGITS = 10
RULE = f"tt + {MIN_DIGITS} to {MAX_DIGITS} digits"

_ID = re.compile(rf"tt[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}\Z")  # ASCII digits, not any \d
_PERSON_ID = re.compile(rf"nm[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}\Z")
# A bare id or an IMDb title URL ("https://www.imdb.com/title/tt0903747/?ref_=nv"), as pasted.
_ID_OR_URL = re.compile(
    rf"^(?:https?://)?(?:(?:www|m)\.)?(?:imdb\.com/title/)?(tt[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}})"
    r"/?(?:[?#].*)?\Z",
    re.IGNORECASE,
)


def is_imdb_id(text: str) -> bool:
    """Whether ``text`` is exactly an IMDb id (lower-case ``tt``, no URL, no surrounding space)."""
    return _ID.match(text) is not None


def is_person_id(text: str) -> bool:
    """Whether ``text`` is exactly an IMDb person id: ``nm`` and the digits rule of title ids."""
    return _PERSON_ID.match(text) is not None


def parse_imdb_id(text: str) -> str | None:
    """``"tt0141842"`` or an IMDb title URL -> ``"tt0141842"``; anything else -> ``None``."""
    found = _ID_OR_URL.match(text.strip())
    return found.group(1).lower() if found else None


def format_imdb_id(number: int | str) -> str:
    """``110912`` or ``"0110912"`` -> ``"tt0110912"`` (zero-padded to 7 digits).

    Raises ValueError when the number is negative or has more than 10 digits.
    """
    digits = str(number).strip()
    if not digits.isdecimal() or not digits.isascii():
        raise ValueError(f"not a numeric IMDb id: {number!r}")
    imdb_id = "tt" + digits.zfill(MIN_DIGITS)
    if not is_imdb_id(imdb_id):
        raise ValueError(f"not an IMDb id ({RULE}): {imdb_id!r}")
    return imdb_id
