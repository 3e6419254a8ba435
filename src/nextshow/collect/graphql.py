"""IMDb's GraphQL API for further review pages: the request to send and how to read the answer.

Operation ``TitleReviewsRefine`` with variables ``const`` (tt id), ``first`` (page size, 50 at
most), ``after`` (the previous page's ``endCursor``; the review page's own ``endCursor`` works as
the first one), ``filter`` (``{}``), ``locale`` and ``sort`` (``{"by": HELPFULNESS_SCORE |
SUBMISSION_DATE, "order": "DESC"}``). Two ways to send it:

- **nextshow's own query document** (the default): a POST of ``{operationName, query, variables}``
  asking ``Title.reviews(first, after, filter, sort)`` for exactly the fields the parser reads, so
  those fields are under our control and no hash has to be kept up to date.
- **a persisted query**: a GET with ``extensions.persistedQuery`` (``version`` 1 and the
  ``sha256Hash`` IMDb's web client uses, which IMDb rotates every few months), as that client
  does. An unknown hash answers ``PersistedQueryNotFound`` in ``errors`` (HTTP 200 or 400).

The answer is ``data.title.reviews`` in the shape of the page's JSON (see :mod:`.reviews`). A body
with ``errors`` is a failure, whatever the HTTP status: :func:`parse_answer` raises GraphQLError
with IMDb's message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from nextshow.collect.reviews import ReviewPage, parse_connection

HELPFULNESS = "HELPFULNESS_SCORE"
NEWEST = "SUBMISSION_DATE"
MAX_PAGE_SIZE = 50
PERSISTED_QUERY_NOT_FOUND = "PersistedQueryNotFound"

# The fields asked for are the ones parse_connection reads, nothing more.
_DOCUMENT = """query {operation}($const: ID!, $first: Int!, $after: ID, $filter: ReviewsFilter,
    $sort: ReviewsSort) {{
  title(id: $const) {{
    reviews(first: $first, after: $after, filter: $filter, sort: $sort) {{
      total
      pageInfo {{ endCursor hasNextPage }}
      edges {{ node {{ id authorRating submissionDate spoiler author {{ userId }} }} }}
    }}
  }}
}}"""


class GraphQLError(Exception):
    """An answer that carries ``errors`` (or is no GraphQL answer at all), with IMDb's message."""

    def __init__(self, message: str, *, persisted_query_not_found: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.persisted_query_not_found = persisted_query_not_found


@dataclass(frozen=True)
class GraphQLOptions:
    """Where and how to ask: endpoint, operation, page size, and the persisted-query switch."""

    url: str
    operation: str = "TitleReviewsRefine"
    page_size: int = 25
    persisted: bool = False
    query_hash: str | None = None
    locale: str = "en-US"

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"review page size must be 1–{MAX_PAGE_SIZE}, not {self.page_size}")
        if self.persisted and not self.query_hash:
            raise ValueError("persisted queries need NEXTSHOW_IMDB_REVIEWS_QUERY_HASH")


def query_document(operation: str) -> str:
    """nextshow's query document for the reviews operation."""
    return _DOCUMENT.format(operation=operation)


def variables(options: GraphQLOptions, imdb_id: str, after: str | None, sort: str) -> dict:
    """The operation's variables; ``locale`` only for the persisted query, which declares it."""
    values: dict[str, Any] = {
        "const": imdb_id,
        "first": options.page_size,
        "after": after,
        "filter": {},
        "sort": {"by": sort, "order": "DESC"},
    }
    if options.persisted:
        values["locale"] = options.locale
    return values


def build_request(
    options: GraphQLOptions, imdb_id: str, after: str | None, sort: str
) -> tuple[str, str, bytes | None]:
    """(method, url, body) of one page request: a GET for a persisted query, else a POST."""
    values = variables(options, imdb_id, after, sort)
    if options.persisted:
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": options.query_hash}}
        query = {
            "operationName": options.operation,
            "variables": json.dumps(values, separators=(",", ":")),
            "extensions": json.dumps(extensions, separators=(",", ":")),
        }
        separator = "&" if "?" in options.url else "?"
        return "GET", f"{options.url}{separator}{urlencode(query)}", None
    body = {
        "operationName": options.operation,
        "query": query_document(options.operation),
        "variables": values,
    }
    return "POST", options.url, json.dumps(body).encode()


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def has_errors(body: bytes) -> bool:
    """Whether a GraphQL body is a failure (``errors`` present, or not JSON at all)."""
    answer = _load(body)
    return not isinstance(answer, dict) or bool(answer.get("errors"))


def parse_answer(body: bytes, imdb_id: str) -> ReviewPage:
    """The review page in a GraphQL answer; raises GraphQLError on ``errors`` or another shape."""
    answer = _load(body)
    if not isinstance(answer, dict):
        raise GraphQLError(f"not a GraphQL answer: {body[:120]!r}")
    errors = answer.get("errors")
    if errors:
        errors = errors if isinstance(errors, list) else [errors]
        messages = [e.get("message", str(e)) if isinstance(e, dict) else str(e) for e in errors]
        codes = [
            str((e.get("extensions") or {}).get("code", "")) if isinstance(e, dict) else ""
            for e in errors
        ]
        missing = any(PERSISTED_QUERY_NOT_FOUND in text for text in messages + codes)
        raise GraphQLError("; ".join(messages), persisted_query_not_found=missing)
    data = answer.get("data")
    title = data.get("title") if isinstance(data, dict) else None
    connection = title.get("reviews") if isinstance(title, dict) else None
    page = parse_connection(connection, imdb_id, source="graphql")
    if page is None:
        raise GraphQLError(f"no data.title.reviews in the answer for {imdb_id}")
    return page
