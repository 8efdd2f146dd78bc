"""The teach session: a spaCy pipeline, a stream of tasks and durable answers, headless.

Threads and what they own:

- a *producer* thread reads the source, scores batches of texts with the model (holding the
  model lock), runs the sorter and keeps a short queue of ready tasks;
- the *updater* thread (see ``updater.py``) updates the model every ``batch_size`` answers,
  holding the same lock;
- the caller's thread (a notebook cell, the widget's comm handler) calls ``next_task`` and
  ``answer``, which touch only the ready queue and the store: they never wait for scoring or an
  update, except for the very first tasks.

After each model update the ready tasks scored by the old model are dropped and their texts
re-scored first, so tasks offered after an update come from the updated model.
The model asks at most ``MAX_MODEL_QUESTIONS`` span questions about one text, so that a model
that proposes nearly every token spreads its questions over texts. After updates (at a bounded
rate) and at stop, the model the loop scores with is checkpointed beside the database
(``checkpoint.py``): the weights are copied under the model lock, and written on the updater's
thread (or a timer's), never the annotator's.

Completion questions (``complete``): when every question offered about a text has been answered
and at least one was about a span, the session asks once more about that text, as a whole
question: the most probable analysis of the beam that agrees with the answers. Choosing it is
pure Python over the analyses kept from scoring, so ``answer`` never waits for the model.
Entities do not overlap, so once a span is accepted on a text, the text's span questions that
overlap it are settled: not asked, dropped by front ends. The scorer offers overlapping
candidates most probable first, so the likely accept tends to come before what it settles.
These rules (what an answer settles, when a completion question is due, what an undo or a
changed answer brings back, which question is out of date) live in ``questions.py``, with no
threads; this module calls them under its lock and applies what they decide to its queues.

Corrections (``correct_rejected``): after a whole analysis or a completion question is
rejected, ``correction`` offers that analysis for editing, as ``correct`` shows a text (view
``ner_manual``, token-snapped spans, pre-filled with the analysis' spans). The fixed annotation
is stored beside the reject as complete (gold), like ``correct`` stores it, and the in-loop
model learns from it; ``dismiss`` leaves it and the reject stands. The widget turns the card of
a rejected analysis into its correction at once. Once corrections have brought more entities
per action than questions in the session (``effort.EffortChooser``), a whole analysis due is
offered as a correction directly, without the question and its reject.

"Already answered" is the dataset's live answer index (``store.AnswerIndex``), shared by every
session of this process on the dataset, so two sessions (a teach cell run twice while the old
widget is still open, a teach and a manual session) never ask or store one question twice.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from spacy.language import Language

from .base_session import BaseSession
from .candidates import CandidateScorer, ScoredText
from .checkpoint import ModelCheckpoints, Weights, copy_weights
from .effort import EffortChooser, check_actions, correction_actions, total
from .errors import AnswerError, SourceError
from .models import resumed_updates, upstream_docs
from .questions import (  # noqa: F401  (re-exported: the gate and bound are tested by name)
    COMPLETE_AFTER_MODEL_ACCEPTS,
    MAX_MODEL_QUESTIONS,
    Decision,
    ModelProposals,
    Questions,
    completion_of,
    is_model_span,
)
from .sorters import Sorter
from .sources import Source
from .store import AlreadyAnsweredError, Dataset
from .store.claims import DEFAULT_LEASE
from .tasks import (
    VIEW_MANUAL,
    Task,
    check_answer,
    input_hash,
    is_correction,
    is_whole,
    make_task,
)
from .updater import ModelUpdater, UpdateReport

Item = dict[str, Any]
# Makes a session's checkpoint writer from its snapshot function (see recipes.teach).
CheckpointFactory = Callable[[Callable[[], tuple[int, Weights]]], ModelCheckpoints]
# Seconds the producer waits for the source before scoring the texts it has (a slow source).
SOURCE_WAIT = 0.2


class _Correcting(NamedTuple):
    """A direct correction out for a text: the question it replaced and the text's questions
    held back meanwhile (asked if it is dismissed, settled if it is stored)."""

    fix: int  # the correction's task hash
    replaced: Task
    held: list[Task]


class TeachSession(BaseSession):
    """Binary NER annotation with a model in the loop. Create it with ``nbannotate.teach``."""

    def __init__(
        self,
        *,
        dataset: Dataset,
        source: Source,
        nlp: Language,
        labels: list[str],
        scorer: CandidateScorer,
        sorter: Sorter,
        batch_size: int = 10,
        split: bool = True,
        annotator: str | None = None,
        score_batch: int = 32,
        prefetch: int | None = None,
        replay: int = 10,
        seed: int = 0,
        gold: Sequence[Mapping[str, Any]] = (),
        gold_per_update: int = 3,
        learn_rate: float | None = None,
        average: float | None = 0.99,
        checkpoints: CheckpointFactory | None = None,
        overlap: bool = False,
        lease: float = DEFAULT_LEASE,
        learn_from_others: bool = True,
        correct_rejected: bool = True,
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
        self.learn_from_others = learn_from_others
        #: Offer a rejected whole analysis for correction (``correction``).
        self.correct_rejected = correct_rejected
        # Entities per action of questions and of corrections: once corrections bring more, a
        # text is offered as a correction directly (see _direct_correction).
        self._chooser = EffortChooser()
        #: Direct corrections also for texts the model asks span questions about, not only
        #: for its whole analyses (False: whole analyses only, as before 0.3).
        self.correct_texts = True
        self._dismissed: set[int] = set()  # direct corrections left: asked as questions again
        self._correcting: dict[int, _Correcting] = {}  # by input hash
        #: Model updates of earlier sessions in the model it started from (a checkpoint).
        self.resumed_model_updates = resumed_updates(nlp)
        self.scorer = scorer
        self.sorter = sorter
        self.batch_size = batch_size
        self.score_batch = score_batch
        self.prefetch = prefetch or max(2 * batch_size, 8)

        self._ready: deque[tuple[Task, Item]] = deque()  # scored, sorted, not yet offered
        self._requeue: deque[Item] = deque()  # texts to re-score with the updated model
        # self._index: answered questions and completely answered texts (nothing more to ask
        # about them), of every session of this process on the dataset, and of earlier runs
        # (resume).
        self._seen_inputs: set[int] = set()
        # The questions per text: what is settled, set aside, due, out of date (questions.py).
        self._questions = Questions(
            self._index, None if scorer.complete is None else completion_of(scorer.completion_task)
        )
        self._scoring: set[int] = set()  # requeued texts being scored, tasks not yet queued
        self._version = 0
        self._exhausted = False
        self._stopped = False

        self.updater: ModelUpdater = ModelUpdater(
            nlp,
            self.model_lock,
            batch_size=batch_size,
            replay=replay,
            seed=seed,
            gold=gold,
            gold_per_update=gold_per_update,
            learn_rate=learn_rate,
            average=average,
            on_update=self._on_update,
        )
        # Checkpoints of the model the loop scores with, beside the dataset (checkpoint.py).
        self._checkpoints = checkpoints(self._weights) if checkpoints is not None else None
        # The source is read on its own thread into a short queue (see _read_source).
        self._incoming: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        self._source_done = False
        self._source_error: BaseException | None = None
        self._reader = threading.Thread(
            target=self._read_source, name="nbannotate-reader", daemon=True
        )
        self._producer = threading.Thread(
            target=self._produce, name="nbannotate-producer", daemon=True
        )
        self._reader.start()
        self._producer.start()

    # -- the stream -----------------------------------------------------------------------
    def _read_source(self) -> None:
        """Reader thread: the source's items into ``_incoming``, then ("end", None), or
        ("error", exc). The producer never blocks in the source, so a slow source (a generator
        fed by an API) neither holds back the texts that arrived nor a stop(). The queue holds
        one item: the source is read as the producer takes them, as before, so a generator
        shared with a later session loses at most an item or two when this one stops."""
        try:
            for item in self._items():
                if not self._put(("item", item)):
                    return
            if self._read == 0:  # a one-shot source without a text (others fail at teach())
                self._put(("error", self.source.no_text_error()))
                return
            self._put(("end", None))
        except ValueError as err:
            if "generator already executing" not in str(err):
                self._put(("error", err))
                return
            self._put(
                (
                    "error",
                    SourceError(
                        "The source generator is still being read by an earlier session "
                        "(closed, but waiting inside the generator for its next item). A "
                        "generator can be read "
                        "once: pass a new one, or a function that returns one (source=lambda: "
                        "my_texts()), when you run the cell again."
                    ),
                )
            )
        except BaseException as err:  # raised at next_task once the texts before it are done
            self._put(("error", err))

    def _put(self, message: tuple[str, Any]) -> bool:
        """Hand a message to the producer; False once the session stopped (nobody reads)."""
        while not self._stopped:
            try:
                self._incoming.put(message, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _take(self) -> list[Item]:
        """Up to ``score_batch`` texts: re-scores first, then new ones from the source. A
        partial batch is scored once the source has kept its first text waiting SOURCE_WAIT
        seconds (a source that trickles texts in gets them scored too)."""
        batch: list[Item] = []
        deadline: float | None = None  # set by the batch's first text
        freed = self._unpark()  # texts another session held, free now
        if freed:
            with self._cond:
                self._requeue.extend(freed)
        while len(batch) < self.score_batch and not self._stopped:
            with self._cond:
                item = self._requeue.popleft() if self._requeue else None
                if item is not None:
                    self._scoring.add(input_hash(item["text"]))
            if item is None:
                if self._source_done:
                    break
                wait = SOURCE_WAIT if deadline is None else deadline - time.monotonic()
                try:
                    kind, value = self._incoming.get(timeout=max(wait, 0.0))
                except queue.Empty:
                    if batch:
                        break  # score what has come
                    continue  # nothing yet: look at the re-scores again, or stop
                if kind == "end":
                    self._source_done = True
                    break
                if kind == "error":  # raised at next_task once everything before it is done
                    self._source_done = True
                    self._source_error = value
                    break
                item = value
                ih = input_hash(item["text"])
                if ih in self._seen_inputs:  # a text repeated in the source is offered once
                    continue
                self._seen_inputs.add(ih)
                if self._index.is_complete(ih) or not self._hold(ih, item):
                    continue  # done, or another annotator's session has it (parked)
            if deadline is None:
                deadline = time.monotonic() + SOURCE_WAIT
            batch.append(item)
        return batch

    def _produce(self) -> None:
        try:
            while not self._stopped:
                batch = self._take()
                if self._stopped:
                    return
                if not batch:
                    with self._cond:
                        if self._requeue:
                            continue
                        if self._parked:  # not done: wait for their holders to let go
                            self._cond.wait(0.5)
                            continue
                        self._exhausted = True
                        self._cond.notify_all()
                    # An update may still requeue texts: wait for that, or for stop.
                    with self._cond:
                        self._cond.wait_for(
                            lambda: self._stopped or bool(self._requeue) or bool(self._parked)
                        )
                        if self._stopped:
                            return
                        self._exhausted = False
                    continue
                with self.model():
                    version = self._version
                    per_item = self.scorer.score_texts(batch, version)
                for i, (item, scored) in enumerate(zip(batch, per_item)):
                    if not self._emit(item, scored, version):
                        with self._cond:  # _on_update may have requeued some of them already
                            queued = {input_hash(x["text"]) for x in self._requeue}
                            rest = [x for x in batch[i:] if input_hash(x["text"]) not in queued]
                            self._requeue.extendleft(reversed(rest))
                            self._scoring.clear()
                        break
        except BaseException as err:  # surfaced by next_task, at the caller
            with self._cond:
                self.error = err
                self._cond.notify_all()

    def _emit(self, item: Item, scored: ScoredText, version: int) -> bool:
        """Offer the item's tasks that pass the sorter, at most MAX_MODEL_QUESTIONS of the
        model's span questions per text. False if the model changed meanwhile."""
        ih = input_hash(item["text"])
        fresh = []
        with self._cond:
            for task in scored.tasks:
                if self.settled(task):
                    self._questions.set_aside(task)  # kept if what settled it is undone
                elif task["_task_hash"] not in self._offered:
                    fresh.append(task)
            budget = self._questions.model_budget(ih)
        # Whole analyses are gated by their own threshold in the scorer, and pattern matches
        # are always asked (they bootstrap a label): model candidates are sorted, and asked in
        # text order while the text's share lasts.
        offer = []
        for task in fresh:
            if is_model_span(task):
                if budget <= 0:
                    continue
                score = task["meta"].get("score")
                # A candidate without a score (a model never updated) is its text's best one.
                if score is not None and not self.sorter(score):
                    continue
                budget -= 1
            offer.append(task)
        try:
            with self._cond:
                # Kept even without completion questions: undoing an accepted whole analysis
                # asks the questions it settled again.
                if offer:
                    self._questions.offering(ih, scored)
            for task in offer:
                with self._cond:
                    self._cond.wait_for(
                        lambda: (
                            self._stopped
                            or version != self._version
                            or len(self._ready) < self.prefetch
                        )
                    )
                    if self._stopped or version != self._version:
                        return False
                    self._ready.append((task, item))
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._scoring.discard(ih)
                if not offer:  # the text's completion question may have waited for this
                    self._apply(self._questions.rescored(ih, scored, self._questions_out))
                idle = not offer and not self._questions_out(ih)
            if idle and version == self._version:  # nothing to ask about it (this model)
                self._finish(ih)
        return True

    def _weights(self) -> tuple[int, Weights]:
        """The updates the model holds and the weights the loop scores with, copied (a
        checkpoint; the model lock is held only for the copy)."""
        with self.model_lock:
            return (
                self.resumed_model_updates + self.updater.version,
                copy_weights(self.nlp, self.updater.average_params),
            )

    def _on_update(self, report: UpdateReport) -> None:
        self.scorer.untrained = False
        if self._checkpoints is not None:  # on the updater thread: never on a key press
            self._checkpoints.updated()
        with self._cond:
            self._version = report.version
            stale_items: list[Item] = []
            hashes: set[int] = set()
            for task, item in self._ready:
                if self.settled(task):  # e.g. its text's whole analysis was accepted
                    self._questions.set_aside(task)
                ih = input_hash(item["text"])
                if ih not in hashes:
                    hashes.add(ih)
                    stale_items.append(item)
            self._ready.clear()
            self._requeue.extendleft(reversed(stale_items))
            if stale_items:  # more to offer: next_task waits for the re-scoring
                self._exhausted = False
            self._cond.notify_all()

    def _others_answered(self, tasks: list[Task]) -> None:
        """Other annotators' answers on the dataset, as their processes store them: the
        in-loop model learns from them too (``learn_from_others``)."""
        if self.learn_from_others and not self._stopped:
            for task in tasks:
                if task.get("answer") in ("accept", "reject"):
                    self.updater.submit(task)
        super()._others_answered(tasks)

    # -- the annotator's calls ---------------------------------------------------------------
    def next_task(self, timeout: float | None = None) -> Task | None:
        """The next task to annotate, or None when the stream is exhausted.

        Waits only while tasks are being scored (at the start, or when the annotator is faster
        than the scorer); with ``timeout`` it returns None if nothing came in time.
        """
        self._check_open()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._front:
                    task = self._front.popleft()
                    if self.settled(task):
                        if not is_correction(task):  # a correction is never asked again
                            self._questions.set_aside(task)
                        continue
                    break
                if self._ready:
                    task, _item = self._ready.popleft()
                    self._cond.notify_all()
                    # A text re-scored after an update can repeat a question, and a text
                    # answered completely meanwhile needs no more questions.
                    if task["_task_hash"] in self._offered:
                        continue
                    if self.settled(task):
                        self._questions.set_aside(task)
                        continue
                    if task["_input_hash"] in self._correcting:  # its text is being corrected
                        self._correcting[task["_input_hash"]].held.append(task)
                        continue
                    break
                if self.error is not None:
                    raise self.error
                if self._exhausted and self._source_error is not None and not self._stopped:
                    # every text read before the source failed has been offered: say why the
                    # stream ends, here and at every later call
                    self.error = self._source_error
                    raise self.error
                if self._exhausted or self._stopped:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining if remaining is not None else 0.5)
            fix = self._direct_correction(task)
            if fix is not None:  # fewer actions a complete sentence than the questions' route
                self._correcting[task["_input_hash"]] = _Correcting(fix["_task_hash"], task, [])
                task = fix
            self._hand_out(task)
            self._questions.handed_out(task)
            return task

    def answer(
        self,
        task: Mapping[str, Any] | int,
        answer: str,
        spans: Sequence[Mapping[str, Any]] | None = None,
        *,
        actions: int | Mapping[str, int] | None = None,
    ) -> Task:
        """Store ``answer`` ("accept", "reject" or "ignore") for a task, durably, then return.

        The model update that the answer feeds runs later, in the background. ``spans``: the
        fixed spans of a correction (``correction``), stored with "accept" as the text's
        complete annotation; a question is answered as it was asked. ``actions``: the keys and
        clicks the answer took, per kind (``nbannotate.effort``; the widget sends them), kept
        in the stored task's ``meta["actions"]`` (their total) and summed in
        ``progress["actions"]``; None counts the fewest the widget needs (1 for a question).
        """
        self._check_open()
        check_answer(answer)
        counted = check_actions(actions)
        th = task.get("_task_hash") if isinstance(task, Mapping) else task
        with self._cond:
            if isinstance(th, int) and self._questions.out_of_date(th):  # the holder drops it
                raise AnswerError(
                    "This question is out of date: an answer about its text was undone or "
                    "changed after it was asked, so it may contradict the new answer. Nothing "
                    "was stored; a question that fits the new answer follows if there is one."
                )
        task = self._resolve(task)
        th = task["_task_hash"]
        if self._index.is_complete(task["_input_hash"]) and not self._index.has_task(th):
            with self._cond:  # e.g. a card a widget still showed when its text became complete
                self._offered.pop(th, None)
                if not is_correction(task):  # asked again if that answer is undone
                    self._questions.set_aside(task)
            raise AnswerError(
                "This question is no longer needed: its text was annotated completely (a whole "
                "analysis or a completion question was accepted) after it was asked. Nothing "
                "was stored; undo or change that answer and it is asked again."
            )
        if is_correction(task):
            task, counted = self._corrected(task, answer, spans, counted)
        elif spans is not None:
            raise AnswerError(
                "spans= is for a correction (session.correction(task) after a rejected whole "
                "analysis): a teach question is answered as it was asked. Nothing was stored."
            )
        else:
            counted = {"answer": 1} if counted is None else counted
            task["meta"] = {**(task.get("meta") or {}), "actions": total(counted)}
        # A question an overlapping accept settled after it was handed out (say, the next of a
        # batch taken with next_tasks) is stored as answered: the person saw it and chose.
        try:
            # Checked under the store's lock: of two sessions answering it, one wins.
            stored = self.db_dataset.add(
                task,
                answer=answer,
                annotator=self.annotator,
                session_id=self.session_id,
                once="task",
                per_annotator=self.overlap,
            )
        except AlreadyAnsweredError:
            with self._cond:
                self._offered.pop(th, None)  # its holder drops it
            raise AnswerError(self._already_answered(th)) from None
        with self._cond:  # a gold accept settles its text's other questions
            self._apply(self._questions.answered(stored, answer, self._offered))
            pending = self._correcting.get(stored["_input_hash"])
            if pending is not None and pending.fix == th:  # its text's questions are settled
                del self._correcting[stored["_input_hash"]]
                for held in pending.held:
                    self._questions.set_aside(held)
        self._record(stored, counted)
        with self._cond:
            self._choose(stored, 1)
        ih = stored["_input_hash"]
        with self._cond:  # its text's completion question may be due; overlaps are settled
            self._apply(
                self._questions.recorded(stored, answer, self._offered, self._questions_out)
            )
            # A rejected whole analysis is followed by its correction: the text stays held.
            fix_due = answer == "reject" and self.correct_rejected and is_whole(stored)
            finished = not self._questions_out(ih) and not fix_due
        if finished:  # nothing more to ask about its text: others need not wait for it
            self._finish(ih)
        self.updater.submit(stored)
        return stored

    # -- corrections of rejected whole analyses -----------------------------------------------
    def correction_task(self, task: Mapping[str, Any], direct: bool = False) -> Task | None:
        """The correction a whole analysis (or completion question) would get if rejected:
        its text as a complete annotation to edit (view ``ner_manual``), pre-filled with the
        analysis' spans. ``direct``: offered instead of the question (no reject before it).
        None when ``correct_rejected`` is off or ``task`` is no whole analysis. Pure: nothing
        is handed out (see ``correction``)."""
        if not self.correct_rejected or not is_whole(task) or not task.get("tokens"):
            return None
        hidden = ("whole", "completion", "score", "beam_probability", "actions")
        meta = {k: v for k, v in (task.get("meta") or {}).items() if k not in hidden}
        meta["correction"] = True
        if not direct:
            meta["corrects"] = task["_task_hash"]
        keys = ("start", "end", "token_start", "token_end", "label")
        spans = [{**{k: s[k] for k in keys}, "source": "model"} for s in task.get("spans") or []]
        fix = make_task(
            task["text"], task["tokens"], spans, meta, VIEW_MANUAL, in_hash=task["_input_hash"]
        )
        fix["labels"] = list(self.labels)
        return fix

    def correction(self, task: Mapping[str, Any] | int) -> Task | None:
        """After rejecting a whole analysis (or a completion question): the analysis to correct,
        handed out like a question. Answer it with ``answer(fix, "accept", spans=[...])`` (the
        spans as they should be: the text's complete annotation, stored as gold beside the
        reject; the model learns from it) or leave it with ``dismiss(fix)``. ``task``: the
        rejected task or its hash. None when ``correct_rejected`` is off, the task is not a
        whole analysis this session rejected, or its text is annotated completely already."""
        self._check_open()
        th = task.get("_task_hash") if isinstance(task, Mapping) else task
        with self._cond:
            rejected = next(
                (t for t in reversed(self._history) if t["_task_hash"] == th),
                None,
            )
            if rejected is None or rejected["answer"] != "reject":
                return None
            fix = self.correction_task(rejected)
            if fix is None or self.settled(fix):
                return None
            self._hand_out(fix)
            return fix

    def dismiss(self, task: Mapping[str, Any] | int) -> None:
        """Leave a correction (``correction``) without storing anything: the reject stands.
        Counted as one action (``skip``)."""
        self._check_open()
        th = task.get("_task_hash") if isinstance(task, Mapping) else task
        with self._cond:
            held = self._offered.get(th) if isinstance(th, int) else None
            if held is None or not is_correction(held):
                raise AnswerError(
                    "dismiss() leaves a correction handed out by session.correction(); this "
                    "task is none (a question is answered: ignore is its 'skip')."
                )
            fix: int = held["_task_hash"]
            del self._offered[fix]
            self._front = deque(t for t in self._front if t["_task_hash"] != fix)
            self._actions.add({"skip": 1})
            ih = held["_input_hash"]
            pending = self._correcting.get(ih)
            if pending is not None and pending.fix == fix:  # direct: its questions come first
                del self._correcting[ih]
                self._dismissed.add(fix)
                self._front.extendleft(reversed([pending.replaced, *pending.held]))
                self._cond.notify_all()
            finished = not self._questions_out(ih)
        if finished:  # nothing more to ask about its text: others need not wait for it
            self._finish(ih)

    def _corrected(
        self,
        task: Task,
        answer: str,
        spans: Sequence[Mapping[str, Any]] | None,
        counted: dict[str, int] | None,
    ) -> tuple[Task, dict[str, int]]:
        """The complete annotation a correction stores, and the actions it took."""
        if answer != "accept":
            raise AnswerError(
                "A correction is stored with 'accept' (the fixed spans are all the text's "
                "entities). To leave it, session.dismiss(task): the reject stands. Nothing was "
                "stored."
            )
        if self.settled(task):
            with self._cond:
                self._offered.pop(task["_task_hash"], None)
            raise AnswerError(
                "This correction is no longer needed: the reject it follows was undone or "
                "changed, or its text was annotated completely meanwhile. Nothing was stored."
            )
        final = self.check_spans(task, task["spans"] if spans is None else spans)
        if counted is None:
            counted = correction_actions(task["spans"], final)
        return self._gold_task(task, final, total(counted)), counted

    def _resolve(self, task: Mapping[str, Any] | int) -> Task:
        try:
            return super()._resolve(task)
        except AnswerError:
            # By hash, a question handed out and then set aside (an accept settled it): the
            # person may still answer it, from a view that showed it.
            if isinstance(task, int) and not isinstance(task, bool):
                with self._cond:
                    held = self._questions.held_aside(task)
                if held is not None:
                    return dict(held)
            raise

    def requeue(self, tasks: list[Mapping[str, Any]]) -> int:
        """Offer again tasks that were handed out but never answered (e.g. a closed widget).
        Returns how many. A withdrawn completion question among them is no longer held, so it
        is offered again, rather than waited for, if it becomes valid again."""
        with self._cond:
            for task in tasks:
                self._questions.released(task["_task_hash"])
        return super().requeue(tasks)

    def _already_answered(self, th: int) -> str:
        if any(t["_task_hash"] == th for t in self._history):
            return (
                f"Task {th} was already answered. Use session.undo() or "
                f"session.change_answer({th}, ...) to change the answer."
            )
        return (
            f"Task {th} was already answered in dataset {self.dataset!r} by another "
            f"session (an earlier run, or one still running in this kernel: another "
            f"widget, or the cell run again). Nothing was stored; that answer stands."
        )

    def settled(self, task: Mapping[str, Any]) -> bool:
        """True when a task needs no answer: answered (by any session on the dataset), its
        text answered completely, its text's completion question asked (after that, nothing
        more is asked about it), a completion question withdrawn as out of date, or a span
        question whose span overlaps one accepted on its text. A correction: answered, its
        text answered completely, or the reject it follows no longer stored."""
        if is_correction(task):
            corrects = (task.get("meta") or {}).get("corrects")  # None: asked directly
            return (
                self._index.has_task(task["_task_hash"])
                or self._index.is_complete(task["_input_hash"])
                or (corrects is not None and not self._index.has_task(int(corrects)))
            )
        return self._questions.settled(task)

    def _apply(self, decision: Decision) -> None:
        """Carry out what the question rules decided (under the lock)."""
        for th in decision.withdrawn:  # only _front holds completion questions
            self._offered.pop(th, None)
            self._front = deque(t for t in self._front if t["_task_hash"] != th)
        for th in decision.aside:
            self._offered.pop(th, None)
        for task in decision.revived:
            self._offered[task["_task_hash"]] = task
        self._front.extendleft(reversed(decision.first))
        self._front.extend(decision.then)
        if decision.first or decision.then:
            self._cond.notify_all()

    # -- completion questions -----------------------------------------------------------------
    def _questions_out(self, ih: int) -> bool:
        """Whether a question about text ``ih`` is queued, handed out or about to be queued.
        Questions settled meanwhile (say, answered by another session) do not count."""

        def out(task: Mapping[str, Any]) -> bool:
            return task["_input_hash"] == ih and not self.settled(task)

        return (
            ih in self._scoring
            or any(out(t) for t, _ in self._ready)
            or any(out(t) for t in self._front)
            or any(out(t) for t in self._offered.values())
            or any(input_hash(x["text"]) == ih for x in self._requeue)
        )

    # -- the way of asking that costs fewer actions (effort.EffortChooser) ------------------
    def _direct_correction(self, task: Task) -> Task | None:
        """The correction to offer instead of ``task`` (under the lock), once corrections
        have brought more entities per action than questions: a whole analysis becomes its
        correction; the model's first span question about a text with no answer yet becomes
        the correction of the text's most probable analysis (``correct_texts``). Pattern
        matches stay questions: they bootstrap a label the model does not know."""
        if not self.correct_rejected or not self._chooser.prefer_correction():
            return None
        base: Task | None = None
        if is_whole(task):
            base = task
        elif self.correct_texts and is_model_span(task):
            record = self._questions.record_of(task["_input_hash"])
            # a fresh text: nothing answered about it, no question of it waiting for an answer
            if (
                record
                and record.scored.analyses
                and not (record.spans or record.wrong or record.asked)
            ):
                scored = record.scored
                prob, ents = scored.analyses[0]
                base = self.scorer.whole_task(
                    scored.item, scored.tokens, ents, prob, scored.version, {}
                )
        fix = self.correction_task(base, direct=True) if base is not None else None
        if fix is None or fix["_task_hash"] in self._dismissed or self.settled(fix):
            return None
        return fix

    def _choose(self, task: Mapping[str, Any], by: int) -> None:
        """Count an answer (``by=-1``: take it back) for the choice between questions and
        corrections (under the lock)."""
        meta = task.get("meta") or {}
        actions = meta.get("actions")
        if not isinstance(actions, int) or task.get("answer") not in ("accept", "reject", "ignore"):
            return
        spans = task.get("spans") or []
        if is_correction(task):
            if task["answer"] == "accept":  # and the key that rejected the analysis before it
                self._chooser.add("correction", len(spans), actions + ("corrects" in meta), by)
        else:
            self._chooser.add(
                "question", len(spans) if task["answer"] == "accept" else 0, actions, by
            )

    # -- hooks of BaseSession (called under the lock, after the store changed) ---------------
    def _forget(self, task: Task) -> None:
        self._choose(task, -1)
        # The undone question is asked again first; after its new answer the text's
        # completion question is made again, from the answers as they are then.
        self._apply(self._questions.undone(task, self._offered, self._queued()))

    def _changed(self, task: Task, answer: str) -> None:
        self._choose(task, -1)
        self._choose({**task, "answer": answer}, 1)
        self._apply(
            self._questions.changed(
                task, answer, self._offered, self._queued(), self._questions_out
            )
        )

    def _queued(self) -> set[int]:
        """Hashes of the questions queued or handed out (under the lock)."""
        return (
            {t["_task_hash"] for t in self._front}
            | set(self._offered)
            | {t["_task_hash"] for t, _ in self._ready}
        )

    def _relearn(self, task: Task) -> None:
        # The model learnt the old answer already (or will): teach it the new one too.
        self.updater.submit(task)

    def _reoffer(self, task: Task) -> Task:
        if is_correction(task):  # offered again with the spans it was stored with
            task["labels"] = list(self.labels)
        return task

    def _history_row(self, task: Task) -> dict[str, Any]:
        spans = task.get("spans") or []
        if task.get("_view_id") == VIEW_MANUAL:  # a correction: the whole annotation
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
                    for s in spans
                ],
            }
        span = spans[0] if len(spans) == 1 and not is_whole(task) else {}
        return {
            "task_hash": task["_task_hash"],
            "text": task["text"],
            "span_text": task["text"][span["start"] : span["end"]] if span else "",
            "label": span.get("label"),
            "answer": task["answer"],
            "score": task.get("meta", {}).get("score"),
            "source": "model" if is_whole(task) else span.get("source"),
            "whole": is_whole(task),
            "spans": [
                {"text": task["text"][s["start"] : s["end"]], "label": s["label"]} for s in spans
            ],
        }

    @property
    def progress(self) -> dict[str, Any]:
        """Counts for this session and the dataset, accept rate, updates, source position."""
        out = super().progress
        with self._cond:
            out["exhausted"] = self._exhausted and not self._ready and not self._front
        out["model_version"] = self._version
        out["resumed_model_updates"] = self.resumed_model_updates
        with self._cond:  # of questions and of corrections, so far (effort.EffortChooser)
            out["entities_per_action"] = self._chooser.progress()
        return out

    def save_model_checkpoint(self) -> bool:
        """Write the checkpoint of the in-loop model now, if it learnt something since the
        last one (teach() on the same dataset, model and labels starts from it). True when
        one was written. Done after updates and at close anyway."""
        return self._checkpoints.save() if self._checkpoints is not None else False

    def score_spans(self, texts: list[str]) -> list[dict[tuple[int, int, str], float]]:
        """The in-loop model's beam scores, per text, keyed (start_char, end_char, label)."""
        with self.model():
            docs = upstream_docs(self.nlp, texts)
            scores = self.scorer.span_scores(docs)
        return [
            {(d[s:e].start_char, d[s:e].end_char, label): v for (s, e, label), v in sc.items()}
            for d, sc in zip(docs, scores)
        ]

    def stop(self) -> None:
        """Stop the background threads. Answers are already stored; nothing is lost."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        super().stop()
        if self._checkpoints is not None:  # the updater is stopped: the model is final
            self._checkpoints.close()
        self._producer.join(timeout=30)
