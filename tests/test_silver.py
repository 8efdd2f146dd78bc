"""Silver analyses: nba.silver() stores a real model's confident analyses; training ranks them
below every human answer on the same text."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import spacy
from spacy.training import Example
from test_train import binary, corpus, gold

import nbannotate as nba
from nbannotate.examples import answers_to_examples
from nbannotate.models import load_model
from nbannotate.tasks import VIEW_MANUAL, make_task

TEXT = "I bought an iPhone and a Pixel today"


def task(spans, ans, view="ner", silver=False):
    meta = {"silver": True} if silver else {}
    return dict(
        make_task(
            TEXT,
            [],
            [{"start": s, "end": e, "label": lab} for s, e, lab in spans],
            meta,
            view_id=view,
        ),
        answer=ans,
    )


def test_silver_is_a_complete_analysis_when_nobody_answered_the_text():
    nlp = load_model("blank:en", ["PRODUCT"])
    (ex,), _ = answers_to_examples(nlp, [task([(12, 18, "PRODUCT")], "accept", VIEW_MANUAL, True)])
    assert [t.ent_iob_ for t in ex.reference] == ["O", "O", "O", "B", "O", "O", "O", "O"]


def test_a_binary_answer_on_the_text_wins_over_its_silver_analysis():
    nlp = load_model("blank:en", ["PRODUCT"])
    (ex,), _ = answers_to_examples(
        nlp,
        [
            task([(12, 18, "PRODUCT")], "accept", VIEW_MANUAL, True),
            task([(25, 30, "PRODUCT")], "accept"),
        ],
    )
    # Only the person's answer is known; the silver analysis (iPhone, O elsewhere) is dropped.
    assert [t.ent_iob_ for t in ex.reference] == ["", "", "", "", "", "", "B", ""]


def test_gold_wins_over_silver_whatever_the_order():
    nlp = load_model("blank:en", ["PRODUCT"])
    for order in (1, -1):
        tasks = [
            task([(12, 18, "PRODUCT")], "accept", VIEW_MANUAL, True),
            task([(25, 30, "PRODUCT")], "accept", VIEW_MANUAL),
        ][::order]
        (ex,), _ = answers_to_examples(nlp, tasks)
        assert [e.text for e in ex.reference.ents] == ["Pixel"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A real NER trained on 80 PERSON/CITY sentences: confident on texts like them."""
    spacy.util.fix_random_seed(0)  # the initial weights too: the same model in every run
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    egs = [Example.from_dict(nlp.make_doc(t), {"entities": ents}) for t, ents in corpus(320)[::4]]
    opt = nlp.initialize(lambda: egs)
    rng = random.Random(0)
    for _ in range(25):
        rng.shuffle(egs)
        for i in range(0, len(egs), 8):
            nlp.update(egs[i : i + 8], sgd=opt, drop=0.1)
    path = tmp_path_factory.mktemp("silver") / "model"
    nlp.to_disk(path)
    return path


def unseen(n: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Texts the model was not trained on (other person/city combinations)."""
    return corpus(320)[1::8][:n]


def test_silver_stores_confident_analyses_once(tmp_path, model_dir):
    db = nba.Database(tmp_path / "nba.duckdb")
    texts = [t for t, _ in unseen(20)]
    stats = nba.silver("silver", texts, str(model_dir), threshold=0.5, db=db)
    stored = db.dataset("silver").answers()
    assert stats["texts"] == 20 and stats["kept"] == len(stored) > 10
    gold = dict(unseen(20))
    right = 0
    for t in stored:
        assert t["_view_id"] == VIEW_MANUAL and t["meta"]["silver"] is True
        assert t["meta"]["score"] >= 0.5 and t["answer"] == "accept"
        right += sorted((s["start"], s["end"], s["label"]) for s in t["spans"]) == gold[t["text"]]
    assert right >= 0.8 * len(stored)
    # Stricter threshold keeps fewer; a repeated call stores nothing new.
    again = nba.silver("silver", texts, str(model_dir), threshold=0.5, db=db)
    assert again["skipped"] == 20 and again["kept"] == 0
    assert len(db.dataset("silver").answers()) == len(stored)
    db.close()


def test_train_uses_silver_beside_answers_and_answers_win(tmp_path, model_dir):
    db = nba.Database(tmp_path / "nba.duckdb")
    texts = [t for t, _ in unseen(30)]
    nba.silver("silver", texts, str(model_dir), threshold=0.5, db=db)
    silver_texts = {t["text"] for t in db.dataset("silver").answers()}
    answered = sorted(silver_texts)[:5]  # a person also judged these: binary wins there
    ds = db.dataset("answers", create=True)
    for text in answered:
        start = text.index(text.split(" ")[0])
        ds.add(binary(text, start, start + len(text.split(" ")[0]), "CITY", "reject"))
    db.dataset("dev", create=True).add_many(
        [gold(t, e) for t, e in corpus(320)[2::32]], answer="accept"
    )
    result = nba.train(
        ["answers", "silver"], tmp_path / "out", db=db, epochs=2, progress=False, eval_dataset="dev"
    )
    # Every text trains; the 5 a person judged carry only that answer, not their silver.
    assert result.stats["train_texts"] == len(silver_texts)
    assert result.stats["gold_train_texts"] == len(silver_texts) - 5
    assert set(spacy.load(tmp_path / "out").get_pipe("ner").labels) == {"CITY", "PERSON"}
    db.close()


def test_silver_bad_input_is_refused_at_the_call(tmp_path, model_dir):
    db = nba.Database(tmp_path / "nba.duckdb")
    with pytest.raises(ValueError, match="threshold"):
        nba.silver("s", ["a text"], str(model_dir), threshold=1.5, db=db)
    with pytest.raises(nba.ModelError, match="no NER component"):
        nba.silver("s", ["a text"], "blank:en", db=db)
    with pytest.raises(ValueError, match="dataset"):
        nba.silver("", ["a text"], str(model_dir), db=db)
    db.close()
