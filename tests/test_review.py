"""nba.review, headless, on a real DuckDB file: the annotators' versions of each text, the
reviewer's choice stored as gold with its provenance, resume, bad input, and train()'s
preference for the reviewed annotation."""

from __future__ import annotations

from typing import Any

import pytest
import spacy
from widget_helpers import send, wait_for

import nbannotate as nba
from nbannotate.errors import AnswerError, ArgumentError, DatasetError
from nbannotate.examples import ExampleStats, merge_answers
from nbannotate.tasks import VIEW_MANUAL, doc_tokens, make_task
from nbannotate.training.corpus import _prepare
from nbannotate.widget import AnnotationWidget

NLP = spacy.blank("en")
IPHONE = "I bought an iPhone from Apple ."  # iPhone 12-18, Apple 24-29
PIXEL = "The Pixel is made by Google ."  # Pixel 4-9, Google 21-27
WATCH = "My Apple Watch broke ."  # Apple 3-8, Apple Watch 3-14
PLAIN = "Nothing to see here ."


def gold(text: str, spans: list[tuple[int, int, str]]) -> dict[str, Any]:
    doc = NLP.make_doc(text)
    out = []
    for s, e, label in spans:
        span = doc.char_span(s, e, label=label)
        assert span is not None, (text, s, e)
        out.append(
            {
                "start": s,
                "end": e,
                "token_start": span.start,
                "token_end": span.end - 1,
                "label": label,
            }
        )
    return make_task(text, doc_tokens(doc), out, view_id=VIEW_MANUAL)


def binary(text: str, span: tuple[int, int, str]) -> dict[str, Any]:
    doc = NLP.make_doc(text)
    s, e, label = span
    cs = doc.char_span(s, e, label=label)
    assert cs is not None
    spans = [
        {"start": s, "end": e, "token_start": cs.start, "token_end": cs.end - 1, "label": label}
    ]
    return make_task(text, doc_tokens(doc), spans)


def annotate(db: nba.Database, dataset: str, annotator: str | None, answers: list) -> list:
    ds = db.dataset(dataset, create=True)
    return [ds.add(task, answer=answer, annotator=annotator) for task, answer in answers]


@pytest.fixture
def two(db_path):
    """alice and bob, one dataset each: they agree on PLAIN and PIXEL, differ on IPHONE and
    WATCH."""
    db = nba.Database(db_path)
    alice = annotate(
        db,
        "ner_alice",
        "alice",
        [
            (gold(IPHONE, [(12, 18, "PRODUCT")]), "accept"),
            (gold(PIXEL, [(4, 9, "PRODUCT"), (21, 27, "ORG")]), "accept"),
            (gold(WATCH, [(3, 14, "PRODUCT")]), "accept"),
            (gold(PLAIN, []), "accept"),
        ],
    )
    bob = annotate(
        db,
        "ner_bob",
        "bob",
        [
            (gold(IPHONE, [(12, 18, "PRODUCT"), (24, 29, "ORG")]), "accept"),
            (gold(PIXEL, [(4, 9, "PRODUCT"), (21, 27, "ORG")]), "accept"),
            (gold(WATCH, [(3, 8, "ORG")]), "accept"),
            (gold(PLAIN, []), "accept"),
        ],
    )
    yield db, alice, bob
    db.close()


def stored(db: nba.Database, name: str) -> list[dict[str, Any]]:
    return db.dataset(name).answers()


def keys(spans) -> list[tuple[int, int, str]]:
    return [(s["start"], s["end"], s["label"]) for s in spans]


def test_conflicts_are_offered_with_each_version_and_the_choice_is_stored_as_gold(two):
    db, alice, bob = two
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db, annotator="rev")
    assert s.summary == {
        "texts": 4,
        "conflicts": 2,
        "agreed": 2,
        "single_annotator": 0,
        "already_reviewed": 0,
        "auto_accepted": 0,
        "to_review": 2,
    }
    first = s.next_task()
    assert first["text"] == IPHONE
    versions = first["versions"]
    assert [(v["n"], v["kind"], v["annotators"]) for v in versions] == [
        (1, "complete", ["alice"]),
        (2, "complete", ["bob"]),
    ]
    assert keys(versions[1]["spans"]) == [(12, 18, "PRODUCT"), (24, 29, "ORG")]
    assert versions[0]["when"].endswith("UTC")
    assert keys(first["spans"]) == keys(versions[0]["spans"])  # the editor starts from 1
    picked = s.pick(first, 2)

    second = s.next_task()
    assert second["text"] == WATCH
    edited = s.answer(second, "accept", spans=[{"start": 3, "end": 8, "label": "PRODUCT"}])
    assert s.next_task() is None

    rows = stored(db, "reviewed")
    assert [(r["text"], r["_view_id"], r["answer"], r["_annotator_id"]) for r in rows] == [
        (IPHONE, VIEW_MANUAL, "accept", "rev"),
        (WATCH, VIEW_MANUAL, "accept", "rev"),
    ]
    assert db.dataset("reviewed").counts()["accept"] == 2
    assert list(db.dataset("reviewed").to_pandas()["kind"]) == ["gold", "gold"]
    assert keys(rows[0]["spans"]) == [(12, 18, "PRODUCT"), (24, 29, "ORG")]
    assert keys(rows[1]["spans"]) == [(3, 8, "PRODUCT")]
    review = rows[0]["meta"]["review"]
    assert review["chosen"] == 2
    assert review["versions"] == [
        {
            "version": 1,
            "annotator": "alice",
            "dataset": "ner_alice",
            "task_hashes": [alice[0]["_task_hash"]],
            "kind": "complete",
        },
        {
            "version": 2,
            "annotator": "bob",
            "dataset": "ner_bob",
            "task_hashes": [bob[0]["_task_hash"]],
            "kind": "complete",
        },
    ]
    assert rows[1]["meta"]["review"]["chosen"] == "edited"
    assert picked["meta"]["review"] == review and edited["_input_hash"] == bob[2]["_input_hash"]
    s.close()


def test_accepting_unchanged_spans_names_the_version_they_equal(two):
    db, *_ = two
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db)
    task = s.next_task()
    assert s.answer(task, "accept")["meta"]["review"]["chosen"] == 1  # version 1, as offered
    task = s.next_task()  # WATCH: bob's version typed in by hand is still bob's
    stored_ = s.answer(task, "accept", spans=[{"start": 3, "end": 8, "label": "ORG"}])
    assert stored_["meta"]["review"]["chosen"] == 2
    s.close()


def test_one_dataset_tells_annotators_apart_by_their_answers(db_path):
    db = nba.Database(db_path)
    annotate(db, "team", "alice", [(gold(IPHONE, [(12, 18, "PRODUCT")]), "accept")])
    annotate(db, "team", "bob", [(gold(IPHONE, [(24, 29, "ORG")]), "accept")])
    s = nba.review("team", "team_reviewed", db=db)
    task = s.next_task()
    assert [v["annotators"] for v in task["versions"]] == [["alice"], ["bob"]]
    assert {v["dataset"] for v in s.pick(task, 1)["meta"]["review"]["versions"]} == {"team"}
    s.close()
    db.close()


def test_binary_answers_show_as_accepted_and_rejected_spans(db_path):
    db = nba.Database(db_path)
    annotate(db, "ner_alice", "alice", [(gold(IPHONE, [(12, 18, "PRODUCT")]), "accept")])
    # bob answered teach questions: iPhone is an ORG? no; Apple is an ORG? yes
    annotate(
        db,
        "teach_bob",
        None,  # no annotator: the dataset's name
        [
            (binary(IPHONE, (12, 18, "ORG")), "reject"),
            (binary(IPHONE, (24, 29, "ORG")), "accept"),
            (binary(IPHONE, (0, 1, "ORG")), "ignore"),
        ],
    )
    s = nba.review(["ner_alice", "teach_bob"], "reviewed", db=db)
    task = s.next_task()
    bob = task["versions"][1]
    assert (bob["kind"], bob["annotators"]) == ("binary", ["teach_bob"])
    assert keys(bob["spans"]) == [(24, 29, "ORG")]
    assert bob["rejected"] == [{"start": 12, "end": 18, "label": "ORG"}]
    row = s.pick(task, 2)
    assert keys(row["spans"]) == [(24, 29, "ORG")] and row["_view_id"] == VIEW_MANUAL
    assert len(row["meta"]["review"]["versions"][1]["task_hashes"]) == 2  # not the ignored one
    s.close()
    db.close()


def test_a_rejected_text_is_a_version_and_picking_it_stores_a_reject(two):
    db, *_ = two
    annotate(db, "ner_carol", "carol", [(gold(PLAIN, []), "reject")])
    s = nba.review(["ner_alice", "ner_bob", "ner_carol"], "reviewed", db=db)
    task = next(t for t in s if t["text"] == PLAIN)
    assert [(v["kind"], v["annotators"]) for v in task["versions"]] == [
        ("complete", ["alice", "bob"]),
        ("rejected", ["carol"]),
    ]
    row = s.pick(task, 2)
    assert (row["answer"], row["meta"]["review"]["chosen"]) == ("reject", 2)
    s.close()


def test_auto_accept_stores_agreed_texts_at_once_and_a_rerun_resumes(two):
    db, *_ = two
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db, auto_accept_agreed=True)
    assert s.summary["auto_accepted"] == 2 and s.summary["to_review"] == 2
    rows = stored(db, "reviewed")
    assert sorted(r["text"] for r in rows) == sorted([PIXEL, PLAIN])
    assert all(r["meta"]["review"]["auto"] and r["meta"]["review"]["chosen"] == 1 for r in rows)
    pixel = next(r for r in rows if r["text"] == PIXEL)
    assert keys(pixel["spans"]) == [(4, 9, "PRODUCT"), (21, 27, "ORG")]
    s.pick(s.next_task(), 1)
    s.close()

    again = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db, auto_accept_agreed=True)
    assert again.summary["already_reviewed"] == 3 and again.summary["auto_accepted"] == 0
    assert again.next_task()["text"] == WATCH  # IPHONE was reviewed: skipped
    assert len(stored(db, "reviewed")) == 3  # nothing stored twice
    again.close()


def test_only_conflicts_false_offers_every_text_also_one_annotator_ones(two):
    db, *_ = two
    annotate(
        db,
        "ner_bob",
        "bob",
        [(gold("Only bob saw this Kindle .", [(18, 24, "PRODUCT")]), "accept")],
    )
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db, only_conflicts=False)
    texts = [t["text"] for t in s]
    assert texts == [IPHONE, PIXEL, WATCH, PLAIN, "Only bob saw this Kindle ."]
    assert s.summary["single_annotator"] == 1
    s.close()


def test_nothing_to_review_is_done_at_once(two):
    db, *_ = two
    s = nba.review(
        ["ner_alice", "ner_bob"], "reviewed", db=db, labels=["PRODUCT"], auto_accept_agreed=True
    )
    # PRODUCT only: IPHONE agrees now (bob's ORG is left out), WATCH still differs
    assert s.summary["conflicts"] == 1
    task = s.next_task()
    assert task["labels"] == ["PRODUCT"] and task["text"] == WATCH
    s.pick(task, 1)
    assert s.next_task() is None
    s.close()
    done = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db, labels=["PRODUCT"])
    assert done.summary["to_review"] == 0
    assert done.next_task() is None and done.progress["exhausted"]
    done.close()


def test_undo_history_and_progress_work_as_in_manual(two):
    db, *_ = two
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db)
    task = s.next_task()
    s.pick(task, 2)
    assert s.history()[0]["review"] == 2 and s.history()[0]["manual"]
    p = s.progress
    assert p["session"]["accept"] == 1 and p["review"]["conflicts"] == 2
    assert p["review"]["reviewed"] == 1 and p["review"]["to_review"] == 2
    back = s.undo()
    assert back["_task_hash"] == task["_task_hash"]
    assert "review" not in back["meta"]
    assert [v["annotators"] for v in back["versions"]] == [["alice"], ["bob"]]
    assert keys(back["spans"]) == [(12, 18, "PRODUCT"), (24, 29, "ORG")]  # as answered
    assert stored(db, "reviewed") == []
    assert s.next_task()["_task_hash"] == task["_task_hash"]
    changed = s.pick(back, 1)
    assert changed["meta"]["review"]["chosen"] == 1
    s.change_answer(changed["_task_hash"], "reject")
    assert [r["answer"] for r in stored(db, "reviewed")] == ["reject"]
    s.close()


def test_bad_pick_and_foreign_task_are_refused(two):
    db, *_ = two
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db)
    task = s.next_task()
    for n in (0, 3, "1", True):
        with pytest.raises(AnswerError, match="versions 1 to 2"):
            s.pick(task, n)
    with pytest.raises(AnswerError, match="overlap"):
        s.answer(
            task,
            "accept",
            spans=[
                {"start": 12, "end": 18, "label": "PRODUCT"},
                {"start": 12, "end": 18, "label": "ORG"},
            ],
        )
    assert stored(db, "reviewed") == []
    s.close()


def _datasets(db):
    return {name: len(db.dataset(name)) for name in db.datasets()}


def test_bad_input_is_refused_at_the_call_and_nothing_changes(two):
    db, *_ = two
    before = _datasets(db)
    with pytest.raises(DatasetError, match="No dataset 'ner_carol'"):
        nba.review(["ner_alice", "ner_carol"], "reviewed", db=db)
    with pytest.raises(ArgumentError, match="one annotator.*alice"):
        nba.review(["ner_alice"], "reviewed", db=db)
    with pytest.raises(ArgumentError, match="'PERSON'.*appear in no answer"):
        nba.review(["ner_alice", "ner_bob"], "reviewed", db=db, labels=["PRODUCT", "PERSON"])
    with pytest.raises(ArgumentError, match="also a dataset under review"):
        nba.review(["ner_alice", "ner_bob"], "ner_bob", db=db)
    with pytest.raises(ArgumentError, match="datasets must be"):
        nba.review([], "reviewed", db=db)
    assert _datasets(db) == before  # no output dataset was created

    annotate(db, "teach_out", "carol", [(binary(IPHONE, (12, 18, "PRODUCT")), "accept")])
    before = _datasets(db)
    with pytest.raises(DatasetError, match="'teach_out' already holds 1 answers that are not"):
        nba.review(["ner_alice", "ner_bob"], "teach_out", db=db, auto_accept_agreed=True)
    assert _datasets(db) == before


def test_a_review_dataset_holding_manual_answers_is_accepted(two):
    """Complete annotations already in the output (say, the lead annotator's) count as done."""
    db, *_ = two
    annotate(db, "reviewed", "lead", [(gold(IPHONE, [(12, 18, "PRODUCT")]), "accept")])
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db)
    assert s.summary["already_reviewed"] == 1 and s.next_task()["text"] == WATCH
    s.close()


def test_the_widget_shows_versions_in_review_mode_and_stores_the_answer(two):
    db, *_ = two
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db)
    w = AnnotationWidget(s)
    try:
        assert w.mode == "review" and w.labels == ["ORG", "PRODUCT"]
        wait_for(lambda: len(w.queue) == 2, what="both conflicts queued")
        head = w.queue[0]
        assert [v["annotators"] for v in head["versions"]] == [["alice"], ["bob"]]
        assert head["view_id"] == VIEW_MANUAL and head["tokens"]
        spans = [
            {"start": 12, "end": 18, "label": "PRODUCT"},
            {"start": 24, "end": 29, "label": "ORG"},
        ]
        send(w, "answer", task_hash=head["task_hash"], answer="accept", spans=spans)
        assert w.notice == ""
        wait_for(lambda: len(stored(db, "reviewed")) == 1, what="the answer stored")
        assert stored(db, "reviewed")[0]["meta"]["review"]["chosen"] == 2
        assert w.history[0]["review"] == 2
    finally:
        w.close()
        s.close()


def test_merge_prefers_the_reviewed_annotation_over_newer_raw_ones():
    def task(spans, review=False, stamp=0):
        t = gold(IPHONE, spans)
        if review:
            t["meta"] = {"review": {"chosen": 1, "versions": []}}
        return {**t, "answer": "accept", "_timestamp": stamp}

    raw_new = task([(24, 29, "ORG")], stamp=3)
    reviewed = task([(12, 18, "PRODUCT")], review=True, stamp=2)
    (item,) = merge_answers([task([], stamp=1), reviewed, raw_new])
    assert item.gold == [(12, 18, "PRODUCT")] and item.reviewed
    (item,) = merge_answers([raw_new, reviewed])
    assert item.gold == [(12, 18, "PRODUCT")]


def test_train_data_prefers_the_reviewed_version_over_raw_datasets(two):
    """train() given the reviewed dataset and the raw ones on the same texts: the reviewed
    annotation is the text's gold, even where an annotator's answer is newer."""
    db, *_ = two
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db, auto_accept_agreed=True)
    s.pick(s.next_task(), 2)  # IPHONE: bob's, with Apple as ORG
    s.pick(s.next_task(), 1)  # WATCH: alice's, Apple Watch as PRODUCT
    s.close()
    # alice annotates both texts again, later, her way
    annotate(
        db,
        "ner_alice",
        "alice",
        [
            (gold(IPHONE, [(12, 18, "PRODUCT")]), "accept"),
            (gold(WATCH, [(3, 8, "ORG")]), "accept"),
        ],
    )
    prepared = _prepare(["reviewed", "ner_alice", "ner_bob"], "blank:en", None, 0.25, None, 0, db)
    by_text = {it.text: it for it in prepared.train_items + prepared.eval_items}
    assert by_text[IPHONE].gold == [(12, 18, "PRODUCT"), (24, 29, "ORG")]
    assert by_text[WATCH].gold == [(3, 14, "PRODUCT")]
    assert prepared.stats["gold_train_texts"] + len(prepared.eval_items) == 4


def test_merge_leaves_out_a_text_the_review_rejected_until_a_review_accepts_it():
    def task(spans, answer="accept", review=False):
        t = gold(IPHONE, spans)
        if review:
            t["meta"] = {"review": {"chosen": None, "versions": []}}
        return {**t, "answer": answer}

    raw = task([(24, 29, "ORG")])
    binary = {**task([(12, 18, "PRODUCT")]), "_view_id": "ner"}  # a teach answer
    rejected = task([], "reject", review=True)
    stats = ExampleStats()
    assert merge_answers([raw, binary, rejected], stats) == [] and stats.review_rejected == 1
    assert merge_answers([rejected, raw]) == []  # a newer raw answer does not bring it back
    (item,) = merge_answers([rejected, task([(12, 18, "PRODUCT")], review=True)])
    assert item.gold == [(12, 18, "PRODUCT")]


def test_train_data_leaves_out_the_texts_the_review_rejected(two):
    """The reviewer finds a text unfit (reject): train() on the reviewed and raw datasets
    leaves that text out, the annotators' answers on it included."""
    db, *_ = two
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db, auto_accept_agreed=True)
    first = s.next_task()
    s.answer(first, "reject", spans=[])
    s.pick(s.next_task(), 1)
    s.close()
    prepared = _prepare(["reviewed", "ner_alice", "ner_bob"], "blank:en", None, 0.25, None, 0, db)
    texts = {it.text for it in prepared.train_items + prepared.eval_items}
    assert first["text"] not in texts and len(texts) == 3
    assert prepared.stats["review_rejected"] == 1


def test_review_works_the_same_on_each_store(store_address):
    """DuckDB file or PostgreSQL database: versions, a pick, the agreed texts stored at once,
    and a second run that resumes."""
    db = nba.Database(store_address)
    annotate(db, "ner_alice", "alice", [(gold(IPHONE, [(12, 18, "PRODUCT")]), "accept")])
    annotate(db, "ner_alice", "alice", [(gold(PLAIN, []), "accept")])
    annotate(db, "ner_bob", "bob", [(gold(IPHONE, [(24, 29, "ORG")]), "accept")])
    annotate(db, "ner_bob", "bob", [(gold(PLAIN, []), "accept")])
    db.close()
    s = nba.review(["ner_alice", "ner_bob"], "reviewed", db=store_address, auto_accept_agreed=True)
    task = s.next_task()
    assert [v["annotators"] for v in task["versions"]] == [["alice"], ["bob"]]
    assert s.pick(task, 2)["meta"]["review"]["chosen"] == 2
    assert s.next_task() is None
    s.close()
    again = nba.review(["ner_alice", "ner_bob"], "reviewed", db=store_address)
    assert again.summary["already_reviewed"] == 2 and again.next_task() is None
    again.close()
    with nba.Database(store_address) as db:
        rows = db.dataset("reviewed").answers()
    assert sorted((r["text"], keys(r["spans"])) for r in rows) == [
        (IPHONE, [(24, 29, "ORG")]),
        (PLAIN, []),
    ]
