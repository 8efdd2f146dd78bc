"""Answers -> spaCy Examples: the datasets read and merged per text, the labels chosen, the
train/eval split, and the binary flag that the scorer and ``binary_weight`` read."""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.training import Example

from ..errors import DatasetError, StoreError, TrainingError
from ..examples import ExampleStats, MergedAnnotation, merge_answers, merged_to_example
from ..models import ModelLike, find_ner, normalize_labels
from ..store import DEFAULT_PATH, ENV_VAR, MEMORY, Database, database_path, store_exists
from ..tasks import is_gold
from .base import _Base, _resolve_base

BINARY_FLAG = "nbannotate_binary"


def _open_db(db: Database | str | Path | None) -> tuple[Database, bool]:
    """The database to read, and whether train() opened it (and must close it).

    train() only reads: opening a missing file would create an empty database (and its
    directories), and the error would then be a puzzling "unknown dataset"."""
    if db is None or isinstance(db, (str, os.PathLike)):
        raw = database_path(db)  # the file Database(db) would open; refuses an empty path
        if raw == MEMORY:
            raise StoreError(
                "db=':memory:' would open a new, empty in-memory database. Pass the Database "
                "object that holds the answers instead (db=database)."
            )
        if not store_exists(raw):
            given = (
                f"db was not given, so the default database is read (${ENV_VAR}, else "
                f"{DEFAULT_PATH} in the current directory)"
                if db is None
                else f"db={os.fspath(db)!r}"
            )
            raise StoreError(
                f"No database at {raw!r} ({given}). Training only reads answers and "
                f"does not create a database: pass the path nba.teach(..., db=...) wrote to, "
                f"or the Database object itself."
            )
        return Database(raw), True  # Database() refuses a directory
    if hasattr(db, "dataset"):
        return db, False
    raise DatasetError(f"db must be a Database, a database path or None, not {type(db).__name__}.")


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
            f"answers with db.dataset({empty[0]!r}).import_jsonl(path) first."
        )
    if empty:  # e.g. a silver() run that kept nothing: the others still train
        warnings.warn(
            f"Dataset {', '.join(map(repr, empty))} is empty (a silver() run whose model was "
            f"sure of no text keeps nothing): training on the others.",
            stacklevel=4,
        )
    if all(isinstance(t.get("_timestamp"), (int, float)) for t in tasks):
        tasks.sort(key=lambda t: t["_timestamp"])
    return tasks


def _check_usable(tasks: list[dict[str, Any]], names: list[str], what: str) -> None:
    decided = [t for t in tasks if t.get("answer") in ("accept", "reject")]
    if not decided:
        raise DatasetError(
            f"{what} {', '.join(map(repr, names))} only hold ignored answers ({len(tasks)}): "
            f"ignored answers are left out of training. Accept or reject some suggestions."
        )


def _filter_labels(
    tasks: list[dict[str, Any]], labels: set[str] | None
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
                dropped[ih] = [
                    (int(s["start"]), int(s["end"]), str(s["label"]))
                    for s in spans
                    if s.get("label") not in labels
                ]
            elif not keep:
                continue
            task = {**task, "spans": keep}
        out.append(task)
    return out, dropped


def _to_examples(
    nlp: Language,
    items: list[MergedAnnotation],
    stats: ExampleStats,
    dropped: Mapping[int, list[tuple[int, int, str]]],
) -> list[Example]:
    examples = []
    for item in items:
        eg = merged_to_example(nlp, item, stats)
        if eg is None:
            continue
        if item.complete is None and item.accept:
            eg.reference.user_data[BINARY_FLAG] = True  # read by _run (binary_weight)
        if item.complete is not None and item.input_hash in dropped:
            ref = eg.reference
            missing = [
                s
                for k in dropped[item.input_hash]
                if (s := ref.char_span(k[0], k[1], alignment_mode="expand")) is not None
            ]
            missing = [s for s in missing if not any(t.ent_iob_ in ("B", "I") for t in s)]
            if missing:
                ref.set_ents([], missing=missing, default="unmodified")
        examples.append(eg)
    return examples


def _split(
    items: list[MergedAnnotation], eval_split: float, seed: int
) -> tuple[list[MergedAnnotation], list[MergedAnnotation]]:
    """Seeded split by input hash: the same data and seed always give the same split.

    Only texts a person answered are held out: a silver analysis is the model's own guess, so
    scoring on it (as gold) would pick the epoch that best agrees with that model. Silver
    texts all train."""
    answered = [it for it in items if it.human]
    silver = [it for it in items if not it.human]
    if len(answered) < 2:
        n_silver = sum(it.silver_only for it in silver)
        note = (
            f" (the {n_silver} silver analyses are a model's guesses, never held out "
            f"for evaluation)"
            if n_silver
            else ""
        )
        raise TrainingError(
            f"Only {len(answered)} text answered by a person{note}: at least 2 are needed to "
            f"hold some out for evaluation. Annotate more texts or pass eval_dataset=."
        )
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


def _prepare(
    datasets: str | Sequence[str],
    base_model: ModelLike,
    eval_dataset: str | Sequence[str] | None,
    eval_split: float,
    labels: Iterable[str] | str | None,
    seed: int,
    db: Database | str | Path | None,
) -> _Prepared:
    """The answers read, merged, split and made into Examples; the base model loaded."""
    names = _names(datasets, "datasets")
    eval_names = _names(eval_dataset, "eval_dataset") if eval_dataset is not None else []
    database, opened = _open_db(db)
    try:
        tasks = _load_answers(database, names)  # its warning's stacklevel counts from train()
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
    _check_accepted(items, all_tasks, names, wanted)
    base = _resolve_base(base_model)
    base_ner = find_ner(base.nlp)
    base_labels = set(base_ner.labels) if base_ner is not None else set()
    final_labels = _final_labels(items, all_tasks, wanted, base_labels)

    eval_stats = ExampleStats()
    if eval_names:
        eval_items = merge_answers(eval_tasks, eval_stats)
        train_items = _without_eval_texts(items, eval_items, eval_names)
        overlap = len(items) - len(train_items)
    else:
        train_items, eval_items = _split(items, eval_split, seed)
        eval_stats.answers = sum(it.answers for it in eval_items)
        eval_stats.conflicts = sum(it.conflicts for it in eval_items)
        overlap = 0
    train_examples = _to_examples(base.nlp, train_items, stats, dropped)
    eval_examples = _to_examples(base.nlp, eval_items, eval_stats, eval_dropped)
    _check_examples(train_examples, eval_examples, stats.misaligned + eval_stats.misaligned)
    s: dict[str, Any] = dict(stats.as_dict())
    s.update(
        datasets=names,
        eval_datasets=eval_names,
        train_texts=len(train_examples),
        eval_texts=len(eval_examples),
        eval_answers=eval_stats.answers,
        eval_conflicts=eval_stats.conflicts,
        train_texts_also_in_eval=overlap,
        labels_added_to_base=[
            lb for lb in final_labels if base_ner is not None and lb not in base_labels
        ],
        gold_train_texts=sum(it.complete is not None for it in train_items),
        silver_train_texts=sum(it.silver_only for it in train_items),
        binary_train_texts=sum(
            bool(eg.reference.user_data.get(BINARY_FLAG)) for eg in train_examples
        ),
    )
    s["examples"] = len(train_examples) + len(eval_examples)
    return _Prepared(
        base,
        train_items,
        eval_items,
        train_examples,
        eval_examples,
        final_labels,
        s,
        _eval_kind(eval_items),
        names,
    )


def _check_accepted(
    items: list[MergedAnnotation],
    all_tasks: list[dict[str, Any]],
    names: list[str],
    wanted: list[str],
) -> None:
    """Refuse training data without an accepted span (of the labels asked for)."""
    if _accepted(items):
        return
    in_data = sorted(_accepted(merge_answers(all_tasks))) if wanted else []
    if in_data:  # the labels asked for are the problem, not the answers
        raise TrainingError(
            f"None of the answers in {', '.join(map(repr, names))} has an accepted span "
            f"with the label(s) {', '.join(wanted)} asked for in labels=; the accepted "
            f"spans there have the label(s) {', '.join(in_data)}. Check labels= (labels "
            f"are case-sensitive), or annotate {', '.join(wanted)} first."
        )
    raise TrainingError(
        f"No accepted span in {', '.join(map(repr, names))}: only rejections, so "
        f"there is no entity to learn. Accept some suggestions (or annotate manually)."
    )


def _final_labels(
    items: list[MergedAnnotation],
    all_tasks: list[dict[str, Any]],
    wanted: list[str],
    base_labels: set[str],
) -> list[str]:
    """The labels the NER is trained on: those asked for (each learnable), else every label
    of the data and of the base NER."""
    if not wanted:
        return sorted(_all_labels(items) | base_labels)
    unknown = [lb for lb in wanted if lb not in _accepted(items) and lb not in base_labels]
    if unknown:
        raise TrainingError(
            f"Label(s) {', '.join(unknown)} have no accepted span in the training data "
            f"(its accepted spans have: "
            f"{', '.join(sorted(_accepted(merge_answers(all_tasks))))}) and the base "
            f"model's NER does not know them (it knows: "
            f"{', '.join(sorted(base_labels)) or 'nothing'}), so they cannot be learned. "
            f"Annotate them or remove them from labels=."
        )
    return list(wanted)


def _without_eval_texts(
    items: list[MergedAnnotation], eval_items: list[MergedAnnotation], eval_names: list[str]
) -> list[MergedAnnotation]:
    """The training texts that are not in the eval dataset (which may hold no silver)."""
    silver_eval = sum(it.silver_only for it in eval_items)
    if silver_eval:
        raise TrainingError(
            f"The eval dataset {', '.join(map(repr, eval_names))} holds {silver_eval} "
            f"silver analyses (meta['silver']: a model's own guesses, which no person "
            f"checked); scores on them would say how well the model agrees with that "
            f"model. Evaluate on a dataset of answers, or leave eval_dataset out to hold "
            f"out some answered texts."
        )
    eval_hashes = {it.input_hash for it in eval_items}
    train_items = [it for it in items if it.input_hash not in eval_hashes]
    if not train_items:
        raise TrainingError(
            "Every training text is also in the eval dataset: nothing is "
            "left to train on. Use different datasets."
        )
    return train_items


def _check_examples(
    train_examples: list[Example], eval_examples: list[Example], misaligned: int
) -> None:
    if not train_examples or not eval_examples:
        raise TrainingError(
            f"No usable {'training' if not train_examples else 'evaluation'} example after "
            f"merging the answers (spans that do not align with the tokenizer are dropped: "
            f"{misaligned}). Annotate more texts."
        )
    if not any(eg.reference.ents for eg in train_examples):
        raise TrainingError(
            "No accepted span is left in the training split; annotate more "
            "texts or pass eval_dataset=."
        )
