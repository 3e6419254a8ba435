"""Per-show crawl state in the job folder: review ids seen and the newest review date.

One small JSON file per show (``<job>/shows/tt….json``), replaced atomically after every page, so
an interrupted crawl keeps what it saw and a re-crawl of the same job folder

- skips reviews already collected (de-duplication by review id across pages and runs), and
- once the show's first crawl is ``complete``, asks for the newest reviews first
  (``SUBMISSION_DATE`` descending) and stops at reviews already seen or older than ``newest``.

Files are written only here; writing the same state twice gives the same file (idempotent).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


class StateError(ValueError):
    """A state file that cannot be read; names the file and the field."""


@dataclass
class ShowState:
    """What earlier crawls of one show saw."""

    imdb_id: str
    newest: date | None = None
    seen: set[str] = field(default_factory=set)
    complete: bool = False

    def add(self, review_id: str | None, when: date | None) -> None:
        if review_id:
            self.seen.add(review_id)
        if when is not None and (self.newest is None or when > self.newest):
            self.newest = when

    def as_json(self) -> str:
        return json.dumps(
            {
                "imdb_id": self.imdb_id,
                "newest": self.newest.isoformat() if self.newest else None,
                "complete": self.complete,
                "seen": sorted(self.seen),
            },
            indent=1,
        )


class StateStore:
    """The ``shows/`` folder of a job."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, imdb_id: str) -> Path:
        return self.folder / f"{imdb_id}.json"

    def load(self, imdb_id: str) -> ShowState:
        """The show's state; a fresh one when it was never crawled. Raises StateError."""
        path = self.path(imdb_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return ShowState(imdb_id)
        except (OSError, ValueError) as exc:
            raise StateError(f"{path}: not a readable state file ({exc})") from exc
        if not isinstance(data, dict) or data.get("imdb_id") != imdb_id:
            raise StateError(f"{path}: field imdb_id is not {imdb_id!r}")
        seen = data.get("seen", [])
        if not isinstance(seen, list) or not all(isinstance(s, str) for s in seen):
            raise StateError(f"{path}: field seen is not a list of review ids")
        try:
            newest = date.fromisoformat(data["newest"]) if data.get("newest") else None
        except (TypeError, ValueError) as exc:
            raise StateError(f"{path}: field newest is not a date ({exc})") from exc
        return ShowState(imdb_id, newest, set(seen), data.get("complete") is True)

    def save(self, state: ShowState) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(state.imdb_id)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(state.as_json(), encoding="utf-8")
        os.replace(tmp, path)  # never a half-written state file
