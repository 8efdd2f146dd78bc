"""The model's precision on the last answers to its own guesses, in ``session.progress``."""

from __future__ import annotations

from gadgets import answer_tasks, gadget_texts, oracle, product_patterns

import nbannotate as nba
from nbannotate.precision import ModelPrecision


def guess(th: int, answer: str, source: str = "model", **meta) -> dict:
    return {
        "_task_hash": th,
        "text": "t",
        "answer": answer,
        "meta": meta,
        "spans": [{"start": 0, "end": 1, "label": "X", "source": source}],
    }


def expected(stored: list[dict], window: int = 100) -> tuple[float | None, int]:
    """Accepted share of the last ``window`` accept/reject answers to single model spans."""
    decided = [
        t["answer"]
        for t in stored
        if not t["meta"].get("whole")
        and len(t["spans"]) == 1
        and t["spans"][0].get("source") == "model"
        and t["answer"] != "ignore"
    ]
    last = decided[-window:]
    return (last.count("accept") / len(last) if last else None), len(last)


def test_only_the_models_single_guesses_count_over_the_last_window():
    p = ModelPrecision(window=4, every=2)
    assert p.progress() == {
        "model_precision": None,
        "model_precision_answers": 0,
        "model_precision_history": [],
    }
    p.add(guess(1, "reject"))
    p.add(guess(2, "accept", source="pattern"))  # a pattern's match: not the model's guess
    p.add({**guess(3, "accept"), "meta": {"whole": True}})  # a whole analysis
    p.add(guess(4, "ignore"))  # neither right nor wrong
    assert p.progress()["model_precision"] == 0.0
    for th in range(5, 9):
        p.add(guess(th, "accept"))
    out = p.progress()
    assert out["model_precision"] == 1.0 and out["model_precision_answers"] == 4  # 1 left out
    # a point every 2 decided answers: after 2 (1 of 2) and 4 (3 of 4), then the current one
    assert out["model_precision_history"] == [0.5, 0.75, 1.0]


def test_undo_and_change_adjust_the_precision_and_its_history():
    p = ModelPrecision(window=100, every=2)
    tasks = [guess(1, "accept"), guess(2, "reject"), guess(3, "ignore"), guess(4, "accept")]
    for t in tasks:
        p.add(t)
    assert p.progress()["model_precision"] == 2 / 3
    assert p.progress()["model_precision_history"] == [0.5, round(2 / 3, 4)]
    p.change(tasks[2], "reject")  # the ignore becomes a reject: now counted
    assert p.progress()["model_precision"] == 0.5
    p.change(tasks[1], "accept")
    assert p.progress()["model_precision"] == 0.75
    p.remove(tasks[3])  # undo the last answer
    out = p.progress()
    assert out["model_precision"] == 2 / 3 and out["model_precision_answers"] == 3
    assert out["model_precision_history"] == [0.5, round(2 / 3, 4)]
    p.remove(tasks[2])
    # the point measured after the 3rd decided answer is gone with it
    assert p.progress()["model_precision_history"] == [0.5, 1.0]


def test_a_long_session_keeps_a_short_history_over_all_of_it():
    p = ModelPrecision(window=100, every=5, max_points=48)
    for th in range(2000):
        p.add(guess(th, "accept" if th >= 1000 else "reject"))
    history = p.progress()["model_precision_history"]
    assert 24 <= len(history) <= 49
    assert history[0] == 0.0 and history[-1] == 1.0  # from the start to now
    assert history == sorted(history)


def test_progress_reports_the_precision_of_a_real_teach_session(db_path):
    """A real blank:en teach session with patterns: the model's own guesses are among the
    questions; its precision is the accepted share of the last answers to them, and undo and
    change_answer move it as the answers change."""
    s = nba.teach(
        "precision",
        gadget_texts(400),
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        seed=0,
    )
    try:
        stored = answer_tasks(s, 150)
        value, n = expected(stored)
        assert n > 0, "no answers to the model's guesses"
        progress = s.progress
        assert progress["model_precision"] == value
        assert progress["model_precision_answers"] == n
        history = progress["model_precision_history"]
        assert history and history[-1] == round(value, 4)
        assert all(0 <= v <= 1 for v in history)

        # change the last answer to one of the model's guesses to the other decision
        last = next(
            t
            for t in reversed(stored)
            if t["spans"]
            and t["spans"][0].get("source") == "model"
            and not t["meta"].get("whole")
            and t["answer"] != "ignore"
        )
        flipped = "reject" if last["answer"] == "accept" else "accept"
        s.change_answer(last["_task_hash"], flipped)
        stored = [dict(t, answer=flipped) if t is last else t for t in stored]
        assert s.progress["model_precision"] == expected(stored)[0]
        assert s.progress["model_precision"] != value

        # undo the last answers: each leaves the precision
        for _ in range(3):
            s.undo()
            stored.pop()
            assert (
                s.progress["model_precision"],
                s.progress["model_precision_answers"],
            ) == expected(stored)
    finally:
        s.stop()


def test_the_oracle_sees_the_model_improve(db_path):
    """The point of showing it: answered as the gold says, a blank model's guesses start out
    all wrong and get right more often as it learns, and the history shows the rise."""
    s = nba.teach(
        "improve",
        gadget_texts(600, seed=3),
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        seed=0,
    )
    try:
        answer_tasks(s, 400, oracle)
        history = s.progress["model_precision_history"]
    finally:
        s.stop()
    assert len(history) >= 4
    assert history[-1] > history[0]
