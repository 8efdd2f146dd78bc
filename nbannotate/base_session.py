"""What every annotation session shares: this session's answers, undo, changing a decision,
tasks handed out but not answered, and the notebook display.

``TeachSession`` (binary questions from a model in the loop) and ``ManualSession`` (complete
annotations) differ in how they make tasks and what an answer means; the bookkeeping of answers
is the same and lives here, under one lock, so the widget can treat both alike.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from spacy.language import Language
from spacy.tokens import Doc

from .candidates import split_sentences, splitter_for
from .effort import ActionCounts, Actions
from .errors import AnswerError, SessionError, StoreError
from .precision import ModelPrecision
from .sources import Source
from .store import Dataset
from .store.claims import DEFAULT_LEASE, Mark
from .tasks import (
    ANSWERS,
    VIEW_BINARY,
    VIEW_MANUAL,
    VIEW_WHOLE,
    Task,
    check_answer,
    input_hash,
    is_correction,
    is_whole,
    make_task,
    task_hash,
)
from .updater import ModelUpdater

if TYPE_CHECKING:
    from .widget import AnnotationWidget

# Keys the store adds to an answered task; removed when a task is offered again.
_STAMPS = ("answer", "_timestamp", "_session_id", "_annotator_id")


def unanswered(task: Mapping[str, Any]) -> Task:
    """A copy of a stored task without the answer's stamps, ready to be offered again."""
    return {k: v for k, v in task.items() if k not in _STAMPS}


_T = TypeVar("_T")
STORE_WAIT = 60.0  # seconds a session waits for a store that went away before it says so


class BaseSession:
    """Answers of one annotation session, over a dataset in the store.

    Subclasses set ``updater`` (or None), implement ``next_task`` and ``answer``, and may
    override the hooks ``_forget`` (an answer was undone), ``_relearn`` (an answer changed) and
    ``_reoffer`` (an undone task is about to be offered again).
    """

    #: Which of the widget's views shows this session ("teach": one question a card, keys a x
    #: space; "manual": token-snapped span editing). The widget reads it and never imports a
    #: session class.
    view_mode = "teach"
    required_keys: tuple[str, ...] = ("_task_hash", "text")

    #: Whether the session shows the spans a source item brings (manual and correct do).
    shows_input_spans = False

    #: Whether a task's spans are fixed by its task hash. In manual and correct the annotator
    #: edits them and the answer keeps the hash of the question as offered.
    fixed_spans = True

    def __init__(
        self,
        *,
        dataset: Dataset,
        source: Source,
        nlp: Language,
        labels: list[str],
        split: bool = True,
        annotator: str | None = None,
        overlap: bool = False,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        self.db_dataset = dataset
        #: True when the recipe opened the database from a path: close() then releases it.
        self.owns_db = False
        #: Why the session is closed (close(), or a newer session took over); None while open.
        self.closed_reason: str | None = None
        self.dataset = dataset.name
        self.source = source
        self.nlp = nlp
        self.labels = list(labels)
        self.split = split
        self.annotator = annotator
        self.session_id = f"{dataset.name}-{uuid.uuid4().hex[:8]}"
        # What the dataset holds, and the tasks handed out on it, by every session of this
        # process on it and earlier runs (resume): live, shared by those sessions.
        # With overlap=True each annotator answers every question: only their own answers
        # settle one for them.
        self.overlap = overlap
        self._scope = (annotator or "") if overlap else ""
        # The watcher first (on a shared store, what is committed after it starts reaches the
        # index through it), then the index.
        dataset.join(self.session_id, None, lease)
        self._index = dataset.answer_index(annotator if overlap else None)
        # Without overlap, each text goes to one session at a time (store/claims.py): always
        # on a store several processes write, and between named annotators in one process.
        self._holds_texts = not overlap and (
            annotator is not None or dataset.db.shared_by_processes
        )
        self._lease = lease
        self._parked: dict[int, Any] = {}  # input hash -> item, its text held by another session
        self._parked_tried = 0.0
        #: Hold it to use ``nlp`` while the session runs: updates and scoring hold it too.
        self.model_lock = threading.RLock()
        #: The last background error (e.g. a bad line deep in a JSONL file); next_task raises it.
        self.error: BaseException | None = None
        self.updater: ModelUpdater | None = None
        self._cond = threading.Condition(threading.RLock())
        self._front: deque[Task] = deque()  # undone or requeued tasks, offered again first
        self._offered: dict[int, Task] = {}  # task hash -> handed out, not answered
        self._history: list[Task] = []  # this session's answers, oldest first
        self._counts = dict.fromkeys(ANSWERS, 0)
        self._precision = ModelPrecision()  # of the model's guesses, as answered
        # The annotator's actions (effort.py): kept when an answer is undone, as spent.
        self._actions = ActionCounts()
        self._read = 0
        # Renews this session's holds; on a shared store, brings other processes' answers.
        dataset.join(self.session_id, self._others_answered, lease)

    # -- the source -------------------------------------------------------------------------
    def _items(self) -> Iterator[dict[str, Any]]:
        """Source items (counted, for progress), split into sentences unless told not to."""

        def counted() -> Iterator[dict[str, Any]]:
            for item in self.source:
                self._read += 1
                yield item

        items: Iterator[dict[str, Any]] = counted()
        if self.split:
            items = split_sentences(
                items, splitter_for(self.nlp, self.model_lock), keep_spans=self.shows_input_spans
            )
        return items

    # -- tasks ------------------------------------------------------------------------------
    def next_task(self, timeout: float | None = None) -> Task | None:
        """The next task to answer, or None once the stream is exhausted (each recipe's
        session says how it picks it)."""
        raise NotImplementedError

    def next_tasks(self, n: int, timeout: float | None = None) -> list[Task]:
        """Up to ``n`` tasks (fewer at the end of the stream)."""
        out: list[Task] = []
        while len(out) < n and (task := self.next_task(timeout=timeout)) is not None:
            out.append(task)
        return out

    def __iter__(self) -> Iterator[Task]:
        while (task := self.next_task()) is not None:
            yield task

    def _hand_out(self, task: Task) -> None:
        """Book a task as handed out (caller holds ``_cond``): answer() takes it from any
        session of this process on the dataset."""
        self._offered[task["_task_hash"]] = task
        self._index.offer(task["_task_hash"], task["_input_hash"])

    # -- teams: texts held by one session at a time (store/claims.py) ------------------------
    #: What an answer of this session marks as answered, once: a question, or a whole text.
    once_kind: Mark = "task"

    def _hold(self, ih: int, item: Any) -> bool:
        """Claim a text before asking about it; a text another session holds is parked (asked
        once it is free: that session closed, or its kernel died and its lease ran out)."""
        if not self._holds_texts:
            return True
        got = self._try_store(
            lambda: self.db_dataset.hold([ih], self.session_id, self.annotator, self._lease)
        )
        if ih in got.mine:
            # Another process may have answered it just before letting go: read what it
            # stored before asking (else the store would refuse the answer, after the work).
            self._catch_up()
            return not self._done(ih)
        if ih in got.done:
            return False
        with self._cond:
            self._parked[ih] = item
        return False

    def _try_store(self, call: Callable[[], _T]) -> _T:
        """``call()``, tried again while the store is away (a server restarting) for up to
        STORE_WAIT seconds, then its StoreError; never after the session closed."""
        deadline = time.monotonic() + STORE_WAIT
        while True:
            try:
                return call()
            except StoreError:
                if time.monotonic() > deadline or self.closed_reason is not None:
                    raise
                time.sleep(0.5)

    def _catch_up(self) -> None:
        try:
            self.db_dataset.catch_up()
        except StoreError:
            pass  # the watcher reads them once the store is back; the store refuses a repeat

    def _finish(self, ih: int) -> None:
        """Nothing more to ask about this text here: others are not to wait for it."""
        if self._holds_texts:
            self.db_dataset.finish([ih], self.session_id)

    def _reopen(self, ih: int) -> None:
        if self._holds_texts:
            self.db_dataset.reopen([ih], self.session_id, self.annotator, self._lease)

    def _done(self, ih: int) -> bool:
        """Nothing is left to ask about this text (a session's own rule)."""
        return self._index.is_complete(ih)

    def _unpark(self, every: float = 1.0) -> list[Any]:
        """The parked items whose texts this session now holds (tried at most every
        ``every`` seconds); those answered completely meanwhile are dropped."""
        now = time.monotonic()
        with self._cond:
            if not self._parked or now - self._parked_tried < every:
                return []
            self._parked_tried = now
            parked = dict(self._parked)
        try:
            got = self.db_dataset.hold(list(parked), self.session_id, self.annotator, self._lease)
        except StoreError:
            return []  # the store is away: tried again next time
        if got.mine:
            self._catch_up()
        with self._cond:
            for ih in got.mine | got.done:  # done: another session asked all about it
                self._parked.pop(ih, None)
            return [parked[ih] for ih in got.mine if not self._done(ih)]

    def _others_answered(self, tasks: list[Task]) -> None:
        """Answers other processes stored on the dataset (the watcher's thread): the answer
        index has them already; waiting calls look again."""
        with self._cond:
            self._cond.notify_all()

    # -- answers ----------------------------------------------------------------------------
    def _resolve(self, task: Mapping[str, Any] | int) -> Task:
        """The task an answer is about: a task dict, or the hash of one this session knows."""
        if isinstance(task, Mapping):
            if any(key not in task for key in self.required_keys):
                raise AnswerError(
                    f"answer() takes a task from next_task() (a dict with "
                    f"{', '.join(map(repr, self.required_keys))}) or its task hash."
                )
            self._check_task(task)
            return dict(task)
        if isinstance(task, int) and not isinstance(task, bool):
            with self._cond:
                found = self._offered.get(task) or next(
                    (t for t in reversed(self._history) if t["_task_hash"] == task), None
                )
            if found is None:
                raise AnswerError(f"No task with hash {task} was offered in this session.")
            return dict(found)
        raise AnswerError(f"answer() takes a task dict or a task hash, not {type(task).__name__}.")

    def _check_task(self, task: Mapping[str, Any]) -> None:
        """AnswerError unless the task is one handed out on this dataset, as it was handed out:
        its hashes match its text (and, where the task hash fixes them, its spans), and a
        session of this process offered it or the dataset holds an answer to it. A task
        edited after next_task(), or taken from another session's source, would be stored
        under hashes that do not describe it: resume would skip the wrong questions and
        train() merge the wrong texts."""
        text, ih, th = task.get("text"), task.get("_input_hash"), task["_task_hash"]
        if not isinstance(text, str) or ih != input_hash(text):
            raise AnswerError(
                "This task's text does not match its '_input_hash': was the text edited after "
                "next_task()? Nothing was stored. Answer the task as next_task() gave it; to "
                "annotate another text, add it to the source."
            )
        # A correction (teach) is edited like a manual task: its hash names the question.
        if self.fixed_spans and not is_correction(task):
            view = VIEW_WHOLE if is_whole(task) else (task.get("_view_id") or VIEW_BINARY)
            try:
                expected = task_hash(ih, task.get("spans") or [], view)
            except (KeyError, TypeError, ValueError):
                expected = None
            if th != expected:
                raise AnswerError(
                    "This task's spans or labels do not match its '_task_hash': were they "
                    "edited after next_task()? Nothing was stored. In teach a task is a "
                    "question about the spans it was offered with: answer it as it is "
                    "(reject a wrong span), or annotate the text in manual() or correct()."
                )
        if not self._index.was_offered(th, ih):
            raise AnswerError(
                f"This task was never offered on dataset {self.dataset!r} (made by hand, or "
                f"taken from a session on another dataset or database?). Nothing was stored. "
                f"Answer tasks from this session's next_task(); to store answers made "
                f"elsewhere, use Database(...).dataset({self.dataset!r}).add() or "
                f"import_jsonl()."
            )

    def _record(self, stored: Task, actions: Actions) -> None:
        """Book an answer the store has just made durable, and the actions it took."""
        with self._cond:
            self._offered.pop(stored["_task_hash"], None)
            self._history.append(stored)
            self._counts[stored["answer"]] += 1
            self._precision.add(stored)
            self._actions.add(actions)

    def _count_actions(self, actions: Actions) -> None:
        with self._cond:
            self._actions.add(actions)

    # -- complete annotations (manual, correct, a correction in teach) -----------------------
    def check_spans(
        self, task: Mapping[str, Any], spans: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """Validate edited spans: labels known, inside the text, snapped to tokens, no overlap.

        A span's character offsets are snapped outward to whole tokens, and whitespace tokens
        at its edges are dropped (a selection across a line break or into whitespace keeps the
        words it touches). Returns the spans sorted by start, each with start, end,
        token_start, token_end (inclusive) and label; raises AnswerError naming the problem.
        """
        if not isinstance(spans, Sequence) or isinstance(spans, (str, bytes)):
            raise AnswerError(f"spans must be a list of dicts, got {type(spans).__name__}.")
        return self._snap(self.nlp.make_doc(task["text"]), spans, AnswerError)

    def _snap(
        self, doc: Doc, spans: Sequence[Mapping[str, Any]], error: Callable[[str], Exception]
    ) -> list[dict[str, Any]]:
        """Spans checked and snapped to ``doc``'s tokens (see check_spans); ``error`` makes the
        exception for a problem (AnswerError for an answer, SourceError for the input)."""
        return snap_spans(doc, spans, self.labels, error)

    @staticmethod
    def _gold_task(task: Mapping[str, Any], final: list[dict[str, Any]], actions: int) -> Task:
        """The complete annotation of ``task``'s text with the checked spans ``final``, as it is
        stored: view ``ner_manual``, the offered task's hashes (the hash names the question,
        the spans are the answer), the actions it took in ``meta["actions"]``."""
        new = make_task(
            task["text"],
            task["tokens"],
            final,
            {**(task.get("meta") or {}), "actions": actions},
            view_id=VIEW_MANUAL,
            in_hash=task["_input_hash"],
        )
        new["_task_hash"] = task["_task_hash"]
        return new

    def undo(self) -> Task | None:
        """Remove this session's last answer from the store; its task is offered again first.

        Returns that task, or None when there is nothing to undo.
        """
        self._check_open()
        with self._cond:
            if not self._history:
                return None
            last = self._history.pop()
        try:
            self.db_dataset.remove(
                last["_task_hash"],
                session_id=self.session_id,
                unmark=(self._scope, self.once_kind),
            )
        except BaseException:
            with self._cond:
                self._history.append(last)
            raise
        self._reopen(last["_input_hash"])
        if self.updater is not None:
            self.updater.retract(last["_task_hash"])
        task = self._reoffer(unanswered(last))
        with self._cond:
            self._actions.add({"undo": 1})
            self._counts[last["answer"]] -= 1
            self._precision.remove(last)
            self._forget(last)
            self._front.appendleft(task)
            self._cond.notify_all()
        return task

    def change_answer(self, task_hash: int, answer: str) -> Task:
        """Change the answer to a task this session answered earlier."""
        self._check_open()
        check_answer(answer)
        with self._cond:
            old = next((t for t in reversed(self._history) if t["_task_hash"] == task_hash), None)
        if old is None:
            raise AnswerError(f"Task {task_hash} was not answered in this session.")
        if old["answer"] == answer:
            return old
        # this session's row only: another session may have answered the same task
        stored = self.db_dataset.update_answer(task_hash, answer, self.session_id)
        with self._cond:
            self._actions.add({"change": 1})
            self._counts[old["answer"]] -= 1
            self._counts[answer] += 1
            self._precision.change(old, answer)
            self._changed(old, answer)
            old["answer"] = answer
        if self.updater is not None:
            self.updater.retract(task_hash)
            self._relearn(old)
        return stored or old

    def requeue(self, tasks: list[Mapping[str, Any]]) -> int:
        """Offer again tasks that were handed out but never answered (e.g. a closed widget)."""
        n = 0
        with self._cond:
            for task in reversed(tasks):
                th = task["_task_hash"]
                if th not in self._offered:  # answered meanwhile, or not ours
                    continue
                self._offered.pop(th)
                self._front.appendleft(dict(task))
                n += 1
            self._cond.notify_all()
        return n

    def settled(self, task: Mapping[str, Any]) -> bool:
        """True when a task needs no answer any more (a front end drops it)."""
        return False

    # -- hooks ------------------------------------------------------------------------------
    def _forget(self, task: Task) -> None:
        """An answer was undone (called under the lock)."""

    def _changed(self, task: Task, answer: str) -> None:
        """An answer is about to change to ``answer`` (called under the lock)."""

    def _relearn(self, task: Task) -> None:
        """The model should learn the changed answer of ``task`` (already retracted)."""

    def _reoffer(self, task: Task) -> Task:
        return task

    # -- state ------------------------------------------------------------------------------
    def outstanding(self) -> list[Task]:
        """Tasks handed out by next_task and not answered yet (e.g. held by a widget)."""
        with self._cond:
            return list(self._offered.values())

    def _history_row(self, task: Task) -> dict[str, Any]:
        raise NotImplementedError

    def history(self, n: int = 20) -> list[dict[str, Any]]:
        """This session's last ``n`` decisions, newest first."""
        with self._cond:
            last = list(itertools.islice(reversed(self._history), n))
        return [self._history_row(task) for task in last]

    def _session_counts(self) -> dict[str, Any]:
        with self._cond:
            session: dict[str, Any] = dict(self._counts)
        session["total"] = sum(session.values())
        return session

    def _action_counts(self) -> dict[str, int]:
        with self._cond:
            return self._actions.progress()

    def _model_precision(self) -> dict[str, Any]:
        with self._cond:
            return self._precision.progress()

    @property
    def progress(self) -> dict[str, Any]:
        """Counts for this session and the dataset, accept rate, model updates, source read,
        and the model's precision on the last answers to its guesses (see ``precision.py``)."""
        session = self._session_counts()
        decided = session["accept"] + session["reject"]
        updater = self.updater
        closed = self.db_dataset.db.closed
        # after close() the file may belong to another process now: no dataset counts
        counts, per_annotator = (None, {}) if closed else self.db_dataset.tallies()
        with self._cond:
            held = len(self._parked)
        return {
            "annotator": self.annotator,
            # answers per annotator on the dataset ("": answers without an annotator)
            "annotators": {(k or ""): n for k, n in per_annotator.items()},
            "held_by_others": held,  # texts waiting while another session holds them
            "store_error": None if closed else _message(self.db_dataset.store_error()),
            "session": session,
            # the annotator's keys and clicks in this session, in all and per kind (effort.py)
            "actions": self._action_counts(),
            "dataset": counts,
            "accept_rate": session["accept"] / decided if decided else None,
            "updates": updater.version if updater else 0,
            "pending_update": updater.pending if updater else 0,
            "update_errors": len(updater.errors) if updater else 0,
            "source_total": self.source.total,
            "source_read": self._read,
            "skipped_texts": self.source.stats.skipped,
            # accepted share of the last answers to the model's own guesses, and its history
            **self._model_precision(),
        }

    @contextlib.contextmanager
    def model(self) -> Iterator[Language]:
        """The in-loop model as the session predicts with it, locked against updates for the
        block: ``with session.model() as nlp: doc = nlp(text)``. With updates on, its weights
        are their moving average over the updates (see ``updater.ModelUpdater.averaged``)."""
        averaged = self.updater.averaged() if self.updater else contextlib.nullcontext()
        with self.model_lock, averaged:
            yield self.nlp

    def update_model(self, timeout: float | None = 60.0) -> bool:
        """Update the model now from every pending answer, and wait for it (at most
        ``timeout`` seconds; None: no limit). True when every answer has reached the model;
        False, with a RuntimeWarning, when the timeout passed first (the update goes on in the
        background). After ``stop()``, with answers that never reached the model, raises
        SessionError at once (they are stored). A session that updates no model (``manual``,
        ``correct`` without ``update=True``) raises SessionError."""
        if self.updater is None:
            raise SessionError(
                "This session does not update a model: manual() never does, and correct() "
                "only with update=True. Start it with correct(..., update=True) to teach the "
                "in-memory model from the corrections."
            )
        return self.updater.flush(timeout=timeout)

    def stop(self) -> None:
        """Stop the background threads. Answers are already stored; nothing is lost. The tasks
        already handed out can still be answered."""
        if self.updater is not None:
            self.updater.stop()
        if not self.db_dataset.db.closed:
            self.db_dataset.leave(self.session_id)
            try:  # the texts it holds go back to the pool (else the lease runs out)
                self.db_dataset.release(self.session_id)
            except StoreError:
                pass

    def close(self, reason: str | None = None) -> None:
        """Stop, and close the database if the session opened it (``db=`` a path, or the
        default; a file is held only while it is used anyway). A Database object passed
        as ``db=`` stays open: close it with ``db.close()``. After close(), next_task, answer,
        undo and change_answer raise SessionError, and the session's widgets say it is
        closed."""
        if self.closed_reason is None:
            self.closed_reason = reason or (
                f"This {type(self).__name__} on dataset {self.dataset!r} was closed "
                "(session.close()); its answers are saved. Run the cell that started it again "
                "to go on."
            )
        self.stop()
        if self.owns_db and not self.db_dataset.db.closed:
            self.db_dataset.db.close()

    def _check_open(self) -> None:
        if self.closed_reason is not None:
            raise SessionError(self.closed_reason)

    def __enter__(self) -> BaseSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        p = self.progress
        return (
            f"<{type(self).__name__} dataset={self.dataset!r} labels={self.labels} "
            f"answers={p['session']['total']} updates={p['updates']}>"
        )

    def widget(self, **kwargs: Any) -> AnnotationWidget:
        """A new annotation widget over this session (an ``anywidget.AnyWidget``): for hosts
        that take a widget object rather than displaying the session, such as marimo
        (``mo.ui.anywidget(session.widget())``). ``queue_size`` (tasks held ahead, default
        6) is passed on. Every widget of a session shares its outstanding tasks."""
        from .widget import AnnotationWidget  # lazy: the widget is a view above the session

        return AnnotationWidget(self, **kwargs)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:  # as ipywidgets returns it
        """In a notebook, displaying a session shows the annotation widget."""
        return self.widget()._repr_mimebundle_(**kwargs)


def snap_spans(
    doc: Doc,
    spans: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    error: Callable[[str], Exception],
) -> list[dict[str, Any]]:
    """Spans checked (labels among ``labels``, inside the text, no overlap) and snapped to
    ``doc``'s tokens, sorted by start (see BaseSession.check_spans); ``error`` makes the
    exception for a problem."""
    text = doc.text
    out: list[dict[str, Any]] = []
    for raw in spans:
        try:
            start, end, label = int(raw["start"]), int(raw["end"]), str(raw["label"])
        except (KeyError, TypeError, ValueError) as err:
            raise error(
                f"Each span needs integer 'start', 'end' and a 'label', got {raw!r}."
            ) from err
        if label not in labels:
            raise error(f"Unknown label {label!r}: this session's labels are {', '.join(labels)}.")
        if not 0 <= start < end <= len(text):
            raise error(f"Span {start}-{end} is outside the text (length {len(text)}).")
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is None or not span.text.strip():
            raise error(f"Span {start}-{end} covers no token.")
        while len(span) and span[0].is_space:  # a selection in whitespace snaps inward
            span = span[1:]
        while len(span) and span[-1].is_space:
            span = span[:-1]
        for other in out:
            if span.start <= other["token_end"] and other["token_start"] < span.end:
                clash = text[other["start"] : other["end"]]
                raise error(
                    f"Span {span.text!r} overlaps {clash!r}: entities cannot "
                    f"overlap. Remove one of them first."
                )
        out.append(
            {
                "start": span.start_char,
                "end": span.end_char,
                "token_start": span.start,
                "token_end": span.end - 1,
                "label": label,
            }
        )
    return sorted(out, key=lambda s: s["start"])


def _message(err: BaseException | None) -> str | None:
    return None if err is None else str(err)
