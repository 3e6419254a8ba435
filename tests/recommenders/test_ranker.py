"""The learned re-ranker: trees as arrays, features, learning from later likes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nextshow.recommenders import create
from nextshow.recommenders.base import liked_rows, top_n, top_n_rows
from nextshow.recommenders.boosting import (
    boosting_decision,
    constant_boosting,
    export_boosting,
    fit_boosting,
)
from nextshow.recommenders.discovery import GUARD, interleave
from nextshow.recommenders.item_similarity import dense_scores
from nextshow.recommenders.ranker import with_prior
from nextshow.recommenders.ranker_features import (
    FEATURES,
    RECENT_COLUMN,
    SHOW_FEATURES,
    WINDOW_COLUMN,
    pair_features,
    show_features,
)
from nextshow.recommenders.similarity import normalise_candidates
from tests.recommenders.conftest import DAY, DAY0, TINY_PARAMS


def test_boosting_arrays_predict_like_sklearn_with_missing_values() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(42)
    X = rng.normal(size=(600, 4))
    X[rng.random(X.shape) < 0.15] = np.nan
    y = ((np.nan_to_num(X[:, 0]) + X[:, 1] > 0.2) | np.isnan(X[:, 2])).astype(int)
    model = HistGradientBoostingClassifier(max_iter=12, random_state=42).fit(X, y)
    X_new = rng.normal(size=(200, 4))
    X_new[rng.random(X_new.shape) < 0.15] = np.nan
    got = boosting_decision(export_boosting(model), X_new)
    np.testing.assert_allclose(got, model.decision_function(X_new), rtol=0, atol=1e-12)
    # any batch of rows gives the same numbers, one row alone too, and a column-major copy
    np.testing.assert_array_equal(boosting_decision(export_boosting(model), X_new[:7]), got[:7])
    np.testing.assert_array_equal(boosting_decision(export_boosting(model), X_new[3:4]), got[3:4])
    np.testing.assert_array_equal(boosting_decision(export_boosting(model), X_new.T.copy().T), got)


def test_boosting_sends_missing_values_to_the_learned_side_by_hand() -> None:
    """Tree 0 (the saved first, one level): x0 <= inf left (+1), NaN right (+2). Tree 1 (two
    levels, walked first): x1 <= 0.5 left, NaN left too; then x0 <= -1 left (+10), else and
    right of the root +20 (one shared leaf, fine for a walk)."""
    trees = {
        "gb_left": np.array([1, -1, -1, 4, 5, -1, -1]),
        "gb_right": np.array([2, -1, -1, 6, 6, -1, -1]),
        "gb_feature": np.array([0, 0, 0, 1, 0, 0, 0]),
        "gb_threshold": np.array([np.inf, 0, 0, 0.5, -1.0, 0, 0]),
        "gb_missing_left": np.array([False, False, False, True, False, False, False]),
        "gb_value": np.array([0, 1, 2, 0, 0, 10, 20]),
        "gb_roots": np.array([0, 3]),
        "gb_baseline": np.array([0.5, 2.0]),
    }
    X = np.array([[-2.0, 0.0], [np.nan, np.nan], [0.0, 1.0], [np.inf, np.nan], [-np.inf, 0.5]])
    want = 0.5 + np.array([1 + 10, 2 + 20, 1 + 20, 1 + 20, 1 + 10])
    np.testing.assert_array_equal(boosting_decision(trees, X), want)


def test_boosting_refuses_wrong_width_and_handles_one_class() -> None:
    trees = fit_boosting(
        np.zeros((5, 3)),
        np.zeros(5, dtype=int),
        max_iter=3,
        learning_rate=0.1,
        max_leaf_nodes=4,
        min_samples_leaf=1,
        l2=0.0,
    )
    assert boosting_decision(trees, np.ones((2, 3))).tolist() == [-1.0, -1.0]
    with pytest.raises(ValueError, match="3 features"):
        boosting_decision(constant_boosting(3, 0.0), np.ones((2, 4)))


def test_show_features_by_hand(tiny, metadata) -> None:
    likes, stamps = tiny
    feats = show_features(likes, stamps, metadata)
    assert feats.shape == (8, len(SHOW_FEATURES))
    counts = np.asarray(likes.sum(axis=0)).ravel()
    np.testing.assert_allclose(feats[:, 0], np.log1p(counts) - np.log1p(counts.max()))
    # s7 is first liked by u6, as its third like (day 3*6 + 2 = 20); the newest like is u9's
    # third (day 3*9 + 2 = 29): 9 days.
    assert feats[7, SHOW_FEATURES.index("days_since_first_like")] == pytest.approx(9.0)
    # start year 0 is unknown -> NaN; IMDb rating NaN stays NaN; votes 0 -> NaN.
    assert np.isnan(feats[3, SHOW_FEATURES.index("release_age")])
    assert np.isnan(feats[2, SHOW_FEATURES.index("imdb_rating")])
    assert np.isnan(feats[2, SHOW_FEATURES.index("log_imdb_votes")])
    # without timestamps the recent counts are the all-time counts and ages are unknown
    untimed = show_features(likes, None, metadata)
    np.testing.assert_allclose(untimed[:, 2], untimed[:, 0])
    assert np.isnan(untimed[:, SHOW_FEATURES.index("days_since_first_like")]).all()


def _trend_data() -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """60 users, 12 shows. Shows 0-5 were popular long ago; shows 6-11 are what people like
    lately. Every user likes two old shows early and two new shows late, so what is liked after
    any cut is always the lately popular shows: a ranker must learn to follow recent likes."""
    rng = np.random.default_rng(42)
    rows, cols, times = [], [], []
    for u in range(60):
        for j, s in enumerate(rng.choice(6, 2, replace=False)):
            rows.append(u), cols.append(int(s)), times.append(DAY0 + (u + j) * DAY)
        for j, s in enumerate(6 + rng.choice(6, 2, replace=False)):
            rows.append(u), cols.append(int(s)), times.append(DAY0 + (100 + u + j) * DAY)
    shape = (60, 12)
    likes = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    stamps = sp.csr_matrix((np.asarray(times, dtype=float), (rows, cols)), shape=shape)
    return likes, stamps


def test_ranker_learns_to_follow_recent_likes() -> None:
    likes, stamps = _trend_data()
    model = create("ranker", n_candidates=6, max_iter=20, min_samples_leaf=5).fit(
        likes, timestamps=stamps
    )
    recs = model.recommend([0, 1], n=4)
    assert {r.show for r in recs} <= set(range(6, 12))
    assert len(model.trees_["gb_roots"]) == 20


def test_ranker_without_timestamps_uses_a_random_label_split(tiny, metadata) -> None:
    likes, _ = tiny
    model = create("ranker", label_split="global-time", n_candidates=4, max_iter=3)
    model.fit(likes, metadata)  # no timestamps: falls back to the random holdout, no error
    assert len(model.recommend([0], n=3)) == 3
    assert len(FEATURES) == model.shows_.shape[1] + 11


def _two_crowds() -> sp.csr_matrix:
    """A small crowd of 20 likes three of shows 0-3; a large one of 60 likes three of 4-7."""
    rng = np.random.default_rng(42)
    rows, cols = [], []
    for u in range(80):
        group = 0 if u < 20 else 4
        for s in group + rng.choice(4, 3, replace=False):
            rows.append(u), cols.append(int(s))
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(80, 8))


def test_ranker_reasons_name_taste_or_the_crowd() -> None:
    model = create("ranker", n_candidates=4, max_iter=20, min_samples_leaf=2, period=100, k=8).fit(
        _two_crowds()
    )
    # Liking the small crowd's shows: its other shows come from taste, not from popularity
    # (someone who liked the most liked shows, 4 and 5, would not be sent there).
    niche = {r.show: r for r in model.recommend([0, 1], n=2)}
    assert set(niche) == {2, 3}
    assert all(r.popularity_share < 0.5 and r.because for r in niche.values())
    # Liking the most liked shows is following the crowd: the answers are what anyone who
    # liked them gets, so popularity carries every one of them (share 1 exactly).
    crowd = model.recommend([4, 5], n=4)
    assert {r.show for r in crowd} >= {6, 7}
    assert [r.popularity_share for r in crowd] == [1.0] * 4


def nanmean_rows(rows: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over each row's liked shows, ignoring NaN (NaN when none is known)."""
    known = np.isfinite(values)
    total = rows @ np.where(known, values, 0.0)
    count = rows @ known.astype(np.float64)
    return np.divide(total, count, out=np.full(rows.shape[0], np.nan), where=count > 0)


def _one_person_at_a_time(rows, candidates, walk, cosine, shows, genres) -> np.ndarray:
    """The features by their definitions, one person at a time (the way they were first built)."""
    n_liked = np.diff(rows.indptr).astype(np.float64)
    liked_pop = nanmean_rows(rows, shows[:, 0])
    liked_recent = nanmean_rows(rows, shows[:, 3])
    liked_age = nanmean_rows(rows, shows[:, 7])
    liked_genres = (rows @ genres).toarray() > 0 if genres.shape[1] else None
    genre_count = np.asarray(genres.sum(axis=1)).ravel()
    blocks = []
    for i, cand in enumerate(candidates):
        liked = rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
        sims = cosine[liked][:, cand].toarray() if len(liked) else np.zeros((1, len(cand)))
        score = walk[i, cand]
        best = score.max(initial=0.0)
        order = np.lexsort((cand, -score))
        rank = np.empty(len(cand))
        rank[order] = np.arange(len(cand)) / max(len(cand), 1)
        if liked_genres is not None:
            hits = np.asarray(genres[cand] @ liked_genres[i].astype(np.float64)).ravel()
            overlap = np.divide(
                hits, genre_count[cand], out=np.full(len(cand), np.nan), where=genre_count[cand] > 0
            )
        else:
            overlap = np.full(len(cand), np.nan)
        pair = np.column_stack(
            [
                score,
                score / best if best > 0 else np.zeros(len(cand)),
                rank,
                sims.sum(axis=0),
                sims.max(axis=0),
                overlap,
                shows[cand, 0] - liked_pop[i],
                shows[cand, 7] - liked_age[i],
                np.full(len(cand), np.log1p(n_liked[i])),
                np.full(len(cand), liked_pop[i]),
                np.full(len(cand), liked_recent[i]),
            ]
        )
        blocks.append(np.hstack([shows[cand], pair]))
    return np.vstack(blocks) if blocks else np.zeros((0, len(FEATURES)))


def test_pair_features_equal_their_per_person_definition() -> None:
    from nextshow.recommenders.similarity import cosine_similarity, top_k_per_row

    rng = np.random.default_rng(42)
    likes = sp.csr_matrix((rng.random((40, 30)) < 0.2).astype(np.float64))
    cosine = top_k_per_row(cosine_similarity(likes, 2.0), 5)
    shows = rng.normal(size=(30, len(SHOW_FEATURES)))
    shows[rng.random(shows.shape) < 0.1] = np.nan
    genres = sp.csr_matrix((rng.random((30, 6)) < 0.3).astype(np.float64))
    nobody = np.arange(12) == 3  # person 3 likes nothing
    rows = sp.csr_matrix(likes[:12].multiply(~nobody[:, None]))
    rows.eliminate_zeros()  # an indicator: every stored entry is a liked show
    walk = np.where(rng.random((12, 30)) < 0.5, rng.random((12, 30)), 0.0)
    walk[5] = 0.0  # a walk that reaches nothing
    cands = [np.sort(rng.choice(30, int(rng.integers(0, 9)), replace=False)) for _ in range(12)]
    cands[7] = np.zeros(0, dtype=np.int64)
    for g in (genres, sp.csr_matrix((30, 0))):
        got = pair_features(rows, cands, walk, cosine, shows, g)
        want = _one_person_at_a_time(rows, cands, walk, cosine, shows, g)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_candidates_are_each_generators_best_unliked_shows() -> None:
    from nextshow.recommenders.base import liked_rows, top_n
    from nextshow.recommenders.item_similarity import dense_scores
    from nextshow.recommenders.ranker_features import RECENT_COLUMN

    likes, stamps = _trend_data()
    model = create("ranker", n_candidates=3, max_iter=5, min_samples_leaf=5).fit(
        likes, timestamps=stamps
    )
    people = [[0, 1], [], [6, 7, 8, 9, 10], list(range(12)), [11]]
    rows = liked_rows(people, 12)
    walk = dense_scores(rows, model.walk_)
    walk[0, 2] = 0.0  # a show the walk does not reach is never a walk candidate
    got = model._candidates(rows, walk)
    recent = model.shows_[:, RECENT_COLUMN] + 1e-6 * model.shows_[:, 0]
    for i, liked in enumerate(people):
        personal = walk[i].copy()
        personal[liked] = -np.inf
        personal[personal <= 0] = -np.inf
        popular = [int(s) for s in top_n(recent, 12) if s not in liked][:3]
        want = np.union1d(top_n(personal, 3), popular)
        np.testing.assert_array_equal(got[i], want)
    assert len(got[3]) == 0  # liked everything: nothing left to propose


def test_with_prior_by_hand() -> None:
    proba, window = np.array([0.2, 0.3]), np.array([1.0, 0.5])
    np.testing.assert_allclose(with_prior(proba, window, 0.0), [0.2, 0.3])  # the trees alone
    np.testing.assert_allclose(with_prior(proba, window, 1.0), [0.2, 0.15])  # order flips
    np.testing.assert_allclose(with_prior(proba, window, 2.0), [0.2, 0.075])


def test_ranker_prior_weighs_p_liked_by_last_weeks_likes(tiny) -> None:
    likes, stamps = tiny
    params = {**TINY_PARAMS["ranker"], "period": 1000}  # no pick within the list
    plain = create("ranker", prior=0.0, **params).fit(likes, timestamps=stamps)
    weighted = create("ranker", prior=1.0, **params).fit(likes, timestamps=stamps)
    # The newest like is day 29; days 22-29 hold s0: u8; s1: u8, u9; s2: u7; s3: u8; s4: u9;
    # s6: u7, u9; s7: u7, u8. (1 + likes) / (1 + the top show's 2):
    window = np.array([2, 3, 2, 2, 2, 1, 3, 3]) / 3
    np.testing.assert_allclose(np.exp(weighted.shows_[:, WINDOW_COLUMN]), window)
    # The prior only weighs the scores: the same trees, candidates ordered by P x window.
    for key, value in plain.trees_.items():
        np.testing.assert_array_equal(weighted.trees_[key], value)
    (cand,), X = plain._pairs(liked_rows([[0]], 8))
    proba = 1.0 / (1.0 + np.exp(-boosting_decision(plain.trees_, X)))
    by_trees = cand[np.lexsort((cand, -proba))].tolist()
    by_both = cand[np.lexsort((cand, -proba * window[cand]))].tolist()
    assert by_both != by_trees  # the case is one where the prior changes the order
    assert [r.show for r in plain.recommend([0], n=len(cand))] == by_trees
    assert [r.show for r in weighted.recommend([0], n=len(cand))] == by_both


def test_a_ranker_saved_before_picks_and_prior_is_served_as_it_was(tmp_path, tiny) -> None:
    import dataclasses

    from nextshow.recommenders.artifact import read_artifact
    from nextshow.recommenders.ranker import NO_PICKS, Ranker

    likes, stamps = tiny
    params = {k: v for k, v in TINY_PARAMS["ranker"].items() if k not in ("period", "prior")}
    create("ranker", **params).fit(likes, timestamps=stamps).save(tmp_path / "m")
    art = read_artifact(tmp_path / "m")
    old = {k: v for k, v in art.params.items() if k not in ("period", "taste", "prior")}
    model = Ranker.from_artifact(dataclasses.replace(art, params=old), tmp_path / "m")
    assert (model.period, model.prior) == (NO_PICKS, 0.0)  # no picks, the trees alone
    assert not model._interleaved(liked_rows([[0]], 8)).is_pick.any()
    fresh = Ranker.from_artifact(art, tmp_path / "m")  # a new artifact keeps its own values
    assert (fresh.period, fresh.prior) == (art.params["period"], art.params["prior"])


def _interleave_by_sorting(
    head: np.ndarray, picks: np.ndarray, period: int, guard: int
) -> tuple[np.ndarray, np.ndarray]:
    """The definition interleave keeps: both lists ranked by a full stable sort of every show."""

    def ranks(scores: np.ndarray) -> np.ndarray:
        order = np.argsort(-scores, axis=1, kind="stable")
        out = np.empty_like(order)
        np.put_along_axis(out, order, np.arange(scores.shape[1])[np.newaxis, :], axis=1)
        return out

    head_rank = ranks(head)
    head_place = head_rank + head_rank // (period - 1)
    candidates = np.where(head_rank < guard, -np.inf, picks)
    pick_place = (ranks(candidates) + 1) * period - 1
    is_pick = np.isfinite(candidates) & (candidates > 0) & (pick_place < head_place)
    return 1.0 / (1.0 + np.where(is_pick, pick_place, head_place)), is_pick


def test_interleave_sorts_only_the_picks_and_equals_the_full_sort() -> None:
    """Tied head and pick scores, zero and negative picks, -inf (liked) shows in both."""
    rng = np.random.default_rng(42)
    head = rng.integers(0, 6, size=(40, 90)).astype(np.float64)
    picks = rng.integers(-1, 4, size=(40, 90)).astype(np.float64)
    liked = rng.random(head.shape) < 0.1
    head[liked], picks[liked] = -np.inf, -np.inf
    for period, guard in ((2, 0), (3, 5), (10, 50), (1000, 0)):
        got = interleave(head, picks, period, guard)
        want = _interleave_by_sorting(head, picks, period, guard)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def _scored_as_before(model, rows: sp.csr_matrix) -> tuple[list[np.ndarray], np.ndarray, tuple]:
    """The ranker's candidates and interleaved lists as first written: the popularity generator
    by top_n and a column slice of the rows, the head and the picks full matrices, both ranked
    by a full sort."""
    shows = model.shows_
    n_shows = rows.shape[1]
    walk = dense_scores(rows, model.walk_)
    recent_key = shows[:, RECENT_COLUMN] + 1e-6 * shows[:, 0]
    popular = top_n(recent_key, model.n_candidates + int(np.diff(rows.indptr).max(initial=0)))
    unliked = rows[:, popular].toarray() == 0
    unliked &= np.cumsum(unliked, axis=1) <= model.n_candidates
    personal = np.array(walk)
    personal[rows.nonzero()] = -np.inf
    personal[personal <= 0] = -np.inf
    walked = top_n_rows(personal, model.n_candidates, overwrite=True)
    who_p, at_p = np.nonzero(unliked)
    who_w, at_w = np.nonzero(walked >= 0)
    pairs = np.unique(
        np.concatenate([who_p * n_shows + popular[at_p], who_w * n_shows + walked[who_w, at_w]])
    )
    person, show = np.divmod(pairs, n_shows)
    cands = np.split(show, np.searchsorted(person, np.arange(1, rows.shape[0])))
    X = pair_features(rows, cands, walk, model.cosine_, shows, model.genres_)
    proba = model._weighed(cands, X)
    recent = np.exp(shows[:, RECENT_COLUMN])
    head = np.tile(0.999 * recent, (rows.shape[0], 1))
    start = 0
    for i, cand in enumerate(cands):
        head[i, cand] = 2.0 + proba[start : start + len(cand)]
        start += len(cand)
    reach = normalise_candidates(walk, rows, "max")
    picks = np.where(reach > 0, reach**model.taste, 0.0) * recent[np.newaxis, :]
    liked = rows.nonzero()
    head[liked], picks[liked] = -np.inf, -np.inf
    return cands, proba, _interleave_by_sorting(head, picks, model.period, GUARD)


def _assert_scored_as_before(model, liked_lists: list[np.ndarray]) -> None:
    rows = liked_rows(liked_lists, model.n_shows_)
    cands, proba, (scores, is_pick) = _scored_as_before(model, rows)
    got = model._interleaved(rows)
    # the cosine features as scipy computes them: the product, the largest of the liked rows
    _, X = model._pairs(rows)
    person = np.repeat(np.arange(len(cands)), [len(c) for c in cands])
    flat = np.concatenate(cands)
    summed = (rows @ model.cosine_).toarray()
    np.testing.assert_array_equal(X[:, FEATURES.index("cosine_sum")], summed[person, flat])
    largest = np.array(
        [
            model.cosine_[liked].toarray().max(axis=0) if len(liked) else np.zeros(rows.shape[1])
            for liked in liked_lists
        ]
    )
    np.testing.assert_array_equal(X[:, FEATURES.index("cosine_max")], largest[person, flat])
    for mine, theirs in zip(got.cands, cands, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(got.proba, proba)
    np.testing.assert_array_equal(got.scores, scores)
    np.testing.assert_array_equal(got.is_pick, is_pick)
    for i, liked in enumerate(liked_lists[:5]):  # each person alone: the same row
        alone = model._interleaved(liked_rows([liked], model.n_shows_))
        np.testing.assert_array_equal(alone.cands[0], cands[i])
        np.testing.assert_array_equal(alone.scores[0], scores[i])
        np.testing.assert_array_equal(alone.is_pick[0], is_pick[i])
    # one person alone gets the same list, reasons and shares as in any batch
    for liked, batch in zip(
        liked_lists[:5], model.recommend_batch(liked_lists[:5], n=12), strict=True
    ):
        assert model.recommend(liked, n=12) == batch


def test_ranker_serving_path_equals_the_full_sort_on_tiny_data(tiny, metadata) -> None:
    likes, stamps = tiny
    model = create("ranker", **TINY_PARAMS["ranker"], period=3).fit(likes, metadata, stamps)
    _assert_scored_as_before(model, [np.array(row) for row in [[0], [1, 4], [2, 3, 7], []]])


def test_ranker_serving_path_equals_the_full_sort_on_synthetic_data() -> None:
    """A seeded synthetic set of 300 shows; people who liked 1 to 8 shows, popular and not."""
    from nextshow.synthetic import generate

    data = generate(n_ratings=20_000, n_users=3_000, n_shows=300)
    likes, stamps = data.likes()
    model = create("ranker", max_iter=20, n_users=500).fit(likes, data.metadata(), stamps)
    rng = np.random.default_rng(42)
    liked_lists = [
        np.sort(rng.choice(300, size=int(rng.integers(1, 9)), replace=False)) for _ in range(60)
    ]
    _assert_scored_as_before(model, liked_lists)
    assert model._interleaved(liked_rows(liked_lists, 300)).is_pick.any()  # picks are exercised


def test_a_small_batch_is_scored_once_reasons_included(monkeypatch, tiny) -> None:
    likes, stamps = tiny
    model = create("ranker", **TINY_PARAMS["ranker"]).fit(likes, timestamps=stamps)
    people = [[2, 0], [1, 4], [7]]
    alone = [model.recommend(liked, n=4) for liked in people]
    calls = []
    scored = model._interleaved
    monkeypatch.setattr(
        model, "_interleaved", lambda rows: calls.append(rows.shape) or scored(rows)
    )
    # A worker's batch: one scoring for all three, whose reasons (popularity shares) reuse it,
    # whatever order each person's shows come in.
    assert model.recommend_batch(people, n=4) == alone
    assert calls == [(3, 8)]
