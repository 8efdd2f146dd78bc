"""Manual and correct sessions, headless: gold annotations in the same store."""

from __future__ import annotations

import pytest
from gadgets import gadget_texts, product_patterns

import nbannotate as nba
from nbannotate.errors import AnswerError
from nbannotate.examples import answers_to_examples
from nbannotate.models import load_model


def test_manual_prehighlights_patterns_and_stores_gold(db_path):
    s = nba.manual("gold", ["My iPhone and my Pixel broke ."], ["PRODUCT", "BRAND"],
                   patterns=product_patterns(), db=db_path)
    task = s.next_task()
    assert [(x["start"], x["end"], x["label"]) for x in task["spans"]] == [(3, 9, "PRODUCT")]
    # the annotator adds "Pixel" (selection with a trailing space snaps to the token)
    spans = [*task["spans"], {"start": 17, "end": 23, "label": "PRODUCT"}]
    stored = s.answer(task, "accept", spans=spans)
    assert [(x["start"], x["end"], x["token_start"], x["token_end"]) for x in stored["spans"]] \
        == [(3, 9, 1, 1), (17, 22, 4, 4)]
    assert s.next_task() is None
    df = nba.Database(db_path).dataset("gold").to_pandas()
    assert list(df["kind"]) == ["gold"] and df["spans"].iloc[0][1]["label"] == "PRODUCT"
    examples, _ = answers_to_examples(load_model("blank:en", ["PRODUCT"]),
                                      nba.Database(db_path).dataset("gold").answers())
    assert [t.ent_iob_ for t in examples[0].reference] == ["O", "B", "O", "O", "B", "O", "O"]


def test_manual_refuses_overlaps_and_unknown_labels_without_storing(db_path):
    s = nba.manual("gold", ["Apple Watch Series 9 is out ."], ["PRODUCT"], db=db_path)
    task = s.next_task()
    with pytest.raises(AnswerError, match="overlap"):
        s.answer(task, "accept", spans=[{"start": 0, "end": 11, "label": "PRODUCT"},
                                        {"start": 6, "end": 20, "label": "PRODUCT"}])
    with pytest.raises(AnswerError, match="Unknown label"):
        s.answer(task, "accept", spans=[{"start": 0, "end": 5, "label": "ORG"}])
    assert len(nba.Database(db_path).dataset("gold")) == 0
    s.answer(task, "accept", spans=[{"start": 0, "end": 20, "label": "PRODUCT"}])
    assert s.undo()["_input_hash"] == task["_input_hash"]
    assert len(nba.Database(db_path).dataset("gold")) == 0
    assert s.next_task()["text"] == task["text"]


def test_correct_prehighlights_the_model_and_can_update_it(db_path, tmp_path):
    teach = nba.teach("seed", gadget_texts(400), "blank:en", ["PRODUCT"], product_patterns(),
                      db=db_path, split_sentences=False)
    from gadgets import oracle
    for _ in range(300):
        t = teach.next_task(timeout=60)
        teach.answer(t, oracle(t))
    teach.update_model()
    with teach.model_lock:
        teach.nlp.to_disk(tmp_path / "model")
    teach.stop()
    s = nba.correct("corr", ["I just bought the new Pixel yesterday ."], str(tmp_path / "model"),
                    ["PRODUCT"], db=db_path, update=True, batch_size=1)
    task = s.next_task()
    assert [task["text"][x["start"]:x["end"]] for x in task["spans"]] == ["Pixel"]
    s.answer(task, "accept")
    s.updater.flush()
    assert s.progress["updates"] == 1
    s.stop()
    assert nba.Database(db_path).dataset("corr").answers()[0]["_view_id"] == "ner_manual"
