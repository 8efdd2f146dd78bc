"""Kernel side of the annotation widget: message handling against a real teach session.

The front end's messages are played with ``send`` (one wrapper around ipywidgets' private
``_handle_custom_msg``); what the front end would show is read from the synced traits; what is
stored is read back from the DuckDB file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pytest
from gadgets import gadget_texts, open_completion_gate, oracle, trained_gadget_model
from widget_helpers import send, wait_for

import nbannotate as nba
from nbannotate import store
from nbannotate.widget import STATIC, AnnotationWidget

ROOT = Path(__file__).resolve().parents[1]

TEXTS = [
    f"I bought an iPhone {i} and a Pixel phone in Berlin for my sister, number {i}."
    for i in range(12)
]
PATTERNS = [
    {"label": "PRODUCT", "pattern": [{"lower": "iphone"}]},
    {"label": "PRODUCT", "pattern": [{"lower": "pixel"}]},
]


def stored_answers(db_path: Path) -> list[tuple[int, str]]:
    """(task_hash, answer) rows in the DuckDB file, oldest first, read with a fresh connection."""
    store.close_all()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute("SELECT task_hash, answer FROM answers ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "answers.duckdb"


@pytest.fixture
def session(db_path: Path):
    s = nba.teach(
        "gadgets",
        list(TEXTS),
        model="blank:en",
        labels=["PRODUCT"],
        patterns=PATTERNS,
        db=db_path,
        batch_size=3,
    )
    yield s
    s.stop()
    store.close_all()


@pytest.fixture
def widget(session):
    w = AnnotationWidget(session, queue_size=4)
    wait_for(lambda: len(w.queue) == 4, what="the queue to fill")
    yield w
    w.close()


def hashes(w: AnnotationWidget) -> list[str]:
    return [t["task_hash"] for t in w.queue]


def test_queue_holds_view_tasks_with_string_hashes(widget, session):
    assert widget.status == "ready"
    assert widget.dataset == "gadgets" and widget.labels == ["PRODUCT"]
    for task in widget.queue:
        assert isinstance(task["task_hash"], str)  # 64-bit: a JS number would round it
        assert int(task["task_hash"]) in {t["_task_hash"] for t in session.outstanding()}
        span = task["spans"][0]
        assert task["text"] in TEXTS or any(task["text"] in t for t in TEXTS)
        assert span["label"] == "PRODUCT" and span["source"] in ("model", "pattern")
        assert span["score"] is None or 0.0 <= span["score"] <= 1.0  # None: none to show
    json.dumps(widget.queue)  # everything is JSON for the comm
    assert widget.progress["session"]["total"] == 0


def test_answer_is_stored_acknowledged_and_the_queue_topped_up(widget, db_path):
    first = widget.queue[0]
    send(widget, "answer", task_hash=first["task_hash"], answer="accept")
    assert first["task_hash"] not in hashes(widget)
    assert widget.acks["test-client"] == 1
    assert widget.history[0]["task_hash"] == first["task_hash"]
    assert widget.history[0]["answer"] == "accept"
    assert widget.progress["session"]["accept"] == 1
    assert widget.notice == ""
    wait_for(lambda: len(widget.queue) == 4, what="the refill")
    assert stored_answers(db_path) == [(int(first["task_hash"]), "accept")]


def test_accept_reject_ignore_undo_store_exactly_the_right_answers(widget, session, db_path):
    a, x, space = widget.queue[:3]
    send(widget, "answer", task_hash=a["task_hash"], answer="accept")
    send(widget, "answer", task_hash=x["task_hash"], answer="reject")
    send(widget, "answer", task_hash=space["task_hash"], answer="ignore")
    send(widget, "undo")
    assert widget.queue[0]["task_hash"] == space["task_hash"]  # the undone task, first
    assert [h["answer"] for h in widget.history] == ["reject", "accept"]
    # the session also offers the undone task again: it must not show up twice
    time.sleep(0.3)
    assert hashes(widget).count(space["task_hash"]) == 1
    assert stored_answers(db_path) == [
        (int(a["task_hash"]), "accept"),
        (int(x["task_hash"]), "reject"),
    ]


def test_operations_are_carried_out_in_the_order_the_view_sent_them(widget, db_path):
    """The transport may deliver a view's messages out of order (with ipykernel 7, some through
    the main shell and some through a subshell: two threads). An undo must still
    undo the view's last answer: here the reject (2) arrives after the ignore (3), as it did in
    a CI run where the undo then took back the reject instead of the ignore."""
    a, x, space = widget.queue[:3]
    send(widget, "answer", task_hash=a["task_hash"], answer="accept", seq=1)
    send(widget, "answer", task_hash=space["task_hash"], answer="ignore", seq=3)
    assert widget.acks["test-client"] == 1  # 3 waits for 2
    assert [(h["task_hash"], h["answer"]) for h in widget.history] == [(a["task_hash"], "accept")]
    send(widget, "undo", client="another-view", seq=1)  # other views do not wait for this one
    assert widget.acks["another-view"] == 1 and widget.notice == ""
    assert widget.history == []
    send(widget, "answer", task_hash=a["task_hash"], answer="accept", client="another-view", seq=2)
    send(widget, "answer", task_hash=x["task_hash"], answer="reject", seq=2)
    assert widget.acks["test-client"] == 3
    send(widget, "undo", seq=4)
    assert widget.queue[0]["task_hash"] == space["task_hash"]
    send(widget, "answer", task_hash=space["task_hash"], answer="accept", seq=5)
    send(widget, "answer", task_hash=space["task_hash"], answer="ignore", seq=3)  # resent
    assert widget.acks["test-client"] == 5 and widget.notice == ""
    assert [(h["task_hash"], h["answer"]) for h in widget.history] == [
        (space["task_hash"], "accept"),
        (x["task_hash"], "reject"),
        (a["task_hash"], "accept"),
    ]
    assert stored_answers(db_path) == [
        (int(a["task_hash"]), "accept"),
        (int(x["task_hash"]), "reject"),
        (int(space["task_hash"]), "accept"),
    ]


def test_a_view_open_for_long_keeps_working_while_other_views_come_and_go(widget, db_path):
    """Every re-render or reloaded page is a new front end. One that stays open must not be
    forgotten among them: its next operation would wait for numbers it sent long ago."""
    a, b = widget.queue[:2]
    send(widget, "answer", task_hash=a["task_hash"], answer="accept")
    for i in range(40):  # more front ends than the acks trait holds
        send(widget, "hello", client=f"view-{i}")  # numbered here, as their operations are
    send(widget, "answer", task_hash=b["task_hash"], answer="reject")
    assert widget.acks["test-client"] == 2
    assert len(widget.acks) <= 16  # the trait goes with every state update: it stays small
    assert stored_answers(db_path) == [
        (int(a["task_hash"]), "accept"),
        (int(b["task_hash"]), "reject"),
    ]


def test_a_completion_question_comes_right_after_the_card_on_screen(tmp_path, db_path):
    """Not behind the prefetched queue (the text is still in mind), and not in place of the
    card the person is looking at."""
    model = trained_gadget_model(tmp_path / "model")
    s = nba.teach(
        "complete",
        gadget_texts(40, seed=7),
        model=str(model),
        labels=["PRODUCT"],
        db=db_path,
        whole=None,
        complete=0.0,
        sorter="prefer_high_scores",
        split_sentences=False,
    )
    assert open_completion_gate(s) == 21  # from code: 20 spans, then the first completion
    w = AnnotationWidget(s, queue_size=5)
    try:
        wait_for(lambda: len(w.queue) == 5, what="the queue to fill")
        first = w.queue[0]
        assert not first["meta"].get("completion")
        while w.queue[0]["text"] == first["text"]:  # every question on the first text
            task = w.queue[0]
            send(w, "answer", task_hash=task["task_hash"], answer=oracle(task))
        on_screen = w.queue[0]["task_hash"]
        wait_for(
            lambda: any(t["meta"].get("completion") for t in w.queue),
            what="the completion question",
        )
        assert w.queue[0]["task_hash"] == on_screen
        question = w.queue[1]
        assert question["meta"].get("completion") and question["text"] == first["text"]
        assert [sp["label"] for sp in question["spans"]] == ["PRODUCT"]
        send(w, "answer", task_hash=on_screen, answer=oracle(w.queue[0]))
        assert w.queue[0]["task_hash"] == question["task_hash"]
        send(w, "answer", task_hash=question["task_hash"], answer="accept")
        assert w.history[0]["whole"] and w.history[0]["answer"] == "accept"
        assert all(t["text"] != first["text"] for t in w.queue)
    finally:
        w.close()
        s.stop()
    df = nba.Database(db_path).dataset("complete").to_pandas()
    row = df[df["task_hash"] == int(question["task_hash"])]
    assert list(row["answer"]) == ["accept"] and list(row["kind"]) == ["gold"]


def test_change_answer_from_the_history(widget, db_path):
    t = widget.queue[0]
    send(widget, "answer", task_hash=t["task_hash"], answer="accept")
    send(widget, "change", task_hash=t["task_hash"], answer="reject")
    assert widget.history[0]["answer"] == "reject"
    assert widget.progress["session"]["reject"] == 1
    assert widget.progress["session"]["accept"] == 0
    assert stored_answers(db_path) == [(int(t["task_hash"]), "reject")]


def test_a_task_is_never_answered_twice(widget, session, db_path):
    t = widget.queue[0]
    send(widget, "answer", task_hash=t["task_hash"], answer="accept", client="tab-1")
    send(widget, "answer", task_hash=t["task_hash"], answer="reject", client="tab-2")
    other = AnnotationWidget(session)
    send(other, "answer", task_hash=t["task_hash"], answer="ignore")
    other.close()
    assert stored_answers(db_path) == [(int(t["task_hash"]), "accept")]


def test_bad_messages_become_notices_and_store_nothing(widget, db_path):
    t = widget.queue[0]
    send(widget, "answer", task_hash=t["task_hash"], answer="maybe")
    assert "AnswerError" in widget.notice and "'maybe'" in widget.notice
    assert "accept, reject, ignore" in widget.notice
    send(widget, "answer", task_hash="12345", answer="accept")
    assert "AnswerError" in widget.notice and "12345" in widget.notice
    send(widget, "dance")
    assert widget.notice == "Unknown message type 'dance' from the front end."
    send(widget, "undo")
    assert widget.notice == "Nothing to undo."
    widget._handle_custom_msg("not a dict", [])  # ignored, no exception into the kernel
    assert hashes(widget)[0] == t["task_hash"]
    assert stored_answers(db_path) == []


def test_a_failure_released_with_a_later_operation_keeps_its_notice(widget, db_path):
    """An operation that arrived early waits for the one before it; when that one fails, both
    are carried out together and the failure must still be shown (the later, successful
    operation's empty notice used to overwrite it)."""
    t = widget.queue[0]
    send(widget, "answer", task_hash=t["task_hash"], answer="accept", seq=2)  # early: waits
    send(widget, "answer", task_hash="12345", answer="accept", seq=1)  # fails
    assert widget.acks["test-client"] == 2
    assert "AnswerError" in widget.notice and "12345" in widget.notice
    assert stored_answers(db_path) == [(int(t["task_hash"]), "accept")]


def test_the_reason_an_answer_failed_stays_until_its_task_is_answered(
    widget, session, db_path, monkeypatch
):
    """The store refuses an answer (a locked database): its task comes back with the reason.
    The next key, on the card the view showed meanwhile, is acknowledged a few ms later: that
    success must not wipe the reason before anyone could read it."""
    t1, t2, t3 = hashes(widget)[:3]
    add, failures = session.db_dataset.add, [OSError("database is locked (simulated)")]

    def flaky_add(*args, **kwargs):
        if failures:
            raise failures.pop()
        return add(*args, **kwargs)

    monkeypatch.setattr(session.db_dataset, "add", flaky_add)
    send(widget, "answer", task_hash=t1, answer="accept")
    assert widget.notice == "OSError: database is locked (simulated)"
    assert hashes(widget)[0] == t1  # back, first
    send(widget, "answer", task_hash=t2, answer="reject")  # the next key, sent before the reply
    assert widget.notice == "OSError: database is locked (simulated)"
    send(widget, "hello", client="reloaded-page")
    assert widget.notice == "OSError: database is locked (simulated)"
    send(widget, "answer", task_hash=t1, answer="accept")  # acting on the task that came back
    assert widget.notice == ""
    # A refusal whose task does not come back is cleared by the next key, as before.
    send(widget, "answer", task_hash="12345", answer="accept")
    assert "12345" in widget.notice
    send(widget, "answer", task_hash=t3, answer="ignore")
    assert widget.notice == ""
    assert stored_answers(db_path) == [
        (int(t2), "reject"),
        (int(t1), "accept"),
        (int(t3), "ignore"),
    ]


def test_an_answer_undone_from_a_cell_comes_back_after_the_card_on_screen(widget, session, db_path):
    """session.undo() in another cell, of an answer given in the widget: the task is offered
    again, and the widget must show it (it used to drop it as answered, for good). Next, not
    first: it arrives with the refill just after a key press and would replace the card the
    annotator has just started reading."""
    first = hashes(widget)[0]
    send(widget, "answer", task_hash=first, answer="reject")
    wait_for(lambda: len(widget.queue) == 4, what="the refill")
    undone = session.undo()  # in another cell
    assert str(undone["_task_hash"]) == first
    wait_for(lambda: widget.history == [], what="the undo to reach the view")
    # The queue is full: the task comes with the next refill, right after the card on screen.
    second, on_screen = hashes(widget)[:2]
    send(widget, "answer", task_hash=second, answer="reject")
    wait_for(lambda: first in hashes(widget), what="the undone task in the widget")
    assert hashes(widget)[:2] == [on_screen, first]
    assert hashes(widget).count(first) == 1
    send(widget, "answer", task_hash=first, answer="ignore")
    assert widget.notice == ""
    assert stored_answers(db_path) == [(int(second), "reject"), (int(first), "ignore")]


def test_a_card_answered_from_a_cell_leaves_the_widget(widget, session, db_path):
    """session.answer(task_hash, ...) in another cell, of a card the widget holds: the card
    leaves the widget while it is idle (a key press on it would only be refused)."""
    card = hashes(widget)[0]
    session.answer(int(card), "reject")  # in another cell
    wait_for(lambda: card not in hashes(widget), what="the answered card to leave")
    assert [h["task_hash"] for h in widget.history] == [card]
    wait_for(lambda: len(widget.queue) == 4, what="the refill")
    held = {t["_task_hash"] for t in session.outstanding()}
    assert held == {int(h) for h in hashes(widget)}  # none lost, none held twice
    send(widget, "answer", task_hash=hashes(widget)[0], answer="ignore")
    assert widget.notice == ""
    assert stored_answers(db_path)[0] == (int(card), "reject")


def test_redisplay_carries_on_with_the_same_outstanding_tasks(widget, session, db_path):
    before = hashes(widget)
    again = AnnotationWidget(session, queue_size=4)  # the user displays the session again
    assert hashes(again) == before
    send(again, "answer", task_hash=before[0], answer="reject")
    assert before[0] not in hashes(widget)  # gone from every view
    wait_for(lambda: len(widget.queue) == 4 and hashes(again) == hashes(widget), what="sync")
    again.close()
    # every task handed out and not answered is still outstanding: none lost
    outstanding = {int(h) for h in hashes(widget)}
    assert outstanding == {t["_task_hash"] for t in session.outstanding()}
    assert stored_answers(db_path) == [(int(before[0]), "reject")]


def test_closing_the_last_view_gives_its_tasks_back_to_the_session(session):
    w = AnnotationWidget(session, queue_size=3)
    wait_for(lambda: len(w.queue) == 3, what="the queue")
    held = [int(h) for h in hashes(w)]
    w.close()
    again = [session.next_task(timeout=5)["_task_hash"] for _ in held]
    assert again == held


def test_the_stream_runs_dry_then_says_no_more_tasks(db_path):
    s = nba.teach(
        "tiny",
        ["Apple makes the iPhone."],
        model="blank:en",
        labels=["PRODUCT"],
        patterns=PATTERNS,
        db=db_path,
        sorter="none",
    )
    try:
        w = AnnotationWidget(s)
        wait_for(lambda: w.status != "loading", what="the first task")
        while w.queue:
            send(w, "answer", task_hash=w.queue[0]["task_hash"], answer="reject")
        wait_for(lambda: w.status == "done", what="status done")
        assert w.queue == [] and w.error == ""
        # an undo after the end brings the task back
        send(w, "undo")
        assert w.status == "ready" and len(w.queue) == 1
        w.close()
    finally:
        s.stop()


def test_a_background_error_is_shown_with_its_message(db_path):
    def feed():  # a lazy source that fails after its first text
        yield "I love my iPhone."
        raise OSError("the network share went away")

    s = nba.teach(
        "broken",
        feed(),
        model="blank:en",
        labels=["PRODUCT"],
        patterns=PATTERNS,
        db=db_path,
        sorter="none",
    )
    try:
        w = AnnotationWidget(s)
        wait_for(lambda: w.error, what="the error")
        assert w.error == "OSError: the network share went away"
        while w.queue:  # tasks scored before the error stay answerable
            send(w, "answer", task_hash=w.queue[0]["task_hash"], answer="accept")
        assert w.status == "error"
        w.close()
    finally:
        s.stop()


class SlowSession:
    """A session whose scorer is busy: next_task blocks as long as it is allowed to."""

    dataset, labels = "slow", ["X"]
    progress = {"session": {}, "dataset": {}, "exhausted": False}
    error = None

    def __init__(self) -> None:
        self.calls: list[float | None] = []
        self.threads: list[int] = []

    def next_task(self, timeout=None):
        self.calls.append(timeout)
        self.threads.append(threading.get_ident())
        time.sleep(timeout if timeout is not None else 3600)
        return None

    def answer(self, task, answer):
        raise AssertionError("not reached")

    def undo(self):
        return None

    def change_answer(self, task_hash, answer):
        raise AssertionError("not reached")

    def history(self, n=20):
        return []


def test_the_comm_handler_never_waits_for_scoring():
    s = SlowSession()
    t0 = time.perf_counter()
    w = AnnotationWidget(s)
    send(w, "hello")
    send(w, "undo")
    elapsed = time.perf_counter() - t0
    # A handler that waited for next_task would take an hour (SlowSession never returns a
    # task); the bound is generous so that a loaded machine does not matter.
    assert elapsed < 30, f"widget blocked the kernel for {elapsed:.2f}s"
    assert w.status == "loading" and w.queue == []
    wait_for(lambda: s.calls, what="the refill thread to ask")
    assert all(c is not None and c <= 1.0 for c in s.calls)  # bounded waits
    assert threading.get_ident() not in s.threads  # never on the thread handling messages
    assert threading.current_thread() is threading.main_thread()
    w.close()


class StoppedSession(SlowSession):
    """A stopped session: next_task returns None at once, and the stream is not over."""

    def next_task(self, timeout=None):
        self.calls.append(timeout)
        return None


def test_a_stopped_session_does_not_make_the_widget_spin():
    s = StoppedSession()
    w = AnnotationWidget(s)
    wait_for(lambda: s.calls, what="the refill thread to ask")
    first = len(s.calls)
    time.sleep(1.0)  # a spinning refill thread calls next_task thousands of times in this
    w.close()
    calls = len(s.calls) - first
    assert calls <= 4, f"next_task was called {calls} times in 1 s"
    assert w.status == "loading"


def test_only_a_session_is_accepted(session):
    with pytest.raises(TypeError, match="needs a teach session.*lacks next_task"):
        AnnotationWidget(object())
    with pytest.raises(ValueError, match="queue_size must be an int from 1 to 50"):
        AnnotationWidget(session, queue_size=0)


def test_displaying_a_session_shows_the_widget(session):
    bundle = session._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data


def test_session_widget_gives_a_widget_object_for_hosts_such_as_marimo(session, db_path):
    """marimo takes a widget, not a displayed session: ``mo.ui.anywidget(session)`` failed
    ("'TeachSession' object has no attribute 'comm'")."""
    w = session.widget(queue_size=2)
    try:
        assert isinstance(w, AnnotationWidget) and w.session is session
        wait_for(lambda: len(w.queue) == 2, what="two tasks held")
        other = session.widget()
        assert other.queue == w.queue  # every widget of a session shares its tasks
        th = w.queue[0]["task_hash"]
        send(w, "answer", task_hash=th, answer="accept")
        assert th not in [t["task_hash"] for t in other.queue]
        other.close()
    finally:
        w.close()
    with pytest.raises(ValueError, match="queue_size must be an int from 1 to 50"):
        session.widget(queue_size=0)
    assert stored_answers(db_path) == [(int(th), "accept")]


def test_esm_and_css_are_the_bundled_files_in_the_package():
    assert str(AnnotationWidget._esm) == (STATIC / "widget.js").read_text()
    assert str(AnnotationWidget._css) == (STATIC / "widget.css").read_text()
    assert "data-lm-suppress-shortcuts" in str(AnnotationWidget._esm)


def test_committed_bundle_equals_a_fresh_build(tmp_path):
    """nbannotate/static/ must be rebuilt (npm run build) whenever js/ changes."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so the bundle cannot be rebuilt to compare")
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    assert esbuild.exists(), "node_modules is missing: run `npm ci` at the repository root"
    scripts = json.loads((ROOT / "package.json").read_text())["scripts"]
    cmd = scripts["build"].replace("--outdir=nbannotate/static", f"--outdir={tmp_path}")
    assert cmd != scripts["build"]
    subprocess.run(
        cmd.replace("esbuild", str(esbuild), 1), shell=True, cwd=ROOT, check=True, timeout=60
    )
    for name in ("widget.js", "widget.css"):
        fresh = (tmp_path / name).read_text()
        committed = (STATIC / name).read_text()
        assert committed == fresh, f"nbannotate/static/{name} is stale: run `npm run build`"


def test_a_closed_or_replaced_session_says_so_in_its_widget(widget, session, db_path):
    """After session.close(), or a re-run cell's new session taking over, the old widget must
    not look ready: it shows why, offers no task, and an answer from it stores nothing."""
    held = widget.queue[0]
    newer = nba.teach(
        "gadgets",
        list(TEXTS),
        model="blank:en",
        labels=["PRODUCT"],
        patterns=PATTERNS,
        db=db_path,
        batch_size=3,
    )
    try:
        wait_for(lambda: widget.status == "closed", what="the widget to show the session closed")
        assert widget.queue == []
        assert "took over" in widget.error and "use the newest widget" in widget.error
        send(widget, "answer", task_hash=held["task_hash"], answer="accept")
        # refused, and the reason stays in the closed banner (error) alone: not twice on screen
        assert widget.status == "closed" and "took over" in widget.error
        assert widget.notice == ""
    finally:
        newer.close()
    assert stored_answers(db_path) == []
    fresh = nba.teach(
        "other", list(TEXTS), model="blank:en", labels=["PRODUCT"], patterns=PATTERNS, db=db_path
    )
    w = AnnotationWidget(fresh, queue_size=2)
    try:
        wait_for(lambda: len(w.queue) == 2, what="the queue to fill")
        fresh.close()
        wait_for(lambda: w.status == "closed", what="the widget to show the session closed")
        assert "session.close()" in w.error and w.progress["dataset"] is None
    finally:
        w.close()


def test_changing_a_whole_analysis_to_accept_drops_its_texts_other_cards(tmp_path, db_path):
    """From the history: a rejected whole analysis changed to accept completes its text, so the
    text's span questions the widget holds leave the queue (they would be refused)."""
    model = trained_gadget_model(tmp_path / "model")
    s = nba.teach(
        "w",
        gadget_texts(100),
        model=str(model),
        labels=["PRODUCT"],
        db=db_path,
        split_sentences=False,
        complete=None,
    )
    w = AnnotationWidget(s, queue_size=8)
    try:
        wait_for(lambda: len(w.queue) >= 8, timeout=60, what="the queue to fill")
        queue = list(w.queue)
        whole = next(
            t
            for t in queue
            if t["meta"].get("whole")
            and any(
                o["input_hash"] == t["input_hash"] and not o["meta"].get("whole") for o in queue
            )
        )
        for t in queue[: queue.index(whole)]:
            send(w, "answer", task_hash=t["task_hash"], answer="ignore")
        send(w, "answer", task_hash=whole["task_hash"], answer="reject")
        assert any(t["input_hash"] == whole["input_hash"] for t in w.queue)
        send(w, "change", task_hash=whole["task_hash"], answer="accept")
        assert not any(t["input_hash"] == whole["input_hash"] for t in w.queue)
        assert w.notice == ""
    finally:
        w.close()
        s.close()
