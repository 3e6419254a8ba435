"""Route dependencies, written once as ``Annotated`` aliases."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from nextshow.catalog.matching import TitleIndex
from nextshow.config import Settings
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.schemas.predictions import InputMatch
from nextshow.service.holder import ModelHolder, ServingModel
from nextshow.service.middleware import Metrics
from nextshow.service.problems import ProblemError, problem_responses
from nextshow.service.queue import PredictionQueue
from nextshow.service.recommend import liked_ids
from nextshow.service.waiter import PredictionWaiter
from nextshow.service.web.catalogue import CatalogueLabel


@dataclass
class Services:
    """Everything a request may need; built once per process in the app's lifespan."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ArtifactStore
    index: TitleIndex
    holder: ModelHolder
    queue: PredictionQueue
    waiter: PredictionWaiter
    metrics: Metrics = field(default_factory=Metrics)
    catalogue: CatalogueLabel = field(default_factory=CatalogueLabel)


# The in-memory dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in the
# thread pool, and three pool round trips per request cost more than the recommendation itself.
async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.sessions() as session:
        yield session


# These two read the app state themselves instead of depending on ``get_services``: each level
# of dependencies costs FastAPI tens of microseconds per request, on the hottest route.
async def get_model(request: Request) -> ServingModel:
    # Read once per request: a hot swap during the request does not affect it.
    return request.app.state.services.holder.current


async def get_index(request: Request) -> TitleIndex:
    return request.app.state.services.index


SessionDep = Annotated[Session, Depends(get_session)]
RecommenderDep = Annotated[ServingModel, Depends(get_model)]
IndexDep = Annotated[TitleIndex, Depends(get_index)]


def is_admin(request: Request, token: str | None) -> bool:
    """Whether the request carries the configured admin bearer token (never without one)."""
    if token is None:
        return False
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


async def require_admin(request: Request, services: ServicesDep) -> None:
    """Bearer token from settings; without a configured token the admin routes do not exist."""
    token = services.settings.admin_token
    if token is None:
        raise ProblemError(404, "admin routes are disabled (no NEXTSHOW_ADMIN_TOKEN set)")
    if not is_admin(request, token):
        raise ProblemError(
            401, "a valid admin bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )


def require_likes(matches: Sequence[InputMatch]) -> list[int]:
    """The liked show ids of the matches; a 422 naming every input when there is none."""
    liked = liked_ids(matches)
    if not liked:
        raise ProblemError(
            422,
            "none of the shows could be identified: pick one of the candidates",
            kind="no-match",
            matches=[m.model_dump(mode="json") for m in matches],
        )
    return liked


def in_memory_get(router: APIRouter, response_model: type, summary: str) -> Callable[..., Any]:
    """``GET ""`` on ``router`` for a route answered from memory (title index, model).

    Such routes are ``async def`` on purpose: matching and scoring are in-memory work of about a
    millisecond, and the event loop runs them without a thread-pool hop.
    """
    return router.get(
        "",
        response_model=response_model,
        responses=problem_responses(400, 422, 429),
        summary=summary,
    )
