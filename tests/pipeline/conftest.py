"""A small store with time-stamped likes, enough to train and evaluate models in a second."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import insert, select

from nextshow.catalog.normalize import normalize_title
from nextshow.db.models import Rating, Show, User
from nextshow.registry.artifact_store import ArtifactStore


def seed_ratings(
    store, *, n_users: int = 120, n_shows: int = 40, seed: int = 42, first_user: int = 0
) -> int:
    """Users in three taste groups with popular shows per group; returns the number of ratings.

    Shows are created on the first call; later calls (with another ``first_user``) add users.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(first_user, first_user + n_users):
        group = user % 3
        favourites = [s for s in range(n_shows) if s % 3 == group]
        picked = rng.choice(favourites, size=min(8, len(favourites)), replace=False)
        others = rng.choice(n_shows, size=3, replace=False)
        for rank, show in enumerate([*picked, *others]):
            liked = show in picked
            # Every user likes at the same moments (rank), so one global cut-off splits each user.
            when = 1_600_000_000 + rank * 10_000 + user
            rows.append((user, int(show), 9.0 if liked else 4.0, when))
    with store.sessions() as s, s.begin():
        if first_user == 0:
            s.execute(
                insert(Show),
                [
                    {
                        "title": f"Show {i}",
                        "normalized_title": normalize_title(f"Show {i}"),
                        "source": "test",
                        "external_id": str(i),
                        "user_submitted": False,
                        "start_year": 2000 + i % 20,
                        "genres": "Drama,Comedy" if i % 2 else "Crime",
                    }
                    for i in range(n_shows)
                ],
            )
        s.execute(
            insert(User),
            [
                {"external_id": str(u), "source": "test", "anonymous": False}
                for u in range(first_user, first_user + n_users)
            ],
        )
        show_id = {int(e): i for i, e in s.execute(select(Show.id, Show.external_id))}
        user_id = {int(e): i for i, e in s.execute(select(User.id, User.external_id))}
        unique = {(u, sh): (r, ts) for u, sh, r, ts in rows}
        s.execute(
            insert(Rating),
            [
                {
                    "user_id": user_id[u],
                    "show_id": show_id[sh],
                    "rating": r,
                    "liked": r >= 8,
                    "source": "test",
                    "rated_at": datetime.fromtimestamp(ts, UTC),
                }
                for (u, sh), (r, ts) in unique.items()
            ],
        )
    return len(unique)


@pytest.fixture
def seeded(store):
    """A store with ratings, its settings and its local artifact store."""
    seed_ratings(store)
    artifacts = ArtifactStore(store.settings.artifacts_url)
    return store, artifacts
