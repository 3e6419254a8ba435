"""Progress bars for long work (imports, downloads, training), off when not wanted."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm


def progress_enabled(setting: bool | None) -> bool:
    """The setting when given, else on only for an interactive terminal."""
    return sys.stderr.isatty() if setting is None else setting


def progress_bar(*, enabled: bool, **kwargs: Any) -> tqdm:
    """A tqdm bar on stderr; ``enabled=False`` gives a silent one with the same interface."""
    return tqdm(disable=not enabled, file=sys.stderr, dynamic_ncols=True, **kwargs)


def file_progress_bar(path: Path, *, enabled: bool, desc: str) -> tqdm:
    """A bar over a file's size in bytes, for importers that report bytes consumed."""
    return progress_bar(
        enabled=enabled,
        total=path.stat().st_size,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=desc,
    )
