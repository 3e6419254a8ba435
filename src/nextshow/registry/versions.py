"""Model versions and their stages: register, promote behind a quality gate, roll back.

Stages: ``candidate`` (registered, not serving), ``production`` (at most one, enforced by a unique
partial index), ``archived`` (served before, or replaced). Every change is a ``ModelEvent`` with
time and reason, written in the same transaction as the change itself.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nextshow.db.models import ModelEvent, ModelVersion, utcnow

DEFAULT_GATE_METRIC = "ndcg@10"


class RegistryError(Exception):
    """A registry operation that cannot be done (unknown version, nothing to roll back to...)."""


@dataclass(frozen=True)
class GateDecision:
    """The quality gate's comparison: candidate vs production on the same evaluation."""

    metric: str
    candidate: float
    production: float | None
    tolerance: float  # relative: 0.01 lets the candidate be up to 1 % worse
    passed: bool
    basis: str  # how the production figure was obtained

    def explain(self) -> str:
        if self.production is None:
            return "no production model: the candidate passes"
        floor = self.production * (1 - self.tolerance)
        verdict = "passes" if self.passed else "is refused"
        return (
            f"candidate {self.metric}={self.candidate:.4f} vs production {self.production:.4f} "
            f"({self.basis}); floor with tolerance {self.tolerance:.1%} is {floor:.4f}: {verdict}"
        )


class GateRefused(RegistryError):
    """The candidate is worse than production beyond the tolerance."""

    def __init__(self, decision: GateDecision) -> None:
        self.decision = decision
        super().__init__(decision.explain())


def gate(
    candidate: dict[str, float],
    production: dict[str, float] | None,
    *,
    metric: str = DEFAULT_GATE_METRIC,
    tolerance: float = 0.0,
    basis: str = "same snapshot",
) -> GateDecision:
    """Pass without a production figure, or when the candidate is not worse beyond tolerance."""
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1), got {tolerance}")
    if metric not in candidate:
        raise RegistryError(f"candidate has no metric {metric!r}; it has {sorted(candidate)}")
    cand = float(candidate[metric])
    if production is None:
        return GateDecision(metric, cand, None, tolerance, True, "no production model")
    prod = float(production[metric])
    passed = cand >= prod * (1 - tolerance) - 1e-12
    return GateDecision(metric, cand, prod, tolerance, passed, basis)


def register_version(
    session: Session,
    *,
    model_name: str,
    params: dict[str, Any],
    snapshot_id: str,
    metrics: dict[str, float],
    fit_seconds: float,
    artifact_uri: str,
    artifact_sha256: str,
    artifact_bytes: int,
    code_version: str,
    git_commit: str | None,
    engine: str = "numpy",
) -> ModelVersion:
    """Add a candidate version and its ``register`` event (in the caller's transaction)."""
    version = ModelVersion(
        model_name=model_name,
        engine=engine,
        params=json.dumps(params, sort_keys=True),
        snapshot_id=snapshot_id,
        code_version=code_version,
        git_commit=git_commit,
        metrics=json.dumps(metrics, sort_keys=True),
        fit_seconds=fit_seconds,
        artifact_uri=artifact_uri,
        artifact_sha256=artifact_sha256,
        artifact_bytes=artifact_bytes,
        stage="candidate",
    )
    session.add(version)
    session.flush()
    session.add(ModelEvent(version_id=version.id, action="register", forced=False))
    return version


def get_version(session: Session, version_id: int) -> ModelVersion:
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise RegistryError(f"no model version {version_id}")
    return version


def production_version(session: Session, *, lock: bool = False) -> ModelVersion | None:
    query = select(ModelVersion).where(ModelVersion.stage == "production")
    if lock:
        query = query.with_for_update()  # PostgreSQL: serialise concurrent promotions
    return session.scalars(query).one_or_none()


def list_versions(session: Session) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.id)))


def list_events(session: Session) -> list[ModelEvent]:
    return list(session.scalars(select(ModelEvent).order_by(ModelEvent.id)))


def version_metrics(version: ModelVersion) -> dict[str, float]:
    return json.loads(version.metrics)


def version_params(version: ModelVersion) -> dict[str, Any]:
    return json.loads(version.params)


def promote(
    session: Session,
    *,
    version_id: int,
    decision: GateDecision,
    force: bool = False,
    reason: str | None = None,
) -> ModelEvent:
    """Make ``version_id`` production when ``decision`` passed, or when forced with a reason.

    A refusal changes no stage and returns a ``refuse`` event; the caller commits it (so the
    refusal stays on record) and then reports it, e.g. by raising GateRefused.
    """
    if force and not (reason and reason.strip()):
        raise RegistryError("--force needs a --reason: forced promotions must say why")
    candidate = get_version(session, version_id)
    current = production_version(session, lock=True)
    if current is not None and current.id == candidate.id:
        raise RegistryError(f"version {version_id} is already in production")
    details = json.dumps(asdict(decision), sort_keys=True)
    if not decision.passed and not force:
        return _record(
            session, candidate, "refuse", current, forced=False, reason=reason, details=details
        )
    _switch(session, candidate, current)
    return _record(
        session, candidate, "promote", current, forced=force, reason=reason, details=details
    )


def _switch(session: Session, to: ModelVersion, current: ModelVersion | None) -> None:
    """Make ``to`` the production version, archiving ``current``."""
    if current is not None:
        current.stage = "archived"
        session.flush()  # free the single production slot before taking it
    to.stage = "production"
    to.promoted_at = utcnow()


def _record(
    session: Session,
    version: ModelVersion,
    action: str,
    current: ModelVersion | None,
    *,
    forced: bool,
    reason: str | None,
    details: str | None,
) -> ModelEvent:
    """Write one registry event about ``version`` (``current``: production before the action)."""
    event = ModelEvent(
        version_id=version.id,
        action=action,
        previous_production_id=current.id if current else None,
        forced=forced,
        reason=reason,
        details=details,
    )
    session.add(event)
    session.flush()
    return event


def rollback(session: Session, *, reason: str | None = None) -> ModelEvent:
    """Return production to the version it replaced (the last promotion's predecessor)."""
    current = production_version(session, lock=True)
    if current is None:
        raise RegistryError("no production model to roll back")
    last = session.scalars(
        select(ModelEvent)
        # The promotion that first made it production: repeated rollbacks walk back in history.
        .where(ModelEvent.version_id == current.id, ModelEvent.action == "promote")
        .order_by(ModelEvent.id.desc())
        .limit(1)
    ).one_or_none()
    if last is None or last.previous_production_id is None:
        raise RegistryError(
            f"version {current.id} replaced no earlier version: nothing to roll back to"
        )
    previous = get_version(session, last.previous_production_id)
    _switch(session, previous, current)
    return _record(
        session, previous, "rollback", current, forced=False, reason=reason, details=None
    )
