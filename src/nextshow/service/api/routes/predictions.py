"""Asynchronous predictions: ask (202 + id), then poll (or long-poll with ``wait``) until done."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from nextshow.schemas.predictions import (
    InputMatch,
    PredictionAccepted,
    PredictionCreate,
    PredictionPublic,
)
from nextshow.service.api.deps import ServicesDep, require_likes
from nextshow.service.predictions import (
    IdempotencyConflict,
    autocommit_engine,
    client_key,
    create_request,
    read_request,
    write_guard,
)
from nextshow.service.problems import ProblemError, problem_responses
from nextshow.service.recommend import match_inputs, may_create
from nextshow.service.waiter import NOT_FOUND, run_read

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
) -> Response:
    add = set(body.add_shows)
    key = client_key(request.client.host if request.client else None)
    matches = match_inputs(services.index, body.shows)  # remembered: nothing is created here
    try:
        if may_create(matches, add):
            # Unknown titles become user-submitted shows; they and the request commit together
            # before the 202, so an accepted request is never lost even when no worker runs.
            with write_guard(services.sessions), services.sessions() as session, session.begin():
                matches = match_inputs(services.index, body.shows, session=session, create_new=add)
                require_likes(matches)
                accepted, created = _store(session, body, matches, idempotency_key, key)
        else:
            # The common case, known titles: the request row is the only write (PostgreSQL:
            # one INSERT in autocommit, no BEGIN and COMMIT round trips).
            require_likes(matches)
            engine = autocommit_engine(services.engine)
            with write_guard(services.sessions), engine.begin() as conn:
                accepted, created = _store(conn, body, matches, idempotency_key, key)
    except IdempotencyConflict as err:
        raise ProblemError(409, str(err), kind="idempotency-conflict") from err
    if created:
        try:
            services.queue.enqueue_prediction(accepted.prediction_id)
        except Exception:
            # Stored but not queued: the worker's periodic sweep re-enqueues stale requests.
            log.exception(
                "could not enqueue prediction %s; it will be re-enqueued", accepted.prediction_id
            )
    # Serialised once here rather than validated again by FastAPI against response_model.
    return Response(
        accepted.model_dump_json(),
        status_code=202,
        media_type="application/json",
        headers={"Location": accepted.status_url},
    )


def _store(
    executor: Session | Connection,
    body: PredictionCreate,
    matches: list[InputMatch],
    idempotency_key: str | None,
    client: str | None,
) -> tuple[PredictionAccepted, bool]:
    return create_request(
        executor,
        inputs=body.shows,
        matches=matches,
        user_external_id=body.user_id,
        n=body.n,
        idempotency_key=idempotency_key,
        client_key=client,
    )


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
        "one or two requests instead of many. With `wait`, a prediction already settled, or an "
        "unknown id (404), is answered at the server's next check (every 15 ms). When the server "
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
    # With ``wait`` there is no read first (the prediction was asked for a moment ago: it is
    # pending): the waiter's next check says whether it exists and hands over the settled row.
    # After the time-out, or when it cannot hold the request, the state is read.
    request = await services.waiter.wait(key, wait) if wait > 0 else None
    if request is None:
        request = await run_read(services.sessions, read_request, key)
    if request is None or request is NOT_FOUND:
        raise ProblemError(404, f"no prediction {prediction_id}", kind="not-found")
    body = PredictionPublic.model_validate(request).model_dump_json()
    return Response(body, media_type="application/json")
