"""The dataset API: :class:`Database` and :class:`Dataset`, over any
:class:`~nbannotate.store.engine.Engine` (no engine's library is imported here).

::

    db = Database()                       # ./nbannotate.duckdb, or $NBANNOTATE_DB
    ds = db.dataset("gadgets", create=True)
    ds.add(task, answer="accept")         # committed to disk when it returns
    ds.to_pandas()

All methods are thread-safe (the engine's lock), so the kernel thread can write while a
background thread reads. Every write keeps the dataset's live
:class:`~nbannotate.store.index.AnswerIndex` (if one was asked for) up to date.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import AnswerError, DatasetError, StoreError
from ..jsonl import dumps, loads_many
from ..tasks import ANSWERS, check_answer
from .claims import DEFAULT_LEASE, Holds, Mark
from .engine import Engine, database_path, is_url
from .index import AnswerIndex
from .jsonl import export_jsonl, import_jsonl
from .rows import KINDS, Key, Row, key, prepare
from .watch import Listener, per_annotator, watcher

if TYPE_CHECKING:
    import pandas as pd

_MAX_NAME = 200


def open_engine(path: str | os.PathLike[str] | None) -> Engine:
    """The engine serving ``path`` (see :func:`~nbannotate.store.engine.database_path`),
    opened: PostgreSQL for a ``postgresql://`` URL, DuckDB otherwise."""
    address = database_path(path)
    if is_url(address):
        try:
            from .postgres_engine import PostgresEngine  # loads psycopg: an optional extra
        except ImportError:
            raise StoreError(
                "A PostgreSQL URL needs the psycopg package, which is not installed: "
                'pip install "nbannotate[postgres]" (then restart the kernel).'
            ) from None
        return PostgresEngine(address)
    from .duckdb_engine import DuckDBEngine  # loads duckdb

    return DuckDBEngine(address)


def store_exists(resolved: str) -> bool:
    """Whether the store ``database_path()`` resolved to exists (train() only reads: it
    refuses to open a missing file, which would create it). A server database is checked when
    it is opened."""
    return is_url(resolved) or os.path.exists(resolved)


class AlreadyAnsweredError(AnswerError):
    """``Dataset.add(..., once=...)`` refused an answer: the dataset holds one already."""


def check_dataset_name(name: Any) -> str:
    """``name`` if it can name a dataset; DatasetError saying why not otherwise."""
    if not isinstance(name, str):
        raise DatasetError(f"A dataset name must be a string, got {type(name).__name__} {name!r}.")
    if not name.strip():
        raise DatasetError("A dataset name must not be empty, e.g. dataset('gadgets').")
    if name != name.strip() or any(ord(c) < 32 for c in name) or len(name) > _MAX_NAME:
        raise DatasetError(
            f"Invalid dataset name {name!r}: use at most {_MAX_NAME} characters, without "
            "leading/trailing whitespace or control characters, e.g. 'gadgets_v2'."
        )
    return name


def _meta_json(meta: Mapping[str, Any] | None) -> str:
    try:
        return dumps(dict(meta or {}))
    except TypeError as e:
        raise DatasetError(f"Dataset meta must be JSON-serializable: {e}.") from None


class Database:
    """Datasets of answers in a DuckDB file (or ``":memory:"``), or in a PostgreSQL database.

    ``path`` is a file path, or a URL ``postgresql://user:password@host:port/dbname`` (needs
    ``pip install "nbannotate[postgres]"``; several processes and machines may use it at once).
    It defaults to ``$NBANNOTATE_DB`` if set, else ``./nbannotate.duckdb`` in the current
    directory; missing parent directories of a file are created. Handles on the same file or
    URL share one connection in this process, which holds a file only while it works, so
    notebooks in other processes can use it too. Raises DatabaseLockedError when another
    process holds the file past a bounded wait, StoreError when the path is a directory or not
    a DuckDB database, or the server cannot be reached or refuses the user. ``path`` (and every
    message) shows a URL without its password.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._engine: Engine = open_engine(path)
        self.path: str = self._engine.path

    def _answer_index(
        self, name: str, load: bool, annotator: str | None = None
    ) -> AnswerIndex | None:
        """Dataset ``name``'s index, of every answer or (``annotator``) of one annotator's
        (caller holds the lock); with ``load`` it is read from the store the first time, else
        None while nobody asked for it (writes then skip it)."""
        engine = self._engine
        index = engine.indexes.get((name, annotator))
        if index is None and load:
            index = AnswerIndex(engine.index_keys(name, annotator))
            engine.indexes[(name, annotator)] = index
        return index

    def _count_written(self, name: str, rows: list[tuple[Key, str | None]], n: int) -> None:
        """Add (``n`` = 1) or remove (-1) stored answers in the live indexes (caller holds
        the lock): the dataset's and each answer's annotator's."""
        for (dataset, who), index in list(self._engine.indexes.items()):
            if dataset == name:
                keys = [k for k, a in rows if who is None or a == who]
                if n > 0:
                    index.add(keys)
                else:
                    index.remove(keys)

    # -- datasets --------------------------------------------------------------------------

    def datasets(self) -> list[str]:
        """Names of all datasets, sorted."""
        return self._engine.dataset_names()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._engine.dataset_info(name) is not None

    def add_dataset(self, name: str, meta: Mapping[str, Any] | None = None) -> Dataset:
        """Create a dataset (idempotent: an existing one is returned unchanged, meta kept)."""
        check_dataset_name(name)
        if meta is not None and not isinstance(meta, Mapping):
            raise DatasetError(f"Dataset meta must be a dict, got {type(meta).__name__}.")
        created = datetime.now(timezone.utc).replace(tzinfo=None)
        self._engine.insert_dataset(name, created, _meta_json(meta))
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
                f"dataset({name!r}, create=True) to create it."
            )
        return Dataset(self, name)

    def drop_dataset(self, name: str) -> int:
        """Delete a dataset and all its answers; returns how many answers were deleted."""
        check_dataset_name(name)
        if name not in self:
            raise DatasetError(
                f"Cannot drop {name!r}: no such dataset in {self.path}. Known "
                f"datasets: {', '.join(map(repr, self.datasets())) or 'none'}."
            )
        with self._engine.locked():
            n = self._engine.drop_dataset(name)
            # Cleared, not dropped: live sessions hold them, and a dataset made again is empty.
            for (dataset, _who), index in list(self._engine.indexes.items()):
                if dataset == name:
                    index.clear()
        return n

    def check_writable(self) -> None:
        """Raise StoreError unless answers can be written here. DuckDB opens a file in a
        read-only folder and fails only at the first write (it writes a '.wal' file beside
        it); sessions call this at the start, so the call that got the path says so."""
        self._engine.check_writable()

    @property
    def shared_by_processes(self) -> bool:
        """Whether other processes may write this store meanwhile (a PostgreSQL server)."""
        return self._engine.shared_by_processes

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once this handle is closed (``close()``, or the end of a ``with`` block)."""
        return self._engine.closed

    def close(self) -> None:
        """Release this handle; the file is released when every handle on it is closed."""
        self._engine.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return f"Database({self.path!r}, closed)"
        rows = self._engine.dataset_sizes()
        listing = ", ".join(f"{n!r}: {c} answers" for n, c in rows[:20])
        more = f", ... ({len(rows)} datasets)" if len(rows) > 20 else ""
        return f"Database({self.path!r}, datasets={{{listing}{more}}})"


class Dataset:
    """A named set of answers in a :class:`Database`. Get one with ``db.dataset(name)``."""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = check_dataset_name(name)
        info = db._engine.dataset_info(name)
        if info is None:
            raise DatasetError(f"No dataset {name!r} in {db.path}.")
        self.created: datetime = info[0].replace(tzinfo=timezone.utc)
        self.meta: dict[str, Any] = json.loads(info[1]) if info[1] else {}

    @property
    def _engine(self) -> Engine:
        return self.db._engine

    def _exists_check(self) -> None:
        """Inside a transaction: StoreError when nothing can be stored, DatasetError when
        the dataset was dropped meanwhile."""
        self._engine.check_can_store()
        if self._engine.dataset_info(self.name) is None:
            raise DatasetError(
                f"The dataset {self.name!r} was dropped from {self.db.path}. "
                f"Create it again: db.dataset({self.name!r}, create=True)."
            )

    # -- writing ---------------------------------------------------------------------------

    def answer_index(self, annotator: str | None = None) -> AnswerIndex:
        """The live in-memory index of this dataset's answered questions and texts (one query
        the first time in this process; kept up to date by every write after that, and, on a
        store other processes write, by the dataset's watcher). With ``annotator``: of that
        annotator's answers only."""
        with self._engine.locked():
            index = self.db._answer_index(self.name, load=True, annotator=annotator)
            assert index is not None
            return index

    def add(
        self,
        task: Mapping[str, Any],
        *,
        answer: str | None = None,
        annotator: str | None = None,
        session_id: str | None = None,
        once: Mark | None = None,
        per_annotator: bool = False,
    ) -> dict[str, Any]:
        """Store one answer; the row is committed (durable) when this returns.

        ``answer`` defaults to ``task["answer"]`` and must be one of tasks.ANSWERS (AnswerError
        otherwise). The task needs ``"text"``; missing hashes are computed. The stored copy gets
        ``answer``, ``_timestamp`` (int seconds), ``_session_id`` and ``_annotator_id`` (the
        arguments, else the task's own values) and is returned. The caller's dict is not changed.

        ``once="task"`` refuses (AlreadyAnsweredError, nothing stored) a task whose task hash
        the dataset holds already, ``once="text"`` a complete (gold) answer of a text that has
        one; with ``per_annotator`` only this annotator's answers count. Checked and stored
        under the store's lock (on a DuckDB file it holds the file, and the index has the
        answers other processes stored) and, on a store that several processes write at once,
        by a mark set in the same transaction as the row (store/claims.py), so of two sessions
        answering the same question at once exactly one succeeds, in this process or any other.
        """
        stored, row = prepare(task, self.name, answer, annotator, session_id, keep_stamps=False)
        k = key(row)
        who = stored.get("_annotator_id")
        scope = (who or "") if per_annotator else ""
        with self._engine.locked():
            index = self.db._answer_index(
                self.name, load=once is not None, annotator=who if per_annotator else None
            )
            if index is not None:
                if once == "task" and index.has_task(k[0]):
                    raise AlreadyAnsweredError(
                        f"Task {k[0]} was already answered in dataset {self.name!r}."
                    )
                if once == "text" and index.has_gold(k[1]):
                    raise AlreadyAnsweredError(
                        f"The text was already annotated in dataset {self.name!r}."
                    )
            # Counted before the write, so other sessions skip it while it is stored.
            self.db._count_written(self.name, [(k, who)], 1)
            try:
                with self._engine.transaction():
                    self._exists_check()
                    if once is not None and not self._engine.mark(
                        self.name, scope, once, k[0] if once == "task" else k[1]
                    ):
                        raise AlreadyAnsweredError(
                            f"{'Task ' + str(k[0]) if once == 'task' else 'The text'} was "
                            f"already answered in dataset {self.name!r} (in another process)."
                        )
                    ids = self._engine.insert_rows([row])
                self._written(ids)
            except BaseException:
                self.db._count_written(self.name, [(k, who)], -1)
                raise
        return stored

    def _written(self, ids: list[int]) -> None:
        """Tell the dataset's watcher (if any) that these rows are this process's own."""
        found = self._engine.state.get("watchers", {}).get(self.name)
        if found is not None:
            found.written(ids)

    def add_many(
        self,
        tasks: Iterable[Mapping[str, Any]],
        *,
        answer: str | None = None,
        annotator: str | None = None,
        session_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Store many answers in one transaction (all or nothing); returns the stored tasks."""
        prepared = [
            prepare(
                t, self.name, answer, annotator, session_id, keep_stamps=False, where=f"task {i}: "
            )
            for i, t in enumerate(tasks)
        ]
        self._insert_rows([row for _, row in prepared])
        return [stored for stored, _ in prepared]

    def _insert_rows(self, rows: list[Row]) -> None:
        if not rows:
            return
        with self._engine.locked():
            with self._engine.transaction():
                self._exists_check()
                ids = self._engine.insert_rows(rows)
            self._written(ids)
            self.db._count_written(self.name, [(key(row), row[13]) for row in rows], 1)

    def remove(
        self,
        task_hash: int,
        session_id: str | None = None,
        unmark: tuple[str, Mark] | None = None,
    ) -> dict[str, Any] | None:
        """Delete the latest answer with this task hash (and session, if given): undo.
        ``unmark`` (scope, what) clears the mark ``add(once=...)`` set, in the same transaction.

        Returns the removed task, or None when there was none.
        """
        with self._engine.locked():
            with self._engine.transaction():
                row = self._engine.latest_answer(self.name, task_hash, session_id)
                if row is None:
                    return None
                self._engine.delete_answer(row[0])
                if unmark is not None:
                    scope, what = unmark
                    self._engine.unmark(
                        self.name, scope, what, int(task_hash) if what == "task" else row[2]
                    )
            task = json.loads(row[1])
            k: Key = (int(task_hash), *row[2:])
            self.db._count_written(self.name, [(k, task.get("_annotator_id"))], -1)
        return task

    def update_answer(
        self, task_hash: int, answer: str, session_id: str | None = None
    ) -> dict[str, Any]:
        """Change the latest answer with this task hash (and session, if given); returns the
        new task. Its ``_timestamp`` becomes now: the changed answer is the latest one (which
        train() lets win when a text was answered more than once).

        Raises AnswerError for an invalid answer or when no answer matches.
        """
        ans = check_answer(answer)
        with self._engine.locked():
            with self._engine.transaction():
                row = self._engine.latest_answer(self.name, task_hash, session_id)
                if row is None:
                    whose = "" if session_id is None else f" from session {session_id!r}"
                    raise AnswerError(
                        f"No answer with task hash {task_hash}{whose} in dataset "
                        f"{self.name!r}: nothing to change."
                    )
                task = json.loads(row[1])
                task["answer"] = ans
                task["_timestamp"] = int(time.time())
                created = datetime.fromtimestamp(task["_timestamp"], timezone.utc).replace(
                    tzinfo=None
                )
                self._engine.update_answer(row[0], ans, dumps(task), created)
            th = int(task_hash)
            who = task.get("_annotator_id")
            old: Key = (th, *row[2:])
            new: Key = (th, row[2], row[3], ans, *row[5:])
            self.db._count_written(self.name, [(old, who)], -1)
            self.db._count_written(self.name, [(new, who)], 1)
        return task

    # -- teams: holds on texts, others' answers, annotators ---------------------------------

    def hold(
        self,
        input_hashes: Iterable[int],
        session_id: str,
        annotator: str | None = None,
        lease: float = DEFAULT_LEASE,
    ) -> Holds:
        """Claim texts for a session (store/claims.py): the texts it now holds, and who holds
        the others. A hold lasts ``lease`` seconds past its session's last renewal."""
        return self._engine.hold(self.name, input_hashes, session_id, annotator, lease)

    def release(self, session_id: str) -> None:
        """Give back every text the session holds (at close)."""
        self._engine.release(session_id)

    def finish(self, input_hashes: Iterable[int], session_id: str) -> None:
        """The session has nothing more to ask about these texts: no one is to (store/claims.py).
        On a shared store the watcher's thread writes it, off the key press."""
        found = self._engine.state.get("watchers", {}).get(self.name)
        if found is not None and found.running:
            found.finish(input_hashes, session_id)
        else:
            self._engine.finish(self.name, input_hashes, session_id)

    def reopen(
        self, input_hashes: Iterable[int], session_id: str, annotator: str | None,
        lease: float = DEFAULT_LEASE,
    ) -> None:  # fmt: skip
        """Hold finished texts again (an answer about them undone)."""
        keys = list(input_hashes)
        found = self._engine.state.get("watchers", {}).get(self.name)
        if found is not None:
            found.flush()  # a finish still waiting to be written comes first
        self._engine.reopen(self.name, keys, session_id, annotator, lease)

    def join(
        self, session_id: str, listener: Listener | None = None, lease: float = DEFAULT_LEASE
    ) -> None:
        """Keep the session's holds alive while this process runs, and (on a store other
        processes write) pass the answers they store to ``listener``: see store/watch.py."""
        watcher(self._engine, self.name).join(session_id, listener, lease)

    def catch_up(self) -> None:
        """Read the answers other processes stored since the watcher's last look, now (a
        session about to ask about a text it has just claimed)."""
        found = self._engine.state.get("watchers", {}).get(self.name)
        if found is not None and found.running:
            found.poll()

    def leave(self, session_id: str) -> None:
        """The session closed: stop renewing its holds and passing it others' answers."""
        found = self._engine.state.get("watchers", {}).get(self.name)
        if found is not None:
            found.leave(session_id)

    def annotator_counts(self) -> dict[str | None, int]:
        """Answers per annotator (None: answers without one)."""
        return self.tallies()[1]

    def tallies(self) -> tuple[dict[str, int], dict[str | None, int]]:
        """``counts()`` and ``annotator_counts()`` together, in one query; on a store other
        processes write, while a session runs, the watcher's latest per-annotator count."""
        found = self._engine.state.get("watchers", {}).get(self.name)
        if found is not None and found.running and found.counts:
            return self.counts(), dict(found.counts)
        rows = self._engine.annotator_counts(self.name)
        return _counts((ans, n) for _who, ans, n in rows), per_annotator(rows)

    def store_error(self) -> StoreError | None:
        """The watcher's last failure (say, the server away), or None while it works."""
        found = self._engine.state.get("watchers", {}).get(self.name)
        return None if found is None else found.error

    # -- reading ---------------------------------------------------------------------------

    def task_hashes(self) -> set[int]:
        """Task hashes answered in this dataset (to skip questions already asked)."""
        return self._engine.hashes(self.name, "task_hash")

    def input_hashes(self) -> set[int]:
        """Input hashes answered in this dataset."""
        return self._engine.hashes(self.name, "input_hash")

    def answers(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The stored task JSONs (with answer), in insertion order; ``kind`` 'binary'/'gold'."""
        return loads_many(self._engine.task_payloads(self.name, _check_kind(kind)))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.answers())

    def __len__(self) -> int:
        return self._engine.count(self.name)

    def counts(self) -> dict[str, int]:
        """``{"accept": n, "reject": n, "ignore": n, "total": n}``."""
        return _counts(self._engine.answer_counts(self.name))

    def to_pandas(self, kind: str | None = None) -> pd.DataFrame:
        """One row per answer, insertion order, with readable columns.

        Columns: text, span_text, label, start, end, token_start, token_end, answer, score,
        kind, view_id, annotator, session_id, timestamp (UTC pandas datetime), input_hash,
        task_hash, spans (list of dicts), meta (dict). For gold answers the span columns are
        empty and ``spans`` holds every span. A binary answer with several spans (Prodigy's
        ner.teach exports) gives one row per span, with that span's columns and its own
        ``answer`` (the span's, else the task's); ``spans`` still holds all of them.
        """
        import pandas as pd  # lazy: importing the store does not need pandas

        df = self._engine.answer_frame(self.name, _check_kind(kind))
        # One json.loads over the whole column, not one call per row.
        # object columns even when empty (a plain empty list would make them float64)
        df["spans"] = pd.Series(
            [s or [] for s in loads_many(df["spans"].tolist())], index=df.index, dtype=object
        )
        df["meta"] = pd.Series(
            [m if isinstance(m, dict) else {} for m in loads_many(df["meta"].tolist())],
            index=df.index,
            dtype=object,
        )
        df["timestamp"] = df["timestamp"].dt.tz_localize("UTC")
        df = _span_rows(df)
        for col in ("start", "end", "token_start", "token_end"):
            df[col] = df[col].astype("Int64")
        return df

    # -- JSONL ------------------------------------------------------------------------------

    def export_jsonl(self, path: str | os.PathLike[str]) -> int:
        """Write one task JSON (with answer) a line, like ``prodigy db-out``; returns the count.

        Written to a temporary file then renamed, so a failed export leaves no partial file.
        Streams rows in chunks: memory does not grow with the dataset.
        """
        return export_jsonl(self._engine, self.name, path)

    def import_jsonl(
        self,
        source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
        *,
        rehash: bool | None = None,
        progress: bool = True,
    ) -> int:
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
        return import_jsonl(
            self._engine,
            self.name,
            source,
            rehash=rehash,
            progress=progress,
            check=self._exists_check,
            stored=self._imported,
        )

    def _imported(self, keys: list[tuple[Key, str | None]], ids: list[int]) -> None:
        self._written(ids)
        self.db._count_written(self.name, keys, 1)

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"Dataset({self.name!r}, {c['total']} answers: {c['accept']} accept, "
            f"{c['reject']} reject, {c['ignore']} ignore; created "
            f"{self.created:%Y-%m-%d %H:%M} UTC)"
        )


def _counts(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """``{"accept": n, "reject": n, "ignore": n, "total": n}`` from (answer, n) rows."""
    out = dict.fromkeys(ANSWERS, 0)
    for ans, n in rows:
        out[ans] += n
    out["total"] = sum(out[a] for a in ANSWERS)
    return out


def _check_kind(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        raise DatasetError(f"kind must be one of {KINDS} or None, got {kind!r}.")
    return kind


def _span_rows(df: Any) -> Any:
    """``to_pandas``'s frame with one row per span for binary answers that have several spans
    or a span with an answer of its own; the other rows as they are."""

    def split(kind: str, spans: list) -> bool:
        return kind == "binary" and (
            len(spans) > 1 or any(isinstance(x, Mapping) and "answer" in x for x in spans)
        )

    todo = [split(k, sp) for k, sp in zip(df["kind"], df["spans"], strict=True)]
    if not any(todo):
        return df
    counts = [len(sp) if t else 1 for t, sp in zip(todo, df["spans"], strict=True)]
    out = df.iloc[[i for i, n in enumerate(counts) for _ in range(n)]].reset_index(drop=True)
    cols = {
        c: out[c].astype(object).tolist()
        for c in (
            "span_text",
            "label",
            "start",
            "end",
            "token_start",
            "token_end",
            "answer",
            "score",
        )
    }
    row = 0
    for t, n, sp, text, answer in zip(
        todo, counts, df["spans"], df["text"], df["answer"], strict=True
    ):
        for x in sp if t else ():
            x = x if isinstance(x, Mapping) else {}
            start, end = x.get("start"), x.get("end")
            own = x.get("answer")
            values = {
                "label": x.get("label"),
                "start": start,
                "end": end,
                "token_start": x.get("token_start"),
                "token_end": x.get("token_end"),
                "span_text": x.get("text")
                or (text[start:end] if isinstance(start, int) and isinstance(end, int) else None),
                "answer": own if own in ("accept", "reject", "ignore") else answer,
                "score": x.get("score"),
            }
            for c, v in values.items():
                cols[c][row] = v
            row += 1
        row += 0 if t else n
    for c, values in cols.items():
        out[c] = _series(values, out.index)
    return out


def _series(values: list, index: Any) -> Any:
    import pandas as pd

    return pd.Series(values, index=index, dtype=object).infer_objects()
