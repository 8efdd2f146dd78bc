"""Task JSON in Prodigy's format, and the hashes that identify inputs and tasks.

A task is a plain dict::

    {"text": str, "meta": {...}, "tokens": [{"text", "start", "end", "id", "ws"}],
     "spans": [{"start", "end", "token_start", "token_end", "label", "score"?, "source"?}],
     "_input_hash": int, "_task_hash": int, "_view_id": "ner"}

``start``/``end`` are character offsets (end exclusive); ``token_end`` is inclusive.
The input hash covers the text; the task hash covers the input plus what is asked (the spans
and their labels, and the view). Hashes are signed 64-bit integers, so a million texts do not
collide the way Prodigy's 32-bit hashes can, and they fit DuckDB's BIGINT.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from spacy.tokens import Doc, Span

from .errors import AnswerError

ANSWERS = ("accept", "reject", "ignore")
VIEW_BINARY = "ner"
VIEW_MANUAL = "ner_manual"
# Hash namespace of "is this the complete analysis?" questions, so that a whole analysis with
# one entity never shares a task hash with the binary question about that entity.
VIEW_WHOLE = "ner_whole"

Task = dict[str, Any]


def check_answer(answer: Any, where: str = "") -> str:
    """``answer`` if it is "accept", "reject" or "ignore"; AnswerError naming them otherwise."""
    if answer not in ANSWERS:
        valid = ", ".join(repr(a) for a in ANSWERS)
        if answer is None:
            raise AnswerError(f"{where}the task has no answer. Pass answer= one of {valid}.")
        raise AnswerError(f"{where}invalid answer {answer!r}: the answer must be one of {valid}.")
    return str(answer)


def _hash64(payload: str) -> int:
    digest = hashlib.blake2b(payload.encode("utf8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def input_hash(text: str) -> int:
    """Hash of an input text: equal texts have equal hashes in every session and process."""
    return _hash64("text:" + text)


def span_key(span: Mapping[str, Any]) -> tuple[int, int, str]:
    return (int(span["start"]), int(span["end"]), str(span.get("label", "")))


def task_hash(in_hash: int, spans: Iterable[Mapping[str, Any]], view_id: str = VIEW_BINARY) -> int:
    """Hash of a question: the input plus the spans asked about and the view."""
    keys = sorted(span_key(s) for s in spans)
    return _hash64(json.dumps([in_hash, view_id, keys], separators=(",", ":")))


def doc_tokens(doc: Doc) -> list[dict[str, Any]]:
    """Prodigy's token list for a doc."""
    return [
        {
            "text": t.text,
            "start": t.idx,
            "end": t.idx + len(t.text),
            "id": t.i,
            "ws": bool(t.whitespace_),
        }
        for t in doc
    ]


def span_dict(
    span: Span,
    label: str | None = None,
    score: float | None = None,
    source: str | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """A task span for a spaCy span. ``offset`` shifts character offsets (sentence tasks)."""
    out: dict[str, Any] = {
        "start": span.start_char - offset,
        "end": span.end_char - offset,
        "token_start": span.start,
        "token_end": span.end - 1,
        "label": label or span.label_,
    }
    if score is not None:
        out["score"] = float(score)
    if source is not None:
        out["source"] = source
    return out


def make_task(
    text: str,
    tokens: list[dict[str, Any]],
    spans: list[dict[str, Any]],
    meta: Mapping[str, Any] | None = None,
    view_id: str = VIEW_BINARY,
    in_hash: int | None = None,
) -> Task:
    """Build a task dict with both hashes set."""
    ih = input_hash(text) if in_hash is None else in_hash
    meta = dict(meta or {})
    return {
        "text": text,
        "meta": meta,
        "tokens": tokens,
        "spans": spans,
        "_input_hash": ih,
        "_task_hash": task_hash(ih, spans, VIEW_WHOLE if meta.get("whole") else view_id),
        "_view_id": view_id,
    }


def is_whole(task: Mapping[str, Any]) -> bool:
    """True for a task asking whether its spans are the text's complete analysis."""
    return bool((task.get("meta") or {}).get("whole"))


def set_hashes(task: Task, overwrite: bool = False) -> Task:
    """Fill in missing hashes of a task (imported JSONL may lack them). Returns the task."""
    view = VIEW_WHOLE if is_whole(task) else (task.get("_view_id") or VIEW_BINARY)
    if overwrite or "_input_hash" not in task:
        task["_input_hash"] = input_hash(task["text"])
    if overwrite or "_task_hash" not in task:
        task["_task_hash"] = task_hash(task["_input_hash"], task.get("spans") or [], view)
    return task


def is_gold(task: Mapping[str, Any]) -> bool:
    """True for a complete annotation (manual, correct, or an accepted-or-not whole analysis):
    when accepted, its unmarked tokens are not entities."""
    return task.get("_view_id") == VIEW_MANUAL or is_whole(task)
