"""Watching together: match every member's shows, score each member alone, rank for the group.

Each member is scored with the serving model exactly as a single person would be (their own
likes only); :mod:`nextshow.recommenders.group` turns those rows into one ranking. A member
whose likes the model does not know (new shows), and every member when no model is promoted,
is scored by popularity instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nextshow.catalog.matching import TitleIndex
from nextshow.recommenders.group import rank_group
from nextshow.schemas.group import (
    GroupCreate,
    GroupRecommendation,
    GroupRecommendations,
    MemberFit,
    MemberMatches,
)
from nextshow.schemas.predictions import ModelInfo
from nextshow.schemas.shows import ShowRef
from nextshow.service.holder import ServingModel
from nextshow.service.problems import ProblemError
from nextshow.service.recommend import liked_ids, match_inputs


@dataclass(frozen=True)
class MemberScores:
    """Scores (members x shows) over ``show_ids``; each member's because per show id."""

    show_ids: np.ndarray
    scores: np.ndarray
    because: list[dict[int, tuple[int, ...]]]
    fallback: bool


def member_scores(model: ServingModel, liked: Sequence[Sequence[int]]) -> MemberScores:
    """Each member's own scores over the model's shows; ``-inf`` on that member's likes."""
    recommender = model.recommender
    show_ids = model.vocabulary.show_ids if recommender is not None else None
    if show_ids is None or len(show_ids) == 0:
        show_ids = np.array([p.show_id for p in model.popular], dtype=np.int64)
    column = {int(s): i for i, s in enumerate(show_ids)}
    popular = np.zeros(len(show_ids))
    for p in model.popular:
        if p.show_id in column:
            popular[column[p.show_id]] = p.score
    scores = np.empty((len(liked), len(show_ids)))
    because: list[dict[int, tuple[int, ...]]] = []
    fallback = True
    for m, member_likes in enumerate(liked):
        found = model.vocabulary.lookup(member_likes, unknown="report") if recommender else None
        because.append({})
        if recommender is not None and found is not None and len(found.indices):
            fallback = False
            scores[m] = -np.inf  # recommend() leaves out only this member's likes
            for rec in recommender.recommend(found.indices, n=len(show_ids)):
                scores[m, rec.show] = rec.score
                because[m][int(show_ids[rec.show])] = tuple(int(show_ids[b]) for b in rec.because)
        else:
            scores[m] = popular
            scores[m, [column[s] for s in member_likes if s in column]] = -np.inf
    return MemberScores(show_ids, scores, because, fallback)


def reason(name: str, because: Sequence[ShowRef], fallback: bool) -> str:
    """One member's line on a card: 'Sam: because you liked The Office and Fargo'."""
    if because:
        titles = [b.title for b in because]
        liked = titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} and {titles[-1]}"
        return f"{name}: because you liked {liked}"
    return f"{name}: popular with everyone" if fallback else f"{name}: not linked to your shows"


def recommend_group(
    model: ServingModel, index: TitleIndex, body: GroupCreate
) -> GroupRecommendations:
    """The group's answer; a 422 naming the first member none of whose shows is known."""
    names = body.labels()
    members = [
        MemberMatches(name=name, matches=match_inputs(index, member.shows))
        for name, member in zip(names, body.members, strict=True)
    ]
    liked = [liked_ids(member.matches) for member in members]
    for member, likes in zip(members, liked, strict=True):
        if not likes:
            raise ProblemError(
                422,
                f"none of {member.name}'s shows could be identified: pick one of the candidates",
                kind="no-match",
                member=member.name,
                matches=[m.model_dump(mode="json") for m in member.matches],
            )
    scored = member_scores(model, liked)
    # Rank a few extra: a show deleted since the model was loaded has no details to show.
    ranking = rank_group(scored.scores, body.n + 5, body.strategy)
    details = model.details
    recommendations = []
    for col, score, fits in zip(ranking.shows, ranking.score, ranking.fit.T, strict=True):
        show_id = int(scored.show_ids[col])
        if show_id not in details or len(recommendations) == body.n:
            continue
        fit_of = []
        for m, name in enumerate(names):
            refs = [
                ShowRef.model_validate(details[b])
                for b in scored.because[m].get(show_id, ())
                if b in details
            ]
            fit_of.append(
                MemberFit(
                    name=name,
                    fit=round(float(fits[m]), 4),
                    because=refs,
                    reason=reason(name, refs, scored.fallback),
                )
            )
        recommendations.append(
            GroupRecommendation(
                **details[show_id].model_dump(exclude={"imdb_url"}),
                score=round(float(score), 4),
                members=fit_of,
            )
        )
    info = ModelInfo(version=model.version_id, name=model.name, fallback=scored.fallback)
    return GroupRecommendations(
        strategy=body.strategy, members=members, recommendations=recommendations, model=info
    )
