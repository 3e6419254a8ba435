"""Ranking stages of the title index: prefixes of names, and typos scored with rapidfuzz.

Pure functions of the index's :class:`~nextshow.catalog.index_tables.Tables`; they return index
positions with scores, and the index turns those into hits.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from nextshow.catalog.index_tables import KIND_START, MAX_TRUNCATED_CACHE, Tables
from nextshow.catalog.titles import MatchKind, ShowRow

# Weight of popularity against match quality in the prefix stage (0: ignore votes).
PREFIX_POPULARITY_WEIGHT = 0.5
# Points of rank (not of score) that popularity adds to a fuzzy candidate: breaks near-ties.
FUZZY_POPULARITY_POINTS = 5.0
# A typo in the typed part of a title ("braeking b") counts a little less than one in a whole title.
FUZZY_PREFIX_FACTOR = 0.95


def prefix_matches(
    tables: Tables,
    rows: Sequence[ShowRow],
    norm: str,
    year: int | None,
    limit: int,
    seen: set[int],
) -> list[tuple[int, float, MatchKind]]:
    """(position, score, kind) of the best shows whose title or a later word starts with ``norm``.

    Ranked by a blend of the typed share of the name and popularity (``year`` lifts shows that
    started then); positions in ``seen`` are skipped, the chosen ones added to it.
    """
    lo = bisect.bisect_left(tables.keys, norm)
    hi = bisect.bisect_left(tables.keys, norm + "\U0010ffff", lo)
    if lo == hi:
        return []
    pos = tables.key_pos[lo:hi]
    kind = tables.key_kind[lo:hi]
    # Share of the name typed: "brea" is more of "bread" than of "breaking bad".
    coverage = np.minimum(1.0, len(norm) / tables.key_name_len[lo:hi])
    quality = np.where(kind == KIND_START, 0.7 + 0.3 * coverage, 0.55 + 0.3 * coverage)
    rank = (1 - PREFIX_POPULARITY_WEIGHT) * quality + PREFIX_POPULARITY_WEIGHT * tables.pop[pos]
    if year is not None:
        starts = np.asarray([rows[p].start_year == year for p in pos.tolist()], dtype=bool)
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
    found: list[tuple[int, float, MatchKind]] = []
    for i in chosen.tolist():
        p = int(pos[i])
        seen.add(p)
        label: MatchKind = "prefix" if kind[i] == KIND_START else "word"
        found.append((p, float(100.0 * quality[i]), label))
    return found


def typo_scores(tables: Tables, norm: str, cutoff: float) -> np.ndarray:
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
    if cut <= MAX_TRUNCATED_CACHE:
        scores = np.where(tables.name_len > cut, scores * FUZZY_PREFIX_FACTOR, scores)
        scores[scores < cutoff] = 0.0
    return scores


def ranked_fuzzy(
    tables: Tables,
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
