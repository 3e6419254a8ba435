"""The gate's second check: candidate and production scored on production's own frozen test split.

Re-evaluating production's recipe on the candidate's snapshot cannot see poisoning: the poisoned
likes are in that snapshot's training *and* test parts, so both recipes are judged by the
attacker's data. Production's snapshot is immutable and predates the candidate's new likes, so its
held-out likes are a reference no later request can touch. Both trained artifacts recommend for
that split's test users from their training likes, and are scored against the held-out likes.

The candidate has usually been trained on a snapshot that contains those held-out likes, which can
only flatter it: the check is conservative, it refuses a candidate only when it is clearly worse.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nextshow.db.models import ModelVersion
from nextshow.evaluation.evaluate import score_lists, train_popularity
from nextshow.evaluation.protocol import Protocol
from nextshow.evaluation.splits import Split
from nextshow.pipeline.data import interactions_from_snapshot
from nextshow.recommenders.kinds import load_artifact
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.loading import fetch_artifact
from nextshow.registry.snapshots import read_snapshot


@dataclass(frozen=True)
class FrozenSplit:
    """A snapshot's holdout split and the database show id of each of its columns."""

    snapshot_id: str
    split: Split
    show_ids: np.ndarray


def frozen_split(store: ArtifactStore, snapshot_id: str, protocol: Protocol) -> FrozenSplit:
    """The test split of ``snapshot_id`` made by ``protocol``, exactly as training made it
    (every rule is deterministic for a given seed)."""
    interactions = interactions_from_snapshot(read_snapshot(store, snapshot_id))
    split = protocol.split_likes(interactions)
    return FrozenSplit(snapshot_id, split, interactions.metadata.show_ids.astype(np.int64))


def score_version(
    store: ArtifactStore, version: ModelVersion, frozen: FrozenSplit, protocol: Protocol
) -> dict[str, float]:
    """Every metric of a registered version on the frozen split, at ``protocol.k``, scored by the
    evaluation's own function (``score_lists``).

    Liked shows the model does not know are left out of its input; its recommendations of shows
    the split does not know can never be relevant, so they count as misses: all of them become
    one extra column without training likes (the split never saw them).
    """
    k = protocol.k
    with tempfile.TemporaryDirectory(prefix="gate-") as tmp:
        model = load_artifact(fetch_artifact(store, version, Path(tmp)))
    model_ids = model.vocabulary_.show_ids
    to_model = {int(s): i for i, s in enumerate(model_ids.tolist())}
    to_split = {int(s): i for i, s in enumerate(frozen.show_ids.tolist())}
    split = frozen.split
    users = split.test_users
    liked = [
        [to_model[s] for s in frozen.show_ids[split.liked(int(u))].tolist() if s in to_model]
        for u in users
    ]
    known = [i for i, shows in enumerate(liked) if shows]
    unknown = split.n_shows
    recommended: list[list[int]] = [[] for _ in users]  # nothing known: nothing recommended
    for i, row in zip(known, model.recommend_batch([liked[i] for i in known], k), strict=True):
        recommended[i] = [to_split.get(int(model_ids[r.show]), unknown) for r in row]
    relevant = [split.held_out(int(u)) for u in users]
    popularity = train_popularity(split.train)
    if any(unknown in row for row in recommended):
        popularity = np.append(popularity, 0.0)
    scores, _ = score_lists(recommended, relevant, popularity, k=k, seed=protocol.seed)
    return scores
