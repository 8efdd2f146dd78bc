"""The question rules of a teach session (``nbannotate/questions.py``), one event at a time, on
plain dicts: no threads, no store, no model.

The answer index is a dict of stored answers; ``Flow`` plays the session's part (store the
answer, call the event, apply the decision to a front queue and the questions handed out) in
the order ``TeachSession`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import count
from typing import Any

import pytest

from nbannotate import questions as qmod
from nbannotate.candidates import ScoredText
from nbannotate.questions import Decision, Questions

_hashes = count(1000)
TEXT_A, TEXT_B = 1, 2
# "I just bought the new iPhone yesterday": character offsets of three overlapping candidates
IPHONE, NEW_IPHONE, IPHONE_YESTERDAY, BOUGHT = (22, 28), (18, 28), (22, 38), (7, 13)


def task(
    ih: int = TEXT_A,
    *spans: tuple[int, int],
    source: str = "model",
    whole: bool = False,
    completion: bool = False,
    th: int | None = None,
) -> dict:
    """A question about text ``ih``: one span (a binary question) or several (whole)."""
    return {
        "_input_hash": ih,
        "_task_hash": next(_hashes) if th is None else th,
        "meta": {"whole": whole or completion, "completion": completion},
        "spans": [
            {
                "start": s,
                "end": e,
                "token_start": s,
                "token_end": e - 1,
                "label": "PRODUCT",
                "source": source,
            }
            for s, e in spans
        ],
    }


class Answers:
    """The dataset's answer index, as plain dicts (``store.AnswerIndex``'s three lookups)."""

    def __init__(self) -> None:
        self.stored: dict[int, dict] = {}  # task hash -> answered task

    def has_task(self, task_hash: int) -> bool:
        return task_hash in self.stored

    def is_complete(self, input_hash: int) -> bool:
        return any(
            t["_input_hash"] == input_hash and t["answer"] == "accept" and t["meta"]["whole"]
            for t in self.stored.values()
        )

    def overlaps_accepted(self, input_hash: int, start: int, end: int) -> bool:
        return any(
            t["_input_hash"] == input_hash
            and t["answer"] == "accept"
            and not t["meta"]["whole"]
            and len(t["spans"]) == 1
            and t["spans"][0]["start"] < end
            and start < t["spans"][0]["end"]
            for t in self.stored.values()
        )


def completion_from_accepts(text: qmod.OpenText) -> dict:
    """The completion question of a text: its accepted spans, one hash per set of them (the
    same answers make the same question)."""
    accepted, _rejected = text.agreed()
    ih = text.scored.item["ih"]
    spans = sorted((s, e) for s, e, _label in accepted)
    return task(ih, *spans, completion=True, th=hash((ih, tuple(spans))) & 0xFFFFFFF)


class Flow:
    """The session's side: a front queue, the questions handed out, and the calls it makes."""

    def __init__(self, completion: bool = True, trusted: bool = True) -> None:
        self.index = Answers()
        self.q = Questions(self.index, completion_from_accepts if completion else None)
        if trusted:
            self.q.proposals.trusted = lambda: True  # type: ignore[method-assign]
        self.front: list[dict] = []
        self.offered: dict[int, dict] = {}
        self.decisions: list[Decision] = []

    def offer(self, *tasks: dict) -> list[dict]:
        """The producer queued these (their text's record opens); next_task hands them out."""
        for t in tasks:
            self.q.offering(t["_input_hash"], ScoredText({"ih": t["_input_hash"]}, []))
        for t in tasks:
            self.offered[t["_task_hash"]] = t
            self.q.handed_out(t)
        return list(tasks)

    def out(self, ih: int) -> bool:
        return any(
            t["_input_hash"] == ih and not self.q.settled(t)
            for t in [*self.front, *self.offered.values()]
        )

    def apply(self, d: Decision) -> Decision:
        for th in d.withdrawn:
            self.offered.pop(th, None)
            self.front = [t for t in self.front if t["_task_hash"] != th]
        for th in d.aside:
            self.offered.pop(th, None)
        for t in d.revived:
            self.offered[t["_task_hash"]] = t
        self.front = [*d.first, *self.front, *d.then]
        self.decisions.append(d)
        return d

    def answer(self, t: dict, answer: str) -> Decision:
        stored = {**t, "answer": answer}
        self.index.stored[t["_task_hash"]] = stored
        first = self.apply(self.q.answered(stored, answer, self.offered))
        self.offered.pop(t["_task_hash"], None)
        then = self.apply(self.q.recorded(stored, answer, self.offered, self.out))
        return Decision(
            withdrawn=first.withdrawn + then.withdrawn,
            aside=first.aside + then.aside,
            revived=first.revived + then.revived,
            first=first.first + then.first,
            then=first.then + then.then,
        )

    def undo(self, t: dict) -> Decision:
        stored = self.index.stored.pop(t["_task_hash"])
        queued = {x["_task_hash"] for x in self.front} | set(self.offered)
        d = self.apply(self.q.undone(stored, self.offered, queued))
        self.front.insert(0, t)  # the undone question, asked again first
        return d

    def change(self, t: dict, answer: str) -> Decision:
        old = self.index.stored[t["_task_hash"]]
        queued = {x["_task_hash"] for x in self.front} | set(self.offered)
        self.index.stored[t["_task_hash"]] = {**old, "answer": answer}
        return self.apply(self.q.changed(old, answer, self.offered, queued, self.out))


def hashes(tasks: list[dict[str, Any]] | Mapping[int, Any]) -> list[int]:
    return list(tasks) if isinstance(tasks, Mapping) else [t["_task_hash"] for t in tasks]


# -- what needs no answer -------------------------------------------------------------------


def _accepted(flow: Flow, t: dict) -> None:
    flow.index.stored[t["_task_hash"]] = {**t, "answer": "accept"}


SETTLED = [
    # (what is stored / state, the question, settled?)
    ("nothing", task(TEXT_A, IPHONE), False),
    ("the question itself answered", "self", True),
    ("an overlapping span accepted", task(TEXT_A, NEW_IPHONE), True),
    ("a disjoint span accepted", task(TEXT_A, BOUGHT), False),
    ("an overlapping span accepted on another text", task(TEXT_B, NEW_IPHONE), False),
    ("an overlapping span rejected", task(TEXT_A, NEW_IPHONE), False),
    ("a whole question overlapping an accepted span", task(TEXT_A, NEW_IPHONE, whole=True), False),
    ("its text accepted as a whole", task(TEXT_A, BOUGHT), True),
    ("its text's completion question asked", task(TEXT_A, BOUGHT), True),
    ("the completion question once asked", task(TEXT_A, IPHONE, completion=True), False),
    ("withdrawn as out of date", task(TEXT_A, IPHONE, completion=True), True),
]


@pytest.mark.parametrize(
    ("state", "question", "expected"), SETTLED, ids=[row[0] for row in SETTLED]
)
def test_what_needs_no_answer(state, question, expected):
    flow = Flow()
    q = flow.q
    if question == "self":
        question = task(TEXT_A, IPHONE)
        _accepted(flow, question)
    elif state.startswith("an overlapping span accepted") or state.startswith("a whole"):
        _accepted(flow, task(TEXT_A, IPHONE))
    elif state == "a disjoint span accepted":
        _accepted(flow, task(TEXT_A, IPHONE))
    elif state == "an overlapping span rejected":
        flow.index.stored[1] = {**task(TEXT_A, IPHONE, th=1), "answer": "reject"}
    elif state == "its text accepted as a whole":
        _accepted(flow, task(TEXT_A, IPHONE, whole=True))
    elif state.startswith("its text's completion") or state.startswith("the completion"):
        q.completion_asked[TEXT_A] = question["_task_hash"]
    elif state == "withdrawn as out of date":
        q.stale[question["_task_hash"]] = None
    assert q.settled(question) is expected


# -- what an accept settles -----------------------------------------------------------------


def test_an_accepted_span_settles_the_questions_handed_out_that_it_overlap():
    flow = Flow(completion=False)
    iphone, new_iphone, yesterday, bought = flow.offer(
        task(TEXT_A, IPHONE),
        task(TEXT_A, NEW_IPHONE),
        task(TEXT_A, IPHONE_YESTERDAY),
        task(TEXT_A, BOUGHT),
    )
    other = flow.offer(task(TEXT_B, NEW_IPHONE))[0]
    d = flow.answer(iphone, "accept")
    assert d.aside == hashes([new_iphone, yesterday])
    assert set(flow.offered) == set(hashes([bought, other]))
    # kept with the text's record, and still answerable by hash
    assert set(flow.q.record_of(TEXT_A).dropped) == set(d.aside)
    assert flow.q.held_aside(new_iphone["_task_hash"]) == new_iphone
    # a reject settles nothing
    flow2 = Flow(completion=False)
    a, b = flow2.offer(task(TEXT_A, IPHONE), task(TEXT_A, NEW_IPHONE))
    assert not flow2.answer(a, "reject").aside and b["_task_hash"] in flow2.offered


def test_an_accepted_whole_analysis_settles_every_other_question_of_its_text():
    flow = Flow(completion=False)
    whole, span, far = flow.offer(
        task(TEXT_A, IPHONE, whole=True), task(TEXT_A, BOUGHT), task(TEXT_B, BOUGHT)
    )
    d = flow.answer(whole, "accept")
    assert span["_task_hash"] in d.aside and far["_task_hash"] not in d.aside
    assert hashes(flow.offered) == hashes([far])
    assert TEXT_A in flow.q.finished and TEXT_A not in flow.q.open


@pytest.mark.parametrize(
    ("settled_by", "kept"),
    [
        ("whole accept", True),  # asked again if the whole answer is undone
        ("overlapping accept", True),
        ("its own answer", False),  # nothing to ask again
        ("completion asked", False),  # the completion question came after: not kept
    ],
)
def test_a_queued_question_skipped_as_settled_is_kept_only_if_it_may_come_back(settled_by, kept):
    flow = Flow()
    question = task(TEXT_A, NEW_IPHONE)
    flow.q.offering(TEXT_A, ScoredText({"ih": TEXT_A}, []))
    if settled_by == "whole accept":
        _accepted(flow, task(TEXT_A, BOUGHT, whole=True))
    elif settled_by == "overlapping accept":
        _accepted(flow, task(TEXT_A, IPHONE))
    elif settled_by == "its own answer":
        _accepted(flow, question)
    else:
        _accepted(flow, task(TEXT_A, BOUGHT, whole=True))
        flow.q.completion_asked[TEXT_A] = 1
    assert flow.q.settled(question)
    flow.q.set_aside(question)
    assert (question["_task_hash"] in flow.q.record_of(TEXT_A).dropped) is kept


# -- when a completion question is due -------------------------------------------------------

DUE = [
    # (case, completion on, trusted, answer, another question out, expected due)
    ("the last span answered", True, True, "accept", False, True),
    ("a rejected span counts too", True, True, "reject", False, True),
    ("an ignore says nothing about a span", True, True, "ignore", False, False),
    ("another question of the text is out", True, True, "accept", True, False),
    ("the gate is closed", True, False, "accept", False, False),
    ("completion questions are off", False, True, "accept", False, False),
]


@pytest.mark.parametrize(
    ("case", "on", "trusted", "answer", "other_out", "due"), DUE, ids=[row[0] for row in DUE]
)
def test_a_completion_question_is_due_when_nothing_of_the_text_is_out(
    case, on, trusted, answer, other_out, due
):
    flow = Flow(completion=on, trusted=trusted)
    span = flow.offer(task(TEXT_A, IPHONE))[0]
    if other_out:
        flow.offer(task(TEXT_A, BOUGHT))
    d = flow.answer(span, answer)
    assert bool(d.then) is due
    if due:
        (question,) = d.then
        assert question["meta"]["completion"] and flow.front == [question]
        assert flow.q.completion_asked[TEXT_A] == question["_task_hash"]
        assert TEXT_A in flow.q.finished
        # asked once: another answer on the text asks nothing more
        flow.front.clear()
        assert not flow.answer(flow.offer(task(TEXT_A, BOUGHT))[0], "reject").then
    if other_out:
        assert TEXT_A in flow.q.open  # not finished while a question is out


def test_no_completion_question_for_a_text_already_complete():
    flow = Flow()
    span = flow.offer(task(TEXT_A, IPHONE))[0]
    _accepted(flow, task(TEXT_A, BOUGHT, whole=True))  # by another session, meanwhile
    assert not flow.answer(span, "accept").then


@pytest.mark.parametrize(
    ("model_accepts", "trusted"),
    [(qmod.COMPLETE_AFTER_MODEL_ACCEPTS - 1, False), (qmod.COMPLETE_AFTER_MODEL_ACCEPTS, True)],
)
def test_the_gate_opens_after_enough_accepted_model_spans(model_accepts, trusted):
    flow = Flow(trusted=False)
    for _ in range(model_accepts):
        flow.answer(flow.offer(task(TEXT_B, BOUGHT))[0], "accept")
    for _ in range(5):  # pattern matches do not open it
        flow.answer(flow.offer(task(TEXT_B, BOUGHT, source="pattern"))[0], "accept")
    assert flow.q.proposals.trusted() is trusted
    assert (
        bool(flow.answer(flow.offer(task(TEXT_A, IPHONE, source="pattern"))[0], "accept").then)
        is trusted
    )


# -- what an undo or a change brings back ------------------------------------------------------


def _settled_group(flow: Flow) -> tuple[dict, dict, dict]:
    iphone, new_iphone, yesterday = flow.offer(
        task(TEXT_A, IPHONE), task(TEXT_A, NEW_IPHONE), task(TEXT_A, IPHONE_YESTERDAY)
    )
    assert flow.answer(iphone, "accept").aside == hashes([new_iphone, yesterday])
    return iphone, new_iphone, yesterday


@pytest.mark.parametrize("how", ["undo", "change to reject", "change to ignore"])
def test_taking_back_an_accept_asks_what_it_settled_again_first(how):
    flow = Flow(completion=False)
    iphone, new_iphone, yesterday = _settled_group(flow)
    d = flow.undo(iphone) if how == "undo" else flow.change(iphone, how.split()[-1])
    assert d.first == [new_iphone, yesterday]
    assert flow.front[:3] == (
        [iphone, new_iphone, yesterday] if how == "undo" else [new_iphone, yesterday]
    )
    assert not flow.q.record_of(TEXT_A).dropped


def test_changing_a_reject_to_accept_settles_and_bringing_back_skips_what_is_queued():
    flow = Flow(completion=False)
    iphone, new_iphone, yesterday = flow.offer(
        task(TEXT_A, IPHONE), task(TEXT_A, NEW_IPHONE), task(TEXT_A, IPHONE_YESTERDAY)
    )
    flow.answer(iphone, "reject")
    assert flow.change(iphone, "accept").aside == hashes([new_iphone, yesterday])
    flow.front.append(new_iphone)  # say, requeued by a closed widget meanwhile
    assert flow.change(iphone, "reject").first == [yesterday]


def test_a_question_another_accept_still_overlaps_waits_for_that_ones_undo():
    flow = Flow(completion=False)
    iphone, new_iphone, yesterday = flow.offer(
        task(TEXT_A, IPHONE), task(TEXT_A, NEW_IPHONE), task(TEXT_A, IPHONE_YESTERDAY)
    )
    _accepted(flow, task(TEXT_A, (35, 38)))  # "day" of "yesterday", by another session
    flow.answer(iphone, "accept")
    assert flow.undo(iphone).first == [new_iphone]  # "iPhone yesterday" still overlaps "day"
    assert hashes(flow.q.record_of(TEXT_A).dropped) == hashes([yesterday])


def test_undoing_a_whole_accept_asks_the_text_again_but_not_the_undone_one():
    flow = Flow(completion=False)
    whole, span = flow.offer(task(TEXT_A, IPHONE, whole=True), task(TEXT_A, BOUGHT))
    flow.answer(whole, "accept")
    assert flow.undo(whole).first == [span]
    assert flow.front == [whole, span]


# -- completion questions out of date --------------------------------------------------------


def _asked_completion(flow: Flow) -> tuple[dict, dict]:
    span = flow.offer(task(TEXT_A, IPHONE))[0]
    (question,) = flow.answer(span, "accept").then
    flow.front.remove(question)
    flow.offered[question["_task_hash"]] = question  # handed out, held by a front end
    return span, question


def test_undoing_an_answer_withdraws_its_texts_completion_question_and_refuses_it():
    flow = Flow()
    span, question = _asked_completion(flow)
    d = flow.undo(span)
    th = question["_task_hash"]
    assert d.withdrawn == [th] and th not in flow.offered
    assert flow.q.settled(question)  # front ends drop it
    assert flow.q.stale[th] == question  # its holder still has it
    assert flow.q.out_of_date(th)  # answering it is refused; the holder drops it
    assert flow.q.stale[th] is None
    assert not flow.q.out_of_date(span["_task_hash"])


@pytest.mark.parametrize(("held", "revived"), [(True, True), (False, False)])
def test_a_withdrawn_completion_question_fitting_the_new_answer_is_valid_again(held, revived):
    """Reject then accept again: the same question. Still held by its front end: handed out
    again (answering it is fine); dropped by it meanwhile: asked again."""
    flow = Flow()
    span, question = _asked_completion(flow)
    th = question["_task_hash"]
    flow.change(span, "reject")  # no accepted span: another question, withdrawn old one
    assert th in flow.q.stale
    if not held:
        flow.q.released(th)
    d = flow.change(span, "accept")
    assert hashes(d.revived) == ([th] if revived else [])
    assert hashes(d.then) == ([] if revived else [th])
    assert th not in flow.q.stale and not flow.q.settled(question)


def test_an_answered_completion_question_stands_after_an_undo_on_its_text():
    flow = Flow()
    span, question = _asked_completion(flow)
    flow.answer(question, "accept")
    assert flow.q.settled(task(TEXT_A, BOUGHT))  # the text is complete
    d = flow.undo(question)
    assert not d.withdrawn and d.first == []  # asked again first, as it is


# -- bounds -----------------------------------------------------------------------------------


def test_questions_handed_aside_are_bounded_oldest_first(monkeypatch):
    monkeypatch.setattr(qmod, "MAX_HANDED_ASIDE", 3)
    flow = Flow(completion=False)
    aside = []
    for ih in range(10, 15):
        iphone, new_iphone = flow.offer(task(ih, IPHONE), task(ih, NEW_IPHONE))
        flow.answer(iphone, "accept")
        aside.append(new_iphone)
    assert hashes(flow.q.handed_aside) == hashes(aside[-3:])
    assert flow.q.held_aside(aside[0]["_task_hash"]) is None


def test_open_and_finished_texts_are_bounded_oldest_first(monkeypatch):
    monkeypatch.setattr(qmod, "MAX_OPEN_TEXTS", 4)
    monkeypatch.setattr(qmod, "MAX_FINISHED_TEXTS", 2)
    flow = Flow(completion=False)
    spans = [flow.offer(task(ih, IPHONE))[0] for ih in range(10, 16)]
    assert list(flow.q.open) == [12, 13, 14, 15]
    for t in spans[2:]:
        flow.answer(t, "reject")
    assert list(flow.q.open) == [] and list(flow.q.finished) == [14, 15]


def test_the_model_asks_at_most_three_span_questions_a_text():
    flow = Flow(completion=False)
    assert flow.q.model_budget(TEXT_A) == qmod.MAX_MODEL_QUESTIONS == 3
    flow.offer(
        task(TEXT_A, IPHONE),
        task(TEXT_A, BOUGHT, source="pattern"),
        task(TEXT_A, NEW_IPHONE, whole=True),
    )
    assert flow.q.model_budget(TEXT_A) == 2  # pattern matches and whole questions are free
    flow.offer(task(TEXT_A, (0, 1)), task(TEXT_A, (2, 3)))
    assert flow.q.model_budget(TEXT_A) == 0 and flow.q.model_budget(TEXT_B) == 3
