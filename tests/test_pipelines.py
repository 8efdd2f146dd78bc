"""Pipelines with components before the NER: an entity_ruler's entities, copies of a Language."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from gadgets import answer_tasks, gadget_texts, trained_gadget_model

import nbannotate as nba

TEXT = "Her Kindle fell into the lake in Berlin on Sunday ."
RULER_ENTS = {("Berlin", "ORG"), ("Sunday", "ORG")}


@pytest.fixture(scope="module")
def ruler_model(tmp_path_factory) -> Path:
    """A trained PRODUCT NER with an entity_ruler before it that marks "Berlin" as ORG."""
    tmp = tmp_path_factory.mktemp("ruler")
    nlp = spacy.load(trained_gadget_model(tmp / "ner"))
    nlp.add_pipe("entity_ruler", before="ner").add_patterns([{"label": "ORG", "pattern": "Berlin"}])
    nlp.to_disk(tmp / "ruler")
    return tmp / "ruler"


def labels_of(task: dict) -> set[str]:
    return {span["label"] for span in task["spans"]}


@pytest.mark.parametrize("kind", ["whole", "completion"])
def test_questions_about_a_whole_text_never_hold_a_label_outside_the_sessions(
    ruler_model, db_path, kind
):
    """The ruler's ORG entities are on every beam parse of a Berlin text: asked as a whole,
    an accept would store ORG (and train() learn it), so such a text gets no whole or
    completion question, while the others still do."""
    extra = {"complete": None} if kind == "whole" else {"whole": None, "complete": 0.0}
    s = nba.teach(
        "ruler",
        gadget_texts(200),
        str(ruler_model),
        ["PRODUCT"],
        db=db_path,
        split_sentences=False,
        **extra,
    )
    try:
        done = answer_tasks(s, 150)
    finally:
        s.close()
    assert [t for t in done if labels_of(t) - {"PRODUCT"}] == []
    asked = [t for t in done if t["meta"].get(kind)]
    assert len(asked) >= 5, f"no {kind} questions were asked"
    assert not [t for t in asked if "Berlin" in t["text"]]
    assert [t for t in done if "Berlin" in t["text"]], "the Berlin texts were not asked at all"
    stored = nba.Database(db_path).dataset("ruler").to_pandas()
    assert set(stored["label"].dropna()) == {"PRODUCT"}


def test_silver_keeps_no_analysis_holding_an_entity_set_before_the_ner(ruler_model, db_path):
    stats = nba.silver(
        "silver", gadget_texts(80), model=str(ruler_model), threshold=0.5, db=db_path
    )
    tasks = list(nba.Database(db_path).dataset("silver").answers())
    assert stats["kept"] == len(tasks) >= 40
    assert {label for t in tasks for label in labels_of(t)} == {"PRODUCT"}
    assert not [t for t in tasks if "Berlin" in t["text"]]


def test_a_language_passed_as_model_keeps_its_ruler_patterns_and_is_not_changed(db_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(
        [
            {"label": "ORG", "pattern": "Berlin"},  # a phrase pattern
            {"label": "ORG", "pattern": [{"LOWER": "sunday"}]},  # a token pattern
        ]
    )
    nlp.max_length = 2_000_000
    s = nba.correct("fix", [TEXT], nlp, ["PRODUCT", "ORG"], db=db_path)
    try:
        task = s.next_task(timeout=60)
        shown = {(TEXT[x["start"] : x["end"]], x["label"]) for x in task["spans"]}
        with s.model() as copy:
            found = {(e.text, e.label_) for e in copy(TEXT).ents}
            assert copy is not nlp and copy.max_length == 2_000_000
    finally:
        s.close()
    assert RULER_ENTS <= shown and RULER_ENTS <= found
    # The caller's pipeline: no NER added, no label, the same entities.
    assert nlp.pipe_names == ["entity_ruler"]
    assert {(e.text, e.label_) for e in nlp(TEXT).ents} == RULER_ENTS
