"""Answers in and out as JSON lines, like Prodigy's ``db-in`` and ``db-out``
(``Dataset.import_jsonl`` and ``Dataset.export_jsonl`` document the behaviour)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from pathlib import Path
from typing import Any

from ..errors import SourceError, StoreError
from ..jsonl import read_objects
from ..progress import bar as progress_bar
from ..progress import counted
from .engine import Engine
from .rows import Key, Row, key, prepare

_CHUNK = 20_000  # rows inserted at once by an import


def export_jsonl(engine: Engine, dataset: str, path: str | os.PathLike[str]) -> int:
    """Write a dataset's tasks to ``path`` (via a temporary file); returns the count."""
    out = Path(path).expanduser()
    if out.is_dir():
        raise StoreError(
            f"Export path {str(out)!r} is a directory; pass a file path such "
            f"as {str(out / (dataset + '.jsonl'))!r}."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for chunk in engine.stream_payloads(dataset, 10_000):
                f.write("".join(task + "\n" for task in chunk))
                n += len(chunk)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return n


def import_jsonl(
    engine: Engine,
    dataset: str,
    source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
    *,
    rehash: bool | None,
    progress: bool,
    check: Callable[[], None],
    stored: Callable[[list[tuple[Key, str | None]], list[int]], None],
) -> int:
    """Store every task of ``source`` in one transaction (``check`` runs in it first: the
    dataset still exists), then pass (index key, annotator) and id of each to ``stored``;
    returns how many."""
    rows: list[Row] = []
    total = 0
    with engine.locked():
        live = any(d == dataset for d, _ in engine.indexes)
        keys: list[tuple[Key, str | None]] = []  # for live indexes only, once all is committed
        ids: list[int] = []
        with engine.transaction():
            check()
            read_bar = progress_bar(
                progress, total=_count_tasks(source), desc=f"import {dataset}", unit="task"
            )
            for where, task in counted(_read_tasks(source), read_bar):
                _, row = prepare(
                    task, dataset, None, None, None, keep_stamps=True, where=where, rehash=rehash
                )
                rows.append(row)
                if live:
                    keys.append((key(row), row[13]))
                if len(rows) >= _CHUNK:
                    ids += engine.insert_rows(rows)
                    total += len(rows)
                    rows = []
            if rows:
                ids += engine.insert_rows(rows)
                total += len(rows)
        stored(keys, ids)
    return total


def _count_tasks(source: Any) -> int | None:
    """How many tasks ``_read_tasks`` will yield, for a progress bar: the non-blank lines of a
    file (read as bytes, not parsed), the length of a list; None when unknown."""
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(Path(source).expanduser(), "rb") as f:
                return sum(1 for raw in f if raw.strip())
        except OSError:
            return None  # _read_tasks reports it
    return len(source) if isinstance(source, Sized) else None


def _read_tasks(source: Any) -> Iterator[tuple[str, Any]]:
    """(position for errors, task) from a JSONL path or an iterable of dicts."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise SourceError(
                f"Cannot import {str(path)!r}: "
                + ("it is a directory." if path.is_dir() else "no such file.")
                + " Pass the path of a .jsonl file written by export_jsonl or prodigy db-out."
            )
        with open(path, "rb") as f:
            for n, obj in read_objects(f, str(path), SourceError):
                yield f"{str(path)!r}, line {n}: ", obj
    elif isinstance(source, Mapping) or not isinstance(source, Iterable):
        raise SourceError(
            "import_jsonl takes a path to a JSONL file or an iterable of task "
            f"dicts, got {type(source).__name__}."
        )
    else:
        for i, obj in enumerate(source):
            yield f"task {i}: ", obj
