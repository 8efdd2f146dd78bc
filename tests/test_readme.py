"""The README's quickstart examples run as written (on the repo's example data)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd

import nbannotate as nba

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {section}")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_quickstart_examples_run(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "notebooks" / "data", tmp_path / "notebooks" / "data")
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks("Quickstart")
    assert len(blocks) == 2
    scope: dict = {}
    exec(compile(blocks[0], "README quickstart 1", "exec"), scope)
    exec(compile(blocks[1].replace("nba.Database(", "df = nba.Database("),
                 "README quickstart 2", "exec"), scope)
    df = scope["df"]
    assert isinstance(df, pd.DataFrame)
    # one answer stored, changed to reject; the undo removed it again
    assert len(df) == 0
    assert scope["session"].progress["session"]["total"] == 0
    nba.store.close_all()


def test_store_and_train_examples_run(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "notebooks" / "data", tmp_path / "notebooks" / "data")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(python_blocks("Quickstart")[0], "README quickstart", "exec"), scope)
    session = scope["session"]
    for _ in range(40):  # a few answers, as from the widget
        task = session.next_task(timeout=60)
        spans = task["spans"]  # one span; a whole analysis (all entities, or none) is the model's
        source = spans[0]["source"] if len(spans) == 1 else "model"
        session.answer(task, "accept" if source == "pattern" else "reject")
    session.stop()
    (store,) = python_blocks("The store")
    exec(compile(store, "README store", "exec"), scope)
    assert len(scope["db"].dataset("copy")) == 40
    assert scope["ds"].counts()["total"] == 40
    # Complete annotations too (pattern pre-highlights accepted, as in nba.manual), so that the
    # trained model is confident on some texts: the silver example below needs that.
    manual = nba.manual("gadgets", "notebooks/data/gadgets.jsonl", labels=["PRODUCT"],
                        patterns="notebooks/data/product_patterns.jsonl", db="gadgets.duckdb")
    for _ in range(200):
        task = manual.next_task(timeout=60)
        if task is None:
            break
        manual.answer(task, "accept")
    manual.stop()
    train_block = python_blocks("Training: `train()` and `train_curve()`")[0]
    # Full epochs: the silver example below needs a model confident on some texts.
    exec(compile(train_block, "README train", "exec"), scope)
    assert "PRODUCT" in scope["nlp"].get_pipe("ner").labels
    silver_block = python_blocks("Training: `train()` and `train_curve()`")[1]
    assert "nba.silver(" in silver_block
    exec(compile(silver_block.replace('db="gadgets.duckdb")\n', 'db="gadgets.duckdb", epochs=2)\n'),
                 "README silver", "exec"), scope)
    assert scope["stats"]["kept"] == len(scope["db"].dataset("gadgets-silver")) > 0
    assert (tmp_path / "models" / "gadgets-silver" / "config.cfg").is_file()
    nba.store.close_all()
