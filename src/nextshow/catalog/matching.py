"""Turn what a user typed into catalogue shows: exact, by IMDb id, by year, fuzzy, or a new show.

Two entry points share one in-memory :class:`TitleIndex` (built once from the ``shows`` table; the
web service keeps one and adds new shows to it):

``TitleIndex.search``
    Autocomplete. Stages, each ranked before the next: exact title (most voted first), prefix of
    the title, of a word inside it or of the original title (ranked by a blend of how much of the
    title was typed and popularity), then fuzzy matches for typos. A prefix lookup is a binary
    search in a sorted list of keys; only the fuzzy stage touches every title, and only when the
    earlier stages found fewer than ``limit`` shows.

``TitleIndex.match``
    Resolution of a whole title, ``"Title (Year)"`` or IMDb id to one show, or to candidates the
    user must choose from. ``resolve_or_create`` adds a user-submitted show when nothing matches.

Every :class:`Hit` carries ``score`` (0–100): how well the typed text matches that show's title
(100 for an exact or IMDb id match, the share of the title typed for prefixes, the rapidfuzz
similarity for typos). The *order* of hits is the ranking described above, which also weighs
popularity, so a lower-scored but much more voted show can come first within a stage.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from nextshow.catalog.normalize import normalize_title, split_title_year
from nextshow.db.models import Show, utcnow

log = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 200
USER_SOURCE = "user"
# shows.external_id is VARCHAR(64); longer keys keep a readable head and a hash of the whole.
EXTERNAL_ID_LENGTH = 64
# Popularity is log(votes) against a fixed reference (about the most voted series on IMDb), not
# against the catalogue's maximum, so adding one show never changes the ranking of the others.
POPULARITY_REF_VOTES = 2_500_000
SEARCH_FUZZY_CUTOFF = 75.0
MATCH_FUZZY_CUTOFF = 80.0
# Below this many typed characters a typo and a different word cannot be told apart.
MIN_FUZZY_QUERY = 4
# Weight of popularity against match quality in the prefix stage (0: ignore votes).
PREFIX_POPULARITY_WEIGHT = 0.5
# Points of rank (not of score) that popularity adds to a fuzzy candidate: breaks near-ties.
FUZZY_POPULARITY_POINTS = 5.0
# A typo in the typed part of a title ("braeking b") counts a little less than one in a whole title.
FUZZY_PREFIX_FACTOR = 0.95
MAX_CANDIDATES = 10
# Names cut to the query's length are cached per length up to this; a list costs ~0.7 MB and
# ~1 ms per 10k shows. Longer queries are compared with whole names (by then most of a title
# has been typed).
_MAX_TRUNCATED_CACHE = 32

_IMDB_ID = re.compile(
    r"^(?:https?://)?(?:(?:www|m)\.)?(?:imdb\.com/title/)?(tt\d{7,10})/?(?:[?#].*)?$",
    re.IGNORECASE,
)

MatchKind = Literal["imdb", "exact", "prefix", "word", "fuzzy", "created"]
MatchStatus = Literal["matched", "ambiguous", "fuzzy", "not_found", "created"]

_KIND_START = 0  # key is a whole name: "breaking bad"
_KIND_WORD = 1  # key starts at a later word: "bad"


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

    @classmethod
    def from_show(cls, show: Show) -> ShowRow:
        return cls(
            id=show.id,
            title=show.title,
            original_title=show.original_title,
            normalized_title=show.normalized_title,
            start_year=show.start_year,
            end_year=show.end_year,
            imdb_id=show.imdb_id,
            imdb_votes=show.imdb_votes,
            genres=show.genres,
        )


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
    return stripped


def parse_imdb_id(text: str) -> str | None:
    """``"tt0141842"`` or an IMDb title URL -> ``"tt0141842"``; anything else -> ``None``."""
    found = _IMDB_ID.match(text.strip())
    return found.group(1).lower() if found else None


def popularity(votes: int | None) -> float:
    """log(votes) scaled to about 0–1 (1 for ~2.5M votes); ``None`` or 0 votes -> 0."""
    if not votes or votes <= 0:
        return 0.0
    return min(1.0, math.log1p(votes) / math.log1p(POPULARITY_REF_VOTES))


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


@dataclass(frozen=True)
class _Tables:
    """The derived lookup structures, replaced as a whole (copy on write) when a show is added.

    A search holds one ``_Tables`` for its whole run, so a concurrent ``add`` never shows it a
    half-updated index. Positions refer to the append-only per-show lists of the index.
    """

    keys: list[str]  # sorted prefix keys
    key_pos: np.ndarray  # int32, show position of each key
    key_kind: np.ndarray  # int8, _KIND_START or _KIND_WORD
    key_name_len: np.ndarray  # float32, length of the whole name the key comes from
    names: list[str]  # every normalised name (title, original title, stored alias)
    name_pos: np.ndarray  # int32, show position of each name
    name_len: np.ndarray  # int16, length of each name
    show_ids: np.ndarray  # int64, by position
    pop: np.ndarray  # float32, popularity by position
    exact: dict[str, tuple[int, ...]]  # normalised name -> positions
    truncated: dict[int, list[str]] = field(default_factory=dict)

    def truncated_names(self, length: int) -> list[str]:
        """Every name cut to ``length`` characters, for typos in a prefix; cached per length."""
        if length > _MAX_TRUNCATED_CACHE:
            return self.names
        cached = self.truncated.get(length)
        if cached is None:
            # Benign race: two threads may both build the same list; either result is right.
            cached = [name[:length] for name in self.names]
            self.truncated[length] = cached
        return cached


def _names_of(row: ShowRow) -> list[str]:
    """The distinct normalised names a show is found by (title, original title, stored alias)."""
    names: list[str] = []
    for raw, already_normal in (
        (row.title, False),
        (row.original_title, False),
        (row.normalized_title, True),
    ):
        if not raw:
            continue
        name = " ".join(raw.split()) if already_normal else normalize_title(raw)
        if name and name not in names:
            names.append(name)
    return names


def _keys_of(name: str) -> list[tuple[str, int]]:
    """Prefix keys of one name: the whole name, and the name from each later word on."""
    keys = [(name, _KIND_START)]
    start = name.find(" ")
    while start != -1:
        keys.append((name[start + 1 :], _KIND_WORD))
        start = name.find(" ", start + 1)
    return keys


class TitleIndex:
    """An in-memory index of show titles for autocomplete and title resolution.

    Build it with :func:`load_title_index` (or from :class:`ShowRow` s); it holds plain data, no
    session. Rebuild it after bulk changes (an import); add single shows with :meth:`add`, which
    costs a copy of the lookup arrays (about a millisecond at 10k shows), not a rebuild.
    Searching is safe from several threads while another thread adds.
    """

    def __init__(self, rows: Iterable[ShowRow] = ()) -> None:
        self._lock = threading.Lock()
        self._rows: list[ShowRow] = []
        self._pos_by_id: dict[int, int] = {}
        self._by_imdb: dict[str, int] = {}
        self._tables = self._build(list(rows))

    # -- building ---------------------------------------------------------------------------

    def _build(self, rows: list[ShowRow]) -> _Tables:
        """Index ``rows`` from scratch (the per-show lists are reset too)."""
        self._rows = []
        self._pos_by_id = {}
        self._by_imdb = {}
        keys: list[tuple[str, int, int, int]] = []  # key, position, kind, name length
        names: list[str] = []
        name_pos: list[int] = []
        exact: dict[str, list[int]] = {}
        for row in rows:
            if row.id in self._pos_by_id:
                raise ValueError(f"show id {row.id} appears twice")
            pos = self._register(row)
            for name in _names_of(row):
                names.append(name)
                name_pos.append(pos)
                exact.setdefault(name, []).append(pos)
                keys.extend((key, pos, kind, len(name)) for key, kind in _keys_of(name))
        keys.sort()
        return _Tables(
            keys=[k[0] for k in keys],
            key_pos=np.fromiter((k[1] for k in keys), dtype=np.int32, count=len(keys)),
            key_kind=np.fromiter((k[2] for k in keys), dtype=np.int8, count=len(keys)),
            key_name_len=np.fromiter((k[3] for k in keys), dtype=np.float32, count=len(keys)),
            names=names,
            name_pos=np.asarray(name_pos, dtype=np.int32),
            name_len=np.asarray([len(name) for name in names], dtype=np.int16),
            show_ids=np.asarray([r.id for r in self._rows], dtype=np.int64),
            pop=np.asarray([popularity(r.imdb_votes) for r in self._rows], dtype=np.float32),
            exact={name: tuple(positions) for name, positions in exact.items()},
        )

    def _register(self, row: ShowRow) -> int:
        pos = len(self._rows)
        self._rows.append(row)
        self._pos_by_id[row.id] = pos
        if row.imdb_id:
            self._by_imdb[row.imdb_id.lower()] = pos
        return pos

    def add(self, show: Show | ShowRow) -> None:
        """Add one show (or replace it, if its id is already indexed) without a full rebuild.

        Replacing an existing id rebuilds the whole index: titles rarely change, and a rebuild
        keeps the structures simple and exact.
        """
        row = show if isinstance(show, ShowRow) else ShowRow.from_show(show)
        with self._lock:
            old = self._pos_by_id.get(row.id)
            if old is not None:
                if self._rows[old] != row:
                    rows = [row if r.id == row.id else r for r in self._rows]
                    self._tables = self._build(rows)
                return
            self._tables = self._with_row(self._tables, row)

    def _with_row(self, tables: _Tables, row: ShowRow) -> _Tables:
        """A copy of ``tables`` with one more show; keys are inserted at their sorted place."""
        pos = self._register(row)
        keys = list(tables.keys)
        key_pos, key_kind, key_len = tables.key_pos, tables.key_kind, tables.key_name_len
        names = list(tables.names)
        name_pos, name_len = tables.name_pos, tables.name_len
        exact = dict(tables.exact)
        for name in _names_of(row):
            names.append(name)
            name_pos = np.append(name_pos, np.int32(pos))
            name_len = np.append(name_len, np.int16(len(name)))
            exact[name] = (*exact.get(name, ()), pos)
            for key, kind in _keys_of(name):
                at = bisect.bisect_right(keys, key)
                keys.insert(at, key)
                key_pos = np.insert(key_pos, at, pos)
                key_kind = np.insert(key_kind, at, kind)
                key_len = np.insert(key_len, at, len(name))
        return _Tables(
            keys=keys,
            key_pos=key_pos,
            key_kind=key_kind,
            key_name_len=key_len,
            names=names,
            name_pos=name_pos,
            name_len=name_len,
            show_ids=np.append(tables.show_ids, np.int64(row.id)),
            pop=np.append(tables.pop, np.float32(popularity(row.imdb_votes))),
            exact=exact,
        )

    def __len__(self) -> int:
        return len(self._tables.show_ids)

    def __contains__(self, show_id: object) -> bool:
        return show_id in self._pos_by_id

    # -- hits -------------------------------------------------------------------------------

    def _hit(self, pos: int, score: float, kind: MatchKind) -> Hit:
        row = self._rows[pos]
        genres = tuple(g for g in (row.genres or "").split(",") if g)
        return Hit(
            show_id=row.id,
            title=row.title,
            start_year=row.start_year,
            end_year=row.end_year,
            imdb_id=row.imdb_id,
            score=round(float(score), 1),
            match=kind,
            original_title=row.original_title,
            imdb_votes=row.imdb_votes,
            genres=genres,
        )

    def hit_for(self, show_id: int) -> Hit | None:
        """The show as a hit with score 100 (e.g. to echo a chosen candidate), if indexed."""
        pos = self._pos_by_id.get(show_id)
        return None if pos is None else self._hit(pos, 100.0, "exact")

    def _by_votes(self, positions: Iterable[int]) -> list[int]:
        """Most voted first, then lowest show id: the order for shows sharing one title."""
        rows = self._rows
        return sorted(positions, key=lambda p: (-(rows[p].imdb_votes or 0), rows[p].id))

    def _year_filter(self, positions: Sequence[int], year: int) -> list[int]:
        """Shows that started in ``year``; failing that, ran during it; failing that, ±1 year.

        Users remember the year they watched, which for a long series is not the start year,
        and IMDb's start year sometimes differs by one from the broadcast people remember.
        """
        rows = self._rows
        started = [p for p in positions if rows[p].start_year == year]
        if started:
            return started
        running = [
            p
            for p in positions
            if rows[p].start_year is not None
            and rows[p].start_year <= year <= (rows[p].end_year or rows[p].start_year)
        ]
        if running:
            return running
        return [p for p in positions if rows[p].start_year and abs(rows[p].start_year - year) <= 1]

    # -- search (autocomplete) ---------------------------------------------------------------

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """Autocomplete: up to ``limit`` shows for a partly typed title, best first.

        Exact titles first (most voted first; a ``(Year)`` suffix puts that year first), then
        prefixes of the title, of a later word or of the original title (blend of typed share
        and popularity), then fuzzy matches when fewer than ``limit`` were found and the text
        is not exactly a title. Blank query ->
        ``[]``; over 200 characters -> ``ValueError``. Ties are broken by show id.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if not query or not query.strip():
            return []
        text = clean_title_text(query)
        tables = self._tables
        hits: list[Hit] = []
        seen: set[int] = set()

        imdb_id = parse_imdb_id(text)
        if imdb_id is not None:
            pos = self._by_imdb.get(imdb_id)
            return [] if pos is None else [self._hit(pos, 100.0, "imdb")]

        title, year = split_title_year(text)
        norm = normalize_title(title)
        if not norm:
            return []

        exact = self._by_votes(tables.exact.get(norm, ()))
        if year is not None:
            preferred = self._year_filter(exact, year)
            exact = preferred + [p for p in exact if p not in preferred]
        for pos in exact[:limit]:
            hits.append(self._hit(pos, 100.0, "exact"))
            seen.add(pos)
        if len(hits) < limit:
            hits.extend(self._prefix_hits(tables, norm, year, limit - len(hits), seen))
        # A text that is exactly a title is not a typo: look-alike titles would only be noise,
        # and skipping them saves the one stage that touches every title.
        if len(hits) < limit and not exact and len(norm) >= MIN_FUZZY_QUERY:
            hits.extend(self._fuzzy_search_hits(tables, norm, limit - len(hits), seen))
        return hits

    def _prefix_hits(
        self, tables: _Tables, norm: str, year: int | None, limit: int, seen: set[int]
    ) -> list[Hit]:
        lo = bisect.bisect_left(tables.keys, norm)
        hi = bisect.bisect_left(tables.keys, norm + "\U0010ffff", lo)
        if lo == hi:
            return []
        pos = tables.key_pos[lo:hi]
        kind = tables.key_kind[lo:hi]
        # Share of the name typed: "brea" is more of "bread" than of "breaking bad".
        coverage = np.minimum(1.0, len(norm) / tables.key_name_len[lo:hi])
        quality = np.where(kind == _KIND_START, 0.7 + 0.3 * coverage, 0.55 + 0.3 * coverage)
        rank = (1 - PREFIX_POPULARITY_WEIGHT) * quality + PREFIX_POPULARITY_WEIGHT * tables.pop[pos]
        if year is not None:
            starts = np.asarray(
                [self._rows[p].start_year == year for p in pos.tolist()], dtype=bool
            )
            rank = rank + 0.5 * starts
        if seen:
            keep = ~np.isin(pos, np.fromiter(seen, dtype=np.int32))
            pos, kind, quality, rank = pos[keep], kind[keep], quality[keep], rank[keep]
        if len(pos) == 0:
            return []
        order = np.lexsort((tables.show_ids[pos], -rank))
        # Best key per show: a show may match by title and by a word ("bad" in "bad bad").
        _, first = np.unique(pos[order], return_index=True)
        chosen = order[np.sort(first)][:limit]
        hits = []
        for i in chosen.tolist():
            p = int(pos[i])
            seen.add(p)
            label: MatchKind = "prefix" if kind[i] == _KIND_START else "word"
            hits.append(self._hit(p, 100.0 * quality[i], label))
        return hits

    def _typo_scores(self, tables: _Tables, norm: str, cutoff: float) -> np.ndarray:
        """Similarity of ``norm`` to the start of every name (0 below ``cutoff``), float32.

        Names are cut to one character more than the query, so "braeking b" meets "breaking ba"
        and a dropped letter still lines up; one ``cdist`` call covers typos in whole titles and
        in typed prefixes. A name longer than its cut scores a little less, so that a typo of a
        whole title ranks above a typo of the start of a longer one.
        """
        cut = len(norm) + 1
        scores = process.cdist(
            [norm],
            tables.truncated_names(cut),
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            dtype=np.float32,
            workers=1,
        )[0]
        if cut <= _MAX_TRUNCATED_CACHE:
            scores = np.where(tables.name_len > cut, scores * FUZZY_PREFIX_FACTOR, scores)
            scores[scores < cutoff] = 0.0
        return scores

    def _ranked_fuzzy(
        self,
        tables: _Tables,
        scores: np.ndarray,
        limit: int,
        seen: set[int],
        bonus: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """(position, score) of the best-scoring shows, one entry per show, ranked."""
        found = np.flatnonzero(scores)
        if len(found) == 0:
            return []
        pos = tables.name_pos[found]
        score = scores[found]
        if seen:
            keep = ~np.isin(pos, np.fromiter(seen, dtype=np.int32))
            pos, score = pos[keep], score[keep]
        rank = score + FUZZY_POPULARITY_POINTS * tables.pop[pos]
        if bonus is not None:
            rank = rank + bonus[pos]
        order = np.lexsort((tables.show_ids[pos], -rank))
        _, first = np.unique(pos[order], return_index=True)
        chosen = order[np.sort(first)][:limit]
        return [(int(pos[i]), float(score[i])) for i in chosen.tolist()]

    def _fuzzy_search_hits(
        self, tables: _Tables, norm: str, limit: int, seen: set[int]
    ) -> list[Hit]:
        scores = self._typo_scores(tables, norm, SEARCH_FUZZY_CUTOFF)
        hits = []
        for pos, score in self._ranked_fuzzy(tables, scores, limit, seen):
            seen.add(pos)
            hits.append(self._hit(pos, score, "fuzzy"))
        return hits

    # -- match (resolution) ------------------------------------------------------------------

    def match(self, text: str, *, cutoff: float = MATCH_FUZZY_CUTOFF) -> MatchResult:
        """Resolve a title, ``"Title (Year)"`` or IMDb id (or IMDb URL) to shows.

        Exact normalised title: one show -> ``matched``; several (remakes, national versions)
        -> ``ambiguous`` unless the year picks one. A year that fits none of the shows with that
        title also gives ``ambiguous`` with all of them: the title is known, so guessing a new
        show would create duplicates. No exact title: candidates whose rapidfuzz similarity
        (``ratio`` to the whole title or its start, ``token_sort_ratio`` for reordered words) is
        at least ``cutoff`` -> ``fuzzy``, else ``not_found``. Raises ``ValueError`` on empty or
        over-long text, or text without a letter or digit.
        """
        cleaned = clean_title_text(text)
        tables = self._tables

        imdb_id = parse_imdb_id(cleaned)
        if imdb_id is not None:
            pos = self._by_imdb.get(imdb_id)
            if pos is None:
                return MatchResult("not_found", cleaned, cleaned, None, imdb_id)
            hit = self._hit(pos, 100.0, "imdb")
            return MatchResult("matched", cleaned, cleaned, None, imdb_id, [hit], hit.show_id)

        title, year = split_title_year(cleaned)
        norm = normalize_title(title)
        if not norm:
            raise ValueError(f"title {cleaned!r} has no letters or digits")

        exact = self._by_votes(tables.exact.get(norm, ()))
        if exact:
            chosen = exact if year is None else self._year_filter(exact, year)
            if len(chosen) == 1:
                hit = self._hit(chosen[0], 100.0, "exact")
                return MatchResult("matched", cleaned, title, year, norm, [hit], hit.show_id)
            # Several shows fit, or the year fits none of the shows with this title.
            hits = [self._hit(p, 100.0, "exact") for p in (chosen or exact)[:MAX_CANDIDATES]]
            return MatchResult("ambiguous", cleaned, title, year, norm, hits)

        # Typos in the whole title or its start, and words in another order. Not WRatio: its
        # partial matching finds "Dark" in "Dark Web" and "Law & Order" inside any long title
        # containing "on and on", so new shows could never be created.
        scores = np.maximum(
            self._typo_scores(tables, norm, cutoff),
            process.cdist(
                [norm],
                tables.names,
                scorer=fuzz.token_sort_ratio,
                score_cutoff=cutoff,
                dtype=np.float32,
            )[0],
        )
        bonus = None
        if year is not None:
            bonus = np.asarray([5.0 * (r.start_year == year) for r in self._rows], np.float32)
        ranked = self._ranked_fuzzy(tables, scores, MAX_CANDIDATES, set(), bonus)
        if not ranked:
            return MatchResult("not_found", cleaned, title, year, norm)
        hits = [self._hit(pos, score, "fuzzy") for pos, score in ranked]
        return MatchResult("fuzzy", cleaned, title, year, norm, hits)


def load_title_index(session: Session) -> TitleIndex:
    """Build the index from the ``shows`` table (one query; ~10k shows take well under a second)."""
    rows = session.execute(
        select(
            Show.id,
            Show.title,
            Show.original_title,
            Show.normalized_title,
            Show.start_year,
            Show.end_year,
            Show.imdb_id,
            Show.imdb_votes,
            Show.genres,
        ).order_by(Show.id)
    )
    return TitleIndex(ShowRow(*row) for row in rows)


# -- create on request ----------------------------------------------------------------------

_PENDING_KEY = "nextshow.matching.pending_index_adds"


def _add_when_committed(session: Session, index: TitleIndex, row: ShowRow) -> None:
    """Add ``row`` to ``index`` once the session's transaction commits; drop it on rollback.

    The index is shared by every request of a web process: a show that is rolled back must never
    become findable there, or later requests would rate a show id that does not exist.
    """
    pending: list[tuple[TitleIndex, ShowRow]] | None = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = []
        session.info[_PENDING_KEY] = pending

        def on_commit(sess: Session) -> None:
            items = list(sess.info.get(_PENDING_KEY, ()))
            sess.info.get(_PENDING_KEY, []).clear()
            for target, item in items:
                target.add(item)

        def on_rollback(sess: Session) -> None:
            sess.info.get(_PENDING_KEY, []).clear()

        event.listen(session, "after_commit", on_commit)
        event.listen(session, "after_rollback", on_rollback)
    pending.append((index, row))


def _user_show(session: Session, external_id: str) -> Show | None:
    return session.scalars(
        select(Show).where(Show.source == USER_SOURCE, Show.external_id == external_id)
    ).one_or_none()


def get_or_create_user_show(
    session: Session, *, title: str, year: int | None = None
) -> tuple[Show, bool]:
    """The user-submitted show for ``title`` (and ``year``), created if missing: (show, created).

    Safe against concurrent callers: the row is written with ``INSERT ... ON CONFLICT (source,
    external_id) DO NOTHING`` and then read back, so whichever transaction inserts first wins
    and the others get its row. (A savepoint would also do on PostgreSQL, but pysqlite's
    transaction handling lets ``RELEASE SAVEPOINT`` commit the outer transaction on SQLite.)
    Writes but does not commit: the caller owns the transaction.
    """
    title = clean_title_text(title)
    normalized = normalize_title(title)
    if not normalized:
        raise ValueError(f"title {title!r} has no letters or digits")
    if len(normalized) > 512:  # shows.normalized_title is VARCHAR(512)
        raise ValueError("title is too long once '&' is spelled out; shorten it")
    external_id = user_external_id(normalized, year)
    show = _user_show(session, external_id)
    if show is not None:
        return show, False

    now = utcnow()
    statement = (
        conflict_insert(session, Show.__table__)
        .values(
            title=title,
            normalized_title=normalized,
            start_year=year,
            source=USER_SOURCE,
            external_id=external_id,
            user_submitted=True,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(Show.id)
    )
    new_id = session.execute(statement).scalar_one_or_none()
    show = _user_show(session, external_id)
    if show is None:  # cannot happen unless the row was deleted in between
        raise LookupError(f"user show {external_id!r} vanished right after its insert")
    if new_id is None:
        log.info("user show %r was created concurrently; reusing id %s", external_id, show.id)
        return show, False
    log.info("created user-submitted show %s %r", show.id, external_id)
    return show, True


def resolve_or_create(
    session: Session, index: TitleIndex, text: str, *, create_when_fuzzy: bool = False
) -> MatchResult:
    """Match ``text``; when nothing matches, create a user-submitted show for it.

    The new show has ``source="user"``, ``user_submitted=True`` and ``external_id`` = normalised
    title (plus ``" (year)"`` when given), so the same unknown title typed twice, by two requests
    at once or by two processes, ends as one row (see :func:`get_or_create_user_show`).

    The caller owns the transaction and must commit it; the show joins ``index`` only when that
    commit happens, so a rolled-back show never becomes findable. Until then, repeating the call
    in the same session finds the row by its external id. Returns ``created`` with ``show_id``
    for a new show, ``matched`` for one that existed; other statuses as
    :meth:`TitleIndex.match`. An IMDb id that is not in the catalogue stays ``not_found``: no
    show can be made from an id alone.

    ``create_when_fuzzy=True`` is for the second round, after the user was shown the fuzzy
    candidates and said none of them is the show: then a ``fuzzy`` result creates too. Exact
    titles (``matched`` / ``ambiguous``) never create: the show exists.
    """
    result = index.match(text)
    creatable = {"not_found", "fuzzy"} if create_when_fuzzy else {"not_found"}
    if result.status not in creatable or parse_imdb_id(result.query) is not None:
        return result
    show, created = get_or_create_user_show(session, title=result.title, year=result.year)
    row = ShowRow.from_show(show)
    if row.id not in index:
        _add_when_committed(session, index, row)
    hit = Hit(
        show_id=row.id,
        title=row.title,
        start_year=row.start_year,
        end_year=row.end_year,
        imdb_id=row.imdb_id,
        score=100.0,
        match="created" if created else "exact",
    )
    status: MatchStatus = "created" if created else "matched"
    return MatchResult(
        status, result.query, result.title, result.year, result.normalized, [hit], row.id
    )
