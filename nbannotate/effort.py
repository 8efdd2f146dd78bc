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
    return total(manual_actions(spans))


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
    """All the actions of a count per kind."""
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


#: Answers each way of asking needs before their rates are compared.
MIN_CORRECTIONS = 5
MIN_QUESTIONS = 20


class EffortChooser:
    """Whether to ask for a correction of the model's analysis directly rather than a binary
    question, from the entities each way has brought per action in this session.

    Questions (span questions, whole analyses) bring the entities they accept (one per accepted
    span, every span of an accepted whole analysis) for their actions, rejects and ignores
    included. A correction brings every entity of its text for its own actions plus those of
    the reject before it, if any. Once each way has ``min_corrections`` / ``min_questions``
    answers, ``prefer_correction`` is true while corrections bring more entities per action.
    Pure bookkeeping: no threads, no I/O (its session calls it under its lock)."""

    def __init__(
        self, min_corrections: int = MIN_CORRECTIONS, min_questions: int = MIN_QUESTIONS
    ) -> None:
        self.min_corrections = min_corrections
        self.min_questions = min_questions
        # way -> [answers, entities, actions]
        self._ways: dict[str, list[int]] = {"question": [0, 0, 0], "correction": [0, 0, 0]}

    def add(self, way: str, entities: int, actions: int, by: int = 1) -> None:
        """Count an answer (``by=-1``: take one back, say undone)."""
        counts = self._ways[way]
        counts[0] += by
        counts[1] += by * entities
        counts[2] += by * actions

    def rate(self, way: str) -> float | None:
        """Entities per action of ``way`` ("question" or "correction"), None before any
        action."""
        _n, entities, actions = self._ways[way]
        return entities / actions if actions > 0 else None

    def prefer_correction(self) -> bool:
        n_fix = self._ways["correction"][0]
        n_question = self._ways["question"][0]
        if n_fix < self.min_corrections or n_question < self.min_questions:
            return False
        fix, question = self.rate("correction"), self.rate("question")
        return fix is not None and question is not None and fix > question

    def progress(self) -> dict[str, float | None]:
        """Entities per action so far, per way, for ``session.progress``."""
        return {"question": self.rate("question"), "correction": self.rate("correction")}
