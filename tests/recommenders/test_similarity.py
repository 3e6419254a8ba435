"""The pure maths, on matrices small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nextshow.recommenders.similarity import (
    DAY,
    cosine_similarity,
    decay_weights,
    ease_weights,
    like_counts,
    max_rows,
    minmax_rows,
    normalise_candidates,
    rank_rows,
    rp3beta_similarity,
    top_k_per_row,
    window_weights,
)

# The 3 users x 3 shows example of the itemknn module docstring.
X3 = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=np.float64))


def test_cosine_by_hand() -> None:
    """cos(s0,s1) = 1/(√2·√2) = 0.5, cos(s0,s2) = 1/(√2·1) ≈ 0.7071, cos(s1,s2) = 0."""
    S = cosine_similarity(X3).toarray()
    expected = np.array([[0, 0.5, 1 / np.sqrt(2)], [0.5, 0, 0], [1 / np.sqrt(2), 0, 0]])
    np.testing.assert_allclose(S, expected)


def test_cosine_shrink_damps() -> None:
    """shrink 1: cos(s0,s1) = 1 / (2 + 1) = 1/3."""
    assert cosine_similarity(X3, shrink=1.0)[0, 1] == pytest.approx(1 / 3)


def test_top_k_per_row_keeps_largest_ties_by_lower_column() -> None:
    S = sp.csr_matrix(np.array([[0, 3, 1, 3], [2, 0, 5, 1], [0, 0, 0, 0], [1, 1, 1, 0]], float))
    kept = top_k_per_row(S, 2).toarray()
    np.testing.assert_array_equal(kept, [[0, 3, 0, 3], [2, 0, 5, 0], [0, 0, 0, 0], [1, 1, 0, 0]])


def test_decay_and_window_weights() -> None:
    now = 1_000 * DAY
    times = np.array([now, now - 7 * DAY, now - 14 * DAY, now + DAY])
    np.testing.assert_allclose(decay_weights(times, now, 7.0), [1.0, 0.5, 0.25, 1.0])
    np.testing.assert_array_equal(window_weights(times, now, 7.0), [1, 1, 0, 1])


def test_like_counts() -> None:
    np.testing.assert_array_equal(like_counts(X3), [2, 2, 1])


def test_ease_matches_numpy_inverse() -> None:
    rng = np.random.default_rng(42)
    dense = (rng.random((30, 12)) < 0.3).astype(np.float64)
    dense[:, 5] = 0.0  # a show nobody liked: its row and column of B stay zero
    X = sp.csr_matrix(dense)
    B = ease_weights(X, 4.0)
    P = np.linalg.inv(X.T.toarray() @ X.toarray() + 4.0 * np.eye(12))
    expected = -P / np.diag(P)
    np.fill_diagonal(expected, 0.0)
    expected[5, :] = 0.0
    expected[:, 5] = 0.0
    np.testing.assert_allclose(B, expected, atol=1e-12)


def test_rp3beta_by_hand() -> None:
    """alpha=1, beta=0 on X3: W[0,2] = P(s0->u1) * P(u1->s2) = 1/2 * 1/2 = 0.25;
    W[0,1] = P(s0->u0) * P(u0->s1) = 0.25; W[1,0] = P(s1->u0) P(u0->s0) = 0.25;
    beta=1 divides column j by popularity: W[0,2] = 0.25 / 1, W[0,1] = 0.25 / 2."""
    W = rp3beta_similarity(X3, 1.0, 0.0).toarray()
    np.testing.assert_allclose(W, [[0, 0.25, 0.25], [0.25, 0, 0], [0.5, 0, 0]])
    Wb = rp3beta_similarity(X3, 1.0, 1.0).toarray()
    np.testing.assert_allclose(Wb, [[0, 0.125, 0.25], [0.125, 0, 0], [0.25, 0, 0]])


def test_normalisations() -> None:
    s = np.array([[1.0, 3.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(minmax_rows(s), [[0, 1, 0.5], [0, 0, 0]])
    np.testing.assert_allclose(max_rows(s), [[1 / 3, 1, 2 / 3], [0, 0, 0]])
    np.testing.assert_allclose(rank_rows(s), [[1 / 3, 1, 2 / 3], [1, 1, 1]])


def test_normalise_candidates_ignores_liked_shows() -> None:
    """Row 0 liked s1 (score 10): the max over candidates is 4, so s2 -> 1.0, s0 -> 0.5."""
    scores = np.array([[2.0, 10.0, 4.0], [1.0, 2.0, 4.0]])
    liked = sp.csr_matrix(np.array([[0, 1, 0], [0, 0, 0]], dtype=np.float64))
    np.testing.assert_allclose(
        normalise_candidates(scores, liked, "max"), [[0.5, 0, 1], [0.25, 0.5, 1]]
    )
    np.testing.assert_allclose(normalise_candidates(scores, liked, "minmax")[0], [0, 0, 1])


def test_csr_arrays_read_as_scipy_selects() -> None:
    """stored_cells / stored_entries / contributions against scipy's nonzero, row selection and
    S[liked][:, shows], on a CSR as scipy keeps it when built from arrays: a duplicate entry
    (row 0, column 1), an explicit zero, an empty row, unsorted columns; liked rows repeated,
    shows repeated and never reached."""
    from nextshow.recommenders.item_similarity import contributions
    from nextshow.recommenders.selection import stored_cells, stored_entries

    data = np.array([0.5, 0.0, 0.25, 1.0, 2.0, 0.125, 3.0])
    indices = np.array([1, 3, 1, 0, 5, 5, 2])
    S = sp.csr_matrix((data, indices, np.array([0, 3, 3, 5, 7])), shape=(4, 6))
    r, c = stored_cells(S)
    want_r, want_c = S.nonzero()
    np.testing.assert_array_equal(r, want_r)
    np.testing.assert_array_equal(c, want_c)
    liked = np.array([3, 0, 1, 0])
    which, column, value = stored_entries(S, liked)
    picked = S[liked]
    np.testing.assert_array_equal(which, np.repeat(np.arange(4), np.diff(picked.indptr)))
    np.testing.assert_array_equal(column, picked.indices)
    np.testing.assert_array_equal(value, picked.data)
    many = np.resize(liked, 100)  # past FEW_ROWS: scipy's selection, the same entries
    which, column, value = stored_entries(S, many)
    picked = S[many]
    np.testing.assert_array_equal(which, np.repeat(np.arange(100), np.diff(picked.indptr)))
    np.testing.assert_array_equal(column, picked.indices)
    np.testing.assert_array_equal(value, picked.data)
    shows = np.array([1, 4, 5, 1, 2])
    want = S[liked][:, shows].toarray()
    assert want[1, 0] == 0.75  # the duplicate is summed
    np.testing.assert_array_equal(contributions(S, liked, shows), want)
    np.testing.assert_array_equal(contributions(S.toarray(), liked, shows), want)


def test_top_contributors_by_hand_and_against_a_full_sort() -> None:
    """Largest positive contribution first, ties by the lower liked show, at most k; zero and
    negative contributions never count."""
    from nextshow.recommenders.selection import top_contributors

    liked = np.array([7, 2, 9, 4])
    contrib = np.array(
        [
            [0.5, 0.0, 1.0, -1.0],
            [0.5, 0.0, 2.0, 3.0],
            [0.25, 0.0, 3.0, 0.0],
            [0.5, 0.0, 4.0, 0.0],
        ]
    )
    assert top_contributors(contrib, liked) == [(2, 4, 7), (), (4, 9, 2), (2,)]
    assert top_contributors(contrib, liked, k=1) == [(2,), (), (4,), (2,)]
    assert top_contributors(np.zeros((0, 3)), np.zeros(0, dtype=np.int64)) == [(), (), ()]
    rng = np.random.default_rng(42)
    for _ in range(50):
        n_liked = int(rng.integers(1, 9))
        liked = rng.choice(100, n_liked, replace=False)
        contrib = rng.integers(-1, 4, size=(n_liked, 6)) / 2.0  # many ties, zeros, negatives
        want = []
        for col in contrib.T:
            pos = np.flatnonzero(col > 0)
            order = pos[np.lexsort((liked[pos], -col[pos]))][:3]
            want.append(tuple(int(liked[i]) for i in order))
        assert top_contributors(contrib, liked) == want
