"""The PostgreSQL engine: datasets and answers on a database server, for teams.

The only module that imports psycopg (3; ``pip install "nbannotate[postgres]"``); it
implements :class:`~nbannotate.store.engine.Engine` for ``postgresql://`` URLs.

Connections: within a process, every ``Database`` on the same URL shares one connection (a
registry counted by reference, like the DuckDB engine), in autocommit mode with explicit
transactions. Any number of processes, on any machines, use one database at once: the server
orders their writes, the ``claims`` table (see :mod:`~nbannotate.store.claims`) makes an
answer to a question unique, and :mod:`~nbannotate.store.watch` reads the answers other
processes store. A connection the server dropped (a restart) is opened again by the next call;
a call that failed on it raised ``StoreError`` and stored nothing.

Schema (in the schema ``nbannotate``, created on first use, so that tables of other
applications in the same database are never touched)::

    datasets(name TEXT PRIMARY KEY, created TIMESTAMP, meta TEXT)
    answers(id BIGSERIAL PRIMARY KEY, <the columns of rows.COLUMNS>; the task JSON as TEXT,
            kept exactly as stored)
    claims(dataset, scope, what, key, session_id, annotator, expires, PRIMARY KEY (dataset,
           scope, what, key))

The password of a URL is never shown: :attr:`PostgresEngine.path` is the URL without it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import psycopg

from ..errors import StoreError
from .claims import Holds, Mark
from .index import AnswerIndex
from .queries import SqlQueries
from .rows import COLUMNS, Row

if TYPE_CHECKING:
    import pandas as pd

SCHEMA = "nbannotate"
_A = f"{SCHEMA}.answers"
_D = f"{SCHEMA}.datasets"
_C = f"{SCHEMA}.claims"
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {_D} (
    name TEXT PRIMARY KEY,
    created TIMESTAMP NOT NULL,
    meta TEXT
);
CREATE TABLE IF NOT EXISTS {_A} (
    id BIGSERIAL PRIMARY KEY,
    dataset TEXT NOT NULL,
    input_hash BIGINT NOT NULL,
    task_hash BIGINT NOT NULL,
    view_id TEXT,
    kind TEXT NOT NULL,
    answer TEXT NOT NULL,
    label TEXT,
    span_start INTEGER,
    span_end INTEGER,
    token_start INTEGER,
    token_end INTEGER,
    span_text TEXT,
    score DOUBLE PRECISION,
    annotator TEXT,
    session_id TEXT,
    created TIMESTAMP NOT NULL,
    text TEXT NOT NULL,
    task TEXT NOT NULL,
    spans TEXT,
    meta TEXT
);
CREATE INDEX IF NOT EXISTS answers_dataset_task ON {_A} (dataset, task_hash);
CREATE TABLE IF NOT EXISTS {_C} (
    dataset TEXT NOT NULL,
    scope TEXT NOT NULL,
    what TEXT NOT NULL,
    key BIGINT NOT NULL,
    session_id TEXT,
    annotator TEXT,
    expires TIMESTAMPTZ,
    PRIMARY KEY (dataset, scope, what, key)
);
CREATE INDEX IF NOT EXISTS claims_session ON {_C} (session_id);
"""
_STARTING = ("is starting up", "is shutting down", "in recovery mode")
_STARTING_WAIT = 10.0  # seconds a connection waits for a server that says it is restarting
#: Seconds a statement may wait for the server before its connection is closed. A hung server
#: (a stopped process, a frozen machine) still has its kernel acknowledge TCP, so neither the
#: socket nor the server's own statement_timeout ends the wait: only the client can.
STALL_TIMEOUT = 60.0
_SCHEMA_LOCK = 0x6E6261  # pg_advisory_xact_lock key: processes creating the schema at once
_INSERT = (
    f"INSERT INTO {_A} ({', '.join(COLUMNS[1:])}) VALUES ({', '.join(['%s'] * (len(COLUMNS) - 1))})"
)


def redact(url: str) -> str:
    """The URL without its password (shown in messages, reprs and the widget)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def _where(url: str) -> tuple[str, str, str]:
    """(user, host:port, database) of a URL, for messages."""
    p = urlsplit(url)
    try:
        port = p.port or 5432
    except ValueError:
        port = 5432
    return (unquote(p.username or ""), f"{p.hostname or 'localhost'}:{port}", p.path.lstrip("/"))


def _scrub(text: str, url: str) -> str:
    password = urlsplit(url).password
    for secret in {password, unquote(password or "")} - {None, ""}:
        text = text.replace(secret, "***")  # type: ignore[arg-type]
    return text


def _connect_error(url: str, err: Exception) -> StoreError:
    user, where, dbname = _where(url)
    msg = _scrub(str(err).strip(), url)
    low = msg.lower()
    shown = redact(url)
    if "password authentication failed" in low or "no password supplied" in low:
        return StoreError(
            f"PostgreSQL at {where} refused the password of user {user!r} ({shown}). Check "
            f"the user and password in the URL (postgresql://user:password@host:port/dbname)."
        )
    if "does not exist" in low and "database" in low:
        return StoreError(
            f"The database {dbname!r} does not exist on the PostgreSQL server at {where}. "
            f"Create it (createdb -h {where.split(':')[0]} -p {where.split(':')[1]} {dbname}, "
            f"or CREATE DATABASE {dbname}) or name an existing one in the URL ({shown})."
        )
    if "role" in low and "does not exist" in low:
        return StoreError(
            f"PostgreSQL at {where} has no user {user!r} ({shown}). Use an existing role in the "
            f"URL, or create it (CREATE ROLE {user} LOGIN PASSWORD '...')."
        )
    if "timeout" in low or "refused" in low or "could not" in low or "no route" in low:
        return StoreError(
            f"Cannot reach the PostgreSQL server at {where} ({shown}): "
            f"{msg.splitlines()[0]}. Is the server running and listening there? Check the "
            f"host and port in the URL."
        )
    return StoreError(f"Cannot open the PostgreSQL database {shown}: {msg.splitlines()[0]}")


def _store_error(url: str, err: psycopg.Error, stalled: bool = False) -> StoreError:
    """An error of an open database, as a StoreError naming it (and never its password)."""
    shown = redact(url)
    msg = _scrub(str(err).strip().splitlines()[0] if str(err).strip() else "", url)
    msg = msg or type(err).__name__
    if isinstance(err, psycopg.errors.InsufficientPrivilege):
        user = _where(url)[0]
        return StoreError(
            f"The PostgreSQL user {user!r} may not write to {shown}: {msg}. Grant it the rights "
            f"(GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO {user}; and "
            f"USAGE on its sequences), or use a user that has them. Reading works as it is."
        )
    if stalled:
        return StoreError(
            f"The PostgreSQL server ({shown}) did not answer for {STALL_TIMEOUT:g} s, so the "
            f"connection was closed. Is the server or its machine hung or overloaded? What this "
            f"call was storing is not acknowledged: do it again once the server answers (it "
            f"connects again at the next call)."
        )
    if isinstance(err, psycopg.OperationalError):
        return StoreError(
            f"Lost the connection to the PostgreSQL server ({shown}): {msg}. Nothing was "
            f"stored by this call. It connects again at the next call once the server is back."
        )
    return StoreError(f"The PostgreSQL database {shown} failed: {type(err).__name__}: {msg}")


class _Shared:
    """One connection per URL in this process, its lock, and the dataset API's state."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: psycopg.Connection[Any] | None = None
        self.lock = threading.RLock()
        self.refs = 0
        self.indexes: dict[tuple[str, str | None], AnswerIndex] = {}
        self.state: dict[str, Any] = {}  # the dataset API's (watchers)
        self.checked = False
        self.stalled = False  # the last watched statement was cut off (see watched)

    @contextmanager
    def watched(self) -> Iterator[None]:
        """Run statements on the connection, closing its socket when they wait longer than
        ``STALL_TIMEOUT``: the waiting call then fails with OperationalError at once."""
        self.stalled = False
        conn = self.conn
        if conn is None or conn.closed:
            yield
            return
        # A duplicate: the same socket, whoever closes the connection's own descriptor.
        sock = socket.socket(fileno=os.dup(conn.pgconn.socket))

        def cut() -> None:
            self.stalled = True
            try:  # psycopg's wait then reads EOF, and the connection is broken
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        timer = threading.Timer(STALL_TIMEOUT, cut)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            sock.close()

    def connection(self) -> psycopg.Connection[Any]:
        if self.conn is None or self.conn.closed or self.conn.broken:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            kwargs: dict[str, Any] = {"autocommit": True, "application_name": "nbannotate"}
            if "connect_timeout" not in self.url:
                kwargs["connect_timeout"] = 5
            deadline = time.monotonic() + _STARTING_WAIT
            while True:
                try:
                    self.conn = psycopg.connect(self.url, **kwargs)
                    break
                except psycopg.Error as err:
                    # a server restarting says so: wait for it a little rather than fail
                    starting = any(m in str(err) for m in _STARTING)
                    if not starting or time.monotonic() > deadline:
                        raise _connect_error(self.url, err) from None
                    time.sleep(0.2)
        return self.conn


_REGISTRY: dict[str, _Shared] = {}
_REGISTRY_LOCK = threading.RLock()


def _acquire(url: str) -> _Shared:
    with _REGISTRY_LOCK:
        shared = _REGISTRY.get(url)
        if shared is None:
            shared = _Shared(url)
            shared.connection()  # fails here, at the call that got the URL
            _REGISTRY[url] = shared
        shared.refs += 1
        return shared


def _release(shared: _Shared) -> None:
    with _REGISTRY_LOCK:
        shared.refs -= 1
        if shared.refs > 0:
            return
        if _REGISTRY.get(shared.url) is shared:
            del _REGISTRY[shared.url]
    for watcher in list(shared.state.get("watchers", {}).values()):
        watcher.stop()
    with shared.lock:
        if shared.conn is not None:
            shared.conn.close()
            shared.conn = None


class PostgresEngine(SqlQueries):
    """A PostgreSQL database (see the module docstring)."""

    _P = "%s"
    _ANSWERS = _A
    _DATASETS = _D

    shared_by_processes = True

    def __init__(self, url: str) -> None:
        self._url = url
        self.path = redact(url)
        self._shared: _Shared | None = _acquire(url)
        self.indexes = self._shared.indexes
        self.state = self._shared.state
        self._finalizer = weakref.finalize(self, _release, self._shared)
        self._finalizer.atexit = False
        try:
            self._init_schema()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresEngine({self.path!r})"

    def handle(self) -> PostgresEngine:
        """Another handle on the same database (sharing this process's connection)."""
        return PostgresEngine(self._url)

    # -- lifecycle and locking -------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._shared is None or self._shared.refs <= 0

    def close(self) -> None:
        shared, self._shared = self._shared, None
        self._finalizer.detach()
        if shared is not None:
            _release(shared)

    @contextmanager
    def _locked(self) -> Iterator[_Shared]:
        shared = self._shared
        if shared is None or shared.refs <= 0:
            raise StoreError(
                f"This Database ({self.path}) is closed. Open it again: Database(url)."
            )
        with shared.lock:
            try:
                yield shared
            except psycopg.Error as err:
                raise _store_error(self._url, err, shared.stalled) from None

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._locked():
            yield

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._locked() as shared:
            conn = shared.connection()
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                yield  # nested: part of the caller's transaction (its error rolls it back)
                return
            try:
                tx = conn.transaction()
                with shared.watched():
                    tx.__enter__()  # BEGIN: on a connection the server dropped, it fails here
            except psycopg.OperationalError:
                if shared.stalled:
                    raise
                conn = shared.connection()  # nothing was sent: connect again, once
                tx = conn.transaction()
                with shared.watched():
                    tx.__enter__()
            try:
                yield
            except BaseException as exc:
                with shared.watched():
                    tx.__exit__(type(exc), exc, exc.__traceback__)
                raise
            with shared.watched():
                tx.__exit__(None, None, None)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read or a one-statement write, connecting again once when the connection was
        found dropped before the statement ran."""
        with self._locked() as shared:
            conn = shared.connection()
            in_tx = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

            def run(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
                with shared.watched():
                    cur = conn.execute(sql, params)
                    return cur.fetchall() if cur.description is not None else []

            try:
                return run(conn)
            except psycopg.OperationalError:
                # A cut-off statement may yet run on the server: never sent twice.
                if in_tx or not conn.broken or shared.stalled:
                    raise
            return run(shared.connection())

    def check_writable(self) -> None:
        rows = self._query(
            f"SELECT has_table_privilege('{_A}', 'INSERT'), "
            f"has_table_privilege('{_A}', 'DELETE'), has_table_privilege('{_C}', 'INSERT')"
        )
        if not all(rows[0]):
            user = _where(self._url)[0]
            raise StoreError(
                f"The PostgreSQL user {user!r} may read but not write the answers in "
                f"{self.path}, so no answer could be stored. Grant it the rights (GRANT "
                f"SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO {user}; "
                f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {user}) or use a user "
                f"that has them. Reading works as it is: Database(url).dataset(name)."
            )

    def check_can_store(self) -> None:
        return None

    # -- the datasets table ----------------------------------------------------------------

    def insert_dataset(self, name: str, created: datetime, meta_json: str) -> None:
        self._query(
            f"INSERT INTO {_D} VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING",
            [name, created, meta_json],
        )

    def drop_dataset(self, name: str) -> int:
        with self.transaction():
            n = self._query(f"DELETE FROM {_A} WHERE dataset = %s RETURNING id", [name])
            self._query(f"DELETE FROM {_C} WHERE dataset = %s", [name])
            self._query(f"DELETE FROM {_D} WHERE name = %s", [name])
        return len(n)

    # -- the answers table -----------------------------------------------------------------

    def insert_rows(self, rows: Sequence[Row]) -> list[int]:
        if not rows:
            return []
        with self._locked() as shared:
            conn = shared.connection()
            with self.transaction(), conn.cursor() as cur, shared.watched():
                if len(rows) == 1:
                    cur.execute(_INSERT + " RETURNING id", list(rows[0]))
                    got = cur.fetchone()
                    return [int(got[0])] if got else []
                ids = [
                    int(r[0])
                    for r in cur.execute(
                        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                        "FROM generate_series(1, %s)",
                        [_A, len(rows)],
                    ).fetchall()
                ]
                ids.sort()
                with cur.copy(f"COPY {_A} (id, {', '.join(COLUMNS[1:])}) FROM STDIN") as copy:
                    for i, row in zip(ids, rows, strict=True):
                        copy.write_row((i, *row))
                return ids

    def stream_payloads(self, dataset: str, chunk: int) -> Iterator[list[str]]:
        last = -(2**63)
        while True:  # pages by id: nothing is held between them
            rows = self._query(
                f"SELECT id, task FROM {_A} WHERE dataset = %s AND id > %s ORDER BY id LIMIT %s",
                [dataset, last, chunk],
            )
            if not rows:
                return
            last = rows[-1][0]
            yield [r[1] for r in rows]

    def answer_frame(self, dataset: str, kind: str | None) -> pd.DataFrame:
        import pandas as pd

        sql, params = self._where(dataset, kind)
        names = [
            "text", "span_text", "label", "start", "end", "token_start", "token_end", "answer",
            "score", "kind", "view_id", "annotator", "session_id", "timestamp", "input_hash",
            "task_hash", "spans", "meta",
        ]  # fmt: skip
        rows = self._query(
            "SELECT text, span_text, label, span_start, span_end, token_start, token_end, "
            "answer, score, kind, view_id, annotator, session_id, created, input_hash, "
            "task_hash, coalesce(spans, 'null'), coalesce(meta, 'null') "
            f"FROM {_A} {sql} ORDER BY id",
            params,
        )
        df = pd.DataFrame.from_records(rows, columns=names)
        df["timestamp"] = pd.to_datetime(df["timestamp"])
        for col in ("input_hash", "task_hash"):
            df[col] = df[col].astype("int64")
        df["score"] = df["score"].astype("float64")
        return df

    # -- other processes' answers, and annotators ------------------------------------------

    def answers_since(
        self, dataset: str, after: int, skip: Sequence[int] = ()
    ) -> list[tuple[Any, ...]]:
        """(id, annotator, session_id, task JSON, *key) of the answers with id > ``after``,
        but for the ids in ``skip``."""
        return self._query(
            "SELECT id, annotator, session_id, task, task_hash, input_hash, kind, answer, "
            f"span_start, span_end, view_id FROM {_A} WHERE dataset = %s AND id > %s "
            "AND NOT (id = ANY(%s::bigint[])) ORDER BY id",
            [dataset, after, list(skip)],
        )

    # -- claims (see store/claims.py) ------------------------------------------------------

    def hold(
        self,
        dataset: str,
        keys: Iterable[int],
        session_id: str,
        annotator: str | None,
        lease: float,
    ) -> Holds:
        wanted = sorted(set(keys))
        out = Holds(set(), {})
        if not wanted:
            return out
        # Insert, or take over a hold of this session or one whose lease ran out; a key held
        # by a live other session returns nothing and is read back below.
        got = self._query(
            f"INSERT INTO {_C} (dataset, scope, what, key, session_id, annotator, expires) "
            "SELECT %s, '', 'hold', k, %s, %s, now() + make_interval(secs => %s) "
            "FROM unnest(%s::bigint[]) AS k "
            "ON CONFLICT (dataset, scope, what, key) DO UPDATE SET "
            "session_id = EXCLUDED.session_id, annotator = EXCLUDED.annotator, "
            f"expires = EXCLUDED.expires WHERE {_C}.session_id = EXCLUDED.session_id "
            f"OR {_C}.expires < now() RETURNING key",
            [dataset, session_id, annotator, lease, wanted],
        )
        out.mine = {int(r[0]) for r in got}
        rest = [k for k in wanted if k not in out.mine]
        if rest:
            for k, who, sid in self._query(
                f"SELECT key, annotator, session_id FROM {_C} WHERE dataset = %s AND "
                "scope = '' AND what = 'hold' AND key = ANY(%s::bigint[])",
                [dataset, rest],
            ):
                if sid is None:  # finished (store/claims.py)
                    out.done.add(int(k))
                else:
                    out.others[int(k)] = who or sid
        return out

    def finish(self, dataset: str, keys: Iterable[int], session_id: str) -> None:
        wanted = sorted(set(keys))
        if wanted:
            self._query(
                f"UPDATE {_C} SET session_id = NULL, expires = 'infinity' WHERE dataset = %s "
                "AND scope = '' AND what = 'hold' AND key = ANY(%s::bigint[]) "
                "AND session_id = %s",
                [dataset, wanted, session_id],
            )

    def reopen(
        self, dataset: str, keys: Iterable[int], session_id: str, annotator: str | None,
        lease: float,
    ) -> None:  # fmt: skip
        wanted = sorted(set(keys))
        if wanted:
            self._query(
                f"UPDATE {_C} SET session_id = %s, annotator = %s, "
                "expires = now() + make_interval(secs => %s) WHERE dataset = %s "
                "AND scope = '' AND what = 'hold' AND key = ANY(%s::bigint[]) "
                "AND session_id IS NULL",
                [session_id, annotator, lease, dataset, wanted],
            )

    def renew(self, session_ids: Iterable[str], lease: float) -> None:
        ids = list(session_ids)
        if ids:
            self._query(
                f"UPDATE {_C} SET expires = now() + make_interval(secs => %s) "
                "WHERE what = 'hold' AND session_id = ANY(%s)",
                [lease, ids],
            )

    def release(self, session_id: str) -> None:
        self._query(f"DELETE FROM {_C} WHERE what = 'hold' AND session_id = %s", [session_id])

    def mark(self, dataset: str, scope: str, what: Mark, key: int) -> bool:
        got = self._query(
            f"INSERT INTO {_C} (dataset, scope, what, key) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING RETURNING key",
            [dataset, scope, what, int(key)],
        )
        return bool(got)

    def unmark(self, dataset: str, scope: str, what: Mark, key: int) -> None:
        self._query(
            f"DELETE FROM {_C} WHERE dataset = %s AND scope = %s AND what = %s AND key = %s",
            [dataset, scope, what, int(key)],
        )

    # -- schema ----------------------------------------------------------------------------

    def _init_schema(self) -> None:
        with self._locked() as shared:
            if shared.checked:
                return
            exists = self._query("SELECT to_regclass(%s) IS NOT NULL", [_C])[0][0]
            if not exists:
                with self.transaction():
                    self._query("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])
                    conn = shared.connection()
                    with shared.watched():
                        conn.execute(_DDL)
            shared.checked = True
