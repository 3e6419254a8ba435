"""Refining a list in place: the links behind "more like this", "not for me" and the chips.

Every refinement is a plain ``GET /recommend?show=…&exclude=…`` address, so the results page
works without JavaScript, its address carries the shows (back/forward and sharing just work),
and results.js only fetches the next address and swaps the list in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from nextshow.schemas.common import MAX_EXCLUDE, MAX_SHOWS
from nextshow.schemas.shows import ShowRef

# How the catalogue's IMDb title types read on a card (others are shown as they are).
TYPE_LABELS = {
    "tvSeries": "series",
    "tvMiniSeries": "mini-series",
    "movie": "film",
    "tvMovie": "TV film",
}


def type_label(title_type: str | None) -> str:
    return TYPE_LABELS.get(title_type, title_type) if title_type else ""


def show_ref(show: ShowRef) -> str:
    """The text that names ``show`` to the matcher exactly: its IMDb id, else "Title (Year)"."""
    if show.imdb_id:
        return show.imdb_id
    return f"{show.title} ({show.start_year})" if show.start_year else show.title


def show_label(show: ShowRef) -> str:
    return f"{show.title} ({show.start_year})" if show.start_year else show.title


def recommend_url(shows: Sequence[str], exclude: Iterable[int] = ()) -> str:
    """The results address for ``shows`` without the ``exclude`` show ids (the newest kept)."""
    if not shows:
        return "/"
    # Each id once, at its latest place: the newest exclusions are the ones kept.
    kept = list(dict.fromkeys(reversed(list(exclude))))[::-1][-MAX_EXCLUDE:]
    query = [("show", s) for s in shows] + [("exclude", str(i)) for i in kept]
    return "/recommend?" + urlencode(query)


def unique_shows(shows: Iterable[ShowRef]) -> list[ShowRef]:
    """Each show once, in first-named order (one show typed three ways counts once)."""
    first: dict[int, ShowRef] = {}
    for show in shows:
        first.setdefault(show.id, show)
    return list(first.values())


def refine_context(
    liked: Sequence[ShowRef], recommendations: Sequence[Any], exclude: Sequence[int] = ()
) -> dict[str, Any]:
    """What results.html needs to refine: the liked shows as chips, and each card's links."""
    refs = [show_ref(s) for s in liked]
    chips = [
        {
            "id": s.id,
            "ref": ref,
            "label": show_label(s),
            "remove_url": recommend_url([r for r in refs if r != ref], exclude),
        }
        for s, ref in zip(liked, refs, strict=True)
    ]
    actions = {}
    for rec in recommendations:
        ref = show_ref(rec)
        # Five shows at most: the oldest makes room for the newest.
        more = [*[r for r in refs if r != ref], ref][-MAX_SHOWS:]
        actions[rec.id] = {
            "ref": ref,
            "more_url": recommend_url(more, exclude),
            "drop_url": recommend_url(refs, [*exclude, rec.id]),
        }
    return {
        "chips": chips,
        "actions": actions,
        "exclude": list(exclude),
        "can_add": len(refs) < MAX_SHOWS,
        "self_url": recommend_url(refs, exclude),
    }
