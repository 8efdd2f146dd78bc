"""Manual and correct sessions: complete (gold) annotations of whole texts.

``manual`` shows each text with nothing or pattern matches pre-highlighted; ``correct`` shows
the model's entities. A source item that carries ``spans`` (a Prodigy export, another tool's
output) shows those instead, in both: the annotation to review comes first. The annotator
edits the spans and accepts: the stored task carries every span of the text and ``_view_id:
"ner_manual"``, so ``train()`` uses it as gold (unmarked tokens are not entities) and it can
serve as an evaluation set. Like the teach session, these work headless; the widget is a view
over them (displaying a session shows it).

The API mirrors :class:`nbannotate.session.TeachSession` (``next_task``, ``answer``, ``undo``,
``change_answer``, ``requeue``, ``history``, ``progress``, ``error``, ``update_model``,
``stop``), with one addition: ``answer(task, answer, spans=...)`` takes the annotator's edited
spans. A stored answer keeps the offered task's ``_task_hash`` (as Prodigy does: the hash names
the question, the spans are the answer), so undo, change_answer and the widget follow one task
by one hash.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from .base_session import BaseSession
from .candidates import check_item, describe_item
from .effort import check_actions, correction_actions, total
from .errors import AnswerError, SourceError
from .graphemes import splits_cluster
from .models import upstream_docs
from .patterns import PatternMatcher
from .sources import Source
from .store import AlreadyAnsweredError, Dataset
from .store.claims import DEFAULT_LEASE
from .tasks import VIEW_MANUAL, Task, check_answer, doc_tokens, input_hash, make_task
from .updater import ModelUpdater


class ManualSession(BaseSession):
    """Gold annotation of whole texts, optionally pre-highlighted by patterns or a model.

    Create it with ``nbannotate.manual`` or ``nbannotate.correct``.
    """

    view_mode = "manual"
    shows_input_spans = True  # a source item's spans are pre-highlighted

    required_keys = ("_task_hash", "text", "tokens")
    fixed_spans = False  # the annotator edits them; the answer keeps the offered task hash
    once_kind = "text"  # one complete annotation per text (undo clears the text's mark)

    def __init__(
        self,
        *,
        dataset: Dataset,
        source: Source,
        nlp: Language,
        labels: list[str],
        patterns: PatternMatcher | None = None,
        use_model: bool = False,
        update: bool = False,
        split: bool = True,
        annotator: str | None = None,
        batch_size: int = 10,
        learn_rate: float | None = None,
        average: float | None = None,
        overlap: bool = False,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        super().__init__(
            dataset=dataset,
            source=source,
            nlp=nlp,
            labels=labels,
            split=split,
            annotator=annotator,
            overlap=overlap,
            lease=lease,
        )
        self.patterns = patterns
        self.use_model = use_model
        # self._index: texts annotated (gold) in the dataset, by any session of this process
        # or an earlier run: live, so two sessions on one dataset never show or store a text
        # twice.
        self._seen: set[int] = set()
        self._freed: deque[dict[str, Any]] = deque()  # parked texts this session holds now
        self._exhausted = False
        self._stream = self._items()
        self._read_lock = threading.Lock()  # one reader of the source at a time
        if update:
            # average=None by default (see recipes.correct): the pre-highlighting should show
            # what the corrections taught at once.
            self.updater = ModelUpdater(
                nlp,
                self.model_lock,
                batch_size=batch_size,
                replay=10,
                learn_rate=learn_rate,
                average=average,
            )

    # -- stream -----------------------------------------------------------------------------
    def _task(self, item: Mapping[str, Any]) -> Task:
        # An incoming span of another label is refused rather than kept or dropped: the view has
        # no button for that label, so the annotator could not mark the entities of it that the
        # input missed, yet accepting would store the text as complete (gold) for it; dropping
        # it would store its tokens as "not an entity".
        check_item(item, self.nlp, self.labels)
        text = item["text"]
        incoming = item.get("spans")
        with self.model():
            model = self.use_model and incoming is None  # the input's own spans come first
            if model:
                doc: Doc = self.nlp(text)
            elif self.patterns is not None and incoming is None and self.patterns.needs_annotations:
                # patterns match on what the pipeline sets (POS, LEMMA), as in teach
                doc = upstream_docs(self.nlp, [text])[0]
            else:
                doc = self.nlp.make_doc(text)
        spans: list[dict[str, Any]] = []
        if incoming is not None:
            where = describe_item(item)
            spans = [
                {**s, "source": "input"}
                for s in self._snap(
                    doc, incoming, lambda msg: SourceError(f"{where}, in its spans: {msg}")
                )
            ]
        elif self.use_model:
            spans = [
                {
                    "start": e.start_char,
                    "end": e.end_char,
                    "token_start": e.start,
                    "token_end": e.end - 1,
                    "label": e.label_,
                    "source": "model",
                }
                for e in doc.ents
                # half a character (a cut inside an emoji sequence) is no suggestion
                if e.label_ in self.labels and not splits_cluster(text, e.start_char, e.end_char)
            ]
        elif self.patterns is not None:
            taken: set[int] = set()
            for m in self.patterns(doc):
                span = doc[m.start : m.end]
                if splits_cluster(text, span.start_char, span.end_char):
                    continue  # half a character (a cut inside an emoji sequence): no suggestion
                if taken & set(range(m.start, m.end)):
                    continue  # spaCy entities cannot overlap: keep the first match
                taken |= set(range(m.start, m.end))
                spans.append(
                    {
                        "start": span.start_char,
                        "end": span.end_char,
                        "token_start": m.start,
                        "token_end": m.end - 1,
                        "label": m.label,
                        "source": "pattern",
                    }
                )
        meta = dict(item.get("meta") or {})
        task = make_task(text, doc_tokens(doc), spans, meta, view_id=VIEW_MANUAL)
        task["labels"] = list(self.labels)
        return task

    def next_task(self, timeout: float | None = None) -> Task | None:
        """The next text to annotate, or None at the end of the source.

        Texts already annotated in the dataset (as gold) and repeated texts are skipped. Tasks
        are made on demand (tokenized, pre-highlighted); ``timeout`` is accepted for
        compatibility with the teach session (a slow source makes this call wait for its next
        item, never an answer). Raises the source's error (e.g. a SourceError on a bad JSONL
        line), which is also kept in ``error`` and raised again by every later call (after the
        tasks given back by undo or requeue), as the teach session does: the stream does not go
        on past a bad item.
        """
        self._check_open()
        with self._cond:
            while self._front:
                task = self._front.popleft()
                if self._index.has_gold(task["_input_hash"]):
                    continue  # answered meanwhile (a widget shows an undone task at once)
                self._hand_out(task)
                return task
            if self.error is not None:  # the stream is broken: say so until fixed, like teach
                raise self.error
        # The source is read under its own lock, not the session's: a slow source (an API, a
        # mostly annotated file being skipped) must not hold up answers.
        with self._read_lock:
            with self._cond:
                if self.error is not None:  # another reader hit it meanwhile
                    raise self.error
            item = None
            try:
                for candidate in self._stream:
                    ih = input_hash(candidate["text"])
                    with self._cond:
                        if ih in self._seen or self._index.has_gold(ih):
                            continue
                        self._seen.add(ih)
                    if not self._hold(ih, candidate):
                        continue  # another annotator's session has it: parked
                    item = candidate
                    break
            except Exception as exc:
                with self._cond:
                    self.error = exc
                raise
            if item is None:
                item = self._wait_parked(timeout)
            if item is None:
                with self._cond:
                    if self._read == 0:  # a one-shot source without a text
                        self.error = self.source.no_text_error()
                        raise self.error
                    self._exhausted = True
                return None
        # Made outside the session lock: the model may be busy with an update (correct), and
        # answers must not wait for it.
        try:
            task = self._task(item)
        except Exception as exc:
            with self._cond:
                self.error = exc
            raise
        with self._cond:
            self._hand_out(task)
        return task

    def _done(self, ih: int) -> bool:
        return self._index.has_gold(ih)

    def _wait_parked(self, timeout: float | None) -> dict[str, Any] | None:
        """At the end of the source: a parked text once its holder lets it go (None when
        nothing is parked, or at ``timeout``). Texts annotated meanwhile are dropped."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._freed.extend(self._unpark(every=0.0))
            while self._freed:  # texts this session now holds, asked one by one
                item = self._freed.popleft()
                if not self._index.has_gold(input_hash(item["text"])):
                    return item
            with self._cond:
                for ih in [ih for ih in self._parked if self._index.has_gold(ih)]:
                    del self._parked[ih]
                if not self._parked or self.closed_reason is not None:
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(min(1.0, left) if left is not None else 1.0)

    # -- answers ----------------------------------------------------------------------------
    def answer(
        self,
        task: Mapping[str, Any] | int,
        answer: str,
        spans: Sequence[Mapping[str, Any]] | None = None,
        *,
        actions: int | Mapping[str, int] | None = None,
    ) -> Task:
        """Store the annotation of a text: its edited ``spans`` (default: the task's own).

        ``task`` is a task from next_task() or its task hash. The spans are checked and snapped
        (see :meth:`check_spans`); the stored task holds all of them, is kind 'gold' and keeps
        the offered task's hashes. ``actions``: the keys and clicks the annotation took, per
        kind (see ``nbannotate.effort``; the widget sends them), stored in ``meta["actions"]``
        (their total); None counts the fewest that turn the task's spans into these. Raises
        AnswerError for an unknown answer or label, an overlap or a text already annotated;
        nothing is stored then. Returns the stored task.
        """
        self._check_open()
        check_answer(answer)
        counted = check_actions(actions)
        task = self._resolve(task)
        ih: int = task["_input_hash"]  # _resolve checked the task's hashes
        try:
            if self._index.has_gold(ih):
                raise AlreadyAnsweredError(ih)
            final = self.check_spans(task, task["spans"] if spans is None else spans)
            if counted is None:  # from the pre-highlighted spans (correct, patterns) or none
                counted = correction_actions(task["spans"], final)
            new = self._gold_task(task, final, total(counted))
            # Checked again under the store's lock: of two sessions answering it, one wins.
            stored = self.db_dataset.add(
                new,
                answer=answer,
                annotator=self.annotator,
                session_id=self.session_id,
                once="text",
                per_annotator=self.overlap,
            )
        except AlreadyAnsweredError:
            with self._cond:
                self._offered.pop(task["_task_hash"], None)  # its holder drops it
            raise AnswerError(self._already_annotated(ih)) from None
        with self._cond:
            self._front = deque(t for t in self._front if t["_input_hash"] != ih)
        self._record(stored, counted)
        self._finish(ih)
        if self.updater is not None and answer == "accept":
            self.updater.submit(stored)
        return stored

    def _already_annotated(self, ih: int) -> str:
        if any(t["_input_hash"] == ih for t in self._history):
            return (
                "This text was already annotated in this dataset. Use session.undo() or "
                "session.change_answer() to change it."
            )
        return (
            f"This text was already annotated in dataset {self.dataset!r} by another "
            f"session (an earlier run, or one still running in this kernel: another "
            f"widget, or the cell run again). Nothing was stored; that annotation stands."
        )

    def settled(self, task: Mapping[str, Any]) -> bool:
        """True when the task's text is annotated already (by any session on the dataset)."""
        return self._index.has_gold(task["_input_hash"])

    # -- hooks of BaseSession ---------------------------------------------------------------
    def _reoffer(self, task: Task) -> Task:
        task["labels"] = list(self.labels)  # offered again with the spans it was answered with
        return task

    def _relearn(self, task: Task) -> None:
        # The model learns only from accepted annotations (correct(update=True) has an updater).
        if task["answer"] == "accept" and self.updater is not None:
            self.updater.submit(task)

    def _history_row(self, task: Task) -> dict[str, Any]:
        """In the teach session's shape plus ``"manual": True``; ``spans`` lists every span."""
        return {
            "task_hash": task["_task_hash"],
            "text": task["text"],
            "span_text": "",
            "label": None,
            "answer": task["answer"],
            "score": None,
            "source": None,
            "whole": False,
            "manual": True,
            "spans": [
                {"text": task["text"][s["start"] : s["end"]], "label": s["label"]}
                for s in task.get("spans") or []
            ],
        }

    @property
    def progress(self) -> dict[str, Any]:
        """Counts, model updates (correct with update=True), source read, exhausted."""
        out = super().progress
        with self._cond:
            out["exhausted"] = self._exhausted and not self._front
        out["model_version"] = out["updates"]
        return out
