"""Durable storage of answers in DuckDB, one row per answer with the full task JSON.

::

    db = Database()                       # ./nbannotate.duckdb, or $NBANNOTATE_DB
    ds = db.dataset("gadgets", create=True)
    ds.add(task, answer="accept")         # committed to disk when it returns
    ds.to_pandas()

Connections: DuckDB lets one process open a database file for writing. Within a process, every
``Database`` on the same resolved file shares one connection (a module-level registry, counted by
reference; the file is released when the last handle is closed). A file held by another process
(another kernel or notebook) raises :class:`~nbannotate.errors.DatabaseLockedError`. Missing
parent directories of a new database file are created. All methods are thread-safe: each database
has one re-entrant lock around its connection, so the kernel thread can write while a background
thread reads.

Answered questions: while a file is open, each dataset a session works on has an
:class:`AnswerIndex` in memory (its task hashes and its texts with a complete answer), loaded once
and kept up to date by every write made through this module. Since no other process can write the
file meanwhile, it is exact, so sessions ask it "was this answered?" without a query, and see the
answers of every other session of this process on the same dataset at once.

Schema (created on first use)::

    datasets(name VARCHAR PRIMARY KEY, created TIMESTAMP, meta JSON)
    answers(id BIGINT (sequence nba_answer_id), dataset, input_hash BIGINT, task_hash BIGINT,
            view_id, kind ('binary'|'gold'), answer, label, span_start, span_end, token_start,
            token_end, span_text, score DOUBLE, annotator, session_id, created TIMESTAMP (UTC),
            text, task JSON, spans JSON, meta JSON)

For a binary task the label/span columns come from its single span (NULL without one); for a gold
task (``_view_id == "ner_manual"``) they are NULL and the spans live in the task JSON. ``spans``
and ``meta`` are copies of the task's, so that reading them needs no parse of the task JSON; a
file written before they existed gets them when it is opened.
"""

from __future__ import annotations

import gc
import json
import math
import operator
import os
import re
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sized
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import duckdb

from .errors import AnswerError, DatabaseLockedError, DatasetError, SourceError, StoreError
from .jsonl import read_objects
from .progress import bar as progress_bar
from .progress import counted
from .tasks import ANSWERS, VIEW_MANUAL, check_answer, input_hash, is_gold, set_hashes

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_PATH = "nbannotate.duckdb"
ENV_VAR = "NBANNOTATE_DB"
MEMORY = ":memory:"
KINDS = ("binary", "gold")
_MAX_NAME = 200
_MAX_TIMESTAMP = 253_402_300_800  # 10000-01-01 in seconds: larger ones are milliseconds
_SEQ = "nba_answer_id"

_DATASET_COLUMNS = ("name", "created", "meta")
_COLUMNS = (
    "id", "dataset", "input_hash", "task_hash", "view_id", "kind", "answer", "label",
    "span_start", "span_end", "token_start", "token_end", "span_text", "score", "annotator",
    "session_id", "created", "text", "task", "spans", "meta",
)
# The columns of files written before the task's spans and meta had columns of their own
# (upgraded when opened: see Database._upgrade).
_COLUMNS_BEFORE_SPANS = _COLUMNS[:-2]
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
_INSERT_COLS = ", ".join(_COLUMNS)
_INSERT_ONE = (f"INSERT INTO answers ({_INSERT_COLS}) VALUES (nextval('{_SEQ}'), "
               + ", ".join("?" * (len(_COLUMNS) - 1)) + ")")
# Types used when rows are inserted in bulk from a DataFrame (explicit casts: all-NULL columns).
_BULK_TYPES = {
    "id": "BIGINT", "dataset": "VARCHAR", "input_hash": "BIGINT", "task_hash": "BIGINT",
    "view_id": "VARCHAR", "kind": "VARCHAR", "answer": "VARCHAR", "label": "VARCHAR",
    "span_start": "INTEGER", "span_end": "INTEGER", "token_start": "INTEGER",
    "token_end": "INTEGER", "span_text": "VARCHAR", "score": "DOUBLE", "annotator": "VARCHAR",
    "session_id": "VARCHAR", "created": "TIMESTAMP", "text": "VARCHAR", "task": "JSON",
    "spans": "JSON", "meta": "JSON",
}


# -- connection registry ----------------------------------------------------------------------


class AlreadyAnsweredError(AnswerError):
    """``Dataset.add(..., once=...)`` refused an answer: the dataset holds one already."""


# (task hash, input hash, kind, answer, span start, span end, view id) of one stored answer:
# what the index counts (the span's characters for a binary answer about one span, else None).
_Key = tuple[int, int, str, str, int | None, int | None, str | None]


class AnswerIndex:
    """Which questions and texts one dataset holds answers for, in memory while its database
    file is open in this process (see the module docstring). Thread-safe; every lookup is a
    dict lookup. Counts, not sets: one task may be answered in several rows (imports, two
    sessions before this index existed), and removing one of them must not forget the rest."""

    def __init__(self, keys: Iterable[_Key] = ()) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[int, int] = {}  # task hash -> answers
        # input hash -> complete answers that settle the text for manual annotation
        self._gold: dict[int, int] = {}
        self._accepted_gold: dict[int, int] = {}  # input hash -> accepted gold answers
        # input hash -> {(start, end) of a span accepted in a binary answer: answers}
        self._accepted_spans: dict[int, dict[tuple[int, int], int]] = {}
        # task hash -> input hash of every task a session handed out on this dataset
        self._offered: dict[int, int] = {}
        for key in keys:
            self._count(key, 1)

    @staticmethod
    def _bump(counts: dict[Any, int], key: Any, n: int) -> None:
        left = counts.get(key, 0) + n
        if left > 0:
            counts[key] = left
        else:
            counts.pop(key, None)

    def _count(self, key: _Key, n: int) -> None:
        th, ih, kind, answer, start, end, view = key
        self._bump(self._tasks, th, n)
        if kind == "gold":
            # A whole analysis rejected in teach says only "not this one": the text still
            # wants a manual annotation.
            if answer == "accept" or view == VIEW_MANUAL:
                self._bump(self._gold, ih, n)
            if answer == "accept":
                self._bump(self._accepted_gold, ih, n)
        elif answer == "accept" and start is not None and end is not None:
            spans = self._accepted_spans.setdefault(ih, {})
            self._bump(spans, (start, end), n)
            if not spans:
                del self._accepted_spans[ih]

    def has_task(self, task_hash: int) -> bool:
        """An answer with this task hash is stored (or being stored)."""
        with self._lock:
            return task_hash in self._tasks

    def has_gold(self, input_hash: int) -> bool:
        """A complete (gold) answer settles this text for manual annotation: an accepted one
        (from any view), or any answer given in the manual view."""
        with self._lock:
            return input_hash in self._gold

    def is_complete(self, input_hash: int) -> bool:
        """An accepted complete (gold) answer of this text is stored."""
        with self._lock:
            return input_hash in self._accepted_gold

    def overlaps_accepted(self, input_hash: int, start: int, end: int) -> bool:
        """A binary answer accepting a span of this text that shares a character with
        ``start:end`` is stored (entities do not overlap: that span is known not to be one)."""
        with self._lock:
            spans = self._accepted_spans.get(input_hash)
            return spans is not None and any(a < end and start < b for a, b in spans)

    def offer(self, task_hash: int, input_hash: int) -> None:
        """A session of this process handed out this task (answer() takes it from any)."""
        with self._lock:
            self._offered[task_hash] = input_hash

    def was_offered(self, task_hash: int, input_hash: int) -> bool:
        """A session of this process handed out this task, about this text, or an answer with
        this task hash is stored."""
        with self._lock:
            return self._offered.get(task_hash) == input_hash or task_hash in self._tasks

    def add(self, keys: Iterable[_Key]) -> None:
        with self._lock:
            for key in keys:
                self._count(key, 1)

    def remove(self, keys: Iterable[_Key]) -> None:
        with self._lock:
            for key in keys:
                self._count(key, -1)

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()
            self._gold.clear()
            self._accepted_gold.clear()
            self._accepted_spans.clear()
            self._offered.clear()


def _key(row: tuple[Any, ...]) -> _Key:
    """The index key of a row as ``_prepare`` makes it (without the id)."""
    return (row[2], row[1], row[4], row[5], row[7], row[8], row[3])


class _Shared:
    """One DuckDB connection and its lock, shared by every Database on the same file, and
    the answer indexes of its datasets (loaded on first use)."""

    def __init__(self, key: str | None, conn: duckdb.DuckDBPyConnection) -> None:
        self.key = key
        self.conn = conn
        self.lock = threading.RLock()
        self.refs = 0
        self.indexes: dict[str, AnswerIndex] = {}
        self.checked = False  # schema made or checked, file read once (see _init_schema)
        self.old_schema = False  # a file without spans/meta columns that could not be upgraded


_REGISTRY: dict[str, _Shared] = {}
_REGISTRY_LOCK = threading.RLock()  # re-entered by a finalizer, see Database.__init__


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, turning DuckDB's errors into ones that say what to do."""
    if path != MEMORY:
        _check_is_duckdb(path)
    try:
        return duckdb.connect(path)
    except duckdb.Error as e:
        msg = str(e)
        low = msg.lower()
        # Only DuckDB's file-lock messages: a damaged file's "... in block at location 8192"
        # contains "lock" too.
        if "could not set lock" in low or "conflicting lock" in low:
            pid = re.search(r"PID (\d+)", msg)
            holder = f" (PID {pid.group(1)})" if pid else ""
            raise DatabaseLockedError(
                f"The database file {path!r} is held by another process{holder}, e.g. another "
                "Jupyter kernel or notebook with an open nbannotate session. DuckDB lets only one "
                "process use a database file. Close it there (session.close() for each session "
                "and db.close() for each Database opened on it, or shut down that kernel), or "
                "use a different file: Database('other.duckdb')."
            ) from None
        if "not a valid duckdb database" in low:
            raise StoreError(
                f"The file {path!r} exists but is not a DuckDB database. Pass another path, e.g. "
                "Database('nbannotate.duckdb'), or move that file away.") from None
        if "permission denied" in low:
            if not os.path.exists(path):  # a new database: the folder refuses the new file
                folder = os.path.dirname(os.path.abspath(path))
                raise StoreError(
                    f"Cannot create the database file {path!r}: permission denied in its folder "
                    f"{folder!r}. Make that folder writable, or use a database in a writable "
                    "folder, e.g. db='~/answers.duckdb'.") from None
            raise StoreError(
                f"The database file {path!r} cannot be opened: permission denied. Fix its "
                "permissions (it must be readable and writable) or use another path.") from None
        if "corrupt" in low or "checksum" in low or "could not read" in low:
            first = msg.strip().splitlines()[0] if msg.strip() else type(e).__name__
            raise StoreError(
                f"The database file {path!r} cannot be read: it looks damaged (a copy or sync "
                f"cut short?): {first}. Use an intact copy of it, or another path.") from None
        raise StoreError(f"Cannot open the database file {path!r}: {msg}") from None


def _store_error(path: str, err: duckdb.Error) -> StoreError:
    """A DuckDB error on an open file, as a StoreError that names the file and the fix."""
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    low = msg.lower()
    if "permission denied" in low:
        return StoreError(
            f"Cannot write to the database {path!r}: {msg}. DuckDB writes the file and a "
            f"'.wal' file beside it, so both the file and its folder must be writable. Fix "
            f"the permissions or use a database in a writable folder.")
    if "no space left" in low:
        return StoreError(
            f"Cannot write to the database {path!r}: the disk is full ({msg}). Nothing was "
            f"stored by this call; free some space and try again.")
    if isinstance(err, duckdb.IOException) or "could not read" in low or "corrupt" in low:
        return StoreError(
            f"The database file {path!r} cannot be read: it looks damaged (a copy or sync cut "
            f"short?): {msg}. Use an intact copy of it, or another path.")
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
        return  # unreadable: duckdb.connect says why, in words _connect turns into advice
    if head and head[8:12] != b"DUCK":
        raise StoreError(
            f"The file {path!r} exists but is not a DuckDB database (is it a data file, e.g. "
            "the JSONL or CSV source?). Answers are stored in a DuckDB file: pass another path, "
            "e.g. db='answers.duckdb'.")


def _acquire(path: str) -> _Shared:
    if path == MEMORY:
        shared = _Shared(None, _connect(MEMORY))
        shared.refs = 1
        return shared
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(path)
        shared = found if found is not None else _Shared(path, _connect(path))
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
        shared.conn.close()


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
            shared.conn.close()


# -- task to row ------------------------------------------------------------------------------


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


def _dumps(task: Mapping[str, Any]) -> str:
    """Strict JSON (NaN/inf become null, so every JSON reader can load an export)."""
    try:
        return json.dumps(task, ensure_ascii=False, default=_json_default, allow_nan=False)
    except ValueError:
        return json.dumps(_no_nan(json.loads(json.dumps(task, default=_json_default))),
                          ensure_ascii=False, allow_nan=False)


def _meta_json(meta: Mapping[str, Any] | None) -> str:
    try:
        return _dumps(dict(meta or {}))
    except TypeError as e:
        raise DatasetError(f"Dataset meta must be JSON-serializable: {e}.") from None


def _int_or_none(value: Any, field: str, where: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AnswerError(
            f"{where}span field {field!r} must be an integer, got {value!r}.") from None


def _prepare(task: Any, dataset: str, answer: str | None, annotator: str | None,
             session_id: str | None, keep_stamps: bool, where: str = "",
             rehash: bool | None = False) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """Validate and stamp a copy of ``task``; return (stored task, row values without id).

    ``rehash``: True recomputes both hashes, False keeps those given, None recomputes them
    when the input hash is not nbannotate's for the text (see ``Dataset.import_jsonl``).
    """
    if not isinstance(task, Mapping):
        raise AnswerError(f"{where}a task must be a dict, got {type(task).__name__}.")
    stored = dict(task)
    ans = check_answer(stored.get("answer") if answer is None else answer, where)
    text = stored.get("text")
    if not isinstance(text, str):
        raise AnswerError(
            f"{where}the task has no text (a 'text' string is required to store an answer); "
            f"got {'no text key' if 'text' not in stored else type(text).__name__}.")
    spans = stored.get("spans") or []
    if not isinstance(spans, list) or not all(isinstance(s, Mapping) for s in spans):
        raise AnswerError(f"{where}'spans' must be a list of dicts, got {spans!r:.80}.")
    for i, span in enumerate(spans):
        _check_span(span, text, f"{where}span {i} ")
    meta = stored.get("meta")
    if meta is not None and not isinstance(meta, Mapping):
        raise AnswerError(f"{where}'meta' must be a dict (or absent), got {meta!r:.80}.")
    for key in ("_input_hash", "_task_hash"):
        value = stored.get(key)
        if key in stored and (isinstance(value, bool) or not isinstance(value, int)):
            raise AnswerError(f"{where}{key!r} must be an integer, got {value!r:.40}. Leave it "
                              "out to have it computed from the text and spans.")
    if rehash is None:
        # Hashes from another tool (Prodigy's db-out) would keep answered texts from being
        # recognised (resume asks them again, train() does not merge them with ours):
        # recompute them. A task hash is not compared with ours (a manual answer keeps the
        # hash of the question as offered), but one without its input hash is not ours.
        rehash = (stored["_input_hash"] != input_hash(text) if "_input_hash" in stored
                  else "_task_hash" in stored)
    if rehash:  # the originals are kept beside
        for key in ("_input_hash", "_task_hash"):
            if key in stored:
                stored["_source" + key] = stored[key]
    set_hashes(stored, overwrite=rehash)
    stored["answer"] = ans
    stamp = stored.get("_timestamp")
    if keep_stamps and isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        if not 0 <= stamp < _MAX_TIMESTAMP:
            hint = " (milliseconds? divide by 1000)" if stamp >= _MAX_TIMESTAMP else ""
            raise AnswerError(f"{where}'_timestamp' must be seconds since 1970 (as Prodigy "
                              f"writes it), got {stamp!r}{hint}.")
    else:
        stored["_timestamp"] = int(time.time())
    if session_id is not None or "_session_id" not in stored:
        stored["_session_id"] = session_id
    if annotator is not None or "_annotator_id" not in stored:
        stored["_annotator_id"] = annotator
    # One source of truth for the time (whole seconds, as Prodigy), so export/import round-trips.
    created = datetime.fromtimestamp(stored["_timestamp"], timezone.utc).replace(tzinfo=None)

    gold = is_gold(stored)
    span = spans[0] if (not gold and len(spans) == 1) else None
    label = start = end = tok_start = tok_end = span_text = None
    score = None
    if span is not None:
        label = span.get("label")
        start = _int_or_none(span.get("start"), "start", where)
        end = _int_or_none(span.get("end"), "end", where)
        tok_start = _int_or_none(span.get("token_start"), "token_start", where)
        tok_end = _int_or_none(span.get("token_end"), "token_end", where)
        span_text = span.get("text")
        if span_text is None and start is not None and end is not None:
            span_text = text[start:end]
        score = span.get("score")
    elif not gold and not spans and isinstance(stored.get("label"), str):
        label = stored["label"]  # a text classification task
    if score is None and not gold:
        meta = stored.get("meta")
        score = meta.get("score") if isinstance(meta, Mapping) else None
    try:
        score = None if score is None else float(score)
    except (TypeError, ValueError):
        score = None
    if score is not None and not math.isfinite(score):
        score = None
    try:
        payload = _dumps(stored)
        # Copies of the task's spans and meta, which to_pandas reads without parsing the task
        # JSON (its token list is most of it).
        spans_json = None if stored.get("spans") is None else _dumps(stored["spans"])
        meta_json = None if stored.get("meta") is None else _dumps(stored["meta"])
    except TypeError as e:
        raise AnswerError(f"{where}the task cannot be stored as JSON: {e}.") from None
    row = (
        dataset, int(stored["_input_hash"]), int(stored["_task_hash"]), stored.get("_view_id"),
        "gold" if gold else "binary", ans, None if label is None else str(label), start, end,
        tok_start, tok_end, span_text, score, _str_or_none(stored["_annotator_id"]),
        _str_or_none(stored["_session_id"]), created, text, payload, spans_json, meta_json,
    )
    return stored, row


def _check_span(span: Mapping[str, Any], text: str, where: str) -> None:
    """AnswerError unless ``span`` has integer offsets inside ``text`` and a label: a bad span
    stored now would make train() fail (or learn a label named 'None') much later."""
    offsets = []
    for name in ("start", "end"):
        value = span.get(name)
        if isinstance(value, (bool, float, str)) or not hasattr(value, "__index__"):
            raise AnswerError(f"{where}needs an integer {name!r} (a character offset), got "
                              f"{value!r:.40}.")
        offsets.append(operator.index(cast(Any, value)))  # numpy integers too
    start, end = offsets
    if not 0 <= start < end <= len(text):
        raise AnswerError(f"{where}({start}, {end}) is not a non-empty character range of the "
                          f"text (length {len(text)}): need 0 <= start < end <= length.")
    label = span.get("label")
    if not isinstance(label, str) or not label.strip():
        raise AnswerError(f"{where}needs a non-empty 'label' string, got {label!r:.40}.")


def _str_or_none(v: Any) -> str | None:
    return None if v is None else str(v)


def check_dataset_name(name: Any) -> str:
    """``name`` if it can name a dataset; DatasetError saying why not otherwise."""
    if not isinstance(name, str):
        raise DatasetError(f"A dataset name must be a string, got {type(name).__name__} {name!r}.")
    if not name.strip():
        raise DatasetError("A dataset name must not be empty, e.g. dataset('gadgets').")
    if name != name.strip() or any(ord(c) < 32 for c in name) or len(name) > _MAX_NAME:
        raise DatasetError(
            f"Invalid dataset name {name!r}: use at most {_MAX_NAME} characters, without "
            "leading/trailing whitespace or control characters, e.g. 'gadgets_v2'.")
    return name


def _loads_many(payloads: list[str]) -> list[Any]:
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


def database_path(path: str | os.PathLike[str] | None) -> str:
    """The file ``Database(path)`` opens (``$NBANNOTATE_DB``, else ./nbannotate.duckdb, for
    None), resolved, or ":memory:"; nothing on disk is touched."""
    if path is None:
        path = os.environ.get(ENV_VAR) or DEFAULT_PATH
    raw = os.fspath(path)
    if not isinstance(raw, str) or not raw:
        raise StoreError(f"The database path must be a non-empty string or Path, got {path!r}.")
    return raw if raw == MEMORY else str(Path(raw).expanduser().resolve())


def _resolve(path: str | os.PathLike[str] | None) -> str:
    resolved = database_path(path)
    if resolved == MEMORY:
        return MEMORY
    p = Path(resolved)
    if p.is_dir():
        raise StoreError(
            f"The database path {str(p)!r} is a directory. Pass a file path inside it, e.g. "
            f"Database({str(p / DEFAULT_PATH)!r}).")
    if not p.parent.exists():
        # Created on purpose (documented): a fresh project dir like data/ needs no mkdir.
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"Cannot create the directory {str(p.parent)!r} for the database: "
                             f"{e.strerror}. Use a path in an existing, writable directory."
                             ) from None
    return str(p)


# -- public classes ---------------------------------------------------------------------------


class Database:
    """A DuckDB file (or ``":memory:"``) holding datasets of answers.

    ``path`` defaults to ``$NBANNOTATE_DB`` if set, else ``./nbannotate.duckdb`` in the current
    directory; missing parent directories are created. Handles on the same resolved file share
    one connection in this process. Raises DatabaseLockedError when another process holds the
    file, StoreError when the path is a directory or not a DuckDB database.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path: str = _resolve(path)
        self._shared: _Shared | None = _acquire(self.path)
        # A handle garbage-collected unclosed (Database(path).dataset(name).to_pandas() in a
        # cell) releases its hold on the file, so other processes can open it. The collection
        # may run inside this module with the registry lock held by this thread, hence an
        # RLock; the connection closes only when no other handle holds it, never under a user.
        self._finalizer = weakref.finalize(self, _release, self._shared)
        self._finalizer.atexit = False  # the process ending releases the file anyway
        try:
            self._init_schema()
        except BaseException:
            self.close()
            raise

    # -- plumbing --------------------------------------------------------------------------

    def _closed_error(self) -> StoreError:
        return StoreError(f"This Database ({self.path}) is closed. Open it again: "
                          f"Database({self.path!r}).")

    @contextmanager
    def _locked_shared(self) -> Iterator[_Shared]:
        """The shared connection state, with this database's lock held (re-checked: closing
        takes it too)."""
        shared = self._shared
        if shared is None:
            raise self._closed_error()
        with shared.lock:
            if shared.refs <= 0:
                raise self._closed_error()
            try:
                yield shared
            except duckdb.Error as err:  # say which file and what to do, not DuckDB's internals
                raise _store_error(self.path, err) from err

    @contextmanager
    def _locked(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection, with this database's lock held."""
        with self._locked_shared() as shared:
            yield shared.conn

    def _answer_index(self, shared: _Shared, name: str, load: bool) -> AnswerIndex | None:
        """Dataset ``name``'s index (caller holds the lock); with ``load`` it is read from the
        table the first time, else None while nobody asked for it (writes then skip it)."""
        index = shared.indexes.get(name)
        if index is None and load:
            rows = shared.conn.execute(
                "SELECT task_hash, input_hash, kind, answer, span_start, span_end, view_id "
                "FROM answers "
                "WHERE dataset = ?",
                [name]).fetchall()
            index = shared.indexes[name] = AnswerIndex(rows)
        return index

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN ... COMMIT under the lock; ROLLBACK (and re-raise) on any error."""
        with self._locked() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _init_schema(self) -> None:
        """Create the tables in a new file; in an existing one, refuse tables of the same names
        that nbannotate did not create before writing anything, and read the tables once, so
        that a damaged file fails here rather than at a later call. Once per open file: more
        handles on it share the checked connection."""
        with self._locked_shared() as shared:
            if shared.checked:
                return
            conn = shared.conn
            found: dict[str, list[str]] = {}
            for table, column in conn.execute(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_name IN ('answers', 'datasets') "
                    "AND table_schema = current_schema() ORDER BY ordinal_position").fetchall():
                found.setdefault(table, []).append(column)
            for table, expected in (("answers", _COLUMNS), ("datasets", _DATASET_COLUMNS)):
                if table == "answers" and tuple(found.get(table, ())) == _COLUMNS_BEFORE_SPANS:
                    continue  # upgraded below
                if table in found and tuple(found[table]) != expected:
                    raise StoreError(
                        f"The database {self.path!r} has a {table!r} table that nbannotate did "
                        f"not create (columns {found[table]}), so it belongs to another "
                        f"application: nothing was changed in it. Use another database file, "
                        f"e.g. db='answers.duckdb'.")
            if len(found) < 2:
                with self._transaction() as tx:  # the lock is re-entrant
                    tx.execute(_SCHEMA)
            # Reads the small columns in full (statistics alone answer count/max): a file
            # cut short fails here. The JSON and text columns are read when asked for.
            conn.execute("SELECT list(name), list(meta) FROM datasets").fetchall()
            conn.execute("SELECT sum(task_hash % 7), count(kind), count(view_id), "
                         "count(span_start) FROM answers").fetchall()
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
        with self._transaction() as tx:
            tx.execute("ALTER TABLE answers ADD COLUMN spans JSON")
            tx.execute("ALTER TABLE answers ADD COLUMN meta JSON")
            tx.execute("UPDATE answers SET spans = json_extract(task, '$.spans'), "
                       "meta = json_extract(task, '$.meta')")

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._locked() as conn:
            return conn.execute(sql, list(params)).fetchall()

    # -- datasets --------------------------------------------------------------------------

    def datasets(self) -> list[str]:
        """Names of all datasets, sorted."""
        return [r[0] for r in self._query("SELECT name FROM datasets ORDER BY name")]

    def __contains__(self, name: object) -> bool:
        return bool(isinstance(name, str) and self._query(
            "SELECT 1 FROM datasets WHERE name = ?", [name]))

    def add_dataset(self, name: str, meta: Mapping[str, Any] | None = None) -> Dataset:
        """Create a dataset (idempotent: an existing one is returned unchanged, meta kept)."""
        check_dataset_name(name)
        if meta is not None and not isinstance(meta, Mapping):
            raise DatasetError(f"Dataset meta must be a dict, got {type(meta).__name__}.")
        created = datetime.now(timezone.utc).replace(tzinfo=None)
        with self._transaction() as conn:
            conn.execute("INSERT INTO datasets VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                         [name, created, _meta_json(meta)])
        return Dataset(self, name)

    def dataset(self, name: str, create: bool = False) -> Dataset:
        """The dataset ``name``; with ``create=True`` it is created when missing.

        Raises DatasetError for an unknown name (listing the known ones) without ``create``.
        """
        check_dataset_name(name)
        if create:
            return self.add_dataset(name)
        if name not in self:
            known = self.datasets()
            listing = ", ".join(repr(n) for n in known) if known else "none yet"
            raise DatasetError(
                f"No dataset {name!r} in {self.path}. Known datasets: {listing}. Use "
                f"dataset({name!r}, create=True) to create it.")
        return Dataset(self, name)

    def drop_dataset(self, name: str) -> int:
        """Delete a dataset and all its answers; returns how many answers were deleted."""
        check_dataset_name(name)
        if name not in self:
            raise DatasetError(f"Cannot drop {name!r}: no such dataset in {self.path}. Known "
                               f"datasets: {', '.join(map(repr, self.datasets())) or 'none'}.")
        with self._locked_shared() as shared:
            with self._transaction() as conn:
                n = conn.execute("SELECT count(*) FROM answers WHERE dataset = ?",
                                 [name]).fetchone()
                conn.execute("DELETE FROM answers WHERE dataset = ?", [name])
                conn.execute("DELETE FROM datasets WHERE name = ?", [name])
            # Cleared, not dropped: live sessions hold it, and a dataset made again is empty.
            if (index := self._answer_index(shared, name, load=False)) is not None:
                index.clear()
        return int(n[0]) if n else 0

    def check_writable(self) -> None:
        """Raise StoreError unless answers can be written here. DuckDB opens a file in a
        read-only folder and fails only at the first write (it writes a '.wal' file beside
        it); sessions call this at the start, so the call that got the path says so."""
        if self.path == MEMORY:
            return
        folder = os.path.dirname(self.path) or "."
        for what, path in (("The database file", self.path),
                           ("The folder of the database", folder)):
            if os.path.exists(path) and not os.access(path, os.W_OK):
                raise StoreError(
                    f"{what} {path!r} is not writable, so no answer could be stored. DuckDB "
                    f"writes the file and a '.wal' file beside it: make both the file and its "
                    f"folder writable, or use a database in a writable folder, e.g. "
                    f"db='~/answers.duckdb'. (Reading a read-only database works: "
                    f"Database(path).dataset(name).to_pandas().)")

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once this handle is closed (``close()``, or the end of a ``with`` block)."""
        return self._shared is None or self._shared.refs <= 0

    def close(self) -> None:
        """Release this handle; the file is released when every handle on it is closed."""
        shared, self._shared = self._shared, None
        self._finalizer.detach()
        if shared is not None:
            _release(shared)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return f"Database({self.path!r}, closed)"
        rows = self._query(
            "SELECT d.name, count(a.id) FROM datasets d LEFT JOIN answers a ON a.dataset = d.name "
            "GROUP BY d.name ORDER BY d.name")
        listing = ", ".join(f"{n!r}: {c} answers" for n, c in rows[:20])
        more = f", ... ({len(rows)} datasets)" if len(rows) > 20 else ""
        return f"Database({self.path!r}, datasets={{{listing}{more}}})"


class Dataset:
    """A named set of answers in a :class:`Database`. Get one with ``db.dataset(name)``."""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = check_dataset_name(name)
        row = db._query("SELECT created, meta FROM datasets WHERE name = ?", [name])
        if not row:
            raise DatasetError(f"No dataset {name!r} in {db.path}.")
        self.created: datetime = row[0][0].replace(tzinfo=timezone.utc)
        self.meta: dict[str, Any] = json.loads(row[0][1]) if row[0][1] else {}

    def _exists_check(self, conn: duckdb.DuckDBPyConnection) -> None:
        shared = self.db._shared
        if shared is not None and shared.old_schema:
            raise StoreError(
                f"The database {self.db.path!r} was written by an earlier nbannotate and this "
                f"process cannot write to it (or to its folder) to upgrade it, so no answer can "
                f"be stored in it. Make the file and its folder writable and open it again; "
                f"reading it works as it is.")
        if not conn.execute("SELECT 1 FROM datasets WHERE name = ?", [self.name]).fetchall():
            raise DatasetError(f"The dataset {self.name!r} was dropped from {self.db.path}. "
                               f"Create it again: db.dataset({self.name!r}, create=True).")

    # -- writing ---------------------------------------------------------------------------

    def answer_index(self) -> AnswerIndex:
        """The live in-memory index of this dataset's answered questions and texts (one query
        the first time in this process; kept up to date by every write after that)."""
        with self.db._locked_shared() as shared:
            index = self.db._answer_index(shared, self.name, load=True)
            assert index is not None
            return index

    def add(self, task: Mapping[str, Any], *, answer: str | None = None,
            annotator: str | None = None, session_id: str | None = None,
            once: Literal["task", "text"] | None = None) -> dict[str, Any]:
        """Store one answer; the row is committed (durable) when this returns.

        ``answer`` defaults to ``task["answer"]`` and must be one of tasks.ANSWERS (AnswerError
        otherwise). The task needs ``"text"``; missing hashes are computed. The stored copy gets
        ``answer``, ``_timestamp`` (int seconds), ``_session_id`` and ``_annotator_id`` (the
        arguments, else the task's own values) and is returned. The caller's dict is not changed.

        ``once="task"`` refuses (AlreadyAnsweredError, nothing stored) a task whose task hash
        the dataset holds already, ``once="text"`` a complete (gold) answer of a text that has
        one. Checked and stored under the database's lock, so of two sessions answering the
        same question at once exactly one succeeds.
        """
        stored, row = _prepare(task, self.name, answer, annotator, session_id, keep_stamps=False)
        key = _key(row)
        with self.db._locked_shared() as shared:
            index = self.db._answer_index(shared, self.name, load=once is not None)
            if index is not None:
                if once == "task" and index.has_task(key[0]):
                    raise AlreadyAnsweredError(
                        f"Task {key[0]} was already answered in dataset {self.name!r}.")
                if once == "text" and index.has_gold(key[1]):
                    raise AlreadyAnsweredError(
                        f"The text was already annotated in dataset {self.name!r}.")
                # Counted before the write, so other sessions skip it while it is stored.
                index.add([key])
            try:
                with self.db._transaction() as conn:
                    self._exists_check(conn)
                    conn.execute(_INSERT_ONE, list(row))
            except BaseException:
                if index is not None:
                    index.remove([key])
                raise
        return stored

    def add_many(self, tasks: Iterable[Mapping[str, Any]], *, answer: str | None = None,
                 annotator: str | None = None, session_id: str | None = None
                 ) -> list[dict[str, Any]]:
        """Store many answers in one transaction (all or nothing); returns the stored tasks."""
        prepared = [_prepare(t, self.name, answer, annotator, session_id, keep_stamps=False,
                             where=f"task {i}: ") for i, t in enumerate(tasks)]
        self._insert_rows([row for _, row in prepared])
        return [stored for stored, _ in prepared]

    def _insert_rows(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self.db._locked_shared() as shared:
            with self.db._transaction() as conn:
                self._exists_check(conn)
                self._bulk_insert(conn, rows)
            if (index := self.db._answer_index(shared, self.name, load=False)) is not None:
                index.add(_key(row) for row in rows)

    @staticmethod
    def _bulk_insert(conn: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]]) -> None:
        import pandas as pd

        ids = sorted(r[0] for r in conn.execute(
            f"SELECT nextval('{_SEQ}') FROM range(?)", [len(rows)]).fetchall())
        cols = list(zip(*rows, strict=True))
        data: dict[str, Any] = {"id": pd.array(ids, dtype="Int64")}
        for name, values in zip(_COLUMNS[1:], cols, strict=True):
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
            select = ", ".join(f"CAST({c} AS {_BULK_TYPES[c]})" for c in _COLUMNS)
            conn.execute(f"INSERT INTO answers ({_INSERT_COLS}) SELECT {select} FROM {view} "
                         "ORDER BY id")
        finally:
            conn.unregister(view)

    def _latest_row(self, conn: duckdb.DuckDBPyConnection, task_hash: int,
                    session_id: str | None) -> tuple[Any, ...] | None:
        """(id, task, input_hash, kind, answer, span_start, span_end, view_id) of the latest
        answer with this task hash (and session, if given), or None."""
        sql = ("SELECT id, task, input_hash, kind, answer, span_start, span_end, view_id "
               "FROM answers WHERE dataset = ? AND task_hash = ?")
        params: list[Any] = [self.name, int(task_hash)]
        if session_id is not None:
            sql += " AND session_id = ?"
            params.append(session_id)
        return conn.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()

    def remove(self, task_hash: int, session_id: str | None = None) -> dict[str, Any] | None:
        """Delete the latest answer with this task hash (and session, if given): undo.

        Returns the removed task, or None when there was none.
        """
        with self.db._locked_shared() as shared:
            with self.db._transaction() as conn:
                row = self._latest_row(conn, task_hash, session_id)
                if row is None:
                    return None
                conn.execute("DELETE FROM answers WHERE id = ?", [row[0]])
            if (index := self.db._answer_index(shared, self.name, load=False)) is not None:
                index.remove([(int(task_hash), *row[2:])])
        return json.loads(row[1])

    def update_answer(self, task_hash: int, answer: str, session_id: str | None = None
                      ) -> dict[str, Any]:
        """Change the latest answer with this task hash (and session, if given); returns the
        new task. Its ``_timestamp`` becomes now: the changed answer is the latest one (which
        train() lets win when a text was answered more than once).

        Raises AnswerError for an invalid answer or when no answer matches.
        """
        ans = check_answer(answer)
        with self.db._locked_shared() as shared:
            with self.db._transaction() as conn:
                row = self._latest_row(conn, task_hash, session_id)
                if row is None:
                    whose = "" if session_id is None else f" from session {session_id!r}"
                    raise AnswerError(f"No answer with task hash {task_hash}{whose} in dataset "
                                      f"{self.name!r}: nothing to change.")
                task = json.loads(row[1])
                task["answer"] = ans
                task["_timestamp"] = int(time.time())
                created = datetime.fromtimestamp(task["_timestamp"], timezone.utc).replace(
                    tzinfo=None)
                conn.execute("UPDATE answers SET answer = ?, task = ?, created = ? WHERE id = ?",
                             [ans, _dumps(task), created, row[0]])
            if (index := self.db._answer_index(shared, self.name, load=False)) is not None:
                th = int(task_hash)
                index.remove([(th, *row[2:])])
                index.add([(th, row[2], row[3], ans, *row[5:])])
        return task

    # -- reading ---------------------------------------------------------------------------

    def task_hashes(self) -> set[int]:
        """Task hashes answered in this dataset (to skip questions already asked)."""
        return {r[0] for r in self.db._query(
            "SELECT DISTINCT task_hash FROM answers WHERE dataset = ?", [self.name])}

    def input_hashes(self) -> set[int]:
        """Input hashes answered in this dataset."""
        return {r[0] for r in self.db._query(
            "SELECT DISTINCT input_hash FROM answers WHERE dataset = ?", [self.name])}

    def answers(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The stored task JSONs (with answer), in insertion order; ``kind`` 'binary'/'gold'."""
        sql, params = self._where(kind)
        rows = self.db._query(f"SELECT task FROM answers {sql} ORDER BY id", params)
        return _loads_many([r[0] for r in rows])

    def _where(self, kind: str | None) -> tuple[str, list[Any]]:
        if kind is None:
            return "WHERE dataset = ?", [self.name]
        if kind not in KINDS:
            raise DatasetError(f"kind must be one of {KINDS} or None, got {kind!r}.")
        return "WHERE dataset = ? AND kind = ?", [self.name, kind]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.answers())

    def __len__(self) -> int:
        return int(self.db._query("SELECT count(*) FROM answers WHERE dataset = ?",
                                  [self.name])[0][0])

    def counts(self) -> dict[str, int]:
        """``{"accept": n, "reject": n, "ignore": n, "total": n}``."""
        out = dict.fromkeys(ANSWERS, 0)
        for ans, n in self.db._query(
                "SELECT answer, count(*) FROM answers WHERE dataset = ? GROUP BY answer",
                [self.name]):
            out[ans] = int(n)
        out["total"] = sum(out[a] for a in ANSWERS)
        return out

    def to_pandas(self, kind: str | None = None) -> pd.DataFrame:
        """One row per answer, insertion order, with readable columns.

        Columns: text, span_text, label, start, end, token_start, token_end, answer, score,
        kind, view_id, annotator, session_id, timestamp (UTC pandas datetime), input_hash,
        task_hash, spans (list of dicts), meta (dict). For gold answers the span columns are
        empty and ``spans`` holds every span.
        """
        import pandas as pd  # lazy: importing the store does not need pandas

        sql, params = self._where(kind)
        with self.db._locked_shared() as shared:
            # The spans and meta columns hold copies made when the answer was stored: reading
            # them does not parse each task's JSON (a file that could not be upgraded does).
            spans, meta = (("json_extract(task, '$.spans')", "json_extract(task, '$.meta')")
                           if shared.old_schema else ("spans", "meta"))
            parts = (f"coalesce(CAST({spans} AS VARCHAR), 'null') AS spans, "
                     f"coalesce(CAST({meta} AS VARCHAR), 'null') AS meta ")
            df = shared.conn.execute(
                "SELECT text, span_text, label, span_start AS start, span_end AS \"end\", "
                "token_start, token_end, answer, score, kind, view_id, annotator, session_id, "
                f"created AS timestamp, input_hash, task_hash, {parts}"
                f"FROM answers {sql} ORDER BY id", params).df()
        # One json.loads over the whole column, not one call per row.
        # object columns even when empty (a plain empty list would make them float64)
        df["spans"] = pd.Series([s or [] for s in _loads_many(df["spans"].tolist())],
                                index=df.index, dtype=object)
        df["meta"] = pd.Series([m if isinstance(m, dict) else {}
                                for m in _loads_many(df["meta"].tolist())],
                               index=df.index, dtype=object)
        df["timestamp"] = df["timestamp"].dt.tz_localize("UTC")
        for col in ("start", "end", "token_start", "token_end"):
            df[col] = df[col].astype("Int64")
        return df

    # -- JSONL ------------------------------------------------------------------------------

    def export_jsonl(self, path: str | os.PathLike[str]) -> int:
        """Write one task JSON (with answer) a line, like ``prodigy db-out``; returns the count.

        Written to a temporary file then renamed, so a failed export leaves no partial file.
        Streams rows in chunks: memory does not grow with the dataset.
        """
        out = Path(path).expanduser()
        if out.is_dir():
            raise StoreError(f"Export path {str(out)!r} is a directory; pass a file path such "
                             f"as {str(out / (self.name + '.jsonl'))!r}.")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        with self.db._locked() as conn:
            cur = conn.cursor()  # own connection: streams without holding the lock
        n = 0
        try:
            cur.execute("SELECT task FROM answers WHERE dataset = ? ORDER BY id", [self.name])
            with open(tmp, "w", encoding="utf-8") as f:
                while chunk := cur.fetchmany(10_000):
                    f.write("".join(r[0] + "\n" for r in chunk))
                    n += len(chunk)
            os.replace(tmp, out)
        finally:
            cur.close()
            if tmp.exists():
                tmp.unlink()
        return n

    def import_jsonl(self, source: str | os.PathLike[str] | Iterable[Mapping[str, Any]], *,
                     rehash: bool | None = None, progress: bool = True) -> int:
        """Import answers from a Prodigy-style JSONL file (or an iterable of task dicts).

        All or nothing, in one transaction. Every line needs ``text`` and ``answer``, and its
        spans integer ``start`` < ``end`` inside the text and a ``label`` (AnswerError naming
        the line otherwise). Hashes: missing ones are computed; by default (``rehash=None``)
        hashes made by another tool, e.g. Prodigy's ``db-out``, are recomputed with
        nbannotate's, so that teach() does not ask those texts again and train() merges them
        with other answers on the same text; the originals are kept as ``_source_input_hash``
        and ``_source_task_hash``. ``rehash=True`` recomputes every hash, ``False`` keeps them
        all as given. Timestamps (seconds), session and annotator ids are kept. Returns the
        number of answers imported. ``progress=True`` shows a bar over the tasks read (a widget
        in a notebook, text on stderr elsewhere); ``False`` shows nothing.
        """
        rows: list[tuple[Any, ...]] = []
        chunk = 20_000
        with self.db._locked_shared() as shared:
            index = self.db._answer_index(shared, self.name, load=False)
            keys: list[_Key] = []  # for a live index only, once all is committed
            with self.db._transaction() as conn:
                self._exists_check(conn)
                total = 0
                read_bar = progress_bar(progress, total=_count_tasks(source),
                                        desc=f"import {self.name}", unit="task")
                for where, task in counted(_read_tasks(source), read_bar):
                    _, row = _prepare(task, self.name, None, None, None, keep_stamps=True,
                                      where=where, rehash=rehash)
                    rows.append(row)
                    if index is not None:
                        keys.append(_key(row))
                    if len(rows) >= chunk:
                        self._bulk_insert(conn, rows)
                        total += len(rows)
                        rows = []
                if rows:
                    self._bulk_insert(conn, rows)
                    total += len(rows)
            if index is not None:
                index.add(keys)
        return total

    def __repr__(self) -> str:
        c = self.counts()
        return (f"Dataset({self.name!r}, {c['total']} answers: {c['accept']} accept, "
                f"{c['reject']} reject, {c['ignore']} ignore; created "
                f"{self.created:%Y-%m-%d %H:%M} UTC)")


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
            raise SourceError(f"Cannot import {str(path)!r}: " + (
                "it is a directory." if path.is_dir() else "no such file.")
                + " Pass the path of a .jsonl file written by export_jsonl or prodigy db-out.")
        with open(path, "rb") as f:
            for n, obj in read_objects(f, str(path), SourceError):
                yield f"{str(path)!r}, line {n}: ", obj
    elif isinstance(source, Mapping) or not isinstance(source, Iterable):
        raise SourceError("import_jsonl takes a path to a JSONL file or an iterable of task "
                          f"dicts, got {type(source).__name__}.")
    else:
        for i, obj in enumerate(source):
            yield f"task {i}: ", obj
