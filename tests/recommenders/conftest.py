"""Tiny hand-built data shared by the recommender tests.

LIKES (10 users x 8 shows; 1 = liked), TIMES in days after DAY0 (same sparsity)::

          s0 s1 s2 s3 s4 s5 s6 s7
    u0     1  1  0  0  0  0  0  0
    u1     1  1  1  0  0  0  0  0
    u2     0  1  1  1  0  0  0  0
    u3     0  0  1  1  1  0  0  0
    u4     0  0  0  1  1  1  0  0
    u5     1  0  0  0  1  1  1  0
    u6     0  0  0  0  0  1  1  1
    u7     1  0  1  0  0  0  1  1
    u8     1  1  0  1  0  0  0  1
    u9     0  1  0  0  1  0  1  0
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nextshow.recommenders import ShowMetadata

DAY0 = 1_370_000_000
DAY = 86_400

LIKED = [
    [0, 1],
    [0, 1, 2],
    [1, 2, 3],
    [2, 3, 4],
    [3, 4, 5],
    [0, 4, 5, 6],
    [5, 6, 7],
    [0, 2, 6, 7],
    [0, 1, 3, 7],
    [1, 4, 6],
]

# Models that need more than the defaults to run on 8 shows (small factor counts, few trees).
TINY_PARAMS: dict[str, dict] = {
    "als": {"factors": 3, "iterations": 5},
    "ranker": {"n_candidates": 4, "max_iter": 5, "min_samples_leaf": 2},
    "blend": {
        "components": [
            {"name": "itemknn", "params": {"k": 5}, "weight": 1.0},
            {"name": "recent-popularity", "params": {"days": 3.0}, "weight": 0.5},
        ]
    },
}


def build(liked_rows: list[list[int]], n_shows: int = 8) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Likes and timestamps; user u's j-th like happens on day 3*u + j (later users = newer)."""
    rows, cols, times = [], [], []
    for u, row in enumerate(liked_rows):
        for j, s in enumerate(row):
            rows.append(u)
            cols.append(s)
            times.append(DAY0 + (3 * u + j) * DAY)
    shape = (len(liked_rows), n_shows)
    likes = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    stamps = sp.csr_matrix((np.asarray(times, dtype=np.float64), (rows, cols)), shape=shape)
    return likes, stamps


@pytest.fixture
def tiny() -> tuple[sp.csr_matrix, sp.csr_matrix]:
    return build(LIKED)


@pytest.fixture
def metadata() -> ShowMetadata:
    return ShowMetadata(
        show_ids=np.arange(100, 108, dtype=np.int64),
        imdb_ids=[f"tt{100 + i:07d}" if i != 3 else "" for i in range(8)],
        titles=[f"Show {i}" for i in range(8)],
        start_year=np.array([1999, 2005, 2010, 0, 2013, 2012, 2001, 2011], dtype=np.int32),
        imdb_rating=np.array([8.1, 7.0, np.nan, 6.5, 9.0, 7.7, 8.8, 5.9], dtype=np.float32),
        imdb_votes=np.array([10, 200, 0, 50, 1000, 30, 70, 5], dtype=np.int64),
        genres=[
            ("Drama",),
            ("Comedy",),
            (),
            ("Drama", "Crime"),
            ("Crime",),
            ("Comedy",),
            ("Drama",),
            ("Sci-Fi",),
        ],
    )
