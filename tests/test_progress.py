"""Progress bars of the long calls: silver() over a source and a JSONL import show one on
stderr in a plain run with progress=True (the default), and print nothing with progress=False."""

from __future__ import annotations

import json

import pytest
import spacy
from gadgets import gadget_texts

import nbannotate as nba


@pytest.fixture
def labelled_ner() -> spacy.Language:
    """A real (untrained) NER with the label: enough for silver() to analyse texts."""
    nlp = spacy.blank("en")
    nlp.add_pipe("ner").add_label("PRODUCT")
    nlp.initialize()
    return nlp


@pytest.mark.filterwarnings("ignore:silver")  # an untrained model is sure of no text
def test_silver_shows_a_bar_over_the_source_unless_progress_is_false(
    tmp_path, capsys, labelled_ner
):
    texts = gadget_texts(30)
    db = tmp_path / "answers.duckdb"
    stats = nba.silver("quiet", texts, model=labelled_ner, db=db, progress=False)
    assert stats["texts"] >= 30
    assert capsys.readouterr().err == ""
    nba.silver("shown", texts, model=labelled_ner, db=db)
    err = capsys.readouterr().err
    assert "silver shown" in err and "30/30" in err, err


def test_jsonl_import_shows_a_bar_over_the_tasks_unless_progress_is_false(tmp_path, capsys):
    path = tmp_path / "answers.jsonl"
    lines = [json.dumps({"text": t, "answer": "accept", "spans": []}) for t in gadget_texts(25)]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")  # a blank line is no task
    with nba.Database(tmp_path / "db.duckdb") as db:
        assert db.dataset("quiet", create=True).import_jsonl(path, progress=False) == 25
        assert capsys.readouterr().err == ""
        assert db.dataset("shown", create=True).import_jsonl(path) == 25
        err = capsys.readouterr().err
        assert "import shown" in err and "25/25" in err, err
        # an iterable of task dicts too
        tasks = [json.loads(line) for line in lines[:5]]
        assert db.dataset("listed", create=True).import_jsonl(tasks) == 5
        assert "5/5" in capsys.readouterr().err
