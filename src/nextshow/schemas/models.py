"""Model versions of the registry and its history of promotions (API, web pages and CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nextshow.schemas.common import Body, Page, Parsed


class ModelVersionPublic(Body):
    """One registered version (a ``model_versions`` row)."""

    version: int = Field(validation_alias="id")
    model: str = Field(validation_alias="model_name")
    engine: str  # the training engine: numpy or spark
    stage: str
    snapshot: str = Field(validation_alias="snapshot_id")
    params: Annotated[dict[str, Any], Parsed]
    metrics: Annotated[dict[str, float], Parsed]
    fit_seconds: Annotated[float, AfterValidator(lambda s: round(s, 3))]
    artifact_bytes: int
    code_version: str
    git_commit: str | None
    created_at: datetime
    promoted_at: datetime | None


class ModelVersionsPublic(Page[ModelVersionPublic]):
    """The registry's versions, oldest first."""


class ModelEventPublic(Body):
    """One registry change (a ``model_events`` row): register, promote, refuse or rollback."""

    at: datetime
    action: str
    version: int = Field(validation_alias="version_id")
    previous_production: int | None = Field(validation_alias="previous_production_id")
    forced: bool
    reason: str | None


class AdminAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class AdminResult(Body):
    action: str
    version: int | None = None
    detail: str
