"""From typed titles to an answer: match inputs, recommend, describe the shows.

Shared by the synchronous route and the worker, so both paths answer the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.orm import Session

from nextshow.catalog.matching import Hit, MatchResult, TitleIndex, resolve_or_create
from nextshow.service.holder import ServingModel

MAX_CANDIDATES = 5


def _ref(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.show_id,
        "title": hit.title,
        "start_year": hit.start_year,
        "imdb_id": hit.imdb_id,
    }


def describe_match(index: TitleIndex, result: MatchResult) -> dict[str, Any]:
    """An ``InputMatch`` body for one matcher result."""
    show = None
    if result.show_id is not None:
        hit = next((c for c in result.candidates if c.show_id == result.show_id), None)
        hit = hit or index.hit_for(result.show_id)
        show = (
            _ref(hit) if hit else {"id": result.show_id, "title": result.title, "start_year": None}
        )
    candidates = [] if show else [_ref(c) for c in result.candidates[:MAX_CANDIDATES]]
    return {"input": result.query, "status": result.status, "show": show, "candidates": candidates}


def match_inputs(
    index: TitleIndex,
    texts: Sequence[str],
    *,
    session: Session | None = None,
    create_new: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Resolve each text; with a ``session``, unknown titles become user-submitted shows, and so
    do the texts in ``create_new`` even when they only resemble a known title.

    The caller commits that session (new shows join the index on commit).
    """
    out = []
    for text in texts:
        try:
            if session is None:
                result = index.match(text)
            else:
                result = resolve_or_create(
                    session, index, text, create_when_fuzzy=text in create_new
                )
        except ValueError:
            # Text the matcher refuses (no letter or digit at all): it names no show.
            out.append({"input": text, "status": "not_found", "show": None, "candidates": []})
            continue
        out.append(describe_match(index, result))
    return out


def liked_ids(matches: Sequence[dict[str, Any]]) -> list[int]:
    """Show ids of the inputs that count as likes (matched or created), without repeats."""
    seen: dict[int, None] = {}
    for match in matches:
        if match["status"] in ("matched", "created") and match["show"]:
            seen.setdefault(int(match["show"]["id"]), None)
    return list(seen)


def answer(model: ServingModel, liked: Sequence[int], n: int) -> dict[str, Any]:
    """Recommendations (``RecommendedShow`` bodies) and the ``ModelInfo`` that made them."""
    scored, used_fallback = model.recommend(liked, n)
    details = model.details
    recommendations = []
    for item in scored:
        info = details.get(item.show_id)
        if info is None:  # deleted since the model was loaded: nothing to show for it
            continue
        because = [
            {
                "id": b,
                "title": details[b].title,
                "start_year": details[b].start_year,
                "imdb_id": details[b].imdb_id,
            }
            for b in item.because
            if b in details
        ]
        recommendations.append({**info.as_dict(), "score": item.score, "because": because})
    return {
        "recommendations": recommendations,
        "model": {"version": model.version_id, "name": model.name, "fallback": used_fallback},
    }
