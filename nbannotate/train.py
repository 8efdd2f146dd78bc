"""``train()``: a new spaCy pipeline trained from the annotations, in its own directory.

::

    result = nba.train("gadgets", output_dir="models/gadgets", base_model="blank:en")
    result.scores["best"]["ents_f"]
    nlp = spacy.load("models/gadgets")

How it works (spaCy's own machinery, so ``python -m spacy train`` can rerun it):

1. The answers of every dataset are merged per input text (``examples.merge_answers``: accepted
   spans are entities, rejected spans known-wrong, other tokens missing; gold texts complete;
   latest answer wins; a person's answers outrank silver analyses). Texts a person answered
   are split into train/eval by input hash, seeded, so no text is on both sides; silver-only
   texts always train (or ``eval_dataset`` is the eval set and its texts are removed from
   training).
2. The examples are written as ``train.spacy``/``dev.spacy`` (DocBin keeps missing entity tags
   and the rejected spans in ``doc.spans["incorrect_spans"]``).
3. A spaCy config is generated: spaCy's efficiency NER config (``spacy init config -p ner -o
   efficiency``) for a blank base; for a base pipeline every component is *sourced* from it, all
   but the NER are frozen, and an NER listening to a shared tok2vec gets its own copy of it
   (``replace_listeners``), so the other components keep their weights and outputs.
   Training runs through ``spacy.training.initialize.init_nlp`` and
   ``spacy.training.loop.train``, evaluating once per epoch.
4. ``output_dir`` receives the best pipeline (``model-best``; ``spacy.load(output_dir)`` works),
   ``training.cfg`` (the config used), ``train.spacy``, ``dev.spacy``,
   ``nbannotate_spacy.py`` (two small spaCy callbacks the config names, for ``--code``) and
   ``nbannotate_train.json`` (the scores and statistics). The output is built in a hidden
   sibling directory and moved into place at the end, so a failed run leaves nothing behind and
   ``overwrite=True`` replaces a previous output only after the new one is complete.
"""

from __future__ import annotations

import html
import inspect
import io
import json
import math
import os
import random
import shlex
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import DocBin
from spacy.training import Example

from . import checks
from .errors import DatasetError, StoreError, TrainingError
from .examples import ExampleStats, MergedAnnotation, merge_answers, merged_to_example
from .models import (
    INCORRECT_SPANS_KEY,
    ModelLike,
    find_ner,
    has_vectors,
    load_language,
    normalize_labels,
)
from .store import DEFAULT_PATH, ENV_VAR, MEMORY, Database, database_path, store_exists
from .tasks import is_gold

DEFAULT_EPOCHS = 10
DEFAULT_DROPOUT = 0.1
DEFAULT_BATCH_SIZE = 16
DEFAULT_PATIENCE = 3
# How many times per epoch a text known only from binary answers (with an accepted span) is
# trained on. Such a text says nothing about its unanswered tokens, so it gives a smaller
# update than a complete annotation; but twice did not train better models on BTC over 16
# seeds (BENCHMARKS.md, table 4), so the default is once.
DEFAULT_BINARY_WEIGHT = 1
BINARY_FLAG = "nbannotate_binary"
MARKER = "nbannotate_train.json"
CODE_FILE = "nbannotate_spacy.py"
TRAINING_CFG = "training.cfg"
SCORER_NAME = "nbannotate.ner_scorer.v1"
PREPARE_NAME = "nbannotate.prepare_ner.v1"
LOGGER_NAME = "nbannotate.train_monitor.v1"
PROGRESS_NAME = "nbannotate.train_progress.v1"
BINARY_KEY = "ents_binary_acc"


# -- spaCy callbacks -------------------------------------------------------------------------
# These four functions are self-contained (imports inside): their source is also written to
# output_dir/nbannotate_spacy.py, so `python -m spacy train --code` can rerun the config
# without nbannotate installed.


def is_complete_reference(ref, binary_key="nbannotate_binary"):
    """True for a complete annotation, False for one known only from binary answers: those are
    marked with the span group ``binary_key``; unmarked, a complete annotation says "O"
    somewhere (or has no missing tag at all), which binary answers never do."""
    return binary_key not in ref.spans and (
        any(t.ent_iob == 2 for t in ref) or all(t.ent_iob != 0 for t in ref))


def binary_scores(examples, incorrect_spans_key="incorrect_spans",
                  binary_key="nbannotate_binary"):
    """Accuracy of the predicted entities against binary accept/reject decisions.

    For each example known only from binary answers (marked with the span group
    ``binary_key``; unmarked: no token is "O" and some are missing): an accepted span (a
    reference entity) is right when exactly that span and label is predicted; a rejected span
    (``reference.spans[key]``) is right when it is not predicted.
    """
    counts = {"accept_correct": 0, "accept_total": 0, "reject_correct": 0, "reject_total": 0}
    for eg in examples:
        ref = eg.reference
        if is_complete_reference(ref, binary_key):
            continue
        predicted = {(e.start_char, e.end_char, e.label_) for e in eg.predicted.ents}
        for span in ref.ents:
            counts["accept_total"] += 1
            counts["accept_correct"] += (span.start_char, span.end_char, span.label_) in predicted
        for span in ref.spans.get(incorrect_spans_key, []):
            counts["reject_total"] += 1
            counts["reject_correct"] += (
                (span.start_char, span.end_char, span.label_) not in predicted)
    total = counts["accept_total"] + counts["reject_total"]
    correct = counts["accept_correct"] + counts["reject_correct"]
    counts.update(correct=correct, incorrect=total - correct, total=total)
    return {"ents_binary_acc": correct / total if total else None, "ents_binary": counts}


def make_ner_scorer(incorrect_spans_key: str = "incorrect_spans",
                    binary_key: str = "nbannotate_binary"):
    """spaCy's NER scores on the complete annotations, plus ``ents_binary_acc`` /
    ``ents_binary`` on the binary ones (see binary_scores).

    On a binary example spaCy's P/R/F would count only the predictions that overlap an
    accepted span (the other tokens are missing), so precision looks near perfect and F is no
    entity F: those examples are scored by accuracy alone, and P/R/F are None without any
    complete annotation.
    """
    from spacy.scorer import get_ner_prf

    def score(examples, **kwargs):
        examples = list(examples)
        complete = [eg for eg in examples if is_complete_reference(eg.reference, binary_key)]
        return {**get_ner_prf(complete, **kwargs),
                **binary_scores(examples, incorrect_spans_key, binary_key)}

    return score


def make_prepare_ner(ner_name: str, incorrect_spans_key: str, labels: list,
                     binary_scorer: bool = False):
    """[initialize.after_init] callback for an NER sourced from a base pipeline.

    A sourced component keeps the config it was saved with, so its incorrect-spans key is set
    on the pipe here, labels the base NER lacks are added (output layer resized before the
    first update), and the binary scorer is attached when the eval data has binary answers.
    """

    def prepare(nlp):
        ner = nlp.get_pipe(ner_name)
        ner.cfg["incorrect_spans_key"] = incorrect_spans_key
        ner.moves.cfg["neg_key"] = incorrect_spans_key
        for label in labels:
            if label not in ner.labels:
                ner.add_label(label)
        if binary_scorer:
            ner.scorer = make_ner_scorer(incorrect_spans_key)
        return nlp

    return prepare


spacy.registry.scorers.register(SCORER_NAME, func=make_ner_scorer)
spacy.registry.callbacks.register(PREPARE_NAME, func=make_prepare_ner)

_CODE_TEMPLATE = '''"""spaCy callbacks named by training.cfg (written by nbannotate.train).

Rerun:  python -m spacy train training.cfg --code nbannotate_spacy.py --output <dir>
"""

import spacy

{functions}

spacy.registry.scorers.register("{scorer}", func=make_ner_scorer)
spacy.registry.callbacks.register("{prepare}", func=make_prepare_ner)
'''


def _code_file_text() -> str:
    functions = "\n\n".join(inspect.getsource(f) for f in (
        is_complete_reference, binary_scores, make_ner_scorer, make_prepare_ner))
    return _CODE_TEMPLATE.format(functions=functions, scorer=SCORER_NAME, prepare=PREPARE_NAME)


# -- progress and per-epoch scores ------------------------------------------------------------


class _Monitor:
    """Receives spaCy's training events for one run: a progress bar and the evaluations."""

    def __init__(self, total_steps: int, steps_per_epoch: int, progress: bool, desc: str):
        self.steps_per_epoch = steps_per_epoch
        self.evals: list[dict[str, Any]] = []
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total_steps, desc=desc, unit="batch", leave=True)

    def step(self, info: Mapping[str, Any]) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def evaluated(self, info: Mapping[str, Any]) -> None:
        scores = dict(info.get("other_scores") or {})
        record = _score_record(scores)
        record.update(
            epoch=round(info["step"] / self.steps_per_epoch), step=int(info["step"]),
            score=float(info["score"] or 0.0),
            loss=float(sum(v for k, v in (info.get("losses") or {}).items())),
            seconds=float(info.get("seconds") or 0.0),
        )
        self.evals.append(record)
        if self.bar is not None:
            post = {"F": f"{record['ents_f']:.3f}"} if record["ents_f"] is not None else {}
            if record.get("binary"):
                post["acc"] = f"{record['binary']['accuracy']:.3f}"
            self.bar.set_postfix(post, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


_ACTIVE = threading.local()


def _monitor() -> _Monitor | None:
    return getattr(_ACTIVE, "monitor", None)


def _make_logger():
    def setup(nlp, stdout=None, stderr=None):
        def log_step(info):
            mon = _monitor()
            if info is not None and mon is not None:
                mon.evaluated(info)

        def finalize():
            pass

        return log_step, finalize

    return setup


def _make_progress():
    def before_update(nlp, info):
        mon = _monitor()
        if mon is not None:
            mon.step(info)

    return before_update


spacy.registry.loggers.register(LOGGER_NAME, func=_make_logger)
spacy.registry.callbacks.register(PROGRESS_NAME, func=_make_progress)


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _score_record(scores: Mapping[str, Any]) -> dict[str, Any]:
    per_type = scores.get("ents_per_type") or {}
    record: dict[str, Any] = {
        "ents_p": _num(scores.get("ents_p")),
        "ents_r": _num(scores.get("ents_r")),
        "ents_f": _num(scores.get("ents_f")),
        "ents_per_type": {k: {m: float(v[m]) for m in ("p", "r", "f")}
                          for k, v in sorted(per_type.items())},
        "binary": None,
    }
    counts = scores.get("ents_binary")
    if counts and counts.get("total"):
        record["binary"] = {"accuracy": counts["correct"] / counts["total"], **counts}
    return record


# -- results ---------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@dataclass
class TrainResult:
    """What ``train()`` returns.

    - ``output_dir``: the trained pipeline (``spacy.load(output_dir)``).
    - ``scores``: ``{"epochs": [...], "best": {...}, "eval": "gold"|"binary"|"mixed"}``. Each
      record has ``epoch``, ``step``, ``ents_p``, ``ents_r``, ``ents_f`` (scored on the eval
      texts with a complete annotation only; None when there is none, as on binary-only eval
      data, where the other tokens are unknown and no true entity F exists),
      ``ents_per_type`` (label -> p/r/f),
      ``binary`` (None, or ``accuracy`` with ``correct``/``incorrect``/``total`` and
      ``accept_correct``/``accept_total``/``reject_correct``/``reject_total``), ``loss``.
      Record 0 is the evaluation after the first batch; record k after epoch k (spaCy evaluates
      at a step, which here is the first batch of the next epoch). ``best`` is the saved one.
    - ``stats``: counts behind the examples (answers, ignored, conflicts, examples, train/eval
      texts, labels, ...).
    """

    output_dir: Path
    scores: dict[str, Any]
    stats: dict[str, Any]
    labels: list[str]
    seconds: float
    rerun_command: str
    config_path: Path

    @property
    def best(self) -> dict[str, Any]:
        """The scores of the saved (best) epoch: ``scores["best"]``."""
        return self.scores["best"]

    def _rows(self) -> tuple[list[str], list[list[str]]]:
        binary = self.scores["eval"] != "gold"
        head = ["epoch", "loss", "P", "R", "F"] + (["accuracy", "correct/total"] if binary else [])
        rows = []
        for rec in self.scores["epochs"]:
            row = [str(rec["epoch"]) + ("*" if rec is self.best or rec == self.best else ""),
                   f"{rec['loss']:.1f}", _fmt(rec["ents_p"]), _fmt(rec["ents_r"]),
                   _fmt(rec["ents_f"])]
            if binary:
                b = rec["binary"]
                row += [_fmt(b["accuracy"]), f"{b['correct']}/{b['total']}"] if b else ["-", "-"]
            rows.append(row)
        return head, rows

    def table(self) -> str:
        """The readable report printed by ``print(result)``."""
        head, rows = self._rows()
        lines = [_text_table(head, rows)]
        per_type = self.best["ents_per_type"]
        if per_type:
            lines.append("")
            lines.append(_text_table(
                ["label", "P", "R", "F"],
                [[k, _fmt(v["p"]), _fmt(v["r"]), _fmt(v["f"])] for k, v in per_type.items()]))
        for note in self._notes():
            lines += ["", note]
        return "\n".join(lines)

    def _notes(self) -> list[str]:
        """The paragraphs under the tables: the binary eval, then the data and the output."""
        notes = []
        b = self.best["binary"]
        if b:
            notes.append(
                f"Binary eval: accuracy {b['accuracy']:.3f} ({b['correct']} of {b['total']} "
                f"decisions right; accepted spans predicted {b['accept_correct']}/"
                f"{b['accept_total']}, rejected spans not predicted {b['reject_correct']}/"
                f"{b['reject_total']})")
        s = self.stats
        notes.append(
            f"{s['train_texts']} train texts, {s['eval_texts']} eval texts ({self.scores['eval']}"
            f"), {s['answers']} answers, {s['ignored']} ignored, {s['conflicts']} conflicts "
            f"(latest answer kept); labels {', '.join(self.labels)}; {self.seconds:.1f} s\n"
            f"Best model (epoch {self.best['epoch']}, marked *): {self.output_dir}")
        return notes

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        f = self.best["ents_f"]
        b = self.best["binary"]
        parts = [f"output_dir={str(self.output_dir)!r}", f"best_epoch={self.best['epoch']}"]
        if f is not None:
            parts.append(f"ents_f={f:.3f}")
        if b:
            parts.append(f"binary_accuracy={b['accuracy']:.3f}")
        return f"TrainResult({', '.join(parts)})\n{self.table()}"

    def _repr_html_(self) -> str:
        head, rows = self._rows()
        out = [_html_table(head, rows)]
        per_type = self.best["ents_per_type"]
        if per_type:
            out.append(_html_table(
                ["label", "P", "R", "F"],
                [[k, _fmt(v["p"]), _fmt(v["r"]), _fmt(v["f"])] for k, v in per_type.items()]))
        out.append("<pre>" + html.escape("\n\n".join(self._notes())) + "</pre>")
        return "<div class='nba-train'>" + "".join(out) + "</div>"

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON-able data: output_dir, scores, stats, labels, seconds,
        rerun_command."""
        return {"output_dir": str(self.output_dir), "scores": self.scores, "stats": self.stats,
                "labels": self.labels, "seconds": self.seconds,
                "rerun_command": self.rerun_command}


def _text_table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


# -- inputs ----------------------------------------------------------------------------------


def _open_db(db: Database | str | Path | None) -> tuple[Database, bool]:
    """The database to read, and whether train() opened it (and must close it).

    train() only reads: opening a missing file would create an empty database (and its
    directories), and the error would then be a puzzling "unknown dataset"."""
    if db is None or isinstance(db, (str, os.PathLike)):
        raw = database_path(db)  # the file Database(db) would open; refuses an empty path
        if raw == MEMORY:
            raise StoreError(
                "db=':memory:' would open a new, empty in-memory database. Pass the Database "
                "object that holds the answers instead (db=database).")
        if not store_exists(raw):
            given = (f"db was not given, so the default database is read (${ENV_VAR}, else "
                     f"{DEFAULT_PATH} in the current directory)" if db is None else
                     f"db={os.fspath(db)!r}")
            raise StoreError(
                f"No database at {raw!r} ({given}). Training only reads answers and "
                f"does not create a database: pass the path nba.teach(..., db=...) wrote to, "
                f"or the Database object itself.")
        return Database(raw), True  # Database() refuses a directory
    if hasattr(db, "dataset"):
        return db, False
    raise DatasetError(f"db must be a Database, a database path or None, not "
                       f"{type(db).__name__}.")


def _names(datasets: str | Sequence[str], what: str) -> list[str]:
    names = [datasets] if isinstance(datasets, str) else list(datasets)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise DatasetError(f"{what} must be a dataset name or a list of names, got {datasets!r}.")
    return names


def _load_answers(db: Database, names: list[str]) -> list[dict[str, Any]]:
    """All answers of the datasets, oldest first across datasets (stable on ties)."""
    tasks: list[dict[str, Any]] = []
    empty = []
    for name in names:
        answers = db.dataset(name).answers()  # DatasetError for an unknown name
        if not answers:
            empty.append(name)
        tasks.extend(answers)
    if empty and len(empty) == len(names):
        which = ", ".join(map(repr, empty))
        raise DatasetError(
            f"Dataset {which} {'is' if len(empty) == 1 else 'are'} empty: there is nothing to "
            f"train on. Annotate with nba.teach({empty[0]!r}, ...), nba.manual(...), or import "
            f"answers with db.dataset({empty[0]!r}).import_jsonl(path) first.")
    if empty:  # e.g. a silver() run that kept nothing: the others still train
        warnings.warn(
            f"Dataset {', '.join(map(repr, empty))} is empty (a silver() run whose model was "
            f"sure of no text keeps nothing): training on the others.", stacklevel=4)
    if all(isinstance(t.get("_timestamp"), (int, float)) for t in tasks):
        tasks.sort(key=lambda t: t["_timestamp"])
    return tasks


def _check_usable(tasks: list[dict[str, Any]], names: list[str], what: str) -> None:
    decided = [t for t in tasks if t.get("answer") in ("accept", "reject")]
    if not decided:
        raise DatasetError(
            f"{what} {', '.join(map(repr, names))} only hold ignored answers ({len(tasks)}): "
            f"ignored answers are left out of training. Accept or reject some suggestions.")


def _filter_labels(tasks: list[dict[str, Any]], labels: set[str] | None
                   ) -> tuple[list[dict[str, Any]], dict[int, list[tuple[int, int, str]]]]:
    """Tasks with only the spans of ``labels``; dropped gold spans per input hash (they become
    missing, not "O": the annotation says nothing about the selected labels there)."""
    if labels is None:
        return tasks, {}
    out, dropped = [], {}
    for task in tasks:
        spans = task.get("spans") or []
        keep = [s for s in spans if s.get("label") in labels]
        if len(keep) != len(spans):
            if is_gold(task):
                ih = int(task["_input_hash"])
                dropped[ih] = [(int(s["start"]), int(s["end"]), str(s["label"]))
                               for s in spans if s.get("label") not in labels]
            elif not keep:
                continue
            task = {**task, "spans": keep}
        out.append(task)
    return out, dropped


def _to_examples(nlp: Language, items: list[MergedAnnotation], stats: ExampleStats,
                 dropped: Mapping[int, list[tuple[int, int, str]]]) -> list[Example]:
    examples = []
    for item in items:
        eg = merged_to_example(nlp, item, stats)
        if eg is None:
            continue
        if item.complete is None and item.accept:
            eg.reference.user_data[BINARY_FLAG] = True  # read by _run (binary_weight)
        if item.complete is not None and item.input_hash in dropped:
            ref = eg.reference
            missing = [s for k in dropped[item.input_hash]
                       if (s := ref.char_span(k[0], k[1], alignment_mode="expand")) is not None]
            missing = [s for s in missing if not any(t.ent_iob_ in ("B", "I") for t in s)]
            if missing:
                ref.set_ents([], missing=missing, default="unmodified")
        examples.append(eg)
    return examples


def _split(items: list[MergedAnnotation], eval_split: float, seed: int
           ) -> tuple[list[MergedAnnotation], list[MergedAnnotation]]:
    """Seeded split by input hash: the same data and seed always give the same split.

    Only texts a person answered are held out: a silver analysis is the model's own guess, so
    scoring on it (as gold) would pick the epoch that best agrees with that model. Silver
    texts all train."""
    answered = [it for it in items if it.human]
    silver = [it for it in items if not it.human]
    if len(answered) < 2:
        n_silver = sum(it.silver_only for it in silver)
        note = (f" (the {n_silver} silver analyses are a model's guesses, never held out "
                f"for evaluation)" if n_silver else "")
        raise TrainingError(
            f"Only {len(answered)} text answered by a person{note}: at least 2 are needed to "
            f"hold some out for evaluation. Annotate more texts or pass eval_dataset=.")
    order = sorted(answered, key=lambda it: it.input_hash)
    random.Random(seed).shuffle(order)
    n_eval = min(len(order) - 1, max(1, round(len(order) * eval_split)))
    return order[n_eval:] + silver, order[:n_eval]


def _accepted(items: Iterable[MergedAnnotation]) -> set[str]:
    labels: set[str] = set()
    for it in items:
        labels |= {k[2] for k in (it.complete or [])} | {k[2] for k in it.accept}
    return labels


def _all_labels(items: Iterable[MergedAnnotation]) -> set[str]:
    labels: set[str] = set()
    for it in items:
        labels |= {k[2] for k in (it.complete or [])} | {k[2] for k in it.accept}
        labels |= {k[2] for k in it.reject}
    return labels


def _eval_kind(items: list[MergedAnnotation]) -> str:
    # A person's complete annotations only: silver is never scored as gold.
    gold = sum(it.gold is not None for it in items)
    binary = sum(it.gold is None and bool(it.accept or it.reject) for it in items)
    if gold and binary:
        return "mixed"
    return "gold" if gold else "binary"


# -- base model --------------------------------------------------------------------------------


@dataclass
class _Base:
    nlp: Language
    ref: str | None  # what the config sources from: a directory or package name
    directory: Path | None  # directory never to write
    in_memory: bool = False  # a spacy.Language passed in: saved for spaCy to source from


def _resolve_base(base_model: ModelLike) -> _Base:
    nlp = load_language(base_model, need_ner=True)  # ModelError when it cannot be loaded
    if isinstance(base_model, Language):
        # Trained from the object as it is in memory (saved by _run), not from the directory
        # it was loaded from: patterns, components or a tokenizer changed since would be lost.
        path = base_model.path
        where = Path(path).resolve() if path is not None and Path(path).exists() else None
        return _Base(nlp, None, where, in_memory=True)
    name = str(base_model)
    if name.startswith("blank:"):
        return _Base(nlp, None, None)
    path = Path(name).expanduser()
    if path.exists():
        return _Base(nlp, str(path.resolve()), path.resolve())
    return _Base(nlp, name, spacy.util.get_package_path(name).resolve())


def _check_output(out: Path, base_dir: Path | None, overwrite: bool) -> None:
    """Refuse an output_dir that could write into (or replace) the base model, or clobber."""
    if base_dir is not None:
        bdir = base_dir
        if out == bdir or bdir in out.parents:
            raise TrainingError(
                f"output_dir {str(out)!r} is the base model's directory or inside it "
                f"({str(bdir)!r}); the base model is never written. Choose another directory, "
                f"e.g. 'models/<name>'.")
        if out in bdir.parents:
            raise TrainingError(
                f"output_dir {str(out)!r} contains the base model ({str(bdir)!r}); writing or "
                f"replacing it could destroy the base model. Choose another directory.")
    if out.exists() and not out.is_dir():
        raise TrainingError(f"output_dir {str(out)!r} is a file. Choose a directory path.")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise TrainingError(
                f"output_dir {str(out)!r} is not empty. Pass overwrite=True to replace a "
                f"previous train() output, or choose a new directory.")
        if not (out / MARKER).exists():
            raise TrainingError(
                f"output_dir {str(out)!r} is not empty and was not written by train(): "
                f"overwrite=True only replaces a previous train() output (it has {MARKER}). "
                f"Empty it yourself or choose a new directory.")


# -- config ----------------------------------------------------------------------------------


def _listens(nlp: Language, name: str) -> bool:
    return any(name in getattr(pipe, "listening_components", []) for _, pipe in nlp.pipeline)


def _build_config(base: _Base, base_ref: str | None, labels: list[str], eval_kind: str,
                  epochs: int, dropout: float, batch_size: int, patience: int, seed: int,
                  steps_per_epoch: int) -> tuple[Any, str]:
    """The spaCy training config (uninterpolated) and the name of its NER component."""
    from spacy.cli.init_config import init_config

    binary_eval = eval_kind != "gold"
    frozen_keys: set[str] = set()
    nlp = base.nlp
    cfg = init_config(lang=nlp.lang, pipeline=["ner"], optimize="efficiency")
    # A base's word vectors are features of a new NER's tok2vec: spaCy's efficiency config
    # leaves them out, and they are most of what a pipeline of vectors alone has to give.
    # A base with vectors always has a ``base_ref`` (train() saves one passed in memory).
    if has_vectors(nlp) and base_ref is not None:
        embed = cfg["components"]["tok2vec"]["model"]["embed"]
        embed["include_static_vectors"] = True
    cfg["nlp"]["tokenizer"] = dict(nlp.config["nlp"]["tokenizer"])
    scorer = {"@scorers": SCORER_NAME, "incorrect_spans_key": INCORRECT_SPANS_KEY}
    ner_pipe = find_ner(nlp)
    if nlp.component_names:  # a trained base pipeline: source everything, train only the NER
        assert base_ref is not None
        pipeline = list(nlp.component_names)  # disabled ones too (en_core_web_*'s senter)
        components: dict[str, Any] = {}
        for name in pipeline:
            components[name] = {"source": base_ref}
        if ner_pipe is not None:
            ner_name = next(n for n, p in nlp.pipeline if p is ner_pipe)
            if _listens(nlp, ner_name):
                components[ner_name]["replace_listeners"] = ["model.tok2vec"]
            cfg["initialize"]["after_init"] = {
                "@callbacks": PREPARE_NAME, "ner_name": ner_name,
                "incorrect_spans_key": INCORRECT_SPANS_KEY, "labels": labels,
                "binary_scorer": binary_eval}
        else:  # a new NER with its own tok2vec, so the base's shared tok2vec stays frozen
            ner_name = "ner" if "ner" not in pipeline else "nbannotate_ner"
            ner_cfg = dict(cfg["components"]["ner"])
            model = dict(ner_cfg["model"])
            model["tok2vec"] = dict(cfg["components"]["tok2vec"]["model"])
            model["tok2vec"]["embed"] = dict(model["tok2vec"]["embed"], width=96)
            ner_cfg["model"] = model
            ner_cfg["incorrect_spans_key"] = INCORRECT_SPANS_KEY
            if binary_eval:
                ner_cfg["scorer"] = scorer
            components[ner_name] = ner_cfg
            pipeline.append(ner_name)
        cfg["components"] = components
        cfg["nlp"]["pipeline"] = pipeline
        cfg["nlp"]["disabled"] = list(nlp.config["nlp"].get("disabled", []))
        cfg["training"]["frozen_components"] = [n for n in pipeline if n != ner_name]
        # Frozen components' scores (tag_acc, ...) do not change: keep them out of the choice.
        for name in cfg["training"]["frozen_components"]:
            for key in nlp.get_pipe_meta(name).default_score_weights:
                frozen_keys.add(key)
    else:
        ner_name = "ner"
        cfg["components"]["ner"]["incorrect_spans_key"] = INCORRECT_SPANS_KEY
        if binary_eval:
            cfg["components"]["ner"]["scorer"] = scorer
    if base_ref is not None:  # the base's tokenizer settings and vocab (and vectors)
        cfg["initialize"]["before_init"] = {
            "@callbacks": "spacy.copy_from_base_model.v1", "tokenizer": base_ref,
            "vocab": base_ref}
        if has_vectors(nlp):
            cfg["paths"]["vectors"] = base_ref
    t = cfg["training"]
    t["seed"] = seed
    t["dropout"] = dropout
    t["max_epochs"] = epochs + 1  # the evaluation after epoch k runs on the first batch of k+1
    t["max_steps"] = epochs * steps_per_epoch
    t["eval_frequency"] = steps_per_epoch
    t["patience"] = patience * steps_per_epoch
    t["batcher"] = {"@batchers": "spacy.batch_by_sequence.v1", "size": batch_size,
                    "get_length": None}
    # Which evaluation picks the saved epoch: F on complete annotations, the accuracy of the
    # accept/reject decisions on binary ones, the mean of both on a mix.
    f_weight = {"gold": 1.0, "binary": 0.0, "mixed": 0.5}[eval_kind]
    t["score_weights"] = {"ents_f": f_weight, "ents_p": 0.0, "ents_r": 0.0,
                          "ents_per_type": None}
    if binary_eval:
        t["score_weights"][BINARY_KEY] = 1.0 - f_weight
    for key in frozen_keys - set(t["score_weights"]):
        t["score_weights"][key] = None
    return cfg, ner_name


def _fix_saved_config(path: Path, train_path: Path, dev_path: Path) -> None:
    """Make a saved pipeline config loadable without nbannotate: spaCy's own logger/scorer."""
    from thinc.api import Config

    cfg = Config().from_disk(path, interpolate=False)
    cfg["paths"]["train"] = str(train_path)
    cfg["paths"]["dev"] = str(dev_path)
    cfg["training"]["logger"] = {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False}
    cfg["training"]["before_update"] = None
    for comp in cfg["components"].values():
        if isinstance(comp, dict) and comp.get("scorer", {}).get("@scorers") == SCORER_NAME:
            comp["scorer"] = {"@scorers": "spacy.ner_scorer.v1"}
    after = cfg["initialize"].get("after_init")
    if isinstance(after, dict) and after.get("@callbacks") == PREPARE_NAME:
        cfg["initialize"]["after_init"] = None
    cfg.to_disk(path)


# -- training ----------------------------------------------------------------------------------


@dataclass
class _Prepared:
    base: _Base
    train_items: list[MergedAnnotation]
    eval_items: list[MergedAnnotation]
    train_examples: list[Example]
    eval_examples: list[Example]
    labels: list[str]
    stats: dict[str, Any]
    eval_kind: str
    names: list[str] = field(default_factory=list)


def _prepare(datasets: str | Sequence[str], base_model: ModelLike,
             eval_dataset: str | Sequence[str] | None,
             eval_split: float, labels: Iterable[str] | str | None, seed: int,
             db: Database | str | Path | None) -> _Prepared:
    names = _names(datasets, "datasets")
    eval_names = _names(eval_dataset, "eval_dataset") if eval_dataset is not None else []
    database, opened = _open_db(db)
    try:
        tasks = _load_answers(database, names)
        eval_tasks = _load_answers(database, eval_names) if eval_names else []
    finally:
        if opened:
            database.close()
    _check_usable(tasks, names, "The datasets" if len(names) > 1 else "The dataset")
    if eval_names:
        _check_usable(eval_tasks, eval_names, "The eval dataset")
    wanted = normalize_labels(labels, TrainingError)
    all_tasks = tasks
    tasks, dropped = _filter_labels(tasks, set(wanted) if wanted else None)
    eval_tasks, eval_dropped = _filter_labels(eval_tasks, set(wanted) if wanted else None)

    stats = ExampleStats()
    items = merge_answers(tasks, stats)
    if not _accepted(items):
        in_data = sorted(_accepted(merge_answers(all_tasks))) if wanted else []
        if in_data:  # the labels asked for are the problem, not the answers
            raise TrainingError(
                f"None of the answers in {', '.join(map(repr, names))} has an accepted span "
                f"with the label(s) {', '.join(wanted)} asked for in labels=; the accepted "
                f"spans there have the label(s) {', '.join(in_data)}. Check labels= (labels "
                f"are case-sensitive), or annotate {', '.join(wanted)} first.")
        raise TrainingError(
            f"No accepted span in {', '.join(map(repr, names))}: only rejections, so "
            f"there is no entity to learn. Accept some suggestions (or annotate manually).")
    base = _resolve_base(base_model)
    base_ner = find_ner(base.nlp)
    base_labels = set(base_ner.labels) if base_ner is not None else set()
    if wanted:
        unknown = [lb for lb in wanted if lb not in _accepted(items) and lb not in base_labels]
        if unknown:
            raise TrainingError(
                f"Label(s) {', '.join(unknown)} have no accepted span in the training data "
                f"(its accepted spans have: "
                f"{', '.join(sorted(_accepted(merge_answers(all_tasks))))}) and the base "
                f"model's NER does not know them (it knows: "
                f"{', '.join(sorted(base_labels)) or 'nothing'}), so they cannot be learned. "
                f"Annotate them or remove them from labels=.")
        final_labels = list(wanted)
    else:
        final_labels = sorted(_all_labels(items) | base_labels)

    eval_stats = ExampleStats()
    if eval_names:
        eval_items = merge_answers(eval_tasks, eval_stats)
        silver_eval = sum(it.silver_only for it in eval_items)
        if silver_eval:
            raise TrainingError(
                f"The eval dataset {', '.join(map(repr, eval_names))} holds {silver_eval} "
                f"silver analyses (meta['silver']: a model's own guesses, which no person "
                f"checked); scores on them would say how well the model agrees with that "
                f"model. Evaluate on a dataset of answers, or leave eval_dataset out to hold "
                f"out some answered texts.")
        eval_hashes = {it.input_hash for it in eval_items}
        train_items = [it for it in items if it.input_hash not in eval_hashes]
        overlap = len(items) - len(train_items)
        if not train_items:
            raise TrainingError("Every training text is also in the eval dataset: nothing is "
                                "left to train on. Use different datasets.")
    else:
        train_items, eval_items = _split(items, eval_split, seed)
        eval_stats.answers = sum(it.answers for it in eval_items)
        eval_stats.conflicts = sum(it.conflicts for it in eval_items)
        overlap = 0
    train_examples = _to_examples(base.nlp, train_items, stats, dropped)
    eval_examples = _to_examples(base.nlp, eval_items, eval_stats, eval_dropped)
    if not train_examples or not eval_examples:
        raise TrainingError(
            f"No usable {'training' if not train_examples else 'evaluation'} example after "
            f"merging the answers (spans that do not align with the tokenizer are dropped: "
            f"{stats.misaligned + eval_stats.misaligned}). Annotate more texts.")
    if not any(eg.reference.ents for eg in train_examples):
        raise TrainingError("No accepted span is left in the training split; annotate more "
                            "texts or pass eval_dataset=.")
    s = stats.as_dict()
    s.update(
        datasets=names, eval_datasets=eval_names, train_texts=len(train_examples),
        eval_texts=len(eval_examples), eval_answers=eval_stats.answers,
        eval_conflicts=eval_stats.conflicts, train_texts_also_in_eval=overlap,
        labels_added_to_base=[lb for lb in final_labels if base_ner is not None
                              and lb not in base_labels],
        gold_train_texts=sum(it.complete is not None for it in train_items),
        silver_train_texts=sum(it.silver_only for it in train_items),
        binary_train_texts=sum(bool(eg.reference.user_data.get(BINARY_FLAG))
                               for eg in train_examples),
    )
    s["examples"] = len(train_examples) + len(eval_examples)
    return _Prepared(base, train_items, eval_items, train_examples, eval_examples, final_labels,
                     s, _eval_kind(eval_items), names)


def _integer(name: str, value: Any, low: int, hint: str, high: int | None = None) -> int:
    return checks.integer(name, value, hint, low, high, error=TrainingError)


def _real(name: str, value: Any, hint: str) -> float:
    return checks.real(name, value, hint, error=TrainingError)


def _check_numbers(epochs: Any, dropout: Any, batch_size: Any, patience: Any, seed: Any,
                   binary_weight: Any, eval_split: Any, split: bool) -> dict[str, Any]:
    """The numeric arguments of train()/train_curve(), checked at the call (a string or a bool
    would otherwise fail deep inside spaCy) and as plain ints/floats for the config.
    ``split``: eval_split is used (no eval_dataset)."""
    out = {
        "epochs": _integer("epochs", epochs, 1, "a positive integer (passes over the data)"),
        "dropout": _real("dropout", dropout, "a number in [0, 1), e.g. 0.1"),
        "batch_size": _integer("batch_size", batch_size, 1,
                               "a positive integer (texts per update)"),
        "patience": _integer("patience", patience, 0,
                             "an integer >= 0 (0: no early stopping)"),
        "seed": checks.seed(seed, error=TrainingError),
        "binary_weight": _integer("binary_weight", binary_weight, 1,
                                  "a positive integer (1: every text once)"),
        # unused (and so unchecked) when an eval_dataset is given
        "eval_split": (_real("eval_split", eval_split, "a number between 0 and 1, e.g. 0.2")
                       if split else eval_split),
    }
    if not 0.0 <= out["dropout"] < 1.0:
        raise TrainingError(f"dropout must be a number in [0, 1), e.g. 0.1, got {dropout!r}.")
    if split and not 0.0 < out["eval_split"] < 1.0:
        raise TrainingError(f"eval_split must be between 0 and 1 (e.g. 0.2), got {eval_split!r}."
                            f" Pass eval_dataset= to evaluate on a dataset of its own.")
    return out


def _check_fractions(fractions: Any) -> list[float]:
    """Sorted distinct fractions in (0, 1], each with a directory name of its own."""
    hint = "a list of numbers in (0, 1], e.g. (0.25, 0.5, 0.75, 1.0)"
    if isinstance(fractions, (str, bytes)) or not isinstance(fractions, Iterable):
        raise TrainingError(f"fractions must be {hint}, got {fractions!r}.")
    given = list(fractions)
    fracs = sorted({_real("fractions", f, hint) for f in given})
    if not fracs or fracs[0] <= 0 or fracs[-1] > 1:
        raise TrainingError(f"fractions must be {hint}, got {given!r}.")
    names: dict[str, float] = {}
    for frac in fracs:
        name = _percent(frac)
        if name in names:
            raise TrainingError(
                f"fractions {names[name]!r} and {frac!r} are both {name}% of the data (the "
                f"runs would share output_dir/{name}). Give fractions that differ more.")
        names[name] = frac
    return fracs


def _percent(frac: float) -> str:
    """A fraction as the percent that names its run: 0.25 -> "25", 0.125 -> "12.5" (ten
    significant digits hide float noise like 0.07 * 100 = 7.000000000000001)."""
    return f"{frac * 100:.10g}"


def _run(prep: _Prepared, train_examples: list[Example], out: Path, *, overwrite: bool,
         epochs: int, dropout: float, batch_size: int, patience: int, seed: int,
         binary_weight: int, progress: bool, desc: str = "train") -> TrainResult:
    """Train on ``train_examples`` and write the result to ``out`` (checked by the caller)."""
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as spacy_train

    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        base_ref = prep.base.ref
        base_nlp = prep.base.nlp
        if base_ref is None and (prep.base.in_memory or has_vectors(base_nlp)):
            # An in-memory Language (its components, tokenizer, vectors): saved so spaCy can
            # source from it.
            base_nlp.to_disk(stage / "base_model")
            base_ref = str(out / "base_model")
            stage_ref = str(stage / "base_model")
        else:
            stage_ref = base_ref
        train_path, dev_path = stage / "train.spacy", stage / "dev.spacy"
        docs = [eg.reference for eg in train_examples
                for _ in range(binary_weight if eg.reference.user_data.get(BINARY_FLAG) else 1)]
        DocBin(docs=docs).to_disk(train_path)
        DocBin(docs=[eg.reference for eg in prep.eval_examples]).to_disk(dev_path)
        steps_per_epoch = math.ceil(len(docs) / batch_size)
        cfg, ner_name = _build_config(prep.base, stage_ref, prep.labels, prep.eval_kind, epochs,
                                      dropout, batch_size, patience, seed, steps_per_epoch)
        cfg["paths"]["train"] = str(train_path)
        cfg["paths"]["dev"] = str(dev_path)
        run_cfg = cfg.copy()
        run_cfg["training"]["logger"] = {"@loggers": LOGGER_NAME}
        run_cfg["training"]["before_update"] = {"@callbacks": PROGRESS_NAME}
        monitor = _Monitor(epochs * steps_per_epoch + 1, steps_per_epoch, progress, desc)
        _ACTIVE.monitor = monitor
        sink = io.StringIO()
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*W(086|087|113).*")
                nlp = init_nlp(run_cfg)
                _add_labels(nlp, ner_name, prep.labels)
                workdir = stage / "training"
                workdir.mkdir()
                spacy_train(nlp, workdir, stdout=sink, stderr=sink)
        except TrainingError:
            raise
        except Exception as err:
            # Some of spaCy's (thinc's) failures are bare assertions: name the exception then.
            raise TrainingError(f"spaCy training failed: {str(err) or type(err).__name__} "
                                f"(the output directory was not written)") from err
        finally:
            _ACTIVE.monitor = None
            monitor.close()
        # The best pipeline at the root, the run's files beside it.
        shutil.copytree(workdir / "model-best", stage, dirs_exist_ok=True)
        shutil.rmtree(workdir)
        final_train, final_dev = out / "train.spacy", out / "dev.spacy"
        _fix_saved_config(stage / "config.cfg", final_train, final_dev)
        cfg["paths"]["train"] = str(final_train)
        cfg["paths"]["dev"] = str(final_dev)
        if base_ref != stage_ref:
            _point_config_at(cfg, stage_ref, base_ref)
        cfg.to_disk(stage / TRAINING_CFG)
        (stage / CODE_FILE).write_text(_code_file_text(), encoding="utf8")
        evals = monitor.evals
        # spaCy saves model-best on ties too, so the latest of equal scores is the saved one.
        best = max(evals, key=lambda r: (r["score"], r["step"])) if evals else None
        if best is None:
            raise TrainingError("spaCy's training loop ended without an evaluation.")
        scores = {"epochs": evals, "best": best, "eval": prep.eval_kind}
        stats = dict(prep.stats, train_texts=len(train_examples))
        rerun = (f"python -m spacy train {shlex.quote(str(out / TRAINING_CFG))} --code "
                 f"{shlex.quote(str(out / CODE_FILE))} --output "
                 f"{shlex.quote(str(out.parent / (out.name + '-rerun')))}")
        result = TrainResult(out, scores, stats, list(prep.labels),
                             time.perf_counter() - started, rerun, out / TRAINING_CFG)
        (stage / MARKER).write_text(json.dumps(result.as_dict(), indent=2, default=str),
                                    encoding="utf8")
        if out.exists():
            if overwrite and any(out.iterdir()):
                shutil.rmtree(out)
            else:
                out.rmdir()
        stage.rename(out)
        return result
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _point_config_at(cfg: Any, old: str | None, new: str | None) -> None:
    """Replace the staging path of an in-memory base by its final path in the config."""
    for comp in cfg["components"].values():
        if isinstance(comp, dict) and comp.get("source") == old:
            comp["source"] = new
    before = cfg["initialize"].get("before_init")
    if isinstance(before, dict):
        for key in ("tokenizer", "vocab"):
            if before.get(key) == old:
                before[key] = new
    if cfg["paths"].get("vectors") == old:
        cfg["paths"]["vectors"] = new


def _add_labels(nlp: Language, ner_name: str, labels: list[str]) -> None:
    """Every label the NER must know, before the first update (a fresh NER only learned the
    labels of accepted spans; one seen only in rejections would be unknown)."""
    ner = nlp.get_pipe(ner_name)
    for label in labels:
        if label not in ner.labels:
            ner.add_label(label)


def _output_path(output_dir: Any) -> Path:
    if not isinstance(output_dir, (str, os.PathLike)) or not os.fspath(output_dir):
        raise TrainingError(f"output_dir must be a directory path, e.g. 'models/gadgets', got "
                            f"{output_dir!r}.")
    return Path(output_dir).expanduser().resolve()


def train(
    datasets: str | Sequence[str],
    output_dir: str | Path,
    base_model: ModelLike = "blank:en",
    *,
    eval_dataset: str | Sequence[str] | None = None,
    eval_split: float = 0.2,
    labels: Iterable[str] | str | None = None,
    epochs: int = DEFAULT_EPOCHS,
    dropout: float = DEFAULT_DROPOUT,
    batch_size: int = DEFAULT_BATCH_SIZE,
    patience: int = DEFAULT_PATIENCE,
    seed: int = 0,
    binary_weight: int = DEFAULT_BINARY_WEIGHT,
    db: Database | str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train a new NER pipeline from the answers in ``datasets`` and save it to ``output_dir``.

    ``datasets``: a name or list of names (binary teach answers, gold ``ner_manual`` answers,
    imported JSONL, silver analyses from ``nba.silver()``, or a mix; on a text a person
    answered, the person's answers win and its silver analysis is left out). ``base_model``:
    ``"blank:<lang>"``, an installed package, a pipeline directory or a ``spacy.Language``; it
    is never written. ``eval_dataset``: evaluate on this dataset (its texts are removed from
    training; it may not hold silver analyses); otherwise ``eval_split`` of the texts a person
    answered (seeded by ``seed``, split by input text) is held out, and texts known only from
    silver analyses all train: a model's own guesses are never scored as gold.
    ``labels``: train only these labels
    (other spans are left out; in gold texts their tokens become missing). Each label must have
    an accepted span or be known by the base NER (TrainingError otherwise). Labels the base NER
    lacks are added to it. ``epochs``: passes over the shuffled training data; ``patience``:
    stop after this many epochs without a better eval score (0: never); ``batch_size``: texts
    per update; ``dropout``; ``seed``. ``binary_weight``: how many times per epoch a text
    known only from binary answers, with an accepted span, is trained on (default 1: once,
    like every other text; such a text teaches nothing about its unanswered tokens, and a
    larger weight makes up for that).
    ``db``: a Database, the path of an existing database, or None for ``Database()``'s default
    path (read only: a missing file is an error, not created). ``overwrite``: replace a
    previous train() output in ``output_dir``. ``progress``: show a progress bar (tqdm; a
    widget in a notebook).

    The best epoch's pipeline is saved (by eval ents_f on complete annotations; by the binary
    accuracy on binary answers; the mean of both on a mix). Raises DatasetError (unknown/empty
    dataset, only ignored answers), StoreError (no database at the path), TrainingError (no
    accepted span, unknown labels, bad output_dir or arguments) and ModelError (a base model
    that cannot be loaded), before any training starts.
    """
    args = _check_numbers(epochs, dropout, batch_size, patience, seed, binary_weight,
                          eval_split, eval_dataset is None)
    out = _output_path(output_dir)
    if isinstance(base_model, (str, Path)) and not str(base_model).startswith("blank:"):
        # Refuse a bad output_dir before the (slow) load of the base model.
        path = Path(base_model).expanduser()
        if path.exists():
            _check_output(out, path.resolve(), overwrite)
    prep = _prepare(datasets, base_model, eval_dataset, args["eval_split"], labels,
                    args["seed"], db)
    _check_output(out, prep.base.directory, overwrite)
    return _run(prep, prep.train_examples, out, overwrite=overwrite, epochs=args["epochs"],
                binary_weight=args["binary_weight"], dropout=args["dropout"],
                batch_size=args["batch_size"], patience=args["patience"], seed=args["seed"],
                progress=progress)


# -- train curve -------------------------------------------------------------------------------


@dataclass
class CurveResult:
    """What ``train_curve()`` returns: one row per training fraction, and the plot.

    ``rows``: ``{"fraction", "train_texts", "ents_p", "ents_r", "ents_f", "accuracy",
    "seconds"}`` per fraction; ``results``: the TrainResult of each run; ``figure``: a
    matplotlib Figure (None when matplotlib is not installed or plot=False).
    """

    rows: list[dict[str, Any]]
    results: list[TrainResult]
    figure: Any = None
    metric: str = "ents_f"

    def table(self) -> str:
        """The scores per fraction of the data as a text table, and the verdict below it."""
        head = ["%", "texts", "P", "R", "F", "accuracy", "change"]
        body, prev = [], None
        for r in self.rows:
            value = r[self.metric]
            change = "" if prev is None or value is None else f"{value - prev:+.3f}"
            prev = value if value is not None else prev
            body.append([_percent(r["fraction"]), str(r["train_texts"]), _fmt(r["ents_p"]),
                         _fmt(r["ents_r"]), _fmt(r["ents_f"]), _fmt(r["accuracy"]), change])
        return _text_table(head, body) + "\n\n" + self.verdict()

    def verdict(self) -> str:
        """Whether the score still rose between the last two fractions: more annotation would
        likely help."""
        values = [r[self.metric] for r in self.rows if r[self.metric] is not None]
        if len(values) < 2:
            return "Not enough runs to compare."
        last = values[-1] - values[-2]
        if last > 0.005:
            return (f"{self.metric} still rose in the last step ({last:+.3f}): more annotations "
                    f"will likely improve the model.")
        return (f"{self.metric} changed {last:+.3f} in the last step: more annotations of the "
                f"same kind may not help much.")

    def plot(self) -> Any:
        """A matplotlib Figure of the scores against the training fraction."""
        try:
            from matplotlib.figure import Figure
        except ImportError as err:
            raise TrainingError(
                "train_curve() plots with matplotlib, which is not installed: "
                "pip install matplotlib (the scores are in .rows and the printed table)."
            ) from err
        fig = Figure(figsize=(5, 3.2))
        ax = fig.add_subplot()
        xs = [r["fraction"] * 100 for r in self.rows]
        for key, name in (("ents_f", "F"), ("ents_p", "P"), ("ents_r", "R"),
                          ("accuracy", "binary accuracy")):
            ys = [r[key] for r in self.rows]
            if any(y is not None for y in ys):
                ax.plot(xs, [math.nan if y is None else y for y in ys], marker="o", label=name)
        ax.set_xlabel("% of training data")
        ax.set_ylabel("score")
        ax.set_ylim(0, 1)
        ax.set_xticks(xs)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        fig.tight_layout()
        return fig

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"CurveResult({len(self.rows)} runs)\n{self.table()}"

    def _repr_html_(self) -> str:
        import base64

        parts = ["<pre>" + html.escape(self.table()) + "</pre>"]
        if self.figure is not None:
            buf = io.BytesIO()
            self.figure.savefig(buf, format="png", dpi=90)
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            parts.append(f"<img alt='train curve' src='data:image/png;base64,{data}'/>")
        return "<div class='nba-train-curve'>" + "".join(parts) + "</div>"


def train_curve(
    datasets: str | Sequence[str],
    base_model: ModelLike = "blank:en",
    *,
    fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0),
    output_dir: str | Path | None = None,
    eval_dataset: str | Sequence[str] | None = None,
    eval_split: float = 0.2,
    labels: Iterable[str] | str | None = None,
    epochs: int = DEFAULT_EPOCHS,
    dropout: float = DEFAULT_DROPOUT,
    batch_size: int = DEFAULT_BATCH_SIZE,
    patience: int = DEFAULT_PATIENCE,
    seed: int = 0,
    binary_weight: int = DEFAULT_BINARY_WEIGHT,
    db: Database | str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    plot: bool = True,
) -> CurveResult:
    """Train on growing fractions of the training data and report the best scores of each.

    The eval set is the same for every run (as in ``train()``); the training texts are shuffled
    once (seeded) and the first 25/50/75/100% used. Arguments as in ``train()``. The pipelines
    go to ``output_dir/<percent>`` (``25``, ``50``, ..., ``12.5`` for 0.125) when output_dir
    is given, else to a temporary directory that is deleted; fractions that would share a
    directory are refused. ``plot``: build ``result.figure`` with matplotlib; when matplotlib
    is missing a warning says so and the figure is None (the scores are still returned and
    printed).
    """
    args = _check_numbers(epochs, dropout, batch_size, patience, seed, binary_weight,
                          eval_split, eval_dataset is None)
    fracs = _check_fractions(fractions)
    root = _output_path(output_dir) if output_dir is not None else None
    prep = _prepare(datasets, base_model, eval_dataset, args["eval_split"], labels,
                    args["seed"], db)
    order = list(prep.train_examples)
    random.Random(args["seed"]).shuffle(order)
    tmp = None
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix="nbannotate-curve-")
        root = Path(tmp.name)
    for frac in fracs:  # refuse a bad output_dir before the first (slow) run
        _check_output(root / _percent(frac), prep.base.directory, overwrite)
    try:
        rows, results = [], []
        for frac in fracs:
            n = max(1, round(len(order) * frac))
            subset = order[:n]
            if not any(eg.reference.ents for eg in subset):
                subset = order[:n - 1] + [next(eg for eg in order if eg.reference.ents)]
            out = root / _percent(frac)
            res = _run(prep, subset, out, overwrite=overwrite, epochs=args["epochs"],
                       dropout=args["dropout"], binary_weight=args["binary_weight"],
                       batch_size=args["batch_size"], patience=args["patience"],
                       seed=args["seed"], progress=progress, desc=f"{_percent(frac)}%")
            b = res.best
            rows.append({"fraction": frac, "train_texts": n, "ents_p": b["ents_p"],
                         "ents_r": b["ents_r"], "ents_f": b["ents_f"],
                         "accuracy": b["binary"]["accuracy"] if b["binary"] else None,
                         "seconds": res.seconds})
            results.append(res)
    finally:
        if tmp is not None:
            tmp.cleanup()
    metric = "ents_f" if prep.eval_kind != "binary" else "accuracy"
    curve = CurveResult(rows, results, None, metric)
    if plot:
        try:
            curve.figure = curve.plot()
        except TrainingError as err:
            warnings.warn(str(err), stacklevel=2)
    return curve


__all__ = ["CurveResult", "TrainResult", "train", "train_curve"]
