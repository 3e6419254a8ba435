"""Promotion behind the quality gate, with the comparison made on the same evaluation."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from nextshow.config import Settings
from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.frozen_gate import frozen_split, score_version
from nextshow.pipeline.train import TrainOptions, evaluate_on_snapshot, protocol_from_settings
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.versions import (
    GateDecision,
    GateRefused,
    gate,
    get_version,
    production_version,
    promote,
    version_metrics,
    version_params,
)

log = logging.getLogger(__name__)


def gate_decision(
    sessions: sessionmaker[Session],
    store: ArtifactStore,
    *,
    version_id: int,
    metric: str,
    tolerance: float,
    protocol: Protocol | None = None,
) -> GateDecision:
    """Compare the candidate with production on the candidate's snapshot.

    When production was trained on another snapshot its stored metrics are not comparable (other
    users, other held-out likes), so its recipe (model and params) is re-evaluated on the
    candidate's snapshot with ``protocol`` (the one the candidate was trained with: the
    settings' protocol for the triggers and the admin retrain).
    """
    protocol = protocol or Protocol()
    with sessions() as session:
        candidate = get_version(session, version_id)
        current = production_version(session)
        if current is None:
            return gate(version_metrics(candidate), None, metric=metric, tolerance=tolerance)
        if current.snapshot_id == candidate.snapshot_id:
            return gate(
                version_metrics(candidate),
                version_metrics(current),
                metric=metric,
                tolerance=tolerance,
                basis=f"both on snapshot {candidate.snapshot_id}",
            )
        snapshot_id = candidate.snapshot_id
        # The engine is part of the recipe: Spark's ALS is not implicit's.
        recipe = TrainOptions(
            model=current.model_name,
            params=version_params(current),
            protocol=protocol.with_changes(tune=False),
            engine=current.engine,
        )
        production_id = current.id
    baseline = evaluate_on_snapshot(store, snapshot_id, recipe).metrics
    on_snapshot = gate(
        version_metrics(candidate),
        baseline,
        metric=metric,
        tolerance=tolerance,
        basis=f"snapshot check: version {production_id}'s recipe re-evaluated on snapshot "
        f"{snapshot_id}",
    )
    if not on_snapshot.passed:
        return on_snapshot
    on_frozen = frozen_split_gate(
        sessions,
        store,
        candidate_id=version_id,
        metric=metric,
        tolerance=tolerance,
        protocol=protocol,
    )
    return on_frozen if not on_frozen.passed else on_snapshot


def frozen_split_gate(
    sessions: sessionmaker[Session],
    store: ArtifactStore,
    *,
    candidate_id: int,
    metric: str,
    tolerance: float,
    protocol: Protocol | None = None,
) -> GateDecision:
    """Candidate and production artifacts scored on production's frozen test split, made by
    ``protocol`` (the one the gate re-evaluates with) at the gate metric's k."""
    with sessions() as session:
        candidate = get_version(session, candidate_id)
        current = production_version(session)
        if current is None:
            return gate(version_metrics(candidate), None, metric=metric, tolerance=tolerance)
        session.expunge_all()  # detached rows keep their loaded columns for the scoring below
    protocol = protocol or Protocol()
    if "@" in metric:
        protocol = protocol.with_changes(k=int(metric.rsplit("@", 1)[1]))
    frozen = frozen_split(store, current.snapshot_id, protocol)
    return gate(
        score_version(store, candidate, frozen, protocol),
        score_version(store, current, frozen, protocol),
        metric=metric,
        tolerance=tolerance,
        basis=f"frozen-split check: both versions on production {current.id}'s test split of "
        f"snapshot {current.snapshot_id}",
    )


def promote_with_gate(
    sessions: sessionmaker[Session],
    store: ArtifactStore,
    *,
    version_id: int,
    metric: str = "ndcg@10",
    tolerance: float = 0.0,
    force: bool = False,
    reason: str | None = None,
    protocol: Protocol | None = None,
) -> GateDecision:
    """Promote ``version_id`` if the gate passes (or forced); GateRefused otherwise.

    The refusal is committed before it is raised, so the registry remembers every refusal.
    """
    decision = gate_decision(
        sessions,
        store,
        version_id=version_id,
        metric=metric,
        tolerance=tolerance,
        protocol=protocol,
    )
    with sessions() as session, session.begin():
        event = promote(
            session, version_id=version_id, decision=decision, force=force, reason=reason
        )
        action = event.action
    log.info("promotion of version %s: %s (%s)", version_id, action, decision.explain())
    if action == "refuse":
        raise GateRefused(decision)
    return decision


def gate_options(settings: Settings, tolerance: float | None = None) -> dict[str, Any]:
    """The gate's metric, tolerance and evaluation protocol from the settings (``tolerance``
    overrides), so every path to production compares the same way."""
    return {
        "metric": settings.gate_metric,
        "tolerance": settings.gate_tolerance if tolerance is None else tolerance,
        "protocol": protocol_from_settings(settings),
    }
