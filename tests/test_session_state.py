"""What a session knows about answers given elsewhere and earlier: two live sessions on one
dataset, undo and change_answer before a completion question is answered, undoing an accepted
whole analysis, and correct(update=True) showing what the corrections taught."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
import spacy
from gadgets import (
    PRODUCTS,
    answer_until_completion,
    gadget_texts,
    gold_spans,
    in_step,
    oracle,
    product_patterns,
)
from gadgets import trained_gadget_model as train_model
from spacy.training import Example
from widget_helpers import wait_for

import nbannotate as nba
from nbannotate.errors import AnswerError, SessionError


def keys(task: dict) -> set[tuple[int, int, str]]:
    return {(s["start"], s["end"], s["label"]) for s in task["spans"]}


def stored_hashes(db_path: Path, dataset: str) -> list[int]:
    return nba.Database(db_path).dataset(dataset).to_pandas()["task_hash"].tolist()


@pytest.fixture(scope="module")
def gadget_model(tmp_path_factory) -> Path:
    """Right often, not always: its beam holds the analyses completion questions come from."""
    return train_model(tmp_path_factory.mktemp("model") / "model", epochs=2)


# -- two sessions on one dataset ----------------------------------------------------------------


def test_two_teach_sessions_on_one_dataset_never_ask_or_store_a_question_twice(db_path):
    """Two annotators in one kernel (annotator="alice" and "bob", as Prodigy's named
    sessions): both read the same source, yet a question answered by one is not asked of the
    other, and answering it there is refused."""
    texts = gadget_texts(60)
    a = nba.teach(
        "ds",
        texts,
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        annotator="alice",
    )
    b = nba.teach(
        "ds",
        texts,
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        annotator="bob",
    )
    try:
        first = a.answer(a.next_task(timeout=60), "accept")
        held_by_b = b.next_tasks(3, timeout=60)
        assert first["_task_hash"] not in {t["_task_hash"] for t in held_by_b}
        with pytest.raises(AnswerError, match="already answered .*by another session"):
            b.answer(first, "reject")
        # Both annotate in turns: every question is answered once, by one of them.
        for task in held_by_b:
            b.answer(task, oracle(task))
        for _ in range(20):
            for s in (a, b):
                task = s.next_task(timeout=60)
                s.answer(task, oracle(task))
        # One took a question the other held out: the second answer is refused, not stored.
        held = a.next_task(timeout=60)
        b.answer(dict(held), "ignore")
        with pytest.raises(AnswerError, match="already answered"):
            a.answer(held, "accept")
        assert held["_task_hash"] not in {t["_task_hash"] for t in a.outstanding()}
    finally:
        a.stop()
        b.stop()
    hashes = stored_hashes(db_path, "ds")
    assert len(hashes) == 1 + 3 + 40 + 1 and len(set(hashes)) == len(hashes)


def test_a_question_undone_in_one_session_can_be_answered_in_another(db_path):
    texts = gadget_texts(20)
    a = nba.teach(
        "ds",
        texts,
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        annotator="alice",
    )
    b = nba.teach(
        "ds",
        texts,
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        annotator="bob",
    )
    try:
        task = a.next_task(timeout=60)
        a.answer(task, "accept")
        a.undo()
        assert b.answer(dict(task), "reject")["answer"] == "reject"
        # ... and then it is answered: A, which offers its undone task again, skips it.
        assert a.next_task(timeout=60)["_task_hash"] != task["_task_hash"]
    finally:
        a.stop()
        b.stop()
    assert stored_hashes(db_path, "ds") == [task["_task_hash"]]


def test_two_sessions_answering_one_question_at_once_store_it_once(db_path):
    texts = gadget_texts(20)
    sessions = [
        nba.teach(
            "ds",
            texts,
            "blank:en",
            ["PRODUCT"],
            product_patterns(),
            db=db_path,
            split_sentences=False,
            annotator=name,
        )
        for name in ("alice", "bob")
    ]
    try:
        task = sessions[0].next_task(timeout=60)
        barrier = threading.Barrier(2)
        outcome: list[str] = []

        def answer(s: nba.TeachSession) -> None:
            barrier.wait()
            try:
                s.answer(dict(task), "accept")
                outcome.append("stored")
            except AnswerError:
                outcome.append("refused")

        threads = [threading.Thread(target=answer, args=(s,)) for s in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in sessions:
            s.stop()
    assert sorted(outcome) == ["refused", "stored"]
    assert stored_hashes(db_path, "ds") == [task["_task_hash"]]


def test_a_text_annotated_in_one_manual_session_is_not_shown_by_another(db_path):
    """Two annotators' manual sessions on one dataset, and a teach session beside them:
    a text annotated as gold is annotated once, and teach asks nothing more about it."""
    texts = ["My iPhone broke .", "A Pixel is nice .", "The Galaxy fell ."]
    a = nba.manual(
        "gold",
        texts,
        ["PRODUCT"],
        patterns=product_patterns(),
        db=db_path,
        split_sentences=False,
        annotator="alice",
    )
    b = nba.manual(
        "gold",
        texts,
        ["PRODUCT"],
        patterns=product_patterns(),
        db=db_path,
        split_sentences=False,
        annotator="bob",
    )
    teach = nba.teach(
        "gold",
        texts,
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        whole=None,
    )
    try:
        first = a.next_task()
        a.answer(first, "accept")
        with pytest.raises(AnswerError, match="already annotated .*by another session"):
            b.answer(dict(first), "accept")
        assert [t["text"] for t in b.next_tasks(5)] == texts[1:]
        asked = teach.next_tasks(10, timeout=30)
        assert asked and texts[0] not in {t["text"] for t in asked}
    finally:
        for s in (a, b, teach):
            s.stop()
    assert len(nba.Database(db_path).dataset("gold").answers(kind="gold")) == 1


def test_answers_imported_while_a_session_runs_are_not_asked(db_path, tmp_path):
    texts = gadget_texts(30)
    s = nba.teach(
        "ds", texts, "blank:en", ["PRODUCT"], product_patterns(), db=db_path, split_sentences=False
    )
    try:
        first = s.next_task(timeout=60)
        other = nba.teach(
            "elsewhere",
            texts,
            "blank:en",
            ["PRODUCT"],
            product_patterns(),
            db=db_path,
            split_sentences=False,
        )
        done = [other.answer(t, oracle(t)) for t in other.next_tasks(20, timeout=60)]
        other.stop()
        nba.Database(db_path).dataset("ds").import_jsonl(done)
        imported = {t["_task_hash"] for t in done} - {first["_task_hash"]}
        later = s.next_tasks(20, timeout=60)
    finally:
        s.stop()
    assert not imported & {t["_task_hash"] for t in later}


# -- undo and change_answer before a completion question is answered ------------------------


def open_gate(s: nba.TeachSession) -> None:
    """Answer as the oracle until the first completion question has been answered."""
    task, _ = answer_until_completion(s)
    s.answer(task, oracle(task))


def flipped(answer: str) -> str:
    return "reject" if answer == "accept" else "accept"


def agrees(completion: dict, span_task: dict, answer: str) -> bool:
    """A completion question agrees with an answer to a span question on its text."""
    inside = keys(span_task) <= keys(completion)
    return inside if answer == "accept" else not inside


def teach_for_completions(model: Path, db_path: Path) -> nba.TeachSession:
    return nba.teach(
        "undo",
        gadget_texts(400),
        str(model),
        ["PRODUCT"],
        db=db_path,
        split_sentences=False,
        whole=None,
        complete=0.0,
    )


@pytest.mark.parametrize("how", ["undo", "change_answer"])
def test_a_completion_question_held_out_is_refused_after_its_answers_changed(
    gadget_model, db_path, how
):
    """A widget shows the completion question after the text's last span question; the user
    takes back that span's answer and answers the other way. The completion question still on
    screen was made from the old answer: it is refused, and the one asked instead agrees."""
    s = teach_for_completions(gadget_model, db_path)
    try:
        open_gate(s)
        task, last = answer_until_completion(s)
        stale = task
        assert not agrees(stale, last, flipped(last["answer"]))
        new = flipped(last["answer"])
        if how == "undo":
            s.undo()
            again = s.next_task(timeout=60)
            assert again["_task_hash"] == last["_task_hash"]
            s.answer(again, new)
        else:
            s.change_answer(last["_task_hash"], new)
        assert s.settled(stale)  # a front end drops it
        with pytest.raises(AnswerError, match="out of date"):
            s.answer(stale, "accept")
        later = s.next_tasks(5, timeout=60)
    finally:
        s.stop()
    assert stale["_task_hash"] not in stored_hashes(db_path, "undo")
    assert stale["_task_hash"] not in {t["_task_hash"] for t in later}
    for t in later:
        if t["_input_hash"] == last["_input_hash"]:
            assert t["meta"]["completion"] and agrees(t, last, new)


@pytest.mark.parametrize("how", ["undo", "change_answer"])
def test_a_queued_completion_question_follows_a_changed_answer(gadget_model, db_path, how):
    """Answer a span, take the answer back at once and give the other: if the span was the
    text's last question, the completion question asked next agrees with the new answer."""
    s = teach_for_completions(gadget_model, db_path)
    checked = 0
    try:
        open_gate(s)
        for _ in range(80):
            task = s.next_task(timeout=60)
            if task["meta"].get("completion"):
                s.answer(task, oracle(task))
                continue
            last = s.answer(task, oracle(task))
            new = flipped(last["answer"])
            if how == "undo":
                s.undo()
                s.answer(s.next_task(timeout=60), new)
            else:
                s.change_answer(last["_task_hash"], new)
            nxt = s.next_task(timeout=60)
            if nxt["meta"].get("completion") and nxt["_input_hash"] == last["_input_hash"]:
                assert agrees(nxt, last, new)
                checked += 1
            s.answer(nxt, oracle(nxt))
            if checked >= 3:
                break
    finally:
        s.stop()
    assert checked >= 3, "no completion question followed a changed last answer"


def test_undoing_a_completion_and_the_span_before_it_asks_a_fitting_one(gadget_model, db_path):
    """Undo twice (the completion's answer, then the span's): the completion question comes
    back first, then the span; answered the other way, the old completion is not asked."""
    s = teach_for_completions(gadget_model, db_path)
    try:
        open_gate(s)
        task, last = answer_until_completion(s)
        completion = s.answer(task, "reject")
        s.undo()
        s.undo()
        again = s.next_task(timeout=60)
        assert again["_task_hash"] == last["_task_hash"]
        new = flipped(last["answer"])
        s.answer(again, new)
        later = s.next_tasks(5, timeout=60)
    finally:
        s.stop()
    assert completion["_task_hash"] not in {t["_task_hash"] for t in later}
    for t in later:
        if t["_input_hash"] == last["_input_hash"]:
            assert agrees(t, last, new)


# -- undoing an accepted whole analysis -----------------------------------------------------


def whole_with_spans(held: list[dict]) -> dict:
    """A whole-analysis question among ``held`` whose text has span questions held too."""
    return next(
        t
        for t in held
        if t["meta"].get("whole")
        and any(o["_input_hash"] == t["_input_hash"] and not o["meta"].get("whole") for o in held)
    )


@pytest.mark.parametrize("complete", [0.5, None])
def test_undoing_an_accepted_whole_analysis_asks_its_span_questions_again(
    gadget_model, db_path, complete
):
    s = nba.teach(
        "whole",
        gadget_texts(100),
        str(gadget_model),
        ["PRODUCT"],
        db=db_path,
        split_sentences=False,
        complete=complete,
    )
    try:
        held = s.next_tasks(8, timeout=60)
        whole = whole_with_spans(held)
        spans = {
            t["_task_hash"]
            for t in held
            if t["_input_hash"] == whole["_input_hash"] and not t["meta"].get("whole")
        }
        s.answer(whole, "accept")
        assert not spans & {t["_task_hash"] for t in s.outstanding()}  # settled: dropped
        assert s.undo()["_task_hash"] == whole["_task_hash"]
        asked = s.next_tasks(1 + len(spans), timeout=60)
    finally:
        s.stop()
    assert asked[0]["_task_hash"] == whole["_task_hash"]
    assert spans <= {t["_task_hash"] for t in asked[1:]}


def test_a_question_held_out_when_its_text_became_complete_is_refused_not_stored(
    gadget_model, db_path
):
    """A widget may still show a span question when the text's whole analysis is accepted (or
    changed to accept from the history): answering it stores nothing and says why."""
    s = nba.teach(
        "whole",
        gadget_texts(100),
        str(gadget_model),
        ["PRODUCT"],
        db=db_path,
        split_sentences=False,
        complete=None,
    )
    try:
        held = s.next_tasks(8, timeout=60)
        whole = whole_with_spans(held)
        span = next(
            t
            for t in held
            if t["_input_hash"] == whole["_input_hash"] and not t["meta"].get("whole")
        )
        s.answer(whole, "reject")
        s.change_answer(whole["_task_hash"], "accept")
        with pytest.raises(AnswerError, match="no longer needed: its text was annotated"):
            s.answer(span, "accept")
        assert span["_task_hash"] not in stored_hashes(db_path, "whole")
        s.change_answer(whole["_task_hash"], "reject")  # not complete any more: asked again
        assert span["_task_hash"] in {t["_task_hash"] for t in s.next_tasks(10, timeout=60)}
    finally:
        s.close()


def test_span_questions_queued_behind_an_accepted_whole_come_back_after_an_update_and_undo(
    gadget_model, db_path
):
    """The text's span questions still wait in the ready queue when its whole analysis is
    accepted; a model update then clears the queue and re-scores. Undoing the accept must still
    ask them: the update skips them as settled and keeps them with the text's record (so does
    the re-scoring, before or after the undo)."""
    s = nba.teach(
        "whole",
        gadget_texts(100),
        str(gadget_model),
        ["PRODUCT"],
        db=db_path,
        split_sentences=False,
        complete=None,
    )

    def queue_filled() -> bool:  # the producer queued all it will before the next answer
        with s._cond:
            return len(s._ready) >= s.prefetch or s._exhausted

    try:
        whole, spans = None, set()
        for _ in range(100):  # each answer in step with its update: the same run every time
            task = s.next_task(timeout=60)
            wait_for(queue_filled, what="the ready queue to fill")
            with s._cond:
                queued = {
                    t["_task_hash"] for t, _ in s._ready if t["_input_hash"] == task["_input_hash"]
                }
            if task["meta"].get("whole") and queued:
                whole, spans = task, queued
                break
            s.answer(task, "ignore")
            in_step(s)
        assert whole is not None, "no whole analysis with span questions still queued"
        s.answer(whole, "accept")
        assert s.update_model(timeout=60)  # clears the ready queue (the update ran first)
        with s._cond:  # skipped as settled, kept with the text's record (whenever re-scored)
            assert spans <= set(s._questions.record_of(whole["_input_hash"]).dropped)
        assert s.undo()["_task_hash"] == whole["_task_hash"]
        s.answer(s.next_task(timeout=60), "reject")  # the whole analysis, asked again
        asked = {t["_task_hash"] for t in s.next_tasks(30, timeout=60)}
    finally:
        s.close()
    assert spans <= asked


# -- correct(update=True) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_without_two_products(tmp_path_factory) -> Path:
    """Finds the gadget products except Surface and Kindle, which it was taught are not."""
    path = tmp_path_factory.mktemp("model") / "model"
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner").add_label("PRODUCT")
    known = [p for p in PRODUCTS if p not in ("Surface", "Kindle")]
    examples = [
        Example.from_dict(nlp.make_doc(t), {"entities": sorted(gold_spans(t))})
        for t in gadget_texts(200, seed=1, products=known)
    ]
    examples += [
        Example.from_dict(nlp.make_doc(t), {"entities": []})
        for t in gadget_texts(100, seed=2, products=["Surface", "Kindle"])
    ]
    nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(10):
        rng.shuffle(examples)
        for i in range(0, len(examples), 16):
            nlp.update(examples[i : i + 16], drop=0.1)
    nlp.to_disk(path)
    return path


def test_correct_with_update_prehighlights_what_the_corrections_taught(
    model_without_two_products, db_path
):
    texts = gadget_texts(80, seed=7, products=["Surface", "Kindle"])
    s = nba.correct(
        "fix",
        texts,
        str(model_without_two_products),
        db=db_path,
        update=True,
        split_sentences=False,
    )
    shown = []
    try:
        for i in range(70):
            task = s.next_task()
            gold = gold_spans(task["text"])
            shown.append(keys(task) == gold)
            s.answer(
                task,
                "accept",
                spans=[{"start": a, "end": b, "label": label} for a, b, label in sorted(gold)],
            )
            if i % 10 == 9:  # as for a person: each update lands before the next text
                assert s.update_model() is True
    finally:
        s.stop()
    assert not any(shown[:10])  # the model did not know them
    assert sum(shown[-10:]) >= 8, shown


def test_correct_update_model_follows_teachs_contract(db_path, tmp_path):
    texts = gadget_texts(30)
    fix = nba.correct("fix", texts, "blank:en", ["PRODUCT"], db=db_path, update=True)
    for task in fix.next_tasks(3):
        fix.answer(
            task,
            "accept",
            spans=[
                {"start": a, "end": b, "label": label}
                for a, b, label in sorted(gold_spans(task["text"]))
            ],
        )
    assert fix.update_model(timeout=60) is True and fix.progress["updates"] == 1
    fix.answer(fix.next_task(), "accept")
    fix.stop()
    with pytest.raises(SessionError, match="1 answer"):
        fix.update_model()
    plain = nba.manual("gold", texts, ["PRODUCT"], db=db_path)
    with pytest.raises(SessionError, match="does not update a model"):
        plain.update_model()
    plain.stop()


@pytest.mark.parametrize(
    ("arg", "value"),
    [("average", 1.0), ("average", "high"), ("learn_rate", 0), ("learn_rate", float("nan"))],
)
def test_correct_checks_learn_rate_and_average_at_the_call(db_path, arg, value):
    with pytest.raises(ValueError, match=arg):
        nba.correct(
            "fix", gadget_texts(3), "blank:en", ["PRODUCT"], db=db_path, update=True, **{arg: value}
        )


def test_running_the_cell_again_closes_the_previous_session(db_path):
    """A re-run teach cell makes a new session; the old one stops scoring and updating, says
    why when used, and its answers stay. Another annotator's session is left alone."""
    texts = gadget_texts(40)
    old = nba.teach(
        "ds", texts, "blank:en", ["PRODUCT"], product_patterns(), db=db_path, split_sentences=False
    )
    bob = nba.teach(
        "ds",
        texts,
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        annotator="bob",
    )
    kept = old.answer(old.next_task(timeout=60), "accept")
    held = old.next_task(timeout=60)
    new = nba.teach(
        "ds", texts, "blank:en", ["PRODUCT"], product_patterns(), db=db_path, split_sentences=False
    )
    try:
        assert old.closed_reason and "took over" in old.closed_reason
        assert not old._producer.is_alive()  # no more scoring for nothing
        with pytest.raises(SessionError, match="newer teach session .* took over"):
            old.answer(held, "reject")
        with pytest.raises(SessionError, match="took over"):
            old.next_task(timeout=1)
        assert bob.closed_reason is None
        bob.answer(bob.next_task(timeout=60), "reject")
        task = new.next_task(timeout=60)
        assert task["_task_hash"] != kept["_task_hash"]
        new.answer(task, "accept")
    finally:
        new.close()
        bob.close()
    answers = nba.Database(db_path).dataset("ds").answers()
    assert kept["_task_hash"] in {a["_task_hash"] for a in answers} and len(answers) == 3
