"""The answered-question index of a dataset: what sessions ask "was this answered?" of.

While a database is open, each dataset a session works on has an :class:`AnswerIndex` in
memory (its task hashes and its texts with a complete answer), loaded once and kept up to date
by every write made through :class:`~nbannotate.store.Dataset`, and with the answers other
processes store (on PostgreSQL by the dataset's watcher, :mod:`~nbannotate.store.watch`; on a
DuckDB file by the engine, whenever this process takes the file again, so a check made while
holding the store's lock is exact). Sessions ask it without a query, and see the answers of
every other session of this process on the same dataset at once. Not seen: answers another
process deletes or changes (undo, change_answer, drop_dataset); the index then over-counts, so
a session may skip a question as answered, never ask one twice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from ..tasks import VIEW_MANUAL
from .rows import Key


class AnswerIndex:
    """Which questions and texts one dataset holds answers for, in memory while its database
    file is open in this process (see the module docstring). Thread-safe; every lookup is a
    dict lookup. Counts, not sets: one task may be answered in several rows (imports, two
    sessions before this index existed), and removing one of them must not forget the rest."""

    def __init__(self, keys: Iterable[Key] = ()) -> None:
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

    def _count(self, key: Key, n: int) -> None:
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

    def add(self, keys: Iterable[Key]) -> None:
        with self._lock:
            for key in keys:
                self._count(key, 1)

    def remove(self, keys: Iterable[Key]) -> None:
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
