"""Questions whose answer is already known: entities do not overlap, so once a span is accepted
on a text, no span overlapping it (of any label) is asked about; undoing the accept asks them."""

from __future__ import annotations

import pytest
from widget_helpers import send, wait_for

import nbannotate as nba
from nbannotate import store
from nbannotate.candidates import overlap_order
from nbannotate.errors import AnswerError
from nbannotate.widget import AnnotationWidget

TEXTS = [f"We moved to New York City in {2000 + i} with the kids ." for i in range(20)]
# Four overlapping pattern matches per text; only "New York City" is right.
CLUSTER = ("New York City", "New York", "York City", "York")
PATTERNS = [{"label": "LOC", "pattern": p} for p in CLUSTER]


def span_text(task: dict) -> str:
    (span,) = task["spans"]
    return task["text"][span["start"] : span["end"]]


def overlaps(a: dict, b: dict) -> bool:
    (x,), (y,) = a["spans"], b["spans"]
    return x["start"] < y["end"] and y["start"] < x["end"]


def oracle(task: dict) -> str:
    return "accept" if span_text(task) == "New York City" else "reject"


@pytest.fixture
def session(db_path):
    s = nba.teach(
        "cities",
        list(TEXTS),
        "blank:en",
        ["LOC"],
        PATTERNS,
        db=db_path,
        split_sentences=False,
        whole=None,
        complete=None,
        batch_size=1000,
    )
    yield s
    s.close()
    store.close_all()


def test_after_an_accept_no_overlapping_span_of_its_text_is_asked(session):
    asked: dict[str, list[dict]] = {}
    for _ in range(200):
        task = session.next_task(timeout=30)
        if task is None:
            break
        stored = session.answer(task, oracle(task))
        asked.setdefault(task["text"], []).append(stored)
    assert set(asked) == set(TEXTS), "the stream lost texts"
    skipped = 0
    for text, tasks in asked.items():
        accepted = [i for i, t in enumerate(tasks) if t["answer"] == "accept"]
        assert [span_text(tasks[i]) for i in accepted] == ["New York City"], text
        later = tasks[accepted[0] + 1 :]
        assert not any(overlaps(t, tasks[accepted[0]]) for t in later), (
            f"asked about {[span_text(t) for t in later]} after accepting New York City"
        )
        skipped += len(set(CLUSTER) - {span_text(t) for t in tasks})
    # Without this, every text costs four questions on these spans; here some are never asked.
    assert skipped > 0
    assert session.progress["session"]["total"] == sum(len(t) for t in asked.values())


def hold_first_text(session) -> tuple[dict, list[dict], int]:
    """Take the first text's questions without answering them (as a widget holds its queue),
    answering any model candidate outside the group: ("New York City", the other three,
    answers given)."""
    held, given = [], 0
    while len(held) < len(CLUSTER):
        task = session.next_task(timeout=30)
        assert task["text"] == TEXTS[0], "the first text's questions come first"
        if span_text(task) in CLUSTER:
            held.append(task)
        else:
            session.answer(task, "reject")
            given += 1
    right = next(t for t in held if span_text(t) == "New York City")
    return right, [t for t in held if t is not right], given


def test_a_held_question_an_accept_settled_is_stored_when_answered(session, db_path):
    """A batch taken with next_tasks() and then answered one by one: the questions an accept
    settled meanwhile leave the handed-out ones, but an answer given to one is stored."""
    right, others, given = hold_first_text(session)
    session.answer(right, "accept")
    assert not any(t["text"] == TEXTS[0] for t in session.outstanding())
    assert all(session.settled(t) for t in others)
    session.answer(others[0], "reject")  # as a dict
    session.answer(others[1]["_task_hash"], "reject")  # by hash
    rows = nba.Database(db_path).dataset("cities").to_pandas()
    assert list(rows.answer) == ["reject"] * given + ["accept", "reject", "reject"]
    assert session.progress["session"]["total"] == given + 3
    undone = session.undo()  # the last reject: it is still settled, so the headless caller
    assert undone["_task_hash"] == others[1]["_task_hash"]  # answers what undo() returned
    assert session.answer(undone, "ignore")["answer"] == "ignore"


def test_undoing_the_accept_asks_the_overlapping_questions_again(session):
    right, others, _ = hold_first_text(session)
    session.answer(right, "accept")
    assert session.undo()["_task_hash"] == right["_task_hash"]
    again = session.next_task(timeout=30)
    assert again["_task_hash"] == right["_task_hash"]  # the undone question comes first
    session.answer(again, "reject")  # the annotator changed their mind
    back = [session.next_task(timeout=30) for _ in others]
    assert sorted(t["_task_hash"] for t in back) == sorted(t["_task_hash"] for t in others)
    for task in back:
        assert session.answer(task, "reject")["answer"] == "reject"


def test_changing_the_accept_asks_them_and_changing_back_drops_them(session):
    right, others, given = hold_first_text(session)
    session.answer(right, "accept")
    session.change_answer(right["_task_hash"], "reject")
    back = [session.next_task(timeout=30) for _ in others]
    assert sorted(t["_task_hash"] for t in back) == sorted(t["_task_hash"] for t in others)
    # Held again, then the span is accepted again: they need no answer.
    session.change_answer(right["_task_hash"], "accept")
    assert all(session.settled(t) for t in back)
    assert not any(t["text"] == TEXTS[0] for t in session.outstanding())
    assert session.next_task(timeout=30)["text"] != TEXTS[0]
    assert session.answer(back[0], "reject")["answer"] == "reject"  # held: stored if answered
    assert session.progress["session"]["total"] == given + 2


def test_the_widget_drops_the_cards_an_accept_overlaps(session, db_path):
    w = AnnotationWidget(session, queue_size=8)
    try:
        wait_for(lambda: len(w.queue) >= 8, timeout=60, what="the queue to fill")
        first = [t for t in w.queue if t["text"] == TEXTS[0] and span_text(t) in CLUSTER]
        assert len(first) == len(CLUSTER)
        right = next(t for t in first if span_text(t) == "New York City")

        def held_overlapping() -> list[dict]:
            return [t for t in w.queue if t["text"] == TEXTS[0] and overlaps(t, right)]

        send(w, "answer", task_hash=right["task_hash"], answer="accept")
        assert held_overlapping() == []
        assert w.notice == ""
        rows = nba.Database(db_path).dataset("cities").to_pandas()
        assert list(rows.answer) == ["accept"]
        wait_for(lambda: len(w.queue) >= 8, timeout=60, what="the refill")
        assert held_overlapping() == []
    finally:
        w.close()


def test_overlapping_candidates_come_most_probable_first_in_text_order():
    value = {
        (0, 2, "PER"): 0.3,
        (1, 2, "PER"): 0.6,
        (1, 2, "ORG"): 0.1,  # one group
        (3, 4, "LOC"): 0.2,  # alone: ends where the next starts
        (4, 6, "ORG"): 0.9,
        (5, 7, "ORG"): 0.95,  # a second group
        (8, 9, "PER"): 0.1,
    }
    order = [key for key, _ in overlap_order({k: (v, "model") for k, v in value.items()})]
    assert order == [
        (1, 2, "PER"),
        (0, 2, "PER"),
        (1, 2, "ORG"),
        (3, 4, "LOC"),
        (5, 7, "ORG"),
        (4, 6, "ORG"),
        (8, 9, "PER"),
    ]
    # Chained overlaps are one group; equal scores keep text order.
    chain = {(0, 2, "X"): (0.5,), (1, 3, "X"): (0.5,), (2, 4, "X"): (0.7,)}
    assert [k for k, _ in overlap_order(chain)] == [(2, 4, "X"), (0, 2, "X"), (1, 3, "X")]


def test_after_a_restart_the_questions_an_earlier_accept_overlaps_are_not_asked(db_path):
    def start():
        return nba.teach(
            "cities",
            list(TEXTS),
            "blank:en",
            ["LOC"],
            PATTERNS,
            db=db_path,
            split_sentences=False,
            whole=None,
            complete=None,
            batch_size=1000,
        )

    first = start()
    right, others, _ = hold_first_text(first)
    first.answer(right, "accept")
    first.close()  # the kernel restarts with three questions of the text unanswered
    store.close_all()
    second = start()
    try:
        asked = second.next_tasks(500, timeout=30)  # all of them: the stream ends
    finally:
        second.close()
    assert {t["text"] for t in asked} >= set(TEXTS[1:])  # the others are asked as usual
    assert not [span_text(t) for t in asked if t["text"] == TEXTS[0] and overlaps(t, right)]


def test_a_card_settled_while_the_widget_fetched_it_is_not_shown(session):
    """The widget's refill thread takes a task from the session just as an accept settles it:
    the card is not shown, and undoing the accept asks it again."""
    w = AnnotationWidget(session, queue_size=1)
    try:
        wait_for(lambda: len(w.queue) == 1, timeout=60, what="the first card")
        right, others, _ = hold_first_text(session)  # as the refill thread would, in flight
        session.answer(right, "accept")
        feed = w._feed  # the session's task feed, shared by its widgets
        with feed.lock:
            for task in others:
                feed._add(task)  # what the refill thread does with what it fetched
            feed.publish()
        assert not any(
            t["text"] == TEXTS[0] and span_text(t) in CLUSTER and span_text(t) != "New York City"
            for t in w.queue
        )
        session.undo()
        again = session.next_tasks(len(CLUSTER), timeout=30)
        assert {t["_task_hash"] for t in again} == {t["_task_hash"] for t in [right, *others]}
    finally:
        w.close()


def test_undoing_an_accept_in_the_widget_shows_the_dropped_cards_again(session):
    """a then Backspace: the cards the accept dropped come back (as the queue frees up)."""
    w = AnnotationWidget(session, queue_size=8)
    try:
        wait_for(lambda: len(w.queue) >= 8, timeout=60, what="the queue to fill")
        first = [t["task_hash"] for t in w.queue if t["text"] == TEXTS[0]]
        right = next(
            t for t in w.queue if t["text"] == TEXTS[0] and span_text(t) == "New York City"
        )
        send(w, "answer", task_hash=right["task_hash"], answer="accept")
        dropped = [
            th
            for th in first
            if th not in [t["task_hash"] for t in w.queue] and th != right["task_hash"]
        ]
        assert dropped, "the accept dropped nothing"
        send(w, "undo")
        assert w.queue[0]["task_hash"] == right["task_hash"]
        send(w, "answer", task_hash=right["task_hash"], answer="reject")
        shown: set[str] = set()
        for _ in range(12):  # answer on; they come back as slots free up
            shown |= {t["task_hash"] for t in w.queue}
            if set(dropped) <= shown:
                break
            send(w, "answer", task_hash=w.queue[0]["task_hash"], answer="reject")
            wait_for(lambda: len(w.queue) >= 8, timeout=30, what="the refill")
        assert set(dropped) <= shown
        assert w.notice == ""
    finally:
        w.close()


def test_a_settled_question_never_handed_out_cannot_be_answered_by_hash(session):
    """Answering by hash works for questions this session handed out; one an accept settled
    before it was ever offered is unknown here, as any hash never offered."""
    right, others, _ = hold_first_text(session)
    session.answer(right, "accept")
    t = None
    while t is None or t["text"] != TEXTS[1] or span_text(t) != "New York City":
        t = session.next_task(timeout=30)  # the second text's "New York City"
    held = [u["_task_hash"] for u in session.outstanding() if u["text"] == TEXTS[1]]
    session.answer(t, "accept")
    for task in session.next_tasks(500, timeout=30):
        assert not (task["text"] == TEXTS[1] and overlaps(task, t))
    with pytest.raises(AnswerError, match="was offered"):
        session.answer(
            next(
                iter(
                    th
                    for th in _cluster_hashes(session, TEXTS[1])
                    if th not in held and th != t["_task_hash"]
                )
            ),
            "accept",
        )


def _cluster_hashes(session, text: str) -> list[int]:
    """Task hashes of the text's group questions, from a fresh scoring of it."""
    with session.model():  # the scorer is not thread-safe: hold the model lock, as the loop
        scored = session.scorer.score_texts([{"text": text}])[0]
    return [task["_task_hash"] for task in scored.tasks if span_text(task) in CLUSTER]
