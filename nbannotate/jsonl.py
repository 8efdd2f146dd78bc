"""JSON lines: the one reader of sources, pattern files and imports, and strict JSON writing.

Files are read as bytes and decoded line by line, so a bad byte or a bad line is reported with
its line number (1-based) and the file's name, as an error of the caller's type
(SourceError, PatternError). A UTF-8 byte order mark at the start of the file is allowed.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any


def read_lines(f: Iterable[bytes], name: str, error: type[Exception]) -> Iterator[tuple[int, str]]:
    """(line number, line without its line break) of a file opened in binary mode."""
    for n, raw in enumerate(f, start=1):
        try:
            line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError as e:
            raise error(
                f"{name!r}, line {n}: not valid UTF-8 ({e.reason} at byte {e.start} "
                "of the line). Re-save the file as UTF-8."
            ) from None
        yield n, line.rstrip("\r\n")


def read_objects(
    f: Iterable[bytes], name: str, error: type[Exception], hint: str = ""
) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON value) of each non-blank line; ``hint`` ends a JSON error
    (e.g. what a line should look like)."""
    for n, line in read_lines(f, name, error):
        if not line.strip():
            continue  # blank lines are not items
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise error(
                f"{name!r}, line {n}: not valid JSON ({e.msg} at column {e.colno})."
                + (" " + hint if hint else "")
            ) from None
        yield n, obj


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()  # numpy scalar
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _no_nan(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _no_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_no_nan(v) for v in obj]
    return obj


def dumps(value: Mapping[str, Any] | list[Any]) -> str:
    """Strict JSON (NaN/inf become null, so every JSON reader can load an export); numpy
    scalars and arrays, sets and dates are converted. TypeError for anything else."""
    try:
        return json.dumps(value, ensure_ascii=False, default=_json_default, allow_nan=False)
    except ValueError:
        return json.dumps(
            _no_nan(json.loads(json.dumps(value, default=_json_default))),
            ensure_ascii=False,
            allow_nan=False,
        )


def loads_many(payloads: list[str]) -> list[Any]:
    """Parse many JSON texts in one C-level call instead of a Python loop per row, with the
    cyclic garbage collector paused: the parsed dicts and lists hold no cycles, yet every few
    hundred of them made it scan all the young ones again."""
    if not payloads:
        return []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads("[" + ",".join(payloads) + "]")
    finally:
        if was_enabled:
            gc.enable()
