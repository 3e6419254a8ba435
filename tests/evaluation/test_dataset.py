"""Interactions from rating rows (pure) and from files (through the importer's parser)."""

from __future__ import annotations

import numpy as np
import pytest

from nextshow.evaluation.dataset import (
    InteractionRow,
    ShowInfo,
    build_interactions,
    load_interactions,
)

R = InteractionRow


def test_likes_by_threshold_and_explicit_flag() -> None:
    rows = [
        R("u1", "tt0000001", 9.0, None, 100),  # like
        R("u1", "tt0000002", 7.0, None, 200),  # not a like (below 8)
        R("u2", "tt0000002", 8.0, None, 300),  # like (threshold is inclusive)
        R("u2", "tt0000003", 3.0, True, 400),  # explicit like overrides the rating
        R("u3", "tt0000001", None, False, 500),  # explicit "not liked"
    ]
    data = build_interactions(rows, shows={"tt0000002": ShowInfo("Two", 2001, ("Drama",))})
    assert data.user_ids == ["u1", "u2"]  # u3 has no like
    assert data.show_keys == ["tt0000001", "tt0000002", "tt0000003"]
    assert data.likes.toarray().tolist() == [[1, 0, 0], [0, 1, 1]]
    assert data.timestamps is not None
    assert data.timestamps.toarray().tolist() == [[100, 0, 0], [0, 300, 400]]
    assert data.metadata.show_ids.tolist() == [1, 2, 3]
    assert data.metadata.titles == ["tt0000001", "Two", "tt0000003"]
    assert data.metadata.start_year.tolist() == [0, 2001, 0]
    assert data.metadata.genres[1] == ("Drama",)
    assert data.n_ratings == 5
    assert build_interactions(rows, like_threshold=7.0).n_likes == 4


def test_later_rerating_wins() -> None:
    rows = [
        R("u1", "a", 9.0, None, 200),
        R("u1", "b", 9.0, None, 50),
        R("u1", "a", 2.0, None, 100),  # older than the 9: ignored
        R("u1", "b", 1.0, None, 60),  # newer: replaces the like
    ]
    data = build_interactions(rows)
    assert data.show_keys == ["a"]
    assert data.n_likes == 1


def test_timestamp_zero_is_kept_and_missing_times_drop_the_matrix() -> None:
    data = build_interactions([R("u", "a", 9.0, None, 0), R("u", "b", 9.0, None, 5)])
    assert data.timestamps is not None
    assert data.timestamps.nnz == 2
    assert np.array_equal(data.timestamps.indices, data.likes.indices)
    assert build_interactions([R("u", "a", 9.0), R("u", "b", 9.0, None, 5)]).timestamps is None


def test_bad_threshold() -> None:
    with pytest.raises(ValueError, match=r"like_threshold must be in \[0, 10\]"):
        build_interactions([], like_threshold=11)


def test_movietweetings_file(tmp_path) -> None:
    (tmp_path / "ratings.dat").write_text(
        "1::0110912::9::1365029107\n1::0111161::5::1365029108\n2::0110912::10::1365029109\n"
        "broken line\n",
        encoding="utf-8",
    )
    (tmp_path / "movies.dat").write_text(
        "0110912::Pulp Fiction (1994)::Crime|Drama\n"
        "0111161::The Shawshank Redemption (1994)::Drama\n",
        encoding="utf-8",
    )
    data = load_interactions(tmp_path / "ratings.dat", "movietweetings")
    assert data.n_ratings == 3  # the broken line is a reject, not a rating
    assert data.n_likes == 2
    assert data.show_keys == ["tt0110912"]
    assert data.metadata.titles == ["Pulp Fiction"]
    assert data.metadata.start_year.tolist() == [1994]
    assert data.metadata.show_ids.tolist() == [110912]


def test_bad_source_and_format(tmp_path) -> None:
    with pytest.raises(ValueError, match="no ratings file"):
        load_interactions(tmp_path / "missing.dat")
    (tmp_path / "r.csv").write_text("user_id,show,rating\n", encoding="utf-8")
    with pytest.raises(ValueError, match="format must be one of"):
        load_interactions(tmp_path / "r.csv", "xlsx")
    with pytest.raises(ValueError, match="demo data is in movietweetings format"):
        load_interactions("demo", "csv")


@pytest.mark.slow
def test_demo_counts() -> None:
    data = load_interactions("demo")
    assert data.n_ratings == 100_000
    assert data.n_likes == 50_542
    assert (data.n_users, data.n_shows) == (13_764, 6_718)
