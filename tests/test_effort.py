"""Effort in actions (nbannotate/effort.py) and the correction of a rejected whole analysis in
teach, headless and through the widget's kernel side: real spaCy pipelines, a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import spacy
from gadgets import gadget_texts, gold_spans, in_step, oracle, product_patterns
from spacy.tokens import DocBin
from widget_helpers import send

import nbannotate as nba
from nbannotate.effort import (
    ACTION_KINDS,
    EffortChooser,
    check_actions,
    correction_actions,
    gold_sentence_actions,
    manual_actions,
)
from nbannotate.errors import AnswerError
from nbannotate.tasks import is_whole


def span(start: int, end: int, label: str = "PRODUCT") -> dict:
    return {"start": start, "end": end, "label": label}


def stored(db_path: Path, dataset: str) -> list[tuple]:
    """(answer, view_id, spans json, meta json) of every stored answer, oldest first, read from
    the DuckDB file as another program would."""
    nba.store.close_all()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT answer, json_extract_string(task, '$._view_id'), "
            "json_extract(task, '$.spans'), json_extract(task, '$.meta') "
            "FROM answers WHERE dataset = ? ORDER BY id",
            [dataset],
        ).fetchall()
    finally:
        con.close()
    import json

    return [(a, v, json.loads(s), json.loads(m)) for a, v, s, m in rows]


# -- pure counting ----------------------------------------------------------------------------


def test_gold_sentence_costs_one_selection_and_one_label_per_entity_and_a_submit():
    assert gold_sentence_actions([]) == 1
    assert gold_sentence_actions([span(0, 2)]) == 3
    assert gold_sentence_actions([span(0, 2), span(3, 5, "ORG"), span(6, 9)]) == 7
    assert manual_actions([span(0, 2), span(3, 5)]) == {"select": 2, "label": 2, "submit": 1}


def test_correction_counts_one_action_per_fix_and_a_submit():
    model = [span(0, 9), span(19, 25)]
    assert correction_actions(model, model) == {"select": 0, "label": 0, "remove": 0, "submit": 1}
    # "My iPhone" -> "iPhone" (a removal and a new span), "Berlin" relabelled
    fixed = [span(3, 9), span(19, 25, "LOC")]
    assert correction_actions(model, fixed) == {"select": 1, "label": 2, "remove": 1, "submit": 1}
    assert correction_actions([], [span(0, 2)]) == {
        "select": 1,
        "label": 1,
        "remove": 0,
        "submit": 1,
    }


def test_action_counts_are_checked():
    assert check_actions(None) is None
    assert check_actions(3) == {"answer": 3}
    assert check_actions({"select": 2, "label": 0, "submit": 1}) == {"select": 2, "submit": 1}
    with pytest.raises(AnswerError, match="Unknown kind of action 'click'"):
        check_actions({"click": 1})
    with pytest.raises(AnswerError, match="must be a count"):
        check_actions({"select": -1})
    with pytest.raises(AnswerError, match="must be a number or a dict"):
        check_actions("two")


def test_the_chooser_prefers_corrections_once_they_bring_more_entities_per_action():
    chooser = EffortChooser(min_corrections=2, min_questions=3)
    for entities in (1, 0, 0):  # an accept, two rejects: 1 entity for 3 actions
        chooser.add("question", entities, 1)
    chooser.add("correction", 2, 3)  # 2 entities, 3 actions: better, but one is not enough
    assert not chooser.prefer_correction()
    chooser.add("correction", 1, 2)
    assert chooser.progress() == {"question": 1 / 3, "correction": 3 / 5}
    assert chooser.prefer_correction()
    chooser.add("correction", 1, 2, by=-1)  # undone
    assert not chooser.prefer_correction()
    chooser.add("correction", 0, 9)  # a correction that took long: worse than questions now
    assert chooser.rate("correction") == 2 / 12 and not chooser.prefer_correction()
    assert EffortChooser().progress() == {"question": None, "correction": None}


# -- teach: counting headless -----------------------------------------------------------------


@pytest.fixture
def teach(db_path):
    sessions = []

    def start(texts, dataset="effort", **kwargs):
        kwargs.setdefault("split_sentences", False)
        s = nba.teach(
            dataset, texts, "blank:en", ["PRODUCT"], product_patterns(), db=db_path, **kwargs
        )
        sessions.append(s)
        return s

    yield start
    for s in sessions:
        s.close()


def test_binary_answers_count_one_action_each_stored_with_the_answer(teach, db_path):
    s = teach(gadget_texts(10), whole=None)
    for _ in range(3):
        task = s.next_task(timeout=60)
        s.answer(task, oracle(task))
    task = s.next_task(timeout=60)
    s.answer(task, "ignore", actions={"answer": 2})  # say, a key pressed twice in the widget
    s.undo()
    s.answer(task, "accept")
    s.change_answer(task["_task_hash"], "reject")
    actions = s.progress["actions"]
    assert actions == {
        "total": 8,
        **dict.fromkeys(ACTION_KINDS, 0),
        "answer": 6,
        "undo": 1,
        "change": 1,
    }
    s.close()
    rows = stored(db_path, "effort")
    assert [m["actions"] for _a, _v, _s, m in rows] == [1, 1, 1, 1]


def test_manual_answers_count_their_spans_labels_and_submit(db_path):
    texts = ["My iPhone broke in Berlin .", "Nothing here ."]
    with nba.manual("gold", texts, ["PRODUCT", "LOC"], db=db_path, split_sentences=False) as s:
        task = s.next_task()
        s.answer(task, "accept", spans=[span(3, 9), span(19, 25, "LOC")])
        task = s.next_task()
        s.answer(task, "accept", actions={"submit": 1})
        assert s.progress["actions"]["total"] == 5 + 1
        assert s.progress["actions"]["select"] == 2
    assert [m["actions"] for _a, _v, _s, m in stored(db_path, "gold")] == [5, 1]


# -- teach: a rejected whole analysis, corrected ---------------------------------------------


def first_whole(s) -> dict:
    """Answer (as the oracle) until a whole analysis is offered; return it, unanswered."""
    for _ in range(50):
        task = s.next_task(timeout=60)
        assert task is not None, "no whole analysis offered"
        if is_whole(task):
            return task
        s.answer(task, oracle(task))
    raise AssertionError("no whole analysis in 50 tasks")


def gold_of(text: str) -> list[dict]:
    return [span(a, b, label) for a, b, label in sorted(gold_spans(text))]


def test_a_rejected_whole_analysis_is_corrected_stored_as_gold_counted_and_learnt(teach, db_path):
    s = teach(gadget_texts(40), whole=0.0, batch_size=2)
    whole = first_whole(s)
    assert whole["spans"] != gold_of(whole["text"])  # an untrained model's guess
    rejected = s.answer(whole, "reject")
    fix = s.correction(rejected)
    assert fix is not None and fix["_view_id"] == "ner_manual"
    assert fix["meta"]["correction"] is True and fix["meta"]["corrects"] == whole["_task_hash"]
    # pre-filled with the model's spans, token offsets and all
    keys = ("start", "end", "token_start", "token_end", "label")
    assert [{k: x[k] for k in keys} for x in fix["spans"]] == [
        {k: x[k] for k in keys} for x in whole["spans"]
    ]
    assert s.correction(rejected) is not None  # asked again: the same question
    learnt = []
    submit = s.updater.submit
    s.updater.submit = lambda task: (learnt.append(task), submit(task))[1]  # spy, passes on
    gold = s.answer(fix, "accept", spans=gold_of(whole["text"]))
    assert gold["_view_id"] == "ner_manual" and gold["answer"] == "accept"
    expected = correction_actions(fix["spans"], gold["spans"])
    assert gold["meta"]["actions"] == sum(expected.values())
    # the model learns from it, in the next update
    assert [t["_task_hash"] for t in learnt] == [fix["_task_hash"]]
    assert s.update_model(timeout=120)
    (corrected, _reject, *_) = s.history(20)
    assert corrected["manual"] and corrected["answer"] == "accept"
    assert corrected["spans"] == [{"text": x, "label": "PRODUCT"} for x in _names(whole["text"])]
    # the text is complete now: nothing more is asked about it, a second correction neither
    assert s.correction(rejected) is None
    for _ in range(40):  # and enough other answers for train() below
        task = s.next_task(timeout=60)
        assert task is None or task["_input_hash"] != whole["_input_hash"]
        if task is not None:
            s.answer(task, oracle(task))
            in_step(s)
    progress = s.progress["actions"]
    answered = s.progress["session"]["total"]
    assert progress["submit"] == 1 and progress["answer"] == answered - 1
    assert progress["total"] == answered - 1 + sum(expected.values())
    s.close()

    rows = [r for r in stored(db_path, "effort") if r[0] != "ignore"]
    mine = [r for r in rows if r[3].get("corrects") is not None or r[3].get("whole")]
    (reject, rv, _rs, _rm), (accept, av, aspans, ameta) = mine[:2]
    assert (reject, rv) == ("reject", "ner") and (accept, av) == ("accept", "ner_manual")
    assert [(x["start"], x["end"], x["label"]) for x in aspans] == sorted(gold_spans(whole["text"]))
    assert ameta["actions"] == sum(expected.values())

    # train() uses it as a complete annotation: every token of the text is tagged
    result = nba.train("effort", db_path.parent / "out", db=db_path, epochs=1, progress=False)
    docs = [
        d
        for name in ("train.spacy", "dev.spacy")
        for d in DocBin().from_disk(result.output_dir / name).get_docs(spacy.blank("en").vocab)
    ]
    (doc,) = [d for d in docs if d.text == whole["text"]]
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == sorted(
        gold_spans(whole["text"])
    )
    assert all(t.ent_iob_ != "" for t in doc)


def _names(text: str) -> list[str]:
    return [text[a:b] for a, b, _ in sorted(gold_spans(text))]


def test_a_dismissed_correction_stores_nothing_and_counts_a_skip(teach, db_path):
    s = teach(gadget_texts(10), whole=0.0)
    whole = first_whole(s)
    fix = s.correction(s.answer(whole, "reject"))
    before = s.progress["dataset"]["total"]
    s.dismiss(fix)
    assert s.progress["dataset"]["total"] == before
    assert s.progress["actions"]["skip"] == 1
    with pytest.raises(AnswerError, match="dismiss\\(\\) leaves a correction"):
        s.dismiss(fix)
    # asked for again, it is back (the reject stands, the text is not complete)
    again = s.correction(whole["_task_hash"])
    assert again is not None and again["_task_hash"] == fix["_task_hash"]


def test_a_correction_after_its_reject_was_undone_is_refused(teach):
    s = teach(gadget_texts(10), whole=0.0)
    whole = first_whole(s)
    fix = s.correction(s.answer(whole, "reject"))
    s.undo()
    assert s.settled(fix)
    with pytest.raises(AnswerError, match="no longer needed"):
        s.answer(fix, "accept", spans=gold_of(whole["text"]))
    with pytest.raises(AnswerError, match="stored with 'accept'"):
        s.answer(s.correction(s.answer(whole, "reject")), "reject")


def test_undoing_a_correction_offers_it_again_with_the_fixed_spans(teach):
    s = teach(gadget_texts(10), whole=0.0)
    whole = first_whole(s)
    fix = s.correction(s.answer(whole, "reject"))
    s.answer(fix, "accept", spans=gold_of(whole["text"]))
    back = s.undo()
    assert back["_task_hash"] == fix["_task_hash"]
    assert s.next_task(timeout=60)["_task_hash"] == fix["_task_hash"]
    assert [(x["start"], x["end"]) for x in back["spans"]] == [
        (x["start"], x["end"]) for x in gold_of(whole["text"])
    ]
    again = s.answer(back, "accept")
    assert again["_view_id"] == "ner_manual"


def test_without_correct_rejected_a_reject_is_just_a_reject(teach):
    s = teach(gadget_texts(10), whole=0.0, correct_rejected=False)
    whole = first_whole(s)
    assert s.correction(s.answer(whole, "reject")) is None
    with pytest.raises(nba.errors.ArgumentError, match="correct_rejected must be True or False"):
        teach(gadget_texts(3), dataset="other", correct_rejected="yes")


def test_spans_are_refused_for_a_teach_question(teach):
    s = teach(gadget_texts(10), whole=None)
    task = s.next_task(timeout=60)
    with pytest.raises(AnswerError, match="spans= is for a correction"):
        s.answer(task, "accept", spans=[])


# -- the widget's kernel side -----------------------------------------------------------------


def test_widget_reject_queues_the_correction_first_and_stores_its_actions(teach, db_path):
    s = teach(gadget_texts(20), whole=0.0)
    w = s.widget()
    from widget_helpers import wait_for

    whole = wait_for(
        lambda: next((t for t in w.queue[:1] if t["meta"].get("whole")), None) or _answer_first(w),
        what="a whole analysis first in the queue",
    )
    fix_view = whole["correction"]
    assert (
        fix_view["view_id"] == "ner_manual" and fix_view["meta"]["corrects"] == whole["task_hash"]
    )
    send(w, "answer", task_hash=whole["task_hash"], answer="reject", actions={"answer": 1})
    assert w.queue[0] == fix_view  # what the view showed at once
    fixed = gold_of(whole["text"])
    send(
        w,
        "answer",
        task_hash=fix_view["task_hash"],
        answer="accept",
        spans=fixed,
        actions={"select": 1, "label": 1, "remove": 2, "submit": 1},
    )
    assert w.notice == ""
    assert w.progress["actions"]["remove"] == 2
    assert w.history[0]["manual"] and w.history[0]["task_hash"] == fix_view["task_hash"]
    # the next reject of a whole analysis, left with a skip: nothing stored
    second = wait_for(
        lambda: next((t for t in w.queue[:1] if t["meta"].get("whole")), None) or _answer_first(w),
        what="another whole analysis",
    )
    send(w, "answer", task_hash=second["task_hash"], answer="reject", actions={"answer": 1})
    send(w, "skip", task_hash=second["correction"]["task_hash"])
    assert all(t["task_hash"] != second["correction"]["task_hash"] for t in w.queue)
    assert w.progress["actions"]["skip"] == 1
    w.close()
    s.close()
    rows = stored(db_path, "effort")
    gold = [r for r in rows if r[1] == "ner_manual"]
    assert len(gold) == 1 and gold[0][0] == "accept" and gold[0][3]["actions"] == 5
    assert [(x["start"], x["end"]) for x in gold[0][2]] == [(x["start"], x["end"]) for x in fixed]


def _answer_first(w) -> None:
    """Answer the first card of the widget's queue (not a whole analysis) as the oracle."""
    if not w.queue:
        return None
    task = w.queue[0]
    if task["meta"].get("whole"):
        return None
    spans = {(x["start"], x["end"], x["label"]) for x in task["spans"]}
    answer = "accept" if spans <= gold_spans(task["text"]) else "reject"
    send(w, "answer", task_hash=task["task_hash"], answer=answer, actions={"answer": 1})
    return None


def test_once_corrections_cost_fewer_actions_a_whole_analysis_is_offered_as_one(teach, db_path):
    """Fixes that take two actions (a correction of a nearly right analysis) against questions
    that took three keys each: after 5 corrections and 20 questions, the next whole analysis
    comes as a correction directly, without the question and its reject."""
    s = teach(gadget_texts(60), whole=0.0)
    corrections = questions = 0
    direct = None
    for _ in range(200):
        task = s.next_task(timeout=60)
        assert task is not None, "the stream ended first"
        if task["_view_id"] == "ner_manual":
            direct = task
            break
        if is_whole(task) and corrections < 5:
            fix = s.correction(s.answer(task, "reject", actions=1))
            s.answer(fix, "accept", spans=gold_of(task["text"]), actions={"submit": 1})
            corrections += 1
        else:
            s.answer(task, oracle(task), actions=3)
            questions += 1
        in_step(s)
    assert direct is not None, "no correction was offered directly"
    assert corrections == 5 and questions + corrections >= 20  # the rejects are questions too
    rates = s.progress["entities_per_action"]
    assert rates["correction"] > rates["question"]
    assert direct["meta"]["correction"] is True and "corrects" not in direct["meta"]
    gold = s.answer(direct, "accept", spans=gold_of(direct["text"]))
    assert gold["_view_id"] == "ner_manual" and s.progress["actions"]["submit"] == 6
    s.close()
    rows = [r for r in stored(db_path, "effort") if r[1] == "ner_manual"]
    assert len(rows) == 6
    # the direct one stands alone: no reject of a whole analysis of its text before it
    assert "corrects" not in rows[-1][3]


def corrections_pay(s) -> None:
    """Give the session's chooser the record of 5 corrections at 3 entities for 2 actions and
    20 questions at 1 entity for 4 actions (as the route above gets there, but at once)."""
    for _ in range(5):
        s._chooser.add("correction", 3, 2)
    for _ in range(20):
        s._chooser.add("question", 1, 4)


def test_once_corrections_pay_a_texts_first_span_question_becomes_its_correction(teach, db_path):
    """Without whole analyses (whole=None) the model's span questions about a fresh text give
    way to the correction of its most probable analysis; its other questions wait for it:
    dismissed, they are asked; stored, they are settled."""
    s = teach(gadget_texts(30), whole=None)
    corrections_pay(s)
    fix = s.next_task(timeout=60)
    assert fix is not None and fix["_view_id"] == "ner_manual"
    assert fix["meta"]["correction"] is True and "corrects" not in fix["meta"]
    assert all(x["source"] == "model" for x in fix["spans"])
    ih = fix["_input_hash"]
    others = s.next_tasks(4, timeout=60)
    assert others and all(t["_input_hash"] != ih for t in others)
    s.dismiss(fix)  # the reject route: the question it replaced is asked first
    back = s.next_task(timeout=60)
    assert back["_input_hash"] == ih and back["_view_id"] != "ner_manual"
    assert s.progress["actions"]["skip"] == 1
    corrected = set()
    rest = [back, *others]
    while rest:
        for task in rest:
            if task["_view_id"] == "ner_manual":  # another fresh text's correction: stored
                assert task["_input_hash"] not in corrected
                s.answer(task, "accept", spans=gold_of(task["text"]))
                corrected.add(task["_input_hash"])
            else:  # and no question about a text once corrected
                assert task["_input_hash"] not in corrected
                s.answer(task, oracle(task))
        rest = s.next_tasks(4, timeout=60)
    assert corrected and ih not in corrected
    s.close()
    gold_rows = [r for r in stored(db_path, "effort") if r[1] == "ner_manual"]
    assert len(gold_rows) == len(corrected)
    assert all(r[0] == "accept" and r[3]["actions"] >= 1 for r in gold_rows)


def test_with_correct_texts_off_span_questions_stay_questions(teach):
    s = teach(gadget_texts(10), whole=None)
    s.correct_texts = False
    corrections_pay(s)
    tasks = s.next_tasks(5, timeout=60)
    assert tasks and all(t["_view_id"] != "ner_manual" for t in tasks)


def test_a_text_stays_held_while_its_correction_is_due(teach, db_path):
    """Between annotators (each text to one at a time), a rejected whole analysis keeps its text
    held: the correction follows. Once it is stored the text is done for everyone."""
    s = teach(gadget_texts(10), whole=0.0, annotator="alice")
    ds = s.db_dataset
    tasks = s.next_tasks(6, timeout=60)
    whole = next(t for t in tasks if is_whole(t))
    ih = whole["_input_hash"]
    # its other questions first: the reject is the text's last answer
    for task in tasks:
        if task["_input_hash"] == ih and task is not whole:
            s.answer(task, oracle(task))
    fix = s.correction(s.answer(whole, "reject"))
    other = ds.hold([ih], "someone-else", "bob")
    assert ih not in other.mine and ih not in other.done  # alice holds it
    s.answer(fix, "accept", spans=gold_of(whole["text"]))
    assert ih in ds.hold([ih], "someone-else", "bob").done


def test_correct_counts_the_fixes_to_the_prehighlighted_spans_not_a_manual_sentence(db_path):
    """In ``correct`` the spans shown are already there: keeping one costs nothing, removing
    one is one action (answers given in code count the fewest the widget needs)."""
    text = "My Kindle broke in Paris ."
    shown = [span(3, 9), span(19, 24, "PRODUCT")]  # Kindle right, Paris mislabelled
    source = [{"text": text, "spans": shown}, {"text": "Nothing here .", "spans": []}]
    with nba.correct(
        "fixes", source, "blank:en", ["PRODUCT", "LOC"], db=db_path, split_sentences=False
    ) as s:
        task = s.next_task()
        s.answer(task, "accept", spans=[span(3, 9), span(19, 24, "LOC")])  # one label picked
        s.answer(s.next_task(), "accept")  # nothing to fix: the submit
        assert s.progress["actions"] == {
            "total": 3,
            **dict.fromkeys(("answer", "select", "remove", "undo", "change", "skip"), 0),
            "label": 1,
            "submit": 2,
        }
    assert [m["actions"] for _a, _v, _s, m in stored(db_path, "fixes")] == [2, 1]
