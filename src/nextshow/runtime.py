"""One start-up path: what a process opens from its settings, built lazily and once.

The CLI, the FastAPI app factory and the queue worker all start from :class:`Runtime`. Opening
the engine checks the schema revision and refuses an old one (only ``nextshow db upgrade``
migrates); one-shot CLI commands may create a database that has no tables yet.

Heavy or serving-only parts (the model holder, the queue) are imported inside their properties,
so building a runtime costs nothing until a part is used, and ``nextshow --help`` stays fast.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from nextshow.config import Settings

if TYPE_CHECKING:
    from nextshow.registry.artifact_store import ArtifactStore
    from nextshow.service.holder import ModelHolder
    from nextshow.service.queue import PredictionQueue


@dataclass
class Runtime:
    """Engine, sessions, artifact store, model holder and queue of one process."""

    settings: Settings
    create_if_empty: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, create_if_empty: bool = False) -> Runtime:
        """A runtime for ``settings``; ``create_if_empty`` for one-shot CLI commands only."""
        return cls(settings, create_if_empty)

    @cached_property
    def engine(self) -> Engine:
        """The database engine, its schema checked (SchemaOutdated when not at head)."""
        from nextshow.db.migrate import prepare_schema
        from nextshow.db.session import make_engine

        self.settings.ensure_home()
        engine = make_engine(self.settings.db_url)
        try:
            prepare_schema(engine, create_if_empty=self.create_if_empty)
        except Exception:
            engine.dispose()
            raise
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from nextshow.db.session import session_factory

        return session_factory(self.engine)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        """The artifact store: the one place it is built from settings."""
        from nextshow.registry.artifact_store import ArtifactStore

        return ArtifactStore(self.settings.artifacts_url, self.settings.artifact_options)

    @property
    def holder(self) -> ModelHolder:
        """The started model holder (hot reload on promotion); built on first use."""
        with self._lock:  # worker threads may ask for it together
            if "_holder" not in self.__dict__:
                from nextshow.service.holder import ModelHolder

                holder = ModelHolder(
                    self.sessions,
                    self.artifacts,
                    self.settings.model_cache_dir,
                    poll_seconds=self.settings.model_poll_seconds,
                    min_support=self.settings.min_support,
                )
                holder.start()
                self.__dict__["_holder"] = holder
            return self.__dict__["_holder"]

    @cached_property
    def queue(self) -> PredictionQueue:
        """The prediction queue; its task bodies use this runtime's sessions, holder and store."""
        from nextshow.service.queue import PredictionQueue

        return PredictionQueue(self)

    def close(self) -> None:
        """Stop the holder and release the database connections of what was opened."""
        holder = self.__dict__.pop("_holder", None)
        if holder is not None:
            holder.stop()
        if "engine" in self.__dict__:
            self.engine.dispose()
