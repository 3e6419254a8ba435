"""The title index's lookup structures: sorted prefix keys, names and per-show arrays.

Built once from all shows, or copied with one more show (copy on write), never changed in place:
a search holds one :class:`Tables` for its whole run.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nextshow.catalog.normalize import normalize_title
from nextshow.catalog.titles import ShowRow

# Names cut to the query's length are cached per length up to this; a list costs ~0.7 MB and
# ~1 ms per 10k shows. Longer queries are compared with whole names (by then most of a title
# has been typed).
MAX_TRUNCATED_CACHE = 32
KIND_START = 0  # key is a whole name: "breaking bad"
KIND_WORD = 1  # key starts at a later word: "bad"


@dataclass(frozen=True)
class Tables:
    """The derived lookup structures, replaced as a whole (copy on write) when a show is added.

    A search holds one ``_Tables`` for its whole run, so a concurrent ``add`` never shows it a
    half-updated index. Positions refer to the append-only per-show lists of the index.
    """

    keys: list[str]  # sorted prefix keys
    key_pos: np.ndarray  # int32, show position of each key
    key_kind: np.ndarray  # int8, KIND_START or KIND_WORD
    key_name_len: np.ndarray  # float32, length of the whole name the key comes from
    names: list[str]  # every normalised name (title, original title, stored alias)
    name_pos: np.ndarray  # int32, show position of each name
    name_len: np.ndarray  # int16, length of each name
    show_ids: np.ndarray  # int64, by position
    pop: np.ndarray  # float32, popularity by position
    exact: dict[str, tuple[int, ...]]  # normalised name -> positions
    truncated: dict[int, list[str]] = field(default_factory=dict)

    def truncated_names(self, length: int) -> list[str]:
        """Every name cut to ``length`` characters, for typos in a prefix; cached per length."""
        if length > MAX_TRUNCATED_CACHE:
            return self.names
        cached = self.truncated.get(length)
        if cached is None:
            # Benign race: two threads may both build the same list; either result is right.
            cached = [name[:length] for name in self.names]
            self.truncated[length] = cached
        return cached


def names_of(row: ShowRow) -> list[str]:
    """The distinct normalised names a show is found by (title, original title, stored alias,
    alternative titles)."""
    names: list[str] = []
    for raw, already_normal in (
        (row.title, False),
        (row.original_title, False),
        (row.normalized_title, True),
        *((aka, False) for aka in row.aliases),
    ):
        if not raw:
            continue
        name = " ".join(raw.split()) if already_normal else normalize_title(raw)
        if name and name not in names:
            names.append(name)
    return names


def keys_of(name: str) -> list[tuple[str, int]]:
    """Prefix keys of one name: the whole name, and the name from each later word on."""
    keys = [(name, KIND_START)]
    start = name.find(" ")
    while start != -1:
        keys.append((name[start + 1 :], KIND_WORD))
        start = name.find(" ", start + 1)
    return keys


def build_tables(rows: Sequence[ShowRow]) -> Tables:
    """The lookup structures of ``rows``; a show's position is its index in ``rows``."""
    keys: list[tuple[str, int, int, int]] = []  # key, position, kind, name length
    names: list[str] = []
    name_pos: list[int] = []
    exact: dict[str, list[int]] = {}
    for pos, row in enumerate(rows):
        for name in names_of(row):
            names.append(name)
            name_pos.append(pos)
            exact.setdefault(name, []).append(pos)
            keys.extend((key, pos, kind, len(name)) for key, kind in keys_of(name))
    keys.sort()
    return Tables(
        keys=[k[0] for k in keys],
        key_pos=np.fromiter((k[1] for k in keys), dtype=np.int32, count=len(keys)),
        key_kind=np.fromiter((k[2] for k in keys), dtype=np.int8, count=len(keys)),
        key_name_len=np.fromiter((k[3] for k in keys), dtype=np.float32, count=len(keys)),
        names=names,
        name_pos=np.asarray(name_pos, dtype=np.int32),
        name_len=np.asarray([len(name) for name in names], dtype=np.int16),
        show_ids=np.asarray([r.id for r in rows], dtype=np.int64),
        pop=np.asarray([r.popularity for r in rows], dtype=np.float32),
        exact={name: tuple(positions) for name, positions in exact.items()},
    )


def with_row(tables: Tables, row: ShowRow, pos: int) -> Tables:
    """A copy of ``tables`` with one more show at ``pos``, its keys at their sorted place."""
    keys = list(tables.keys)
    key_pos, key_kind, key_len = tables.key_pos, tables.key_kind, tables.key_name_len
    names = list(tables.names)
    name_pos, name_len = tables.name_pos, tables.name_len
    exact = dict(tables.exact)
    for name in names_of(row):
        names.append(name)
        name_pos = np.append(name_pos, np.int32(pos))
        name_len = np.append(name_len, np.int16(len(name)))
        exact[name] = (*exact.get(name, ()), pos)
        for key, kind in keys_of(name):
            at = bisect.bisect_right(keys, key)
            keys.insert(at, key)
            key_pos = np.insert(key_pos, at, pos)
            key_kind = np.insert(key_kind, at, kind)
            key_len = np.insert(key_len, at, len(name))
    return Tables(
        keys=keys,
        key_pos=key_pos,
        key_kind=key_kind,
        key_name_len=key_len,
        names=names,
        name_pos=name_pos,
        name_len=name_len,
        show_ids=np.append(tables.show_ids, np.int64(row.id)),
        pop=np.append(tables.pop, np.float32(row.popularity)),
        exact=exact,
    )
