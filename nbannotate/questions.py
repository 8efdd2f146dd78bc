"""The bookkeeping of a teach session's questions, per text: no threads, locks or I/O.

A text gets a record (``OpenText``) when questions about it are offered; the record keeps the
text's latest scoring, the answers given about it and the questions dropped because of them.
``Questions`` holds the records and applies these rules; its event methods return a
``Decision`` that the session applies to its queues (under its lock):

- Settled: a question needs no answer once it is answered (by any session on the dataset, the
  answer index), its text is answered completely (a whole analysis or a completion question
  accepted), its text's completion question was asked (only that question is asked after it),
  it is a completion question withdrawn as out of date, or it is a span question overlapping a
  span accepted on its text (entities do not overlap). Settled questions are not asked; those
  handed out leave the handed-out ones (``Decision.aside``) and stay answerable by hash a while.
- Set aside, brought back: a settled question that would be asked again if the answer that
  settled it went away (a complete answer, an overlapping accept) is kept with its text's
  record; undoing that answer, or changing an accept, asks those questions again, first
  (``Decision.first``).
- Completion due: when no question about a text is out (queued, handed out, being scored) and
  one of its answers was about a span, the text is finished; if completion questions are on,
  the text is not complete, none was asked about it and the model's guesses are trusted
  (``ModelProposals``), its completion question (built by the function given, from the text's
  analyses and answers) is asked, after the questions already first in line (``Decision.then``).
- Out of date: undoing or changing an answer about a text whose completion question is not
  answered yet withdraws that question (``Decision.withdrawn``); answering it is refused. If the
  question made after the new answer is the same one, it is valid again: handed out again to
  the front end still holding it (``Decision.revived``), else asked again.
- Model budget: at most ``MAX_MODEL_QUESTIONS`` of the model's span questions about one text
  are handed out (pattern matches and whole questions aside).
- Bounds: open texts, finished texts (kept for undo) and questions handed aside are bounded;
  the oldest go first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any, Protocol

from .candidates import ScoredText, TokenKey
from .precision import is_model_guess
from .tasks import VIEW_MANUAL, Task, is_gold, is_whole

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
# Span questions the model proposes about one text (pattern matches are always asked, beside
# them): its further candidates on the text are dropped. A model that has just started learning
# proposes nearly every token of a sentence (seven questions in a row about one sentence right
# after the first update); a question about another text teaches it more, and the completion
# question fills in the rest of this one.
MAX_MODEL_QUESTIONS = 3
# Completion questions offer the model's guess for the rest of a sentence, so they are asked
# only while the model's own guesses are often right: once this many of the span questions it
# proposed (pattern matches do not count) were accepted in the session, and while at least this
# share of the latest ones is. Asked regardless, they spent the decisions of a label bootstrapped
# from patterns on sentences already answered, and held back a weak model (WNUT17), where
# binary answers alone let it rise (BENCHMARKS.md).
COMPLETE_AFTER_MODEL_ACCEPTS = 20
COMPLETE_MIN_ACCEPT_RATE = 0.1
RECENT_PROPOSALS = 100

# A text's completion question from its record (analyses and answers), or None if none fits.
Completion = Callable[["OpenText"], "Task | None"]


class AnswerIndex(Protocol):
    """What is answered on the dataset (``store.AnswerIndex``)."""

    def has_task(self, task_hash: int) -> bool: ...
    def is_complete(self, input_hash: int) -> bool: ...
    def overlaps_accepted(self, input_hash: int, start: int, end: int) -> bool: ...


def is_model_span(task: Mapping[str, Any]) -> bool:
    """A question about one span the model proposed (not a whole analysis, not a correction)."""
    spans = task.get("spans") or []
    return (
        not is_whole(task)
        and task.get("_view_id") != VIEW_MANUAL
        and len(spans) == 1
        and spans[0].get("source") == "model"
    )


def is_completion(task: Mapping[str, Any]) -> bool:
    return bool((task.get("meta") or {}).get("completion"))


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
        keys = frozenset(
            (s["token_start"], s["token_end"] + 1, s["label"]) for s in task.get("spans") or []
        )
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


class ModelProposals:
    """Answers to the single-span questions the model proposed, in this session (the gate is
    about this session's model)."""

    def __init__(self) -> None:
        self.accepted = 0
        self.recent: dict[int, bool] = {}  # task hash -> accepted, oldest first

    @staticmethod
    def _counts(task: Mapping[str, Any], answer: str | None) -> bool:
        return answer in ("accept", "reject") and is_model_guess(task)

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
        return (
            self.accepted >= COMPLETE_AFTER_MODEL_ACCEPTS
            and recent > 0
            and sum(self.recent.values()) >= COMPLETE_MIN_ACCEPT_RATE * recent
        )


@dataclass
class Decision:
    """What the session does to its queues after an event, in this order: ``withdrawn`` and
    ``aside`` leave the handed-out questions (``withdrawn`` the queued ones too), ``revived``
    are handed out again, ``first`` go to the head of the front queue (in this order), and
    ``then`` to its end."""

    withdrawn: list[int] = field(default_factory=list)  # out-of-date completion questions
    aside: list[int] = field(default_factory=list)  # handed out, settled by another answer
    revived: list[Task] = field(default_factory=list)  # withdrawn, valid again, still held
    first: list[Task] = field(default_factory=list)  # brought back: asked first
    then: list[Task] = field(default_factory=list)  # completion questions

    def __bool__(self) -> bool:
        return bool(self.withdrawn or self.aside or self.revived or self.first or self.then)


class Questions:
    """The questions of one session, per text: see the module docstring.

    Events take what they need of the session's queues as plain values: ``offered`` (task
    hash -> question handed out), ``queued`` (hashes queued or handed out) and ``out`` (whether
    a question about a text is queued, handed out or being scored, settled ones aside)."""

    def __init__(self, index: AnswerIndex, completion: Completion | None = None) -> None:
        self.index = index
        self.completion = completion  # None: completion questions are off
        self.open: dict[int, OpenText] = {}
        self.finished: dict[int, OpenText] = {}
        # Texts whose completion question was asked -> its task hash (None when none fitted).
        self.completion_asked: dict[int, int | None] = {}
        # Completion questions withdrawn after an undo or a changed answer -> the task as
        # handed out (a front end may still hold it), else None. Answering one is refused.
        self.stale: dict[int, Task | None] = {}
        # Questions handed out, then settled by another answer (most recent last): answering
        # one by its hash still works.
        self.handed_aside: dict[int, Task] = {}
        self.proposals = ModelProposals()

    # -- what needs an answer ----------------------------------------------------------------
    def settled(self, task: Mapping[str, Any]) -> bool:
        """True when a task needs no answer (see the module docstring)."""
        ih = task["_input_hash"]
        return (
            self.unneeded(task)
            or self.index.is_complete(ih)
            or (ih in self.completion_asked and not is_completion(task))
        )

    def unneeded(self, task: Mapping[str, Any]) -> bool:
        """settled() but for the text's state: withdrawn, answered, or implied by an accept."""
        th = task["_task_hash"]
        return th in self.stale or self.index.has_task(th) or self.implied(task)

    def implied(self, task: Mapping[str, Any]) -> bool:
        """A span question overlapping a span accepted on its text (by any session on the
        dataset, in this run or before): entities do not overlap, so its answer follows."""
        spans = task.get("spans") or []
        if len(spans) != 1 or is_whole(task):
            return False
        return self.index.overlaps_accepted(task["_input_hash"], spans[0]["start"], spans[0]["end"])

    def set_aside(self, task: Task) -> None:
        """A question skipped as settled: kept with its text's record if it is to be asked
        again when the complete answer or the accept that settled it is undone or changed."""
        ih = task["_input_hash"]
        text = self.record_of(ih)
        if text is None or self.index.has_task(task["_task_hash"]):
            return
        if (self.index.is_complete(ih) and ih not in self.completion_asked) or self.implied(task):
            text.dropped[task["_task_hash"]] = task

    def out_of_date(self, th: int) -> bool:
        """Whether an answer to question ``th`` is refused as out of date; its holder drops
        it now, so it is asked again rather than revived if it becomes valid again."""
        if th not in self.stale:
            return False
        self.stale[th] = None
        return True

    def released(self, th: int) -> None:
        """Question ``th`` is no longer held by a front end (requeued)."""
        if th in self.stale:
            self.stale[th] = None

    def held_aside(self, th: int) -> Task | None:
        return self.handed_aside.get(th)

    # -- texts' records ----------------------------------------------------------------------
    def record_of(self, ih: int) -> OpenText | None:
        return self.open.get(ih) or self.finished.get(ih)

    def keep_open(self, ih: int, text: OpenText) -> None:
        self.open[ih] = text
        while len(self.open) > MAX_OPEN_TEXTS:
            del self.open[next(iter(self.open))]

    def finish(self, ih: int) -> OpenText | None:
        """Move a text's record from the open texts to the finished ones."""
        text = self.open.pop(ih, None)
        if text is not None:
            self.finished.pop(ih, None)
            self.finished[ih] = text
            while len(self.finished) > MAX_FINISHED_TEXTS:
                del self.finished[next(iter(self.finished))]
        return text

    def reopen(self, ih: int) -> OpenText | None:
        """A text's record, open again (from the finished ones if need be), or None."""
        text = self.open.get(ih) or self.finished.pop(ih, None)
        if text is not None:
            self.keep_open(ih, text)
        return text

    def offering(self, ih: int, scored: ScoredText) -> None:
        """Questions about text ``ih`` from this scoring are to be offered: its record is open,
        with these analyses (a re-scoring keeps the answers)."""
        text = self.open.get(ih) or self.finished.pop(ih, None)
        if text is None:
            text = OpenText(scored)
        else:
            text.scored = scored
        self.keep_open(ih, text)

    def model_budget(self, ih: int) -> int:
        """How many more of the model's span questions about text ``ih`` may be asked."""
        record = self.record_of(ih)
        return MAX_MODEL_QUESTIONS - (len(record.asked) if record is not None else 0)

    def handed_out(self, task: Mapping[str, Any]) -> None:
        if is_model_span(task) and (record := self.record_of(task["_input_hash"])):
            record.asked.add(task["_task_hash"])

    # -- events ------------------------------------------------------------------------------
    def answered(self, task: Task, answer: str, offered: Mapping[int, Task]) -> Decision:
        """An answer was stored (before the session books it): a gold accept settles the
        text's other questions."""
        decision = Decision()
        self.proposals.add(task, answer)
        if answer == "accept" and is_gold(task):
            self.finish(task["_input_hash"])
            self._settle(task["_input_hash"], dict(offered), decision)
        return decision

    def recorded(
        self, task: Task, answer: str, offered: Mapping[int, Task], out: Callable[[int], bool]
    ) -> Decision:
        """An answer was stored and booked: noted on its text, whose completion question may
        be due now; an accepted span settles the questions handed out that it overlaps."""
        decision = Decision()
        held = dict(offered)
        ih = task["_input_hash"]
        if (text := self.open.get(ih)) is not None:
            text.note(task, answer)
            self._decide(ih, text, held, out, decision)
        if answer == "accept" and not is_whole(task):
            self._settle(ih, held, decision)
        return decision

    def rescored(self, ih: int, scored: ScoredText, out: Callable[[int], bool]) -> Decision:
        """Text ``ih`` was re-scored with nothing left to ask (say, its last answer came while
        it was being scored): its completion question waited for this scoring."""
        decision = Decision()
        if (text := self.open.get(ih)) is not None:
            text.scored = scored
            self._decide(ih, text, {}, out, decision)
        return decision

    def undone(self, task: Task, offered: Mapping[int, Task], queued: Set[int]) -> Decision:
        """An answer was undone (its question is asked again first, by the session)."""
        decision = Decision()
        self.proposals.remove(task, task["answer"])
        if is_completion(task):
            return decision  # asked again first, as it is; the text's other answers stand
        ih = task["_input_hash"]
        # After the undone question's new answer the text's completion question is made
        # again, from the answers as they are then.
        self._withdraw(ih, dict(offered), decision)
        if (text := self.reopen(ih)) is not None:
            text.note(task, None)
        if task["answer"] == "accept":  # a complete analysis, or a span others overlap
            self._bring_back(
                ih, task["_task_hash"], set(queued) - set(decision.withdrawn), decision
            )
        return decision

    def changed(
        self,
        task: Task,
        answer: str,
        offered: Mapping[int, Task],
        queued: Set[int],
        out: Callable[[int], bool],
    ) -> Decision:
        """The answer to ``task`` (``task["answer"]``, the old one) is changed to ``answer``."""
        decision = Decision()
        self.proposals.remove(task, task["answer"])
        self.proposals.add(task, answer)
        if is_completion(task):
            return decision
        ih = task["_input_hash"]
        held = dict(offered)
        withdrawn = self._withdraw(ih, held, decision)
        # An accept taken back may bring questions back: the text is open again.
        reopen = withdrawn or task["answer"] == "accept"
        text = self.reopen(ih) if reopen else self.record_of(ih)
        if text is not None:
            text.note(task, answer)
        if answer == "accept":
            if is_gold(task):
                self.finish(ih)
            self._settle(ih, held, decision)
        elif task["answer"] == "accept":  # the questions it settled are asked again
            self._bring_back(
                ih, task["_task_hash"], set(queued) - set(decision.withdrawn), decision
            )
        if text is not None and (withdrawn or ih in self.open) and not decision.first:
            # Nothing else may be coming for this text: make its question now (questions
            # brought back are out: it comes after they are answered).
            self._decide(ih, text, held, out, decision)
        return decision

    # -- the rules behind the events ---------------------------------------------------------
    def _settle(self, ih: int, held: dict[int, Task], decision: Decision) -> None:
        """Questions handed out that an answer about text ``ih`` settled (a complete answer,
        an accepted span they overlap) leave the handed-out ones; those about ``ih`` are kept
        with its record in case that answer is undone."""
        text = self.record_of(ih)
        for other in [t for t in held.values() if self.settled(t)]:
            th = other["_task_hash"]
            held.pop(th, None)
            decision.aside.append(th)
            self.handed_aside[th] = other
            while len(self.handed_aside) > MAX_HANDED_ASIDE:
                del self.handed_aside[next(iter(self.handed_aside))]
            if text is not None and other["_input_hash"] == ih:
                text.dropped[th] = other

    def _bring_back(self, ih: int, but: int, queued: Set[int], decision: Decision) -> None:
        """The complete answer of text ``ih``, or an accept on it, was undone or changed: its
        questions dropped because of it (except ``but``, the undone one) are asked again,
        first."""
        text = self.record_of(ih)
        if text is None or self.index.is_complete(ih):
            return
        # Not settled() as a whole: "completion asked" is cleared below when some come back.
        back = [
            t
            for th, t in text.dropped.items()
            if th != but and th not in queued and not self.unneeded(t)
        ]
        # Those another accepted span still overlaps wait for that one's undo.
        text.dropped = {
            th: t
            for th, t in text.dropped.items()
            if th != but and self.implied(t) and not self.index.has_task(th)
        }
        if back:
            # Its completion question, if answered already, came before these: they are asked
            # now, and a question that agrees with their answers after them.
            self.completion_asked.pop(ih, None)
            self.reopen(ih)  # their answers count towards the text's completion question
            decision.first[:0] = back

    def _decide(
        self,
        ih: int,
        text: OpenText,
        held: dict[int, Task],
        out: Callable[[int], bool],
        decision: Decision,
    ) -> None:
        """Once no question about an open text is out: finish it, and ask its completion
        question when one is due."""
        if out(ih):
            return
        self.finish(ih)
        if (
            self.completion is None
            or not text.spans
            or self.index.is_complete(ih)
            or ih in self.completion_asked
            or not self.proposals.trusted()
        ):
            return
        question = self.completion(text)
        th = None if question is None else question["_task_hash"]
        self.completion_asked[ih] = th
        if question is None or th is None or self.index.has_task(th):
            return
        if th in self.stale:  # the withdrawn question fits the new answers too: valid again
            holder = self.stale.pop(th)
            if holder is not None:  # its holder still has it: answering it is fine
                held[th] = holder
                decision.revived.append(holder)
                return
        decision.then.append(question)

    def _withdraw(self, ih: int, held: dict[int, Task], decision: Decision) -> bool:
        """An answer about text ``ih`` was undone or changed: its completion question, made
        from the old answers and not answered yet, is withdrawn. True if one was withdrawn or
        none had fitted."""
        if ih not in self.completion_asked:
            return False
        th = self.completion_asked[ih]
        if th is not None and self.index.has_task(th):
            return False  # answered already: that answer stands
        del self.completion_asked[ih]
        if th is not None:
            self.stale[th] = held.pop(th, None)
            decision.withdrawn.append(th)
        return True


def completion_of(
    make: Callable[
        [ScoredText, Set[TokenKey], Set[TokenKey], Set[frozenset[TokenKey]]], Task | None
    ],
) -> Completion:
    """A ``Completion`` from a scorer's ``completion_task``."""

    def completion(text: OpenText) -> Task | None:
        accepted, rejected = text.agreed()
        return make(text.scored, accepted, rejected, set(text.wrong.values()))

    return completion
