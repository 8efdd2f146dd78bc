"""Manual and correct sessions, headless: gold annotations in the same store."""

from __future__ import annotations

import json
import threading

import pytest
import spacy
from gadgets import gadget_texts, product_patterns, trained_gadget_model
from spacy.training import Example

import nbannotate as nba
from nbannotate.errors import AnswerError
from nbannotate.examples import answers_to_examples
from nbannotate.models import load_model
from nbannotate.sources import VALIDATE_LINES
from nbannotate.tasks import make_task


def test_manual_prehighlights_patterns_and_stores_gold(db_path):
    s = nba.manual(
        "gold",
        ["My iPhone and my Pixel broke ."],
        ["PRODUCT", "BRAND"],
        patterns=product_patterns(),
        db=db_path,
    )
    task = s.next_task()
    assert [(x["start"], x["end"], x["label"]) for x in task["spans"]] == [(3, 9, "PRODUCT")]
    # the annotator adds "Pixel" (selection with a trailing space snaps to the token)
    spans = [*task["spans"], {"start": 17, "end": 23, "label": "PRODUCT"}]
    stored = s.answer(task, "accept", spans=spans)
    assert [(x["start"], x["end"], x["token_start"], x["token_end"]) for x in stored["spans"]] == [
        (3, 9, 1, 1),
        (17, 22, 4, 4),
    ]
    assert s.next_task() is None
    df = nba.Database(db_path).dataset("gold").to_pandas()
    assert list(df["kind"]) == ["gold"] and df["spans"].iloc[0][1]["label"] == "PRODUCT"
    examples, _ = answers_to_examples(
        load_model("blank:en", ["PRODUCT"]), nba.Database(db_path).dataset("gold").answers()
    )
    assert [t.ent_iob_ for t in examples[0].reference] == ["O", "B", "O", "O", "B", "O", "O"]


def test_pos_patterns_match_in_manual_with_a_pipeline_that_sets_pos(db_path, tmp_path):
    """manual matched patterns on bare tokens, so a POS pattern failed even with a tagger."""
    nlp = spacy.blank("en")
    nlp.add_pipe("morphologizer")
    data = [
        ("I got an iPhone 12 today .", ["PRON", "VERB", "DET", "PROPN", "NUM", "NOUN", "PUNCT"]),
        ("A Galaxy 24 is nice .", ["DET", "PROPN", "NUM", "AUX", "ADJ", "PUNCT"]),
    ]
    egs = [Example.from_dict(nlp.make_doc(t), {"words": t.split(), "pos": p}) for t, p in data]
    nlp.initialize(lambda: egs)
    for _ in range(30):
        nlp.update(egs)
    nlp.to_disk(tmp_path / "tagged")
    pats = [{"label": "PRODUCT", "pattern": [{"POS": "PROPN"}, {"IS_DIGIT": True}]}]
    s = nba.manual(
        "gold",
        ["I got an iPhone 12 today ."],
        ["PRODUCT"],
        model=tmp_path / "tagged",
        patterns=pats,
        db=db_path,
    )
    task = s.next_task()
    assert [(x["start"], x["end"], x["source"]) for x in task["spans"]] == [(9, 18, "pattern")]
    s.close()


def test_a_whole_analysis_rejected_in_teach_leaves_the_text_to_manual(db_path):
    """A rejected whole analysis says "not this one", not "annotated": manual shows the text
    (it skipped it, and refused an answer to it, as already annotated). An accepted one is a
    complete annotation: manual skips that text."""
    texts = ["My Pixel broke .", "Her Kindle fell ."]
    with nba.Database(db_path) as db:
        ds = db.dataset("gold", create=True)
        for text, answer in zip(texts, ("reject", "accept"), strict=True):
            ds.add(make_task(text, [], [], {"whole": True}), answer=answer)
    m = nba.manual("gold", texts, ["PRODUCT"], db=db_path)
    tasks = m.next_tasks(5)
    assert [t["text"] for t in tasks] == ["My Pixel broke ."]
    m.answer(tasks[0], "accept", spans=[{"start": 3, "end": 8, "label": "PRODUCT"}])
    m.close()
    df = nba.Database(db_path).dataset("gold").to_pandas()
    assert sorted(zip(df["view_id"], df["answer"], strict=True)) == [
        ("ner", "accept"),
        ("ner", "reject"),
        ("ner_manual", "accept"),
    ]


def test_an_answer_never_waits_for_a_slow_source(db_path):
    """manual read its source under the session lock: while the widget's refill waited for
    the next text of a slow source (an API), the annotator's answer waited too."""
    more = threading.Event()

    def slow():
        yield "My iPhone broke ."
        more.wait(60)  # the next text has not arrived yet
        yield "My Pixel broke ."

    s = nba.manual("gold", slow(), ["PRODUCT"], db=db_path)
    first = s.next_task()
    reader = threading.Thread(target=s.next_task, daemon=True)
    reader.start()
    reader.join(0.2)
    assert reader.is_alive()  # waiting for the source
    answered = threading.Thread(target=s.answer, args=(first, "accept"), daemon=True)
    answered.start()
    answered.join(30)
    try:
        assert not answered.is_alive() and reader.is_alive()
        assert len(nba.Database(db_path).dataset("gold")) == 1
    finally:
        more.set()
        reader.join(30)
        s.close()


def test_manual_matches_patterns_on_what_an_upstream_component_sets(db_path):
    """A pattern on a "_" extension that a component of the pipeline sets matched in teach but
    not in manual, which had matched on the tokenizer's docs unless a pattern used POS & co."""
    from spacy.language import Language
    from spacy.tokens import Token

    Token.set_extension("nba_test_is_gadget", default=False, force=True)

    @Language.component("nba_test_mark_gadgets")
    def mark(doc):
        for token in doc:
            token._.nba_test_is_gadget = token.text in ("iPhone", "Galaxy")
        return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("nba_test_mark_gadgets")
    gadget = [{"_": {"nba_test_is_gadget": True}}]
    s = nba.manual(
        "gold",
        ["I bought an iPhone yesterday ."],
        ["PRODUCT"],
        model=nlp,
        patterns=[{"label": "PRODUCT", "pattern": gadget}],
        db=db_path,
    )
    assert [(x["start"], x["end"], x["source"]) for x in s.next_task()["spans"]] == [
        (12, 18, "pattern")
    ]
    s.close()


def test_manual_takes_a_pipeline_whose_ner_is_disabled(db_path, tmp_path):
    """manual uses the model's tokenizer (and, for POS patterns, its tagger): a pipeline
    loaded with disable=["ner"] is fine there, unlike in teach or train."""
    nlp = spacy.blank("en")
    nlp.add_pipe("ner").add_label("ORG")
    nlp.initialize()
    nlp.disable_pipe("ner")
    s = nba.manual(
        "gold",
        ["I got an iPhone 12 today ."],
        ["PRODUCT"],
        model=nlp,
        patterns=[{"label": "PRODUCT", "pattern": "iPhone"}],
        db=db_path,
    )
    assert [(x["start"], x["end"]) for x in s.next_task()["spans"]] == [(9, 15)]
    s.close()


def test_manual_refuses_overlaps_and_unknown_labels_without_storing(db_path):
    s = nba.manual("gold", ["Apple Watch Series 9 is out ."], ["PRODUCT"], db=db_path)
    task = s.next_task()
    with pytest.raises(AnswerError, match="overlap"):
        s.answer(
            task,
            "accept",
            spans=[
                {"start": 0, "end": 11, "label": "PRODUCT"},
                {"start": 6, "end": 20, "label": "PRODUCT"},
            ],
        )
    with pytest.raises(AnswerError, match="Unknown label"):
        s.answer(task, "accept", spans=[{"start": 0, "end": 5, "label": "ORG"}])
    assert len(nba.Database(db_path).dataset("gold")) == 0
    s.answer(task, "accept", spans=[{"start": 0, "end": 20, "label": "PRODUCT"}])
    assert s.undo()["_input_hash"] == task["_input_hash"]
    assert len(nba.Database(db_path).dataset("gold")) == 0
    assert s.next_task()["text"] == task["text"]


def test_correct_prehighlights_the_model_and_can_update_it(db_path, tmp_path):
    teach = nba.teach(
        "seed",
        gadget_texts(400),
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db_path,
        split_sentences=False,
    )
    from gadgets import oracle

    for _ in range(300):
        t = teach.next_task(timeout=60)
        teach.answer(t, oracle(t))
    teach.update_model()
    with teach.model() as nlp:
        nlp.to_disk(tmp_path / "model")
    teach.stop()
    s = nba.correct(
        "corr",
        ["I just bought the new Pixel yesterday ."],
        str(tmp_path / "model"),
        ["PRODUCT"],
        db=db_path,
        update=True,
        batch_size=1,
    )
    task = s.next_task()
    assert [task["text"][x["start"] : x["end"]] for x in task["spans"]] == ["Pixel"]
    s.answer(task, "accept")
    s.updater.flush()
    assert s.progress["updates"] == 1
    s.stop()
    assert nba.Database(db_path).dataset("corr").answers()[0]["_view_id"] == "ner_manual"


def test_session_api_mirrors_teach_history_change_requeue_progress(db_path):
    texts = ["My iPhone broke .", "A Pixel is nice .", "Nothing here ."]
    s = nba.manual(
        "gold",
        texts,
        "PRODUCT,BRAND",
        patterns=product_patterns(),
        db=db_path,
        split_sentences=False,
    )
    assert s.progress["exhausted"] is False and s.progress["source_total"] == 3
    t1, t2 = s.next_tasks(2)
    assert t1["labels"] == ["PRODUCT", "BRAND"] and t1["_view_id"] == "ner_manual"
    assert {t["_task_hash"] for t in s.outstanding()} == {t1["_task_hash"], t2["_task_hash"]}
    # answer by task hash; the stored answer keeps the offered task hash, spans edited
    stored = s.answer(t1["_task_hash"], "accept", spans=[{"start": 3, "end": 9, "label": "BRAND"}])
    assert stored["_task_hash"] == t1["_task_hash"] and stored["spans"][0]["label"] == "BRAND"
    with pytest.raises(AnswerError, match="already annotated"):
        s.answer(t1, "accept")
    with pytest.raises(AnswerError, match="No task with hash 5 was offered"):
        s.answer(5, "accept")
    with pytest.raises(AnswerError, match="spans must be a list"):
        s.answer(t2, "accept", spans="Pixel")
    assert s.history() == [
        {
            "task_hash": t1["_task_hash"],
            "text": texts[0],
            "span_text": "",
            "label": None,
            "answer": "accept",
            "score": None,
            "source": None,
            "whole": False,
            "manual": True,
            "spans": [{"text": "iPhone", "label": "BRAND"}],
        }
    ]
    s.change_answer(t1["_task_hash"], "reject")
    assert [t["answer"] for t in nba.Database(db_path).dataset("gold").answers()] == ["reject"]
    assert s.progress["session"] == {"accept": 0, "reject": 1, "ignore": 0, "total": 1}
    with pytest.raises(AnswerError, match="was not answered"):
        s.change_answer(t2["_task_hash"], "accept")
    # a closed widget gives its tasks back: offered again first
    assert s.requeue([t2]) == 1 and s.outstanding() == []
    assert s.next_task()["_task_hash"] == t2["_task_hash"]
    s.answer(t2, "ignore")
    t3 = s.next_task()
    s.answer(t3, "accept")
    assert s.next_task() is None and s.progress["exhausted"] is True
    assert s.progress["source_read"] == 3 and s.progress["accept_rate"] == 0.5
    undone = s.undo()  # the last text comes back: the stream is no longer exhausted
    assert undone["_task_hash"] == t3["_task_hash"] and s.progress["exhausted"] is False
    assert "answers=2" in repr(s)


def test_bad_source_input_fails_at_the_call_or_as_the_sessions_error(db_path, tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text('{"text": "My iPhone broke ."}\n{"text": oops}\n', encoding="utf8")
    with pytest.raises(nba.SourceError, match="line 2"):
        nba.manual("gold", str(path), ["PRODUCT"], db=db_path)

    def texts():  # a one-shot iterator is read lazily: its bad item surfaces in next_task
        yield "My iPhone broke ."
        yield {"meta": {"id": 2}}

    s = nba.manual("gold", texts(), ["PRODUCT"], db=db_path, split_sentences=False)
    assert s.next_task()["text"] == "My iPhone broke ." and s.error is None
    with pytest.raises(nba.SourceError):
        s.next_task()
    assert isinstance(s.error, nba.SourceError)


def test_manual_annotations_train_and_evaluate_as_gold(db_path, tmp_path):
    texts = [
        f"{name} bought a {gadget} in shop {i} ."
        for i, (name, gadget) in enumerate(
            [(n, g) for n in ("Anna", "Ben", "Carl", "Dora") for g in ("Pixel", "iPhone", "Kindle")]
        )
    ]
    for dataset, chunk in (("seed", texts[:9]), ("eval", texts[9:])):
        s = nba.manual(dataset, chunk, ["PRODUCT"], db=db_path, split_sentences=False)
        for task in s:
            gadget = next(g for g in ("Pixel", "iPhone", "Kindle") if g in task["text"])
            start = task["text"].index(gadget)
            s.answer(
                task,
                "accept",
                spans=[{"start": start, "end": start + len(gadget), "label": "PRODUCT"}],
            )
    result = nba.train(
        "seed", tmp_path / "out", db=db_path, eval_dataset="eval", epochs=2, progress=False
    )
    assert result.scores["eval"] == "gold"
    assert result.stats["eval_texts"] == 3 and result.stats["train_texts"] == 9


def test_manual_prehighlights_the_inputs_spans_and_accepting_stores_them(db_path, tmp_path):
    """A Prodigy export (or another tool's output) to review: its spans are shown, snapped to
    tokens, and accepting stores them as gold, not an empty annotation."""
    path = tmp_path / "review.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                {
                    "text": "I flew to Tokyo with Sony.",
                    "spans": [
                        {"start": 10, "end": 16, "label": "GPE"},  # "Tokyo " snaps to the token
                        {"start": 21, "end": 25, "label": "ORG"},
                    ],
                },
                {
                    "text": "We met in Paris. Then Anna left.",
                    "spans": [
                        {"start": 10, "end": 15, "label": "GPE"},
                        {"start": 22, "end": 26, "label": "PER"},
                    ],
                },
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    s = nba.manual(
        "review",
        str(path),
        ["GPE", "ORG", "PER"],
        patterns=[{"label": "ORG", "pattern": "Tokyo"}],
        db=db_path,
    )  # the input wins over patterns
    task = s.next_task()
    assert [
        (task["text"][x["start"] : x["end"]], x["label"], x["source"]) for x in task["spans"]
    ] == [("Tokyo", "GPE", "input"), ("Sony", "ORG", "input")]
    stored = s.answer(task, "accept")
    assert [(x["start"], x["end"], x["label"]) for x in stored["spans"]] == [
        (10, 15, "GPE"),
        (21, 25, "ORG"),
    ]
    # split into sentences, each span goes with its sentence
    sentences = [(t["text"], [t["text"][x["start"] : x["end"]] for x in t["spans"]]) for t in s]
    assert sentences == [("We met in Paris.", ["Paris"]), ("Then Anna left.", ["Anna"])]
    gold = nba.Database(db_path).dataset("review").to_pandas()
    assert list(gold["kind"]) == ["gold"] and len(gold["spans"].iloc[0]) == 2


def test_correct_shows_the_inputs_spans_instead_of_the_models(db_path, tmp_path):
    model = trained_gadget_model(tmp_path / "model")
    texts = ["I just bought the new Pixel yesterday .", "My Kindle stopped working ."]
    s = nba.correct(
        "corr",
        [
            {"text": texts[0]},
            {"text": texts[1], "spans": [{"start": 3, "end": 9, "label": "PRODUCT"}]},
            {"text": texts[0] + " !", "spans": []},
        ],
        str(model),
        db=db_path,
        split_sentences=False,
    )
    first, second, third = s.next_tasks(3)
    assert [(first["text"][x["start"] : x["end"]], x["source"]) for x in first["spans"]] == [
        ("Pixel", "model")
    ]
    assert [(second["text"][x["start"] : x["end"]], x["source"]) for x in second["spans"]] == [
        ("Kindle", "input")
    ]
    assert third["spans"] == []  # an input annotated with no entity is shown so


def test_an_input_span_of_a_label_not_annotated_is_refused(db_path, tmp_path):
    """The view has no button for that label, so accepting would store the text as complete
    for a label nobody could mark: refused at the call (or at next_task, past the head)."""
    reviewed = {
        "text": "I flew to Tokyo with Sony.",
        "spans": [
            {"start": 10, "end": 15, "label": "GPE"},
            {"start": 21, "end": 25, "label": "ORG"},
        ],
    }
    with pytest.raises(nba.SourceError) as err:
        nba.manual("review", [reviewed], ["GPE"], db=db_path)
    msg = str(err.value)
    assert "row 0" in msg and "'Sony' has the label 'ORG'" in msg and "labels (GPE)" in msg
    assert "labels=[..., 'ORG']" in msg
    assert "review" not in nba.Database(db_path).datasets()
    s = nba.manual(
        "review",
        [f"text {i} ." for i in range(100)] + [reviewed],
        ["GPE"],
        db=db_path,
        split_sentences=False,
    )
    for _ in range(100):
        s.answer(s.next_task(), "accept")
    with pytest.raises(nba.SourceError, match="row 100 .*'ORG'"):
        s.next_task()
    with pytest.raises(nba.SourceError, match="row 100 .*'ORG'"):
        s.next_task()


def test_manual_keeps_raising_a_broken_sources_error(db_path, tmp_path):
    """After a bad line past the validated head, every next_task says so (as in teach),
    instead of None and "exhausted" as if the source had ended."""
    path = tmp_path / "texts.jsonl"
    lines = [json.dumps({"text": f"text number {i} ."}) for i in range(VALIDATE_LINES + 1)]
    path.write_text(
        "\n".join([*lines, '{"text": "broken', '{"text": "after"}']) + "\n", encoding="utf-8"
    )
    s = nba.manual("gold", str(path), ["PRODUCT"], db=db_path)
    for _ in range(VALIDATE_LINES + 1):
        s.answer(s.next_task(), "accept")
    for _ in range(2):
        with pytest.raises(nba.SourceError, match=f"line {VALIDATE_LINES + 2}: not valid JSON"):
            s.next_task()
    assert s.progress["exhausted"] is False
    undone = s.undo()  # a task given back is still offered before the error
    assert s.next_task()["_task_hash"] == undone["_task_hash"]
    assert len(nba.Database(db_path).dataset("gold")) == VALIDATE_LINES


def test_a_span_across_a_sentence_end_keeps_the_sentences_together_in_teach_too(tmp_path):
    """A span across a sentence end keeps manual's sentences together, and teach's: teach
    asks nothing about the spans of the input, but cutting inside one would leave an entity
    that can never be proposed whole (up to commit 627a7d6 teach split as if it had none)."""
    text = "I love New. York is big. The Pixel broke."
    crossing = [{"start": 7, "end": 15, "label": "GPE"}]  # "New. York"

    def texts(session_maker, spans):
        s = session_maker([{"text": text, "spans": spans}])
        try:
            return sorted({t["text"] for t in s.next_tasks(20, timeout=60)})
        finally:
            s.close()

    def teach(items):
        return nba.teach(
            "t",
            items,
            "blank:en",
            ["GPE"],
            [{"label": "GPE", "pattern": "York"}],
            db=tmp_path / "t.duckdb",
            whole=None,
        )

    def manual(items):
        return nba.manual("m", items, ["GPE"], db=tmp_path / "m.duckdb")

    assert "I love New. York is big." in texts(teach, crossing)
    assert "I love New." in texts(teach, None)  # without spans: cut at the period
    assert "I love New. York is big." in texts(manual, crossing)
