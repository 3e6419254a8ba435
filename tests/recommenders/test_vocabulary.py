"""The show vocabulary: ids <-> columns, unknown ids reported, stored inside the artifact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nextshow.recommenders import (
    ArtifactError,
    ShowMetadata,
    ShowVocabulary,
    UnknownShowError,
    create,
    load_artifact,
)
from nextshow.recommenders.artifact import FORMAT_VERSION, write_artifact


def test_lookup_reports_unknown_ids_in_input_order() -> None:
    vocab = ShowVocabulary(np.array([30, 10, 20]), ("tt3", "", "tt2"))
    found = vocab.lookup([20, 99, 30, 20, 7, 99])
    assert found.indices.tolist() == [2, 0]  # input order, no repeats
    assert found.unknown == [99, 7]
    assert vocab.index_of(10) == 1 and vocab.index_of(11) is None
    assert 30 in vocab and 31 not in vocab
    assert vocab.ids_of([2, 0]) == [20, 30]
    assert vocab.imdb_id_of(0) == "tt3" and vocab.imdb_id_of(1) is None
    with pytest.raises(UnknownShowError, match=r"\[99, 7\]") as err:
        vocab.lookup([20, 99, 7], unknown="raise")
    assert err.value.unknown == [99, 7]
    with pytest.raises(ValueError, match="'report' or 'raise'"):
        vocab.lookup([20], unknown="drop")  # type: ignore[arg-type]


def test_a_vocabulary_names_each_column_once() -> None:
    with pytest.raises(ValueError, match="unique"):
        ShowVocabulary(np.array([1, 2, 1]))
    with pytest.raises(ValueError, match="2 IMDb ids for 3 shows"):
        ShowVocabulary(np.array([1, 2, 3]), ("tt1", "tt2"))
    vocab, columns = ShowVocabulary.from_unique([7, 3, 7, 5])
    assert vocab.show_ids.tolist() == [3, 5, 7]
    assert columns.tolist() == [2, 0, 2, 1]
    assert ShowVocabulary.positional(3).show_ids.tolist() == [0, 1, 2]


def test_arrays_round_trip_and_bad_arrays() -> None:
    vocab = ShowVocabulary(np.array([5, 6]), ("tt0000005", ""))
    again = ShowVocabulary.from_arrays(vocab.to_arrays())
    assert again.show_ids.tolist() == [5, 6] and again.imdb_ids == ("tt0000005", "")
    assert ShowVocabulary.from_arrays({"show_ids": np.array([1])}).imdb_ids == ()
    with pytest.raises(ValueError, match="no 'show_ids'"):
        ShowVocabulary.from_arrays({})
    with pytest.raises(ValueError, match="not integer"):
        ShowVocabulary.from_arrays({"show_ids": np.array([1.5])})


def test_fit_carries_the_vocabulary(tiny) -> None:
    likes, _ = tiny
    assert create("popularity").fit(likes).vocabulary_.show_ids.tolist() == list(range(8))
    meta = ShowMetadata(show_ids=np.arange(10, 18))
    assert create("popularity").fit(likes, meta).vocabulary_.show_ids[0] == 10
    given = ShowVocabulary(np.arange(50, 58))
    model = create("popularity").fit(likes, meta, vocabulary=given)
    assert model.vocabulary_ is given  # an explicit vocabulary wins over the metadata's ids
    with pytest.raises(ValueError, match="vocabulary has 3 shows, likes has 8 columns"):
        create("popularity").fit(likes, vocabulary=ShowVocabulary(np.arange(3)))
    with pytest.raises(ValueError, match="unique"):
        create("popularity").fit(likes, ShowMetadata(show_ids=np.zeros(8, dtype=np.int64)))


def test_the_vocabulary_is_under_the_artifact_checksum(tiny, tmp_path: Path) -> None:
    model = create("popularity").fit(tiny[0], ShowMetadata(show_ids=np.arange(10, 18)))
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION == 2
    assert meta["vocabulary"] == ["show_ids"]
    assert "vocabulary:show_ids" in meta["arrays"]  # in the npz its sha256 vouches for
    with np.load(tmp_path / "m" / "arrays.npz") as npz:
        assert npz["vocabulary:show_ids"].tolist() == list(range(10, 18))
    # Swap the vocabulary for another (same shape and dtype): the checksum refuses it.
    with np.load(tmp_path / "m" / "arrays.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["vocabulary:show_ids"] = arrays["vocabulary:show_ids"][::-1].copy()
    np.savez(tmp_path / "m" / "arrays.npz", **arrays)
    with pytest.raises(ArtifactError, match="sha256"):
        load_artifact(tmp_path / "m")


def _write(path: Path, **changes) -> None:
    """A small popularity artifact, with ``changes`` to write_artifact's arguments."""
    args = {
        "name": "popularity",
        "params": {},
        "arrays": {"popularity": np.zeros(2)},
        "n_shows": 2,
        "vocabulary": {"show_ids": np.arange(2)},
    }
    write_artifact(path, **{**args, **changes})


def test_artifact_vocabulary_must_fit_the_model(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"vocabulary array 'show_ids' must be plain data"):
        _write(tmp_path / "a", vocabulary={"show_ids": np.arange(3)})
    with pytest.raises(ValueError, match="must not contain"):
        _write(tmp_path / "b", arrays={"vocabulary:x": np.arange(2)})
    _write(tmp_path / "ok")
    assert load_artifact(tmp_path / "ok").vocabulary_.show_ids.tolist() == [0, 1]
    # Written without a vocabulary: loading says what is missing instead of guessing ids.
    _write(tmp_path / "c", vocabulary={})
    with pytest.raises(ArtifactError, match="bad vocabulary: vocabulary has no 'show_ids'"):
        load_artifact(tmp_path / "c")


def test_an_old_format_artifact_is_refused(tiny, tmp_path: Path) -> None:
    """Format 1 kept the vocabulary in a side file; it is refused, with what to do."""
    create("popularity").fit(tiny[0]).save(tmp_path / "m")
    meta_path = tmp_path / "m" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 1
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=r"format_version 1 not supported.*retrain"):
        load_artifact(tmp_path / "m")
