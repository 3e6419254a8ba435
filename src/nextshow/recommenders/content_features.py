"""Show-show content similarity maths over IMDb metadata, as pure functions.

A show is described by four blocks of sparse features (rows = shows, aligned with the columns of
likes): the people credited on it, its genres, its era and its title type. Each block is
IDF-weighted (a person or genre shared by few shows says more than one shared by many, as in
Salton & Buckley, "Term-weighting approaches in automatic text retrieval", 1988), its rows are
L2-normalised and scaled by the square root of the block's weight, so the dot product of two
rows is ``sum over blocks of weight * cosine`` and each block's share of a similarity can be
read back to explain it. Cost: the people block has one entry per credit; the similarity is
computed in row chunks and cut to the ``k`` best neighbours per show, so memory stays
O(chunk x shows + shows x k) whatever the catalogue size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.similarity import top_k_per_row

ROLE_CODES = ("creator", "writer", "director", "actor", "other")
CREATOR, WRITER, DIRECTOR, ACTOR, OTHER = range(len(ROLE_CODES))
ERA_YEARS = 5  # width of an era bucket; neighbours count half (a triangular kernel)


@dataclass(frozen=True)
class ShowCredits:
    """People credited on the shows, one entry per (show, person, role).

    ``show`` indexes the shows (columns of likes), ``person`` indexes ``names``, ``role`` indexes
    :data:`ROLE_CODES`, ``ordering`` is IMDb's billing order (0 = unknown).
    """

    show: np.ndarray
    person: np.ndarray
    role: np.ndarray
    ordering: np.ndarray
    names: list[str]


@dataclass(frozen=True)
class RoleWeights:
    """How much sharing a person in each role says about two shows."""

    creator: float = 3.0
    writer: float = 1.0
    director: float = 1.0
    actor: float = 1.5
    other: float = 0.2

    def as_array(self) -> np.ndarray:
        return np.array(
            [self.creator, self.writer, self.director, self.actor, self.other], dtype=np.float64
        )


def idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """``log(n_docs / df)``; 0 where df is 0 or covers every document."""
    df = np.asarray(df, dtype=np.float64)
    return np.log(np.divide(n_docs, df, out=np.ones_like(df), where=df > 0))


def normalise_rows(X: sp.csr_matrix, weight: float, floor: float = 0.0) -> sp.csr_matrix:
    """Rows scaled to L2 norm ``sqrt(weight)`` (empty rows stay empty); rows shorter than
    ``floor`` are scaled as if their norm were ``floor``, so a show whose only tie is one minor
    credit does not look as close as one sharing its creators."""
    X = sp.csr_matrix(X, dtype=np.float64)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms = np.where(norms > 0, np.maximum(norms, floor), 0.0)
    scale = np.divide(np.sqrt(weight), norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ X)


def strongest_credits(
    credits: ShowCredits, n_shows: int, roles: RoleWeights
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """shows x people: the weight of each person's strongest role on each show (role weight x
    billing, ``1/sqrt(order)`` for actors), and that role's code + 1, with the same sparsity.

    The strongest role, not the sum: a creator who also writes is one tie, not two.
    """
    shape = (n_shows, len(credits.names))
    if len(credits.show) == 0:
        return sp.csr_matrix(shape, dtype=np.float64), sp.csr_matrix(shape, dtype=np.float64)
    role = np.asarray(credits.role, dtype=np.int64)
    weights = roles.as_array()[role]
    order = np.asarray(credits.ordering, dtype=np.float64)
    billing = np.where(order > 0, 1.0 / np.sqrt(np.maximum(order, 1.0)), 0.5)
    weights = np.where(role == ACTOR, weights * billing, weights)
    rows = np.asarray(credits.show, dtype=np.int64)
    cols = np.asarray(credits.person, dtype=np.int64)
    order_ = np.lexsort((-weights, cols, rows))
    r, c = rows[order_], cols[order_]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    keep = order_[first]
    W = sp.csr_matrix((weights[keep], (rows[keep], cols[keep])), shape=shape)
    R = sp.csr_matrix((role[keep] + 1.0, (rows[keep], cols[keep])), shape=shape)
    return W, R


def people_idf(W: sp.csr_matrix) -> np.ndarray:
    """IDF of each person over the shows (columns of ``W``, shows x people); 0 for people on
    one show only, who can tie that show to nothing and would only dilute its cosines."""
    df = np.asarray((W > 0).sum(axis=0)).ravel()
    return np.where(df > 1, idf(df, W.shape[0]), 0.0)


def genre_block(genres: Sequence[Sequence[str]]) -> tuple[sp.csr_matrix, list[str]]:
    """shows x genres, IDF-weighted, and the genre names (sorted)."""
    vocab = sorted({g for show in genres for g in show})
    index = {g: i for i, g in enumerate(vocab)}
    rows = [i for i, show in enumerate(genres) for g in set(show)]
    cols = [index[g] for show in genres for g in set(show)]
    X = sp.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(genres), len(vocab)), dtype=np.float64
    )
    df = np.asarray(X.sum(axis=0)).ravel()
    return sp.csr_matrix(X @ sp.diags(idf(df, len(genres)))), vocab


def era_block(start_year: np.ndarray) -> sp.csr_matrix:
    """shows x era buckets of :data:`ERA_YEARS` years: 1 for the show's bucket, 0.5 for its
    neighbours, so shows a few years apart still share something. Unknown years (0): no entry."""
    years = np.asarray(start_year, dtype=np.int64)
    known = np.flatnonzero(years > 0)
    if len(known) == 0:
        return sp.csr_matrix((len(years), 1), dtype=np.float64)
    bucket = years[known] // ERA_YEARS
    lo = int(bucket.min()) - 1
    rows = np.concatenate([known, known, known])
    cols = np.concatenate([bucket - 1, bucket, bucket + 1]) - lo
    vals = np.concatenate([np.full(len(known), 0.5), np.ones(len(known)), np.full(len(known), 0.5)])
    width = int(bucket.max()) - lo + 2
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(years), width))


def type_block(title_types: Sequence[str]) -> sp.csr_matrix:
    """shows x title types, one-hot (no entry for an unknown type)."""
    vocab = sorted({t for t in title_types if t})
    index = {t: i for i, t in enumerate(vocab)}
    rows = [i for i, t in enumerate(title_types) if t]
    cols = [index[t] for t in title_types if t]
    return sp.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(title_types), max(len(vocab), 1))
    )


def content_similarity(X: sp.csr_matrix, k: int, chunk: int = 256) -> sp.csr_matrix:
    """``X @ X.T`` with a zero diagonal, keeping each row's ``k`` largest entries.

    Row chunks bound the memory of the product (genres and eras make it nearly dense).
    """
    X = sp.csr_matrix(X, dtype=np.float64)
    XT = sp.csr_matrix(X.T)
    parts = []
    for start in range(0, X.shape[0], chunk):
        block = sp.csr_matrix(X[start : start + chunk] @ XT)
        rows = np.arange(block.shape[0])
        # Subtract the self-similarities (the diagonal of this row block) rather than assign.
        diag = np.asarray(block[rows, start + rows]).ravel()
        block = sp.csr_matrix(
            block - sp.csr_matrix((diag, (rows, start + rows)), shape=block.shape)
        )
        parts.append(top_k_per_row(block.tocsr(), k))
    if not parts:
        return sp.csr_matrix((0, 0), dtype=np.float64)
    S = sp.vstack(parts, format="csr")
    S.sort_indices()
    return S


def prior_scores(
    imdb_rating: np.ndarray | None, imdb_votes: np.ndarray | None, n: int
) -> np.ndarray:
    """A weak prior in [0, 1]: ``log(1 + votes) / max`` x ``rating / 10`` (0 when unknown)."""
    if imdb_votes is None:
        return np.zeros(n)
    votes = np.log1p(np.maximum(np.asarray(imdb_votes, dtype=np.float64), 0.0))
    top = votes.max(initial=0.0)
    votes = votes / top if top > 0 else votes
    if imdb_rating is None:
        return votes
    rating = np.nan_to_num(np.asarray(imdb_rating, dtype=np.float64), nan=5.0) / 10.0
    return votes * rating
