"""The kinds of recommender: name -> class, shared by the CLI, the evaluation and the pipeline.

Importing :mod:`nextshow.recommenders` adds every built-in model. ``create(name, **params)``
checks the parameters against the class's typed ``PARAMS`` (unknown keys, wrong types and
out-of-range values raise ``ValueError`` naming the parameter). :func:`load_artifact` turns a
saved artifact back into a model: read the files, look the class up by name, construct.

(The model-version store, where trained artifacts are registered, is :mod:`nextshow.registry`.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from nextshow.recommenders.artifact import META_FILE, ArtifactError, read_artifact, read_meta
from nextshow.recommenders.base import Recommender
from nextshow.recommenders.params import Param

R = TypeVar("R", bound="type[Recommender]")

_KINDS: dict[str, type[Recommender]] = {}


class UnknownRecommenderError(KeyError, ValueError):
    """No recommender kind has that name (a KeyError and a ValueError)."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def register(cls: R) -> R:
    """Class decorator: add ``cls`` under ``cls.name``; a second class with the name is an
    error (two models silently sharing a name would make artifacts ambiguous)."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    if name in _KINDS and _KINDS[name] is not cls:
        raise ValueError(f"recommender name {name!r} is already registered by {_KINDS[name]}")
    _KINDS[name] = cls
    return cls


def get(name: str) -> type[Recommender]:
    """The class named ``name``; UnknownRecommenderError listing the known names."""
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownRecommenderError(
            f"no recommender named {name!r}; known: {', '.join(names())}"
        ) from None


def names() -> list[str]:
    """Known model names, sorted."""
    return sorted(_KINDS)


def params_of(name: str) -> tuple[Param, ...]:
    """The typed parameter declarations of a model (for grids, CLI help)."""
    return get(name).PARAMS


def create(name: str, **params: Any) -> Recommender:
    """A new, unfitted model; parameters checked (ValueError naming the bad one)."""
    return get(name)(**params)


def load_artifact(path: Path | str) -> Recommender:
    """Load any saved recommender: model.json's ``name`` picks the class, which builds the model."""
    path = Path(path)
    name = read_meta(path)["name"]  # cheap, and refuses a wrong format before the npz is read
    if name not in _KINDS:
        raise ArtifactError(
            path / META_FILE, f"unknown model name {name!r}; known: {', '.join(names())}"
        )
    return _KINDS[name].from_artifact(read_artifact(path), path)
