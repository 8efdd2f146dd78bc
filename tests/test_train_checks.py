"""What train()/train_curve() refuse at the call, what they evaluate on, and update_model()
on a stopped or slow updater. Real DuckDB files, real spaCy (blank:en), tiny training runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example
from test_train import binary_answers, corpus, docbin_docs, gold

import nbannotate as nba
from nbannotate.errors import SessionError, StoreError, TrainingError
from nbannotate.models import INCORRECT_SPANS_KEY, load_model
from nbannotate.store import Database
from nbannotate.tasks import make_task
from nbannotate.train import make_ner_scorer, train, train_curve
from nbannotate.updater import ModelUpdater

TINY = {"epochs": 1, "batch_size": 8, "progress": False}


@pytest.fixture
def db(tmp_path: Path):
    database = Database(tmp_path / "nba.duckdb")
    yield database
    database.close()


def silver(text: str, ents: list[tuple[int, int, str]]) -> dict:
    """What nba.silver() stores: a model's whole analysis, accepted, marked meta.silver."""
    task = gold(text, ents)
    task["meta"] = {"silver": True, "score": 0.95}
    return task


# -- silver data is never held out for evaluation ------------------------------------------


def test_the_held_out_texts_are_answered_by_a_person_and_silver_all_trains(db, tmp_path):
    teach = binary_answers(10)  # 10 texts a person judged (binary answers)
    answered = {t["text"] for t in teach}
    guesses = [silver(t, e) for t, e in corpus(30, offset=10)]
    # A text both answered and analysed by the model: the person's answers win.
    both, both_ents = corpus(1)[0]
    guesses.append(silver(both, both_ents[:1]))
    db.dataset("teach", create=True).add_many(teach)
    db.dataset("teach-silver", create=True).add_many(guesses, answer="accept")

    out = tmp_path / "out"
    result = train(["teach", "teach-silver"], out, db=db, **TINY)
    dev = docbin_docs(out / "dev.spacy")
    assert {d.text for d in dev} <= answered
    assert result.stats["eval_texts"] == 2  # eval_split=0.2 of the 10 answered texts
    assert result.scores["eval"] == "binary"  # no silver scored as gold
    assert result.stats["silver_train_texts"] == 30
    assert result.stats["train_texts"] == 8 + 30
    train_docs = {d.text: d for d in docbin_docs(out / "train.spacy")}
    doc = train_docs.get(both) or next(d for d in dev if d.text == both)
    assert any(t.ent_iob_ == "" for t in doc)  # binary answers, not the silver analysis


def test_silver_alone_cannot_make_an_eval_set(db, tmp_path):
    db.dataset("teach", create=True).add_many(binary_answers(1))
    db.dataset("teach-silver", create=True).add_many(
        [silver(t, e) for t, e in corpus(20, offset=10)], answer="accept"
    )
    with pytest.raises(TrainingError, match="Only 1 text answered by a person .*20 silver"):
        train(["teach", "teach-silver"], tmp_path / "out", db=db, **TINY)
    with pytest.raises(TrainingError, match="eval dataset 'teach-silver' holds 20 silver"):
        train("teach", tmp_path / "out", db=db, eval_dataset="teach-silver", **TINY)
    assert not (tmp_path / "out").exists()


# -- entity scores only where the annotation is complete -----------------------------------


def test_binary_examples_give_accuracy_not_an_entity_f():
    nlp = spacy.blank("en")
    text = "I bought an iPhone and a Pixel today"
    ref = nlp.make_doc(text)
    ref.set_ents([Span(ref, 3, 4, "PRODUCT")], default="missing")  # iPhone accepted
    ref.spans[INCORRECT_SPANS_KEY] = [Span(ref, 6, 7, "PRODUCT")]  # Pixel rejected
    pred = nlp.make_doc(text)
    # iPhone right; "today" wrong, but a binary answer says nothing about it.
    pred.set_ents([Span(pred, 3, 4, "PRODUCT"), Span(pred, 7, 8, "PRODUCT")])
    binary_eg = Example(pred, ref)
    score = make_ner_scorer(INCORRECT_SPANS_KEY)

    scores = score([binary_eg])
    assert scores["ents_f"] is None and scores["ents_p"] is None
    assert scores["ents_binary_acc"] == 1.0

    # Beside a complete annotation the model got wrong, F is that annotation's alone.
    gold_ref = nlp.make_doc("Bob flew home")
    gold_ref.set_ents([Span(gold_ref, 0, 1, "PERSON")], default="outside")
    gold_eg = Example(nlp.make_doc("Bob flew home"), gold_ref)
    scores = score([binary_eg, gold_eg])
    assert scores["ents_f"] == 0.0 and scores["ents_r"] == 0.0
    assert scores["ents_binary"]["total"] == 2


# -- train_curve: one directory per fraction ----------------------------------------------


def test_curve_fractions_each_get_their_own_directory(db, tmp_path):
    db.dataset("teach", create=True).add_many(binary_answers(10))
    root = tmp_path / "curve"
    curve = train_curve("teach", db=db, fractions=(0.504, 0.5), output_dir=root, plot=False, **TINY)
    assert [r["fraction"] for r in curve.rows] == [0.5, 0.504]
    assert sorted(p.name for p in root.iterdir()) == ["50", "50.4"]
    assert spacy.load(root / "50.4").pipe_names == ["tok2vec", "ner"]
    assert "50.4" in str(curve)

    with pytest.raises(TrainingError, match="both 50% of the data"):
        train_curve(
            "teach",
            db=db,
            fractions=(0.5, 0.5 + 1e-12),
            output_dir=tmp_path / "c2",
            plot=False,
            **TINY,
        )
    assert not (tmp_path / "c2").exists()


# -- arguments ------------------------------------------------------------------------------


# Each failed with a raw TypeError/ValueError, or deep inside spaCy, or trained anyway.
TRAIN_BAD: list[tuple[str, Any]] = [
    ("epochs", True),
    ("dropout", "x"),
    ("dropout", None),
    ("patience", True),
    ("seed", "x"),
    ("seed", -1),
    ("seed", 2**32),
    ("seed", 0.5),
    ("eval_split", "x"),
]


@pytest.mark.parametrize(("name", "value"), TRAIN_BAD)
def test_a_bad_number_is_refused_at_the_call(db, tmp_path, name, value):
    db.dataset("teach", create=True).add_many(binary_answers(5))
    before = db.dataset("teach").counts()
    kwargs = {**TINY, name: value}
    with pytest.raises(TrainingError, match=name):
        train("teach", tmp_path / "out", db=db, **kwargs)
    with pytest.raises(TrainingError, match=name):
        train_curve("teach", db=db, output_dir=tmp_path / "curve", **kwargs)
    assert not (tmp_path / "out").exists() and not (tmp_path / "curve").exists()
    assert db.dataset("teach").counts() == before


@pytest.mark.parametrize("fractions", [("a",), 0.5, "0.5", (float("nan"),), (0.5, None), ()])
def test_bad_fractions_are_refused_at_the_call(db, tmp_path, fractions):
    db.dataset("teach", create=True).add_many(binary_answers(5))
    with pytest.raises(TrainingError, match=r"fractions must be a list of numbers in \(0, 1\]"):
        train_curve("teach", db=db, fractions=fractions, output_dir=tmp_path / "c", **TINY)
    assert not (tmp_path / "c").exists()


def test_numpy_numbers_are_accepted(db, tmp_path):
    np = pytest.importorskip("numpy")
    db.dataset("teach", create=True).add_many(binary_answers(10))
    result = train(
        "teach",
        tmp_path / "out",
        db=db,
        epochs=np.int64(1),
        dropout=np.float32(0.1),
        batch_size=np.int32(8),
        seed=np.uint8(3),
        progress=False,
    )
    assert result.stats["eval_texts"] == 2


def test_labels_that_no_answer_has_name_the_labels_the_data_has(db, tmp_path):
    db.dataset("teach", create=True).add_many(binary_answers(5))
    for labels in (["NOPE"], ["person"]):
        with pytest.raises(TrainingError) as err:
            train("teach", tmp_path / "out", db=db, labels=labels, **TINY)
        msg = str(err.value)
        assert f"label(s) {labels[0]} asked for in labels=" in msg
        assert "CITY, PERSON" in msg and "only rejections" not in msg


# -- the database is read, never created ----------------------------------------------------


def test_a_missing_database_path_is_an_error_and_is_not_created(tmp_path, monkeypatch):
    typo = tmp_path / "typo" / "dir" / "x.duckdb"
    with pytest.raises(StoreError, match="No database at .*typo/dir/x.duckdb"):
        train("teach", tmp_path / "out", db=str(typo), **TINY)
    with pytest.raises(StoreError, match="No database at"):
        train_curve("teach", db=typo, **TINY)
    assert not (tmp_path / "typo").exists() and not (tmp_path / "out").exists()

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NBANNOTATE_DB", raising=False)
    with pytest.raises(StoreError, match="db was not given.*nbannotate.duckdb"):
        train("teach", tmp_path / "out", **TINY)
    with pytest.raises(StoreError, match="in-memory"):
        train("teach", tmp_path / "out", db=":memory:", **TINY)
    assert list(tmp_path.iterdir()) == []


# -- update_model() -------------------------------------------------------------------------


def test_update_model_after_stop_raises_at_once(tmp_path):
    s = nba.teach(
        "t",
        [f"I bought an iPhone {i} ." for i in range(5)],
        "blank:en",
        ["PRODUCT"],
        db=tmp_path / "nba.duckdb",
        split_sentences=False,
    )
    s.answer(s.next_task(timeout=60), "accept")
    s.stop()
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            s.update_model(timeout=None)
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    started = time.monotonic()
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "update_model(timeout=None) hung on a stopped session"
    assert time.monotonic() - started < 5
    (err,) = outcome
    assert isinstance(err, SessionError)
    assert "stopped" in str(err) and "1 answer(s)" in str(err)
    assert len(nba.Database(tmp_path / "nba.duckdb").dataset("t").answers()) == 1

    # Nothing pending: the model has every answer, so there is nothing to report.
    idle = nba.teach(
        "t2",
        ["I bought an iPhone ."],
        "blank:en",
        ["PRODUCT"],
        db=tmp_path / "nba.duckdb",
        split_sentences=False,
    )
    idle.stop()
    started = time.monotonic()
    idle.update_model(timeout=60)
    assert time.monotonic() - started < 30  # at once, not after the timeout


def answered(text: str, start: int, end: int) -> dict:
    spans = [{"start": start, "end": end, "label": "PRODUCT"}]
    return {**make_task(text, [], spans), "answer": "accept"}


def test_flush_reports_a_timeout_then_completes():
    lock = threading.RLock()
    updater = ModelUpdater(load_model("blank:en", ["PRODUCT"]), lock, batch_size=10)
    try:
        for i in range(3):
            updater.submit(answered(f"My Pixel {i} broke .", 3, 8))
        with lock:  # the update waits for the model: it cannot finish in time
            with pytest.warns(RuntimeWarning, match=r"after 0.3 s .*goes on in the background"):
                assert updater.flush(timeout=0.3) is False
        assert updater.flush(timeout=60) is True
        assert [r.answers for r in updater.reports] == [3]
    finally:
        updater.stop()


def test_wait_idle_after_stop_returns_with_a_full_batch_pending():
    updater = ModelUpdater(load_model("blank:en", ["PRODUCT"]), threading.RLock(), batch_size=2)
    updater.stop()
    for i in range(2):  # a full batch that no worker will ever take
        updater.submit(answered(f"My Pixel {i} broke .", 3, 8))
    thread = threading.Thread(target=updater.wait_idle, kwargs={"timeout": None}, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "wait_idle(timeout=None) hung on a stopped updater"
    with pytest.raises(SessionError, match="2 answer"):
        updater.flush(timeout=None)


def test_eval_split_is_not_checked_when_an_eval_dataset_is_given(db, tmp_path):
    """eval_split is unused with eval_dataset=: a value left over (None, say) must not be
    refused as if it were used."""
    db.dataset("teach", create=True).add_many(binary_answers(10))
    db.dataset("eval", create=True).add_many(
        [gold(t, e) for t, e in corpus(4, offset=40)], answer="accept"
    )
    result = train("teach", tmp_path / "out", db=db, eval_dataset="eval", eval_split=None, **TINY)
    assert result.stats["eval_texts"] == 4
