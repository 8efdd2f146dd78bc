"""A dataset's watcher: on a store other processes write (PostgreSQL), one background thread per
(open store, dataset) in a process that keeps what this process knows of the dataset current
while sessions run on it.

Every ``interval`` seconds it renews the holds of this process's sessions (so that a hold
lapses only when its process stops renewing it: the kernel died), refreshes the answers per
annotator (progress), and, on a store that other processes write (PostgreSQL), reads the
answers they stored since its last look: it adds them to the live answer indexes (so sessions
stop offering what someone else answered) and hands them to the sessions' listeners (so their
models learn from everyone's answers). Nothing here runs on a key press.

Ids increase in the order rows were inserted, not committed: a row committed late can have a
smaller id than one already seen. So rows are looked up from a watermark that trails the newest
id by ``GRACE`` seconds, skipping the ids seen already; and a watcher is made before its
session reads the answer index, starting ``WINDOW`` ids back (an answer both read counts
twice in the index, which only ever asks whether there is one). Deletes and changes made by other
processes (their undo) are not followed: a question another annotator answered and then undid
stays answered here until this process opens the dataset again (that annotator's session asks
it again itself).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import StoreError

if TYPE_CHECKING:
    from .engine import Engine

GRACE = 10.0  # seconds: a transaction committing later than this after its insert is missed
WINDOW = 2000  # ids below the newest at the start that are looked at again
COUNTS_EVERY = 2.0  # seconds between counts of the answers per annotator (a full scan)
Listener = Callable[[list[dict[str, Any]]], None]


class Watcher:
    """See the module docstring. One per (store, dataset), made when a session joins it."""

    def __init__(self, engine: Engine, dataset: str, interval: float = 0.5) -> None:
        # Its own handle on a shared store: it outlives the handle of the session that made it
        # (another session may go on), and is closed when the last session leaves.
        self.engine = engine.handle() if engine.shared_by_processes else engine
        self.dataset = dataset
        self.interval = interval
        self.lease = 30.0
        self.error: StoreError | None = None  # the last failure (the server away), until it works
        self.counts: dict[str | None, int] = {}
        self._lock = threading.Lock()
        self._sessions: set[str] = set()
        self._listeners: dict[str, Listener] = {}
        self._seen: dict[int, float] = {}  # id -> when first seen (or written)
        # Rows committed after the answer indexes were read may have ids below the newest
        # one now: the last WINDOW ids are looked at again (those present now are known).
        self._low = 0
        if engine.shared_by_processes:
            self._low = max(0, engine.max_id(dataset) - WINDOW)
            now = time.monotonic()
            self._seen = {r[0]: now for r in engine.answers_since(dataset, self._low)}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = 0.0
        self._counted = 0.0
        self._finished: dict[str, set[int]] = {}  # session -> texts to finish

    # -- sessions -----------------------------------------------------------------------------
    def join(self, session_id: str, listener: Listener | None, lease: float) -> None:
        with self._lock:
            self._sessions.add(session_id)
            if listener is not None:
                self._listeners[session_id] = listener
            self.lease = lease
            # Only other processes' answers need a thread: within one process the holds are
            # kept until their session closes, and counts are read when asked for.
            if self._thread is None and self.engine.shared_by_processes:
                self._thread = threading.Thread(
                    target=self._run, name=f"nbannotate-watch-{self.dataset}", daemon=True
                )
                self._thread.start()
                self.refresh_counts()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stop.is_set()

    def leave(self, session_id: str) -> None:
        """The session closed: its holds are no longer renewed, its listener not called. The
        last session to leave stops the thread (a new session makes a new watcher)."""
        try:  # before its session releases what it still holds
            self.flush()
        except StoreError:
            pass  # its holds lapse with the lease instead
        with self._lock:
            self._sessions.discard(session_id)
            self._listeners.pop(session_id, None)
            last = not self._sessions
        if last:
            self.stop()
            if self._thread is None and self.engine.shared_by_processes:
                self.engine.close()

    def stop(self) -> None:
        self._stop.set()

    # -- writes of this process (called under the engine's lock) -------------------------------
    def written(self, ids: list[int]) -> None:
        if not self.engine.shared_by_processes:
            return
        now = time.monotonic()
        with self._lock:
            for i in ids:
                self._seen[i] = now

    def finish(self, input_hashes: Iterable[int], session_id: str) -> None:
        """Texts a session is done with, written at the next tick (not on the key press)."""
        with self._lock:
            self._finished.setdefault(session_id, set()).update(input_hashes)

    def flush(self) -> None:
        with self._lock:
            todo, self._finished = self._finished, {}
        for session_id, keys in todo.items():
            try:
                self.engine.finish(self.dataset, keys, session_id)
            except StoreError:
                with self._lock:  # again next time
                    self._finished.setdefault(session_id, set()).update(keys)
                raise

    # -- the thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.tick()
                    self.error = None
                except StoreError as err:  # the server is away: try again next time
                    self.error = err
                except Exception as err:  # never let the thread die silently
                    self.error = StoreError(f"Watching dataset {self.dataset!r} failed: {err!r}")
        finally:
            self.engine.close()

    def tick(self) -> None:
        now = time.monotonic()
        with self._lock:
            sessions = list(self._sessions)
            lease = self.lease
        self.flush()
        if sessions and now - self._renewed > lease / 3:
            self.engine.renew(sessions, lease)
            self._renewed = now
        if self.engine.shared_by_processes:
            self.poll()
        if now - self._counted > COUNTS_EVERY:
            self.refresh_counts()

    def poll(self) -> list[dict[str, Any]]:
        """Read the answers other processes stored since the last look; returns them."""
        engine = self.engine
        with engine.locked():
            with self._lock:
                skip = [i for i in self._seen if i > self._low]
            rows = engine.answers_since(self.dataset, self._low, skip)
            now = time.monotonic()
            new = [r for r in rows if r[0] not in self._seen]
            with self._lock:
                for r in new:
                    self._seen[r[0]] = now
                old = [i for i, t in self._seen.items() if now - t > GRACE]
                if old:
                    self._low = max(self._low, max(old))
                    self._seen = {i: t for i, t in self._seen.items() if i > self._low}
            if new:
                for (dataset, who), index in list(engine.indexes.items()):
                    if dataset != self.dataset:
                        continue
                    index.add(tuple(r[4:]) for r in new if who is None or r[1] == who)
        tasks = [json.loads(r[3]) for r in new]
        if tasks:
            with self._lock:
                listeners = list(self._listeners.values())
            for listener in listeners:
                listener(tasks)
        return tasks

    def refresh_counts(self) -> None:
        self._counted = time.monotonic()
        try:
            self.counts = per_annotator(self.engine.annotator_counts(self.dataset))
        except StoreError as err:
            self.error = err


def per_annotator(rows: Iterable[tuple[str | None, str, int]]) -> dict[str | None, int]:
    """Answers per annotator, from (annotator, answer, how many) rows."""
    out: dict[str | None, int] = {}
    for who, _answer, n in rows:
        out[who] = out.get(who, 0) + n
    return out


def watcher(engine: Engine, dataset: str) -> Watcher:
    """The watcher of ``dataset`` on this open store (made on first use)."""
    with engine.locked():
        watchers: dict[str, Watcher] = engine.state.setdefault("watchers", {})
        found = watchers.get(dataset)
        if found is None or found._stop.is_set():
            found = watchers[dataset] = Watcher(engine, dataset)
        return found
