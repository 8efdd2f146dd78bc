"""The DuckDB engine: a database file (or ``":memory:"``) holding the datasets and answers.

The only module that imports duckdb; it implements :class:`~nbannotate.store.engine.Engine`.

Connections: DuckDB lets one process at a time open a database file. So that several notebooks
(kernels, processes) on one machine can use the same file, this process holds it only while it
works: an operation attaches the file to this process's DuckDB connection (waiting up to
``LOCK_WAIT`` seconds, polling, while another process holds it), and the file is detached (and
checkpointed) once no operation has used it for ``LINGER`` seconds, on a background thread. A
process that keeps the file busy for ``_MAX_BUSY`` seconds lets go of it for ``_COURTESY``
seconds, so that a waiting process gets its turn. Within a process, every ``Database`` on the
same resolved file shares one connection (a module-level registry, counted by reference). A file
another process holds for longer than ``LOCK_WAIT`` raises
:class:`~nbannotate.errors.DatabaseLockedError`; a damaged one a
:class:`~nbannotate.errors.StoreError` saying so, never "locked". Missing parent directories of
a new database file are created. Each file has one re-entrant lock around its connection, so
the kernel thread can write while a background thread reads; a block that holds the lock holds
the file, so what it reads and writes is one consistent step even across processes.

The answer indexes (:class:`~nbannotate.store.index.AnswerIndex`) stay exact while other
processes write: whenever this process attaches the file again, it adds the answers stored
meanwhile (``id`` above the highest this process had seen; ids come from a sequence, so they
only grow) to the loaded indexes. Answers another process deleted or changed meanwhile (undo,
change_answer, drop_dataset) are not seen: the index then over-counts, so a session may skip or
refuse a question as answered, never ask one twice.

Schema (created on first use)::

    datasets(name VARCHAR PRIMARY KEY, created TIMESTAMP, meta JSON)
    answers(id BIGINT (sequence nba_answer_id), dataset, input_hash BIGINT, task_hash BIGINT,
            view_id, kind ('binary'|'gold'), answer, label, span_start, span_end, token_start,
            token_end, span_text, score DOUBLE, annotator, session_id, created TIMESTAMP (UTC),
            text, task JSON, spans JSON, meta JSON)

A file written before ``spans`` and ``meta`` existed gets them when it is opened.
"""

from __future__ import annotations

import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ..errors import DatabaseLockedError, StoreError
from .claims import ClaimBook, Holds, Mark
from .engine import DEFAULT_PATH, MEMORY
from .index import AnswerIndex
from .queries import SqlQueries
from .rows import COLUMNS, DATASET_COLUMNS, Row

if TYPE_CHECKING:
    import pandas as pd

_SEQ = "nba_answer_id"
# The columns of files written before the task's spans and meta had columns of their own
# (upgraded when opened: see DuckDBEngine._upgrade).
_COLUMNS_BEFORE_SPANS = COLUMNS[:-2]
_SCHEMA = f"""
CREATE SEQUENCE IF NOT EXISTS {_SEQ} START 1;
CREATE TABLE IF NOT EXISTS datasets (
    name VARCHAR PRIMARY KEY,
    created TIMESTAMP NOT NULL,
    meta JSON
);
CREATE TABLE IF NOT EXISTS answers (
    id BIGINT NOT NULL DEFAULT nextval('{_SEQ}'),
    dataset VARCHAR NOT NULL,
    input_hash BIGINT NOT NULL,
    task_hash BIGINT NOT NULL,
    view_id VARCHAR,
    kind VARCHAR NOT NULL,
    answer VARCHAR NOT NULL,
    label VARCHAR,
    span_start INTEGER,
    span_end INTEGER,
    token_start INTEGER,
    token_end INTEGER,
    span_text VARCHAR,
    score DOUBLE,
    annotator VARCHAR,
    session_id VARCHAR,
    created TIMESTAMP NOT NULL,
    text VARCHAR NOT NULL,
    task JSON NOT NULL,
    spans JSON,
    meta JSON
);
"""
_INSERT_COLS = ", ".join(COLUMNS)
_INSERT_ONE = (
    f"INSERT INTO answers ({_INSERT_COLS}) VALUES (nextval('{_SEQ}'), "
    + ", ".join("?" * (len(COLUMNS) - 1))
    + ")"
)
# Types used when rows are inserted in bulk from a DataFrame (explicit casts: all-NULL columns).
_BULK_TYPES = {
    "id": "BIGINT",
    "dataset": "VARCHAR",
    "input_hash": "BIGINT",
    "task_hash": "BIGINT",
    "view_id": "VARCHAR",
    "kind": "VARCHAR",
    "answer": "VARCHAR",
    "label": "VARCHAR",
    "span_start": "INTEGER",
    "span_end": "INTEGER",
    "token_start": "INTEGER",
    "token_end": "INTEGER",
    "span_text": "VARCHAR",
    "score": "DOUBLE",
    "annotator": "VARCHAR",
    "session_id": "VARCHAR",
    "created": "TIMESTAMP",
    "text": "VARCHAR",
    "task": "JSON",
    "spans": "JSON",
    "meta": "JSON",
}


# -- connection registry ---------------------------------------------------------------------


_ALIAS = "nba_store"  # the catalog a database file is attached as

#: Seconds an operation waits for a file that another process holds, then DatabaseLockedError.
LOCK_WAIT = 12.0
#: Seconds without an operation after which this process releases the file.
LINGER = 0.1
# A process that kept the file busy this long without letting go for _COURTESY seconds lets go
# for that long before taking it again: a process waiting for the file then gets its turn (its
# polls, at most _POLL[1] apart, are more frequent than that).
_MAX_BUSY = 0.5
_COURTESY = 0.05
_POLL = (0.002, 0.02)  # the first and the longest pause between attempts on a held file


class _Shared:
    """One DuckDB connection and its lock, shared by every Database on the same file, and
    the answer indexes of its datasets (loaded on first use). The file is attached to the
    connection only while operations use it (see the module docstring)."""

    def __init__(self, key: str | None, conn: duckdb.DuckDBPyConnection) -> None:
        self.key = key  # the file's resolved path; None for ":memory:" (always attached)
        self.conn = conn
        self.lock = threading.RLock()
        self.refs = 0
        self.indexes: dict[tuple[str, str | None], AnswerIndex] = {}
        self.state: dict[str, Any] = {}
        self.claims = ClaimBook()  # holds live in this process (a team shares PostgreSQL)
        self.checked = False  # schema made or checked, file read once (see _init_schema)
        self.old_schema = False  # a file without spans/meta columns that could not be upgraded
        self.attached = key is None
        self.catalog = "memory" if key is None else _ALIAS
        self.depth = 0  # nesting of hold() in the thread holding the lock
        self.pins = 0  # streams reading the attached file through cursors of their own
        self.seen: int | None = None  # the highest answer id the indexes reflect
        self.idle_since = 0.0
        self.busy_since = 0.0
        self.detached_at: float | None = None
        self.wake = threading.Condition(self.lock)
        self.releaser: threading.Thread | None = None

    @contextmanager
    def hold(self, closed: Callable[[], StoreError]) -> Iterator[None]:
        """The lock, with the file attached until the outermost hold ends (re-checked:
        closing takes the lock too); raises ``closed()`` once the store is closed."""
        with self.lock:
            if self.refs <= 0:
                raise closed()
            if not self.attached:
                self._attach()
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.idle()

    def idle(self) -> None:
        """No operation uses the file (lock held): release it now when this process kept it
        busy too long, else after LINGER seconds."""
        if self.key is None or not self.attached or self.pins:
            return
        now = time.monotonic()
        if now - self.busy_since >= _MAX_BUSY:
            self._detach()
            return
        self.idle_since = now
        if self.releaser is None:
            # Not a daemon: a process that ends lets it release (and checkpoint) the file
            # first, never stops it inside DuckDB. It ends once the file is released.
            self.releaser = threading.Thread(
                target=self._release_when_idle, name="nbannotate-store-release"
            )
            self.releaser.start()

    def _release_when_idle(self) -> None:
        with self.wake:
            try:
                while self.refs > 0 and self.attached and not self.pins:
                    left = self.idle_since + LINGER - time.monotonic()
                    if left > 0:
                        self.wake.wait(left)
                        continue
                    self._detach()
                    if self.attached:  # could not: the next operation's end tries again
                        break
            finally:
                self.releaser = None

    def _attach(self) -> None:
        """Attach the file (lock held), waiting while another process holds it; then add the
        answers other processes stored meanwhile to the loaded indexes."""
        assert self.key is not None
        path = self.key
        now = time.monotonic()
        if self.detached_at is not None and now - self.detached_at < _COURTESY:
            if now - self.busy_since >= _MAX_BUSY:
                time.sleep(_COURTESY - (now - self.detached_at))
                self.busy_since = time.monotonic()
        else:
            self.busy_since = now
        deadline = time.monotonic() + LOCK_WAIT
        pause = _POLL[0]
        while True:
            _check_is_duckdb(path)
            try:
                self.conn.execute(f"ATTACH {_sql_string(path)} AS {_ALIAS}")
                break
            except duckdb.Error as e:
                holder = _lock_holder(e)
                if holder is None:
                    raise _open_error(path, e) from None
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _locked_error(path, holder) from None
                time.sleep(min(pause, left))
                pause = min(2 * pause, _POLL[1])
        self.attached = True
        try:
            self.conn.execute(f"USE {_ALIAS}")
            if self.checked:
                self._catch_up()
        except BaseException:
            self._detach(note_seen=False)  # the answers not caught up are read next time
            raise

    def _catch_up(self) -> None:
        """Add the answers stored since this process last held the file to the loaded
        indexes (``seen`` is the highest id when it let go: see _detach)."""
        if self.seen is None or not self.indexes:
            return
        rows = self.conn.execute(
            "SELECT dataset, annotator, task_hash, input_hash, kind, answer, span_start, "
            "span_end, view_id FROM answers WHERE id > ? AND list_contains(?, dataset) "
            "ORDER BY id",
            [self.seen, sorted({dataset for dataset, _ in self.indexes})],
        ).fetchall()
        for (dataset, who), index in self.indexes.items():  # as Database._count_written
            index.add(r[2:] for r in rows if r[0] == dataset and (who is None or r[1] == who))

    def _detach(self, note_seen: bool = True) -> None:
        """Release the file (lock held); DuckDB checkpoints it. Left attached on an error."""
        if self.key is None or not self.attached:
            return
        try:
            if note_seen and self.checked:
                row = self.conn.execute("SELECT max(id) FROM answers").fetchone()
                self.seen = int(row[0]) if row and row[0] is not None else 0
            self.conn.execute("USE memory")
            try:
                self.conn.execute(f"DETACH {_ALIAS}")
            except duckdb.Error:
                self.conn.execute(f"USE {_ALIAS}")
                raise
        except duckdb.Error:
            return
        self.attached = False
        self.detached_at = time.monotonic()

    def shut(self) -> None:
        """Release the file and close the connection (lock held)."""
        self._detach()
        self.conn.close()
        self.wake.notify_all()


_REGISTRY: dict[str, _Shared] = {}
_REGISTRY_LOCK = threading.RLock()  # re-entered by a finalizer, see DuckDBEngine.__init__


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _lock_holder(err: duckdb.Error) -> str | None:
    """For DuckDB's file-lock error, who holds the file (" (PID n)" or ""); else None. Only
    the lock messages: a damaged file's "... in block at location 8192" has "lock" in it."""
    msg = str(err)
    low = msg.lower()
    if "could not set lock" not in low and "conflicting lock" not in low:
        return None
    pid = re.search(r"PID (\d+)", msg)
    return f" (PID {pid.group(1)})" if pid else ""


def _locked_error(path: str, holder: str) -> DatabaseLockedError:
    return DatabaseLockedError(
        f"The database file {path!r} is held by another process{holder}, and it did not let go "
        f"within {LOCK_WAIT:g} s. nbannotate holds a DuckDB file only while it reads or writes "
        "it, so several notebooks can share one; this holder kept it: a long import or export "
        "in another Jupyter kernel or notebook, or another program with the file open (a "
        "duckdb.connect() in a notebook, the DuckDB CLI). Try again once it is done, close it "
        "there (or shut down that kernel), or use a different file: "
        "Database('other.duckdb'). For several annotators or notebooks writing at once, use "
        'PostgreSQL: db="postgresql://user@host/dbname".'
    )


def _open_error(path: str, e: duckdb.Error) -> StoreError:
    """DuckDB's error on opening a file (not the lock), as one that says what to do."""
    msg = str(e)
    low = msg.lower()
    if "not a valid duckdb database" in low:
        return StoreError(
            f"The file {path!r} exists but is not a DuckDB database. Pass another path, e.g. "
            "Database('nbannotate.duckdb'), or move that file away."
        )
    if "permission denied" in low:
        if not os.path.exists(path):  # a new database: the folder refuses the new file
            folder = os.path.dirname(os.path.abspath(path))
            return StoreError(
                f"Cannot create the database file {path!r}: permission denied in its folder "
                f"{folder!r}. Make that folder writable, or use a database in a writable "
                "folder, e.g. db='~/answers.duckdb'."
            )
        return StoreError(
            f"The database file {path!r} cannot be opened: permission denied. Fix its "
            "permissions (it must be readable and writable) or use another path."
        )
    if "corrupt" in low or "checksum" in low or "could not read" in low:
        first = msg.strip().splitlines()[0] if msg.strip() else type(e).__name__
        return StoreError(
            f"The database file {path!r} cannot be read: it looks damaged (a copy or sync "
            f"cut short?): {first}. Use an intact copy of it, or another path."
        )
    return StoreError(f"Cannot open the database file {path!r}: {msg}")


def _store_error(path: str, err: duckdb.Error) -> StoreError:
    """A DuckDB error on an open file, as a StoreError that names the file and the fix."""
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    low = msg.lower()
    if "permission denied" in low:
        return StoreError(
            f"Cannot write to the database {path!r}: {msg}. DuckDB writes the file and a "
            f"'.wal' file beside it, so both the file and its folder must be writable. Fix "
            f"the permissions or use a database in a writable folder."
        )
    if "no space left" in low:
        return StoreError(
            f"Cannot write to the database {path!r}: the disk is full ({msg}). Nothing was "
            f"stored by this call; free some space and try again."
        )
    if isinstance(err, duckdb.IOException) or "could not read" in low or "corrupt" in low:
        return StoreError(
            f"The database file {path!r} cannot be read: it looks damaged (a copy or sync cut "
            f"short?): {msg}. Use an intact copy of it, or another path."
        )
    return StoreError(f"The database {path!r} failed: {type(err).__name__}: {msg}")


def _check_is_duckdb(path: str) -> None:
    """Refuse an existing file that is not a DuckDB database before DuckDB opens it: DuckDB
    opens a CSV, JSON or Parquet file as an in-memory database with a view over it, so
    answers stored "in" it would vanish when the kernel stops."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except FileNotFoundError:
        return  # a new database
    except OSError:
        return  # unreadable: DuckDB says why, in words _open_error turns into advice
    if head and head[8:12] != b"DUCK":
        raise StoreError(
            f"The file {path!r} exists but is not a DuckDB database (is it a data file, e.g. "
            "the JSONL or CSV source?). Answers are stored in a DuckDB file: pass another path, "
            "e.g. db='answers.duckdb'."
        )


def _acquire(path: str) -> _Shared:
    if path == MEMORY:
        shared = _Shared(None, duckdb.connect(MEMORY))
        shared.refs = 1
        return shared
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(path)
        # An in-memory connection the file is attached to while in use (see _Shared.hold):
        # attaching is much cheaper than connecting. Spills go beside the file, as they would.
        shared = (
            found
            if found is not None
            else _Shared(path, duckdb.connect(MEMORY, config={"temp_directory": path + ".tmp"}))
        )
        if found is None:
            _REGISTRY[path] = shared
        shared.refs += 1
        return shared


def _release(shared: _Shared) -> None:
    with _REGISTRY_LOCK:
        if shared.refs <= 0:
            return  # closed already (close_all)
        shared.refs -= 1
        if shared.refs > 0:
            return
        if shared.key is not None:
            _REGISTRY.pop(shared.key, None)
    with shared.lock:
        shared.shut()


def close_all() -> None:
    """Close every shared connection of this process (releases the files for other processes).

    Database handles still open become unusable (their methods raise StoreError).
    """
    with _REGISTRY_LOCK:
        items = list(_REGISTRY.values())
        _REGISTRY.clear()
    for shared in items:
        with shared.lock:
            shared.refs = 0
            shared.shut()


def _resolve(path: str) -> str:
    if path == MEMORY:
        return MEMORY
    p = Path(path)
    if p.is_dir():
        raise StoreError(
            f"The database path {str(p)!r} is a directory. Pass a file path inside it, e.g. "
            f"Database({str(p / DEFAULT_PATH)!r})."
        )
    if not p.parent.exists():
        # Created on purpose (documented): a fresh project dir like data/ needs no mkdir.
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"Cannot create the directory {str(p.parent)!r} for the database: "
                f"{e.strerror}. Use a path in an existing, writable directory."
            ) from None
    return str(p)


# -- the engine ------------------------------------------------------------------------------


class DuckDBEngine(SqlQueries):
    """A DuckDB file (or ``":memory:"``): see the module docstring. ``path`` is resolved
    (:func:`~nbannotate.store.engine.database_path`)."""

    _P = "?"
    _ANSWERS = "answers"
    _DATASETS = "datasets"

    def __init__(self, path: str) -> None:
        self.path: str = _resolve(path)
        self._shared: _Shared | None = _acquire(self.path)
        self.indexes: dict[tuple[str, str | None], AnswerIndex] = self._shared.indexes
        self.state: dict[str, Any] = self._shared.state
        # A handle garbage-collected unclosed (Database(path).dataset(name).to_pandas() in a
        # cell) releases its share of the connection (closed with the last one). The collection
        # may run inside this module with the registry lock held by this thread, hence an
        # RLock; the connection closes only when no other handle holds it, never under a user.
        self._finalizer = weakref.finalize(self, _release, self._shared)
        self._finalizer.atexit = False  # the process ending releases the file anyway
        try:
            self._init_schema()
        except BaseException:
            self.close()
            raise

    # -- lifecycle and locking -------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._shared is None or self._shared.refs <= 0

    def close(self) -> None:
        shared, self._shared = self._shared, None
        self._finalizer.detach()
        if shared is not None:
            _release(shared)

    def _closed_error(self) -> StoreError:
        return StoreError(
            f"This Database ({self.path}) is closed. Open it again: Database({self.path!r})."
        )

    @contextmanager
    def _locked(self) -> Iterator[_Shared]:
        """The shared connection state, with its lock held (re-checked: closing takes it
        too); DuckDB's errors become StoreErrors."""
        shared = self._shared
        if shared is None:
            raise self._closed_error()
        try:
            with shared.hold(self._closed_error):
                yield shared
        except duckdb.Error as err:  # say which file and what to do, not DuckDB's internals
            raise _store_error(self.path, err) from err

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._locked():
            yield

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The DuckDB connection, with the lock held (for benchmarks and tools)."""
        with self._locked() as shared:
            yield shared.conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT under the lock; ROLLBACK (and re-raise) on any error."""
        with self.connection() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.connection() as conn:
            return conn.execute(sql, list(params)).fetchall()

    def check_writable(self) -> None:
        """DuckDB opens a file in a read-only folder and fails only at the first write (it
        writes a '.wal' file beside it): say so before."""
        if self.path == MEMORY:
            return
        folder = os.path.dirname(self.path) or "."
        for what, path in (
            ("The database file", self.path),
            ("The folder of the database", folder),
        ):
            if os.path.exists(path) and not os.access(path, os.W_OK):
                raise StoreError(
                    f"{what} {path!r} is not writable, so no answer could be stored. DuckDB "
                    f"writes the file and a '.wal' file beside it: make both the file and its "
                    f"folder writable, or use a database in a writable folder, e.g. "
                    f"db='~/answers.duckdb'. (Reading a read-only database works: "
                    f"Database(path).dataset(name).to_pandas().)"
                )

    def check_can_store(self) -> None:
        shared = self._shared
        if shared is not None and shared.old_schema:
            raise StoreError(
                f"The database {self.path!r} was written by an earlier nbannotate and this "
                f"process cannot write to it (or to its folder) to upgrade it, so no answer can "
                f"be stored in it. Make the file and its folder writable and open it again; "
                f"reading it works as it is."
            )

    # -- the datasets table ----------------------------------------------------------------

    def insert_dataset(self, name: str, created: datetime, meta_json: str) -> None:
        with self.transaction(), self.connection() as conn:
            conn.execute(
                "INSERT INTO datasets VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                [name, created, meta_json],
            )

    def drop_dataset(self, name: str) -> int:
        with self.transaction(), self.connection() as conn:
            n = conn.execute("SELECT count(*) FROM answers WHERE dataset = ?", [name]).fetchone()
            conn.execute("DELETE FROM answers WHERE dataset = ?", [name])
            conn.execute("DELETE FROM datasets WHERE name = ?", [name])
        self._claims().drop_dataset(name)
        return int(n[0]) if n else 0

    # -- the answers table -----------------------------------------------------------------

    def insert_rows(self, rows: Sequence[Row]) -> list[int]:
        if len(rows) == 1:
            with self.connection() as conn:
                got = conn.execute(_INSERT_ONE + " RETURNING id", list(rows[0])).fetchone()
                return [int(got[0])] if got else []
        return self._bulk_insert(rows) if rows else []

    def _bulk_insert(self, rows: Sequence[Row]) -> list[int]:
        import pandas as pd

        with self.connection() as conn:
            ids = sorted(
                r[0]
                for r in conn.execute(
                    f"SELECT nextval('{_SEQ}') FROM range(?)", [len(rows)]
                ).fetchall()
            )
            cols = list(zip(*rows, strict=True))
            data: dict[str, Any] = {"id": pd.array(ids, dtype="Int64")}
            for name, values in zip(COLUMNS[1:], cols, strict=True):
                kind = _BULK_TYPES[name]
                if kind in ("BIGINT", "INTEGER"):
                    data[name] = pd.array(values, dtype="Int64")
                elif kind == "DOUBLE":
                    data[name] = pd.array(values, dtype="Float64")
                elif kind == "TIMESTAMP":
                    data[name] = pd.to_datetime(list(values))
                else:
                    data[name] = pd.Series(list(values), dtype=object)
            frame = pd.DataFrame(data)
            view = f"_nba_bulk_{threading.get_ident()}"
            conn.register(view, frame)
            try:
                select = ", ".join(f"CAST({c} AS {_BULK_TYPES[c]})" for c in COLUMNS)
                conn.execute(
                    f"INSERT INTO answers ({_INSERT_COLS}) SELECT {select} FROM {view} ORDER BY id"
                )
            finally:
                conn.unregister(view)
        return ids

    def stream_payloads(self, dataset: str, chunk: int) -> Iterator[list[str]]:
        with self._locked() as shared:
            cur = shared.conn.cursor()  # own connection: streams without holding the lock
            shared.pins += 1  # keeps the file attached meanwhile
        try:
            cur.execute(f"USE {shared.catalog}")
            cur.execute("SELECT task FROM answers WHERE dataset = ? ORDER BY id", [dataset])
            while rows := cur.fetchmany(chunk):
                yield [r[0] for r in rows]
        finally:
            cur.close()
            with shared.lock:
                shared.pins -= 1
                if shared.depth == 0 and shared.refs > 0:
                    shared.idle()

    def answer_frame(self, dataset: str, kind: str | None) -> pd.DataFrame:
        sql, params = self._where(dataset, kind)
        with self._locked() as shared:
            # The spans and meta columns hold copies made when the answer was stored: reading
            # them does not parse each task's JSON (a file that could not be upgraded does).
            spans, meta = (
                ("json_extract(task, '$.spans')", "json_extract(task, '$.meta')")
                if shared.old_schema
                else ("spans", "meta")
            )
            parts = (
                f"coalesce(CAST({spans} AS VARCHAR), 'null') AS spans, "
                f"coalesce(CAST({meta} AS VARCHAR), 'null') AS meta "
            )
            return shared.conn.execute(
                'SELECT text, span_text, label, span_start AS start, span_end AS "end", '
                "token_start, token_end, answer, score, kind, view_id, annotator, session_id, "
                f"created AS timestamp, input_hash, task_hash, {parts}"
                f"FROM answers {sql} ORDER BY id",
                params,
            ).df()

    # -- annotators, and claims (held in this process) ----------------------------------------

    # Other processes take turns on the file: their answers reach the indexes when this process
    # takes it again (_Shared._attach), not through a watcher; their holds are not seen.
    shared_by_processes = False

    def answers_since(
        self, dataset: str, after: int, skip: Sequence[int] = ()
    ) -> list[tuple[Any, ...]]:
        return self._query(
            "SELECT id, annotator, session_id, task, task_hash, input_hash, kind, answer, "
            "span_start, span_end, view_id FROM answers WHERE dataset = ? AND id > ? "
            "AND NOT list_contains(CAST(? AS BIGINT[]), id) ORDER BY id",
            [dataset, after, list(skip)],
        )

    def handle(self) -> DuckDBEngine:
        """Another handle on the same file (sharing this process's connection)."""
        return DuckDBEngine(self.path)

    def _claims(self) -> ClaimBook:
        shared = self._shared  # the holds live in this process: the file is not needed
        if shared is None or shared.refs <= 0:
            raise self._closed_error()
        return shared.claims

    def hold(
        self,
        dataset: str,
        keys: Iterable[int],
        session_id: str,
        annotator: str | None,
        lease: float,
    ) -> Holds:
        # In this process: a hold lasts until its session closes (nothing renews it; a process
        # that dies takes its holds with it).
        return self._claims().hold(dataset, keys, session_id, annotator, float("inf"))

    def renew(self, session_ids: Iterable[str], lease: float) -> None:
        self._claims().renew(session_ids, lease)

    def finish(self, dataset: str, keys: Iterable[int], session_id: str) -> None:
        self._claims().finish(dataset, keys, session_id)

    def reopen(
        self, dataset: str, keys: Iterable[int], session_id: str, annotator: str | None,
        lease: float,
    ) -> None:  # fmt: skip
        self._claims().reopen(dataset, keys, session_id, annotator, float("inf"))

    def release(self, session_id: str) -> None:
        self._claims().release(session_id)

    def mark(self, dataset: str, scope: str, what: Mark, key: int) -> bool:
        # The answer index, checked under the file's lock (which holds the file, the answers
        # of other processes read when it was taken), is exact and already refuses a second
        # answer (Dataset.add).
        return True

    def unmark(self, dataset: str, scope: str, what: Mark, key: int) -> None:
        return None

    # -- schema ----------------------------------------------------------------------------

    def _init_schema(self) -> None:
        """Create the tables in a new file; in an existing one, refuse tables of the same names
        that nbannotate did not create before writing anything, and read the tables once, so
        that a damaged file fails here rather than at a later call. Once per open file: more
        handles on it share the checked connection."""
        with self._locked() as shared:
            if shared.checked:
                return
            conn = shared.conn
            found: dict[str, list[str]] = {}
            for table, column in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_name IN ('answers', 'datasets') AND table_schema = current_schema() "
                "AND table_catalog = current_database() ORDER BY ordinal_position"
            ).fetchall():
                found.setdefault(table, []).append(column)
            for table, expected in (("answers", COLUMNS), ("datasets", DATASET_COLUMNS)):
                if table == "answers" and tuple(found.get(table, ())) == _COLUMNS_BEFORE_SPANS:
                    continue  # upgraded below
                if table in found and tuple(found[table]) != expected:
                    raise StoreError(
                        f"The database {self.path!r} has a {table!r} table that nbannotate did "
                        f"not create (columns {found[table]}), so it belongs to another "
                        f"application: nothing was changed in it. Use another database file, "
                        f"e.g. db='answers.duckdb'."
                    )
            if len(found) < 2:
                with self.transaction():  # the lock is re-entrant
                    conn.execute(_SCHEMA)
            # Reads the small columns in full (statistics alone answer count/max): a file
            # cut short fails here. The JSON and text columns are read when asked for.
            conn.execute("SELECT list(name), list(meta) FROM datasets").fetchall()
            conn.execute(
                "SELECT sum(task_hash % 7), count(kind), count(view_id), "
                "count(span_start) FROM answers"
            ).fetchall()
            if tuple(found.get("answers", ())) == _COLUMNS_BEFORE_SPANS:
                self._upgrade(shared)
            shared.checked = True

    def _upgrade(self, shared: _Shared) -> None:
        """Give a file written before the spans and meta columns existed those columns,
        filled from each task's JSON, in one transaction. A file this process cannot write
        (a read-only folder) stays as it is: it can be read (to_pandas parses the task JSON
        then), and writing to it fails as it would anyway."""
        folder = os.path.dirname(self.path) or "."
        if not (os.access(self.path, os.W_OK) and os.access(folder, os.W_OK)):
            shared.old_schema = True
            return
        with self.transaction():
            shared.conn.execute("ALTER TABLE answers ADD COLUMN spans JSON")
            shared.conn.execute("ALTER TABLE answers ADD COLUMN meta JSON")
            shared.conn.execute(
                "UPDATE answers SET spans = json_extract(task, '$.spans'), "
                "meta = json_extract(task, '$.meta')"
            )
