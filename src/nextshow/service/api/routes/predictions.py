"""Asynchronous predictions: ask (202 + id), then poll (or long-poll with ``wait``) until done;
or ask with ``Prefer: wait=S`` and get the answer in one request when it is ready in time."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from nextshow.schemas.predictions import (
    InputMatch,
    PredictionAccepted,
    PredictionCreate,
    PredictionPublic,
    prediction_json,
)
from nextshow.service.api.deps import Services, ServicesDep, require_likes
from nextshow.service.predictions import (
    IdempotencyConflict,
    autocommit_engine,
    client_key,
    create_request,
    read_request,
    write_guard,
)
from nextshow.service.prefer import preferred_wait
from nextshow.service.problems import ProblemError, problem_responses
from nextshow.service.recommend import match_inputs, may_create
from nextshow.service.waiter import NOT_FOUND, run_read

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/predictions", tags=["predictions"])


MAX_WAIT_SECONDS = 30

WAIT_DESCRIPTION = (
    "With `Prefer: wait=S` (RFC 7240; S whole seconds, at most "
    f"{MAX_WAIT_SECONDS}), the request is held until the prediction is done or failed, or S "
    "seconds have passed. Settled in time, it is answered 200 with the body a `GET` of "
    "`status_url` gives (headers `Preference-Applied: wait=S` and `Content-Location`): one "
    "request instead of two. Otherwise, or without the header, 202 as usual: poll (or "
    "long-poll) `status_url`. A `wait` that is not whole seconds is ignored, a longer one "
    f"counts as {MAX_WAIT_SECONDS}; when the server already holds as many waiting requests as "
    "its connection limit, or is stopping, it answers 202 at once."
)


@router.post(
    "",
    status_code=202,
    response_model=PredictionAccepted,
    responses={
        200: {
            "model": PredictionPublic,
            "description": "Settled within `Prefer: wait=S`: the prediction, as `GET` gives it.",
        },
        **problem_responses(400, 409, 413, 422, 429, 503),
    },
    summary="Ask for recommendations; poll status_url for the answer (or send Prefer: wait)",
    description=WAIT_DESCRIPTION,
)
async def create_prediction(
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
    prefer: Annotated[
        list[str] | None,
        Header(description="`wait=S`: answer 200 with the prediction if it settles within S s."),
    ] = None,
) -> Response:
    key = client_key(request.client.host if request.client else None)
    # Matching, the write and the enqueue block (SQLite's write guard, the queue's client): in
    # a thread, as FastAPI runs a plain ``def`` route; only the wait stays on the event loop.
    accepted = await run_in_threadpool(_accept, services, body, idempotency_key, key)
    wait = preferred_wait(prefer or (), MAX_WAIT_SECONDS)
    if wait:
        row = await services.waiter.wait(accepted.prediction_id, wait)
        if row is not None and row is not NOT_FOUND:
            return prediction_response(
                row,
                headers={
                    "Preference-Applied": f"wait={wait}",
                    "Content-Location": accepted.status_url,
                },
            )
    # Serialised once here rather than validated again by FastAPI against response_model.
    return Response(
        accepted.model_dump_json(),
        status_code=202,
        media_type="application/json",
        headers={"Location": accepted.status_url},
    )


def _accept(
    services: Services,
    body: PredictionCreate,
    idempotency_key: str | None,
    key: str | None,
) -> PredictionAccepted:
    """Match, store and enqueue the request; its 202 body."""
    add = set(body.add_shows)
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
    return accepted


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
    # is one row by primary key (see run_read).
    key = str(prediction_id)
    # With ``wait`` there is no read first (the prediction was asked for a moment ago: it is
    # pending): the waiter's next check says whether it exists and hands over the settled row.
    # After the time-out, or when it cannot hold the request, the state is read.
    request = await services.waiter.wait(key, wait) if wait > 0 else None
    if request is None:
        request = await run_read(services.sessions, read_request, key)
    if request is None or request is NOT_FOUND:
        raise ProblemError(404, f"no prediction {prediction_id}", kind="not-found")
    return prediction_response(request)


def prediction_response(row: Any, headers: dict[str, str] | None = None) -> Response:
    """The 200 answer for a stored prediction's row: what a GET of it gives.

    Serialised once here rather than validated again by FastAPI against response_model; the
    stored results as they are, when the current schema wrote them.
    """
    return Response(prediction_json(row), media_type="application/json", headers=headers)
