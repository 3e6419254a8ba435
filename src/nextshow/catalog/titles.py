"""What matching works with and returns: the show rows it indexes, hits, results, title rules."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from nextshow.catalog.normalize import MAX_TITLE_LENGTH, first_control_character
from nextshow.db import limits
from nextshow.db.models import Show

USER_SOURCE = "user"
# shows.external_id is VARCHAR(64); longer keys keep a readable head and a hash of the whole.
EXTERNAL_ID_LENGTH = limits.EXTERNAL_ID
# Popularity is log(votes) against a fixed reference (about the most voted series on IMDb), not
# against the catalogue's maximum, so adding one show never changes the ranking of the others.
POPULARITY_REF_VOTES = 2_500_000
# Without IMDb votes (the demo films, titles from rating files) the store's own likes stand in,
# against a reference of about the most liked title of a 100k-rating set.
POPULARITY_REF_LIKES = 2_000

MatchKind = Literal["imdb", "exact", "prefix", "word", "fuzzy", "created"]
MatchStatus = Literal["matched", "ambiguous", "fuzzy", "not_found", "created"]


@dataclass(frozen=True, slots=True)
class ShowRow:
    """The columns of ``shows`` the index needs, detached from any session."""

    id: int
    title: str
    original_title: str | None = None
    normalized_title: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    imdb_id: str | None = None
    imdb_votes: int | None = None
    genres: str | None = None
    imdb_rating: float | None = None
    title_type: str | None = None
    likes: int = 0  # likes in the store: popularity when IMDb votes are unknown
    aliases: tuple[str, ...] = ()  # alternative titles (title.akas)

    @classmethod
    def from_show(cls, show: Show) -> ShowRow:
        """The row of a ``Show`` (fields named like its columns; no likes or aliases yet)."""
        return cls(**{f.name: getattr(show, f.name) for f in fields(cls) if hasattr(Show, f.name)})

    @property
    def popularity(self) -> float:
        """IMDb votes on the log scale of :func:`popularity`; the store's likes when unknown."""
        if self.imdb_votes:
            return popularity(self.imdb_votes)
        return popularity(self.likes, POPULARITY_REF_LIKES)


@dataclass(frozen=True, slots=True)
class Hit:
    """One show found for a query; ``score`` 0–100 is match quality, not rank (see module doc)."""

    show_id: int
    title: str
    start_year: int | None
    end_year: int | None
    imdb_id: str | None
    score: float
    match: MatchKind
    original_title: str | None = None
    imdb_votes: int | None = None
    genres: tuple[str, ...] = ()
    imdb_rating: float | None = None
    title_type: str | None = None

    @classmethod
    def of(cls, row: ShowRow, score: float, match: MatchKind) -> Hit:
        """``row`` found with ``score`` (rounded to one decimal) by ``match``."""
        return cls(
            show_id=row.id,
            title=row.title,
            start_year=row.start_year,
            end_year=row.end_year,
            imdb_id=row.imdb_id,
            score=round(float(score), 1),
            match=match,
            original_title=row.original_title,
            imdb_votes=row.imdb_votes,
            genres=tuple(g for g in (row.genres or "").split(",") if g),
            imdb_rating=row.imdb_rating,
            title_type=row.title_type,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "show_id": self.show_id,
            "title": self.title,
            "start_year": self.start_year,
            "end_year": self.end_year,
            "imdb_id": self.imdb_id,
            "score": self.score,
            "match": self.match,
            "original_title": self.original_title,
            "imdb_votes": self.imdb_votes,
            "genres": list(self.genres),
            "title_type": self.title_type,
        }


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What ``match`` made of a text.

    ``status``: ``matched`` (``show_id`` set), ``ambiguous`` (several shows share the title: ask
    which year), ``fuzzy`` (no exact title; ``candidates[0]`` is the best guess, ask the user),
    ``not_found``, or ``created`` (by ``resolve_or_create``; ``show_id`` set). ``show_id`` stays
    ``None`` for ``ambiguous`` and ``fuzzy`` so no caller mistakes a guess for an answer.
    """

    status: MatchStatus
    query: str
    title: str
    year: int | None
    normalized: str
    candidates: list[Hit] = field(default_factory=list)
    show_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "query": self.query,
            "title": self.title,
            "year": self.year,
            "normalized": self.normalized,
            "show_id": self.show_id,
            "candidates": [hit.as_dict() for hit in self.candidates],
        }


def clean_title_text(text: str) -> str:
    """The text stripped and checked: refuse empty input and anything over 200 characters.

    200 characters is far longer than any real title; longer input is a paste accident or abuse
    and must not reach the fuzzy matcher (cost grows with length) or the database.
    """
    if not isinstance(text, str):
        raise TypeError(f"title must be a string, not {type(text).__name__}")
    stripped = " ".join(text.split())
    if not stripped:
        raise ValueError("title is empty: type at least one letter or digit")
    if len(stripped) > MAX_TITLE_LENGTH:
        raise ValueError(
            f"title is {len(stripped)} characters long; at most {MAX_TITLE_LENGTH} are allowed"
        )
    bad = first_control_character(stripped)
    if bad is not None:
        raise ValueError(f"title contains the control character U+{ord(bad):04X}")
    return stripped


def popularity(votes: int | None, reference: int = POPULARITY_REF_VOTES) -> float:
    """log(votes) scaled to about 0–1 (1 for ``reference`` votes); ``None`` or 0 votes -> 0."""
    if not votes or votes <= 0:
        return 0.0
    return min(1.0, math.log1p(votes) / math.log1p(reference))


def user_external_id(normalized: str, year: int | None) -> str:
    """The ``external_id`` of a user-submitted show: its normalised title, plus the year if given.

    Two users typing the same unknown title (in any spelling that normalises the same) must land
    on one row; the unique constraint (source, external_id) enforces it. Keys over 64 characters
    keep a readable head and a hash of the whole, so they stay unique and deterministic.
    """
    key = normalized if year is None else f"{normalized} ({year})"
    if len(key) <= EXTERNAL_ID_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"{key[: EXTERNAL_ID_LENGTH - len(digest) - 1]}~{digest}"
