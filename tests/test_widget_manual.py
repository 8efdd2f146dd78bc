"""Kernel side of the widget's manual view: messages against real manual/correct sessions.

The front end's messages are played with ``send`` (ipywidgets' private ``_handle_custom_msg``,
wrapped once); what the front end would show is read from the synced traits; what is stored is
read back from the DuckDB file with a fresh connection.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pytest
import spacy
from spacy.training import Example
from widget_helpers import send, wait_for

import nbannotate as nba
from nbannotate import store
from nbannotate.widget import AnnotationWidget

TEXTS = [
    "My iPhone broke , so I bought a Pixel in Berlin .",
    "Apple Watch Series 9 is out .",
    "Visit Berlin\nor  Paris now .",
]
PATTERNS = [
    {"label": "PRODUCT", "pattern": [{"lower": "iphone"}]},
    {"label": "PRODUCT", "pattern": [{"lower": "pixel"}]},
]


def stored(db_path: Path, dataset: str = "gold") -> list[tuple]:
    """(task_hash, kind, view_id, answer, spans) per stored answer, through the store (the
    session keeps the file open; the DuckDB file itself is read in the accept test)."""
    ds = nba.Database(db_path).dataset(dataset)
    kinds = list(ds.to_pandas()["kind"]) if len(ds) else []
    return [
        (t["_task_hash"], k, t["_view_id"], t["answer"], t["spans"])
        for t, k in zip(ds.answers(), kinds)
    ]


def stored_in_file(db_path: Path) -> list[tuple]:
    """The same, read from the DuckDB file with a fresh connection (closes the session's)."""
    store.close_all()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT task_hash, kind, view_id, answer, task FROM answers ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    return [(h, k, v, a, json.loads(t)["spans"]) for h, k, v, a, t in rows]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "gold.duckdb"


@pytest.fixture
def session(db_path: Path):
    s = nba.manual(
        "gold",
        list(TEXTS),
        ["PRODUCT", "GPE"],
        patterns=PATTERNS,
        db=db_path,
        split_sentences=False,
    )
    yield s
    s.stop()
    store.close_all()


@pytest.fixture
def widget(session):
    w = AnnotationWidget(session, queue_size=3)
    wait_for(lambda: len(w.queue) == 3, what="the queue to fill")
    yield w
    w.close()


def test_manual_tasks_reach_the_front_end_as_tokens_spans_and_labels(widget):
    assert widget.mode == "manual" and widget.labels == ["PRODUCT", "GPE"]
    first = widget.queue[0]
    assert first["view_id"] == "ner_manual"
    assert isinstance(first["task_hash"], str)
    assert first["text"] == TEXTS[0] and first["labels"] == ["PRODUCT", "GPE"]
    words = [first["text"][s:e] for s, e in first["tokens"]]
    assert words == TEXTS[0].split(" ")
    # the patterns pre-highlight, with token offsets for the editor
    assert [
        (s["start"], s["end"], s["token_start"], s["token_end"], s["label"], s["source"])
        for s in first["spans"]
    ] == [(3, 9, 1, 1, "PRODUCT", "pattern"), (32, 37, 8, 8, "PRODUCT", "pattern")]
    third = widget.queue[2]
    assert [third["text"][s:e] for s, e in third["tokens"]] == [
        "Visit",
        "Berlin",
        "\n",
        "or",
        " ",
        "Paris",
        "now",
        ".",
    ]
    json.dumps(widget.queue)


def test_accept_stores_every_span_with_exact_char_and_token_offsets(widget, session, db_path):
    task = widget.queue[0]
    spans = [
        {"start": 3, "end": 9, "label": "PRODUCT"},
        {"start": 30, "end": 38, "label": "PRODUCT"},  # " a Pixel " -> "a Pixel"
        {"start": 41, "end": 48, "label": "GPE"},
    ]
    send(widget, "answer", task_hash=task["task_hash"], answer="accept", spans=spans)
    assert widget.notice == "" and widget.acks["test-client"] == 1
    assert task["task_hash"] not in [t["task_hash"] for t in widget.queue]
    assert widget.history[0]["manual"] is True
    assert widget.history[0]["spans"] == [
        {"text": "iPhone", "label": "PRODUCT"},
        {"text": "a Pixel", "label": "PRODUCT"},
        {"text": "Berlin", "label": "GPE"},
    ]
    assert widget.progress["session"]["accept"] == 1
    assert (
        stored(db_path)
        == stored_in_file(db_path)
        == [
            (
                int(task["task_hash"]),
                "gold",
                "ner_manual",
                "accept",
                [
                    {"start": 3, "end": 9, "token_start": 1, "token_end": 1, "label": "PRODUCT"},
                    {"start": 30, "end": 37, "token_start": 7, "token_end": 8, "label": "PRODUCT"},
                    {"start": 41, "end": 47, "token_start": 10, "token_end": 10, "label": "GPE"},
                ],
            )
        ]
    )


def test_overlapping_or_unknown_spans_are_refused_and_the_task_stays(widget, db_path):
    task = widget.queue[1]
    send(
        widget,
        "answer",
        task_hash=task["task_hash"],
        answer="accept",
        spans=[
            {"start": 0, "end": 11, "label": "PRODUCT"},
            {"start": 6, "end": 20, "label": "PRODUCT"},
        ],
    )
    assert "overlaps 'Apple Watch'" in widget.notice and "cannot overlap" in widget.notice
    assert task["task_hash"] in [t["task_hash"] for t in widget.queue]
    send(
        widget,
        "answer",
        task_hash=task["task_hash"],
        answer="accept",
        spans=[{"start": 0, "end": 5, "label": "ORG"}],
    )
    assert "Unknown label 'ORG'" in widget.notice
    send(widget, "answer", task_hash=task["task_hash"], answer="accept", spans="0-5")
    assert "'spans' must be a list" in widget.notice
    assert stored(db_path) == []
    # the annotator fixes it: the task can still be answered
    send(
        widget,
        "answer",
        task_hash=task["task_hash"],
        answer="accept",
        spans=[{"start": 0, "end": 20, "label": "PRODUCT"}],
    )
    assert widget.notice == ""
    assert [r[4] for r in stored(db_path)] == [
        [{"start": 0, "end": 20, "token_start": 0, "token_end": 3, "label": "PRODUCT"}]
    ]


def test_whitespace_and_line_breaks_snap_to_the_words(widget, db_path):
    task = widget.queue[2]  # "Visit Berlin\nor  Paris now ."
    send(
        widget,
        "answer",
        task_hash=task["task_hash"],
        answer="accept",
        spans=[
            {"start": 5, "end": 13, "label": "GPE"},  # " Berlin\n"
            {"start": 15, "end": 22, "label": "GPE"},
        ],
    )  # "  Paris"
    assert widget.notice == ""
    assert stored(db_path)[0][4] == [
        {"start": 6, "end": 12, "token_start": 1, "token_end": 1, "label": "GPE"},
        {"start": 17, "end": 22, "token_start": 5, "token_end": 5, "label": "GPE"},
    ]


def test_undo_brings_the_text_back_with_its_spans_and_change_answer_works(widget, session, db_path):
    task = widget.queue[0]
    th = task["task_hash"]
    spans = [{"start": 32, "end": 37, "label": "PRODUCT"}]
    send(widget, "answer", task_hash=th, answer="reject", spans=spans)
    send(widget, "undo")
    assert widget.queue[0]["task_hash"] == th
    assert [(s["start"], s["end"], s["token_start"]) for s in widget.queue[0]["spans"]] == [
        (32, 37, 8)
    ]
    assert stored(db_path) == [] and widget.progress["session"]["total"] == 0
    send(widget, "answer", task_hash=th, answer="accept", spans=spans)
    send(widget, "change", task_hash=th, answer="ignore")
    assert widget.history[0]["answer"] == "ignore"
    assert [(h, a) for h, _k, _v, a, _s in stored(db_path)] == [(int(th), "ignore")]
    assert widget.notice == ""


def test_end_of_source_then_undo_offers_the_text_again(widget, db_path):
    for task in list(widget.queue):
        send(widget, "answer", task_hash=task["task_hash"], answer="ignore", spans=[])
    wait_for(lambda: widget.status == "done", what="status done")
    assert widget.progress["exhausted"] is True
    send(widget, "undo")
    assert widget.status == "ready" and widget.queue[0]["text"] == TEXTS[2]
    assert len(stored(db_path)) == 2


def test_closing_the_widget_gives_the_texts_back_and_displaying_shows_manual_view(session):
    w = AnnotationWidget(session, queue_size=2)
    wait_for(lambda: len(w.queue) == 2, what="the queue to fill")
    held = [t["task_hash"] for t in w.queue]
    w.close()
    assert session.outstanding() == []
    assert [str(session.next_task()["_task_hash"]) for _ in held] == held
    bundle = session._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle[0]


def test_an_answer_to_a_closed_session_is_refused_without_a_second_copy_of_the_reason(
    widget, session, db_path
):
    """The closed banner (status "closed", error) says why; the refused answer's notice used
    to say it again under it."""
    th = widget.queue[0]["task_hash"]
    session.close()
    send(widget, "answer", task_hash=th, answer="accept", spans=[])
    assert widget.status == "closed" and "session.close()" in widget.error
    assert widget.notice == ""
    assert stored(db_path) == []


@pytest.fixture(scope="module")
def product_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small NER model trained here that finds gadget names (for correct)."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    ner.add_label("PRODUCT")
    data = []
    for name in ("Pixel", "iPhone", "Kindle", "Galaxy"):
        for frame in ("I bought a {} yesterday .", "My {} broke .", "The new {} is great ."):
            text = frame.format(name)
            start = text.index(name)
            data.append((text, [(start, start + len(name), "PRODUCT")]))
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in data]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(30):
        rng.shuffle(examples)
        nlp.update(examples, sgd=optimizer, drop=0.1)
    path = tmp_path_factory.mktemp("model") / "product"
    nlp.to_disk(path)
    return str(path)


def test_correct_shows_the_models_entities_and_stores_the_corrections(product_model, db_path):
    s = nba.correct(
        "corr",
        ["I bought a Pixel yesterday ."],
        product_model,
        ["PRODUCT"],
        db=db_path,
        update=True,
        batch_size=1,
    )
    w = AnnotationWidget(s)
    try:
        wait_for(lambda: w.queue, what="a task")
        task = w.queue[0]
        assert w.mode == "manual" and task["view_id"] == "ner_manual"
        assert [(s_["start"], s_["end"], s_["label"], s_["source"]) for s_ in task["spans"]] == [
            (11, 16, "PRODUCT", "model")
        ]
        # the annotator widens it to "a Pixel" and accepts
        send(
            w,
            "answer",
            task_hash=task["task_hash"],
            answer="accept",
            spans=[{"start": 9, "end": 16, "label": "PRODUCT"}],
        )
        assert w.notice == ""
        s.updater.flush()
        assert s.progress["updates"] == 1
        assert stored(db_path, "corr")[0][4] == [
            {"start": 9, "end": 16, "token_start": 2, "token_end": 3, "label": "PRODUCT"}
        ]
    finally:
        w.close()
        s.stop()
        store.close_all()


def test_an_undone_text_answered_again_at_once_is_not_offered_a_third_time(widget, session):
    th = widget.queue[0]["task_hash"]
    send(widget, "answer", task_hash=th, answer="accept", spans=[])
    send(widget, "undo")  # the widget shows it again before the session re-offers it
    send(widget, "answer", task_hash=th, answer="reject", spans=[])
    again = session.next_task()  # what the refill thread would ask for next
    assert again is None or str(again["_task_hash"]) != th
    assert th not in [t["task_hash"] for t in widget.queue]
    assert str(th) not in {str(t["_task_hash"]) for t in session.outstanding()}
    assert [r["answer"] for r in session.history()] == ["reject"]
