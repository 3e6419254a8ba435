"""The Spark engine computes what the NumPy models compute, on the same snapshot."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nextshow.evaluation.evaluate import RunOptions, evaluate
from nextshow.evaluation.protocol import Protocol
from nextshow.evaluation.splits import TemporalHoldout
from nextshow.pipeline.data import interactions_from_snapshot
from nextshow.recommenders import create
from nextshow.recommenders.base import make_rng
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.snapshots import read_snapshot, snapshot_from_tables
from nextshow.spark.models import fit_on_spark
from nextshow.spark.split import protocol_holdout, temporal_holdout


def _matrix(frame, user_ids: list[str], n_shows: int) -> sp.csr_matrix:
    """A (user, col) frame as a CSR over the NumPy engine's rows (sorted user ids)."""
    table = frame.select("user", "col").toArrow()
    position = {int(u): i for i, u in enumerate(user_ids)}
    rows = np.array([position[int(u)] for u in table.column("user").to_pylist()], dtype=np.int64)
    cols = np.asarray(table.column("col").to_numpy(), dtype=np.int64)
    out = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(user_ids), n_shows))
    out.sort_indices()
    return out


def test_columns_and_likes_match_the_numpy_engine(spark_likes, snapshot) -> None:
    inter = snapshot.interactions
    np.testing.assert_array_equal(spark_likes.show_ids, inter.metadata.show_ids)
    assert spark_likes.timed
    assert all(i.startswith("tt") for i in spark_likes.imdb_ids)
    spark_matrix = _matrix(spark_likes.frame, inter.user_ids, inter.n_shows)
    assert (spark_matrix != inter.likes).nnz == 0
    assert spark_matrix.nnz == inter.n_likes


def test_like_times_are_clipped_to_the_snapshot_cutoff_as_numpy_clips_them(
    spark, snapshot, tmp_path
) -> None:
    """Issue 13: likes stamped after the cut-off count as liked at it, on both engines."""
    from nextshow.spark.frames import read_likes

    data = read_snapshot(snapshot.store, snapshot.snapshot_id)
    times = snapshot.interactions.timestamps.data
    cutoff = int(np.quantile(times, 0.9))
    store = ArtifactStore(tmp_path.as_uri())
    manifest = snapshot_from_tables(
        store, data.shows, data.ratings, like_threshold=8.0, source="test", cutoff=cutoff
    )
    inter = interactions_from_snapshot(read_snapshot(store, manifest.id))
    table = read_likes(spark, store, manifest.id).frame.select("user", "col", "t").toArrow()
    position = {int(u): i for i, u in enumerate(inter.user_ids)}
    rows = [position[int(u)] for u in table.column("user").to_pylist()]
    spark_times = sp.csr_matrix(
        (table.column("t").to_numpy(), (rows, table.column("col").to_numpy())),
        shape=inter.likes.shape,
    )
    spark_times.sort_indices()
    assert spark_times.data.max() == cutoff == inter.timestamps.data.max()
    np.testing.assert_array_equal(spark_times.data, inter.timestamps.data)


def test_holdout_is_the_numpy_split(spark_likes, snapshot) -> None:
    inter = snapshot.interactions
    expected = TemporalHoldout(min_likes=5).split(inter.likes, inter.timestamps)
    split = temporal_holdout(spark_likes.frame, timed=True, min_likes=5)
    train = _matrix(split.train, inter.user_ids, inter.n_shows)
    test = _matrix(split.test, inter.user_ids, inter.n_shows)
    assert (train != expected.train).nnz == 0
    assert (test != expected.test).nnz == 0
    assert expected.test.nnz > 500  # the comparison covers many held-out likes


def _fit_both(name: str, params: dict, spark_likes, snapshot):
    inter = snapshot.interactions
    numpy_model = create(name, **params).fit(inter.likes, inter.metadata, inter.timestamps)
    spark_model = fit_on_spark(name, params, spark_likes.frame, spark_likes.vocabulary)
    return numpy_model, spark_model


def _assert_same_top10_up_to_ties(numpy_model, spark_model, snapshot) -> None:
    """For 300 seeded users: Spark's top-10 is NumPy's, or differs only where NumPy's own
    scores tie (each Spark pick scores what NumPy's pick at that rank scores)."""
    likes = snapshot.interactions.likes
    users = make_rng(42).choice(likes.shape[0], size=300, replace=False)
    liked = [likes.indices[likes.indptr[u] : likes.indptr[u + 1]] for u in users]
    ours = spark_model.recommend_batch(liked, 10)
    theirs = numpy_model.recommend_batch(liked, 10)
    identical = 0
    for got, want, history in zip(ours, theirs, liked, strict=True):
        if [r.show for r in got] == [r.show for r in want]:
            identical += 1
            continue
        scores = numpy_model._scores(np.asarray(history))  # NumPy's score of Spark's picks
        np.testing.assert_allclose(
            [scores[r.show] for r in got], [r.score for r in want], rtol=1e-9, atol=1e-12
        )
    assert identical >= 250  # ties are the exception, not the rule


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("itemknn", {"k": 20, "shrink": 10.0}),
        ("graph", {"k": 10}),
    ],
)
def test_cosine_models_are_bit_for_bit(name, params, spark_likes, snapshot) -> None:
    numpy_model, spark_model = _fit_both(name, params, spark_likes, snapshot)
    want, got = numpy_model.similarity_, spark_model.similarity_
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)  # exact counts, same float operations
    _assert_same_top10_up_to_ties(numpy_model, spark_model, snapshot)


def test_rp3beta_matches_to_rounding(spark_likes, snapshot) -> None:
    params = {"alpha": 0.5, "beta": 0.3, "k": 50}
    numpy_model, spark_model = _fit_both("rp3beta", params, spark_likes, snapshot)
    want, got = numpy_model.similarity_, spark_model.similarity_
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.diff(got.indptr), np.diff(want.indptr))
    # Summation order differs, so a value may differ in its last bits (and a tie at the k-th
    # place may keep another neighbour): compare the kept values row by row, sorted.
    for row in range(want.shape[0]):
        a = np.sort(want.data[want.indptr[row] : want.indptr[row + 1]])
        b = np.sort(got.data[got.indptr[row] : got.indptr[row + 1]])
        np.testing.assert_allclose(b, a, rtol=1e-12)
    _assert_same_top10_up_to_ties(numpy_model, spark_model, snapshot)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("popularity", {}),
        ("recent-popularity", {"mode": "decay", "days": 14.0}),
        ("recent-popularity", {"mode": "window", "days": 30.0}),
    ],
)
def test_popularity_models_match(name, params, spark_likes, snapshot) -> None:
    numpy_model, spark_model = _fit_both(name, params, spark_likes, snapshot)
    np.testing.assert_allclose(spark_model.popularity_, numpy_model.popularity_, rtol=1e-12)
    assert [r.show for r in spark_model.recommend([0], 10)] == [
        r.show for r in numpy_model.recommend([0], 10)
    ]


@pytest.mark.parametrize("rule", ["global-time", "user-time"])
def test_holdout_of_each_timed_rule_is_the_numpy_split(rule, spark_likes, snapshot) -> None:
    inter = snapshot.interactions
    protocol = Protocol(split=rule)
    expected = protocol.split_likes(inter)
    split = protocol_holdout(spark_likes.frame, protocol, timed=True)
    assert (_matrix(split.train, inter.user_ids, inter.n_shows) != expected.train).nnz == 0
    assert (_matrix(split.test, inter.user_ids, inter.n_shows) != expected.test).nnz == 0
    assert expected.test.nnz > 100


def test_random_holdout_is_seeded_and_keeps_the_rule(spark_likes, snapshot) -> None:
    """Not the NumPy engine's draw (one stream in matrix order), but the same rule, seeded."""
    inter = snapshot.interactions
    split = protocol_holdout(spark_likes.frame, Protocol(split="random"), timed=True)
    again = protocol_holdout(spark_likes.frame, Protocol(split="random"), timed=True)
    other = protocol_holdout(spark_likes.frame, Protocol(split="random", seed=7), timed=True)
    test = _matrix(split.test, inter.user_ids, inter.n_shows)
    assert (test != _matrix(again.test, inter.user_ids, inter.n_shows)).nnz == 0
    assert (test != _matrix(other.test, inter.user_ids, inter.n_shows)).nnz > 0
    numpy_split = Protocol(split="random").split_likes(inter)
    np.testing.assert_array_equal(np.diff(test.indptr), np.diff(numpy_split.test.indptr))


@pytest.mark.parametrize("rule", ["global-time", "user-time"])
def test_spark_evaluation_on_every_test_user_is_the_numpy_evaluation(
    rule, spark, spark_likes, snapshot
) -> None:
    """Same protocol, same arrays, same scoring function: every metric (beyond accuracy too),
    number for number."""
    from nextshow.spark.evaluate import sample_split, score_sample
    from nextshow.spark.popularity import like_counts

    inter = snapshot.interactions
    params = {"k": 50, "shrink": 10.0}
    protocol = Protocol(split=rule)
    split = protocol.split_likes(inter)
    want = evaluate("itemknn", params, split, options=RunOptions(measure_artifact=False))
    spark_split = protocol_holdout(spark_likes.frame, protocol, timed=True)
    model = fit_on_spark("itemknn", params, spark_split.train, spark_likes.vocabulary)
    sample = sample_split(spark, spark_split, inter.n_shows, max_users=10**6, seed=42)
    popularity = like_counts(spark_split.train, inter.n_shows)
    got = score_sample(model, sample, popularity, k=10, seed=42, fit_seconds=0.0, chosen=params)
    assert got.users == want.users == len(split.test_users)
    assert "novelty@10" in got.metrics and "longtail_ndcg@10" in got.metrics
    assert got.metrics == want.metrics


def test_sampled_evaluation_is_seeded(spark, spark_likes) -> None:
    from nextshow.spark.evaluate import sample_test_users

    split = temporal_holdout(spark_likes.frame, timed=True, min_likes=5)
    first = sample_test_users(split, 200, seed=42)
    assert len(first) == 200 and np.all(np.diff(first) > 0)
    np.testing.assert_array_equal(first, sample_test_users(split, 200, seed=42))
    assert not np.array_equal(first, sample_test_users(split, 200, seed=7))


# Spark's ALS regularises each user and show in proportion to its likes (ALS-WR) and starts
# from other random factors, so its factors are not implicit's. Measured on this snapshot:
# NDCG@10 0.2089 (Spark) vs 0.2194 (NumPy), -4.8 %; 10 % is the stated tolerance.
ALS_TOLERANCE = 0.10


@pytest.mark.slow
def test_spark_als_scores_within_tolerance_of_nextshow_als(spark, spark_likes, snapshot) -> None:
    from nextshow.spark.evaluate import sample_split, score_sample
    from nextshow.spark.popularity import like_counts

    inter = snapshot.interactions
    params = {"factors": 8, "alpha": 10.0, "iterations": 10}
    split = TemporalHoldout(min_likes=5).split(inter.likes, inter.timestamps)
    want = evaluate("als", params, split, options=RunOptions(measure_artifact=False))
    spark_split = temporal_holdout(spark_likes.frame, timed=True, min_likes=5)
    model = fit_on_spark("als", params, spark_split.train, spark_likes.vocabulary)
    assert model.item_factors_.shape == (inter.n_shows, 8)
    sample = sample_split(spark, spark_split, inter.n_shows, max_users=10**6, seed=42)
    counts = like_counts(spark_split.train, inter.n_shows)
    got = score_sample(model, sample, counts, k=10, seed=42, fit_seconds=0.0, chosen=params)
    popularity = evaluate("popularity", {}, split, options=RunOptions(measure_artifact=False))
    assert got.users == want.users
    for metric in ("ndcg@10", "precision@10", "recall@10"):
        assert got.metrics[metric] == pytest.approx(want.metrics[metric], rel=ALS_TOLERANCE)
    # Not merely close to a weak model: both beat the popularity list here.
    assert got.metrics["ndcg@10"] > popularity.metrics["ndcg@10"]


def test_spark_chooses_the_model_the_numpy_engine_chooses(spark, spark_likes, snapshot) -> None:
    """Without --model the Spark engine scores the candidates it can train, skips the others
    with their reason, and picks by the NumPy engine's rule from the same (unsampled) scores."""
    from nextshow.evaluation.protocol import run_evaluation
    from nextshow.spark.engine import SparkTraining

    protocol = Protocol(tune=False, max_test_users=None)
    training = SparkTraining(spark, spark_likes)
    chosen, choice = training.choose(["popularity", "ease", "itemknn", "time-aware"], protocol)
    assert {s.model: s.reason for s in choice.skipped} == {
        "ease": "has no Spark engine (Spark trains als, graph, itemknn, popularity, "
        "recent-popularity, rp3beta)",
        "time-aware": "has no Spark engine (Spark trains als, graph, itemknn, popularity, "
        "recent-popularity, rp3beta)",
    }
    numpy = run_evaluation(snapshot.interactions, ["popularity", "itemknn"], protocol=protocol)
    assert choice.selected == numpy.choice.selected == chosen.model
    assert choice.floor == numpy.choice.floor and choice.eligible == numpy.choice.eligible
    assert chosen.metrics == numpy.get(chosen.model).metrics


def test_spark_scores_the_protocols_sample_of_test_users(spark, spark_likes) -> None:
    """``max_test_users`` sizes the driver's sample, as it sizes the NumPy engine's."""
    from nextshow.spark.engine import SparkTraining

    training = SparkTraining(spark, spark_likes)
    protocol = Protocol(split="user-time", max_test_users=50)
    split = training.split(spark_likes.frame, protocol)
    sample, _ = training.sample(split, protocol)
    assert len(sample.test_users) == 50
    everyone, _ = training.sample(split, Protocol(split="user-time", max_test_users=None))
    assert len(everyone.test_users) > 50
