"""The model holder: the production model in memory, hot-swapped when the registry changes.

Every request reads :attr:`ModelHolder.current` once and uses that :class:`ServingModel` to the
end, so a swap (one reference assignment) never changes a model under a running request, and
no request waits for a load: loading happens in the holder's polling thread.

Without a production model the holder serves a popularity list computed from the store and
flags every answer (``fallback``). When a newly promoted version cannot be loaded (an
:class:`ArtifactError`: bad checksum, missing file...), the holder keeps the model it has, logs
the failure and reports it in ``/readyz`` until a loadable version is promoted.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from nextshow.catalog.review import unrecommendable_show_ids
from nextshow.db.models import ModelVersion, Rating, Show
from nextshow.recommenders.artifact import ArtifactError
from nextshow.recommenders.base import Recommender
from nextshow.recommenders.kinds import load_artifact
from nextshow.recommenders.vocabulary import ShowVocabulary
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.loading import fetch_artifact
from nextshow.registry.versions import production_version
from nextshow.schemas.shows import ShowPublic, ShowRef

log = logging.getLogger(__name__)

RETRY_FIRST = 5.0  # seconds before a version that failed to load is tried again
RETRY_MAX = 300.0
FALLBACK_NAME = "popularity-fallback"
# How many shows the popularity fallback ranks; more than any page asks for.
FALLBACK_SIZE = 500
# While on the fallback, recompute it at most this often (new likes change popularity).
FALLBACK_REFRESH_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Scored:
    """One recommended show by database id, with the liked show ids that led to it and, when the
    model knows it, the tie in words."""

    show_id: int
    score: float
    because: tuple[int, ...] = ()
    popularity_share: float = 1.0  # how much of the score popularity carries (fallback: all)
    reason: str = ""  # the model's own words for the tie ("created by …, like …")


@dataclass(frozen=True)
class ServingModel:
    """A loaded model with its vocabulary (column <-> show id), or the popularity fallback.

    Immutable: the holder replaces it as a whole.
    """

    version_id: int | None
    name: str
    recommender: Recommender | None
    vocabulary: ShowVocabulary  # the model's own (from its artifact); empty for the fallback
    popular: tuple[Scored, ...]  # for the fallback, and for likes the model does not know
    details: dict[int, ShowPublic]  # the shows of the model and of the popularity list
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Show ids never to offer (pending, rejected, or too few distinct likers; see catalog.review).
    blocked: frozenset[int] = frozenset()
    blocked_columns: tuple[int, ...] = field(init=False)
    # Per-show pieces of an answer, built on first use and kept with this version: every
    # request would otherwise dump and validate the same shows again.
    _fields: dict[int, dict[str, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _refs: dict[int, ShowRef] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        columns = sorted(i for i in map(self.vocabulary.index_of, self.blocked) if i is not None)
        object.__setattr__(self, "blocked_columns", tuple(columns))

    @property
    def fallback(self) -> bool:
        return self.recommender is None

    def public_fields(self, show_id: int) -> dict[str, Any]:
        """The answer's fields of one of :attr:`details` (without the computed ``imdb_url``)."""
        found = self._fields.get(show_id)
        if found is None:
            found = self._fields[show_id] = self.details[show_id].model_dump(exclude={"imdb_url"})
        return found

    def show_ref(self, show_id: int) -> ShowRef:
        """One of :attr:`details` as a :class:`ShowRef` (shared: never modified)."""
        found = self._refs.get(show_id)
        if found is None:
            found = self._refs[show_id] = ShowRef.model_validate(self.details[show_id])
        return found

    def recommend(self, liked_show_ids: Sequence[int], n: int) -> tuple[list[Scored], bool]:
        """Top ``n`` shows for someone who liked ``liked_show_ids``; and whether popularity
        answered (no model, or none of the liked shows is known to it, e.g. a new show).

        Liked shows the model does not know (added since it was trained) are logged, not
        used: the model cannot score from a column it does not have.
        """
        return self.recommend_many([liked_show_ids], [n])[0]

    def recommend_many(
        self, liked_lists: Sequence[Sequence[int]], ns: Sequence[int]
    ) -> list[tuple[list[Scored], bool]]:
        """:meth:`recommend` for each liked list with its ``n``: the same answers, scored in
        one batch (one sparse product for similarity models) where the model allows."""
        for n in ns:  # as the recommender checks it: one bad n fails the batch, not a row
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"n must be a positive int, got {n!r}")
        answers: list[tuple[list[Scored], bool] | None] = [None] * len(liked_lists)
        scored_rows, columns = [], []
        for i, liked in enumerate(liked_lists):
            if self.recommender is None:
                continue
            found = self.vocabulary.lookup(liked, unknown="report")
            if found.unknown:
                log.info(
                    "version %s does not know %d liked show(s): %s",
                    self.version_id,
                    len(found.unknown),
                    found.unknown[:10],
                )
            if len(found.indices):
                scored_rows.append(i)
                columns.append(found.indices)
        if scored_rows:
            assert self.recommender is not None
            most = max(ns[i] for i in scored_rows)  # each list is a prefix of the longest
            exclude = self.blocked_columns or None
            batch = self.recommender.recommend_batch(columns, most, [exclude] * len(columns))
            ids = self.vocabulary.show_ids
            for i, recommendations in zip(scored_rows, batch, strict=True):
                answers[i] = (
                    [
                        Scored(
                            int(ids[r.show]),
                            r.score,
                            tuple(int(ids[b]) for b in r.because),
                            r.popularity_share,
                            r.reason,
                        )
                        for r in recommendations[: ns[i]]
                    ],
                    False,
                )
        for i, liked in enumerate(liked_lists):
            if answers[i] is None:
                skip = set(liked) | self.blocked
                answers[i] = [p for p in self.popular if p.show_id not in skip][: ns[i]], True
        return answers  # type: ignore[return-value]


def popular_shows(session: Session, limit: int = FALLBACK_SIZE) -> list[Scored]:
    """Shows by number of likes (then IMDb votes), scores scaled to 0–1: the fallback answer."""
    likes = func.count(Rating.show_id)
    rows = session.execute(
        select(Rating.show_id, likes)
        .join(Show, Show.id == Rating.show_id)
        .where(Rating.liked)
        .group_by(Rating.show_id, Show.imdb_votes)
        .order_by(likes.desc(), Show.imdb_votes.desc().nulls_last(), Rating.show_id)
        .limit(limit)
    ).all()
    if not rows:
        # No likes yet (a catalogue only): IMDb votes are the best popularity signal left.
        ids = session.scalars(
            select(Show.id).order_by(Show.imdb_votes.desc().nulls_last(), Show.id).limit(limit)
        ).all()
        return [Scored(int(i), 0.0) for i in ids]
    top = float(rows[0][1])
    return [Scored(int(show_id), float(count) / top) for show_id, count in rows]


def show_details(session: Session, show_ids: Iterable[int]) -> dict[int, ShowPublic]:
    """The shows of the given ids (in chunks: PostgreSQL and SQLite limit bound parameters)."""
    wanted = sorted({int(s) for s in show_ids})
    out: dict[int, ShowPublic] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        for show in session.scalars(select(Show).where(Show.id.in_(chunk))):
            out[show.id] = ShowPublic.model_validate(show)
    return out


@dataclass(frozen=True)
class HolderStatus:
    """What /readyz reports about the model."""

    version_id: int | None
    name: str | None
    fallback: bool
    loaded_at: datetime | None
    last_check: datetime | None
    failed_version_id: int | None
    last_error: str | None


class ModelHolder:
    """Holds the serving model; :meth:`refresh` (or the polling thread) follows the registry."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ArtifactStore,
        cache_dir: Path,
        *,
        poll_seconds: float = 5.0,
        min_support: int = 5,
    ) -> None:
        self._sessions = sessions
        self._min_support = min_support
        self._store = store
        self._cache_dir = cache_dir
        self._poll_seconds = poll_seconds
        self._current: ServingModel | None = None
        self._refresh_lock = threading.Lock()  # one load at a time; readers never take it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed_version_id: int | None = None
        self._retry_in = RETRY_FIRST
        self._retry_at = 0.0
        self._last_error: str | None = None
        self._last_check: datetime | None = None
        self._fallback_built = 0.0

    @property
    def current(self) -> ServingModel:
        """The model to answer with (loads one on first use if :meth:`start` was not called)."""
        model = self._current
        if model is None:
            self.refresh()
            model = self._current
            assert model is not None
        return model

    def status(self) -> HolderStatus:
        model = self._current
        return HolderStatus(
            version_id=model.version_id if model else None,
            name=model.name if model else None,
            fallback=model.fallback if model else True,
            loaded_at=model.loaded_at if model else None,
            last_check=self._last_check,
            failed_version_id=self._failed_version_id,
            last_error=self._last_error,
        )

    # -- following the registry -----------------------------------------------------------

    def refresh(self) -> bool:
        """Check the registry once; load and swap in a new production version. True if swapped.

        A version that failed to load is retried with back-off (``RETRY_FIRST`` seconds, doubling
        up to ``RETRY_MAX``): a store that was down comes back, a corrupt cached copy is fetched
        again. The previous model keeps answering meanwhile.
        """
        with self._refresh_lock:
            self._last_check = datetime.now(UTC)
            with self._sessions() as session:
                version = production_version(session)
            current = self._current
            if version is None:
                stale = time.monotonic() - self._fallback_built > FALLBACK_REFRESH_SECONDS
                if current is None or (current.fallback and stale):
                    self._swap(self._build_fallback())
                    return True
                return False
            if current is not None and current.version_id == version.id:
                return False
            if version.id == self._failed_version_id and time.monotonic() < self._retry_at:
                return False
            try:
                loaded = self._load(version)
            except (ArtifactError, OSError, ValueError) as err:
                # OSError: the store is unreachable; ValueError: a bad URI. Keep what we have.
                again = version.id == self._failed_version_id
                self._retry_in = min(self._retry_in * 2, RETRY_MAX) if again else RETRY_FIRST
                self._retry_at = time.monotonic() + self._retry_in
                self._failed_version_id = version.id
                self._last_error = f"version {version.id} failed to load: {err}"
                log.error(
                    "%s; keeping %s; retry in %.0f s",
                    self._last_error,
                    self._describe(current),
                    self._retry_in,
                )
                if current is None:
                    self._swap(self._build_fallback())
                return False
            self._failed_version_id = None
            self._last_error = None
            self._swap(loaded)
            log.info("serving model version %s (%s)", version.id, version.model_name)
            return True

    def _describe(self, model: ServingModel | None) -> str:
        if model is None:
            return "no model"
        if model.fallback:
            return "the popularity fallback"
        return f"version {model.version_id}"

    def _swap(self, model: ServingModel) -> None:
        # A single reference assignment: readers see the old or the new model, never a mix.
        self._current = model

    def _load(self, version: ModelVersion) -> ServingModel:
        started = time.perf_counter()
        folder = fetch_artifact(self._store, version, self._cache_dir)
        recommender = load_artifact(folder)
        vocabulary = recommender.vocabulary_
        if len(vocabulary):
            # One answer before the swap: what a model loads on first use (the ranker's compiled
            # loops, ~0.2 s from numba's cache, seconds when they must be compiled) is paid
            # here, not by the first person asking.
            recommender.recommend([0], n=1)
        with self._sessions() as session:
            popular = popular_shows(session)
            details = show_details(
                session, [*vocabulary.show_ids.tolist(), *(p.show_id for p in popular)]
            )
            blocked = unrecommendable_show_ids(session, min_support=self._min_support)
        log.info("loaded version %s in %.2fs", version.id, time.perf_counter() - started)
        return ServingModel(
            version_id=version.id,
            name=version.model_name,
            recommender=recommender,
            vocabulary=vocabulary,
            popular=tuple(popular),
            details=details,
            blocked=frozenset(blocked),
        )

    def _build_fallback(self) -> ServingModel:
        with self._sessions() as session:
            popular = popular_shows(session)
            details = show_details(session, (p.show_id for p in popular))
            blocked = unrecommendable_show_ids(session, min_support=self._min_support)
        self._fallback_built = time.monotonic()
        log.warning("no production model: answering with popularity (%d shows)", len(popular))
        return ServingModel(
            version_id=None,
            name=FALLBACK_NAME,
            recommender=None,
            vocabulary=ShowVocabulary.positional(0),
            popular=tuple(popular),
            details=details,
            blocked=frozenset(blocked),
        )

    def start(self) -> None:
        """Load now, then poll the registry every ``poll_seconds`` in a daemon thread."""
        self.refresh()
        if self._thread is None:
            self._thread = threading.Thread(target=self._poll, name="model-holder", daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            try:
                self.refresh()
            except Exception:
                # The database may be down for a moment; the next poll tries again.
                log.exception("model holder: registry check failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def freeze_long_lived() -> None:
    """Move every object alive now out of the cyclic collector's reach (``gc.freeze``).

    A serving process holds a few hundred thousand long-lived objects (title index, model, show
    details); each full collection walks them all, about 150 ms with the GIL held, which shows
    up as the p99 of every request in flight. Called once, after start-up: frozen objects are
    still freed by reference counting, but a frozen garbage cycle would stay, so a model
    swapped in later is left to the collector (it is smaller than the title index).
    """
    gc.collect()
    gc.freeze()
