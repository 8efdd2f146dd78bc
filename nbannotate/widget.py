"""The annotation widget: an anywidget front end over a teach, manual or correct session.

The front end (``js/``, bundled into ``nbannotate/static/``) keeps the next few tasks, so a key
press paints the next task at once and the answer travels to the kernel as a custom message. This
module is the kernel side of that conversation.

Protocol (front end -> kernel, custom messages, every one carries ``client``; an operation also
carries ``seq``, 1, 2, ... per front end, and is carried out in that order whatever order the
messages arrive in)::

    {"type": "hello"}                                   a view was rendered
    {"type": "answer", "task_hash": str, "answer": "accept"|"reject"|"ignore",
     "spans": [{"start", "end", "label"}, ...]}        spans: manual/correct tasks only
    {"type": "undo"}
    {"type": "change", "task_hash": str, "answer": ...}  change a past decision

Kernel -> front end, synced traits: ``queue`` (tasks handed out and not answered, head first),
``history`` (last decisions, newest first), ``progress`` (``session.progress``), ``status``
("loading" | "ready" | "done" | "error" | "closed"), ``error`` (a background error's message, or
why the session is closed), ``notice`` (why the last message could not be carried out; why an
answer failed stays until its task, back in the queue, is answered; empty once the session is
closed, as ``error`` says why) and ``acks`` (the last ``seq`` processed per
front end, so a view can drop its optimistic copies of operations the kernel has carried out),
plus ``dataset``, ``labels`` and ``mode`` ("teach" or "manual", set once from the session type).
Task hashes travel as strings: they are 64-bit and JavaScript numbers hold 53 bits.

The front end picks the view per task by ``view_id``: "ner" (one candidate span, teach) or
"ner_manual" (manual/correct: the text as tokens, every span editable). A manual answer carries
the edited spans; spans the kernel refuses (overlap, unknown label) leave the task on screen with
the reason in ``notice``.

Every widget of one session shares one :class:`_Feed`, which owns the tasks handed to front ends
and not yet answered. Displaying the session again, or reloading the page, therefore shows the
same outstanding tasks: none is lost, and a task answered in one view leaves every view.
"""

from __future__ import annotations

import contextvars
import threading
import weakref
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .errors import AnswerError, ArgumentError
from .tasks import ANSWERS, VIEW_BINARY, VIEW_MANUAL

STATIC = Path(__file__).parent / "static"

#: Tasks each front end holds ahead of the one shown; enough to hide a model update.
DEFAULT_QUEUE_SIZE = 6
HISTORY_SIZE = 10
_ACKS_KEPT = 16  # front ends (browser tabs, re-renders) in the acks trait: the latest active
#: Front ends whose last seq the kernel remembers. One forgotten and then heard from again would
#: wait for operations 1, 2, ... it sent long ago, so this is far more than a session re-renders.
_CLIENTS_KEPT = 1024
_REFILL_TIMEOUT = 0.5  # seconds next_task may block in the refill thread before it re-checks
_POLL_INTERVAL = 1.0  # seconds between progress refreshes while idle (model updates run behind)

_SESSION_METHODS = ("next_task", "answer", "undo", "change_answer", "history")


def view_task(task: dict[str, Any]) -> dict[str, Any]:
    """The part of a task the front end shows, with hashes as strings (JSON-safe for JS)."""
    meta = dict(task.get("meta") or {})
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
    return view


def _history_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["task_hash"] = str(row["task_hash"])
    return out


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class _Feed:
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
        self.views: weakref.WeakSet[AnnotationWidget] = weakref.WeakSet()
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
                    self.error = _error_text(exc)
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
                self.error = _error_text(exc)
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
            return {"progress_error": _error_text(exc)}

    # ---- messages (kernel's main thread) ------------------------------------------------------
    def find(self, th: int) -> dict[str, Any] | None:
        return next((t for t in self.outstanding if int(t["_task_hash"]) == th), None)

    def answer(self, th: int, answer: str, spans: list[dict[str, Any]] | None = None) -> str:
        """Store an answer (with the edited spans of a manual task); returns a notice ("" when
        all went well)."""
        with self.lock:
            if th in self.answered:
                return ""  # a second view or a resent message: answered once, keep it that way
            task = self.find(th)
            if spans is not None and task is not None:
                try:  # refused spans (overlap, unknown label): the task stays, with the reason
                    self.session.check_spans(task, spans)
                except AnswerError as exc:
                    return _error_text(exc)
            try:
                if spans is None:
                    self.session.answer(task if task is not None else th, answer)
                else:
                    self.session.answer(task if task is not None else th, answer, spans=spans)
            except AnswerError as exc:
                # Already answered elsewhere or never offered: it must not be shown again.
                if task is not None:
                    self.outstanding.remove(task)
                return _error_text(exc)
            # Anything else (database locked, disk full) propagates: the task stays out.
            if task is not None:
                self.outstanding.remove(task)
            self.answered.add(th)
            self._drop_settled()  # an accepted complete analysis settles its text's others
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
            self.error = self.error or _error_text(exc)
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
            error = _error_text(err)
        return {
            "queue": [view_task(t) for t in self.outstanding],
            "history": history,
            "progress": progress,
            "status": status,
            "error": error,
        }

    def publish(
        self,
        acks: tuple[AnnotationWidget, dict[str, int]] | None = None,
        notice: tuple[AnnotationWidget, str] | None = None,
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
        acks: tuple[AnnotationWidget, dict[str, int]] | None,
        notice: tuple[AnnotationWidget, str] | None,
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


class _InOrder:
    """Each front end's operations, released in the order it sent them (its ``seq``: 1, 2, ...).

    The transport does not keep that order. With ipykernel 7 and JupyterLab or Notebook 7, a
    comm's messages are carried out by the kernel's main shell or by a subshell (ipykernel
    routes each one by the request the comm's last outgoing message answered, see
    ``_Feed.publish``); the two are separate threads, so a key pressed later can overtake one
    queued behind a running cell. An undo means "undo my last answer", so order matters. An
    operation that arrives early waits here for the ones before it, which do arrive: a busy
    main thread delays messages, it does not drop them. One seen before is not released
    again (a resent message is carried out once).
    """

    def __init__(self, kept: int = _CLIENTS_KEPT, acked: int = _ACKS_KEPT) -> None:
        self.kept = kept
        self.acked = acked
        #: client -> last seq released, the front end heard from most recently last
        self.done: dict[str, int] = {}
        self.early: dict[str, dict[int, dict[str, Any]]] = {}  # client -> seq -> message

    def push(self, client: str, seq: int, content: dict[str, Any]) -> list[dict[str, Any]]:
        """Take message ``seq`` of ``client``; returns the messages ready now, in order: none
        while an earlier one is missing or when this one was released before."""
        self.done[client] = self.done.pop(client, 0)  # now the most recent
        while len(self.done) > self.kept:  # forget the front end silent for longest
            oldest = next(iter(self.done))
            del self.done[oldest]
            self.early.pop(oldest, None)
        if seq <= self.done[client]:
            return []
        early = self.early.setdefault(client, {})
        early[seq] = content
        ready = []
        while (nxt := self.done[client] + 1) in early:
            ready.append(early.pop(nxt))
            self.done[client] = nxt
        if not early:
            self.early.pop(client, None)
        return ready

    def acks(self) -> dict[str, int]:
        """The last seq released per front end, for the ``acked`` most recently heard from (the
        widget's ``acks`` trait, sent with every state update)."""
        recent = []
        for client in reversed(self.done):  # newest first; stop early: called per message
            if self.done[client]:
                recent.append((client, self.done[client]))
                if len(recent) == self.acked:
                    break
        return dict(reversed(recent))


def _answered_hash(message: dict[str, Any]) -> int | None:
    """The task hash of an answer message (None for other messages or a malformed hash)."""
    if message.get("type") != "answer":
        return None
    try:
        return int(message["task_hash"])
    except (KeyError, TypeError, ValueError):
        return None


def _spans(raw: Any) -> list[dict[str, Any]] | None:
    """The edited spans of a manual answer (None: not a manual answer)."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise AnswerError(f"'spans' must be a list of span objects, got {raw!r:.80}.")
    return [{"start": s.get("start"), "end": s.get("end"), "label": s.get("label")} for s in raw]


_FEEDS: weakref.WeakKeyDictionary[Any, _Feed] = weakref.WeakKeyDictionary()
_FEEDS_LOCK = threading.Lock()


def _feed_for(session: Any, size: int) -> _Feed:
    with _FEEDS_LOCK:
        feed = _FEEDS.get(session)
        if feed is None:
            feed = _FEEDS[session] = _Feed(session, size)
        else:
            feed.size = max(feed.size, size)
        return feed


class AnnotationWidget(anywidget.AnyWidget):
    """Keyboard-first NER annotation over a session (displaying a session shows it).

    Keys while the widget has focus: ``a`` accept, ``x`` reject, ``space`` ignore, ``backspace``
    undo; buttons do the same, and clicking a past decision changes it. Several widgets of one
    session share its outstanding tasks, so re-displaying carries on where the session stands.
    Over a manual/correct session (:class:`~nbannotate.manual.ManualSession`) the view edits
    every span of the text: drag or shift+arrows to select, number keys or a label button to
    label, a click on a span (or ``r`` with the cursor on it) removes it; accept stores the
    whole annotation.
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    queue = traitlets.List(traitlets.Dict()).tag(sync=True)
    history = traitlets.List(traitlets.Dict()).tag(sync=True)
    progress = traitlets.Dict().tag(sync=True)
    status = traitlets.Unicode("loading").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    acks = traitlets.Dict().tag(sync=True)
    dataset = traitlets.Unicode("").tag(sync=True)
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: "teach" (binary answers about one span) or "manual" (manual and correct sessions).
    mode = traitlets.Unicode("teach").tag(sync=True)

    def __init__(self, session: Any, *, queue_size: int = DEFAULT_QUEUE_SIZE, **kwargs: Any):
        missing = [m for m in _SESSION_METHODS if not callable(getattr(session, m, None))]
        if missing:
            raise ArgumentError(
                f"AnnotationWidget needs a teach session (nbannotate.teach) or a manual one "
                f"(nbannotate.manual, nbannotate.correct); got "
                f"{type(session).__name__}, which lacks {', '.join(missing)}."
            )
        if not isinstance(queue_size, int) or not 1 <= queue_size <= 50:
            raise ArgumentError(
                f"queue_size must be an int from 1 to 50 (tasks held ahead); got {queue_size!r}."
            )
        super().__init__(
            dataset=str(getattr(session, "dataset", "")),
            labels=[str(x) for x in getattr(session, "labels", []) or []],
            mode="manual" if getattr(session, "view_mode", "teach") == "manual" else "teach",
            **kwargs,
        )
        self.session = session
        self._inbox = _InOrder()
        #: (task hash, reason) of an answer that failed and left its task held: the task comes
        #: back to the view, and the reason stays on screen until that task is answered.
        self._failed: tuple[int, str] | None = None
        self._feed = _feed_for(session, queue_size)
        self._feed.views.add(self)
        self.on_msg(self._on_msg)
        self._feed.publish()
        self._feed.start()

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Handle a message from the front end. Never raises: problems become a notice."""
        if not isinstance(content, dict):
            return
        client = str(content.get("client", ""))
        seq = content.get("seq")
        # Held under the feed lock: messages may arrive on two kernel threads (see _InOrder).
        with self._feed.lock:
            self._feed.reply_context = contextvars.copy_context()
            if isinstance(seq, int) and not isinstance(seq, bool) and client:
                ready = self._inbox.push(client, seq, content)
            else:  # "hello", or a message without a number: nothing to keep in order
                ready = [content]
            if not ready:  # early (waits for an earlier one) or seen before
                return
            # Several operations can be released together (one arrived early): keep every
            # failure's notice, not just the last operation's.
            notices = []
            for message in ready:
                try:
                    notice = self._apply(message.get("type"), message)
                except Exception as exc:  # shown in the widget; the kernel keeps running
                    notice = _error_text(exc)
                th = _answered_hash(message)
                if notice:
                    notices.append(notice)
                    back = th is not None and self._feed.find(th) is not None  # still held
                    self._failed = (th, notice) if back and th is not None else None
                elif self._failed is not None and self._failed[0] == th:
                    self._failed = None
            if self._failed is not None and self._feed.find(self._failed[0]) is None:
                self._failed = None  # answered in another view, or no longer needed
            # The next key's acknowledgement (an unrelated success) comes a few ms after a
            # failure: it must not wipe the reason the failed task came back.
            if not notices and self._failed is not None:
                notices.append(self._failed[1])
            # A closed session's view shows why it is closed (status "closed", the reason in
            # ``error``): an operation refused for that reason must not repeat it as a notice.
            notice = "" if getattr(self.session, "closed_reason", None) else " ".join(notices)
            # The operations and the state that acknowledges them go out together: if the
            # refill thread published in between, the view would get the new state without the
            # ack and apply its own copy of an operation a second time (an undo would undo two
            # answers).
            self._feed.publish(acks=(self, self._inbox.acks()), notice=(self, notice))

    def _apply(self, kind: Any, content: Any) -> str:
        """Carry out one front-end message; returns the notice to show ("" when all is well)."""
        if kind == "hello":
            self._feed.start()
            return ""
        if kind == "undo":
            return self._feed.undo()
        if kind not in ("answer", "change"):
            return f"Unknown message type {kind!r} from the front end."
        answer = content.get("answer")
        if answer not in ANSWERS:
            raise AnswerError(f"Unknown answer {answer!r}: use one of {', '.join(ANSWERS)}.")
        th = int(content["task_hash"])
        if kind == "answer":
            return self._feed.answer(th, answer, _spans(content.get("spans")))
        return self._feed.change(th, answer)

    def close(self) -> None:
        """Close this view. The session's other views keep its outstanding tasks; when the last
        view closes they go back to the session (``session.requeue``), so ``next_task`` or a new
        widget offers them again."""
        feed = getattr(self, "_feed", None)  # None if __init__ failed (close runs from __del__)
        if feed is not None:
            feed.views.discard(self)
            if not feed.views:
                feed.release()
        super().close()
