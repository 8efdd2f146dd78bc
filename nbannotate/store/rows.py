"""The rows of the answers table: one per answer, the full task JSON plus columns copied from
it so that queries and ``to_pandas`` need no parse of the JSON. Every engine stores these
columns, in this order (see :mod:`nbannotate.store.engine`).

For a binary task the label/span columns come from its single span (NULL without one); for a
gold task (``_view_id == "ner_manual"``, or a whole analysis) they are NULL and the spans live
in the task JSON. ``spans`` and ``meta`` are copies of the task's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..errors import AnswerError
from ..jsonl import dumps
from ..tasks import Task, is_gold, validate

KINDS = ("binary", "gold")
DATASET_COLUMNS = ("name", "created", "meta")
COLUMNS = (
    "id",
    "dataset",
    "input_hash",
    "task_hash",
    "view_id",
    "kind",
    "answer",
    "label",
    "span_start",
    "span_end",
    "token_start",
    "token_end",
    "span_text",
    "score",
    "annotator",
    "session_id",
    "created",
    "text",
    "task",
    "spans",
    "meta",
)

# The values of COLUMNS[1:] (the engine gives the id).
Row = tuple[Any, ...]
# (task hash, input hash, kind, answer, span start, span end, view id) of one stored answer:
# what the answer index counts (the span's characters for a binary answer about one span).
Key = tuple[int, int, str, str, int | None, int | None, str | None]


def key(row: Row) -> Key:
    """The index key of a row as ``prepare`` makes it."""
    return (row[2], row[1], row[4], row[5], row[7], row[8], row[3])


def prepare(
    task: Any,
    dataset: str,
    answer: str | None,
    annotator: str | None,
    session_id: str | None,
    keep_stamps: bool,
    where: str = "",
    rehash: bool | None = False,
) -> tuple[Task, Row]:
    """Validate and stamp a copy of ``task`` (:func:`nbannotate.tasks.validate`); return
    (stored task, row)."""
    stored = validate(task, answer, annotator, session_id, keep_stamps, where, rehash)
    return stored, task_row(stored, dataset, where)


def _int_or_none(value: Any, field: str, where: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AnswerError(
            f"{where}span field {field!r} must be an integer, got {value!r}."
        ) from None


def _score(value: Any) -> float | None:
    try:
        score = None if value is None else float(value)
    except (TypeError, ValueError):
        return None
    return score if score is None or math.isfinite(score) else None


def task_row(stored: Task, dataset: str, where: str = "") -> Row:
    """The row of a validated task (AnswerError when it cannot be stored as JSON)."""
    text = stored["text"]
    spans = stored.get("spans") or []
    # One source of truth for the time (whole seconds, as Prodigy), so export/import round-trips.
    created = datetime.fromtimestamp(stored["_timestamp"], timezone.utc).replace(tzinfo=None)
    gold = is_gold(stored)
    span = spans[0] if (not gold and len(spans) == 1) else None
    label = start = end = tok_start = tok_end = span_text = None
    score = None
    if span is not None:
        label = span.get("label")
        start = _int_or_none(span.get("start"), "start", where)
        end = _int_or_none(span.get("end"), "end", where)
        tok_start = _int_or_none(span.get("token_start"), "token_start", where)
        tok_end = _int_or_none(span.get("token_end"), "token_end", where)
        span_text = span.get("text")
        if span_text is None and start is not None and end is not None:
            span_text = text[start:end]
        score = span.get("score")
    elif not gold and not spans and isinstance(stored.get("label"), str):
        label = stored["label"]  # a text classification task
    if score is None and not gold:
        meta = stored.get("meta")
        score = meta.get("score") if isinstance(meta, Mapping) else None
    try:
        payload = dumps(stored)
        spans_json = None if stored.get("spans") is None else dumps(stored["spans"])
        meta_json = None if stored.get("meta") is None else dumps(stored["meta"])
    except TypeError as e:
        raise AnswerError(f"{where}the task cannot be stored as JSON: {e}.") from None
    return (
        dataset,
        int(stored["_input_hash"]),
        int(stored["_task_hash"]),
        stored.get("_view_id"),
        "gold" if gold else "binary",
        stored["answer"],
        None if label is None else str(label),
        start,
        end,
        tok_start,
        tok_end,
        span_text,
        _score(score),
        _str_or_none(stored["_annotator_id"]),
        _str_or_none(stored["_session_id"]),
        created,
        text,
        payload,
        spans_json,
        meta_json,
    )


def _str_or_none(v: Any) -> str | None:
    return None if v is None else str(v)
