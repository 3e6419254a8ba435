"""What starts the pipeline: the CLI, "enough new likes", and (with the worker) a schedule.

Every trigger calls :func:`run_pipeline`, the one path from live tables to a gated promotion.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from nextshow.config import Settings
from nextshow.db.models import DatasetSnapshot, ModelVersion, Rating
from nextshow.pipeline.promotion import gate_options, promote_with_gate
from nextshow.pipeline.snapshots import take_snapshot
from nextshow.pipeline.train import TrainOptions, TrainResult, train_options, train_version
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.versions import GateDecision, GateRefused, production_version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineOutcome:
    """What one pipeline run did."""

    trigger: str
    ran: bool
    reason: str
    new_likes: int | None = None
    train: TrainResult | None = None
    promoted: bool = False
    decision: GateDecision | None = None


def new_likes_since_production(session: Session) -> int | None:
    """Likes written after the production model's snapshot was taken; None without production."""
    current = production_version(session)
    if current is None:
        return None
    as_of = session.scalar(
        select(DatasetSnapshot.data_as_of).where(DatasetSnapshot.id == current.snapshot_id)
    )
    query = select(func.count()).select_from(Rating).where(Rating.liked)
    if as_of is not None:
        query = query.where(Rating.updated_at > as_of)
    return int(session.scalar(query) or 0)


def run_pipeline(
    sessions: sessionmaker[Session],
    store: ArtifactStore,
    settings: Settings,
    *,
    trigger: str,
    options: TrainOptions | None = None,
    progress: bool = False,
) -> PipelineOutcome:
    """Snapshot the live tables, train and register a candidate, promote it if the gate passes."""
    options = options or train_options(settings)
    with sessions() as session, session.begin():
        manifest, _ = take_snapshot(session, store, settings)
    result = train_version(
        sessions, store, snapshot_id=manifest.id, options=options, progress=progress
    )
    try:
        decision = promote_with_gate(
            sessions,
            store,
            version_id=result.version_id,
            reason=f"automatic: {trigger}",
            **gate_options(settings),
        )
    except GateRefused as refused:
        log.warning("version %s not promoted: %s", result.version_id, refused)
        return PipelineOutcome(trigger, True, str(refused), train=result, decision=refused.decision)
    return PipelineOutcome(
        trigger, True, decision.explain(), train=result, promoted=True, decision=decision
    )


def retrain_if_needed(
    sessions: sessionmaker[Session],
    store: ArtifactStore,
    settings: Settings,
    *,
    progress: bool = False,
) -> PipelineOutcome:
    """Run the pipeline when ``retrain_min_new_likes`` likes arrived since production's snapshot
    (or when nothing is in production yet); 0 turns this trigger off."""
    threshold = settings.retrain_min_new_likes
    if threshold == 0:
        return PipelineOutcome("new-likes", False, "trigger off (retrain_min_new_likes = 0)")
    with sessions() as session:
        new_likes = new_likes_since_production(session)
    if new_likes is not None and new_likes < threshold:
        return PipelineOutcome(
            "new-likes", False, f"{new_likes} new likes < {threshold}", new_likes=new_likes
        )
    why = "no production model" if new_likes is None else f"{new_likes} new likes >= {threshold}"
    outcome = run_pipeline(sessions, store, settings, trigger=why, progress=progress)
    return PipelineOutcome(
        "new-likes",
        outcome.ran,
        f"{why}; {outcome.reason}",
        new_likes=new_likes,
        train=outcome.train,
        promoted=outcome.promoted,
        decision=outcome.decision,
    )


def last_pipeline_run(session: Session) -> datetime | None:
    """When the newest model version was registered (any trigger), in UTC."""
    return session.scalar(select(func.max(ModelVersion.created_at)))


def scheduled_retrain(
    sessions: sessionmaker[Session],
    store: ArtifactStore,
    settings: Settings,
    *,
    now: datetime | None = None,
    progress: bool = False,
) -> PipelineOutcome:
    """The periodic trigger: run when ``retrain_interval_hours`` passed since the last run.

    Called by ``nextshow scheduler`` (and by a worker's periodic task); 0 turns it off.
    """
    interval = settings.retrain_interval_hours
    if interval <= 0:
        return PipelineOutcome("schedule", False, "schedule off (retrain_interval_hours = 0)")
    now = now or datetime.now(UTC)
    with sessions() as session:
        last = last_pipeline_run(session)
    if last is not None and now - last < timedelta(hours=interval):
        due = last + timedelta(hours=interval)
        return PipelineOutcome("schedule", False, f"next run due at {due.isoformat()}")
    outcome = run_pipeline(
        sessions, store, settings, trigger=f"schedule every {interval} h", progress=progress
    )
    return PipelineOutcome(
        "schedule",
        outcome.ran,
        outcome.reason,
        train=outcome.train,
        promoted=outcome.promoted,
        decision=outcome.decision,
    )


def run_scheduler(
    sessions: sessionmaker[Session],
    store: ArtifactStore,
    settings: Settings,
    *,
    poll_seconds: float = 60.0,
    stop: threading.Event | None = None,
    max_checks: int | None = None,
) -> list[PipelineOutcome]:
    """Check both automatic triggers every ``poll_seconds`` until ``stop`` is set.

    A failed run is logged and the loop goes on: one bad night must not stop retraining.
    """
    stop = stop or threading.Event()
    outcomes: list[PipelineOutcome] = []
    checks = 0
    while not stop.is_set() and (max_checks is None or checks < max_checks):
        checks += 1
        for trigger in (scheduled_retrain, retrain_if_needed):
            try:
                outcome = trigger(sessions, store, settings)
            except Exception:
                log.exception("%s failed", trigger.__name__)
                continue
            outcomes.append(outcome)
            if outcome.ran:
                log.info("%s: %s", outcome.trigger, outcome.reason)
                break  # one pipeline run per check is enough
        if max_checks is None or checks < max_checks:
            stop.wait(poll_seconds)
    return outcomes
