"""train()'s schedule, early stop, output swap and the answers it must not feed spaCy: real
DuckDB files, real spaCy training, a real process killed mid-swap."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import spacy
from test_train import NLP, add, binary, corpus, docbin_docs, gold, tree_hash

from nbannotate.errors import TrainingError
from nbannotate.models import INCORRECT_SPANS_KEY
from nbannotate.store import Database
from nbannotate.tasks import doc_tokens, make_task, span_dict
from nbannotate.train import (
    FIRST_ENTITY_WAIT,
    PAUSE_ENV,
    _EarlyStop,
    _Monitor,
    _Schedule,
    train,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path: Path):
    database = Database(tmp_path / "nba.duckdb")
    yield database
    database.close()


def test_the_schedule_counts_steps_and_evaluates_once_per_epoch_at_most_every_200():
    small = _Schedule.make(13, None, 20_000, None, 8)
    assert (small.eval_every, small.last_step) == (13, 20_007)  # ends on an evaluation
    big = _Schedule.make(625, None, 20_000, None, 8)
    assert (big.eval_every, big.last_step) == (200, 20_000)
    capped = _Schedule.make(13, 4, 20_000, None, 8)
    assert capped.last_step == 52
    assert _Schedule.make(625, None, 1000, 50, 8).eval_every == 50


def _feed(monitor: _Monitor, scores: list[float]) -> int | None:
    """Give the monitor one evaluation per score (as spaCy's logger does); the index of the one
    that stopped the run, or None."""
    for i, f in enumerate(scores):
        info = {
            "step": i * 10,
            "score": f,
            "losses": {"ner": 1.0},
            "seconds": 0,
            "other_scores": {"ents_f": f, "ents_p": f, "ents_r": f, "ents_per_type": {}},
        }
        try:
            monitor.evaluated(info)
        except _EarlyStop:
            return i
    return None


def test_patience_counts_from_the_first_entity_found():
    """A blank model scores F 0 for its first evaluations on small data: counted from the
    start, patience ended such runs there, and the saved model found nothing."""

    def monitor(patience: int = 3) -> _Monitor:
        return _Monitor(_Schedule.make(10, None, 20_000, None, patience), False, "train")

    assert _feed(monitor(), [0, 0, 0, 0, 0, 0, 0.3, 0.4, 0.35, 0.38, 0.39, 0.5]) == 10
    stopped = monitor()
    assert _feed(stopped, [0.2, 0.5, 0.4, 0.4, 0.45]) == 4
    assert stopped.stopped == {
        "epoch": 4,
        "step": 40,
        "patience": 3,
        "since_epoch": 1,
        "found_entity": True,
    }
    # An accuracy that was best before any entity was found (every rejected span right) does
    # not end the run as soon as the first one is.
    binary = monitor(2)
    for i, (acc, found) in enumerate([(0.9, 0), (0.8, 0), (0.7, 0), (0.6, 1), (0.65, 2)]):
        info = {
            "step": i * 10,
            "score": acc,
            "losses": {},
            "seconds": 0,
            "other_scores": {"ents_binary": {"correct": 1, "total": 2, "accept_correct": found}},
        }
        binary.evaluated(info)
    assert binary.stopped is None and binary.first_found == 3
    # No entity in FIRST_ENTITY_WAIT steps: patience counts from the best evaluation then.
    late = _Monitor(_Schedule.make(500, None, 20_000, None, 3), False, "train")
    for i in range(8):
        info = {
            "step": i * 500,
            "score": 0.0,
            "losses": {},
            "seconds": 0,
            "other_scores": {"ents_f": 0.0},
        }
        try:
            late.evaluated(info)
        except _EarlyStop:
            break
    assert late.stopped is not None and late.stopped["step"] == FIRST_ENTITY_WAIT
    assert not late.stopped["found_entity"]


def test_an_early_stop_is_reported_and_the_bar_finishes(db, tmp_path, capsys):
    add(db, "people", [gold(t, e) for t, e in corpus(60)], answer="accept")
    result = train(
        "people",
        tmp_path / "out",
        db=db,
        batch_size=8,
        eval_every=2,
        patience=2,
        max_steps=2000,
        progress=True,
    )
    stop = result.stopped
    assert stop is not None and stop["patience"] == 2
    assert stop["step"] == result.scores["epochs"][-1]["step"] < 2000
    text = str(result)
    assert (
        f"Stopped early at epoch {stop['epoch']} (no gain in 2 evaluations); best epoch "
        f"{result.best['epoch']}"
    ) in text
    # The bar ends full, not stopped part-way as after a failure.
    steps = stop["step"] + 1
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert f"{steps}/{steps}" in last and "100%" in last, last
    saved = json.loads((tmp_path / "out" / "nbannotate_train.json").read_text())
    assert saved["stopped"] == stop


def test_a_span_answer_of_its_own_wins_over_the_row(db, tmp_path):
    """A Prodigy ner.teach export: a rejected row whose span "i7" was accepted."""
    text = "Intel makes the i7 chip in Santa Clara ."
    doc = NLP.make_doc(text)
    i7 = {**span_dict(doc.char_span(16, 18, label="PRODUCT")), "answer": "accept"}
    intel = {**span_dict(doc.char_span(0, 5, label="PRODUCT")), "answer": "reject"}
    city = span_dict(doc.char_span(27, 38, label="CITY"))  # no answer: the row's
    row = make_task(text, doc_tokens(doc), [i7, intel, city])
    add(db, "teach", [row], answer="reject")
    add(db, "gold", [gold(t, e) for t, e in corpus(20)], answer="accept")
    add(db, "eval", [gold(t, e) for t, e in corpus(6, offset=40)], answer="accept")
    result = train(
        ["teach", "gold"],
        tmp_path / "out",
        db=db,
        eval_dataset="eval",
        epochs=1,
        batch_size=8,
        progress=False,
    )
    assert "PRODUCT" in result.labels
    ref = next(d for d in docbin_docs(tmp_path / "out" / "train.spacy") if d.text == text)
    assert [(e.text, e.label_) for e in ref.ents] == [("i7", "PRODUCT")]
    assert sorted((s.text, s.label_) for s in ref.spans[INCORRECT_SPANS_KEY]) == [
        ("Intel", "PRODUCT"),
        ("Santa Clara", "CITY"),
    ]

    df = db.dataset("teach").to_pandas()
    assert df[["span_text", "label", "start", "answer"]].values.tolist() == [
        ["i7", "PRODUCT", 16, "accept"],
        ["Intel", "PRODUCT", 0, "reject"],
        ["Santa Clara", "CITY", 27, "reject"],
    ]
    assert all(len(s) == 3 for s in df.spans)


def test_a_reject_spacy_cannot_supervise_never_reaches_its_training(db, tmp_path):
    """E024. spaCy cuts a text longer than its cut size (random, at most 199 tokens) along its
    oracle: the first free move at each step, in the NER's order (B- moves first, the label
    with the most tokens first). After the accepted "Alice Smith", that path opens PERSON at
    the next unknown token and can only close it at the last one, where the rejected span
    forbids it: no free move, and the whole run fails. The in-loop update drops such an
    example; train() leaves that rejected span out."""
    text = "Alice Smith " + " ".join(["was seen there"] * 70) + " again"
    doc = NLP.make_doc(text)
    assert len(doc) > 200
    accept = make_task(text, doc_tokens(doc), [span_dict(doc.char_span(0, 11, label="PERSON"))])
    rest = doc[2:]
    reject = make_task(
        text,
        doc_tokens(doc),
        [span_dict(doc.char_span(rest.start_char, rest.end_char, label="PERSON"))],
    )
    add(db, "teach", [accept], answer="accept")
    add(db, "teach", [reject], answer="reject")
    add(db, "gold", [gold(t, e) for t, e in corpus(20)], answer="accept")
    add(db, "eval", [gold(t, e) for t, e in corpus(6, offset=40)], answer="accept")
    result = train(
        ["gold", "teach"],
        tmp_path / "out",
        db=db,
        eval_dataset="eval",
        epochs=1,
        batch_size=8,
        progress=False,
    )
    assert result.stats["rejects_left_out"] == 1
    ref = next(d for d in docbin_docs(tmp_path / "out" / "train.spacy") if d.text == text)
    assert [e.text for e in ref.ents] == ["Alice Smith"]
    assert not ref.spans.get(INCORRECT_SPANS_KEY)


def test_a_moved_output_reruns_and_its_meta_is_as_reported(db, tmp_path):
    add(db, "teach", [binary(t, s, e, lb, "accept") for t, ents in corpus(20) for s, e, lb in ents])
    out = tmp_path / "out"
    result = train("teach", out, db=db, epochs=1, progress=False, name="people", version="1.2.0")
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["name"], meta["version"]) == ("people", "1.2.0")
    assert result.best["ents_f"] is None  # binary-only eval: no entity F
    assert meta["performance"]["ents_f"] is None
    assert meta["performance"]["ents_binary_acc"] == result.best["binary"]["accuracy"]
    assert spacy.load(out).meta["name"] == "people"
    assert result.rerun_command.startswith(f"cd {shlex.quote(str(out.resolve()))} && ")
    moved = tmp_path / "elsewhere" / "model"
    moved.parent.mkdir()
    out.rename(moved)
    rerun = shlex.split(result.rerun_command.split(" && ", 1)[1])
    rerun[0:1] = [sys.executable]  # "python"
    proc = subprocess.run(
        [*rerun, "--training.max_steps", "1", "--training.eval_frequency", "1"],
        cwd=moved,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert spacy.load(moved.parent / "out-rerun" / "model-last").pipe_names == ["tok2vec", "ner"]
    with pytest.raises(TrainingError, match="name"):
        train("teach", tmp_path / "o2", db=db, epochs=1, name="my model")
    with pytest.raises(TrainingError, match="version"):
        train("teach", tmp_path / "o2", db=db, epochs=1, version="one")


CHILD = """
import sys
from nbannotate.train import train
train("people", sys.argv[1], db=sys.argv[2], epochs=1, batch_size=8, overwrite=True,
      progress=False)
"""


def test_a_kill_while_replacing_an_output_loses_nothing_and_leaves_nothing(tmp_path):
    path = tmp_path / "nba.duckdb"
    with Database(path) as database:
        add(database, "people", [gold(t, e) for t, e in corpus(30)], answer="accept")
    out = tmp_path / "models" / "people"
    train("people", out, db=path, epochs=1, batch_size=8, progress=False)
    before = tree_hash(out)

    paused = tmp_path / "paused"
    env = {
        **os.environ,
        PAUSE_ENV: str(paused),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(out), str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while not paused.exists():  # the new output is complete, the old one renamed aside
            assert child.poll() is None, child.stdout.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the run never reached the swap"
            time.sleep(0.1)
    finally:
        child.kill()
        child.wait()
    left = sorted(p.name for p in out.parent.iterdir())
    assert not out.exists() and len(left) == 2  # the old output aside, the new one staged
    aside = next(p for p in out.parent.iterdir() if ".nbannotate-old-" in p.name)
    assert tree_hash(aside) == before  # whole, not half deleted

    # The next call puts the old output back and removes the staging folder.
    with (
        pytest.warns(UserWarning, match="previous output was put back"),
        pytest.raises(TrainingError, match="not empty"),
    ):
        train("people", out, db=path, epochs=1, progress=False)
    assert tree_hash(out) == before
    assert [p.name for p in out.parent.iterdir()] == ["people"]
