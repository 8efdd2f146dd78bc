"""Updating the in-memory model from answers, in a background thread.

``submit`` never waits: answers queue up, and every ``batch_size`` answers one update runs on a
worker thread while the annotator goes on (if answers come faster than updates run, updates
queue up; each still learns from exactly ``batch_size`` answers). The update and the scorer
share ``model_lock``, because predicting while the optimizer writes weights (or resizes a
layer) is unsafe.

What an update learns from (see the notes on the teach loop): all answers so far on each text in
the batch, merged into one example (accept = entity, reject = known wrong, rest missing), plus
``replay`` earlier texts with an accepted answer (at most half of them texts known to have no
entity), so that the model keeps what it learnt and is not pulled only by the last ten answers,
plus ``gold_per_update`` complete annotations from ``gold`` (a seed set, say), if given. One bad
example (spaCy's E024 on an odd span) is isolated and reported instead of failing the whole
update or losing answers.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spacy.language import Language
from spacy.training import Example

from .errors import ArgumentError, SessionError
from .examples import ExampleStats, merge_answers, merged_to_example
from .models import resumed_updates, started_blank
from .tasks import Task

log = logging.getLogger(__name__)


@dataclass
class UpdateReport:
    version: int
    answers: int
    examples: int
    loss: float
    failed: list[str] = field(default_factory=list)


class ModelUpdater:
    """Batches answers and updates ``nlp`` with them on a worker thread."""

    def __init__(
        self,
        nlp: Language,
        model_lock: threading.RLock,
        *,
        batch_size: int = 10,
        replay: int = 10,
        drop: float = 0.2,
        seed: int = 0,
        gold: Sequence[Mapping[str, Any]] = (),
        gold_per_update: int = 3,
        learn_rate: float | None = None,
        average: float | None = 0.99,
        on_update: Callable[[UpdateReport], None] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ArgumentError(f"batch_size must be at least 1, got {batch_size}.")
        self.nlp = nlp
        self.lock = model_lock
        self.batch_size = batch_size
        self.replay = replay
        self.drop = drop
        self.on_update = on_update
        # Complete annotations (e.g. a seed set) mixed into every update: they say "not an
        # entity" where binary answers say nothing, which keeps precision from collapsing.
        self.gold = [item for item in merge_answers(gold) if item.complete is not None]
        self.gold_per_update = gold_per_update
        self.optimizer = nlp.resume_training()
        if learn_rate is not None:
            self.optimizer.learn_rate = learn_rate
        self._averages = (
            WeightAverage(nlp, average, fresh=started_blank(nlp), steps=resumed_updates(nlp))
            if average
            else None
        )
        self.version = 0
        self.reports: list[UpdateReport] = []
        self.errors: list[str] = []
        self._random = random.Random(seed)
        self._pending: list[Task] = []
        self._answers: dict[int, list[Task]] = {}  # input hash -> answers, oldest first
        self._cond = threading.Condition()
        self._busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="nbannotate-updater", daemon=True)
        self._thread.start()

    # -- called from the annotator's thread: never blocks on an update ------------------
    def submit(self, task: Mapping[str, Any]) -> None:
        """Queue one answered task for the next update."""
        with self._cond:
            self._pending.append(dict(task))
            if len(self._pending) >= self.batch_size:
                self._cond.notify_all()

    def retract(self, task_hash: int) -> bool:
        """Forget an answer (undo). True if it had not reached the model yet."""
        with self._cond:
            for i in range(len(self._pending) - 1, -1, -1):
                if self._pending[i]["_task_hash"] == task_hash:
                    del self._pending[i]
                    return True
            for answers in self._answers.values():
                for i in range(len(answers) - 1, -1, -1):
                    if answers[i]["_task_hash"] == task_hash:
                        del answers[i]
                        return False
        return False

    def averaged(self) -> contextlib.AbstractContextManager[Any]:
        """Within it, ``nlp`` predicts with the moving average of its weights over the updates
        (what the loop scores with); the caller holds the model lock."""
        if self._averages is None:
            return contextlib.nullcontext()
        return self.nlp.use_params(self._averages.params)

    @property
    def average_params(self) -> dict[tuple[int, str], Any] | None:
        """The averaged weights the loop predicts with (None: it uses the weights as they
        are); read them holding the model lock."""
        return self._averages.params if self._averages is not None else None

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def flush(self, timeout: float | None = 60.0) -> bool:
        """Update from every pending answer now, and wait until no update is running.

        True when every answer has reached the model; False (with a warning) when ``timeout``
        seconds passed first: the updates go on in the background. Raises SessionError at
        once when the updater was stopped with answers it will never learn from."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        with self._cond:
            # The worker is gone once stopped and idle: waiting for it would last the whole
            # timeout (forever with None) and then look like success.
            halted = self._halted
            # Full batches first, as they would have run anyway; then the remainder.
            ready = self._cond.wait_for(
                lambda: halted() or (not self._busy and len(self._pending) < self.batch_size),
                timeout=left(),
            )
            if ready and self._pending and not halted():
                self._force = True
                self._cond.notify_all()
            done = self._cond.wait_for(
                lambda: halted() or (not self._pending and not self._busy), timeout=left()
            )
            pending = len(self._pending)
            if halted() and pending:
                raise SessionError(
                    f"The model is no longer updated: its session was stopped "
                    f"(session.stop()), and {pending} answer(s) given since its last update "
                    f"did not reach it (they are stored in the dataset). Start a new session "
                    f"to go on learning, or train on the dataset with nba.train()."
                )
            if not done:
                what = (
                    f"{pending} answer(s) had not reached the model"
                    if pending
                    else "an update was still running"
                )
                warnings.warn(
                    f"update_model(): after {timeout} s {what}; the update goes on in the "
                    f"background. Call update_model() again (or with a longer timeout) to "
                    f"wait for it.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                return False
            return True

    def _halted(self) -> bool:
        """No update will run any more (caller holds ``_cond``)."""
        return (self._stopped and not self._busy) or not self._thread.is_alive()

    def wait_idle(self, timeout: float | None = 60.0) -> bool:
        """Wait until no update is running or due (none ever is once stopped)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._halted() or (not self._busy and len(self._pending) < self.batch_size),
                timeout=timeout,
            )

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=30)

    # -- worker -------------------------------------------------------------------------
    _force = False

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._stopped or self._force or len(self._pending) >= self.batch_size
                )
                if self._stopped:
                    return
                # Exactly batch_size answers an update, however fast they come, so the model
                # learns the same way at any annotation speed; a flush takes the rest too.
                size = len(self._pending) if self._force else self.batch_size
                batch, self._pending = self._pending[:size], self._pending[size:]
                self._force = False
                self._busy = True
            try:
                if batch:
                    self._update(batch)
            except Exception as err:  # never kill the loop; answers are safe in the store
                log.exception("model update failed")
                self.errors.append(f"update failed: {err}")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _examples(self, batch: list[Task]) -> list[Example]:
        touched = []
        with self._cond:  # copies only: submit() from the annotator's thread waits on this lock
            for task in batch:
                ih = task["_input_hash"]
                self._answers.setdefault(ih, []).append(task)
                if ih not in touched:
                    touched.append(ih)
            groups = [list(self._answers[ih]) for ih in touched]
            accepted = {
                ih: list(answers)
                for ih, answers in self._answers.items()
                if ih not in touched and any(a.get("answer") == "accept" for a in answers)
            }
        groups += self._replay_sample(accepted)
        gold = self._random.sample(self.gold, min(self.gold_per_update, len(self.gold)))
        stats = ExampleStats()
        items = [item for answers in groups for item in merge_answers(answers, stats)]
        examples = []
        for item in items + gold:
            example = merged_to_example(self.nlp, item, stats)
            if example is not None:
                examples.append(example)
        return examples

    def _replay_sample(self, accepted: dict[int, list[Task]]) -> list[list[Task]]:
        """Up to ``replay`` of these texts' answers (each text has an accepted answer), at
        random; texts that hold no entity (an accepted "no entities" analysis) are at most half
        of them. Where most texts have no entity (WNUT17), replaying them in their share pulled
        a weak model towards finding nothing; the cap, with ``average=0.99``, stopped that
        (BENCHMARKS.md, "What was tried"); where they are fewer (BTC) the cap rarely
        applies."""
        k = min(self.replay, len(accepted))
        if not k:
            return []
        known = [ih for ih, answers in accepted.items() if _knows_entity(answers)]
        known_set = set(known)
        empty = [ih for ih in accepted if ih not in known_set]
        n_empty = min(len(empty), k // 2, round(k * len(empty) / len(accepted)))
        n_known = min(len(known), k - n_empty)
        chosen = self._random.sample(known, n_known) + self._random.sample(empty, n_empty)
        return [accepted[ih] for ih in chosen]

    def _update(self, batch: list[Task]) -> None:
        examples = self._examples(batch)
        failed: list[str] = []
        loss = 0.0
        if examples:
            with self.lock:
                try:
                    losses = self.nlp.update(examples, sgd=self.optimizer, drop=self.drop)
                    loss = float(sum(losses.values()))
                except Exception:
                    # Isolate the example spaCy cannot learn from (e.g. E024), keep the others.
                    for example in examples:
                        try:
                            losses = self.nlp.update([example], sgd=self.optimizer, drop=self.drop)
                            loss += float(sum(losses.values()))
                        except Exception as err:
                            failed.append(f"{example.reference.text[:60]!r}: {err}")
                if self._averages is not None:
                    self._averages.step()
            self.errors.extend(failed)
        self.version += 1
        report = UpdateReport(self.version, len(batch), len(examples), loss, failed)
        self.reports.append(report)
        if self.on_update is not None:
            self.on_update(report)


def _knows_entity(answers: Sequence[Mapping[str, Any]]) -> bool:
    """True when the answers on one text hold an entity: a span still accepted, or an accepted
    whole analysis with spans."""
    if not any(a.get("answer") == "accept" and a.get("spans") for a in answers):
        return False  # the common case, without merging
    return any(item.accept or item.complete for item in merge_answers(answers))


class WeightAverage:
    """An exponential moving average of a pipeline's weights, starting from its current ones.

    One update of ten answers moves the weights a lot, and Adam's first steps on a resumed
    model are its largest; predicting with ``decay * average + (1 - decay) * new`` after every
    update keeps the loop's model steady (BTC, BENCHMARKS.md). Keys are thinc's
    ``(node.id, name)``, so ``nlp.use_params(average.params)`` applies them.
    """

    def __init__(self, nlp: Language, decay: float, fresh: bool = False, steps: int = 0) -> None:
        self.decay = decay
        # A fresh model's starting weights are noise: then the average follows the new weights
        # closely at first (thinc's schedule, (1 + t) / (10 + t)) and reaches ``decay`` later.
        # ``steps``: updates already in the weights (a checkpoint), where that schedule goes on.
        self.fresh = fresh
        self.steps = steps
        self.params: dict[tuple[int, str], Any] = {}
        self._nodes: list[tuple[tuple[int, str], Any, str]] = []
        for _name, pipe in nlp.pipeline:
            model = getattr(pipe, "model", None)
            if model is None or not hasattr(model, "walk"):
                continue
            for node in model.walk():
                for param in node.param_names:
                    if node.has_param(param) and (node.id, param) not in self.params:
                        self.params[(node.id, param)] = node.get_param(param).copy()
                        self._nodes.append(((node.id, param), node, param))

    def step(self) -> None:
        """Move the average towards the current weights (call after each update)."""
        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps)) if self.fresh else self.decay
        for key, node, param in self._nodes:
            avg = self.params[key]
            weights = node.get_param(param)
            if avg.shape != weights.shape:  # a layer was resized (a new label): restart it
                self.params[key] = weights.copy()
                continue
            avg *= decay
            avg += (1.0 - decay) * weights
