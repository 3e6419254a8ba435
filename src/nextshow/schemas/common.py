"""Pieces the bodies share: input limits, the problem document, JSON text columns, pages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from nextshow.catalog.normalize import MAX_TITLE_LENGTH

MAX_SHOWS = 5
MAX_N = 50
MAX_USER_ID = 128
MAX_EXCLUDE = 50  # shows one visit may turn down ("not for me")

ShowText = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TITLE_LENGTH, pattern=r"\S")
]
ShowId = Annotated[int, Field(ge=1, le=2**31 - 1)]  # the INTEGER key of ``shows``
UserId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_USER_ID, pattern=r"^[A-Za-z0-9_.@:-]+$")
]


def _loads(value: Any) -> Any:
    # Rows keep lists and mappings as JSON text; the body holds the parsed value.
    return json.loads(value) if isinstance(value, str | bytes) else value


Parsed = BeforeValidator(_loads)


class Body(BaseModel):
    """Base of every response body: built from ORM rows, Core rows or other bodies."""

    # A field with a default is still always in the JSON: the response schema says so.
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )


Item = TypeVar("Item", bound=Body)


class Page(Body, Generic[Item]):
    """A list body: ``data`` and how many items it holds."""

    data: list[Item]
    count: int

    @classmethod
    def of(cls, items: Iterable[Any]) -> Self:
        """The page of ``items`` (rows or objects), each validated as the item type."""
        data = list(items)
        return cls.model_validate({"data": data, "count": len(data)})


class Problem(BaseModel):
    """RFC 9457 problem details (media type application/problem+json)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None
