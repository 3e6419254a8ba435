"""Rejected input rows: what was wrong and where, collected and written to a report."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from nextshow.catalog.normalize import first_control_character


@dataclass(frozen=True)
class Reject:
    """One rejected input line: the file, its 1-based line number, the field and the reason."""

    file: str
    line: int
    field: str
    reason: str
    raw: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" + (f" [{self.field}]" if self.field else "")
        return f"{where}: {self.reason}"


def control_character_reject(
    file: str, number: int, fields: Sequence[tuple[str, str]], raw: str
) -> Reject | None:
    """A reject naming the first field (name, value) holding a control character, or None.

    NUL gave a 500 on PostgreSQL and ANSI escapes reached the pages: refused per field, the same on
    every database.
    """
    for name, value in fields:
        bad = first_control_character(value)
        if bad is not None:
            reason = f"{name} contains the control character U+{ord(bad):04X}"
            return Reject(file, number, name, reason, raw.encode("unicode_escape").decode())
    return None


# Rejects kept in memory for the summary; every reject goes to the report file as it happens,
# so a file of millions of bad lines costs a file on disk, not memory.
REJECT_SAMPLE = 100
REPORT_COLUMNS = ["file", "line", "field", "reason", "raw"]


class RejectReport:
    """A rejects CSV under ``reports_dir``, created on the first reject and written as they come."""

    def __init__(self, reports_dir: Path, stem: str) -> None:
        self._dir = reports_dir
        self._stem = stem
        self._handle: IO[str] | None = None
        self._writer: Any = None
        self.path: Path | None = None

    def write(self, reject: Reject) -> None:
        if self._handle is None:
            self._dir.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            self.path = self._dir / f"rejects-{self._stem}-{stamp}.csv"
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(REPORT_COLUMNS)
        self._writer.writerow([reject.file, reject.line, reject.field, reject.reason, reject.raw])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


@dataclass
class ImportSummary:
    """What an import did: counts per outcome, a sample of the rejects, where the report went.

    ``rejects`` holds the first :data:`REJECT_SAMPLE` rejects; ``rejected`` counts them all. Add
    rejects with :meth:`reject`, which also streams them to the report opened by :meth:`reporting`.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # valid but filtered out on purpose (e.g. too few votes)
    rejects: list[Reject] = field(default_factory=list)
    rejected: int = 0
    report_path: Path | None = None
    aborted: str | None = None  # why the import stopped early (truncated or oversized input)
    _report: RejectReport | None = field(default=None, repr=False, compare=False)

    @contextmanager
    def reporting(self, reports_dir: Path, stem: str) -> Iterator[ImportSummary]:
        """Stream rejects to a report under ``reports_dir`` while the block runs."""
        self._report = RejectReport(reports_dir, stem)
        try:
            yield self
        finally:
            self._report.close()
            self.report_path = self._report.path
            self._report = None

    def reject(self, reject: Reject) -> None:
        self.rejected += 1
        if len(self.rejects) < REJECT_SAMPLE:
            self.rejects.append(reject)
        if self._report is not None:
            self._report.write(reject)

    def as_dict(self) -> dict[str, object]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "report": str(self.report_path) if self.report_path else None,
            "aborted": self.aborted,
        }
