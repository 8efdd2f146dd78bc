"""The in-loop model survives running the teach cell again: checkpoints beside the dataset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from gadgets import answer_tasks as run
from gadgets import gadget_texts, product_patterns

import nbannotate as nba
from nbannotate import checkpoint

ROOT = Path(__file__).resolve().parents[1]
PROBE = gadget_texts(4, seed=9)  # texts no session here is asked about


def teach(db_path, labels=("PRODUCT",), **kwargs):
    return nba.teach(
        "gadgets",
        gadget_texts(300),
        "blank:en",
        list(labels),
        product_patterns(),
        db=db_path,
        split_sentences=False,
        **kwargs,
    )


def rounded(scores: list[dict]) -> list[dict]:
    return [{k: round(v, 6) for k, v in doc.items()} for doc in scores]


def test_running_teach_again_goes_on_with_the_in_loop_model(db_path, monkeypatch):
    writers: list[str] = []
    write = checkpoint.write

    def recording_write(*args, **kwargs):
        writers.append(threading.current_thread().name)
        return write(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "write", recording_write)
    monkeypatch.setattr(checkpoint, "MIN_INTERVAL", 0.0)  # one after every update
    monkeypatch.setattr(checkpoint, "GAP_PER_WRITE", 0)
    first = teach(db_path)
    try:
        assert first.progress["resumed_model_updates"] == 0
        run(first, 30)
        assert first.progress["updates"] == 3
        learnt = rounded(first.score_spans(PROBE))
    finally:
        first.close()
    # written after each update on the updater's thread, never on the annotator's
    assert writers[:3] == ["nbannotate-updater"] * 3 and len(writers) == 3
    files = list(Path(f"{db_path}.models").glob("gadgets/*.nbamodel"))
    assert len(files) == 1

    again = teach(db_path)
    try:
        assert again.progress["resumed_model_updates"] == 3
        assert rounded(again.score_spans(PROBE)) == learnt
        # it has learnt: its candidates show their scores from the first task on
        task = again.next_task(timeout=60)
        assert task["meta"]["score"] is not None
        run(again, 10)
        assert again.progress["update_errors"] == 0  # it goes on learning
    finally:
        again.close()
    # its own update is added to the checkpoint: a third run resumes 4 updates
    third = teach(db_path)
    try:
        assert third.progress["resumed_model_updates"] == 4
        assert rounded(third.score_spans(PROBE)) != learnt
    finally:
        third.close()

    # another label set, or resume_model=False, starts from the base model
    for other in (teach(db_path, labels=("PRODUCT", "BRAND")), teach(db_path, resume_model=False)):
        try:
            assert other.progress["resumed_model_updates"] == 0
            assert other.scorer.untrained  # a blank model again: no scores shown
            assert rounded(other.score_spans(PROBE)) != learnt
        finally:
            other.close()


def test_the_cell_run_again_without_close_resumes_every_update(db_path, monkeypatch):
    """Checkpoints are written at most every MIN_INTERVAL seconds; the session a new teach()
    replaces writes its latest model before the new one loads it."""
    monkeypatch.setattr(checkpoint, "MIN_INTERVAL", 3600.0)
    first = teach(db_path)
    run(first, 30)  # the 1st update is written, the 2nd and 3rd are due later
    learnt = rounded(first.score_spans(PROBE))
    again = teach(db_path)  # the cell run again while the earlier teach() is still open
    try:
        assert first.closed_reason is not None  # taken over
        assert again.progress["resumed_model_updates"] == 3
        assert rounded(again.score_spans(PROBE)) == learnt
    finally:
        again.close()


def test_a_checkpoint_that_cannot_be_read_is_skipped(db_path, caplog):
    first = teach(db_path)
    run(first, 10)
    first.close()
    [path] = Path(f"{db_path}.models").glob("gadgets/*.nbamodel")
    path.write_bytes(path.read_bytes()[:1000])  # damaged by something else
    again = teach(db_path)
    try:
        assert again.progress["resumed_model_updates"] == 0
        assert "Could not read the model checkpoint" in caplog.text
        assert len(again.next_tasks(3, timeout=60)) == 3
    finally:
        again.close()


KILLED_WRITER = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[2])
    import nbannotate as nba
    from nbannotate import checkpoint
    from gadgets import gadget_texts, oracle, product_patterns

    checkpoint.MIN_INTERVAL = 0.0  # one after every update
    checkpoint.GAP_PER_WRITE = 0
    s = nba.teach("gadgets", gadget_texts(300), "blank:en", ["PRODUCT"], product_patterns(),
                  db=sys.argv[1], split_sentences=False)

    def answer(n):
        for _ in range(n):
            task = s.next_task(timeout=60)
            s.answer(task, oracle(task))
            s.updater.wait_idle(timeout=120)

    answer(10)  # one update: its checkpoint is written whole
    probe = gadget_texts(4, seed=9)
    scores = [{repr(k): round(v, 6) for k, v in d.items()} for d in s.score_spans(probe)]
    print(json.dumps(scores), flush=True)

    def half_then_hang(f, payload):  # the next checkpoint: killed halfway through writing it
        f.write(payload[: len(payload) // 2])
        f.flush()
        print("HALF", flush=True)
        time.sleep(600)

    checkpoint._write_bytes = half_then_hang
    answer(10)
""")


def test_a_kill_while_writing_a_checkpoint_leaves_the_previous_one(db_path, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db_path), str(ROOT / "tests")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        learnt = json.loads(proc.stdout.readline())
        assert proc.stdout.readline().strip() == "HALF"
        proc.kill()
    finally:
        proc.kill()
        proc.wait(timeout=60)
    again = teach(db_path)
    try:
        assert again.progress["resumed_model_updates"] == 1
        scores = [{repr(k): round(v, 6) for k, v in d.items()} for d in again.score_spans(PROBE)]
        assert scores == learnt
    finally:
        again.close()
    folder = Path(f"{db_path}.models") / "gadgets"
    assert len(list(folder.glob(".*.tmp"))) == 1  # the half-written file, never loaded


def test_a_pipeline_directory_written_again_is_another_model(tmp_path):
    import spacy

    path = tmp_path / "pipeline"
    nlp = spacy.blank("en")
    nlp.add_pipe("ner").add_label("PRODUCT")
    nlp.initialize()
    nlp.to_disk(path)
    before = checkpoint.model_identity(path)
    assert checkpoint.model_identity(str(path)) == before
    nlp.get_pipe("ner").add_label("BRAND")
    nlp.to_disk(path)
    assert checkpoint.model_identity(path) != before
    assert checkpoint.model_identity("blank:en") == "blank:en"


def test_resume_model_must_be_a_bool(db_path):
    with pytest.raises(ValueError, match="resume_model"):
        teach(db_path, resume_model="no")
