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
import operator
import time
from collections.abc import Iterable, Mapping
from typing import Any, cast

from spacy.tokens import Doc, Span

from .errors import AnswerError

ANSWERS = ("accept", "reject", "ignore")
VIEW_BINARY = "ner"
VIEW_MANUAL = "ner_manual"
# Hash namespace of "is this the complete analysis?" questions, so that a whole analysis with
# one entity never shares a task hash with the binary question about that entity.
VIEW_WHOLE = "ner_whole"

Task = dict[str, Any]
MAX_TIMESTAMP = 253_402_300_800  # 10000-01-01 in seconds: larger ones are milliseconds


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


def is_correction(task: Mapping[str, Any]) -> bool:
    """True for a teach session's correction of a rejected whole analysis: a complete
    annotation of the text, pre-filled with the analysis' spans (``TeachSession.correction``)."""
    return task.get("_view_id") == VIEW_MANUAL and bool((task.get("meta") or {}).get("correction"))


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


def validate(
    task: Any,
    answer: str | None,
    annotator: str | None,
    session_id: str | None,
    keep_stamps: bool,
    where: str = "",
    rehash: bool | None = False,
) -> Task:
    """A checked and stamped copy of ``task``, as it is stored as an answer: AnswerError,
    starting with ``where``, naming what is wrong (the caller's dict is not changed).

    ``answer`` (else the task's own) must be one of ANSWERS; the task needs a ``text`` and
    spans with integer offsets inside it and a label; missing hashes are computed. The copy gets
    ``answer``, ``_timestamp`` (int seconds: now, or the task's own with ``keep_stamps``),
    ``_session_id`` and ``_annotator_id``. ``rehash``: True recomputes both hashes, False keeps
    those given, None recomputes them when the input hash is not nbannotate's for the text
    (see ``Dataset.import_jsonl``).
    """
    if not isinstance(task, Mapping):
        raise AnswerError(f"{where}a task must be a dict, got {type(task).__name__}.")
    stored = dict(task)
    ans = check_answer(stored.get("answer") if answer is None else answer, where)
    text = stored.get("text")
    if not isinstance(text, str):
        raise AnswerError(
            f"{where}the task has no text (a 'text' string is required to store an answer); "
            f"got {'no text key' if 'text' not in stored else type(text).__name__}."
        )
    spans = stored.get("spans") or []
    if not isinstance(spans, list) or not all(isinstance(s, Mapping) for s in spans):
        raise AnswerError(f"{where}'spans' must be a list of dicts, got {spans!r:.80}.")
    for i, span in enumerate(spans):
        check_span(span, text, f"{where}span {i} ")
    meta = stored.get("meta")
    if meta is not None and not isinstance(meta, Mapping):
        raise AnswerError(f"{where}'meta' must be a dict (or absent), got {meta!r:.80}.")
    for key in ("_input_hash", "_task_hash"):
        value = stored.get(key)
        if key in stored and (isinstance(value, bool) or not isinstance(value, int)):
            raise AnswerError(
                f"{where}{key!r} must be an integer, got {value!r:.40}. Leave it "
                "out to have it computed from the text and spans."
            )
    if rehash is None:
        # Hashes from another tool (Prodigy's db-out) would keep answered texts from being
        # recognised (resume asks them again, train() does not merge them with ours):
        # recompute them. A task hash is not compared with ours (a manual answer keeps the
        # hash of the question as offered), but one without its input hash is not ours.
        rehash = (
            stored["_input_hash"] != input_hash(text)
            if "_input_hash" in stored
            else "_task_hash" in stored
        )
    if rehash:  # the originals are kept beside
        for key in ("_input_hash", "_task_hash"):
            if key in stored:
                stored["_source" + key] = stored[key]
    set_hashes(stored, overwrite=rehash)
    stored["answer"] = ans
    stamp = stored.get("_timestamp")
    if keep_stamps and isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        if not 0 <= stamp < MAX_TIMESTAMP:
            hint = " (milliseconds? divide by 1000)" if stamp >= MAX_TIMESTAMP else ""
            raise AnswerError(
                f"{where}'_timestamp' must be seconds since 1970 (as Prodigy "
                f"writes it), got {stamp!r}{hint}."
            )
    else:
        stored["_timestamp"] = int(time.time())
    if session_id is not None or "_session_id" not in stored:
        stored["_session_id"] = session_id
    if annotator is not None or "_annotator_id" not in stored:
        stored["_annotator_id"] = annotator
    return stored


def check_span(span: Mapping[str, Any], text: str, where: str) -> None:
    """AnswerError unless ``span`` has integer offsets inside ``text`` and a label: a bad span
    stored now would make train() fail (or learn a label named 'None') much later."""
    offsets = []
    for name in ("start", "end"):
        value = span.get(name)
        if isinstance(value, (bool, float, str)) or not hasattr(value, "__index__"):
            raise AnswerError(
                f"{where}needs an integer {name!r} (a character offset), got {value!r:.40}."
            )
        offsets.append(operator.index(cast(Any, value)))  # numpy integers too
    start, end = offsets
    if not 0 <= start < end <= len(text):
        raise AnswerError(
            f"{where}({start}, {end}) is not a non-empty character range of the "
            f"text (length {len(text)}): need 0 <= start < end <= length."
        )
    label = span.get("label")
    if not isinstance(label, str) or not label.strip():
        raise AnswerError(f"{where}needs a non-empty 'label' string, got {label!r:.40}.")
