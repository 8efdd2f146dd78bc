"""The annotator's effort in actions: each key or click that answers, selects or removes a
span, picks a label, submits, undoes, changes a past answer or leaves a correction.

The widget counts the actions behind each answer and sends them with it (see ``js/``); an
answer given without a widget (``session.answer(...)`` in code) counts the fewest actions the
widget needs for it, from the functions here. Each stored answer keeps its total in
``meta["actions"]``; ``session.progress["actions"]`` sums them per kind. Pure functions, no
state: the benchmarks price a gold corpus with them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import AnswerError

#: The kinds of action, as ``session.progress["actions"]`` lists them (with ``total``).
#: answer: a key or button answering a question (accept, reject, ignore); select: a span
#: selected (a mouse drag, or a keyboard selection turned into a span); label: a label picked
#: (number key or label button); remove: a span removed (click, or r); submit: a complete
#: annotation stored (manual, correct, a correction); undo; change: a past answer changed in
#: the history; skip: a correction offered after a reject, left without storing anything.
ACTION_KINDS = ("answer", "select", "label", "remove", "submit", "undo", "change", "skip")

Actions = dict[str, int]


def _offsets(span: Mapping[str, Any]) -> tuple[int, int]:
    return int(span["start"]), int(span["end"])


def gold_sentence_actions(spans: Iterable[Mapping[str, Any]]) -> int:
    """Actions a complete annotation with these entity ``spans`` costs in manual mode, from an
    empty text: per entity one selection and one label choice, and one submit."""
    return 2 * sum(1 for _ in spans) + 1


def manual_actions(spans: Iterable[Mapping[str, Any]]) -> Actions:
    """``gold_sentence_actions`` per kind."""
    n = sum(1 for _ in spans)
    return {"select": n, "label": n, "submit": 1}


def correction_actions(
    before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]]
) -> Actions:
    """The fewest actions that turn the spans ``before`` (pre-highlighted) into ``after`` and
    submit: a span kept with another label is one label choice; one no longer there, one
    removal; a new one, a selection and a label choice."""
    old = {_offsets(s): str(s["label"]) for s in before}
    new = {_offsets(s): str(s["label"]) for s in after}
    relabeled = sum(1 for k, label in new.items() if k in old and old[k] != label)
    removed = sum(1 for k in old if k not in new)
    added = sum(1 for k in new if k not in old)
    return {"select": added, "label": added + relabeled, "remove": removed, "submit": 1}


def check_actions(actions: Any) -> Actions | None:
    """The action counts given with an answer, per kind: None (count the fewest), an int
    (answering keys) or a mapping kind -> count over ``ACTION_KINDS``. AnswerError otherwise."""
    if actions is None:
        return None
    if isinstance(actions, int) and not isinstance(actions, bool):
        actions = {"answer": actions}
    if not isinstance(actions, Mapping):
        raise AnswerError(
            f"actions must be a number or a dict of counts per kind "
            f"({', '.join(ACTION_KINDS)}), got {type(actions).__name__}."
        )
    out: Actions = {}
    for kind, n in actions.items():
        if kind not in ACTION_KINDS:
            raise AnswerError(
                f"Unknown kind of action {kind!r}: the kinds are {', '.join(ACTION_KINDS)}."
            )
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise AnswerError(f"actions[{kind!r}] must be a count (an int >= 0), got {n!r:.40}.")
        if n:
            out[kind] = n
    return out


def total(actions: Mapping[str, int]) -> int:
    return sum(actions.values())


class ActionCounts:
    """A session's actions per kind (not thread-safe: its session holds its lock)."""

    def __init__(self) -> None:
        self.counts: Actions = dict.fromkeys(ACTION_KINDS, 0)

    def add(self, actions: Mapping[str, int]) -> None:
        for kind, n in actions.items():
            self.counts[kind] += n

    def progress(self) -> dict[str, int]:
        """``{"total": n, <kind>: n, ...}`` for ``session.progress["actions"]``."""
        return {"total": total(self.counts), **self.counts}
