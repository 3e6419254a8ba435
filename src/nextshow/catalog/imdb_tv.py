"""Streaming parsers for IMDb's people and TV datasets: who made and starred in each kept show.

Five files (https://developer.imdb.com/non-commercial-datasets/), tab separated with a header row,
``\\N`` for null, comma-separated lists and no quoting, like title.basics:

- ``title.principals`` (~90M lines): billed people per title; a ``writer`` whose job is
  ``created by`` / ``creator`` is the show's creator (IMDb has no separate creators field).
- ``title.crew`` (~11M): directors and writers per title, as lists of ``nm`` ids.
- ``title.akas`` (~50M): alternative titles per title, by region and language.
- ``title.episode`` (~9M): one line per episode with its series, season and number.
- ``name.basics`` (~14M): people's names.

Each file is read once, line by line, and only lines about a kept key survive the first cheap
test: the key field's bytes are looked up in ``keep`` (the kept shows' ``tt`` ids, or the
referenced people's ``nm`` ids) before anything is decoded or split, which is what makes the
90M-line file cost little more than its decompression. Memory is the ``keep`` set plus one line.

As in title.basics, a line with the wrong number of fields is rejected whatever its key; the
fields of lines about other titles are not validated (they are never stored). Every parser
yields a parsed row or a :class:`~nextshow.rejects.Reject` naming the file, line and field.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from nextshow.catalog.imdb_import import NULL, parse_count
from nextshow.db.limits import LANGUAGE_CODE, PERSON_NAME, TITLE
from nextshow.ids import is_person_id
from nextshow.rejects import ImportSummary, Reject, control_character_reject
from nextshow.textio import OverlongLine, ProgressCallback, iter_lines

PRINCIPALS_COLUMNS = ("tconst", "ordering", "nconst", "category", "job", "characters")
CREW_COLUMNS = ("tconst", "directors", "writers")
AKAS_COLUMNS = (
    "titleId",
    "ordering",
    "title",
    "region",
    "language",
    "types",
    "attributes",
    "isOriginalTitle",
)
EPISODE_COLUMNS = ("tconst", "parentTconst", "seasonNumber", "episodeNumber")
NAMES_COLUMNS = (
    "nconst",
    "primaryName",
    "birthYear",
    "deathYear",
    "primaryProfession",
    "knownForTitles",
)
ROLES = ("creator", "writer", "director", "actor", "other")
CREATOR_JOBS = frozenset({"created by", "creator", "series created by"})

T = TypeVar("T")


@dataclass(frozen=True)
class Credit:
    """A person's role on a title; ``ordering`` is IMDb's billing order (None from title.crew)."""

    tconst: str
    nconst: str
    role: str
    ordering: int | None


@dataclass(frozen=True)
class AltTitle:
    """One title.akas line about a kept title."""

    tconst: str
    ordering: int
    title: str
    region: str | None
    language: str | None
    is_original: bool


@dataclass(frozen=True)
class Episode:
    """One episode of a kept series (season and number may be unknown)."""

    parent: str
    season: int | None
    number: int | None


@dataclass(frozen=True)
class PersonName:
    nconst: str
    name: str


def role_of(category: str, job: str) -> str:
    """title.principals' category (and job) -> one of :data:`ROLES`."""
    if category == "writer":
        return "creator" if job.strip().lower() in CREATOR_JOBS else "writer"
    if category == "director":
        return "director"
    if category in ("actor", "actress", "self"):  # self: hosts and presenters, on screen
        return "actor"
    return "other"


def stream(
    path: Path,
    columns: tuple[str, ...],
    *,
    key_field: int,
    keep: Container[bytes],
    parse: Callable[[str, int, list[str]], T | Reject],
    summary: ImportSummary,
    on_progress: ProgressCallback | None = None,
) -> Iterator[T | Reject]:
    """Parsed rows (or Rejects) of the lines whose ``key_field`` is in ``keep``.

    Lines about other keys are counted in ``summary.skipped`` without being decoded. A file
    whose header is not ``columns`` yields one Reject and nothing else.
    """
    file = str(path)
    tabs = len(columns) - 1
    for number, data in iter_lines(path, on_progress=on_progress):
        if isinstance(data, OverlongLine):  # skipped unread by iter_lines: never a header
            yield Reject(file, number, "", data.reason())
            if number == 1:
                return
            continue
        if number == 1:
            header = data.decode("utf-8", errors="replace")
            if tuple(header.split("\t")) != columns:
                yield Reject(file, 1, "header", f"not a {path.name} header", header)
                return
            continue
        if not data:
            continue
        found = data.count(b"\t")
        if found != tabs:
            raw = data.decode("utf-8", errors="backslashreplace")
            reason = f"expected {tabs + 1} fields, got {found + 1}"
            yield Reject(file, number, "", reason, raw)
            continue
        key = data.partition(b"\t")[0] if key_field == 0 else data.split(b"\t")[key_field]
        if key not in keep:
            summary.skipped += 1
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = data.decode("utf-8", errors="backslashreplace")
            yield Reject(file, number, "", f"not valid UTF-8 ({exc.reason})", raw)
            continue
        yield parse(file, number, text.split("\t"))


def _bad(file: str, number: int, parts: list[str], name: str, reason: str) -> Reject:
    return Reject(file, number, name, reason, "\t".join(parts))


def parse_principal(file: str, number: int, parts: list[str]) -> Credit | Reject:
    tconst, ordering_text, nconst, category, job, _characters = parts
    try:
        ordering = parse_count(ordering_text)
    except ValueError:
        return _bad(file, number, parts, "ordering", f"not a number: {ordering_text!r}")
    if not is_person_id(nconst):
        return _bad(file, number, parts, "nconst", f"not an IMDb person id: {nconst!r}")
    if category in ("", NULL):
        return _bad(file, number, parts, "category", "empty")
    return Credit(tconst, nconst, role_of(category, "" if job == NULL else job), ordering)


def parse_crew(file: str, number: int, parts: list[str]) -> list[Credit] | Reject:
    tconst, directors, writers = parts
    credits: list[Credit] = []
    for name, text, role in (("directors", directors, "director"), ("writers", writers, "writer")):
        if text == NULL:
            continue
        for nconst in text.split(","):
            if not is_person_id(nconst):
                return _bad(file, number, parts, name, f"not an IMDb person id: {nconst!r}")
            credits.append(Credit(tconst, nconst, role, None))
    return credits


def _code(text: str) -> str | None:
    if text == NULL or text == "":
        return None
    if len(text) > LANGUAGE_CODE:
        raise ValueError(text)
    return text


def parse_aka(file: str, number: int, parts: list[str]) -> AltTitle | Reject:
    tconst, ordering_text, title, region, language, _types, _attributes, original = parts
    try:
        ordering = parse_count(ordering_text)
    except ValueError:
        ordering = None
    if ordering is None:
        return _bad(file, number, parts, "ordering", f"not a number: {ordering_text!r}")
    if title in ("", NULL) or len(title) > TITLE:
        return _bad(file, number, parts, "title", f"empty or longer than {TITLE} characters")
    fields = (("title", title), ("region", region), ("language", language))
    control = control_character_reject(file, number, fields, "\t".join(parts))
    if control is not None:
        return control
    if original not in ("0", "1", NULL):
        return _bad(file, number, parts, "isOriginalTitle", f"not 0 or 1: {original!r}")
    codes: list[str | None] = []
    for name, text in (("region", region), ("language", language)):
        try:
            codes.append(_code(text))
        except ValueError:
            return _bad(file, number, parts, name, f"longer than {LANGUAGE_CODE} characters")
    return AltTitle(tconst, ordering, title, codes[0], codes[1], original == "1")


def parse_episode(file: str, number: int, parts: list[str]) -> Episode | Reject:
    _tconst, parent, season_text, episode_text = parts
    numbers: list[int | None] = []
    for name, text in (("seasonNumber", season_text), ("episodeNumber", episode_text)):
        try:
            numbers.append(parse_count(text))
        except ValueError:
            return _bad(file, number, parts, name, f"not a number: {text!r}")
    return Episode(parent, numbers[0], numbers[1])


def parse_name(file: str, number: int, parts: list[str]) -> PersonName | Reject:
    nconst, name = parts[0], parts[1]
    if name in ("", NULL) or len(name) > PERSON_NAME:
        return _bad(file, number, parts, "primaryName", "empty or too long")
    control = control_character_reject(file, number, (("primaryName", name),), "\t".join(parts))
    if control is not None:
        return control
    return PersonName(nconst, name)
