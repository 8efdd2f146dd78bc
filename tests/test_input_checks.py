"""Bad input to the recipes fails at the call, with the project's errors naming the problem and
the fix, before anything is stored: numbers, pattern labels and pattern files, texts the model
cannot take."""

from __future__ import annotations

import json
import warnings

import pytest
import spacy
from gadgets import gadget_texts, product_patterns

import nbannotate as nba
from nbannotate.errors import PatternError, SourceError
from nbannotate.sources import VALIDATE_LINES

TEXTS = ["I bought an iPhone today .", "My Galaxy broke ."]


# -- numbers ----------------------------------------------------------------------------------

TEACH_BAD = [
    ({"replay": -1}, "replay must be an integer of 0 or more"),
    ({"replay": "10"}, "replay must be an integer"),
    ({"gold_per_update": -1}, "gold_per_update must be an integer of 0 or more"),
    ({"gold_per_update": 1.5}, "gold_per_update must be an integer"),
    ({"bias": "x"}, "bias must be a number"),
    ({"bias": float("nan")}, "bias must be a number"),
    ({"learn_rate": "x"}, "learn_rate must be a positive number"),
    ({"learn_rate": float("inf")}, "learn_rate must be a positive number"),
    ({"seed": "x"}, "seed must be an integer from 0"),
    ({"seed": -1}, "seed must be an integer from 0"),
    ({"seed": 1.5}, "seed must be an integer from 0"),
    ({"batch_size": True}, "batch_size must be a positive integer"),
]


@pytest.mark.parametrize("kwargs, message", TEACH_BAD, ids=[str(k) for k, _ in TEACH_BAD])
def test_bad_numbers_fail_at_teach_naming_the_argument(db_path, kwargs, message):
    """Before, these passed and every model update then failed in the background (replay,
    gold_per_update), or a raw TypeError came from deep inside (bias, learn_rate, seed)."""
    with pytest.raises(ValueError, match=message) as err:
        nba.teach("t", TEXTS, "blank:en", ["PRODUCT"], db=db_path, **kwargs)
    assert repr(next(iter(kwargs.values()))) in str(err.value)
    assert isinstance(err.value, nba.ArgumentError)  # one base class catches every error
    assert "t" not in nba.Database(db_path).datasets()


def test_good_numbers_of_every_kind_are_taken(db_path):
    import numpy as np

    s = nba.teach(
        "t",
        TEXTS,
        "blank:en",
        ["PRODUCT"],
        db=db_path,
        replay=0,
        gold_per_update=0,
        seed=np.int64(3),
        bias=-0.2,
        learn_rate=0.002,
        batch_size=np.int32(2),
    )
    try:
        assert s.updater.replay == 0 and s.updater.gold_per_update == 0
        assert s.updater.batch_size == 2 and s.updater.optimizer.learn_rate == 0.002
    finally:
        s.stop()


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda db: nba.correct("c", TEXTS, "blank:en", ["PRODUCT"], db=db, batch_size="10"),
            "batch_size must be a positive integer",
        ),
        (
            lambda db: nba.silver("s", TEXTS, "blank:en", db=db, batch_size=0),
            "batch_size must be a positive integer",
        ),
        (
            lambda db: nba.silver("s", TEXTS, "blank:en", db=db, threshold=True),
            "threshold must be a probability",
        ),
    ],
    ids=["correct batch_size", "silver batch_size", "silver threshold"],
)
def test_bad_numbers_fail_at_correct_and_silver(db_path, call, message):
    with pytest.raises(ValueError, match=message):
        call(db_path)
    assert nba.Database(db_path).datasets() == []


# -- the package's errors ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   ", " padded", 42])
@pytest.mark.parametrize("recipe", ["teach", "silver", "manual", "correct"])
def test_a_bad_dataset_name_is_a_dataset_error_at_every_recipe(db_path, recipe, name):
    """teach and silver raised a bare ValueError where Database raises DatasetError, and
    manual/correct failed only after loading the model."""
    call = {
        "teach": lambda: nba.teach(name, TEXTS, "blank:en", ["PRODUCT"], db=db_path),
        "silver": lambda: nba.silver(name, TEXTS, "blank:en", db=db_path),
        "manual": lambda: nba.manual(name, TEXTS, ["PRODUCT"], db=db_path),
        "correct": lambda: nba.correct(name, TEXTS, "blank:en", ["PRODUCT"], db=db_path),
    }[recipe]
    with pytest.raises(nba.DatasetError, match="dataset name"):
        call()
    assert nba.Database(db_path).datasets() == []


@pytest.mark.parametrize(
    "call, error",
    [
        (
            lambda db: nba.teach("t", TEXTS, "blank:en", ["PRODUCT"], db=db, sorter="uncertain"),
            "Unknown sorter 'uncertain'",
        ),
        (lambda db: nba.manual("m", TEXTS, [], db=db), "manual\\(\\) needs labels"),
        (
            lambda db: nba.Database(db).add_dataset("d", meta={"when": object()}),
            "meta must be JSON-serializable",
        ),
    ],
    ids=["sorter", "manual labels", "dataset meta"],
)
def test_other_bad_arguments_raise_the_package_errors(db_path, call, error):
    with pytest.raises(nba.NBAnnotateError, match=error) as err:
        call(db_path)
    assert isinstance(err.value, ValueError)  # as before, for handlers written for that


def test_every_error_raised_in_the_package_derives_from_nbannotate_error():
    """Each ``raise SomeError(...)`` in nbannotate/ names a class of nbannotate.errors, so that
    ``except nba.NBAnnotateError`` catches whatever the package itself raises (``raise
    error(...)`` with a class passed in, and helpers that build an error, are left out).
    Exempt: abstract methods, and the json.dumps hook whose TypeError the store turns into an
    AnswerError."""
    import ast
    import inspect
    from pathlib import Path

    import nbannotate.errors as errors

    exempt = {
        ("base_session.py", "NotImplementedError"),
        ("jsonl.py", "TypeError"),
        ("loggers.py", "_EarlyStop"),  # ends spaCy's loop; caught in training/loop.py
    }
    pkg = Path(nba.__file__).parent
    bad = []
    for path in sorted(pkg.rglob("*.py")):  # subpackages (nbannotate/store/) too
        module = ".".join(path.relative_to(pkg).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call)
                and isinstance(node.exc.func, ast.Name)
            ):
                continue
            name = node.exc.func.id
            cls = getattr(errors, name, None) or getattr(
                __import__(f"nbannotate.{module}", fromlist=["_"]), name, None
            )
            if not inspect.isclass(cls):  # a parameter, or a function that builds the error
                continue
            if not issubclass(cls, errors.NBAnnotateError) and (path.name, name) not in exempt:
                bad.append(f"{path.name}:{node.lineno} raises {name}")
    assert bad == []


# -- patterns ---------------------------------------------------------------------------------


def test_patterns_of_no_session_label_fail_and_of_some_warn(db_path):
    """A label typo (or case) in the patterns bootstrapped nothing, without a word."""
    typo = [{"label": "Product", "pattern": [{"lower": "iphone"}]}]
    for call in (
        lambda: nba.teach("t", TEXTS, "blank:en", ["PRODUCT"], typo, db=db_path),
        lambda: nba.manual("m", TEXTS, ["PRODUCT"], patterns=typo, db=db_path),
    ):
        with pytest.raises(PatternError) as err:
            call()
        msg = str(err.value)
        assert "None of the patterns can be used" in msg and "('Product')" in msg
        assert "labels ('PRODUCT')" in msg and "case-sensitive" in msg
    assert nba.Database(db_path).datasets() == []

    mixed = [*product_patterns(), {"label": "BRAND", "pattern": "Samsung"}]
    with pytest.warns(UserWarning, match=r"1 of 5 patterns are not used: .*\('BRAND'\)") as got:
        s = nba.teach(
            "t", gadget_texts(20), "blank:en", ["PRODUCT"], mixed, db=db_path, sorter="none"
        )
    assert got[0].filename == __file__  # it points at the user's call
    try:
        assert len(s.scorer.patterns) == 4
        assert any(t["spans"][0]["source"] == "pattern" for t in s.next_tasks(10, timeout=60))
    finally:
        s.stop()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # patterns that all fit: no warning
        nba.manual("m", TEXTS, ["PRODUCT"], patterns=product_patterns(), db=db_path)


def test_a_bad_token_pattern_in_a_file_names_its_file_and_line(db_path, tmp_path):
    path = tmp_path / "patterns.jsonl"
    path.write_text(
        '{"label": "PRODUCT", "pattern": [{"lower": "iphone"}]}\n\n\n'
        '{"label": "PRODUCT", "pattern": [{"lower": "galaxy"}, {"lowr": "s"}]}\n',
        encoding="utf-8",
    )
    for call in (
        lambda: nba.teach("t", TEXTS, "blank:en", ["PRODUCT"], path, db=db_path),
        lambda: nba.manual("m", TEXTS, ["PRODUCT"], patterns=path, db=db_path),
    ):
        with pytest.raises(PatternError) as err:
            call()
        msg = str(err.value)
        assert msg.startswith(
            f"{path}, line 4: invalid token pattern: token 2, 'lowr': "
            "not a token attribute spaCy knows"
        ), msg
        assert "\x1f" not in msg and "Pattern 0" not in msg
    assert nba.Database(db_path).datasets() == []


@pytest.mark.parametrize(
    "token, says",
    [
        ({"POS": "PROPN"}, "matches on POS, which this pipeline does not set"),
        ({"lemma": "buy"}, "matches on LEMMA, which this pipeline does not set"),
        ({"_": {"is_brand": True}}, "the token extension '_.is_brand', which is not registered"),
    ],
)
def test_a_pattern_on_what_the_pipeline_does_not_set_fails_at_the_call(
    db_path, tmp_path, token, says
):
    """Prodigy pattern files often match on POS; on blank:en spaCy's Matcher raised E155 from
    the first next_task(), naming no pattern."""
    path = tmp_path / "patterns.jsonl"
    path.write_text(
        '{"label": "PRODUCT", "pattern": [{"lower": "iphone"}]}\n'
        + json.dumps({"label": "PRODUCT", "pattern": [token, {"IS_DIGIT": True}]})
        + "\n",
        encoding="utf-8",
    )
    for call in (
        lambda: nba.teach("t", TEXTS, "blank:en", ["PRODUCT"], path, db=db_path),
        lambda: nba.manual("m", TEXTS, ["PRODUCT"], patterns=path, db=db_path),
    ):
        with pytest.raises(PatternError) as err:
            call()
        assert str(err.value).startswith(f"{path}, line 2: "), err.value
        assert says in str(err.value)
    assert nba.Database(db_path).datasets() == []


# -- texts the model cannot take --------------------------------------------------------------


def test_a_text_longer_than_the_model_takes_fails_naming_it(db_path):
    """spaCy's E088 came from a thread at next_task, naming nothing; now the call that got the
    text says which one and what to do, and one past the head stops the session the same way."""
    book = "word " * 210_000  # no sentence end: splitting cannot shorten it
    for call in (
        lambda: nba.teach("t", ["I bought an iPhone .", book], "blank:en", ["PRODUCT"], db=db_path),
        lambda: nba.manual("m", ["I bought an iPhone .", book], ["PRODUCT"], db=db_path),
    ):
        with pytest.raises(SourceError) as err:
            call()
        msg = str(err.value)
        assert msg.startswith("row 1 of the source ('word word") and "1,050,000 characters" in msg
        assert "nlp.max_length = 1,000,000" in msg and "Split it into shorter texts" in msg
    assert nba.Database(db_path).datasets() == []

    late = [f"text {i} ." for i in range(VALIDATE_LINES)] + [book, "after ."]
    s = nba.teach(
        "t", late, "blank:en", ["PRODUCT"], db=db_path, sorter="none", split_sentences=False
    )
    try:
        with pytest.raises(SourceError, match=f"row {VALIDATE_LINES} of the source"):
            for _ in range(10_000):
                if (task := s.next_task(timeout=60)) is None:
                    break
                s.answer(task, "ignore")
        with pytest.raises(SourceError, match="1,050,000 characters"):
            s.next_task(timeout=60)
    finally:
        s.stop()


def test_a_long_text_with_sentences_is_split_and_a_raised_limit_is_kept(db_path):
    long = "I bought an iPhone today . " * 40_000  # 1.08M characters, 40,000 sentences
    s = nba.manual("m", [long], ["PRODUCT"], db=db_path)
    task = s.next_task()
    assert task["text"] == "I bought an iPhone today ." and task["meta"]["sentence"] == 0
    nlp = spacy.blank("en")
    nlp.max_length = 2_000_000  # the user's own limit, on the Language passed as model
    s = nba.manual(
        "whole", ["x " * 600_000], ["PRODUCT"], model=nlp, db=db_path, split_sentences=False
    )
    assert len(s.next_task()["text"]) == 1_200_000


def test_a_lone_surrogate_fails_at_the_call_naming_the_line(db_path, tmp_path):
    path = tmp_path / "tweets.jsonl"
    path.write_text(
        json.dumps({"text": "My Galaxy is great"})
        + "\n"
        + '{"text": "Loving my new iPhone \\ud83d"}\n',
        encoding="utf-8",
    )
    for call in (
        lambda: nba.teach("t", path, "blank:en", ["PRODUCT"], db=db_path),
        lambda: nba.manual("m", path, ["PRODUCT"], db=db_path),
    ):
        with pytest.raises(SourceError, match="tweets.jsonl', line 2: the text has a lone"):
            call()
    assert nba.Database(db_path).datasets() == []


# -- answers: only tasks offered on the dataset, as offered -----------------------------------


def _teach(db, name="t", texts=None, **kw):
    return nba.teach(
        name,
        texts or gadget_texts(20),
        "blank:en",
        ["PRODUCT"],
        product_patterns(),
        db=db,
        split_sentences=False,
        whole=None,
        **kw,
    )


def _stored(db, name="t"):
    with nba.Database(db) as d:
        return d.dataset(name).answers() if name in d.datasets() else []


def test_answer_refuses_a_teach_task_edited_after_next_task(db_path):
    """An edited task was stored under the hashes of the question as offered: resume then
    skipped a question never answered, and train() merged the answer into the wrong text."""
    s = _teach(db_path)
    try:
        task = s.next_task(timeout=60)
        edited_text = dict(task, text=task["text"] + " Really.")
        with pytest.raises(nba.AnswerError, match="text does not match its '_input_hash'"):
            s.answer(edited_text, "accept")
        span = dict(task["spans"][0], label="ORG")
        with pytest.raises(nba.AnswerError, match="spans or labels do not match"):
            s.answer(dict(task, spans=[span]), "accept")
        assert _stored(db_path) == []  # nothing stored
        assert s.answer(task, "accept")["_task_hash"] == task["_task_hash"]  # as offered: fine
    finally:
        s.close()
    assert [t["_task_hash"] for t in _stored(db_path)] == [task["_task_hash"]]


def test_answer_refuses_a_task_this_dataset_never_offered(db_path):
    """A task from a session on another dataset, or made by hand with correct hashes."""
    from nbannotate.tasks import make_task

    a = _teach(db_path, "a", texts=["I love my iPhone ."])
    b = _teach(db_path, "b", texts=["My Pixel broke today ."])
    try:
        other = b.next_task(timeout=60)
        with pytest.raises(nba.AnswerError, match="never offered on dataset 'a'"):
            a.answer(other, "accept")
        by_hand = make_task(
            "I love my Galaxy .",
            [],
            [{"start": 10, "end": 16, "token_start": 3, "token_end": 3, "label": "PRODUCT"}],
        )
        with pytest.raises(nba.AnswerError, match="never offered"):
            a.answer(by_hand, "accept")
        assert _stored(db_path, "a") == []
        b.answer(other, "reject")  # its own session takes it
    finally:
        a.close()
        b.close()
    assert [t["answer"] for t in _stored(db_path, "b")] == ["reject"]


def test_a_task_offered_by_another_session_on_the_dataset_or_resumed_is_answered(db_path):
    """Sessions of this process on one dataset take each other's tasks; a resumed session
    (the kernel restarted: a new process) takes its tasks, the first undone one too."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    texts = gadget_texts(20)
    a, b = _teach(db_path, annotator="alice"), _teach(db_path, annotator="bob")
    try:
        task = a.next_task(timeout=60)
        assert b.answer(dict(task), "accept")["_task_hash"] == task["_task_hash"]
    finally:
        a.close()
        b.close()
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import nbannotate as nba
        from gadgets import product_patterns
        s = nba.teach("t", {texts!r}, "blank:en", ["PRODUCT"], product_patterns(),
                      db={str(db_path)!r}, split_sentences=False, whole=None)
        first = s.next_task(timeout=60)
        s.answer(first, "accept")
        s.undo()
        again = s.next_task(timeout=60)
        assert again["_task_hash"] == first["_task_hash"]
        s.answer(again, "reject")
        s.answer(s.next_task(timeout=60), "ignore")
        s.close()
        print("ok")
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.stdout.strip() == "ok", p.stderr
    assert [t["answer"] for t in _stored(db_path)] == ["accept", "reject", "ignore"]


def test_manual_answer_takes_edited_spans_but_not_an_edited_text(db_path):
    """In manual and correct the annotator edits the spans (the answer keeps the offered task
    hash); the text is what the input hash names and cannot change."""
    s = nba.manual(
        "m",
        ["I love my iPhone and my Galaxy ."],
        ["PRODUCT"],
        patterns=product_patterns(),
        db=db_path,
        split_sentences=False,
    )
    try:
        task = s.next_task()
        with pytest.raises(nba.AnswerError, match="text does not match"):
            s.answer(dict(task, text="I love my iPhone and my Pixel ."), "accept")
        assert [t["text"][sp["start"] : sp["end"]] for sp in task["spans"] for t in [task]] == [
            "iPhone",
            "Galaxy",
        ]  # pre-highlighted by the patterns
        stored = s.answer(dict(task, spans=task["spans"][:1]), "accept")  # one removed
    finally:
        s.close()
    assert stored["_task_hash"] == task["_task_hash"]
    assert [(sp["start"], sp["end"]) for sp in stored["spans"]] == [(10, 16)]
    assert len(_stored(db_path, "m")) == 1
