"""Manual and correct sessions: complete (gold) annotations of whole texts.

``manual`` shows each text with nothing or pattern matches pre-highlighted; ``correct`` shows
the model's entities. The annotator edits the spans and accepts: the stored task carries every
span of the text and ``_view_id: "ner_manual"``, so ``train()`` uses it as gold (unmarked tokens
are not entities) and it can serve as an evaluation set. Like the teach session, these work
headless; the widget is a view over them (displaying a session shows it).

The API mirrors :class:`nbannotate.session.TeachSession` (``next_task``, ``answer``, ``undo``,
``change_answer``, ``requeue``, ``history``, ``progress``, ``error``, ``stop``), with one
addition: ``answer(task, answer, spans=...)`` takes the annotator's edited spans. A stored answer
keeps the offered task's ``_task_hash`` (as Prodigy does: the hash names the question, the spans
are the answer), so undo, change_answer and the widget follow one task by one hash.
"""

from __future__ import annotations

import itertools
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

_STAMPS = ("answer", "_timestamp", "_session_id", "_annotator_id")


class ManualSession:
    """Gold annotation of whole texts, optionally pre-highlighted by patterns or a model.

    Create it with ``nbannotate.manual`` or ``nbannotate.correct``.
    """

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
        #: The last error raised while reading the source (also raised by next_task).
        self.error: BaseException | None = None
        self._lock = threading.RLock()
        self._done = {t["_input_hash"] for t in dataset.answers(kind="gold")}
        self._seen: set[int] = set()
        self._front: deque[Task] = deque()  # undone or requeued tasks, offered again first
        self._offered: dict[int, Task] = {}  # task hash -> task handed out, not answered
        self._history: list[Task] = []  # this session's answers, oldest first
        self._counts = dict.fromkeys(ANSWERS, 0)
        self._read = 0
        self._exhausted = False
        items: Iterator[dict[str, Any]] = self._source_items()
        if split:
            items = split_sentences(items, sentence_splitter(nlp.lang))
        self._items = items
        self.updater = (ModelUpdater(nlp, self.model_lock, batch_size=batch_size, replay=10)
                        if update else None)

    # -- stream -----------------------------------------------------------------------------
    def _source_items(self) -> Iterator[dict[str, Any]]:
        for item in self.source:
            self._read += 1
            yield item

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
        """The next text to annotate, or None at the end of the source.

        Texts already annotated in the dataset (as gold) and repeated texts are skipped. Tasks
        are made on demand (tokenized, pre-highlighted), so ``timeout`` is accepted for
        compatibility with the teach session and never needed. Raises the source's error
        (e.g. a SourceError on a bad JSONL line), which is also kept in ``error``.
        """
        with self._lock:
            while self._front:
                task = self._front.popleft()
                if task["_input_hash"] in self._done:
                    continue  # answered meanwhile (a widget shows an undone task at once)
                self._offered[task["_task_hash"]] = task
                return task
            item = None
            try:
                for candidate in self._items:
                    ih = input_hash(candidate["text"])
                    if ih in self._seen or ih in self._done:
                        continue
                    self._seen.add(ih)
                    item = candidate
                    break
            except Exception as exc:
                self.error = exc
                raise
            if item is None:
                self._exhausted = True
                return None
        # Made outside the session lock: the model may be busy with an update (correct), and
        # answers must not wait for it.
        task = self._task(item)
        with self._lock:
            self._offered[task["_task_hash"]] = task
        return task

    def next_tasks(self, n: int, timeout: float | None = None) -> list[Task]:
        """Up to ``n`` tasks (fewer at the end of the source)."""
        out = []
        while len(out) < n and (task := self.next_task()) is not None:
            out.append(task)
        return out

    def __iter__(self) -> Iterator[Task]:
        while (task := self.next_task()) is not None:
            yield task

    # -- answers ----------------------------------------------------------------------------
    def check_spans(self, task: Mapping[str, Any], spans: Sequence[Mapping[str, Any]]
                    ) -> list[dict[str, Any]]:
        """Validate edited spans: labels known, inside the text, snapped to tokens, no overlap.

        A span's character offsets are snapped outward to whole tokens, and whitespace tokens
        at its edges are dropped (a selection across a line break or into whitespace keeps the
        words it touches). Returns the spans sorted by start, each with start, end,
        token_start, token_end (inclusive) and label; raises AnswerError naming the problem.
        """
        if not isinstance(spans, Sequence) or isinstance(spans, (str, bytes)):
            raise AnswerError(f"spans must be a list of dicts, got {type(spans).__name__}.")
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

    def _resolve(self, task: Mapping[str, Any] | int) -> Task:
        if isinstance(task, Mapping):
            if "_task_hash" not in task or "text" not in task or "tokens" not in task:
                raise AnswerError("answer() takes a task from next_task() (a dict with 'text', "
                                  "'tokens' and '_task_hash') or its task hash.")
            return dict(task)
        if isinstance(task, int) and not isinstance(task, bool):
            with self._lock:
                found = self._offered.get(task)
            if found is None:
                raise AnswerError(f"No task with hash {task} is waiting for an answer in this "
                                  f"session (never offered, or already answered).")
            return dict(found)
        raise AnswerError(f"answer() takes a task dict or a task hash, not {type(task).__name__}.")

    def answer(self, task: Mapping[str, Any] | int, answer: str,
               spans: Sequence[Mapping[str, Any]] | None = None) -> Task:
        """Store the annotation of a text: its edited ``spans`` (default: the task's own).

        ``task`` is a task from next_task() or its task hash. The spans are checked and snapped
        (see :meth:`check_spans`); the stored task holds all of them, is kind 'gold' and keeps
        the offered task's hashes. Raises AnswerError for an unknown answer or label, an overlap
        or a text already annotated; nothing is stored then. Returns the stored task.
        """
        if answer not in ANSWERS:
            raise AnswerError(
                f"Unknown answer {answer!r}: use one of {', '.join(map(repr, ANSWERS))}.")
        task = self._resolve(task)
        ih = task.get("_input_hash")
        with self._lock:
            if ih in self._done:
                raise AnswerError("This text was already annotated in this dataset. Use "
                                  "session.undo() or session.change_answer() to change it.")
            self._done.add(ih)  # claim it: a second, concurrent answer fails above
        try:
            final = self.check_spans(task, task["spans"] if spans is None else spans)
            new = make_task(task["text"], task["tokens"], final, task.get("meta"),
                            view_id=VIEW_MANUAL, in_hash=ih)
            new["_task_hash"] = task["_task_hash"]
            stored = self.db_dataset.add(new, answer=answer, annotator=self.annotator,
                                         session_id=self.session_id)
        except BaseException:
            with self._lock:
                self._done.discard(ih)
            raise
        with self._lock:
            self._offered.pop(task["_task_hash"], None)
            self._front = deque(t for t in self._front if t["_input_hash"] != ih)
            self._history.append(stored)
            self._counts[answer] += 1
        if self.updater is not None and answer == "accept":
            self.updater.submit(stored)
        return stored

    def undo(self) -> Task | None:
        """Remove this session's last answer from the store; its text (with the spans as they
        were answered) is offered again first. None when there is nothing to undo."""
        with self._lock:
            if not self._history:
                return None
            last = self._history.pop()
            self._done.discard(last["_input_hash"])
            self._counts[last["answer"]] -= 1
        self.db_dataset.remove(last["_task_hash"], session_id=self.session_id)
        if self.updater is not None:
            self.updater.retract(last["_task_hash"])
        task = {k: v for k, v in last.items() if k not in _STAMPS}
        task["labels"] = list(self.labels)
        with self._lock:
            self._front.appendleft(task)
        return task

    def change_answer(self, task_hash: int, answer: str) -> Task:
        """Change the answer (accept/reject/ignore) to a text this session annotated; the
        spans stay as they were stored."""
        if answer not in ANSWERS:
            raise AnswerError(
                f"Unknown answer {answer!r}: use one of {', '.join(map(repr, ANSWERS))}.")
        with self._lock:
            matches = [t for t in self._history if t["_task_hash"] == task_hash]
        if not matches:
            raise AnswerError(f"Task {task_hash} was not answered in this session.")
        old = matches[-1]
        if old["answer"] == answer:
            return old
        stored = self.db_dataset.update_answer(task_hash, answer)
        with self._lock:
            self._counts[old["answer"]] -= 1
            self._counts[answer] += 1
            old["answer"] = answer
        if self.updater is not None:  # the model learns only from accepted annotations
            self.updater.retract(task_hash)
            if answer == "accept":
                self.updater.submit(old)
        return stored or old

    def requeue(self, tasks: list[Mapping[str, Any]]) -> int:
        """Offer again tasks that were handed out but never answered (e.g. a closed widget)."""
        n = 0
        with self._lock:
            for task in reversed(tasks):
                th = task["_task_hash"]
                if th not in self._offered:
                    continue
                self._offered.pop(th)
                self._front.appendleft(dict(task))
                n += 1
        return n

    # -- state ------------------------------------------------------------------------------
    def outstanding(self) -> list[Task]:
        """Tasks handed out by next_task and not answered yet (e.g. held by a widget)."""
        with self._lock:
            return list(self._offered.values())

    def history(self, n: int = 20) -> list[dict[str, Any]]:
        """This session's last ``n`` decisions, newest first, in the teach session's shape
        plus ``"manual": True``; ``spans`` lists every span [{"text", "label"}]."""
        with self._lock:
            last = list(itertools.islice(reversed(self._history), n))
        return [{
            "task_hash": t["_task_hash"], "text": t["text"], "span_text": "", "label": None,
            "answer": t["answer"], "score": None, "source": None, "whole": False,
            "manual": True,
            "spans": [{"text": t["text"][s["start"]:s["end"]], "label": s["label"]}
                      for s in t.get("spans") or []],
        } for t in last]

    @property
    def progress(self) -> dict[str, Any]:
        """Counts for this session and the dataset, model updates (correct with update=True),
        how much of the source was read and whether it is exhausted."""
        with self._lock:
            session = dict(self._counts)
            exhausted = self._exhausted and not self._front
        session["total"] = sum(session.values())
        decided = session["accept"] + session["reject"]
        version = self.updater.version if self.updater else 0
        return {"session": session, "dataset": self.db_dataset.counts(),
                "accept_rate": session["accept"] / decided if decided else None,
                "updates": version, "model_version": version,
                "source_total": self.source.total, "source_read": self._read,
                "exhausted": exhausted,
                "update_errors": len(self.updater.errors) if self.updater else 0}

    def stop(self) -> None:
        """Stop the model updater, if any. Answers are already stored; nothing is lost."""
        if self.updater is not None:
            self.updater.stop()

    def __repr__(self) -> str:
        p = self.progress
        return (f"<ManualSession dataset={self.dataset!r} labels={self.labels} "
                f"answers={p['session']['total']} model={'yes' if self.use_model else 'no'}>")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """In a notebook, show the annotation widget (manual view)."""
        from .widget import AnnotationWidget  # lazy: the widget sits above the session

        return AnnotationWidget(self)._repr_mimebundle_(**kwargs)


def has_ner(nlp: Language) -> bool:
    return find_ner(nlp) is not None
