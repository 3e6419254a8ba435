"""The in-memory title index: autocomplete (``search``) and title resolution (``match``).

See :mod:`nextshow.catalog.matching` for the stages and what a hit's score means.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nextshow.catalog.index_tables import Tables, build_tables, with_row
from nextshow.catalog.normalize import normalize_title, split_title_year
from nextshow.catalog.ranking import prefix_matches, ranked_fuzzy, typo_scores
from nextshow.catalog.titles import (
    Hit,
    MatchKind,
    MatchResult,
    ShowRow,
    clean_title_text,
)
from nextshow.db.models import Rating, Show, ShowTitle
from nextshow.ids import parse_imdb_id

SEARCH_FUZZY_CUTOFF = 75.0
MATCH_FUZZY_CUTOFF = 80.0
# Below this many typed characters a typo and a different word cannot be told apart.
MIN_FUZZY_QUERY = 4
MAX_CANDIDATES = 10


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
        self._memo: dict[Any, Any] = {}

    def memo(self) -> dict[Any, Any]:
        """A dict for callers' results derived from the index as it is now (e.g. what a typed
        title matched), replaced by an empty one whenever a show is added.

        Take it before searching: the tables are replaced before the memo, so a result computed
        from older tables can only land in a memo that is already discarded.
        """
        return self._memo

    # -- building ---------------------------------------------------------------------------

    def _build(self, rows: list[ShowRow]) -> Tables:
        """Index ``rows`` from scratch (the per-show lists are reset too)."""
        self._rows = []
        self._pos_by_id = {}
        self._by_imdb = {}
        for row in rows:
            if row.id in self._pos_by_id:
                raise ValueError(f"show id {row.id} appears twice")
            self._register(row)
        return build_tables(self._rows)

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
                    self._memo = {}
                return
            self._tables = self._with_row(self._tables, row)
            self._memo = {}

    def _with_row(self, tables: Tables, row: ShowRow) -> Tables:
        """A copy of ``tables`` with one more show."""
        return with_row(tables, row, self._register(row))

    def __len__(self) -> int:
        return len(self._tables.show_ids)

    def __contains__(self, show_id: object) -> bool:
        return show_id in self._pos_by_id

    # -- hits -------------------------------------------------------------------------------

    def _hit(self, pos: int, score: float, kind: MatchKind) -> Hit:
        return Hit.of(self._rows[pos], score, kind)

    def hit_for(self, show_id: int) -> Hit | None:
        """The show as a hit with score 100 (e.g. to echo a chosen candidate), if indexed."""
        pos = self._pos_by_id.get(show_id)
        return None if pos is None else self._hit(pos, 100.0, "exact")

    def _by_votes(self, positions: Iterable[int]) -> list[int]:
        """Most popular first (IMDb votes, else likes), then lowest show id: the order for shows
        sharing one title."""
        rows = self._rows
        return sorted(positions, key=lambda p: (-rows[p].popularity, rows[p].id))

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
        self, tables: Tables, norm: str, year: int | None, limit: int, seen: set[int]
    ) -> list[Hit]:
        found = prefix_matches(tables, self._rows, norm, year, limit, seen)
        return [self._hit(pos, score, kind) for pos, score, kind in found]

    def _fuzzy_search_hits(
        self, tables: Tables, norm: str, limit: int, seen: set[int]
    ) -> list[Hit]:
        scores = typo_scores(tables, norm, SEARCH_FUZZY_CUTOFF)
        hits = []
        for pos, score in ranked_fuzzy(tables, scores, limit, seen):
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
            typo_scores(tables, norm, cutoff),
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
        ranked = ranked_fuzzy(tables, scores, MAX_CANDIDATES, set(), bonus)
        if not ranked:
            return MatchResult("not_found", cleaned, title, year, norm)
        hits = [self._hit(pos, score, "fuzzy") for pos, score in ranked]
        return MatchResult("fuzzy", cleaned, title, year, norm, hits)


def load_title_index(session: Session) -> TitleIndex:
    """Build the index from the ``shows`` table, with each show's likes and alternative titles
    (three queries; ~10k shows take well under a second).

    Only active shows: pending and rejected user titles are never offered to anyone, under any
    of their names.
    """
    likes: dict[int, int] = {
        show_id: count
        for show_id, count in session.execute(
            select(Rating.show_id, func.count()).where(Rating.liked).group_by(Rating.show_id)
        )
    }
    aliases: dict[int, list[str]] = {}
    for show_id, title in session.execute(
        select(ShowTitle.show_id, ShowTitle.title).order_by(ShowTitle.show_id, ShowTitle.ordering)
    ):
        aliases.setdefault(show_id, []).append(title)
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
            Show.imdb_rating,
            Show.title_type,
        )
        .where(Show.status == "active")
        .order_by(Show.id)
    )
    return TitleIndex(
        ShowRow(*row, likes=likes.get(row[0], 0), aliases=tuple(aliases.get(row[0], ())))
        for row in rows
    )
