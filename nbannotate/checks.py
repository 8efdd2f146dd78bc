"""Numeric arguments checked at the call that received them.

A string, a bool or a NaN passed as a number would otherwise fail much later, deep inside spaCy
or a background thread, or quietly change nothing. Each check returns the plain ``int`` or
``float`` (numpy numbers are accepted) or raises ``error`` saying what was expected. This module
sits at the bottom of the package: it imports nothing from nbannotate but errors.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from .errors import ArgumentError

#: spaCy seeds numpy with the seed too, which takes 0 <= seed < 2**32.
SEED_MAX = 2**32 - 1


def integer(
    name: str,
    value: Any,
    what: str,
    low: int | None = None,
    high: int | None = None,
    error: type[Exception] = ArgumentError,
) -> int:
    """``value`` as an int in [low, high]; ``error("<name> must be <what>, got ...")``
    otherwise. A bool is an int to Python but never a count."""
    number = None if isinstance(value, bool) or not isinstance(value, Integral) else int(value)
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        raise error(f"{name} must be {what}, got {value!r}.")
    return number


def real(
    name: str,
    value: Any,
    what: str,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    error: type[Exception] = ArgumentError,
) -> float:
    """``value`` as a finite float in the range (ends closed unless ``*_open``)."""
    number = None if isinstance(value, bool) or not isinstance(value, Real) else float(value)
    if (
        number is None
        or not math.isfinite(number)
        or number < low
        or number > high
        or (low_open and number == low)
        or (high_open and number == high)
    ):
        raise error(f"{name} must be {what}, got {value!r}.")
    return number


def seed(value: Any, error: type[Exception] = ArgumentError) -> int:
    return integer("seed", value, "an integer from 0 to 2**32 - 1", 0, SEED_MAX, error)
