"""Questions settled by an overlapping accept, with a trained model: completion questions,
changed answers, a model update in between, and a restart with another model."""

from __future__ import annotations

import threading

import pytest
from gadgets import trained_gadget_model

import nbannotate as nba
from nbannotate import questions as questions_module
from nbannotate import store

TEXTS = [f"I just bought the new iPhone yesterday . #{i}" for i in range(6)]
# The model proposes "iPhone" (p ~ 0.98); the patterns add "new iPhone" and "iPhone
# yesterday", which overlap it and each other: one group, "iPhone" first.
PATTERNS = [
    {"label": "PRODUCT", "pattern": "new iPhone"},
    {"label": "PRODUCT", "pattern": "iPhone yesterday"},
]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return trained_gadget_model(tmp_path_factory.mktemp("m") / "model", epochs=2)


@pytest.fixture
def gate_open(monkeypatch):
    """Completion questions from the first accepted model span (normally the 20th)."""
    monkeypatch.setattr(questions_module, "COMPLETE_AFTER_MODEL_ACCEPTS", 0)


def start(model, db_path, texts=TEXTS, complete=0.0, patterns=PATTERNS, **kw):
    return nba.teach(
        "gadgets",
        list(texts),
        str(model),
        ["PRODUCT"],
        patterns,
        db=db_path,
        split_sentences=False,
        whole=None,
        complete=complete,
        batch_size=1000,
        sorter=lambda score: score > 0.1,
        **kw,
    )


def span_text(task):
    (span,) = task["spans"]
    return task["text"][span["start"] : span["end"]]


def first_text(s):
    """The first text's three questions, in the order offered (handed out, unanswered)."""
    held = [s.next_task(timeout=30) for _ in range(3)]
    assert [span_text(t) for t in held] == ["iPhone", "new iPhone", "iPhone yesterday"]
    assert {t["text"] for t in held} == {TEXTS[0]}
    return held


def completions_of(tasks, text):
    return [t for t in tasks if t["meta"].get("completion") and t["text"] == text]


def test_changing_a_reject_to_accept_still_asks_the_completion_question(model, db_path, gate_open):
    """Rejecting "iPhone" and then changing that to accept (with the overlapping questions
    held, and settled by it) asks the text's completion question, as accepting it at once
    does."""
    s = start(model, db_path)
    try:
        a, b, c = first_text(s)
        s.answer(a, "reject")
        s.change_answer(a["_task_hash"], "accept")  # b and c are settled now
        assert s.outstanding() == []
        rest = s.next_tasks(100, timeout=60)
    finally:
        s.close()
        store.close_all()
    assert completions_of(rest, TEXTS[0]), "T0's completion question was never asked"


def test_an_accept_while_its_text_is_rescored_still_asks_the_completion_question(
    model, db_path, gate_open
):
    """A model update requeues T0 (its overlapping questions wait in the ready queue); the
    accept lands while T0 is being re-scored, which then offers nothing new: the completion
    question is made after that scoring."""
    s = start(model, db_path)
    release = threading.Event()
    score_texts = s.scorer.score_texts

    def slow(items, version=0):
        if version > 0:
            release.wait(30)
        return score_texts(items, version)

    s.scorer.score_texts = slow
    try:
        a, b = s.next_task(timeout=30), s.next_task(timeout=30)
        assert [span_text(a), span_text(b)] == ["iPhone", "new iPhone"]
        s.answer(b, "reject")  # something for the update to learn from
        s.update_model()  # _on_update requeues T0: "iPhone yesterday" waits in the ready queue
        s.answer(a, "accept")  # it is settled by this; T0 is being re-scored
        release.set()
        rest = s.next_tasks(100, timeout=60)
    finally:
        release.set()
        s.close()
        store.close_all()
    assert completions_of(rest, TEXTS[0]), "T0's completion question was never asked"


def test_after_changing_the_accept_back_an_accepted_overlapping_span_settles_the_others(
    model, db_path
):
    """Default settings, before completion questions start (the first 20 model accepts).
    Accept "iPhone" (the other two are settled, waiting in the ready queue), change it to
    reject, accept "new iPhone": "iPhone yesterday", which overlaps it, is not asked."""
    s = start(model, db_path, complete=0.5)
    try:
        a = s.next_task(timeout=30)
        assert span_text(a) == "iPhone"
        s.answer(a, "accept")
        s.change_answer(a["_task_hash"], "reject")
        b = s.next_task(timeout=30)
        assert span_text(b) == "new iPhone"
        s.answer(b, "accept")
        c = s.next_task(timeout=30)
    finally:
        s.close()
        store.close_all()
    assert c is None or c["text"] != TEXTS[0], (
        f"asked about {span_text(c)!r} after accepting 'new iPhone', which it overlaps"
    )


def test_changing_the_accept_after_the_completion_was_rejected_asks_the_others(
    model, db_path, gate_open
):
    """The README: "Undo or change that accept and they are asked again", also after the
    completion question that followed it was answered: accept "iPhone", reject the completion
    question, change "iPhone" to reject: "new iPhone" and "iPhone yesterday" are asked."""
    s = start(model, db_path)
    try:
        a, b, c = first_text(s)
        s.answer(a, "accept")
        q = s.next_task(timeout=30)
        assert q["meta"].get("completion") and q["text"] == TEXTS[0]
        s.answer(q, "reject")
        s.change_answer(a["_task_hash"], "reject")
        rest = s.next_tasks(100, timeout=60)
    finally:
        s.close()
        store.close_all()
    again = sorted(span_text(t) for t in rest if t["text"] == TEXTS[0])
    assert again == ["iPhone yesterday", "new iPhone"]


def test_after_a_restart_a_model_span_accepted_earlier_settles_the_overlapping_ones(model, db_path):
    """Run 1 accepts the model's "iPhone"; after a restart from blank:en with the same
    patterns (the usual resume: updates are in memory), "iPhone" is no candidate any more, and
    the overlapping pattern matches are still not asked."""
    first = start(model, db_path, complete=None)
    a, _b, _c = first_text(first)
    first.answer(a, "accept")
    first.close()
    store.close_all()
    second = start("blank:en", db_path, complete=None)
    try:
        asked = second.next_tasks(200, timeout=60)
    finally:
        second.close()
        store.close_all()
    again = [span_text(t) for t in asked if t["text"] == TEXTS[0]]
    assert not {"new iPhone", "iPhone yesterday"} & set(again), f"asked again: {again}"


def test_undo_then_the_same_accept_in_the_widget_shows_the_completion_question(
    model, db_path, gate_open
):
    """The undo withdraws the completion question (the widget drops it); accepting the span
    again makes the same question: the widget shows it again."""
    from widget_helpers import send, wait_for

    from nbannotate.widget import AnnotationWidget

    s = start(model, db_path)
    w = AnnotationWidget(s, queue_size=4)
    try:
        wait_for(lambda: len(w.queue) >= 4, timeout=60, what="the queue to fill")
        a = next(t for t in w.queue if t["text"] == TEXTS[0] and span_text(t) == "iPhone")
        send(w, "answer", task_hash=a["task_hash"], answer="accept")
        q = wait_for(
            lambda: next((t for t in w.queue if t["meta"].get("completion")), None),
            timeout=30,
            what="the completion question",
        )
        send(w, "undo")
        assert w.queue[0]["task_hash"] == a["task_hash"]
        assert q["task_hash"] not in [t["task_hash"] for t in w.queue]  # withdrawn
        send(w, "answer", task_hash=a["task_hash"], answer="accept")  # the same answer again
        wait_for(
            lambda: q["task_hash"] in [t["task_hash"] for t in w.queue],
            timeout=30,
            what="the completion question to come back",
        )
    finally:
        w.close()
        s.close()
        store.close_all()
