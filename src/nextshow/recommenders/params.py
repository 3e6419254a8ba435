"""Typed hyperparameters: every recommender declares its parameters once, checked in one place.

Parameters read back from the model-version store, a JSON artifact or a command line go through
:func:`check_params`, so an unknown key, a wrong type or an out-of-range value is refused with a
``ValueError`` that names the parameter, instead of surfacing later as a strange score.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its type, default and allowed range (``low``/``high`` inclusive).

    ``low_open=True`` makes ``low`` exclusive (for "strictly positive"). ``check`` validates and
    normalises composite values (lists of dicts) that the simple rules cannot describe; it returns
    the normalised value or raises ``ValueError``.
    """

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any], Any] | None = None
    doc: str = ""
    # The value that keeps a model saved before this parameter existed (its artifact names no
    # value) behaving as it was evaluated and promoted; None: such a model takes the default.
    legacy: Any = None


def _check_one(owner: str, p: Param, value: Any) -> Any:
    where = f"{owner} parameter {p.name!r}"
    if p.check is not None:
        try:
            return p.check(value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {err}") from err
    # bool is a subclass of int: refuse True for an int/float parameter and 1 for a bool one.
    if p.kind is bool:
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{where} must be a bool, got {type(value).__name__} {value!r}")
        return bool(value)
    if p.kind is int:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{where} must be an int, got {type(value).__name__} {value!r}")
        value = int(value)
    elif p.kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ValueError(f"{where} must be a number, got {type(value).__name__} {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{where} must be finite, got {value!r}")
    elif p.kind is str and not isinstance(value, str):
        raise ValueError(f"{where} must be a str, got {type(value).__name__} {value!r}")
    if p.choices is not None and value not in p.choices:
        raise ValueError(f"{where} must be one of {list(p.choices)}, got {value!r}")
    if p.low is not None and (value <= p.low if p.low_open else value < p.low):
        bound = ">" if p.low_open else ">="
        raise ValueError(f"{where} must be {bound} {p.low}, got {value!r}")
    if p.high is not None and value > p.high:
        raise ValueError(f"{where} must be <= {p.high}, got {value!r}")
    return value


def check_params(owner: str, spec: tuple[Param, ...], given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults filled in, every given value checked; unknown names refused (ValueError)."""
    known = {p.name for p in spec}
    unknown = sorted(set(given) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ValueError(f"{owner}: unknown parameter(s) {', '.join(unknown)}; allowed: {allowed}")
    return {p.name: _check_one(owner, p, given.get(p.name, p.default)) for p in spec}
