"""The gate's frozen-split check splits and scores as the protocol says."""

from __future__ import annotations

from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.frozen_gate import frozen_split, score_version
from nextshow.pipeline.train import TrainOptions, train_version
from nextshow.registry.snapshots import export_snapshot
from nextshow.registry.versions import get_version


def test_frozen_split_follows_the_protocol_and_scores_every_metric(seeded) -> None:
    store, artifacts = seeded
    with store.sessions() as s, s.begin():
        snapshot_id = export_snapshot(s, artifacts, like_threshold=8.0, source="test")[0].id
    protocol = Protocol(tune=False)
    options = TrainOptions(model="itemknn", params={"k": 20}, protocol=protocol)
    trained = train_version(store.sessions, artifacts, snapshot_id=snapshot_id, options=options)

    leak_free = frozen_split(artifacts, snapshot_id, protocol)
    per_user = frozen_split(artifacts, snapshot_id, protocol.with_changes(split="user-time"))
    assert (leak_free.split.rule, per_user.split.rule) == ("global-time", "user-time")
    with store.sessions() as s:
        version = get_version(s, trained.version_id)
        s.expunge_all()
    scores = score_version(artifacts, version, leak_free, protocol)
    # The metrics training reported (the served artifact also saw the held-out likes, so the
    # values differ: it is fitted on the whole snapshot).
    assert set(scores) == set(trained.metrics) - {"test_users"}
    assert {"novelty@10", "personalization@10", "longtail_ndcg@10"} <= set(scores)
    assert 0.0 < scores["ndcg@10"] <= 1.0
