"""The show vocabulary: which show each column of a model is (database id, IMDb id).

A model only knows column indices. The vocabulary names them and travels inside the artifact
(npz arrays under the artifact's checksum), so a saved model is self-describing: whoever loads
it can turn the show ids of a request into columns and the columns of an answer back into ids
without a side file.

Ids a model has never seen (a show added after training) are never dropped silently:
:meth:`ShowVocabulary.lookup` returns them next to the indices it found (``unknown="report"``)
or raises (``unknown="raise"``), and the caller decides how to log or report them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

# Array names inside the artifact (plain int64 and unicode arrays: no pickle needed).
SHOW_IDS = "show_ids"
IMDB_IDS = "imdb_ids"

UnknownPolicy = Literal["report", "raise"]


class UnknownShowError(KeyError):
    """Show ids the vocabulary does not contain (``lookup(..., unknown="raise")``)."""

    def __init__(self, unknown: Sequence[int]) -> None:
        self.unknown = list(unknown)
        super().__init__(f"show ids not in the model's vocabulary: {self.unknown[:10]}")

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


@dataclass(frozen=True)
class Lookup:
    """What :meth:`ShowVocabulary.lookup` found: column indices (input order, no repeats) and the
    ids it does not know (input order, no repeats)."""

    indices: np.ndarray  # int64
    unknown: list[int]


@dataclass(frozen=True)
class ShowVocabulary:
    """Column ``i`` of a model is the show with database id ``show_ids[i]`` (IMDb id
    ``imdb_ids[i]``, "" when unknown). Ids are unique."""

    show_ids: np.ndarray  # int64, one per column
    imdb_ids: tuple[str, ...] = ()  # empty, or one per column
    _position: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = np.asarray(self.show_ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError(f"show_ids must be 1-D, got shape {ids.shape}")
        position = {int(s): i for i, s in enumerate(ids.tolist())}
        if len(position) != len(ids):
            raise ValueError("show_ids must be unique: two columns cannot be the same show")
        imdb = tuple(str(i or "") for i in self.imdb_ids)
        if imdb and len(imdb) != len(ids):
            raise ValueError(f"{len(imdb)} IMDb ids for {len(ids)} shows")
        object.__setattr__(self, "show_ids", ids)
        object.__setattr__(self, "imdb_ids", imdb)
        object.__setattr__(self, "_position", position)

    @classmethod
    def positional(cls, n_shows: int) -> ShowVocabulary:
        """Column ``i`` is show ``i``: for data that has no ids of its own (synthetic, tests)."""
        return cls(np.arange(n_shows, dtype=np.int64))

    @classmethod
    def from_unique(cls, ids: Iterable[int]) -> tuple[ShowVocabulary, np.ndarray]:
        """A vocabulary of the distinct ``ids`` (sorted), and each input id's column index."""
        arr = np.fromiter((int(i) for i in ids), dtype=np.int64)
        unique, columns = np.unique(arr, return_inverse=True)
        return cls(unique), columns.astype(np.int64)

    def __len__(self) -> int:
        return len(self.show_ids)

    def __contains__(self, show_id: object) -> bool:
        return isinstance(show_id, int | np.integer) and int(show_id) in self._position

    def index_of(self, show_id: int) -> int | None:
        """The column of ``show_id``, or None when the model does not know the show."""
        return self._position.get(int(show_id))

    def lookup(self, show_ids: Iterable[int], unknown: UnknownPolicy = "report") -> Lookup:
        """Column indices of ``show_ids``; unknown ids are reported in the result ("report") or
        raise :class:`UnknownShowError` ("raise"). Never dropped without a word."""
        if unknown not in ("report", "raise"):
            raise ValueError(f"unknown must be 'report' or 'raise', got {unknown!r}")
        found: dict[int, None] = {}
        missing: dict[int, None] = {}
        for show_id in show_ids:
            col = self._position.get(int(show_id))
            if col is None:
                missing.setdefault(int(show_id), None)
            else:
                found.setdefault(col, None)
        if missing and unknown == "raise":
            raise UnknownShowError(list(missing))
        return Lookup(np.fromiter(found, dtype=np.int64, count=len(found)), list(missing))

    def ids_of(self, indices: Iterable[int]) -> list[int]:
        """Database ids of column ``indices``."""
        ids = self.show_ids
        return [int(ids[i]) for i in indices]

    def imdb_id_of(self, index: int) -> str | None:
        """The IMDb id of column ``index`` (None when the vocabulary has none for it)."""
        return (self.imdb_ids[index] or None) if self.imdb_ids else None

    # -- the artifact's part -------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for the artifact (int64 ids, fixed-width unicode IMDb ids)."""
        arrays = {SHOW_IDS: self.show_ids}
        if self.imdb_ids:
            arrays[IMDB_IDS] = np.asarray(self.imdb_ids, dtype=str)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> ShowVocabulary:
        """Inverse of :meth:`to_arrays`; ValueError naming what is wrong."""
        if SHOW_IDS not in arrays:
            raise ValueError(f"vocabulary has no {SHOW_IDS!r} array")
        ids = np.asarray(arrays[SHOW_IDS])
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"vocabulary {SHOW_IDS!r} is {ids.dtype}, not integer")
        imdb = arrays.get(IMDB_IDS)
        return cls(ids, tuple(str(i) for i in imdb.tolist()) if imdb is not None else ())
