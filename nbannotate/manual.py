"""Manual and correct sessions: complete (gold) annotations of whole texts.

``manual`` shows each text with nothing or pattern matches pre-highlighted; ``correct`` shows
the model's entities. The annotator edits the spans and accepts: the stored task carries every
span of the text and ``_view_id: "ner_manual"``, so ``train()`` uses it as gold (unmarked tokens
are not entities) and it can serve as an evaluation set. Like the teach session, these work
headless; the widget is a view over them.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from .candidates import sentence_splitter, split_sentences
from .errors import AnswerError
from .models import find_ner
from .patterns import PatternMatcher
from .sources import Source
from .store import Dataset
from .tasks import ANSWERS, VIEW_MANUAL, Task, doc_tokens, input_hash, make_task
from .updater import ModelUpdater


class ManualSession:
    """Gold annotation of whole texts, optionally pre-highlighted by patterns or a model."""

    def __init__(self, *, dataset: Dataset, source: Source, nlp: Language, labels: list[str],
                 patterns: PatternMatcher | None = None, use_model: bool = False,
                 update: bool = False, split: bool = True, annotator: str | None = None,
                 batch_size: int = 10) -> None:
        self.db_dataset = dataset
        self.dataset = dataset.name
        self.source = source
        self.nlp = nlp
        self.labels = list(labels)
        self.patterns = patterns
        self.use_model = use_model
        self.annotator = annotator
        self.session_id = f"{dataset.name}-{uuid.uuid4().hex[:8]}"
        self.model_lock = threading.RLock()
        self._lock = threading.Lock()
        self._done = {t["_input_hash"] for t in dataset.answers(kind="gold")}
        self._seen: set[int] = set()
        self._front: deque[Task] = deque()
        self._offered: dict[int, Task] = {}
        self._history: list[Task] = []
        self._counts = dict.fromkeys(ANSWERS, 0)
        items: Iterator[dict[str, Any]] = iter(source)
        if split:
            items = split_sentences(items, sentence_splitter(nlp.lang))
        self._items = items
        self.updater = (ModelUpdater(nlp, self.model_lock, batch_size=batch_size, replay=10)
                        if update else None)

    # -- stream -----------------------------------------------------------------------------
    def _task(self, item: Mapping[str, Any]) -> Task:
        text = item["text"]
        with self.model_lock:
            doc: Doc = self.nlp(text) if self.use_model else self.nlp.make_doc(text)
        spans: list[dict[str, Any]] = []
        if self.use_model:
            spans = [{"start": e.start_char, "end": e.end_char, "token_start": e.start,
                      "token_end": e.end - 1, "label": e.label_, "source": "model"}
                     for e in doc.ents if e.label_ in self.labels]
        elif self.patterns is not None:
            taken: set[int] = set()
            for m in self.patterns(doc):
                if taken & set(range(m.start, m.end)):
                    continue  # spaCy entities cannot overlap: keep the first match
                taken |= set(range(m.start, m.end))
                span = doc[m.start:m.end]
                spans.append({"start": span.start_char, "end": span.end_char,
                              "token_start": m.start, "token_end": m.end - 1,
                              "label": m.label, "source": "pattern"})
        meta = dict(item.get("meta") or {})
        task = make_task(text, doc_tokens(doc), spans, meta, view_id=VIEW_MANUAL)
        task["labels"] = list(self.labels)
        return task

    def next_task(self, timeout: float | None = None) -> Task | None:
        """The next text to annotate, or None at the end of the source."""
        with self._lock:
            if self._front:
                task = self._front.popleft()
                self._offered[task["_input_hash"]] = task
                return task
            for item in self._items:
                ih = input_hash(item["text"])
                if ih in self._seen or ih in self._done:
                    continue
                self._seen.add(ih)
                task = self._task(item)
                self._offered[ih] = task
                return task
        return None

    def next_tasks(self, n: int, timeout: float | None = None) -> list[Task]:
        out = []
        while len(out) < n and (task := self.next_task()) is not None:
            out.append(task)
        return out

    # -- answers ----------------------------------------------------------------------------
    def check_spans(self, task: Mapping[str, Any], spans: Sequence[Mapping[str, Any]]
                    ) -> list[dict[str, Any]]:
        """Validate edited spans: labels known, inside the text, snapped to tokens, no overlap."""
        doc = self.nlp.make_doc(task["text"])
        out: list[dict[str, Any]] = []
        for raw in spans:
            try:
                start, end, label = int(raw["start"]), int(raw["end"]), str(raw["label"])
            except (KeyError, TypeError, ValueError) as err:
                raise AnswerError(
                    f"Each span needs integer 'start', 'end' and a 'label', got {raw!r}.") from err
            if label not in self.labels:
                raise AnswerError(f"Unknown label {label!r}: this session's labels are "
                                  f"{', '.join(self.labels)}.")
            if not 0 <= start < end <= len(task["text"]):
                raise AnswerError(f"Span {start}-{end} is outside the text (length "
                                  f"{len(task['text'])}).")
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is None or not span.text.strip():
                raise AnswerError(f"Span {start}-{end} covers no token.")
            while len(span) and span[0].is_space:  # a selection in whitespace snaps inward
                span = span[1:]
            while len(span) and span[-1].is_space:
                span = span[:-1]
            for other in out:
                if span.start <= other["token_end"] and other["token_start"] < span.end:
                    clash = task["text"][other["start"]:other["end"]]
                    raise AnswerError(f"Span {span.text!r} overlaps {clash!r}: entities cannot "
                                      f"overlap. Remove one of them first.")
            out.append({"start": span.start_char, "end": span.end_char,
                        "token_start": span.start, "token_end": span.end - 1, "label": label})
        return sorted(out, key=lambda s: s["start"])

    def answer(self, task: Mapping[str, Any], answer: str,
               spans: Sequence[Mapping[str, Any]] | None = None) -> Task:
        """Store the annotation of a text (its edited ``spans``, or the task's own)."""
        if answer not in ANSWERS:
            raise AnswerError(
                f"Unknown answer {answer!r}: use one of {', '.join(map(repr, ANSWERS))}.")
        ih = task.get("_input_hash")
        with self._lock:
            if ih in self._done:
                raise AnswerError("This text was already annotated in this dataset. Use "
                                  "session.undo() to change it.")
            self._done.add(ih)
        try:
            final = self.check_spans(task, task["spans"] if spans is None else spans)
            new = make_task(task["text"], task["tokens"], final, task.get("meta"),
                            view_id=VIEW_MANUAL, in_hash=ih)
            stored = self.db_dataset.add(new, answer=answer, annotator=self.annotator,
                                         session_id=self.session_id)
        except BaseException:
            with self._lock:
                self._done.discard(ih)
            raise
        with self._lock:
            self._offered.pop(ih, None)
            self._history.append(stored)
            self._counts[answer] += 1
        if self.updater is not None and answer == "accept":
            self.updater.submit(stored)
        return stored

    def undo(self) -> Task | None:
        with self._lock:
            if not self._history:
                return None
            last = self._history.pop()
            self._done.discard(last["_input_hash"])
            self._counts[last["answer"]] -= 1
        self.db_dataset.remove(last["_task_hash"], session_id=self.session_id)
        if self.updater is not None:
            self.updater.retract(last["_task_hash"])
        task = {k: v for k, v in last.items()
                if k not in ("answer", "_timestamp", "_session_id", "_annotator_id")}
        task["labels"] = list(self.labels)
        with self._lock:
            self._front.appendleft(task)
        return task

    @property
    def progress(self) -> dict[str, Any]:
        with self._lock:
            session = dict(self._counts)
        session["total"] = sum(session.values())
        return {"session": session, "dataset": self.db_dataset.counts(),
                "updates": self.updater.version if self.updater else 0,
                "source_total": self.source.total}

    def stop(self) -> None:
        if self.updater is not None:
            self.updater.stop()


def has_ner(nlp: Language) -> bool:
    return find_ner(nlp) is not None
