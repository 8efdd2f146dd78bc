"""The in-loop model's precision as the annotator measures it, for ``session.progress``.

Every answer to a span the model proposed tests the model before it learns from that answer:
accepted, the model was right; rejected, it was wrong. The precision is accepted / (accepted +
rejected) over the last ``window`` such answers (ignores do not count), and a short history of
it lets the widget draw how it moves over the session. Pattern matches, whole analyses and
manual annotations are not the model's single guesses and are left out.

Undo and change keep it exact: answers are kept by task hash, in the order they were given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .tasks import VIEW_MANUAL, is_whole

#: Answers the precision is measured over (the most recent ones).
WINDOW = 100
#: A point of the history every this many counted answers at first; doubled whenever the
#: history is thinned, so it covers the whole session in at most MAX_POINTS points.
EVERY = 5
MAX_POINTS = 48


def is_model_guess(task: Mapping[str, Any]) -> bool:
    """True for a question about one span the model proposed (not a pattern match, not a whole
    analysis or a completion question, not a manual annotation)."""
    spans = task.get("spans") or []
    return (
        task.get("_view_id") != VIEW_MANUAL
        and not is_whole(task)
        and len(spans) == 1
        and spans[0].get("source") == "model"
    )


class ModelPrecision:
    """Answers to the model's guesses in one session, and the precision they give.

    Not thread-safe: the session calls it under its own lock.
    """

    def __init__(
        self, window: int = WINDOW, every: int = EVERY, max_points: int = MAX_POINTS
    ) -> None:
        self.window = window
        self.every = every
        self.max_points = max_points
        self._answers: dict[int, str] = {}  # task hash -> answer, oldest first
        self._decided = 0  # accept and reject answers among them
        self._points: list[tuple[int, float]] = []  # (decided answers so far, precision)
        self._value: float | None = None
        self._n = 0  # answers the value is over

    def add(self, task: Mapping[str, Any]) -> None:
        """A new answer (``task["answer"]``) was stored."""
        if not is_model_guess(task):
            return
        answer = task["answer"]
        self._answers[task["_task_hash"]] = answer
        if answer in ("accept", "reject"):
            self._decided += 1
            self._measure()
            if self._decided % self.every == 0 and self._value is not None:
                self._points.append((self._decided, self._value))
                if len(self._points) > self.max_points:  # keep every other one
                    self._points = self._points[1::2]
                    self.every *= 2

    def remove(self, task: Mapping[str, Any]) -> None:
        """The answer to ``task`` was undone."""
        answer = self._answers.pop(task["_task_hash"], None)
        if answer in ("accept", "reject"):
            self._decided -= 1
            # Points measured after that answer no longer happened.
            while self._points and self._points[-1][0] > self._decided:
                self._points.pop()
            self._measure()

    def change(self, task: Mapping[str, Any], answer: str) -> None:
        """The answer to ``task`` changes to ``answer`` (keeps its place in the order)."""
        th = task["_task_hash"]
        old = self._answers.get(th)
        if old is None or old == answer:
            return
        self._answers[th] = answer
        self._decided += (answer != "ignore") - (old != "ignore")
        self._measure()

    def _measure(self) -> None:
        accepted = n = 0
        for answer in reversed(self._answers.values()):
            if answer == "ignore":
                continue
            accepted += answer == "accept"
            n += 1
            if n == self.window:
                break
        self._value = accepted / n if n else None
        self._n = n

    def progress(self) -> dict[str, Any]:
        """The keys for ``session.progress``: ``model_precision`` (None before any counted
        answer), ``model_precision_answers`` (how many it is over, at most the window) and
        ``model_precision_history`` (its value every few answers, oldest first, ending with
        the current one)."""
        points = [v for _, v in self._points]
        if self._value is not None and (
            not self._points
            or self._points[-1][0] != self._decided
            or self._points[-1][1] != self._value
        ):
            points.append(self._value)  # the latest answers (or a change) moved it since
        return {
            "model_precision": self._value,
            "model_precision_answers": self._n,
            "model_precision_history": [round(v, 4) for v in points],
        }
