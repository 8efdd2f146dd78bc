"""Recipes: one call that checks every input and returns a running session.

Like Prodigy's recipes, ``teach`` assembles the parts (source, model, candidates, sorter,
store, updater). Every argument is validated here, so bad input fails at this call with a clear
message, before any thread starts or anything is stored.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language

from . import candidates, checkpoint, checks
from .base_session import BaseSession
from .candidates import CandidateScorer, check_item
from .checkpoint import CheckpointKey
from .errors import ArgumentError, DatasetError, ModelError
from .manual import ManualSession
from .models import (
    ModelLike,
    find_ner,
    load_language,
    load_model,
    normalize_labels,
    require_ner,
    started_blank,
)
from .patterns import PatternMatcher, PatternsLike, read_patterns
from .progress import bar as progress_bar
from .progress import counted
from .session import CheckpointFactory, TeachSession
from .silver import SilverStats, silver_tasks
from .sorters import Sorter, get_sorter
from .sources import VALIDATE_LINES, Source
from .store import MEMORY, Database, Dataset, check_dataset_name, is_url
from .store.claims import DEFAULT_LEASE
from .tasks import input_hash

# In-loop step size when only binary span answers teach the model (no whole analyses).
WHOLE_NONE_LEARN_RATE = 0.0005


def _check_dataset(name: Any) -> None:
    """DatasetError for a name the store would refuse, before the model is loaded."""
    check_dataset_name(name)


def _positive_int(name: str, value: Any) -> int:
    return checks.integer(name, value, "a positive integer", low=1)


def _non_negative_int(name: str, value: Any, what: str = "") -> int:
    return checks.integer(name, value, f"an integer of 0 or more{what}", low=0)


def _probability(name: str, value: Any) -> float | None:
    return (
        None
        if value is None
        else checks.real(name, value, "a probability between 0 and 1 or None", 0.0, 1.0)
    )


def _learning(learn_rate: Any, average: Any) -> tuple[float | None, float | None]:
    """The in-loop step size and weight average of teach and correct, checked."""
    if learn_rate is not None:
        learn_rate = checks.real(
            "learn_rate",
            learn_rate,
            "a positive number such as 0.001, or None for the default",
            0.0,
            low_open=True,
        )
    if average is not None:
        average = checks.real(
            "average",
            average,
            "a decay in [0, 1) such as 0.99, or None to predict with the last weights",
            0.0,
            1.0,
            high_open=True,
        )
    return learn_rate, average


def _check_head(src: Source, nlp: Language, labels: list[str] | None, split: bool) -> None:
    """The first items of a source that can be read again, checked as the session will check
    them (length, and with ``labels`` the labels of incoming spans), so that such bad input
    fails at the call; later items fail when the session reaches them."""
    splitter = None
    head = src.head(VALIDATE_LINES)
    if not head:  # an empty file, or no text in the first items: is there any at all?
        src.check_has_text()
    for item in head:
        parts = [item]
        if split and len(item["text"]) > nlp.max_length:  # rare: split as the session will
            splitter = splitter or candidates.sentence_splitter(nlp.lang)
            parts = list(candidates.split_sentences([item], splitter))
        for part in parts:
            check_item(part, nlp, labels)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ArgumentError(f"{name} must be True or False, got {value!r}.")
    return value


def _lease(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ArgumentError(
            f"lease must be a number of seconds > 0 (default {DEFAULT_LEASE:g}), got {value!r}."
        )
    return float(value)


def _database(db: Database | str | Path | None) -> Database:
    if isinstance(db, Database):
        return db
    return Database() if db is None else Database(db)


# The live session per (database file, dataset, recipe, annotator): running a cell again starts
# a new one, and the old one, still held by its widget, would go on scoring and updating for
# nothing. Sessions of other annotators (Prodigy's named sessions) run side by side.
_LIVE: weakref.WeakValueDictionary[tuple[str, str, str, str | None], BaseSession] = (
    weakref.WeakValueDictionary()
)
_LIVE_LOCK = threading.Lock()


def _take_over(session: BaseSession, kind: str) -> None:
    """Close the previous ``kind`` session of the same annotator on the same dataset of the
    same database file."""
    db = session.db_dataset.db
    if db.path == MEMORY:  # every ":memory:" database is its own
        return
    key = (db.path, session.dataset, kind, session.annotator)
    with _LIVE_LOCK:
        previous = _LIVE.get(key)
        _LIVE[key] = session
    if previous is not None and previous is not session and previous.closed_reason is None:
        previous.close(
            f"A newer {kind} session on dataset {session.dataset!r} took over from this one "
            "(was its cell run again?): use the newest widget. The answers given here are "
            "saved."
        )


@contextlib.contextmanager
def _opened(db: Database | str | Path | None) -> Iterator[tuple[Database, bool]]:
    """(database, whether this call opened it). A database the call opened is released if
    the call fails; a session made from it releases it on ``close()``."""
    database = _database(db)
    owned = not isinstance(db, Database)
    try:
        database.check_writable()  # sessions store answers: fail now, not at the first one
        yield database, owned
    except BaseException:
        if owned:
            database.close()
        raise


# Over 80 lines only for its docstring, which documents every argument (help(nba.teach)).
def teach(
    dataset: str,
    source: Any,
    model: ModelLike = "blank:en",
    labels: list[str] | str | None = None,
    patterns: PatternsLike | None = None,
    *,
    db: Database | str | Path | None = None,
    beam_width: int = 16,
    sorter: str | Sorter = "prefer_uncertain",
    bias: float = 0.0,
    batch_size: int = 10,
    split_sentences: bool = True,
    text_column: str = "text",
    annotator: str | None = None,
    replay: int = 10,
    seed: int = 0,
    whole: float | None = 0.5,
    whole_alternatives: int = 1,
    complete: float | None = 0.5,
    replay_gold: str | list[str] | None = None,
    gold_per_update: int = 3,
    learn_rate: float | None = None,
    average: float | None = 0.99,
    resume_model: bool = True,
    overlap: bool = False,
    lease: float = DEFAULT_LEASE,
    correct_rejected: bool = True,
) -> TeachSession:
    """Start binary NER annotation with a model in the loop (Prodigy's ``ner.teach``).

    dataset: name of the dataset the answers go to (created if new).
    source: texts: a list of strings or of {"text", "meta"} dicts, a DataFrame (``text_column``),
        a JSONL file or a plain text file (one text a line). Files are read lazily.
    model: "blank:<lang>", an installed pipeline, a pipeline directory or a spacy.Language.
        The session updates its own copy in memory; the model's files never change. A pipeline
        without an NER gets a new one, which reads the pipeline's word vectors if it has any.
    labels: entity labels to annotate; missing ones are added to the model. Defaults to the
        pattern labels and the model's NER labels.
    patterns: match patterns (JSONL path or list of dicts) proposing candidates beside the
        model's: with a blank model they bootstrap a new label.
    db: a Database, a DuckDB file path, or a PostgreSQL URL (postgresql://user:password@host/db)
        for a team (default $NBANNOTATE_DB, else ./nbannotate.duckdb).
    beam_width: beam search width scoring the candidates (a span's score is the summed
        probability of the beam's analyses that contain it).
    sorter: "prefer_uncertain" (default), "prefer_high_scores", "none" or a callable
        ``score -> bool``.
    bias: shifts prefer_uncertain's centre from 0.5 (positive: favour likely entities).
    batch_size: the model is updated every ``batch_size`` answers.
    split_sentences: split long texts into sentences (tasks are about one sentence).
    text_column: the text's column of a DataFrame, or key of dict items.
    annotator: a name for this annotator's session (Prodigy's named sessions): sessions of
        different annotators on one dataset run side by side; running the cell again
        replaces only the same annotator's session.
    replay: earlier texts with an accepted answer replayed in each update, so the model
        keeps what it learnt (texts known to have no entity are at most half of them).
    seed: seeds the choice of replayed texts and of ``replay_gold`` examples in each update.
    whole: also ask, once per sentence, whether the model's most probable analysis (all its
        entities, or none) is complete and right, when that analysis has at least this
        probability. One accept gives a fully annotated sentence, worth several binary answers.
        None: ask about single spans only, as Prodigy's ner.teach does.
    whole_alternatives: when a whole analysis is rejected, offer up to this many analyses of
        the sentence in all (the beam's next most probable ones: a boundary or a label fixed).
    complete: after the span questions on a sentence are answered, ask once whether the
        model's most probable analysis that agrees with those answers is complete (a whole
        question: accepted spans kept, rejected ones left out, the rest filled in by the
        model), when that analysis holds at least this share of the probability of the
        analyses that agree. One accept makes the sentence a complete annotation instead of
        a few binary answers. Asked only while the model's guesses are often right: once
        20 spans it proposed itself (not pattern matches) were accepted in the session, and
        while at least 1 in 10 of its latest 100 proposals is accepted. None: no completion
        questions.
    replay_gold: dataset name(s) of complete annotations (from manual/correct, or imported)
        mixed into every model update, ``gold_per_update`` at a time: they keep the in-loop
        model's precision up while it learns from binary answers.
    learn_rate: the in-loop optimizer's step size. Default: spaCy's (0.001), or 0.0005 with
        ``whole=None``, where binary span answers alone pull the model harder (the smaller
        step trained a much better in-loop model there: BENCHMARKS.md, "What was tried").
    average: the loop scores with an exponential moving average of the weights over the
        updates, ``average * old + (1 - average) * new`` after each update, starting from the
        model's weights (a fresh model's follow the updates closely at first). The last
        update's weights alone swing with every ten answers. None: use the last weights.
        ``session.model()`` gives the model as the loop uses it.
    resume_model: the in-loop model is saved beside the database file after its updates (at
        most every few seconds, and at close), keyed by dataset, base model, labels and
        annotator; a new teach() with the same ones starts from it, so running the cell again
        keeps what the loop learnt (``session.progress["resumed_model_updates"]``: its
        updates). False: start from the base model (a checkpoint is still written).
    overlap: with several annotators (``annotator=``) on one dataset: False (default) gives
        each text, and every question about it, to one annotator (a session holds a text
        from its first question to its last; a kernel that dies lets go of its texts after
        ``lease`` seconds); True asks every annotator every question (for agreement), each
        annotator once. On PostgreSQL this holds across processes and machines; the in-loop
        model also learns from the answers the other annotators store.
    lease: seconds a dead session's texts stay held (default 30).
    correct_rejected: when a whole analysis or a completion question is rejected, offer it for
        correction: in the widget the card turns into the analysis' spans to fix (as in
        ``correct``); submitting stores the text's complete annotation (gold) beside the
        reject, and the in-loop model learns from it; space or Escape leaves the reject alone.
        Headless: ``session.correction(task)``. False: a reject is just a reject.

    Spans in the source are ignored: teach asks its own questions (manual and correct show
    them). Every numeric argument is checked here: a bad one raises ValueError naming it.

    Displaying the returned session in a notebook shows the annotation widget.
    """
    _check_dataset(dataset)
    batch_size = _positive_int("batch_size", batch_size)
    beam_width = _positive_int("beam_width", beam_width)
    whole_alternatives = _positive_int("whole_alternatives", whole_alternatives)
    replay = _non_negative_int("replay", replay, " (earlier texts replayed in each update)")
    gold_per_update = _non_negative_int(
        "gold_per_update", gold_per_update, " (complete annotations in each update)"
    )
    seed = checks.seed(seed)
    bias = checks.real(
        "bias", bias, "a number such as 0.1 (it shifts prefer_uncertain's centre from 0.5)"
    )
    whole = _probability("whole", whole)
    complete = _probability("complete", complete)
    if learn_rate is None and whole is None:
        learn_rate = WHOLE_NONE_LEARN_RATE
    learn_rate, average = _learning(learn_rate, average)
    sort = get_sorter(sorter, bias)
    src = Source(source, text_column=text_column)
    pattern_list = read_patterns(patterns) if patterns is not None else []
    wanted = _labels(labels, pattern_list)
    spacy.util.fix_random_seed(seed)
    nlp = load_model(model, wanted)
    if not labels:  # default: the pattern labels and every label the model knows
        wanted = list(dict.fromkeys([*wanted, *require_ner(nlp).labels]))
    if not wanted:
        raise ModelError("No labels to annotate: pass labels=[...] or patterns.")
    _check_head(src, nlp, None, split_sentences)
    if not isinstance(resume_model, bool):
        raise ValueError(f"resume_model must be True or False, got {resume_model!r}.")
    matcher = PatternMatcher(nlp, pattern_list, wanted) if pattern_list else None
    with _opened(db) as (database, owned):
        gold = _gold_answers(database, replay_gold)
        saver = _checkpoints(database, dataset, model, wanted, annotator, nlp, resume_model)
        # After the checkpoint: a model that has learnt shows its scores from the start.
        scorer = CandidateScorer(
            nlp,
            wanted,
            beam_width=beam_width,
            patterns=matcher,
            whole=whole,
            whole_alternatives=whole_alternatives,
            complete=complete,
        )
        ds = database.dataset(dataset, create=True)
        session = TeachSession(
            dataset=ds,
            source=src,
            nlp=nlp,
            labels=wanted,
            scorer=scorer,
            sorter=sort,
            batch_size=batch_size,
            split=split_sentences,
            annotator=annotator,
            replay=replay,
            seed=seed,
            gold=gold,
            gold_per_update=gold_per_update,
            learn_rate=learn_rate,
            average=average,
            checkpoints=saver,
            overlap=_flag("overlap", overlap),
            lease=_lease(lease),
            correct_rejected=_flag("correct_rejected", correct_rejected),
        )
        session.owns_db = owned
        _take_over(session, "teach")
    return session


def _checkpoint_base(path: str) -> str:
    """Where checkpoints of a store's loops go: beside a DuckDB file; for a server database,
    in this machine's cache (the model is this kernel's, not the team's)."""
    if not is_url(path):
        return path
    import hashlib
    import os

    digest = hashlib.sha256(path.encode()).hexdigest()[:16]  # path: the URL without password
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return str(cache / "nbannotate" / "checkpoints" / digest)


def _checkpoints(
    db: Database,
    dataset: str,
    model: ModelLike,
    labels: list[str],
    annotator: str | None,
    nlp: Language,
    resume: bool,
) -> CheckpointFactory | None:
    """With ``resume``, load the checkpoint of an earlier loop with the same dataset, base
    model, labels and annotator into ``nlp``; return what writes this session's checkpoints
    (None for an in-memory database)."""
    if db.path == MEMORY:
        return None
    key = CheckpointKey(dataset, checkpoint.model_identity(model), tuple(sorted(labels)), annotator)
    path = checkpoint.checkpoint_path(_checkpoint_base(db.path), key)
    found = None
    if resume:
        with _LIVE_LOCK:  # the cell run again: the session it replaces saves its model first
            previous = _LIVE.get((db.path, dataset, "teach", annotator))
        if isinstance(previous, TeachSession) and previous.closed_reason is None:
            previous.save_model_checkpoint()
        found = checkpoint.read(path, key)
        if found is not None and not checkpoint.restore(nlp, found):
            warnings.warn(
                f"The checkpoint {path} does not fit the model's layers; starting "
                f"from the base model.",
                stacklevel=3,
            )
            found = None
    blank = started_blank(nlp)
    if found is not None:
        info = nlp.meta.setdefault("nbannotate", {})
        info["resumed_updates"] = found.updates
        blank = found.started_blank
        info["fresh_ner"] = blank
    written = found.updates if found is not None else 0

    def make(snapshot: Any) -> checkpoint.ModelCheckpoints:
        return checkpoint.ModelCheckpoints(path, key, blank, snapshot, written=written)

    return make


def _gold_answers(db: Database, names: str | list[str] | None) -> list[dict[str, Any]]:
    if names is None:
        return []
    out: list[dict[str, Any]] = []
    for name in [names] if isinstance(names, str) else list(names):
        gold = [t for t in db.dataset(name).answers(kind="gold") if t.get("answer") == "accept"]
        if not gold:
            raise DatasetError(
                f"replay_gold: dataset {name!r} has no accepted complete annotations. Use a "
                f"dataset made with nba.manual / nba.correct, or imported gold (ner_manual)."
            )
        out.extend(gold)
    return out


def _labels(labels: list[str] | str | None, patterns: list[dict[str, Any]]) -> list[str]:
    """The requested labels, or else the pattern labels."""
    return normalize_labels(labels) or list(dict.fromkeys(p["label"] for p in patterns))


def manual(
    dataset: str,
    source: Any,
    labels: list[str] | str,
    model: ModelLike | None = None,
    patterns: PatternsLike | None = None,
    *,
    db: Database | str | Path | None = None,
    split_sentences: bool = True,
    text_column: str = "text",
    annotator: str | None = None,
    overlap: bool = False,
    lease: float = DEFAULT_LEASE,
) -> ManualSession:
    """Annotate whole texts by hand (Prodigy's ``ner.manual``); patterns pre-highlight.

    ``model`` only provides the tokenizer (default: blank English). Each accepted text is stored
    with all its spans as a complete (gold) annotation. A source item with ``"spans"`` (e.g. a
    Prodigy export to review) shows those spans pre-highlighted, snapped to whole tokens, instead
    of pattern matches; a span of a label not in ``labels`` is a SourceError (the annotator
    could not mark that label, yet an accept would store the text as complete for it).

    ``db``, ``annotator``, ``overlap`` and ``lease`` work as in :func:`teach` (a team on one
    dataset: each text to one annotator, or with ``overlap=True`` to every annotator).
    """
    _check_dataset(dataset)
    wanted = _labels(labels, [])
    if not wanted:
        raise ArgumentError("manual() needs labels=[...]: the labels the annotator can choose.")
    src = Source(source, text_column=text_column)
    nlp = load_language(model if model is not None else "blank:en")
    _check_head(src, nlp, wanted, split_sentences)
    matcher = PatternMatcher(nlp, patterns, wanted) if patterns is not None else None
    with _opened(db) as (database, owned):
        ds = database.dataset(dataset, create=True)
        session = ManualSession(
            dataset=ds,
            source=src,
            nlp=nlp,
            labels=wanted,
            patterns=matcher,
            split=split_sentences,
            annotator=annotator,
            overlap=_flag("overlap", overlap),
            lease=_lease(lease),
        )
        session.owns_db = owned
        _take_over(session, "manual")
    return session


def correct(
    dataset: str,
    source: Any,
    model: ModelLike,
    labels: list[str] | str | None = None,
    *,
    db: Database | str | Path | None = None,
    update: bool = False,
    split_sentences: bool = True,
    text_column: str = "text",
    annotator: str | None = None,
    batch_size: int = 10,
    learn_rate: float | None = None,
    average: float | None = None,
    overlap: bool = False,
    lease: float = DEFAULT_LEASE,
) -> ManualSession:
    """Correct the model's entities (Prodigy's ``ner.correct``), stored as gold annotations.

    With ``update=True`` the in-memory model learns from the accepted annotations, every
    ``batch_size`` of them, like teach (``session.update_model()`` updates it at once), and
    the next texts are pre-highlighted by the updated model. ``learn_rate``: its step size
    (default spaCy's, 0.001). ``average``: as in teach, predict with a moving average of the
    weights over the updates; off by default here (None): every update learns from complete
    annotations, steady enough without it, and the pre-highlighting should show what the
    corrections taught (with teach's 0.99 it barely moves).

    A source item with ``"spans"`` (even an empty list) shows those instead of the model's
    entities: the input's annotation is the one to review (the model is not run on it). Their
    labels must be among ``labels`` (default: the model's), else SourceError.

    ``db``, ``annotator``, ``overlap`` and ``lease`` work as in :func:`teach`.
    """
    _check_dataset(dataset)
    batch_size = _positive_int("batch_size", batch_size)
    # No average by default, unlike teach: teach averages because ten binary answers can pull
    # the weights a long way; here every update learns from complete annotations, the
    # steadiest signal there is, and the pre-highlighting is where the annotator sees what
    # the corrections taught. With teach's 0.99 a trained model moves about 1% of the way per
    # update, so corrections took many more updates to show in the pre-highlighting than
    # without an average (docs/manual.md has the measurement); the products it knew stayed
    # found either way.
    learn_rate, average = _learning(learn_rate, average)
    src = Source(source, text_column=text_column)
    requested = _labels(labels, [])
    nlp = load_model(model, requested)
    wanted = requested or list(require_ner(nlp).labels)
    _check_head(src, nlp, wanted, split_sentences)
    with _opened(db) as (database, owned):
        ds = database.dataset(dataset, create=True)
        session = ManualSession(
            dataset=ds,
            source=src,
            nlp=nlp,
            labels=wanted,
            use_model=True,
            update=update,
            split=split_sentences,
            annotator=annotator,
            batch_size=batch_size,
            learn_rate=learn_rate,
            average=average,
            overlap=_flag("overlap", overlap),
            lease=_lease(lease),
        )
        session.owns_db = owned
        _take_over(session, "correct")
    return session


def silver(
    dataset: str,
    source: Any,
    model: ModelLike,
    *,
    threshold: float = 0.9,
    db: Database | str | Path | None = None,
    beam_width: int = 16,
    split_sentences: bool = True,
    text_column: str = "text",
    batch_size: int = 64,
    progress: bool = True,
) -> dict[str, int]:
    """Store the model's confident whole analyses of ``source`` as silver annotations.

    Each text whose most probable analysis has at least ``threshold`` of the beam's
    probability is stored in ``dataset`` as one complete annotation marked
    ``meta["silver"]``. Pass the dataset to ``train()`` beside the answers: a person's answers
    on a text always win over its silver analysis, so silver only adds texts nobody judged.
    Texts already in ``dataset``, and texts repeated in the source, are skipped, so the call
    can be repeated. Returns counts: texts analysed, stored, stored with entities, skipped.
    ``progress=True`` shows a bar over the source's items (a widget in a notebook, text on
    stderr elsewhere); ``False`` shows nothing.
    """
    _check_dataset(dataset)
    threshold = checks.real(
        "threshold", threshold, "a probability in (0, 1], e.g. 0.9", 0.0, 1.0, low_open=True
    )
    beam_width = _positive_int("beam_width", beam_width)
    batch_size = _positive_int("batch_size", batch_size)
    src = Source(source, text_column=text_column)
    nlp = load_language(model, need_ner=True)
    ner = find_ner(nlp)
    if ner is None or not ner.labels:
        raise ModelError(
            f"silver() needs a trained entity recognizer, and {model!r} has "
            f"{'no NER component' if ner is None else 'no entity labels'}. Train "
            f"one first (nba.train) and pass its output directory."
        )
    _check_head(src, nlp, None, split_sentences)
    with _opened(db) as (database, owned):
        try:
            return _store_silver(
                database.dataset(dataset, create=True),
                src,
                nlp,
                threshold,
                beam_width,
                batch_size,
                split_sentences,
                progress,
            )
        finally:
            if owned:  # release the file for other processes, as train() does
                database.close()


def _store_silver(
    ds: Dataset,
    src: Source,
    nlp: Language,
    threshold: float,
    beam_width: int,
    batch_size: int,
    split_sentences: bool,
    progress: bool,
) -> dict[str, int]:
    done = ds.input_hashes()
    items_bar = progress_bar(progress, total=src.total, desc=f"silver {ds.name}", unit="text")
    read = counted(src, items_bar)
    items = (
        candidates.split_sentences(read, candidates.splitter_for(nlp), keep_spans=False)
        if split_sentences
        else read
    )
    skipped = 0

    def fresh() -> Any:
        nonlocal skipped
        for item in items:
            check_item(item, nlp)
            ih = input_hash(item["text"])
            if ih in done:
                skipped += 1
                continue
            done.add(ih)
            yield item

    stats = SilverStats()
    try:
        tasks = list(
            silver_tasks(
                nlp, fresh(), threshold, beam_width=beam_width, batch_size=batch_size, stats=stats
            )
        )
    finally:
        items_bar.close()
    if tasks:
        ds.add_many(tasks, answer="accept")
    elif stats.texts:
        warnings.warn(
            f"silver(): none of the {stats.texts} texts has an analysis with "
            f"probability >= {threshold}, so nothing was stored in {ds.name!r}. A model "
            f"trained on binary answers alone is rarely sure a text has no other "
            f"entity: train it with some complete annotations, or lower threshold.",
            stacklevel=3,
        )
    return {**stats.as_dict(), "skipped": skipped}
