"""The bundled demo data: 100,000 MovieTweetings ratings, so a fresh install has something to serve.

The files ship inside the package (``nextshow/data/demo``, MIT licence and notice beside them) and
are read through importlib.resources, so this works from a wheel as well as from a checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from nextshow.config import Settings
from nextshow.db.models import Rating
from nextshow.rejects import ImportSummary

DEMO_FORMAT = "movietweetings"


def demo_files() -> resources.abc.Traversable:
    """The folder holding ratings.dat.gz, movies.dat.gz and their LICENSE."""
    return resources.files("nextshow") / "data" / "demo"


def demo_paths() -> tuple[Path, Path]:
    """The bundled MovieTweetings copy as files: (ratings.dat.gz, movies.dat.gz).

    The package is installed unzipped (a wheel or a checkout), so the resources are real files.
    """
    folder = demo_files()
    return Path(str(folder / "ratings.dat.gz")), Path(str(folder / "movies.dat.gz"))


def load_demo(
    sessions: sessionmaker[Session], settings: Settings, *, progress: bool
) -> ImportSummary | None:
    """Import the demo ratings into an empty store; None (nothing done) when it holds ratings.

    Loading only into an empty store keeps the demo from mixing into real data, and makes
    ``nextshow demo`` safe to run twice.
    """
    from nextshow.ratings.importer import import_ratings

    with sessions() as session:
        if session.scalar(select(exists().select_from(Rating))):
            return None
    ratings, movies = demo_paths()
    return import_ratings(
        sessions,
        ratings,
        fmt=DEMO_FORMAT,
        items_path=movies,
        like_threshold=settings.like_threshold,
        batch_size=settings.import_batch_size,
        progress=progress,
        reports_dir=settings.reports_dir,
    )
