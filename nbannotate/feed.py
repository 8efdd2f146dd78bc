"""The tasks a session's widgets share: handed out to front ends and not yet answered.

Every widget of one session shares one :class:`Feed`, which owns the tasks handed to front ends
and not yet answered, tops them up from ``session.next_task`` on a thread of its own (so a
message from the front end never waits for scoring), and carries answers, undo and changes to
the session. Displaying the session again, or reloading the page, therefore shows the same
outstanding tasks: none is lost, and a task answered in one view leaves every view.
"""

from __future__ import annotations

import contextvars
import threading
import weakref
from typing import Any

from .errors import AnswerError
from .tasks import VIEW_BINARY, VIEW_MANUAL

HISTORY_SIZE = 10
_REFILL_TIMEOUT = 0.5  # seconds next_task may block in the refill thread before it re-checks
_POLL_INTERVAL = 1.0  # seconds between progress refreshes while idle (model updates run behind)


def view_task(task: dict[str, Any]) -> dict[str, Any]:
    """The part of a task the front end shows, with hashes as strings (JSON-safe for JS)."""
    meta = dict(task.get("meta") or {})
    if "corrects" in meta:  # a correction's rejected analysis: a 64-bit hash
        meta["corrects"] = str(meta["corrects"])
    manual = task.get("_view_id") == VIEW_MANUAL
    spans = []
    for span in task.get("spans") or []:
        out = {
            "start": int(span["start"]),
            "end": int(span["end"]),
            "label": str(span.get("label", "")),
            "score": span.get("score", meta.get("score")),
            "source": span.get("source"),
        }
        if manual:
            out["token_start"] = int(span["token_start"])
            out["token_end"] = int(span["token_end"])
        spans.append(out)
    view = {
        "task_hash": str(task["_task_hash"]),
        "input_hash": str(task.get("_input_hash", "")),
        "view_id": VIEW_MANUAL if manual else VIEW_BINARY,
        "text": str(task.get("text", "")),
        "spans": spans,
        "meta": meta,
    }
    if manual:  # the manual view shows tokens (code-point offsets) and the label choices
        view["tokens"] = [[int(t["start"]), int(t["end"])] for t in task.get("tokens") or []]
        view["labels"] = [str(x) for x in task.get("labels") or []]
    if "versions" in task:  # a review task: the annotators' versions (JSON-safe already)
        view["versions"] = task["versions"]
    return view


def _history_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["task_hash"] = str(row["task_hash"])
    return out


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class Feed:
    """Tasks of one session handed to front ends and not yet answered, plus the refill thread.

    The comm handler (kernel's main thread) answers, undoes and changes answers; the refill thread
    pulls new tasks with ``session.next_task``, which may block while tasks are scored. Both
    publish the shared state to every live view under ``lock``, so updates leave in order.
    """

    def __init__(self, session: Any, size: int) -> None:
        self.session = session
        self.size = size
        self.outstanding: list[dict[str, Any]] = []
        self.answered: set[int] = set()  # answered through a widget and not undone
        self.views: weakref.WeakSet[Any] = weakref.WeakSet()  # the AnnotationWidgets showing it
        self.lock = threading.RLock()
        self.wake = threading.Event()
        self.exhausted = False
        self.error = ""
        self.closed = False
        self._thread: threading.Thread | None = None
        self._last_progress: dict[str, Any] | None = None
        self._last_session_error: BaseException | None = None
        #: The context of the last front-end message handled (see ``publish``).
        self.reply_context: contextvars.Context | None = None

    # ---- refill (background thread) -----------------------------------------------------------
    def start(self) -> None:
        with self.lock:
            self.closed = False  # before the check: a closing thread that is still alive goes on
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, name="nbannotate-widget-refill", daemon=True
            )
            self._thread.start()

    def _needs_tasks(self) -> bool:
        with self.lock:
            return (
                not self.closed
                and not self.exhausted
                and not self.error
                and len(self.outstanding) < self.size
            )

    def _run(self) -> None:
        while not self.closed:
            if getattr(self.session, "closed_reason", None):  # closed, or a newer one took over
                with self.lock:
                    self.publish()
                return  # nothing more to fetch; a view displayed later restarts and shows it
            if not self._needs_tasks():
                self.wake.wait(_POLL_INTERVAL)
                self.wake.clear()
                if not self.closed:
                    self._recheck_exhausted()
                    self._refresh_if_changed()
                continue
            try:
                task = self.session.next_task(timeout=_REFILL_TIMEOUT)
            except Exception as exc:  # the producer failed: show it, stop asking
                with self.lock:
                    self.error = error_text(exc)
                    self.publish()
                continue
            if task is None:
                if self._stream_exhausted():
                    with self.lock:
                        self.exhausted = True
                        self.publish()
                else:  # timed out, or the session was stopped: do not spin
                    self.wake.wait(_REFILL_TIMEOUT)
                    self.wake.clear()
                    if not self.closed:
                        self._refresh_if_changed()  # e.g. a held task answered from a cell
                continue
            with self.lock:
                if self.closed:  # released meanwhile: the task goes back to the session
                    self._give_back([task])
                    return
                self._add(task)
                self.publish()

    def _recheck_exhausted(self) -> None:
        """After the end of the stream, look again now and then: an undo offers a task again."""
        with self.lock:
            if not self.exhausted or self.error or len(self.outstanding) >= self.size:
                return
        try:
            task = self.session.next_task(timeout=0)
        except Exception as exc:
            with self.lock:
                self.error = error_text(exc)
                self.publish()
            return
        if task is not None:
            with self.lock:
                self.exhausted = False
                self._add(task)
                self.publish()

    def _stream_exhausted(self) -> bool:
        """True once next_task returned None because the stream is over (not a timeout)."""
        progress = self._progress()
        return bool(progress.get("exhausted", True))

    def _add(self, task: dict[str, Any], front: bool = False) -> None:
        """Hand a task to the front ends unless it is already out or needs no answer.

        A completion question, or an answer undone from a cell, goes second: right after the card
        the person is looking at, not behind the whole prefetched queue, and not first, where it
        would replace the card under their fingers (it comes with a refill, just after a key).
        """
        th = int(task["_task_hash"])
        if any(int(t["_task_hash"]) == th for t in self.outstanding):
            return
        if not front and self.session.settled(task):
            # Settled while the refill fetched it (an answer just came in): given back, the
            # session keeps it aside and asks it again if that answer is undone.
            self.session.requeue([task])
            return
        # Answered through us, offered again and not settled: the answer was undone from a cell
        # (session.undo()).
        undone = th in self.answered
        self.answered.discard(th)
        if front:
            self.outstanding.insert(0, task)
        elif undone or (task.get("meta") or {}).get("completion"):
            self.outstanding.insert(1, task)
        else:
            self.outstanding.append(task)

    def _refresh_if_changed(self) -> None:
        """While idle: publish what changed behind the views' backs, such as the progress, a
        model update's error, or a held task answered from a cell (it leaves the views: a key
        press on it would only be refused)."""
        with self.lock:
            dropped = self._drop_settled()
        progress = self._progress()
        err = getattr(self.session, "error", None)
        if dropped or progress != self._last_progress or err is not self._last_session_error:
            with self.lock:
                self.publish()

    def _progress(self) -> dict[str, Any]:
        try:
            return dict(self.session.progress)
        except Exception as exc:  # progress must never take the widget down
            return {"progress_error": error_text(exc)}

    # ---- messages (kernel's main thread) ------------------------------------------------------
    def find(self, th: int) -> dict[str, Any] | None:
        return next((t for t in self.outstanding if int(t["_task_hash"]) == th), None)

    def answer(
        self,
        th: int,
        answer: str,
        spans: list[dict[str, Any]] | None = None,
        actions: dict[str, int] | None = None,
    ) -> str:
        """Store an answer (with the edited spans of a manual task, and the actions it took);
        returns a notice ("" when all went well). A rejected whole analysis is followed by its
        correction (teach with ``correct_rejected``), first: the view shows it at once too."""
        with self.lock:
            if th in self.answered:
                return ""  # a second view or a resent message: answered once, keep it that way
            task = self.find(th)
            if spans is not None and task is not None:
                try:  # refused spans (overlap, unknown label): the task stays, with the reason
                    self.session.check_spans(task, spans)
                except AnswerError as exc:
                    return error_text(exc)
            extra: dict[str, Any] = {} if spans is None else {"spans": spans}
            if actions is not None:
                extra["actions"] = actions
            try:
                stored = self.session.answer(task if task is not None else th, answer, **extra)
            except AnswerError as exc:
                # Already answered elsewhere or never offered: it must not be shown again.
                if task is not None:
                    self.outstanding.remove(task)
                return error_text(exc)
            # Anything else (database locked, disk full) propagates: the task stays out.
            if task is not None:
                self.outstanding.remove(task)
            self.answered.add(th)
            self._drop_settled()  # an accepted complete analysis settles its text's others
            correction = getattr(self.session, "correction", None)
            if answer == "reject" and callable(correction):
                fix = correction(stored)
                if fix is not None:
                    self.outstanding.insert(0, fix)
        self.wake.set()
        return ""

    def skip(self, th: int) -> str:
        """Leave a correction unanswered (``session.dismiss``): the reject it follows stands."""
        with self.lock:
            task = self.find(th)
            if task is None:
                return ""  # answered, dismissed or dropped already (a second view)
            self.outstanding.remove(task)
            self.session.dismiss(task)
        self.wake.set()
        return ""

    def undo(self) -> str:
        with self.lock:
            task = self.session.undo()
            if task is None:
                return "Nothing to undo."
            th = int(task["_task_hash"])
            self.answered.discard(th)
            self._drop_settled()  # e.g. a completion question withdrawn by the undo
            # The session offers it again first: show it now, and drop the re-offer (_add dedupes).
            self._add(task, front=True)  # the queue may run one over size until answered
        self.wake.set()
        return ""

    def change(self, th: int, answer: str) -> str:
        with self.lock:
            self.session.change_answer(th, answer)
            # A whole analysis changed to accept settles its text's other questions; a changed
            # span answer withdraws the text's completion question.
            self._drop_settled()
        self.wake.set()
        return ""

    def _drop_settled(self) -> bool:
        """Leave out the held tasks that need no answer any more, and give them back to the
        session, which then knows no front end holds them (caller holds the lock). True when
        any was dropped."""
        settled = [self.session.settled(t) for t in self.outstanding]
        if any(settled):
            dropped = [t for t, gone in zip(self.outstanding, settled) if gone]
            self.outstanding = [t for t, gone in zip(self.outstanding, settled) if not gone]
            self.session.requeue(dropped)
        return any(settled)

    # ---- publishing ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        progress = self._progress()
        self._last_progress = progress
        err = getattr(self.session, "error", None)
        self._last_session_error = err
        try:
            history = [_history_row(r) for r in self.session.history(HISTORY_SIZE)]
        except Exception as exc:
            history = []
            self.error = self.error or error_text(exc)
        reason = getattr(self.session, "closed_reason", None)
        if reason:
            return {
                "queue": [],
                "history": history,
                "progress": progress,
                "status": "closed",
                "error": reason,
            }
        if self.outstanding:
            status = "ready"
        elif self.error:
            status = "error"
        elif self.exhausted:
            status = "done"
        else:
            status = "loading"
        error = self.error
        if not error and err is not None and not self.outstanding and status != "done":
            error = error_text(err)
        return {
            "queue": [self._view(t) for t in self.outstanding],
            "history": history,
            "progress": progress,
            "status": status,
            "error": error,
        }

    def _view(self, task: dict[str, Any]) -> dict[str, Any]:
        """A task as the view shows it; a whole analysis carries the correction its reject
        brings (the view shows it at once, before the kernel's reply)."""
        view = view_task(task)
        make = getattr(self.session, "correction_task", None)
        fix = make(task) if callable(make) else None
        if fix is not None:
            view["correction"] = view_task(fix)
        return view

    def publish(
        self,
        acks: tuple[Any, dict[str, int]] | None = None,
        notice: tuple[Any, str] | None = None,
    ) -> None:
        """Send the shared state to every live view (one comm message per view).

        Sent as a reply to the last front-end message, from whichever thread: ipykernel 7 routes
        a comm's next incoming messages to the subshell of the request its last outgoing message
        answered. Sent from the refill thread in the main shell's context, the state would pull
        the widget's messages back onto the main thread, where they wait for any running cell.
        """
        with self.lock:
            if self.reply_context is None:
                self._send_state(acks, notice)
            else:
                self.reply_context.copy().run(self._send_state, acks, notice)

    def _send_state(
        self,
        acks: tuple[Any, dict[str, int]] | None,
        notice: tuple[Any, str] | None,
    ) -> None:
        state = self.state()
        for view in list(self.views):
            with view.hold_sync():
                for name, value in state.items():
                    setattr(view, name, value)
                if acks is not None and acks[0] is view:
                    view.acks = acks[1]
                if notice is not None and notice[0] is view:
                    view.notice = notice[1]

    def release(self) -> None:
        """Stop refilling and hand the outstanding tasks back to the session."""
        self.closed = True
        self.wake.set()
        with self.lock:
            tasks, self.outstanding = self.outstanding, []
            self._give_back(tasks)

    def _give_back(self, tasks: list[dict[str, Any]]) -> None:
        requeue = getattr(self.session, "requeue", None)
        if tasks and callable(requeue):
            requeue(tasks)


_FEEDS: weakref.WeakKeyDictionary[Any, Feed] = weakref.WeakKeyDictionary()
_FEEDS_LOCK = threading.Lock()


def feed_for(session: Any, size: int) -> Feed:
    with _FEEDS_LOCK:
        feed = _FEEDS.get(session)
        if feed is None:
            feed = _FEEDS[session] = Feed(session, size)
        else:
            feed.size = max(feed.size, size)
        return feed
