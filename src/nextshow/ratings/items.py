"""Item files (MovieLens u.item, movies.dat): titles, years and genres by the file's item id."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from nextshow.ratings.records import DIGITS, MAX_GENRES, MAX_TITLE, ItemInfo, split_title
from nextshow.rejects import Reject, control_character_reject
from nextshow.textio import OverlongLine, iter_lines

# u.item's 19 genre flags, in file order (MovieLens 100k README).
MOVIELENS_100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)


def movielens_key(item_id: str) -> str:
    """MovieLens item ids are plain integers; drop leading zeros so "042" and "42" agree."""
    return item_id.lstrip("0") or "0"


def default_items_path(ratings_path: Path, fmt: str) -> Path | None:
    """The item file shipped beside a ratings file: u.item for u.data, movies.dat otherwise."""
    name = ratings_path.name.removesuffix(".gz")
    stem = "u.item" if fmt == "movielens" and name.endswith(".data") else "movies.dat"
    for candidate in (stem, stem + ".gz"):
        if (ratings_path.parent / candidate).is_file():
            return ratings_path.parent / candidate
    return None


def read_items(path: Path, fmt: str) -> Generator[Reject, None, dict[str, ItemInfo]]:
    """Titles by the file's item id, from movies.dat (``id::Title (Year)::G|G``) or u.item.

    u.item (``id|title (year)|date|video date|url|19 genre flags``) is recognised by its ``|``
    separator. Yields the rejected lines as it reads (``items = yield from read_items(...)``) and
    returns the items. Undecodable UTF-8 falls back to Latin-1 because MovieLens ships its item
    files in Latin-1.
    """
    items: dict[str, ItemInfo] = {}
    file = str(path)
    for number, data in iter_lines(path):
        if isinstance(data, OverlongLine):
            yield Reject(file, number, "", data.reason())
            continue
        if not data.strip():
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        if "::" in text:
            parts = text.split("::")
            if len(parts) != 3:
                yield Reject(file, number, "", f"expected 3 fields, got {len(parts)}")
                continue
            item_id, title_year, genre_text = parts
            genres = ",".join(g for g in genre_text.split("|") if g) or None
        else:
            parts = text.split("|")
            if len(parts) != 5 + len(MOVIELENS_100K_GENRES):
                yield Reject(file, number, "", f"expected 24 fields, got {len(parts)}", text)
                continue
            item_id, title_year = parts[0], parts[1]
            flags = parts[5:]
            genres = ",".join(
                g for g, f in zip(MOVIELENS_100K_GENRES, flags, strict=True) if f == "1"
            )
            genres = genres or None
        item_id = item_id.strip()
        if not DIGITS.match(item_id):
            yield Reject(file, number, "item_id", "item id is not a number", text)
            continue
        bad = control_character_reject(file, number, [("title", title_year)], text)
        if bad is not None:
            yield bad
            continue
        title, year = split_title(title_year)
        if not title or len(title) > MAX_TITLE:
            yield Reject(file, number, "title", "empty or too long title", text)
            continue
        if genres and len(genres) > MAX_GENRES:
            genres = None  # genres are a hint for new shows; not worth losing the title over
        key = movielens_key(item_id) if fmt == "movielens" else item_id
        items[key] = ItemInfo(title, year, genres)
    return items
