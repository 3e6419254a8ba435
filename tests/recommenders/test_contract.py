"""The contract every registered recommender must keep (tiny data from conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nextshow.recommenders import (
    ArtifactError,
    NotFittedError,
    create,
    load_artifact,
    names,
)
from nextshow.recommenders.artifact import sha256_file
from tests.recommenders.conftest import TINY_PARAMS

ALL = names()


def fitted(name: str, tiny, metadata=None):
    likes, stamps = tiny
    return create(name, **TINY_PARAMS.get(name, {})).fit(likes, metadata, stamps)


def as_tuples(recs) -> list[tuple]:
    return [(r.show, r.score, r.because, r.popularity_share) for r in recs]


def test_every_planned_model_is_registered() -> None:
    for name in ("popularity", "recent-popularity", "itemknn", "graph", "rp3beta", "ease"):
        assert name in ALL
    assert "time-aware" in ALL


@pytest.mark.parametrize("name", ALL)
class TestContract:
    def test_liked_and_excluded_never_recommended_and_n_respected(self, name, tiny, metadata):
        model = fitted(name, tiny, metadata)
        for liked in ([0], [1, 2], [3, 4, 5], [0, 2, 4, 6, 7]):
            for n in (1, 3, 8):
                recs = model.recommend(liked, n=n, exclude=[5])
                shows = [r.show for r in recs]
                assert len(shows) == min(n, 8 - len(set(liked) | {5}))
                assert not set(shows) & (set(liked) | {5})
                assert len(set(shows)) == len(shows)
                scores = [r.score for r in recs]
                assert scores == sorted(scores, reverse=True)
                for r in recs:
                    assert set(r.because) <= set(liked) and len(r.because) <= 3

    def test_batch_equals_single(self, name, tiny, metadata):
        model = fitted(name, tiny, metadata)
        lists = [[0], [1, 2], [3, 4, 5], [7], [0, 2, 4, 6], [6, 1]]
        batch = model.recommend_batch(lists, n=4)
        for liked, recs in zip(lists, batch, strict=True):
            assert as_tuples(recs) == as_tuples(model.recommend(liked, n=4))
        excl = [[1], None, [0, 1], [], [7], [2]]
        batch = model.recommend_batch(lists, n=3, exclude=excl)
        for liked, ex, recs in zip(lists, excl, batch, strict=True):
            assert as_tuples(recs) == as_tuples(model.recommend(liked, n=3, exclude=ex))

    def test_fold_in_unseen_user(self, name, tiny, metadata):
        model = fitted(name, tiny, metadata)
        # {2, 5, 7} is no user's row: the model must score it without a user index.
        recs = model.recommend(np.array([2, 5, 7]), n=5)
        assert len(recs) == 5
        assert all(np.isfinite(r.score) for r in recs)

    def test_deterministic(self, name, tiny, metadata):
        a = fitted(name, tiny, metadata).recommend([1, 4], n=6)
        b = fitted(name, tiny, metadata).recommend([1, 4], n=6)
        assert as_tuples(a) == as_tuples(b)

    def test_save_load_round_trip(self, name, tiny, metadata, tmp_path: Path):
        model = fitted(name, tiny, metadata)
        model.save(tmp_path / "m")
        assert {p.name for p in (tmp_path / "m").iterdir()} == {"arrays.npz", "model.json"}
        loaded = load_artifact(tmp_path / "m")
        assert type(loaded) is type(model)
        assert loaded.get_params() == model.get_params()
        assert repr(loaded) == repr(model)
        for liked in ([0], [2, 3], [1, 5, 6]):
            assert as_tuples(loaded.recommend(liked, 5)) == as_tuples(model.recommend(liked, 5))
        assert type(model).load(tmp_path / "m").recommend([0], 3) == model.recommend([0], 3)
        # The vocabulary (which show each column is) travels inside the artifact.
        assert loaded.vocabulary_.show_ids.tolist() == list(range(100, 108))
        assert loaded.vocabulary_.imdb_ids == model.vocabulary_.imdb_ids
        assert loaded.vocabulary_.imdb_id_of(2) == "tt0000102"

    def test_corrupted_artifacts_refused(self, name, tiny, metadata, tmp_path: Path):
        model = fitted(name, tiny, metadata)
        model.save(tmp_path / "m")
        npz = tmp_path / "m" / "arrays.npz"
        data = bytearray(npz.read_bytes())
        data[len(data) // 2] ^= 0xFF
        npz.write_bytes(bytes(data))
        with pytest.raises(ArtifactError, match="sha256"):
            load_artifact(tmp_path / "m")

        model.save(tmp_path / "e")
        meta_path = tmp_path / "e" / "model.json"
        meta = json.loads(meta_path.read_text())
        meta["params"]["injected"] = 1
        meta_path.write_text(json.dumps(meta))
        with pytest.raises(ArtifactError, match="edited"):
            load_artifact(tmp_path / "e")

    def test_params_round_trip_through_create(self, name):
        params = create(name, **TINY_PARAMS.get(name, {})).get_params()
        assert json.loads(json.dumps(params)) == params
        assert create(name, **params).get_params() == params
        with pytest.raises(ValueError, match="no_such_param"):
            create(name, no_such_param=1)

    def test_refuses_bad_use(self, name, tiny, metadata):
        with pytest.raises(NotFittedError):
            create(name, **TINY_PARAMS.get(name, {})).recommend([0])
        model = fitted(name, tiny, metadata)
        with pytest.raises(ValueError, match="outside"):
            model.recommend([8])
        with pytest.raises(ValueError, match="outside"):
            model.recommend([0], exclude=[-1])
        with pytest.raises(ValueError, match="n must be"):
            model.recommend([0], n=0)


def _rewrite_meta(path: Path, **changes) -> None:
    """Edit model.json *and* re-seal it, as a careful forger would."""
    from nextshow.recommenders.artifact import _meta_digest

    meta_path = path / "model.json"
    meta = json.loads(meta_path.read_text())
    meta.update(changes)
    meta["meta_sha256"] = _meta_digest(meta)
    meta_path.write_text(json.dumps(meta))


def test_artifact_errors_name_the_problem(tiny, tmp_path: Path) -> None:
    model = fitted("popularity", tiny)
    with pytest.raises(ArtifactError, match="does not exist"):
        load_artifact(tmp_path / "nothing")
    model.save(tmp_path / "a")
    (tmp_path / "a" / "arrays.npz").unlink()
    with pytest.raises(ArtifactError, match=r"arrays\.npz: missing"):
        load_artifact(tmp_path / "a")

    model.save(tmp_path / "b")
    (tmp_path / "b" / "model.json").unlink()
    with pytest.raises(ArtifactError, match=r"model\.json: missing"):
        load_artifact(tmp_path / "b")

    model.save(tmp_path / "c")
    _rewrite_meta(tmp_path / "c", format_version=99)
    with pytest.raises(ArtifactError, match="format_version 99"):
        load_artifact(tmp_path / "c")

    model.save(tmp_path / "d")
    _rewrite_meta(tmp_path / "d", name="no-such-model")
    with pytest.raises(ArtifactError, match="unknown model name 'no-such-model'"):
        load_artifact(tmp_path / "d")

    model.save(tmp_path / "e")
    with pytest.raises(ArtifactError, match="not 'itemknn'"):
        create("itemknn").load(tmp_path / "e")

    model.save(tmp_path / "f")
    (tmp_path / "f" / "model.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_artifact(tmp_path / "f")


def test_pickle_in_npz_refused(tiny, tmp_path: Path) -> None:
    """An npz holding an object array (a pickle) is refused even with a matching checksum."""
    fitted("popularity", tiny).save(tmp_path / "p")
    npz = tmp_path / "p" / "arrays.npz"
    evil = np.empty(1, dtype=object)
    evil[0] = {"x": 1}
    np.savez(npz, popularity=evil)
    meta = json.loads((tmp_path / "p" / "model.json").read_text())
    _rewrite_meta(
        tmp_path / "p",
        arrays_sha256=sha256_file(npz),
        arrays={"popularity": {"shape": [1], "dtype": "|O"}},
    )
    assert meta["name"] == "popularity"
    with pytest.raises(ArtifactError, match="refused"):
        load_artifact(tmp_path / "p")
