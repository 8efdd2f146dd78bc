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
When an answer on the text is undone or changed before its completion question is answered,
that question is withdrawn (refused if answered) and the text's record reopened, so the question
asked after the new answer agrees with it.

Questions whose answer follows from another: entities do not overlap, so once a span is
accepted on a text, the text's span questions that overlap it are settled: not asked, dropped
by front ends, nothing stored for them (an answer given anyway to one handed out earlier is
stored). Undoing or changing that accept asks them again. The scorer offers overlapping
candidates most probable first, so the likely accept tends to come before what it settles.

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
from typing import Any

from spacy.language import Language

from .base_session import BaseSession
from .candidates import CandidateScorer, ScoredText, TokenKey
from .checkpoint import ModelCheckpoints, Weights, copy_weights
from .errors import AnswerError, SourceError
from .models import resumed_updates, upstream_docs
from .sorters import Sorter
from .sources import Source
from .store import AlreadyAnsweredError, Dataset
from .tasks import Task, check_answer, input_hash, is_gold, is_whole
from .updater import ModelUpdater, UpdateReport

Item = dict[str, Any]
# Makes a session's checkpoint writer from its snapshot function (see recipes.teach).
CheckpointFactory = Callable[[Callable[[], tuple[int, Weights]]], ModelCheckpoints]
# Texts kept for completion questions at once; beyond this the oldest are dropped (a text
# whose questions were all dropped unanswered, e.g. after re-scoring, would stay forever).
MAX_OPEN_TEXTS = 2000
# Texts whose questions are all answered, kept so that undoing or changing one of their answers
# can reopen them (a completion question fitting the new answer; bug-free undo of an accepted
# whole analysis). A completion question is asked right after the last answer, so the latest
# texts are the ones that matter.
MAX_FINISHED_TEXTS = 200
# Questions handed out and then settled by another answer, kept so that answering one by its
# hash still finds it; a front end holds a few, so the latest few hundred are plenty.
MAX_HANDED_ASIDE = 200
# Seconds the producer waits for the source before scoring the texts it has (a slow source).
SOURCE_WAIT = 0.2
# Span questions the model proposes about one text (pattern matches are always asked, beside
# them): its further candidates on the text are dropped. A model that has just started learning
# proposes nearly every token of a sentence (seven questions in a row about one sentence right
# after the first update); a question about another text teaches it more, and the completion
# question fills in the rest of this one.
MAX_MODEL_QUESTIONS = 3


def _is_model_span(task: Mapping[str, Any]) -> bool:
    return not is_whole(task) and task["spans"][0].get("source") == "model"


class OpenText:
    """A text with questions offered: its latest scoring and the answers given about it."""

    def __init__(self, scored: ScoredText) -> None:
        self.scored = scored
        self.spans: dict[int, tuple[TokenKey, str]] = {}  # task hash -> (span, answer)
        self.wrong: dict[int, frozenset[TokenKey]] = {}  # task hash -> rejected whole analysis
        # Questions not asked (or taken back) because the text was answered completely
        # meanwhile: asked again if that answer is undone or changed.
        self.dropped: dict[int, Task] = {}
        self.asked: set[int] = set()  # model span questions handed out (MAX_MODEL_QUESTIONS)

    def note(self, task: Mapping[str, Any], answer: str | None) -> None:
        """Record (or, with None, forget) the answer to one of the text's questions."""
        th = task["_task_hash"]
        keys = frozenset((s["token_start"], s["token_end"] + 1, s["label"])
                         for s in task.get("spans") or [])
        self.spans.pop(th, None)
        self.wrong.pop(th, None)
        if answer is None or answer == "ignore":
            return
        if is_whole(task):
            if answer == "reject":
                self.wrong[th] = keys
        elif len(keys) == 1:
            self.spans[th] = (next(iter(keys)), answer)

    def agreed(self) -> tuple[set[TokenKey], set[TokenKey]]:
        accepted = {k for k, a in self.spans.values() if a == "accept"}
        rejected = {k for k, a in self.spans.values() if a == "reject"} - accepted
        return accepted, rejected


# Completion questions offer the model's guess for the rest of a sentence, so they are asked
# only while the model's own guesses are often right: once this many of the span questions it
# proposed (pattern matches do not count) were accepted in the session, and while at least this
# share of the latest ones is. Asked regardless, they spent the decisions of a label bootstrapped
# from patterns on sentences already answered, and held back a weak model (WNUT17), where
# binary answers alone let it rise (BENCHMARKS.md).
COMPLETE_AFTER_MODEL_ACCEPTS = 20
COMPLETE_MIN_ACCEPT_RATE = 0.1
RECENT_PROPOSALS = 100


class ModelProposals:
    """Answers to the single-span questions the model proposed, in this session (the gate is
    about this session's model)."""

    def __init__(self) -> None:
        self.accepted = 0
        self.recent: dict[int, bool] = {}  # task hash -> accepted, oldest first

    @staticmethod
    def _counts(task: Mapping[str, Any], answer: str | None) -> bool:
        spans = task.get("spans") or []
        return (answer in ("accept", "reject") and not is_whole(task) and len(spans) == 1
                and spans[0].get("source") == "model")

    def add(self, task: Mapping[str, Any], answer: str) -> None:
        if self._counts(task, answer):
            self.accepted += answer == "accept"
            self.recent[task["_task_hash"]] = answer == "accept"
            while len(self.recent) > RECENT_PROPOSALS:
                del self.recent[next(iter(self.recent))]

    def remove(self, task: Mapping[str, Any], answer: str | None) -> None:
        if self._counts(task, answer):
            self.accepted -= answer == "accept"
            self.recent.pop(task["_task_hash"], None)

    def trusted(self) -> bool:
        """Whether the model's guesses are right often enough to ask completion questions."""
        recent = len(self.recent)
        return (self.accepted >= COMPLETE_AFTER_MODEL_ACCEPTS and recent > 0
                and sum(self.recent.values()) >= COMPLETE_MIN_ACCEPT_RATE * recent)


class TeachSession(BaseSession):
    """Binary NER annotation with a model in the loop. Create it with ``nbannotate.teach``."""

    def __init__(self, *, dataset: Dataset, source: Source, nlp: Language, labels: list[str],
                 scorer: CandidateScorer, sorter: Sorter, batch_size: int = 10,
                 split: bool = True, annotator: str | None = None, score_batch: int = 32,
                 prefetch: int | None = None, replay: int = 10, seed: int = 0,
                 gold: Sequence[Mapping[str, Any]] = (), gold_per_update: int = 3,
                 learn_rate: float | None = None, average: float | None = 0.99,
                 checkpoints: CheckpointFactory | None = None) -> None:
        super().__init__(dataset=dataset, source=source, nlp=nlp, labels=labels, split=split,
                         annotator=annotator)
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
        # Completion questions: texts with questions out, texts all answered (kept a while for
        # undo and change_answer), and texts asked about already -> the question's task hash
        # (None when none fitted).
        self._open: dict[int, OpenText] = {}
        self._finished: dict[int, OpenText] = {}
        self._completion_asked: dict[int, int | None] = {}
        # Completion questions withdrawn after an undo or a changed answer -> the task as
        # handed out (a front end may still hold it), else None. Answering one is refused.
        self._stale: dict[int, Task | None] = {}
        # Questions handed out, then settled by another answer (most recent last): answering
        # one by its hash still works.
        self._handed_aside: dict[int, Task] = {}
        self._proposals = ModelProposals()
        self._scoring: set[int] = set()  # requeued texts being scored, tasks not yet queued
        self._version = 0
        self._exhausted = False
        self._stopped = False

        self.updater: ModelUpdater = ModelUpdater(
            nlp, self.model_lock, batch_size=batch_size, replay=replay, seed=seed, gold=gold,
            gold_per_update=gold_per_update, learn_rate=learn_rate,
            average=average, on_update=self._on_update)
        # Checkpoints of the model the loop scores with, beside the dataset (checkpoint.py).
        self._checkpoints = checkpoints(self._weights) if checkpoints is not None else None
        # The source is read on its own thread into a short queue (see _read_source).
        self._incoming: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        self._source_done = False
        self._source_error: BaseException | None = None
        self._reader = threading.Thread(target=self._read_source, name="nbannotate-reader",
                                        daemon=True)
        self._producer = threading.Thread(target=self._produce, name="nbannotate-producer",
                                          daemon=True)
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
            self._put(("error", SourceError(
                "The source generator is still being read by an earlier session (closed, but "
                "waiting inside the generator for its next item). A generator can be read "
                "once: pass a new one, or a function that returns one (source=lambda: "
                "my_texts()), when you run the cell again.")))
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
                        self._exhausted = True
                        self._cond.notify_all()
                    # An update may still requeue texts: wait for that, or for stop.
                    with self._cond:
                        self._cond.wait_for(lambda: self._stopped or bool(self._requeue))
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
                    self._set_aside(task)  # kept if its text's complete answer is undone
                elif task["_task_hash"] not in self._offered:
                    fresh.append(task)
            record = self._record_of(ih)
            asked = len(record.asked) if record is not None else 0
        # Whole analyses are gated by their own threshold in the scorer, and pattern matches
        # are always asked (they bootstrap a label): model candidates are sorted, and asked in
        # text order while the text's share lasts.
        budget = MAX_MODEL_QUESTIONS - asked
        offer = []
        for task in fresh:
            if _is_model_span(task):
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
                    text = self._open.get(ih) or self._finished.pop(ih, None)
                    if text is None:
                        text = OpenText(scored)
                    else:  # re-scored after an update: keep its answers, take new analyses
                        text.scored = scored
                    self._keep_open(ih, text)
            for task in offer:
                with self._cond:
                    self._cond.wait_for(lambda: self._stopped or version != self._version
                                        or len(self._ready) < self.prefetch)
                    if self._stopped or version != self._version:
                        return False
                    self._ready.append((task, item))
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._scoring.discard(ih)
                if not offer and (text := self._open.get(ih)) is not None:
                    # Re-scored with nothing left to ask (say, its last answer came while it
                    # was being scored): the completion question waited for this scoring.
                    text.scored = scored
                    self._decide(ih, text)
        return True

    def _weights(self) -> tuple[int, Weights]:
        """The updates the model holds and the weights the loop scores with, copied (a
        checkpoint; the model lock is held only for the copy)."""
        with self.model_lock:
            return (self.resumed_model_updates + self.updater.version,
                    copy_weights(self.nlp, self.updater.average_params))

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
                    self._set_aside(task)
                ih = input_hash(item["text"])
                if ih not in hashes:
                    hashes.add(ih)
                    stale_items.append(item)
            self._ready.clear()
            self._requeue.extendleft(reversed(stale_items))
            if stale_items:  # more to offer: next_task waits for the re-scoring
                self._exhausted = False
            self._cond.notify_all()

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
                        self._set_aside(task)
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
                        self._set_aside(task)
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
            self._hand_out(task)
            if _is_model_span(task) and (record := self._record_of(task["_input_hash"])):
                record.asked.add(task["_task_hash"])
            return task

    def answer(self, task: Mapping[str, Any] | int, answer: str) -> Task:
        """Store ``answer`` ("accept", "reject" or "ignore") for a task, durably, then return.

        The model update that the answer feeds runs later, in the background.
        """
        self._check_open()
        check_answer(answer)
        th = task.get("_task_hash") if isinstance(task, Mapping) else task
        with self._cond:
            if isinstance(th, int) and th in self._stale:
                self._stale[th] = None  # the holder drops it now
                raise AnswerError(
                    "This question is out of date: an answer about its text was undone or "
                    "changed after it was asked, so it may contradict the new answer. Nothing "
                    "was stored; a question that fits the new answer follows if there is one.")
        task = self._resolve(task)
        th = task["_task_hash"]
        if self._index.is_complete(task["_input_hash"]) and not self._index.has_task(th):
            with self._cond:  # e.g. a card a widget still showed when its text became complete
                self._offered.pop(th, None)
                self._set_aside(task)  # asked again if that complete answer is undone
            raise AnswerError(
                "This question is no longer needed: its text was annotated completely (a whole "
                "analysis or a completion question was accepted) after it was asked. Nothing "
                "was stored; undo or change that answer and it is asked again.")
        # A question an overlapping accept settled after it was handed out (say, the next of a
        # batch taken with next_tasks) is stored as answered: the person saw it and chose.
        try:
            # Checked under the store's lock: of two sessions answering it, one wins.
            stored = self.db_dataset.add(task, answer=answer, annotator=self.annotator,
                                         session_id=self.session_id, once="task")
        except AlreadyAnsweredError:
            with self._cond:
                self._offered.pop(th, None)  # its holder drops it
            raise AnswerError(self._already_answered(th)) from None
        with self._cond:
            self._proposals.add(stored, answer)
            if answer == "accept" and is_gold(stored):
                self._settle_text(stored["_input_hash"])
        self._record(stored)
        self._maybe_complete(stored, answer)
        if answer == "accept" and not is_whole(stored):
            with self._cond:  # questions handed out that it overlaps need no answer now
                self._settle_offered(stored["_input_hash"])
        self.updater.submit(stored)
        return stored

    def _resolve(self, task: Mapping[str, Any] | int) -> Task:
        try:
            return super()._resolve(task)
        except AnswerError:
            # By hash, a question handed out and then set aside (an accept settled it): the
            # person may still answer it, from a view that showed it.
            if isinstance(task, int) and not isinstance(task, bool):
                with self._cond:
                    held = self._handed_aside.get(task)
                if held is not None:
                    return dict(held)
            raise

    def requeue(self, tasks: list[Mapping[str, Any]]) -> int:
        """Offer again tasks that were handed out but never answered (e.g. a closed widget).
        Returns how many. A withdrawn completion question among them is no longer held, so it
        is offered again, rather than waited for, if it becomes valid again."""
        with self._cond:
            for task in tasks:
                if task["_task_hash"] in self._stale:
                    self._stale[task["_task_hash"]] = None
        return super().requeue(tasks)

    def _already_answered(self, th: int) -> str:
        if any(t["_task_hash"] == th for t in self._history):
            return (f"Task {th} was already answered. Use session.undo() or "
                    f"session.change_answer({th}, ...) to change the answer.")
        return (f"Task {th} was already answered in dataset {self.dataset!r} by another "
                f"session (an earlier run, or one still running in this kernel: another "
                f"widget, or the cell run again). Nothing was stored; that answer stands.")

    def settled(self, task: Mapping[str, Any]) -> bool:
        """True when a task needs no answer: answered (by any session on the dataset), its
        text answered completely, its text's completion question asked (after that, nothing
        more is asked about it), a completion question withdrawn as out of date, or a span
        question whose span overlaps one accepted on its text."""
        ih = task["_input_hash"]
        return (self._unneeded(task) or self._index.is_complete(ih)
                or (ih in self._completion_asked
                    and not (task.get("meta") or {}).get("completion")))

    def _unneeded(self, task: Mapping[str, Any]) -> bool:
        """settled() but for the text's state: withdrawn, answered, or implied by an accept."""
        th = task["_task_hash"]
        return th in self._stale or self._index.has_task(th) or self._implied(task)

    def _implied(self, task: Mapping[str, Any]) -> bool:
        """A span question overlapping a span accepted on its text (by any session on the
        dataset, in this run or before): entities do not overlap, so its answer follows. Not
        asked, and asked again if that accept is undone or changed."""
        spans = task.get("spans") or []
        if len(spans) != 1 or is_whole(task):
            return False
        return self._index.overlaps_accepted(task["_input_hash"], spans[0]["start"],
                                             spans[0]["end"])

    # -- texts' records -----------------------------------------------------------------------
    def _keep_open(self, ih: int, text: OpenText) -> None:
        self._open[ih] = text
        while len(self._open) > MAX_OPEN_TEXTS:
            del self._open[next(iter(self._open))]

    def _finish(self, ih: int) -> OpenText | None:
        """Move a text's record from the open texts to the finished ones."""
        text = self._open.pop(ih, None)
        if text is not None:
            self._finished.pop(ih, None)
            self._finished[ih] = text
            while len(self._finished) > MAX_FINISHED_TEXTS:
                del self._finished[next(iter(self._finished))]
        return text

    def _reopen(self, ih: int) -> OpenText | None:
        """A text's record, open again (from the finished ones if need be), or None."""
        text = self._open.get(ih) or self._finished.pop(ih, None)
        if text is not None:
            self._keep_open(ih, text)
        return text

    def _record_of(self, ih: int) -> OpenText | None:
        return self._open.get(ih) or self._finished.get(ih)

    def _settle_text(self, ih: int) -> None:
        """Text ``ih`` was answered completely: its other questions handed out need no answer
        (front ends drop them, as settled); they are kept with its record in case of undo."""
        self._finish(ih)
        self._settle_offered(ih)

    def _settle_offered(self, ih: int) -> None:
        """Questions handed out that an answer about text ``ih`` settled (a complete answer,
        an accepted span they overlap) leave the handed-out ones; front ends drop them too.
        Those about ``ih`` are kept with its record in case that answer is undone."""
        text = self._record_of(ih)
        for other in [t for t in self._offered.values() if self.settled(t)]:
            self._offered.pop(other["_task_hash"], None)
            self._handed_aside[other["_task_hash"]] = other
            while len(self._handed_aside) > MAX_HANDED_ASIDE:
                del self._handed_aside[next(iter(self._handed_aside))]
            if text is not None and other["_input_hash"] == ih:
                text.dropped[other["_task_hash"]] = other

    def _set_aside(self, task: Task) -> None:
        """A queued question skipped because its text was answered completely meanwhile, or
        because it overlaps a span accepted on its text: kept with the text's record, to ask
        again if that answer is undone or changed."""
        ih = task["_input_hash"]
        text = self._record_of(ih)
        if text is None or self._index.has_task(task["_task_hash"]):
            return
        if (self._index.is_complete(ih) and ih not in self._completion_asked) \
                or self._implied(task):
            text.dropped[task["_task_hash"]] = task

    def _bring_back(self, ih: int, but: int) -> None:
        """The complete answer of text ``ih`` was undone or changed: its questions dropped
        because of it (except ``but``, the undone one) are offered again, first."""
        text = self._record_of(ih)
        if text is None or self._index.is_complete(ih):
            return
        queued = ({t["_task_hash"] for t in self._front} | set(self._offered)
                  | {t["_task_hash"] for t, _ in self._ready})
        # Not settled() as a whole: "completion asked" is cleared below when some come back.
        back = [t for th, t in text.dropped.items()
                if th != but and th not in queued and not self._unneeded(t)]
        # Those another accepted span still overlaps wait for that one's undo.
        text.dropped = {th: t for th, t in text.dropped.items()
                        if th != but and self._implied(t) and not self._index.has_task(th)}
        if back:
            # Its completion question, if answered already, came before these: they are asked
            # now, and a question that agrees with their answers after them.
            self._completion_asked.pop(ih, None)
            self._reopen(ih)  # their answers count towards the text's completion question
            self._front.extendleft(reversed(back))
            self._cond.notify_all()

    # -- completion questions -----------------------------------------------------------------
    def _questions_out(self, ih: int) -> bool:
        """Whether a question about text ``ih`` is queued, handed out or about to be queued.
        Questions settled meanwhile (say, answered by another session) do not count."""
        def out(task: Mapping[str, Any]) -> bool:
            return task["_input_hash"] == ih and not self.settled(task)

        return (ih in self._scoring
                or any(out(t) for t, _ in self._ready)
                or any(out(t) for t in self._front)
                or any(out(t) for t in self._offered.values())
                or any(input_hash(x["text"]) == ih for x in self._requeue))

    def _maybe_complete(self, task: Mapping[str, Any], answer: str) -> None:
        """After the last open question on a text, queue its completion question first."""
        ih = task["_input_hash"]
        with self._cond:
            text = self._open.get(ih)
            if text is None:
                return
            text.note(task, answer)
            self._decide(ih, text)

    def _decide(self, ih: int, text: OpenText) -> None:
        """Once no question about an open text is out: finish it, and queue its completion
        question when one is due (called under the lock)."""
        if self._questions_out(ih):
            return
        self._finish(ih)
        if (self.scorer.complete is None or not text.spans or self._index.is_complete(ih)
                or ih in self._completion_asked or not self._proposals.trusted()):
            return
        accepted, rejected = text.agreed()
        question = self.scorer.completion_task(text.scored, accepted, rejected,
                                               set(text.wrong.values()))
        th = None if question is None else question["_task_hash"]
        self._completion_asked[ih] = th
        if question is None or th is None or self._index.has_task(th):
            return
        if th in self._stale:  # the withdrawn question fits the new answers too: valid again
            held = self._stale.pop(th)
            if held is not None:  # its holder still has it: answering it is fine
                self._offered[th] = held
                return
        self._front.append(question)
        self._cond.notify_all()

    def _withdraw_completion(self, ih: int) -> bool:
        """An answer about text ``ih`` was undone or changed: its completion question, made
        from the old answers and not answered yet, is withdrawn (dropped from the queues,
        refused if answered). True if one was withdrawn or none had fitted (called under the
        lock)."""
        if ih not in self._completion_asked:
            return False
        th = self._completion_asked[ih]
        if th is not None and self._index.has_task(th):
            return False  # answered already: that answer stands
        del self._completion_asked[ih]
        if th is not None:
            held = self._offered.pop(th, None)
            self._front = deque(t for t in self._front if t["_task_hash"] != th)
            # Only _front holds completion questions; the ready queue holds scored ones.
            self._stale[th] = held
        return True

    # -- hooks of BaseSession (called under the lock, after the store changed) ---------------
    def _forget(self, task: Task) -> None:
        self._proposals.remove(task, task["answer"])
        ih = task["_input_hash"]
        if (task.get("meta") or {}).get("completion"):
            return  # asked again first, as it is; the text's other answers stand
        # The undone question is asked again first; after its new answer the text's
        # completion question is made again, from the answers as they are then.
        self._withdraw_completion(ih)
        if (text := self._reopen(ih)) is not None:
            text.note(task, None)
        if task["answer"] == "accept":  # a complete analysis, or a span others overlap
            self._bring_back(ih, but=task["_task_hash"])

    def _changed(self, task: Task, answer: str) -> None:
        self._proposals.remove(task, task["answer"])
        self._proposals.add(task, answer)
        ih = task["_input_hash"]
        if (task.get("meta") or {}).get("completion"):
            return
        withdrawn = self._withdraw_completion(ih)
        # An accept taken back may bring questions back: the text is open again.
        reopen = withdrawn or task["answer"] == "accept"
        text = self._reopen(ih) if reopen else self._record_of(ih)
        if text is not None:
            text.note(task, answer)
        if answer == "accept":
            if is_gold(task):
                self._settle_text(ih)
            else:
                self._settle_offered(ih)
        elif task["answer"] == "accept":  # the questions it settled are asked again
            self._bring_back(ih, but=task["_task_hash"])
        if text is not None and (withdrawn or ih in self._open):
            # Nothing else may be coming for this text: make its question now (or after the
            # questions brought back, once they are answered).
            self._decide(ih, text)

    def _relearn(self, task: Task) -> None:
        # The model learnt the old answer already (or will): teach it the new one too.
        self.updater.submit(task)

    def _history_row(self, task: Task) -> dict[str, Any]:
        spans = task.get("spans") or []
        span = spans[0] if len(spans) == 1 and not is_whole(task) else {}
        return {
            "task_hash": task["_task_hash"], "text": task["text"],
            "span_text": task["text"][span["start"]:span["end"]] if span else "",
            "label": span.get("label"), "answer": task["answer"],
            "score": task.get("meta", {}).get("score"),
            "source": "model" if is_whole(task) else span.get("source"),
            "whole": is_whole(task),
            "spans": [{"text": task["text"][s["start"]:s["end"]], "label": s["label"]}
                      for s in spans],
        }

    @property
    def progress(self) -> dict[str, Any]:
        """Counts for this session and the dataset, accept rate, updates, source position."""
        out = super().progress
        with self._cond:
            out["exhausted"] = self._exhausted and not self._ready and not self._front
        out["model_version"] = self._version
        out["resumed_model_updates"] = self.resumed_model_updates
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
        return [{(d[s:e].start_char, d[s:e].end_char, label): v
                 for (s, e, label), v in sc.items()} for d, sc in zip(docs, scores)]

    def stop(self) -> None:
        """Stop the background threads. Answers are already stored; nothing is lost."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        super().stop()
        if self._checkpoints is not None:  # the updater is stopped: the model is final
            self._checkpoints.close()
        self._producer.join(timeout=30)
