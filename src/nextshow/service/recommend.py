"""From typed titles to an answer: match inputs, recommend, describe the shows.

Shared by the synchronous route and the worker, so both paths answer the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.orm import Session

from nextshow.catalog.matching import MatchResult, TitleIndex, resolve_or_create, would_create
from nextshow.recommenders.reasons import Reason, nothing_known, reason_for
from nextshow.schemas.predictions import (
    InputMatch,
    MatchPreview,
    ModelInfo,
    RecommendationPublic,
    Recommendations,
)
from nextshow.schemas.shows import ShowRef
from nextshow.service.holder import Scored, ServingModel

MAX_CANDIDATES = 5
MEMO_SIZE = 10_000  # remembered matches of typed texts, per index version


def describe_match(index: TitleIndex, result: MatchResult) -> InputMatch:
    """What the matcher made of one input."""
    show = None
    if result.show_id is not None:
        hit = next((c for c in result.candidates if c.show_id == result.show_id), None)
        hit = hit or index.hit_for(result.show_id)
        show = (
            ShowRef.model_validate(hit) if hit else ShowRef(id=result.show_id, title=result.title)
        )
    candidates = [] if show else result.candidates[:MAX_CANDIDATES]
    return InputMatch(
        input=result.query,
        status=result.status,
        show=show,
        candidates=[ShowRef.model_validate(c) for c in candidates],
    )


def _resolve(
    index: TitleIndex, text: str, session: Session | None, create_new: Collection[str]
) -> MatchResult | None:
    """The matcher's answer for one text (creating the show with a ``session``); None for text
    the matcher refuses (no letter or digit at all): it names no show."""
    try:
        if session is None:
            return index.match(text)
        return resolve_or_create(session, index, text, create_when_fuzzy=text in create_new)
    except ValueError:
        return None


def match_inputs(
    index: TitleIndex,
    texts: Sequence[str],
    *,
    session: Session | None = None,
    create_new: Collection[str] = (),
) -> list[InputMatch]:
    """Resolve each text; with a ``session``, unknown titles become user-submitted shows, and so
    do the texts in ``create_new`` even when they only resemble a known title.

    The caller commits that session (new shows join the index on commit).
    """
    # Without a session nothing is created, so a text matches the same way until the index
    # changes: remembered in the index's memo (read-only matches are shared, never modified).
    memo = index.memo() if session is None else {}
    out = []
    for text in texts:
        found = memo.get(("input", text))
        if found is None:
            result = _resolve(index, text, session, create_new)
            found = (
                InputMatch(input=text, status="not_found")
                if result is None
                else describe_match(index, result)
            )
            if session is None:
                if len(memo) >= MEMO_SIZE:  # typed text is unbounded: start over, not grow
                    memo.clear()
                memo[("input", text)] = found
        out.append(found)
    return out


def may_create(matches: Sequence[InputMatch], create_new: Collection[str] = ()) -> bool:
    """Whether matching the same texts with a session might create a show: some input is
    unknown (or, when in ``create_new``, only resembles a known title). Without one, the
    matches made without a session are final."""
    return any(
        m.status == "not_found" or (m.status == "fuzzy" and m.input in create_new) for m in matches
    )


def preview_match(index: TitleIndex, text: str, *, add: bool = False) -> MatchPreview:
    """What ``POST /api/predictions`` would decide for ``text`` (the same matcher and creation
    rule), without creating anything: ``will_add`` says an unknown title would become a new
    show. ``add`` is the "none of these" answer (the text is in ``add_shows``)."""
    result = _resolve(index, text, None, ())
    if result is None:
        return MatchPreview(input=text, status="not_found", will_add=False)
    described = describe_match(index, result)
    return MatchPreview(
        **described.model_dump(), will_add=would_create(result, create_when_fuzzy=add)
    )


def liked_ids(matches: Sequence[InputMatch]) -> list[int]:
    """Show ids of the inputs that count as likes (matched or created), without repeats."""
    seen: dict[int, None] = {}
    for match in matches:
        if match.liked and match.show is not None:
            seen.setdefault(match.show.id, None)
    return list(seen)


NOTHING_KNOWN = (
    "None of the shows you typed is known yet, so these are the most popular shows, "
    "not picks based on your taste."
)


def _reason(item: Scored, used_fallback: bool) -> Reason:
    if used_fallback:
        return nothing_known()
    return reason_for(item.because, item.popularity_share, words=item.reason)


def answer(
    model: ServingModel, liked: Sequence[int], n: int, exclude: Collection[int] = ()
) -> Recommendations:
    """Recommendations for the liked shows with their reasons, and the model that made them.

    ``because`` holds exactly the shows the reason names (see ``recommenders.reasons``). Shows in
    ``exclude`` (turned down with "not for me") are left out and the next ones take their places.
    """
    return answers(model, [(liked, n, exclude)])[0]


def answers(
    model: ServingModel, asks: Sequence[tuple[Sequence[int], int, Collection[int]]]
) -> list[Recommendations]:
    """:func:`answer` for each (liked, n, exclude), scored in one batch (the worker's)."""
    skips = [set(exclude) - set(liked) for liked, _, exclude in asks]  # liked: never offered
    ns = [n + len(skip) for (_, n, _), skip in zip(asks, skips, strict=True)]
    scored = model.recommend_many([liked for liked, _, _ in asks], ns)
    return [
        _recommendations(model, [i for i in items if i.show_id not in skip][:n], used_fallback)
        for (_, n, _), skip, (items, used_fallback) in zip(asks, skips, scored, strict=True)
    ]


def _recommendations(
    model: ServingModel, scored: Sequence[Scored], used_fallback: bool
) -> Recommendations:
    details = model.details
    # The shows' parts are built once per model version (see ServingModel.public_fields).
    recommendations = []
    for item in scored:
        if item.show_id not in details:  # deleted since the model was loaded: nothing to show
            continue
        reason = _reason(item, used_fallback)
        titles = {b: details[b].title for b in reason.shows if b in details}  # only those named
        recommendations.append(
            RecommendationPublic(
                **model.public_fields(item.show_id),
                score=float(item.score),
                because=[model.show_ref(b) for b in reason.shows if b in details],
                reason_kind=reason.kind,
                reason=reason.text(titles),
            )
        )
    info = ModelInfo(version=model.version_id, name=model.name, fallback=used_fallback)
    notice = NOTHING_KNOWN if used_fallback else None
    return Recommendations(recommendations=recommendations, model=info, notice=notice)
