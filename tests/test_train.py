"""train() and train_curve(): real DuckDB files, real spaCy training (small data, few epochs)."""

from __future__ import annotations

import hashlib
import itertools
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example

from nbannotate.errors import DatasetError, ModelError, TrainingError
from nbannotate.models import INCORRECT_SPANS_KEY
from nbannotate.store import Database
from nbannotate.tasks import VIEW_MANUAL, doc_tokens, make_task, span_dict
from nbannotate.train import CurveResult, TrainResult, train, train_curve

PEOPLE = [
    "Alice Smith",
    "Bob Jones",
    "Carla Diaz",
    "David Kim",
    "Eva Novak",
    "Frank Moore",
    "Grace Lee",
    "Hugo Weber",
    "Ines Costa",
    "Jon Berg",
]
CITIES = ["Paris", "Berlin", "Tokyo", "Lima", "Oslo", "Cairo", "Quito", "Dublin"]
TEMPLATES = [
    "{p} flew to {c} on Monday .",
    "Yesterday {p} visited {c} with friends .",
    "In {c} , {p} gave a long talk .",
    "We met {p} near the station in {c} .",
]
NLP = spacy.blank("en")
FAST = {"epochs": 2, "batch_size": 8, "progress": False}


def corpus(n: int, offset: int = 0) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """n distinct sentences with PERSON and CITY entities (character offsets)."""
    out = []
    combos = itertools.product(TEMPLATES, PEOPLE, CITIES)
    for tpl, p, c in itertools.islice(combos, offset, offset + n):
        text = tpl.format(p=p, c=c)
        out.append(
            (
                text,
                sorted(
                    [
                        (text.index(p), text.index(p) + len(p), "PERSON"),
                        (text.index(c), text.index(c) + len(c), "CITY"),
                    ]
                ),
            )
        )
    return out


def gold(text: str, ents: list[tuple[int, int, str]]) -> dict:
    doc = NLP.make_doc(text)
    spans = [span_dict(doc.char_span(s, e, label=lb)) for s, e, lb in ents]
    return make_task(text, doc_tokens(doc), spans, view_id=VIEW_MANUAL)


def binary(text: str, start: int, end: int, label: str, answer: str) -> dict:
    doc = NLP.make_doc(text)
    task = make_task(text, doc_tokens(doc), [span_dict(doc.char_span(start, end, label=label))])
    task["answer"] = answer
    return task


def binary_answers(n: int, offset: int = 0) -> list[dict]:
    """Accept the true entities, reject the first word as CITY (it never is one)."""
    tasks = []
    for text, ents in corpus(n, offset):
        for s, e, lb in ents:
            tasks.append(binary(text, s, e, lb, "accept"))
        first = text.split(" ")[0]
        if (0, len(first), "CITY") not in ents:
            tasks.append(binary(text, 0, len(first), "CITY", "reject"))
    return tasks


@pytest.fixture
def db(tmp_path: Path):
    database = Database(tmp_path / "nba.duckdb")
    yield database
    database.close()


def add(db: Database, name: str, tasks: list[dict], answer: str | None = None) -> None:
    db.dataset(name, create=True).add_many(tasks, answer=answer)


def tree_hash(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def docbin_docs(path: Path) -> list:
    return list(DocBin().from_disk(path).get_docs(NLP.vocab))


# -- gold data --------------------------------------------------------------------------------


def test_gold_training_writes_a_loadable_pipeline_and_reports_scores(db, tmp_path, capsys):
    add(db, "people", [gold(t, e) for t, e in corpus(60)], answer="accept")
    out = tmp_path / "models" / "people"
    result = train("people", out, db=db, epochs=4, batch_size=8, progress=True)

    assert isinstance(result, TrainResult)
    assert result.output_dir == out.resolve()
    # The progress bar was drawn (stderr, as tqdm does outside a notebook).
    err = capsys.readouterr().err
    assert "train:" in err and "batch" in err
    epochs = result.scores["epochs"]
    assert [r["epoch"] for r in epochs] == [0, 1, 2, 3, 4]
    assert result.scores["eval"] == "gold"
    best = result.scores["best"]
    assert best in epochs and best["ents_f"] == max(r["ents_f"] for r in epochs)
    assert set(best["ents_per_type"]) == {"CITY", "PERSON"}
    assert best["ents_f"] > 0.5  # templated data: learnable in a few epochs
    assert best["binary"] is None
    assert result.stats["train_texts"] == 48 and result.stats["eval_texts"] == 12
    assert result.labels == ["CITY", "PERSON"]

    # The saved pipeline is the best one and loads with plain spacy.load.
    nlp = spacy.load(out)
    assert nlp.pipe_names == ["tok2vec", "ner"]
    dev = docbin_docs(out / "dev.spacy")
    scores = nlp.evaluate([Example(nlp.make_doc(d.text), d) for d in dev])
    assert scores["ents_f"] == pytest.approx(best["ents_f"])
    for name in (
        "config.cfg",
        "training.cfg",
        "train.spacy",
        "dev.spacy",
        "nbannotate_spacy.py",
        "nbannotate_train.json",
        "meta.json",
    ):
        assert (out / name).is_file(), name
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())  # no staging left

    # No text on both sides of the seeded split, and the split is 80/20 by text.
    train_texts = {d.text for d in docbin_docs(out / "train.spacy")}
    dev_texts = {d.text for d in dev}
    assert len(train_texts) == 48 and len(dev_texts) == 12 and not train_texts & dev_texts
    # Gold texts are complete: every token has an entity tag (O or an entity).
    assert all(t.ent_iob_ != "" for d in dev for t in d)

    text = str(result)
    assert "epoch" in text and "CITY" in text and "PERSON" in text and str(out.resolve()) in text
    assert "<table" in result._repr_html_() and "<th>epoch</th>" in result._repr_html_()
    assert repr(result).startswith("TrainResult(output_dir=")


def test_eval_dataset_is_used_and_its_texts_leave_training(db, tmp_path, capsys):
    data = corpus(40)
    add(db, "train", [gold(t, e) for t, e in data], answer="accept")
    add(db, "test", [gold(t, e) for t, e in data[30:]], answer="accept")
    capsys.readouterr()
    result = train("train", tmp_path / "out", db=db, eval_dataset="test", **FAST)
    assert "batch" not in capsys.readouterr().err  # progress=False: no bar
    assert result.stats["eval_texts"] == 10 and result.stats["train_texts"] == 30
    assert result.stats["train_texts_also_in_eval"] == 10
    dev = {d.text for d in docbin_docs(tmp_path / "out" / "dev.spacy")}
    assert dev == {t for t, _ in data[30:]}


# -- binary and mixed data --------------------------------------------------------------------


def test_binary_answers_train_with_missing_tokens_and_report_accuracy(db, tmp_path):
    tasks = binary_answers(50)
    tasks.append({**binary(*corpus(1)[0][:1], 0, 5, "CITY", "ignore")})
    add(db, "teach", tasks)
    out = tmp_path / "out"
    result = train("teach", out, db=db, **FAST)

    assert result.scores["eval"] == "binary"
    # Binary answers leave the other tokens unknown: no entity P/R/F, only accuracy.
    assert all(r["ents_f"] is None and r["ents_p"] is None for r in result.scores["epochs"])
    b = result.best["binary"]
    # 10 eval texts: 2 accepted spans and 1 rejected span each.
    assert (b["accept_total"], b["reject_total"], b["total"]) == (20, 10, 30)
    assert b["correct"] + b["incorrect"] == 30
    assert b["accuracy"] == pytest.approx(b["correct"] / 30)
    assert result.stats["ignored"] == 1
    assert "Binary eval: accuracy" in str(result)
    assert "Binary eval: accuracy" in result._repr_html_()  # the notebook shows it too

    # Binary answers: only the accepted spans are known, the rest is missing, not "O";
    # rejected spans travel in doc.spans[INCORRECT_SPANS_KEY].
    docs = docbin_docs(out / "train.spacy")
    assert all(any(t.ent_iob_ == "" for t in d) for d in docs)
    assert all(len(d.ents) == 2 for d in docs)
    assert len(docs) == 40 and result.stats["binary_train_texts"] == 40
    assert sum(len(d.spans.get(INCORRECT_SPANS_KEY, [])) for d in docs) == 40
    nlp = spacy.load(out)
    assert nlp.get_pipe("ner").cfg["incorrect_spans_key"] == INCORRECT_SPANS_KEY


def test_binary_eval_counts_an_accept_that_spans_the_whole_text(db, tmp_path):
    # Short texts ("Paris"): an accepted span covering every token leaves no token missing, yet
    # it is one binary decision, not a complete annotation.
    add(db, "teach", binary_answers(40))
    evals = [binary(c, 0, len(c), "CITY", "accept") for c in CITIES[:5]]
    evals.append(binary(*corpus(1, 300)[0][:1], 0, 2, "CITY", "reject"))
    add(db, "eval", evals)
    result = train("teach", tmp_path / "out", db=db, eval_dataset="eval", **FAST)
    assert result.scores["eval"] == "binary"
    b = result.best["binary"]
    assert (b["accept_total"], b["reject_total"]) == (5, 1)
    assert all(r["ents_f"] is None for r in result.scores["epochs"])


def test_an_empty_dataset_beside_others_is_left_out_with_a_warning(db, tmp_path):
    """The README's silver step keeps nothing when the model is sure of no text: training on
    the answers and that empty silver dataset goes on, and says so."""
    add(db, "teach", binary_answers(30))
    db.add_dataset("teach-silver")
    with pytest.warns(UserWarning, match="'teach-silver' is empty .* training on the others"):
        result = train(["teach", "teach-silver"], tmp_path / "out", db=db, **FAST)
    assert result.stats["binary_train_texts"] == 24


def test_mixed_data_counts_conflicts_latest_wins(db, tmp_path):
    data = corpus(40)
    add(db, "gold", [gold(t, e) for t, e in data[:20]], answer="accept")
    teach = binary_answers(20, offset=20)
    text, ents = data[25]
    s, e, lb = ents[0]
    # Accepted first (in binary_answers), then rejected, then accepted again: 2 conflicts,
    # and the latest answer (accept) is what the model is trained on.
    teach += [binary(text, s, e, lb, "reject"), binary(text, s, e, lb, "accept")]
    add(db, "teach", teach)
    result = train(["gold", "teach"], tmp_path / "out", db=db, **FAST)
    assert result.stats["conflicts"] == 2
    assert result.stats["gold_train_texts"] + result.stats["eval_texts"] >= 20
    assert result.scores["eval"] == "mixed"
    best = result.best
    assert best["ents_f"] is not None and best["binary"] is not None
    docs = docbin_docs(tmp_path / "out" / "train.spacy") + docbin_docs(
        tmp_path / "out" / "dev.spacy"
    )
    doc = next(d for d in docs if d.text == text)
    assert (s, e, lb) in {(x.start_char, x.end_char, x.label_) for x in doc.ents}
    rejected = {
        (x.start_char, x.end_char, x.label_) for x in doc.spans.get(INCORRECT_SPANS_KEY, [])
    }
    assert (s, e, lb) not in rejected


def test_binary_weight_repeats_texts_known_only_from_binary_accepts(db, tmp_path):
    data = corpus(30)
    add(db, "gold", [gold(t, e) for t, e in data[:10]], answer="accept")
    teach = binary_answers(10, offset=10)  # accepted spans (and a rejected one) per text
    only_rejected = [binary(t, 0, len(t.split(" ")[0]), "CITY", "reject") for t, _ in data[20:]]
    add(db, "teach", teach + only_rejected)
    eval_set = [gold(t, e) for t, e in corpus(5, offset=40)]
    add(db, "eval", eval_set, answer="accept")

    def seen(out: Path) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in docbin_docs(out / "train.spacy"):
            counts[d.text] = counts.get(d.text, 0) + 1
        return counts

    result = train(
        ["gold", "teach"], tmp_path / "w3", db=db, eval_dataset="eval", binary_weight=3, **FAST
    )
    counts = seen(tmp_path / "w3")
    assert result.stats["binary_train_texts"] == 10
    assert {counts[t] for t, _ in data[:10]} == {1}  # complete annotations: once
    assert {counts[t] for t, _ in data[10:20]} == {3}  # binary, with an accepted span
    assert {counts[t] for t, _ in data[20:]} == {1}  # only a rejection: once
    # The default, 1, trains on every text once.
    train(["gold", "teach"], tmp_path / "w1", db=db, eval_dataset="eval", **FAST)
    assert set(seen(tmp_path / "w1").values()) == {1}
    assert len(seen(tmp_path / "w1")) == 30


# ``python -m spacy`` with nbannotate made unimportable: the output reruns without it.
WITHOUT_NBANNOTATE = (
    "import runpy, sys; sys.modules['nbannotate'] = None; "
    "sys.argv = ['spacy', *sys.argv[1:]]; runpy.run_module('spacy', run_name='__main__')"
)


def test_rerun_with_spacy_train_cli(db, tmp_path):
    add(db, "teach", binary_answers(20))
    out = tmp_path / "out"
    result = train("teach", out, db=db, epochs=1, progress=False)
    assert "spacy train" in result.rerun_command
    cmd = [
        sys.executable,
        "-c",
        WITHOUT_NBANNOTATE,
        "train",
        "training.cfg",
        "--code",
        "nbannotate_spacy.py",
        "--output",
        str(tmp_path / "rerun"),
        "--training.max_steps",
        "1",
        "--training.eval_frequency",
        "1",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert spacy.load(tmp_path / "rerun" / "model-last").pipe_names == ["tok2vec", "ner"]


# -- a base pipeline --------------------------------------------------------------------------

BASE_CFG = """
[nlp]
lang = "en"
pipeline = ["tok2vec","tagger","ner"]
[components]
[components.tok2vec]
factory = "tok2vec"
[components.tok2vec.model]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 32
depth = 2
embed_size = 500
window_size = 1
maxout_pieces = 2
subword_features = true
[components.tagger]
factory = "tagger"
[components.tagger.model]
@architectures = "spacy.Tagger.v2"
nO = null
[components.tagger.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = 32
upstream = "*"
[components.ner]
factory = "ner"
[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 32
maxout_pieces = 2
use_upper = true
nO = null
[components.ner.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = 32
upstream = "*"
"""


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    """A small trained pipeline: a tagger and an NER (PERSON) sharing one tok2vec."""
    nlp = spacy.util.load_model_from_config(
        spacy.util.load_config_from_str(BASE_CFG), auto_fill=True
    )
    egs = []
    for text, ents in corpus(8):
        doc = nlp.make_doc(text)
        tags = ["X" if tok.is_title else "Y" for tok in doc]
        egs.append(
            Example.from_dict(
                doc, {"tags": tags, "entities": [x for x in ents if x[2] == "PERSON"]}
            )
        )
    opt = nlp.initialize(lambda: egs)
    for _ in range(5):
        nlp.update(egs, sgd=opt)
    path = tmp_path_factory.mktemp("base") / "base_model"
    nlp.to_disk(path)
    return path


def test_base_pipeline_is_never_written_and_keeps_other_weights(db, tmp_path, base_dir):
    before = tree_hash(base_dir)
    add(db, "teach", binary_answers(30))
    out = tmp_path / "out"
    result = train("teach", out, base_model=str(base_dir), db=db, **FAST)
    assert tree_hash(base_dir) == before
    # CITY is new to the base NER: it is added; PERSON kept.
    assert result.stats["labels_added_to_base"] == ["CITY"]
    base, trained = spacy.load(base_dir), spacy.load(out)
    assert trained.pipe_names == ["tok2vec", "tagger", "ner"]
    assert set(trained.get_pipe("ner").labels) == {"CITY", "PERSON"}
    for name in ("tok2vec", "tagger"):
        assert trained.get_pipe(name).model.to_bytes() == base.get_pipe(name).model.to_bytes()
    assert trained.get_pipe("ner").model.to_bytes() != base.get_pipe("ner").model.to_bytes()
    text = "Grace Lee flew to Oslo ."
    assert [t.tag_ for t in trained(text)] == [t.tag_ for t in base(text)]
    # The NER got its own copy of the shared tok2vec: the frozen tok2vec serves the tagger only.
    assert "ner" not in trained.get_pipe("tok2vec").listening_components


def test_output_dir_in_or_at_the_base_model_is_refused(db, tmp_path, base_dir):
    add(db, "teach", binary_answers(10))
    before = tree_hash(base_dir)
    for bad in (base_dir, base_dir / "trained", base_dir / "ner" / "x", base_dir.parent):
        with pytest.raises(TrainingError, match="base model"):
            train("teach", bad, base_model=str(base_dir), db=db, overwrite=True, **FAST)
    nlp = spacy.load(base_dir)
    with pytest.raises(TrainingError, match="base model"):
        train("teach", base_dir / "out", base_model=nlp, db=db, **FAST)
    assert tree_hash(base_dir) == before


def test_base_model_as_language_object(db, tmp_path):
    add(db, "teach", binary_answers(20))
    base = spacy.blank("en")
    result = train("teach", tmp_path / "out", base_model=base, db=db, **FAST)
    assert base.pipe_names == []  # the caller's object is untouched
    assert spacy.load(result.output_dir).pipe_names == ["tok2vec", "ner"]


def test_a_language_base_trains_as_it_is_in_memory_not_as_on_disk(db, tmp_path, base_dir):
    """A Language loaded from a directory, then changed in memory: train() sourced the saved
    directory, so patterns added since were lost and an added component failed mid-training;
    a blank Language's own tokenizer rule was replaced by the default."""
    before = tree_hash(base_dir)
    add(db, "teach", binary_answers(30))
    nlp = spacy.load(base_dir)
    ruler = nlp.add_pipe("entity_ruler", before="ner")
    ruler.add_patterns([{"label": "PRODUCT", "pattern": "iPhone"}])
    nlp.add_pipe("sentencizer", first=True)
    result = train("teach", tmp_path / "out", base_model=nlp, db=db, **FAST)
    out = spacy.load(result.output_dir)
    assert out.pipe_names == ["sentencizer", "tok2vec", "tagger", "entity_ruler", "ner"]
    assert ("iPhone", "PRODUCT") in [(e.text, e.label_) for e in out("My iPhone broke .").ents]
    assert tree_hash(base_dir) == before

    blank = spacy.blank("en")
    blank.tokenizer.add_special_case("GalaxyS24", [{"ORTH": "Galaxy"}, {"ORTH": "S24"}])
    result = train("teach", tmp_path / "out2", base_model=blank, db=db, **FAST)
    assert [t.text for t in spacy.load(result.output_dir)("my GalaxyS24")] == [
        "my",
        "Galaxy",
        "S24",
    ]


def test_a_disabled_ner_is_refused_and_disabled_components_are_kept(db, tmp_path, base_dir):
    """spacy.load(..., disable=["ner"]) as the base: teach crashed with spaCy's E007 and train()
    wrote a pipeline whose new NER was disabled. A disabled component (en_core_web_*'s senter)
    was dropped from the output."""
    import nbannotate as nba

    add(db, "teach", binary_answers(30))
    no_ner = spacy.load(base_dir, disable=["ner"])
    with pytest.raises(ModelError, match="'ner' of the spacy.Language passed is disabled"):
        train("teach", tmp_path / "out", base_model=no_ner, db=db, **FAST)
    with pytest.raises(ModelError, match=r"is disabled .*nlp\.enable_pipe\('ner'\)"):
        nba.teach("t", ["A text ."], no_ner, ["PERSON"], db=db)
    nlp = spacy.load(base_dir)
    nlp.add_pipe("sentencizer", first=True)
    nlp.disable_pipe("sentencizer")
    result = train("teach", tmp_path / "out", base_model=nlp, db=db, **FAST)
    out = spacy.load(result.output_dir)
    assert out.component_names == ["sentencizer", "tok2vec", "tagger", "ner"]
    assert out.disabled == ["sentencizer"]
    assert any(d.ents for d in out.pipe(t for t, _ in corpus(5)))


def test_the_rerun_command_quotes_paths_and_eval_counts_held_out_answers(db, tmp_path):
    add(db, "teach", binary_answers(30))
    out = tmp_path / "my models" / "out"
    result = train("teach", out, db=db, **FAST)
    words = shlex.split(result.rerun_command)
    assert words[:3] == ["cd", str(out), "&&"] and Path(words[1]).is_dir()
    assert words[3:7] == ["python", "-m", "spacy", "train"]
    assert words[7] == "training.cfg" and (out / words[7]).exists()
    # the held-out texts' answers (2 accepts and 1 reject each) are counted
    assert result.stats["eval_answers"] == 3 * result.stats["eval_texts"] > 0


def test_a_base_of_word_vectors_gives_the_new_ner_its_vectors(db, tmp_path):
    """A pipeline of word vectors alone (``spacy init vectors``) as the base: the trained NER
    reads the vectors, they ship with the output, and the teach loop updates such a model."""
    import numpy as np

    base = spacy.blank("en")
    rng = np.random.default_rng(0)
    words = sorted({t.text for text, _ in corpus(60) for t in NLP.make_doc(text)})
    for word in words:
        base.vocab.set_vector(word, rng.normal(size=16).astype("float32"))
    base_dir = tmp_path / "vectors_base"
    base.to_disk(base_dir)
    before = tree_hash(base_dir)
    add(db, "gold", [gold(t, e) for t, e in corpus(40)], answer="accept")
    out = tmp_path / "out"
    train("gold", out, base_model=str(base_dir), db=db, **FAST)
    assert tree_hash(base_dir) == before
    trained = spacy.load(out)
    embed = trained.config["components"]["tok2vec"]["model"]["embed"]
    assert embed["include_static_vectors"] is True
    assert np.array_equal(trained.vocab.vectors.data, spacy.load(base_dir).vocab.vectors.data)
    # The NER's features change with a word's vector: the vectors are read, not only stored.
    tok2vec = trained.get_pipe("tok2vec")
    first = tok2vec.predict([trained.make_doc("Grace Lee flew to Oslo .")])[0].copy()
    trained.vocab.set_vector("Oslo", np.zeros(16, dtype="float32"))
    second = tok2vec.predict([trained.make_doc("Grace Lee flew to Oslo .")])[0]
    assert not np.allclose(first[4], second[4])
    # The same base passed in memory (it has no directory to load the vectors from).
    in_memory = spacy.load(
        train("gold", tmp_path / "out2", base_model=base, db=db, **FAST).output_dir
    )
    assert in_memory.config["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"]
    assert np.array_equal(in_memory.vocab.vectors.data, base.vocab.vectors.data)

    import nbannotate as nba

    s = nba.teach(
        "loop",
        [t for t, _ in corpus(30, offset=60)],
        str(out),
        ["PERSON", "CITY"],
        db=db.path,
        batch_size=5,
        split_sentences=False,
    )
    try:
        for _ in range(10):
            task = s.next_task(timeout=60)
            assert task is not None
            s.answer(
                task,
                "accept" if task["spans"] and task["spans"][0]["label"] == "PERSON" else "reject",
            )
        s.update_model()
        assert [r.answers for r in s.updater.reports] == [5, 5]
        assert not s.updater.errors
    finally:
        s.stop()


# -- refusals ---------------------------------------------------------------------------------


def test_bad_inputs_raise_clear_errors(db, tmp_path):
    add(db, "ok", binary_answers(10))
    db.add_dataset("empty")
    first = [(t, len(t.split(" ")[0])) for t, _ in corpus(5)]
    add(db, "ignored", [binary(t, 0, n, "CITY", "ignore") for t, n in first])
    add(db, "rejects", [binary(t, 0, n, "CITY", "reject") for t, n in first])
    out = tmp_path / "out"
    with pytest.raises(DatasetError, match="'nope'"):
        train("nope", out, db=db, **FAST)
    with pytest.raises(DatasetError, match="'empty' is empty"):
        train("empty", out, db=db, **FAST)
    with pytest.raises(DatasetError, match="only hold ignored answers"):
        train("ignored", out, db=db, **FAST)
    with pytest.raises(TrainingError, match="No accepted span"):
        train("rejects", out, db=db, **FAST)
    with pytest.raises(TrainingError, match="DRUG"):
        train("ok", out, db=db, labels=["CITY", "DRUG"], **FAST)
    with pytest.raises(ModelError, match="Unknown model 'no_such_model'"):
        train("ok", out, base_model="no_such_model", db=db, **FAST)
    with pytest.raises(ModelError, match="blank:zz"):
        train("ok", out, base_model="blank:zz", db=db, **FAST)
    with pytest.raises(TrainingError, match="epochs"):
        train("ok", out, db=db, epochs=0)
    for bad in (0, 1.5, True):
        with pytest.raises(TrainingError, match="binary_weight"):
            train("ok", out, db=db, binary_weight=bad)
        with pytest.raises(TrainingError, match="binary_weight"):
            train_curve("ok", db=db, binary_weight=bad)
    with pytest.raises(TrainingError, match="eval_split"):
        train("ok", out, db=db, eval_split=1.5, **FAST)
    assert not out.exists()  # nothing was written by a refused call


def test_non_empty_output_dir_needs_overwrite(db, tmp_path):
    add(db, "ok", binary_answers(20))
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(TrainingError, match="not empty"):
        train("ok", other, db=db, **FAST)
    with pytest.raises(TrainingError, match="not written by train"):
        train("ok", other, db=db, overwrite=True, **FAST)
    assert (other / "keep.txt").read_text() == "mine"

    out = tmp_path / "out"
    train("ok", out, db=db, **FAST)
    with pytest.raises(TrainingError, match="overwrite=True"):
        train("ok", out, db=db, **FAST)
    second = train("ok", out, db=db, labels=["PERSON"], **FAST, overwrite=True)
    assert spacy.load(out).get_pipe("ner").labels == ("PERSON",)
    assert second.labels == ["PERSON"]


def test_labels_select_spans_and_gold_tokens_of_others_become_missing(db, tmp_path):
    add(db, "gold", [gold(t, e) for t, e in corpus(20)], answer="accept")
    result = train("gold", tmp_path / "out", db=db, labels="PERSON", **FAST)
    assert result.labels == ["PERSON"]
    docs = docbin_docs(tmp_path / "out" / "train.spacy")
    for doc in docs:
        assert {e.label_ for e in doc.ents} == {"PERSON"}
        city = next(c for c in CITIES if c in doc.text)
        span = doc.char_span(doc.text.index(city), doc.text.index(city) + len(city))
        assert all(t.ent_iob_ == "" for t in span)  # not claimed to be "O"


# -- train_curve ------------------------------------------------------------------------------


def test_train_curve_reports_and_plots(db, tmp_path):
    add(db, "gold", [gold(t, e) for t, e in corpus(40)], answer="accept")
    curve = train_curve(
        "gold",
        db=db,
        fractions=(0.5, 1.0),
        output_dir=tmp_path / "curve",
        epochs=2,
        batch_size=8,
        progress=False,
    )
    assert isinstance(curve, CurveResult)
    assert [r["fraction"] for r in curve.rows] == [0.5, 1.0]
    assert [r["train_texts"] for r in curve.rows] == [16, 32]
    assert all(r["ents_f"] is not None for r in curve.rows)
    assert curve.rows[-1]["ents_f"] == curve.results[-1].best["ents_f"]
    from matplotlib.figure import Figure

    assert isinstance(curve.figure, Figure)
    assert len(curve.figure.axes[0].lines) >= 1
    text = str(curve)
    assert "50" in text and "100" in text and ("more annotations" in text)
    assert "<img" in curve._repr_html_()
    assert spacy.load(tmp_path / "curve" / "100").pipe_names == ["tok2vec", "ner"]


def test_train_curve_without_matplotlib_says_so(db, tmp_path, monkeypatch):
    add(db, "gold", [gold(t, e) for t, e in corpus(20)], answer="accept")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.warns(UserWarning, match="pip install matplotlib"):
        curve = train_curve("gold", db=db, fractions=(1.0,), epochs=1, progress=False)
    assert curve.figure is None and len(curve.rows) == 1
    with pytest.raises(TrainingError, match="matplotlib"):
        curve.plot()


def test_a_failure_inside_spacy_names_the_exception_and_writes_nothing(db, tmp_path, monkeypatch):
    add(db, "teach", binary_answers(20))

    def bare_assertion(*args, **kwargs):  # thinc fails some beam updates with a bare assert
        raise AssertionError()

    monkeypatch.setattr("spacy.training.loop.train", bare_assertion)
    out = tmp_path / "out"
    with pytest.raises(TrainingError, match="spaCy training failed: AssertionError"):
        train("teach", out, db=db, **FAST)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith("nba.duckdb")]
