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
from typing import TYPE_CHECKING, Any, Literal

from ..errors import AnswerError, DatasetError
from ..jsonl import dumps, loads_many
from ..tasks import ANSWERS, check_answer
from .engine import Engine, database_path
from .index import AnswerIndex
from .jsonl import export_jsonl, import_jsonl
from .rows import KINDS, Row, key, prepare

if TYPE_CHECKING:
    import pandas as pd

_MAX_NAME = 200


def open_engine(path: str | os.PathLike[str] | None) -> Engine:
    """The engine serving ``path`` (see :func:`~nbannotate.store.engine.database_path`),
    opened. A second engine is chosen here for the paths it serves."""
    from .duckdb_engine import DuckDBEngine  # loads duckdb: the one engine today

    return DuckDBEngine(database_path(path))


def store_exists(resolved: str) -> bool:
    """Whether the store ``database_path()`` resolved to exists (train() only reads: it
    refuses to open a missing one, which would create it)."""
    return os.path.exists(resolved)


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
    """A DuckDB file (or ``":memory:"``) holding datasets of answers.

    ``path`` defaults to ``$NBANNOTATE_DB`` if set, else ``./nbannotate.duckdb`` in the current
    directory; missing parent directories are created. Handles on the same resolved file share
    one connection in this process. Raises DatabaseLockedError when another process holds the
    file, StoreError when the path is a directory or not a DuckDB database.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._engine: Engine = open_engine(path)
        self.path: str = self._engine.path

    def _answer_index(self, name: str, load: bool) -> AnswerIndex | None:
        """Dataset ``name``'s index (caller holds the lock); with ``load`` it is read from the
        store the first time, else None while nobody asked for it (writes then skip it)."""
        engine = self._engine
        index = engine.indexes.get(name)
        if index is None and load:
            index = engine.indexes[name] = AnswerIndex(engine.index_keys(name))
        return index

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
            # Cleared, not dropped: live sessions hold it, and a dataset made again is empty.
            if (index := self._answer_index(name, load=False)) is not None:
                index.clear()
        return n

    def check_writable(self) -> None:
        """Raise StoreError unless answers can be written here. DuckDB opens a file in a
        read-only folder and fails only at the first write (it writes a '.wal' file beside
        it); sessions call this at the start, so the call that got the path says so."""
        self._engine.check_writable()

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

    def answer_index(self) -> AnswerIndex:
        """The live in-memory index of this dataset's answered questions and texts (one query
        the first time in this process; kept up to date by every write after that)."""
        with self._engine.locked():
            index = self.db._answer_index(self.name, load=True)
            assert index is not None
            return index

    def add(
        self,
        task: Mapping[str, Any],
        *,
        answer: str | None = None,
        annotator: str | None = None,
        session_id: str | None = None,
        once: Literal["task", "text"] | None = None,
    ) -> dict[str, Any]:
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
        stored, row = prepare(task, self.name, answer, annotator, session_id, keep_stamps=False)
        k = key(row)
        with self._engine.locked():
            index = self.db._answer_index(self.name, load=once is not None)
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
                index.add([k])
            try:
                with self._engine.transaction():
                    self._exists_check()
                    self._engine.insert_rows([row])
            except BaseException:
                if index is not None:
                    index.remove([k])
                raise
        return stored

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
                self._engine.insert_rows(rows)
            if (index := self.db._answer_index(self.name, load=False)) is not None:
                index.add(key(row) for row in rows)

    def remove(self, task_hash: int, session_id: str | None = None) -> dict[str, Any] | None:
        """Delete the latest answer with this task hash (and session, if given): undo.

        Returns the removed task, or None when there was none.
        """
        with self._engine.locked():
            with self._engine.transaction():
                row = self._engine.latest_answer(self.name, task_hash, session_id)
                if row is None:
                    return None
                self._engine.delete_answer(row[0])
            if (index := self.db._answer_index(self.name, load=False)) is not None:
                index.remove([(int(task_hash), *row[2:])])
        return json.loads(row[1])

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
            if (index := self.db._answer_index(self.name, load=False)) is not None:
                th = int(task_hash)
                index.remove([(th, *row[2:])])
                index.add([(th, row[2], row[3], ans, *row[5:])])
        return task

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
        out = dict.fromkeys(ANSWERS, 0)
        for ans, n in self._engine.answer_counts(self.name):
            out[ans] = n
        out["total"] = sum(out[a] for a in ANSWERS)
        return out

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
        )

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"Dataset({self.name!r}, {c['total']} answers: {c['accept']} accept, "
            f"{c['reject']} reject, {c['ignore']} ignore; created "
            f"{self.created:%Y-%m-%d %H:%M} UTC)"
        )


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
