"""The arguments of train() and train_curve() checked at the call: numbers, the pipeline's
name and version, the curve's fractions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .. import checks
from ..errors import TrainingError


def _integer(name: str, value: Any, low: int, hint: str, high: int | None = None) -> int:
    return checks.integer(name, value, hint, low, high, error=TrainingError)


def _real(name: str, value: Any, hint: str) -> float:
    return checks.real(name, value, hint, error=TrainingError)


def _check_numbers(
    epochs: Any,
    max_steps: Any,
    eval_every: Any,
    dropout: Any,
    batch_size: Any,
    patience: Any,
    seed: Any,
    binary_weight: Any,
    eval_split: Any,
    split: bool,
) -> dict[str, Any]:
    """The numeric arguments of train()/train_curve(), checked at the call (a string or a bool
    would otherwise fail deep inside spaCy) and as plain ints/floats for the config.
    ``split``: eval_split is used (no eval_dataset). The schedule's arguments are grouped
    under "schedule" (for _Schedule.make)."""
    out: dict[str, Any] = {
        "schedule": {
            "epochs": None
            if epochs is None
            else _integer("epochs", epochs, 1, "a positive integer (passes over the data) or None"),
            "max_steps": _integer(
                "max_steps", max_steps, 1, "a positive integer (updates of batch_size texts)"
            ),
            "eval_every": None
            if eval_every is None
            else _integer("eval_every", eval_every, 1, "a positive integer (steps) or None"),
            "patience": _integer(
                "patience", patience, 0, "an integer >= 0 (evaluations; 0: no early stopping)"
            ),
        },
        "dropout": _real("dropout", dropout, "a number in [0, 1), e.g. 0.1"),
        "batch_size": _integer(
            "batch_size", batch_size, 1, "a positive integer (texts per update)"
        ),
        "seed": checks.seed(seed, error=TrainingError),
        "binary_weight": _integer(
            "binary_weight", binary_weight, 1, "a positive integer (1: every text once)"
        ),
        # unused (and so unchecked) when an eval_dataset is given
        "eval_split": (
            _real("eval_split", eval_split, "a number between 0 and 1, e.g. 0.2")
            if split
            else eval_split
        ),
    }
    if not 0.0 <= out["dropout"] < 1.0:
        raise TrainingError(f"dropout must be a number in [0, 1), e.g. 0.1, got {dropout!r}.")
    if split and not 0.0 < out["eval_split"] < 1.0:
        raise TrainingError(
            f"eval_split must be between 0 and 1 (e.g. 0.2), got {eval_split!r}."
            f" Pass eval_dataset= to evaluate on a dataset of its own."
        )
    return out


_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+([.+-]?[A-Za-z0-9.]+)?$")


def _check_meta(name: Any, version: Any) -> dict[str, str]:
    """The pipeline's name and version for meta.json, as ``spacy package`` accepts them."""
    meta = {}
    if name is not None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise TrainingError(
                f"name must be letters, digits and underscores (the package "
                f"name spacy package builds from it), e.g. 'gadgets', got "
                f"{name!r}."
            )
        meta["name"] = name
    if version is not None:
        if not isinstance(version, str) or not _VERSION.match(version):
            raise TrainingError(
                f"version must be a version string such as '0.1.0', got {version!r}."
            )
        meta["version"] = version
    return meta


def _check_fractions(fractions: Any) -> list[float]:
    """Sorted distinct fractions in (0, 1], each with a directory name of its own."""
    hint = "a list of numbers in (0, 1], e.g. (0.25, 0.5, 0.75, 1.0)"
    if isinstance(fractions, (str, bytes)) or not isinstance(fractions, Iterable):
        raise TrainingError(f"fractions must be {hint}, got {fractions!r}.")
    given = list(fractions)
    fracs = sorted({_real("fractions", f, hint) for f in given})
    if not fracs or fracs[0] <= 0 or fracs[-1] > 1:
        raise TrainingError(f"fractions must be {hint}, got {given!r}.")
    names: dict[str, float] = {}
    for frac in fracs:
        name = _percent(frac)
        if name in names:
            raise TrainingError(
                f"fractions {names[name]!r} and {frac!r} are both {name}% of the data (the "
                f"runs would share output_dir/{name}). Give fractions that differ more."
            )
        names[name] = frac
    return fracs


def _percent(frac: float) -> str:
    """A fraction as the percent that names its run: 0.25 -> "25", 0.125 -> "12.5" (ten
    significant digits hide float noise like 0.07 * 100 = 7.000000000000001)."""
    return f"{frac * 100:.10g}"
