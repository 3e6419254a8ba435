"""The pipeline chooses the model: candidates tuned on validation, the coverage floor applied."""

from __future__ import annotations

from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.train import TrainOptions, train_options, train_version
from nextshow.registry.snapshots import export_snapshot


def test_train_without_a_model_registers_the_chosen_one(seeded):
    store, artifacts = seeded
    with store.sessions() as s, s.begin():
        snapshot_id = export_snapshot(s, artifacts, like_threshold=8.0, source="test")[0].id
    options = TrainOptions(
        model=None, candidates="popularity,itemknn,recent-popularity", protocol=Protocol()
    )
    result = train_version(store.sessions, artifacts, snapshot_id=snapshot_id, options=options)
    choice = result.choice
    assert choice is not None and choice["selected"] == result.model
    # popularity and recent popularity give everyone one list: below 10 x popularity's coverage.
    assert "popularity" in choice["below_floor"] and "recent-popularity" in choice["below_floor"]
    assert result.model == "itemknn"
    assert {"novelty@10", "personalization@10", "longtail_ndcg@10"} <= set(result.metrics)


def test_settings_decide_model_and_protocol(seeded):
    store, _ = seeded
    chosen = train_options(store.settings)
    assert chosen.model is None and chosen.candidates == "all"
    assert chosen.protocol.split == "auto" and chosen.protocol.time_budget == 1800.0
    override = train_options(
        store.settings.model_copy(update={"default_model": "itemknn", "eval_split": "user-time"})
    )
    assert override.model == "itemknn" and override.protocol.split == "user-time"
