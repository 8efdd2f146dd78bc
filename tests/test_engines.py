"""Everything that takes ``db=`` works the same on both stores: each test runs on a DuckDB file
and on a PostgreSQL database (a throwaway cluster), through the public API only."""

from __future__ import annotations

from pathlib import Path

import pytest
from gadgets import (
    answer_tasks,
    gadget_texts,
    gold_spans,
    oracle,
    product_patterns,
    trained_gadget_model,
)

import nbannotate as nba

LABELS = ["PRODUCT"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return trained_gadget_model(tmp_path_factory.mktemp("model") / "gadgets", n=120, epochs=6)


def gold(text: str) -> list[dict]:
    return [{"start": s, "end": e, "label": lab} for s, e, lab in sorted(gold_spans(text))]


def test_teach_undo_change_and_resume(store_address):
    texts = gadget_texts(30, seed=11)
    s = nba.teach("loop", texts, "blank:en", labels=LABELS, patterns=product_patterns(),
                  db=store_address, annotator="ann", whole=None, complete=None)  # fmt: skip
    answered = answer_tasks(s, 8, oracle)
    last = s.undo()
    assert last is not None and last["_task_hash"] == answered[-1]["_task_hash"]
    again = s.next_task()
    assert again is not None and again["_task_hash"] == last["_task_hash"]  # asked again first
    s.answer(again, "accept")
    changed = s.change_answer(answered[0]["_task_hash"], "ignore")
    assert changed["answer"] == "ignore"
    s.close()
    with nba.Database(store_address) as db:
        df = db.dataset("loop").to_pandas()
    assert len(df) == 8 and df["task_hash"].is_unique
    assert df.loc[df["task_hash"] == answered[0]["_task_hash"], "answer"].item() == "ignore"
    assert set(df["annotator"]) == {"ann"}
    # resume: a new session never offers an answered question
    s2 = nba.teach("loop", texts, "blank:en", labels=LABELS, patterns=product_patterns(),
                   db=store_address, annotator="ann", whole=None, complete=None)  # fmt: skip
    seen = {t["_task_hash"] for t in s2.next_tasks(10, timeout=60)}
    assert not seen & set(df["task_hash"])
    s2.close()


def test_manual_correct_silver_train_and_train_curve(store_address, model_dir, tmp_path):
    texts = gadget_texts(40, seed=12)
    one = {"split_sentences": False}  # one task per text
    m = nba.manual("gold", texts[:24], labels=LABELS, db=store_address, annotator="ann", **one)
    first = m.next_task()
    m.answer(first, "accept", spans=[])
    undone = m.undo()  # the text is asked again first, and may be answered again
    assert undone is not None and undone["_input_hash"] == first["_input_hash"]
    while (task := m.next_task(timeout=60)) is not None:
        m.answer(task, "accept", spans=gold(task["text"]))
    m.close()
    c = nba.correct("corrected", texts[24:30], str(model_dir), db=store_address, **one)
    while (task := c.next_task(timeout=60)) is not None:
        c.answer(task, "accept", spans=gold(task["text"]))
    c.close()
    stats = nba.silver("silver", texts[30:], str(model_dir), threshold=0.5, db=store_address, **one)
    assert stats["texts"] == 10 and stats["kept"] > 0
    with nba.Database(store_address) as db:
        assert len(db.dataset("gold")) == 24 and len(db.dataset("corrected")) == 6
        assert db.dataset("gold").counts()["accept"] == 24
    result = nba.train(["gold", "corrected", "silver"], tmp_path / "out", "blank:en",
                       labels=LABELS, epochs=3, db=store_address)  # fmt: skip
    assert (result.output_dir / "meta.json").exists()  # spacy.load(output_dir)
    assert result.stats["eval_answers"] > 0
    curve = nba.train_curve("gold", fractions=(0.5, 1.0), labels=LABELS, epochs=2,
                            output_dir=tmp_path / "curve", db=store_address,
                            plot=False)  # fmt: skip
    assert [r["fraction"] for r in curve.rows] == [0.5, 1.0]


def test_export_import_and_drop(store_address, tmp_path):
    with nba.Database(store_address) as db:
        ds = db.dataset("src", create=True)
        for text in gadget_texts(5, seed=13):
            ds.add({"text": text, "spans": gold(text)}, answer="accept", annotator="ann")
        assert ds.export_jsonl(tmp_path / "out.jsonl") == 5
        copy = db.dataset("copy", create=True)
        assert copy.import_jsonl(tmp_path / "out.jsonl", progress=False) == 5
        a, b = ds.to_pandas(), copy.to_pandas()
        assert list(a["task_hash"]) == list(b["task_hash"])
        assert list(b["annotator"]) == ["ann"] * 5
        assert db.drop_dataset("copy") == 5 and "copy" not in db
