"""The annotation widget: an anywidget front end over a teach, manual or correct session.

The front end (``js/``, bundled into ``nbannotate/static/``) keeps the next few tasks, so a key
press paints the next task at once and the answer travels to the kernel as a custom message. This
module is the kernel side of that conversation.

Protocol (front end -> kernel, custom messages, every one carries ``client``; an operation also
carries ``seq``, 1, 2, ... per front end, and is carried out in that order whatever order the
messages arrive in)::

    {"type": "hello"}                                   a view was rendered
    {"type": "answer", "task_hash": str, "answer": "accept"|"reject"|"ignore",
     "spans": [{"start", "end", "label"}, ...],        spans: manual/correct tasks only
     "actions": {"answer"|"select"|"label"|"remove"|"submit": int, ...}}
                                                        the keys and clicks behind the answer
    {"type": "skip", "task_hash": str}                  leave a correction, storing nothing
    {"type": "undo"}
    {"type": "change", "task_hash": str, "answer": ...}  change a past decision

Kernel -> front end, synced traits: ``queue`` (tasks handed out and not answered, head first),
``history`` (last decisions, newest first), ``progress`` (``session.progress``), ``status``
("loading" | "ready" | "done" | "error" | "closed"), ``error`` (a background error's message, or
why the session is closed), ``notice`` (why the last message could not be carried out; why an
answer failed stays until its task, back in the queue, is answered; empty once the session is
closed, as ``error`` says why) and ``acks`` (the last ``seq`` processed per
front end, so a view can drop its optimistic copies of operations the kernel has carried out),
plus ``dataset``, ``labels`` and ``mode`` ("teach", "manual" or "review", set once from the session
type).
Task hashes travel as strings: they are 64-bit and JavaScript numbers hold 53 bits.

The front end picks the view per task by ``view_id``: "ner" (one candidate span, teach) or
"ner_manual" (manual/correct: the text as tokens, every span editable; a review task also carries
``versions``, the annotators' versions shown above the text). In teach with
``correct_rejected``, a whole analysis in ``queue`` carries ``correction``: the task (a
"ner_manual" one) that its reject puts first in the queue, so the view shows it at once. A
manual answer carries the edited spans; spans the kernel refuses (overlap, unknown label) leave
the task on screen with the reason in ``notice``.

Every widget of one session shares one :class:`~nbannotate.feed.Feed` (``feed.py``), which owns
the tasks handed to front ends and not yet answered.
"""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .effort import check_actions
from .errors import AnswerError, ArgumentError
from .feed import error_text, feed_for
from .tasks import ANSWERS

STATIC = Path(__file__).parent / "static"

#: Tasks each front end holds ahead of the one shown; enough to hide a model update.
DEFAULT_QUEUE_SIZE = 6
_ACKS_KEPT = 16  # front ends (browser tabs, re-renders) in the acks trait: the latest active
#: Front ends whose last seq the kernel remembers. One forgotten and then heard from again would
#: wait for operations 1, 2, ... it sent long ago, so this is far more than a session re-renders.
_CLIENTS_KEPT = 1024
_SESSION_METHODS = ("next_task", "answer", "undo", "change_answer", "history")


class _InOrder:
    """Each front end's operations, released in the order it sent them (its ``seq``: 1, 2, ...).

    The transport does not keep that order. With ipykernel 7 and JupyterLab or Notebook 7, a
    comm's messages are carried out by the kernel's main shell or by a subshell (ipykernel
    routes each one by the request the comm's last outgoing message answered, see
    ``Feed.publish``); the two are separate threads, so a key pressed later can overtake one
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


def _actions(raw: Any) -> dict[str, int] | None:
    """The action counts of an answer (None: not sent, the session counts the fewest)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise AnswerError(f"'actions' must be an object of counts, got {raw!r:.80}.")
    return check_actions(raw)


def _spans(raw: Any) -> list[dict[str, Any]] | None:
    """The edited spans of a manual answer (None: not a manual answer)."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise AnswerError(f"'spans' must be a list of span objects, got {raw!r:.80}.")
    return [{"start": s.get("start"), "end": s.get("end"), "label": s.get("label")} for s in raw]


def _mode(view_mode: Any) -> str:
    """The view's mode: "manual" and "review" as the session says, else "teach"."""
    return view_mode if view_mode in ("manual", "review") else "teach"


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
    #: "teach" (binary answers about one span), "manual" (manual and correct sessions) or
    #: "review" (a review session: manual editing plus the annotators' versions).
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
            mode=_mode(getattr(session, "view_mode", "teach")),
            **kwargs,
        )
        self.session = session
        self._inbox = _InOrder()
        #: (task hash, reason) of an answer that failed and left its task held: the task comes
        #: back to the view, and the reason stays on screen until that task is answered.
        self._failed: tuple[int, str] | None = None
        self._feed = feed_for(session, queue_size)
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
                    notice = error_text(exc)
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
        if kind == "skip":
            return self._feed.skip(int(content["task_hash"]))
        if kind not in ("answer", "change"):
            return f"Unknown message type {kind!r} from the front end."
        answer = content.get("answer")
        if answer not in ANSWERS:
            raise AnswerError(f"Unknown answer {answer!r}: use one of {', '.join(ANSWERS)}.")
        th = int(content["task_hash"])
        if kind == "answer":
            return self._feed.answer(
                th, answer, _spans(content.get("spans")), _actions(content.get("actions"))
            )
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
