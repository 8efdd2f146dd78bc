"""Who may ask which question: claims on texts, and the marks that make an answer unique.

Two kinds of rows, both about one dataset:

* **Holds** (``what="hold"``, key = a text's input hash): with ``overlap=False`` a session
  claims a text before it asks anything about it, so each text (and every question about it)
  goes to one annotator. A hold has a lease: the session renews it while it runs and drops it
  when it closes; a hold whose lease ran out (its kernel died) is free to claim again. Once
  the session has nothing more to ask about the text it *finishes* the hold, for good (undo
  reopens it): the others drop the text instead of waiting for it.
* **Marks** (``what="task"`` or ``"text"``, key = a task or input hash): set in the same
  transaction that stores an answer given with ``once=...``, so the store itself refuses a
  second answer to one question (``"task"``) or a second complete annotation of one text
  (``"text"``). ``scope`` is ``""`` for the shared pool (``overlap=False``) and the
  annotator's name with ``overlap=True``: then each annotator answers each question once.

:class:`ClaimBook` keeps holds in memory, for an engine that only one process writes (DuckDB:
there the answer index, checked under the file's lock, already makes answers unique, so marks
are not kept); the PostgreSQL engine keeps both in a table, so that every process sees them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

Mark = Literal["task", "text"]
DEFAULT_LEASE = 30.0  # seconds a hold outlives its session's last renewal


@dataclass
class Holds:
    """The outcome of :meth:`ClaimBook.hold`: texts now held by the caller, the others'
    holders (annotator name, or the session id when it has none), and texts a session has
    finished (nothing more to ask about them)."""

    mine: set[int]
    others: dict[int, str]
    done: set[int] = field(default_factory=set)


DONE = ""  # the session id of a finished hold


class ClaimBook:
    """Holds in memory (see the module docstring). Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # (dataset, input hash) -> (session id, annotator, expires)
        self._holds: dict[tuple[str, int], tuple[str, str | None, float]] = {}

    def hold(
        self,
        dataset: str,
        keys: Iterable[int],
        session_id: str,
        annotator: str | None,
        lease: float,
    ) -> Holds:
        now = self._clock()
        out = Holds(set(), {})
        with self._lock:
            for k in keys:
                held = self._holds.get((dataset, k))
                if held is not None and held[0] == DONE:
                    out.done.add(k)
                elif held is None or held[0] == session_id or held[2] < now:
                    self._holds[(dataset, k)] = (session_id, annotator, now + lease)
                    out.mine.add(k)
                else:
                    out.others[k] = held[1] or held[0]
        return out

    def finish(self, dataset: str, keys: Iterable[int], session_id: str) -> None:
        """The session is done with these texts: nobody is to ask about them any more."""
        with self._lock:
            for k in keys:
                held = self._holds.get((dataset, k))
                if held is not None and held[0] == session_id:
                    self._holds[(dataset, k)] = (DONE, held[1], float("inf"))

    def reopen(
        self, dataset: str, keys: Iterable[int], session_id: str, annotator: str | None,
        lease: float,
    ) -> None:  # fmt: skip
        """A finished text has questions again (an answer undone): the session holds it."""
        expires = self._clock() + lease
        with self._lock:
            for k in keys:
                held = self._holds.get((dataset, k))
                if held is None or held[0] == DONE:
                    self._holds[(dataset, k)] = (session_id, annotator, expires)

    def renew(self, session_ids: Iterable[str], lease: float) -> None:
        ids = set(session_ids)
        expires = self._clock() + lease
        with self._lock:
            for key, (sid, who, _) in list(self._holds.items()):
                if sid in ids:
                    self._holds[key] = (sid, who, expires)

    def release(self, session_id: str) -> None:
        with self._lock:
            for key in [k for k, v in self._holds.items() if v[0] == session_id]:
                del self._holds[key]

    def drop_dataset(self, dataset: str) -> None:
        with self._lock:
            self._holds = {k: v for k, v in self._holds.items() if k[0] != dataset}
