"""Shows as the service answers with them: one type, in layers from a reference to the detail.

Built with ``model_validate`` from a ``shows`` row, a matcher hit (``show_id``) or another show
body; the holder caches :class:`ShowPublic` per model, so answering needs no query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, computed_field

from nextshow.schemas.common import Body, Page


def _genres(value: Any) -> Any:
    # The catalogue keeps genres comma-separated (IMDb style); bodies list them.
    if value is None:
        return []
    if isinstance(value, str):
        return [g for g in value.split(",") if g]
    if isinstance(value, Iterable):
        return list(value)
    return value


Genres = Annotated[list[str], BeforeValidator(_genres)]


class ShowRef(Body):
    """A show named in an answer: a match, a candidate, a liked show behind a recommendation."""

    id: int = Field(validation_alias=AliasChoices("id", "show_id"))
    title: str
    start_year: int | None = None
    imdb_id: str | None = None


class ShowPublic(ShowRef):
    """What an answer shows about a show."""

    end_year: int | None = None
    genres: Genres = Field(default_factory=list)
    imdb_rating: float | None = None
    imdb_votes: int | None = None
    title_type: str | None = Field(default=None, description="IMDb type: tvSeries, movie, …")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def imdb_url(self) -> str | None:
        return f"https://www.imdb.com/title/{self.imdb_id}/" if self.imdb_id else None


class ShowDetail(ShowPublic):
    """One show (``GET /api/shows/{id}``)."""

    original_title: str | None
    imdb_votes: int | None
    user_submitted: bool


class ShowHit(ShowRef):
    """An autocomplete suggestion."""

    end_year: int | None = None
    imdb_rating: float | None = None
    score: float = Field(description="Match quality 0–100 (not rank).")
    match: str
    title_type: str | None = Field(default=None, description="IMDb type: tvSeries, movie, …")


class ShowsPublic(Page[ShowHit]):
    """Autocomplete suggestions."""


class PendingShow(ShowRef):
    """A user-submitted title waiting for review."""

    likers: int = Field(description="Distinct users who liked it.")


class PendingShowsPublic(Page[PendingShow]):
    """User-submitted titles waiting for review, oldest first."""


class ShowMerge(BaseModel):
    """Where a pending show's likes go."""

    model_config = ConfigDict(extra="forbid")

    into: int = Field(ge=1, le=2**31 - 1, description="The catalogue show it really is.")
