"""Rejected input rows: what was wrong and where, collected and written to a report."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


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


@dataclass
class ImportSummary:
    """What an import did: counts per outcome, the rejects, and where the report went."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # valid but filtered out on purpose (e.g. too few votes)
    rejects: list[Reject] = field(default_factory=list)
    report_path: Path | None = None

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def as_dict(self) -> dict[str, object]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "report": str(self.report_path) if self.report_path else None,
        }


def write_rejects_report(rejects: list[Reject], reports_dir: Path, stem: str) -> Path:
    """Write rejects as CSV (file, line, field, reason, raw) under ``reports_dir``."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = reports_dir / f"rejects-{stem}-{stamp}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "field", "reason", "raw"])
        for reject in rejects:
            writer.writerow([reject.file, reject.line, reject.field, reject.reason, reject.raw])
    return path
