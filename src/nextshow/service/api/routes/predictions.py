"""Asynchronous predictions: ask (202 + id), then poll (or long-poll with ``wait``) until done."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

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
from nextshow.service.waiter import run_read

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


MAX_WAIT_SECONDS = 30


@router.get(
    "/{prediction_id}",
    response_model=PredictionPublic,
    responses=problem_responses(404, 422, 429),
    summary="A prediction's status, and its recommendations when done",
    description=(
        f"With `wait=S` (seconds, 0 to {MAX_WAIT_SECONDS}; default 0: answer at once), a "
        "prediction that is still pending is held until it is done or failed, or S seconds have "
        "passed, and then answered as without `wait` (still `pending` when the time ran out). "
        "A client that long-polls with `wait=10` gets the answer as soon as it is ready with "
        "one or two requests instead of many. An unknown id is a 404 at once. When the server "
        "already holds as many waiting requests as its connection limit "
        "(`NEXTSHOW_MAX_CONNECTIONS`), or is shutting down, it answers at once."
    ),
)
async def get_prediction(
    prediction_id: uuid.UUID,
    services: ServicesDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT_SECONDS,
            description=f"Seconds to hold a pending prediction (0 to {MAX_WAIT_SECONDS}).",
        ),
    ] = 0,
) -> Response:
    # Clients poll this route several times per prediction, so it skips what it can: the read
    # is one row by primary key (see run_read), and the answer is serialised once here rather
    # than validated again by FastAPI against response_model.
    key = str(prediction_id)
    request = await run_read(services.sessions, read_request, key)
    if request is None:
        raise ProblemError(404, f"no prediction {prediction_id}", kind="not-found")
    if wait > 0 and request.status == "pending":
        # The waiter hands over the settled row; after the time-out (or when it cannot hold the
        # request) the state is read again: it may have settled since the last check.
        request = await services.waiter.wait(key, wait) or await run_read(
            services.sessions, read_request, key
        )
        if request is None:  # deleted while waiting
            raise ProblemError(404, f"no prediction {prediction_id}", kind="not-found")
    body = PredictionPublic.model_validate(request).model_dump_json()
    return Response(body, media_type="application/json")
