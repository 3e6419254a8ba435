"""Reasons in service answers: contributors, popularity said plainly, nothing known."""

from __future__ import annotations

import numpy as np

from nextshow.recommenders import ShowMetadata, create
from nextshow.recommenders.vocabulary import ShowVocabulary
from nextshow.schemas.shows import ShowPublic
from nextshow.service.holder import Scored, ServingModel
from nextshow.service.recommend import NOTHING_KNOWN, answer
from tests.recommenders.conftest import LIKED, build

IDS = np.arange(100, 108, dtype=np.int64)  # database id of each model column
META = ShowMetadata(show_ids=IDS)
DETAILS = {int(i): ShowPublic(id=int(i), title=f"Show {i - 100}") for i in IDS}


def _serving(model) -> ServingModel:
    popular = tuple(Scored(int(i), 1.0 - k / 10) for k, i in enumerate(IDS))
    return ServingModel(
        version_id=None if model is None else 1,
        name="fallback" if model is None else model.name,
        recommender=model,
        vocabulary=ShowVocabulary(IDS) if model is None else model.vocabulary_,
        popular=popular,
        details=DETAILS,
    )


def test_personal_model_names_only_contributing_liked_shows_largest_first() -> None:
    likes, stamps = build(LIKED)
    model = create("itemknn", k=5).fit(likes, META, stamps)
    found = answer(_serving(model), [100, 107], 4)  # columns 0 and 7
    assert found.notice is None
    for rec in found.recommendations:
        assert rec.reason_kind == "because"
        column = rec.id - 100
        contrib = {b: model.similarity_[b - 100, column] for b in (100, 107)}
        named = [b.id for b in rec.because]
        assert named and all(contrib[b] > 0 for b in named)  # never a show that gave nothing
        assert named == sorted(named, key=lambda b: -contrib[b])
        assert rec.reason.startswith("Because you liked ")


def test_popularity_heavy_scores_say_popular_with_the_top_contributor() -> None:
    likes, stamps = build(LIKED)
    model = create("time-aware", pop_weight=50.0, k=5).fit(likes, META, stamps)
    found = answer(_serving(model), [100], 3)
    assert found.recommendations
    for rec in found.recommendations:
        assert rec.reason_kind == "popular"
        assert len(rec.because) <= 1
        assert rec.reason.startswith("Popular this month")


def test_nothing_known_is_the_most_popular_list_and_says_so() -> None:
    found = answer(_serving(None), [999], 3)
    assert found.model.fallback is True
    assert found.notice == NOTHING_KNOWN
    assert [r.reason_kind for r in found.recommendations] == ["most-popular"] * 3
    assert all(not r.because and "because" not in r.reason.lower() for r in found.recommendations)
