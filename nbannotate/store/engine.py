"""What a storage engine does for :class:`~nbannotate.store.Database` and its datasets.

The dataset API (:mod:`nbannotate.store.database`) talks to an :class:`Engine` only, and the
sessions, the recipes and ``train()`` to the dataset API only. Two engines implement it:
DuckDB (:mod:`~nbannotate.store.duckdb_engine`, a file, the default) and PostgreSQL
(:mod:`~nbannotate.store.postgres_engine`, a ``postgresql://`` URL, for teams);
:func:`nbannotate.store.database.open_engine` picks one by the address. The row queries both
run alike are written once (:mod:`~nbannotate.store.queries`).

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
  keeps the :class:`~nbannotate.store.index.AnswerIndex` of each (dataset, annotator or None);
  ``state``, a dict of the same life for the dataset API's other per-store objects.
  ``shared_by_processes`` says whether other processes may write meanwhile (then the dataset
  API keeps the indexes up to date by reading their answers: :mod:`~nbannotate.store.watch`).
  A store other processes take turns on (a DuckDB file: see
  :mod:`~nbannotate.store.duckdb_engine`) is not shared so, but its engine adds their answers
  to the loaded indexes whenever it takes the store again, so a check under ``locked()`` is
  exact there too.
* Claims (:mod:`~nbannotate.store.claims`): holds on texts and the marks that make an answer
  unique, visible to every process that can write the store.
* The row operations below, each about one dataset; answers come back in ``id`` order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..errors import StoreError
from .claims import Holds, Mark
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

    path: str  # what the user opened, resolved (a URL without its password): shown in messages
    indexes: dict[tuple[str, str | None], AnswerIndex]
    state: dict[str, Any]
    shared_by_processes: bool

    @property
    def closed(self) -> bool: ...

    def close(self) -> None:
        """Release this handle; the store is released when every handle on it is closed."""

    def handle(self) -> Engine:
        """Another handle on the same store (it shares this process's connection)."""

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
    def insert_rows(self, rows: Sequence[Row]) -> list[int]:
        """Store rows (in one transaction when called inside ``transaction()``), with ids
        increasing in their order; returns the ids."""

    def latest_answer(
        self, dataset: str, task_hash: int, session_id: str | None
    ) -> LatestRow | None:
        """The latest answer with this task hash (and session, if given), or None."""

    def delete_answer(self, row_id: int) -> None: ...

    def update_answer(
        self, row_id: int, answer: str, task_json: str, created: datetime
    ) -> None: ...

    def index_keys(self, dataset: str, annotator: str | None = None) -> list[Key]:
        """The answer-index key of every answer of a dataset (of one annotator, if given)."""

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

    def answers_since(
        self, dataset: str, after: int, skip: Sequence[int] = ()
    ) -> list[tuple[Any, ...]]:
        """(id, annotator, session_id, task JSON, *index key) of the answers with id > after,
        but for the ids in ``skip``."""

    def max_id(self, dataset: str) -> int: ...

    def annotator_counts(self, dataset: str) -> list[tuple[str | None, str, int]]:
        """(annotator, answer, how many) of a dataset."""

    # -- claims (store/claims.py)
    def hold(
        self, dataset: str, keys: Iterable[int], session_id: str, annotator: str | None,
        lease: float,
    ) -> Holds: ...  # fmt: skip

    def renew(self, session_ids: Iterable[str], lease: float) -> None: ...

    def finish(self, dataset: str, keys: Iterable[int], session_id: str) -> None: ...

    def reopen(
        self, dataset: str, keys: Iterable[int], session_id: str, annotator: str | None,
        lease: float,
    ) -> None: ...  # fmt: skip

    def release(self, session_id: str) -> None: ...

    def mark(self, dataset: str, scope: str, what: Mark, key: int) -> bool:
        """Set a mark (in the caller's transaction); False when it is set already."""

    def unmark(self, dataset: str, scope: str, what: Mark, key: int) -> None: ...


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
URL_SCHEMES = ("postgresql", "postgres")


def database_path(path: str | os.PathLike[str] | None) -> str:
    """The store ``Database(path)`` opens (``$NBANNOTATE_DB``, else ./nbannotate.duckdb, for
    None): a DuckDB file, resolved, or ":memory:", or a ``postgresql://`` URL as given. Nothing
    is opened. Any other ``scheme://`` is refused (a typo would otherwise name a folder)."""
    if path is None:
        path = os.environ.get(ENV_VAR) or DEFAULT_PATH
    raw = os.fspath(path)
    if not isinstance(raw, str) or not raw:
        raise StoreError(f"The database path must be a non-empty string or Path, got {path!r}.")
    scheme = _SCHEME.match(raw)
    if scheme:
        if scheme.group(1) in URL_SCHEMES:
            return raw
        raise StoreError(
            f"Unknown database URL scheme {scheme.group(1)!r}: db= takes a DuckDB file path, "
            f"or a PostgreSQL URL postgresql://user:password@host:port/dbname."
        )
    return raw if raw == MEMORY else str(Path(raw).expanduser().resolve())


def is_url(address: str) -> bool:
    """Whether a ``database_path()`` result is a server URL rather than a file."""
    return address.startswith(tuple(f"{s}://" for s in URL_SCHEMES))
