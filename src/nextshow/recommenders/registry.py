"""Name -> recommender class registry, shared by the CLI, the evaluation and the pipeline.

Importing :mod:`nextshow.recommenders` registers every built-in model. ``create(name, **params)``
checks the parameters against the class's typed ``PARAMS`` (unknown keys, wrong types and
out-of-range values raise ``ValueError`` naming the parameter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from nextshow.recommenders.base import Recommender
    from nextshow.recommenders.params import Param

R = TypeVar("R", bound="type[Recommender]")

_REGISTRY: dict[str, type[Recommender]] = {}


class UnknownRecommenderError(KeyError, ValueError):
    """No recommender is registered under that name (a KeyError and a ValueError)."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def register(cls: R) -> R:
    """Class decorator: register ``cls`` under ``cls.name``; a second class with the name is an
    error (two models silently sharing a name would make artifacts ambiguous)."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"recommender name {name!r} is already registered by {_REGISTRY[name]}")
    _REGISTRY[name] = cls
    return cls


def get(name: str) -> type[Recommender]:
    """The class registered as ``name``; UnknownRecommenderError listing the known names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownRecommenderError(
            f"no recommender named {name!r}; known: {', '.join(names())}"
        ) from None


def names() -> list[str]:
    """Registered names, sorted."""
    return sorted(_REGISTRY)


def params_of(name: str) -> tuple[Param, ...]:
    """The typed parameter declarations of a model (for grids, CLI help)."""
    return get(name).PARAMS


def create(name: str, **params: Any) -> Recommender:
    """A new, unfitted model; parameters checked (ValueError naming the bad one)."""
    return get(name)(**params)
