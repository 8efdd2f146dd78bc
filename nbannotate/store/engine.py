"""What a storage engine does for :class:`~nbannotate.store.Database` and its datasets.

The dataset API (:mod:`nbannotate.store.database`) talks to an :class:`Engine` only, and the
sessions, the recipes and ``train()`` to the dataset API only; the one engine today is DuckDB
(:mod:`nbannotate.store.duckdb_engine`, the only module that imports duckdb). A second engine
(PostgreSQL) is one more module with a class implementing :class:`Engine`, and a branch in
:func:`nbannotate.store.database.open_engine` (and ``store_exists`` beside it) for the
addresses it serves (say ``postgresql://...``).

What an engine must implement:

* Two tables, ``datasets`` (:data:`~nbannotate.store.rows.DATASET_COLUMNS`: name primary key,
  created timestamp UTC, meta JSON text) and ``answers``
  (:data:`~nbannotate.store.rows.COLUMNS`: an increasing integer ``id`` the engine assigns,
  then the values of :func:`~nbannotate.store.rows.task_row`, in that order), made on first use.
* Locking: :meth:`Engine.locked` holds a re-entrant lock of the open store (shared by every
  handle on it in this process) and turns the engine's own errors into ``StoreError`` naming the
  store and the fix; every method takes it itself, so a caller holding it can make several
  calls as one step. :meth:`Engine.transaction` is ``locked()`` plus BEGIN ... COMMIT (ROLLBACK
  and re-raise on any error); the methods called inside it run in it. Either raises StoreError
  once the store is closed.
* ``indexes``: a dict, one per open store shared by every handle on it, where the dataset API
  keeps each dataset's :class:`~nbannotate.store.index.AnswerIndex`. It is exact only while no
  other process writes the store (DuckDB guarantees that; an engine that cannot must say so).
* The row operations below, each about one dataset; answers come back in ``id`` order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..errors import StoreError
from .rows import Key, Row

if TYPE_CHECKING:
    import pandas as pd

    from .index import AnswerIndex

DEFAULT_PATH = "nbannotate.duckdb"
ENV_VAR = "NBANNOTATE_DB"
MEMORY = ":memory:"

# (id, task JSON, input_hash, kind, answer, span_start, span_end, view_id) of one answer.
LatestRow = tuple[Any, ...]


class Engine(Protocol):
    """The operations the dataset API needs of a store (see the module docstring)."""

    path: str  # what the user opened, resolved: shown in messages
    indexes: dict[str, AnswerIndex]

    @property
    def closed(self) -> bool: ...

    def close(self) -> None:
        """Release this handle; the store is released when every handle on it is closed."""

    def locked(self) -> AbstractContextManager[None]: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def check_writable(self) -> None:
        """StoreError unless answers can be written (called when a session starts)."""

    def check_can_store(self) -> None:
        """StoreError when this store can be read but never written (e.g. an old schema that
        could not be upgraded)."""

    # -- the datasets table
    def dataset_names(self) -> list[str]: ...

    def dataset_info(self, name: str) -> tuple[datetime, str | None] | None:
        """(created, naive UTC; meta JSON) of a dataset, or None when there is none."""

    def insert_dataset(self, name: str, created: datetime, meta_json: str) -> None:
        """Add a dataset; an existing one of that name stays as it is."""

    def drop_dataset(self, name: str) -> int:
        """Delete a dataset and its answers; returns how many answers were deleted."""

    def dataset_sizes(self) -> list[tuple[str, int]]:
        """(name, answers) of every dataset, by name."""

    # -- the answers table
    def insert_rows(self, rows: Sequence[Row]) -> None:
        """Store rows (in one transaction when called inside ``transaction()``), with ids
        increasing in their order."""

    def latest_answer(
        self, dataset: str, task_hash: int, session_id: str | None
    ) -> LatestRow | None:
        """The latest answer with this task hash (and session, if given), or None."""

    def delete_answer(self, row_id: int) -> None: ...

    def update_answer(
        self, row_id: int, answer: str, task_json: str, created: datetime
    ) -> None: ...

    def index_keys(self, dataset: str) -> list[Key]:
        """The answer-index key of every answer of a dataset."""

    def hashes(self, dataset: str, column: Literal["task_hash", "input_hash"]) -> set[int]: ...

    def task_payloads(self, dataset: str, kind: str | None) -> list[str]:
        """The task JSON texts of a dataset's answers (of one kind, if given)."""

    def stream_payloads(self, dataset: str, chunk: int) -> Iterator[list[str]]:
        """The same in chunks, for an export whose memory does not grow with the dataset."""

    def count(self, dataset: str) -> int: ...

    def answer_counts(self, dataset: str) -> list[tuple[str, int]]:
        """(answer, how many) of a dataset."""

    def answer_frame(self, dataset: str, kind: str | None) -> pd.DataFrame:
        """Columns text, span_text, label, start, end, token_start, token_end, answer, score,
        kind, view_id, annotator, session_id, timestamp (naive UTC datetime64), input_hash,
        task_hash, spans and meta (JSON texts, 'null' when absent), in id order."""


def database_path(path: str | os.PathLike[str] | None) -> str:
    """The file ``Database(path)`` opens (``$NBANNOTATE_DB``, else ./nbannotate.duckdb, for
    None), resolved, or ":memory:"; nothing on disk is touched."""
    if path is None:
        path = os.environ.get(ENV_VAR) or DEFAULT_PATH
    raw = os.fspath(path)
    if not isinstance(raw, str) or not raw:
        raise StoreError(f"The database path must be a non-empty string or Path, got {path!r}.")
    return raw if raw == MEMORY else str(Path(raw).expanduser().resolve())
