"""Completion questions: after a text's span answers, its analysis that agrees with them."""

from __future__ import annotations

import pytest
from gadgets import answer_tasks as run
from gadgets import (
    answer_until_completion,
    gadget_texts,
    gold_spans,
    in_step,
    oracle,
    product_patterns,
    trained_gadget_model,
)

import nbannotate as nba
from nbannotate.candidates import consistent_analysis
from nbannotate.session import COMPLETE_AFTER_MODEL_ACCEPTS


def keys(task: dict) -> set[tuple[int, int, str]]:
    return {(s["start"], s["end"], s["label"]) for s in task["spans"]}


def test_the_consistent_analysis_keeps_accepts_drops_rejects_and_known_wrong_wholes():
    a, b, c = (0, 1, "X"), (2, 3, "X"), (4, 6, "Y")
    analyses = [(0.5, (a, b)), (0.2, (a,)), (0.2, (b, c)), (0.1, (a, c))]
    # Nothing answered: the best analysis, holding half of all the probability.
    assert consistent_analysis(analyses, set(), set()) == (pytest.approx(0.5), 0.5, (a, b))
    # b rejected: of the analyses without b, (a,) is the most probable: 0.2 of 0.3.
    share, prob, ents = consistent_analysis(analyses, {a}, {b})
    assert ents == (a,) and prob == 0.2 and share == pytest.approx(2 / 3)
    # ... and once (a,) was rejected as a whole, only (a, c) is left.
    assert consistent_analysis(analyses, {a}, {b}, {frozenset({a})}) == (
        pytest.approx(1.0),
        0.1,
        (a, c),
    )
    # Accepted c with a rejected: nothing in the beam agrees.
    assert consistent_analysis(analyses, {c}, {a, b}) is None
    assert consistent_analysis([], set(), set()) is None


def test_after_a_texts_span_answers_its_completion_is_asked_once(tmp_path, db_path):
    """A user answers the span questions on a sentence; right after the last one the session
    asks whether the model's analysis that agrees with those answers is the whole truth."""
    model = trained_gadget_model(tmp_path / "model", epochs=2)  # right often, not always
    s = nba.teach(
        "complete",
        gadget_texts(800),
        str(model),
        ["PRODUCT"],
        db=db_path,
        split_sentences=False,
        whole=None,
        complete=0.0,
    )
    try:
        done = run(s, 300)
        later = s.next_tasks(30, timeout=60)
    finally:
        s.stop()
    asked = [(i, t) for i, t in enumerate(done) if t["meta"].get("completion")]
    assert len(asked) >= 5, "no completion questions were asked"
    texts = [t["_input_hash"] for _, t in asked]
    assert len(texts) == len(set(texts)), "a text was asked to be completed twice"
    immediate = 0
    for i, task in asked:
        assert task["meta"]["whole"] and 0.0 <= task["meta"]["score"] <= 1.0
        before = [t for t in done[:i] if t["_input_hash"] == task["_input_hash"]]
        spans = [t for t in before if not t["meta"].get("whole")]
        assert spans, "a completion was asked about a text without span answers"
        # Asked after the text's last question (most right after it: see below), and agreeing
        # with every answer on it.
        last = max(j for j, t in enumerate(done[:i]) if t["_input_hash"] == task["_input_hash"])
        immediate += i - last == 1
        assert {k for t in spans if t["answer"] == "accept" for k in keys(t)} <= keys(task)
        assert not {k for t in spans if t["answer"] == "reject" for k in keys(t)} & keys(task)
        assert not [t for t in done[i + 1 :] + later if t["_input_hash"] == task["_input_hash"]]
    # Later only when another question of the text was still queued and then not asked (the
    # model, updated meanwhile, re-scored the text and no longer proposed it).
    assert immediate >= len(asked) / 2, "completion questions came late"
    accepted = [t for _, t in asked if t["answer"] == "accept"]
    assert accepted, "the oracle never accepted a completion"
    for task in accepted:
        assert keys(task) == gold_spans(task["text"])
    # An accepted completion is a complete annotation of its text, like a whole analysis.
    df = nba.Database(db_path).dataset("complete").to_pandas()
    completed = df[df["task_hash"].isin([t["_task_hash"] for t in accepted])]
    assert len(completed) == len(accepted) and set(completed["kind"]) == {"gold"}


def test_undoing_the_last_span_answer_before_the_completion_asks_it_again(tmp_path, db_path):
    model = trained_gadget_model(tmp_path / "model", epochs=2)
    s = nba.teach(
        "undo",
        gadget_texts(400),
        str(model),
        ["PRODUCT"],
        db=db_path,
        split_sentences=False,
        whole=None,
        complete=0.0,
    )
    try:
        task, last = answer_until_completion(s)
        assert last["_input_hash"] == task["_input_hash"]
        undone = s.undo()
        assert undone["_task_hash"] == last["_task_hash"]
        again = s.next_task(timeout=60)
        assert again["_task_hash"] == last["_task_hash"]
        s.answer(again, oracle(again))
        # The completion handed out before the undo is still out, and can be answered.
        assert [t["_task_hash"] for t in s.outstanding()] == [task["_task_hash"]]
        assert s.answer(task, oracle(task))["meta"]["completion"]
    finally:
        s.stop()


@pytest.mark.parametrize("complete", ["default", None])
def test_completion_questions_are_on_by_default_and_off_with_none(tmp_path, db_path, complete):
    model = trained_gadget_model(tmp_path / "model")  # no patterns: nothing to wait for
    extra = {} if complete == "default" else {"complete": complete}
    s = nba.teach(
        "plain",
        gadget_texts(200),
        str(model),
        ["PRODUCT"],
        db=db_path,
        split_sentences=False,
        whole=None,
        **extra,
    )
    try:
        done = run(s, 60)
    finally:
        s.stop()
    asked = [t for t in done if t["meta"].get("completion")]
    assert len(done) == 60
    if complete is None:
        assert not asked
    else:  # one per text with a span answer, right after the text's span questions
        assert len(asked) >= 20
        for i, task in enumerate(done):
            if task["meta"].get("completion"):
                assert i > 0 and done[i - 1]["text"] == task["text"]


def test_with_patterns_completions_wait_until_the_model_proposes_the_label(db_path):
    """Bootstrapping a label from patterns, completion questions wait until the annotator has
    accepted 20 spans that the model proposed itself; accepted pattern matches do not count."""
    s = nba.teach(
        "gate",
        gadget_texts(1200),
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        complete=0.0,
    )
    try:
        done = run(s, 600)  # in step with the updates: the same run on any machine
    finally:
        s.stop()
    first = next((i for i, t in enumerate(done) if t["meta"].get("completion")), None)
    assert first is not None, "no completion question in 600 decisions"

    def accepted_from(source: str) -> int:
        return sum(
            1
            for t in done[:first]
            if t["answer"] == "accept"
            and not t["meta"].get("whole")
            and t["spans"][0]["source"] == source
        )

    assert COMPLETE_AFTER_MODEL_ACCEPTS == 20
    assert accepted_from("model") >= 20
    assert accepted_from("pattern") >= 20  # they did not open the gate


def test_without_patterns_completions_start_after_20_accepted_model_spans(tmp_path, db_path):
    model = trained_gadget_model(tmp_path / "model")  # one confident span per sentence
    s = nba.teach(
        "rate",
        gadget_texts(100),
        str(model),
        ["PRODUCT"],
        db=db_path,
        split_sentences=False,
        whole=None,
    )
    spans = 0
    asked_after = []  # span questions answered when each completion question came
    try:
        for _ in range(60):
            task = s.next_task(timeout=60)
            if task["meta"].get("completion"):
                asked_after.append(spans)
            else:
                assert task["spans"][0]["source"] == "model"
                spans += 1
            s.answer(task, "accept")
            in_step(s)  # what the model proposes next depends on the answers only
    finally:
        s.stop()
    assert asked_after[0] == 20  # right after the 20th accepted span, then after every one
    assert asked_after == list(range(20, 20 + len(asked_after))) and len(asked_after) >= 15


def test_the_gate_follows_the_share_of_the_models_latest_spans_accepted():
    """Completions are asked while at least 1 in 10 of the latest 100 span questions the model
    proposed was accepted; pattern matches, whole questions and ignores do not count; undo and
    changed answers are taken back."""
    from nbannotate.session import ModelProposals

    hashes = iter(range(1, 10_000))

    def task(source: str = "model", whole: bool = False) -> dict:
        return {
            "_task_hash": next(hashes),
            "meta": {"whole": whole},
            "spans": [{"start": 0, "end": 1, "label": "X", "source": source}],
        }

    p = ModelProposals()
    accepted = [task() for _ in range(19)]
    for t in accepted:
        p.add(t, "accept")
    p.add(task("pattern"), "accept")
    p.add(task(whole=True), "accept")
    p.add(task(), "ignore")
    assert not p.trusted()  # 19 of the model's own
    twentieth = task()
    p.add(twentieth, "accept")
    assert p.trusted()
    p.remove(twentieth, "accept")  # undone
    assert not p.trusted()
    p.add(twentieth, "accept")
    rejected = [task() for _ in range(91)]
    for t in rejected[:90]:
        p.add(t, "reject")
    assert p.trusted()  # the latest 100: 10 accepted, 90 rejected
    p.add(rejected[90], "reject")
    assert not p.trusted()  # 9 of the latest 100
    p.remove(rejected[90], "reject")
    p.add(rejected[90], "accept")  # changed to accept
    assert p.trusted() and p.accepted == 21


@pytest.mark.parametrize("value", [1.5, -0.1, "high", True])
def test_a_bad_completion_share_fails_at_teach(db_path, value):
    with pytest.raises(ValueError, match="complete must be a probability between 0 and 1"):
        nba.teach("bad", gadget_texts(5), "blank:en", ["PRODUCT"], db=db_path, complete=value)
    assert "bad" not in nba.Database(db_path).datasets()


def test_texts_waiting_for_answers_are_bounded(db_path, monkeypatch):
    """Texts handed out and never answered (a closed widget) do not pile up in memory."""
    import nbannotate.questions as questions_module

    monkeypatch.setattr(questions_module, "MAX_OPEN_TEXTS", 5)
    s = nba.teach(
        "bounded",
        gadget_texts(200),
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
        complete=0.5,
    )
    try:
        tasks = s.next_tasks(60, timeout=60)
        assert len({t["_input_hash"] for t in tasks}) > 5
        assert len(s._questions.open) <= 5
    finally:
        s.stop()
