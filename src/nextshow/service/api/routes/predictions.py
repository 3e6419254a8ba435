"""Asynchronous predictions: ask (202 + id), then poll until done."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from nextshow.schemas.predictions import PredictionAccepted, PredictionCreate, PredictionPublic
from nextshow.service.api.deps import ServicesDep, require_likes
from nextshow.service.predictions import (
    IdempotencyConflict,
    client_key,
    create_request,
    read_request,
    write_guard,
)
from nextshow.service.problems import ProblemError, problem_responses
from nextshow.service.recommend import match_inputs

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/predictions", tags=["predictions"])


@router.post(
    "",
    status_code=202,
    response_model=PredictionAccepted,
    responses=problem_responses(400, 409, 413, 422, 429, 503),
    summary="Ask for recommendations; poll status_url for the answer",
)
def create_prediction(
    body: PredictionCreate,
    request: Request,
    response: Response,
    services: ServicesDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=128,
            pattern=r"^[\x21-\x7e]+$",
            description="Repeat a POST safely: the same key and body return the same prediction.",
        ),
    ] = None,
) -> PredictionAccepted:
    # Matching may create user-submitted shows; they, and the request, commit together before
    # the 202, so an accepted request is never lost even when no worker runs.
    with write_guard(services.sessions), services.sessions() as session, session.begin():
        matches = match_inputs(
            services.index, body.shows, session=session, create_new=set(body.add_shows)
        )
        require_likes(matches)
        try:
            stored, created = create_request(
                session,
                inputs=body.shows,
                matches=matches,
                user_external_id=body.user_id,
                n=body.n,
                idempotency_key=idempotency_key,
                client_key=client_key(request.client.host if request.client else None),
            )
        except IdempotencyConflict as err:
            raise ProblemError(409, str(err), kind="idempotency-conflict") from err
        accepted = PredictionAccepted.model_validate(stored)
    if created:
        try:
            services.queue.enqueue_prediction(accepted.prediction_id)
        except Exception:
            # Stored but not queued: the worker's periodic sweep re-enqueues stale requests.
            log.exception(
                "could not enqueue prediction %s; it will be re-enqueued", accepted.prediction_id
            )
    response.headers["Location"] = accepted.status_url
    return accepted


@router.get(
    "/{prediction_id}",
    response_model=PredictionPublic,
    responses=problem_responses(404, 422, 429),
    summary="A prediction's status, and its recommendations when done",
)
async def get_prediction(prediction_id: uuid.UUID, services: ServicesDep) -> Response:
    # Clients poll this route several times per prediction, so it skips what it can: on SQLite
    # the read (one row by primary key; WAL readers never wait for writers) runs on the event
    # loop without a thread-pool hop; PostgreSQL's round trip goes to a thread. The answer is
    # serialised once here rather than validated again by FastAPI against response_model.
    key = str(prediction_id)
    if services.sessions.kw["bind"].dialect.name == "sqlite":
        request = read_request(services.sessions, key)
    else:
        request = await run_in_threadpool(read_request, services.sessions, key)
    if request is None:
        raise ProblemError(404, f"no prediction {prediction_id}", kind="not-found")
    body = PredictionPublic.model_validate(request).model_dump_json()
    return Response(body, media_type="application/json")
