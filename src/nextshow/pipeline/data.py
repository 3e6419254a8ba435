"""A snapshot as the models see it: the evaluation's ``Interactions`` built from Parquet tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from nextshow.evaluation.dataset import Interactions, csr_pair
from nextshow.recommenders import kinds
from nextshow.recommenders.base import ShowMetadata
from nextshow.recommenders.content_features import ROLE_CODES, ShowCredits
from nextshow.registry.snapshots import SnapshotData


def likes_matrix(
    ratings: pa.Table, cutoff: int | None = None, columns: np.ndarray | None = None
) -> tuple[sp.csr_matrix, sp.csr_matrix | None, np.ndarray, np.ndarray]:
    """Likes (users x shows CSR), their timestamps (same sparsity; None when any is missing), and
    the database user ids and show ids of the rows and columns.

    Timestamps after ``cutoff`` (the snapshot's, see ``SnapshotManifest.cutoff``) are clipped to
    it: the newest trusted like, not the newest request, is the "now" of time-decayed models.

    Only users with at least one like get a row; the columns are the shows with at least one
    like, or ``columns`` (sorted show ids, a superset of the liked ones) when given. Ids are
    sorted, so the same snapshot always gives the same matrices.
    """
    liked = ratings.column("liked").to_numpy(zero_copy_only=False)
    users = ratings.column("user_id").to_numpy()[liked]
    shows = ratings.column("show_id").to_numpy()[liked]
    rated_at = ratings.column("rated_at").to_numpy(zero_copy_only=False)[liked]
    user_ids, rows = np.unique(users, return_inverse=True)
    if columns is None:
        show_ids, cols = np.unique(shows, return_inverse=True)
    else:
        show_ids, cols = columns, np.searchsorted(columns, shows)
    times = np.asarray(rated_at, dtype=np.float64)
    if cutoff is not None:
        times = np.minimum(times, float(cutoff))  # NaN (unknown time) stays NaN
    likes, timestamps = csr_pair(rows, cols, times, (len(user_ids), len(show_ids)))
    if len(times) == 0 or np.isnan(times).any():
        return likes, None, user_ids, show_ids
    return likes, timestamps, user_ids, show_ids


def uses_catalogue(model: str) -> bool:
    """Whether ``model`` wants every catalogue show as a column and the credits (content models)."""
    return bool(getattr(kinds.get(model), "uses_catalogue", False))


def catalogue_columns(shows: pa.Table, ratings: pa.Table) -> np.ndarray:
    """Sorted ids of the shows a content model may recommend: every catalogue show except
    user-submitted ones nobody has liked (a typed title is not a catalogue entry until liked)."""
    ids = shows.column("show_id").to_numpy()
    submitted = shows.column("user_submitted").to_numpy(zero_copy_only=False).astype(bool)
    liked = ratings.column("liked").to_numpy(zero_copy_only=False).astype(bool)
    liked_ids = np.unique(ratings.column("show_id").to_numpy()[liked])
    return np.union1d(ids[~submitted], liked_ids)


def credits_of(credits: pa.Table | None, show_ids: np.ndarray) -> ShowCredits | None:
    """The snapshot's credits as parallel arrays over the matrix columns (``show_ids``)."""
    if credits is None or credits.num_rows == 0:
        return None
    show = credits.column("show_id").to_numpy()
    pos = np.searchsorted(show_ids, show)
    inside = (pos < len(show_ids)) & (show_ids[np.minimum(pos, len(show_ids) - 1)] == show)
    _, first, person = np.unique(
        credits.column("person_id").to_numpy()[inside], return_index=True, return_inverse=True
    )
    names = np.asarray(credits.column("name").to_pylist(), dtype=object)[inside]
    roles = credits.column("role").to_pylist()
    role = np.array([ROLE_CODES.index(r) for r, keep in zip(roles, inside, strict=True) if keep])
    ordering = credits.column("ordering").fill_null(0).to_numpy()[inside]
    return ShowCredits(
        show=pos[inside].astype(np.int64),
        person=person.astype(np.int64),
        role=role.astype(np.int64),
        ordering=ordering.astype(np.int64),
        names=[str(names[i]) for i in first],
    )


def interactions_from_snapshot(data: SnapshotData, *, catalogue: bool = False) -> Interactions:
    """Likes, timestamps and show metadata of a snapshot; matrix columns are sorted show ids.

    The metadata's database and IMDb ids become the vocabulary the trained model carries.

    ``catalogue=True`` (content models): every catalogue show is a column, liked or not
    (:func:`catalogue_columns`), and the metadata carries the snapshot's credits.

    Vectorised (no per-row Python) because the original-scale set has half a million ratings.
    """
    columns = catalogue_columns(data.shows, data.ratings) if catalogue else None
    likes, timestamps, user_ids, show_ids = likes_matrix(
        data.ratings, data.manifest.cutoff, columns
    )
    shows = data.shows
    all_ids = shows.column("show_id").to_numpy()
    position = {int(show_id): i for i, show_id in enumerate(all_ids)}
    rows = np.array([position[int(s)] for s in show_ids], dtype=np.int64)

    def column(name: str) -> list:
        values = shows.column(name).to_pylist()
        return [values[i] for i in rows]

    genres = [tuple(g.split(",")) if g else () for g in column("genres")]
    metadata = ShowMetadata(
        show_ids=show_ids.astype(np.int64),
        titles=[t or "" for t in column("title")],
        start_year=np.array([y or 0 for y in column("start_year")], dtype=np.int32),
        imdb_rating=np.array(
            [np.nan if r is None else r for r in column("imdb_rating")], dtype=np.float32
        ),
        imdb_votes=np.array([v or 0 for v in column("imdb_votes")], dtype=np.int64),
        genres=genres,
        imdb_ids=[i or "" for i in column("imdb_id")],
        title_types=[t or "" for t in column("title_type")],
        credits=credits_of(data.credits, show_ids) if catalogue else None,
    )
    return Interactions(
        likes=likes,
        timestamps=timestamps,
        metadata=metadata,
        user_ids=[str(u) for u in user_ids],
        show_keys=[str(s) for s in show_ids],
        n_ratings=data.ratings.num_rows,
        like_threshold=data.manifest.like_threshold,
    )
