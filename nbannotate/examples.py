"""Answers -> spaCy training examples.

All answers on one input text merge into one ``Example``:

- binary answers (``ner`` view): an accepted span is that entity; a rejected span is known to be
  wrong (``reference.spans[INCORRECT_SPANS_KEY]``); every other token is *missing*, not "O";
- gold answers (``ner_manual`` view, accepted): the spans are the complete analysis, every other
  token is "O"; rejected binary spans on the same text are kept as known-wrong;
- a reviewed annotation (a gold task with ``meta["review"]``, from ``nba.review``) is the
  text's complete analysis whatever other complete annotations of the text say, older or newer:
  it settled their disagreement; a reviewed *reject* (the reviewer found the text unfit)
  leaves the text out, every other answer on it included, until a later review accepts it;
- silver analyses (gold tasks with ``meta["silver"]``: a model's confident analysis, not a
  person's) count as gold only for texts no person has answered: any accept or reject by a
  person on the text (a rejected analysis too) wins, and the silver analysis is left out;
- ignored answers, and rejected gold tasks, are left out;
- a span with an ``answer`` of its own (Prodigy's ``ner.teach`` exports: a rejected row whose
  span was accepted) is taken with that answer, not the row's.

When one span is answered more than once (accepted, later rejected, ...) the latest answer wins
and the conflict is counted. Spans that do not align with the tokenizer (answers imported from
another tool, or made with another tokenizer), or that start or end on whitespace (spaCy raises
E024 on them), are dropped and counted instead of crashing an update; they are never widened to
whole tokens, which could turn a rejected "Galaxy" into "GalaxyS24 is not an entity". In a
complete analysis the tokens of such a span become missing, not "O". A reference known only from
binary answers carries the (empty) span group ``BINARY_SPANS_KEY``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example

from .models import BINARY_SPANS_KEY, INCORRECT_SPANS_KEY
from .tasks import input_hash, is_gold

SpanKey = tuple[int, int, str]


@dataclass
class MergedAnnotation:
    """What is known about one input text after merging its answers."""

    text: str
    input_hash: int
    accept: dict[SpanKey, float] = field(default_factory=dict)  # span -> timestamp order
    reject: dict[SpanKey, float] = field(default_factory=dict)
    gold: list[SpanKey] | None = None  # complete analysis, when a gold answer exists
    silver: list[SpanKey] | None = None  # a model's complete analysis (used when nothing else)
    human: bool = False  # a person accepted or rejected something on this text
    reviewed: bool = False  # ``gold`` is a reviewed annotation (nba.review): no other replaces it
    review_rejected: bool = False  # the latest review rejected the text: it is left out
    conflicts: int = 0
    answers: int = 0

    @property
    def complete(self) -> list[SpanKey] | None:
        """The complete analysis training uses: the gold one, else the silver one when no
        person answered anything on the text; None when only spans are known."""
        if self.gold is not None:
            return self.gold
        return None if self.human else self.silver

    @property
    def silver_only(self) -> bool:
        """True when only a model's analysis is known about the text: nothing to score a
        model against (training on it is fine, evaluating on it measures self-agreement)."""
        return not self.human and self.silver is not None


@dataclass
class ExampleStats:
    examples: int = 0
    answers: int = 0
    ignored: int = 0
    review_rejected: int = 0  # texts a review rejected, left out with all their answers
    conflicts: int = 0
    misaligned: int = 0
    overlapping: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def merge_answers(
    tasks: Iterable[Mapping[str, Any]], stats: ExampleStats | None = None
) -> list[MergedAnnotation]:
    """Group answers by input text, in the order given (oldest first), latest answer winning."""
    stats = stats if stats is not None else ExampleStats()
    merged: dict[int, MergedAnnotation] = {}
    for order, task in enumerate(tasks):
        answer = task.get("answer")
        if answer not in ("accept", "reject"):
            stats.ignored += 1
            continue
        text = task["text"]
        ih = task.get("_input_hash")
        ih = input_hash(text) if ih is None else int(ih)
        item = merged.get(ih)
        if item is None:
            item = merged[ih] = MergedAnnotation(text=text, input_hash=ih)
        item.answers += 1
        stats.answers += 1
        spans = [(int(s["start"]), int(s["end"]), str(s["label"])) for s in task.get("spans") or []]
        silver = is_gold(task) and bool((task.get("meta") or {}).get("silver"))
        # Even a person's rejected analysis outranks silver: it may be the very analysis the
        # silver one repeats.
        item.human = item.human or not silver
        if is_gold(task):
            reviewed = "review" in (task.get("meta") or {})
            if answer == "accept":
                if silver:
                    item.silver = spans
                elif reviewed or not item.reviewed:
                    item.gold = spans
                    item.reviewed = item.reviewed or reviewed
                    item.review_rejected = False
            elif reviewed:  # the reviewer found the text unfit: it settles the text too
                item.gold, item.reviewed, item.review_rejected = None, True, True
            continue
        for key, own in zip(spans, _span_answers(task, answer), strict=True):
            if own not in ("accept", "reject"):
                continue  # this span was ignored
            mine, other = (
                (item.accept, item.reject) if own == "accept" else (item.reject, item.accept)
            )
            if key in other:
                del other[key]
                item.conflicts += 1
                stats.conflicts += 1
            mine[key] = order
    out = [item for item in merged.values() if not item.review_rejected]
    stats.review_rejected += len(merged) - len(out)
    return out


def _span_answers(task: Mapping[str, Any], answer: str) -> list[str]:
    """Each span's answer: its own ``answer`` when it has one, else the row's."""
    out = []
    for s in task.get("spans") or []:
        own = s.get("answer") if isinstance(s, Mapping) else None
        out.append(own if own in ("accept", "reject", "ignore") else answer)
    return out


def drop_dead_end_rejects(moves: Any, examples: Iterable[Example]) -> int:
    """Remove the rejected spans spaCy's NER oracle cannot supervise; returns how many.

    spaCy cuts a long text into pieces along its oracle sequence (the first free move at each
    step, in the order of ``moves``; a random cut size, so whether a text is cut varies from
    run to run). When that path opens an entity a rejected span forbids to close, no move is
    free and spaCy raises E024 ("Could not find an optimal move to supervise the parser"),
    failing the whole run. ``moves`` is the NER's own transition system (its order decides the
    path). Each such text loses the fewest rejected spans that make its oracle complete (one
    when one suffices, else all of them).
    """
    dropped = 0
    for eg in examples:
        rejected = list(eg.reference.spans.get(INCORRECT_SPANS_KEY, []))
        if not rejected or _oracle_ok(moves, eg):
            continue
        keep: list[Span] = []
        for i in range(len(rejected)):
            eg.reference.spans[INCORRECT_SPANS_KEY] = rejected[:i] + rejected[i + 1 :]
            if _oracle_ok(moves, eg):
                keep = rejected[:i] + rejected[i + 1 :]
                break
        eg.reference.spans[INCORRECT_SPANS_KEY] = keep
        dropped += len(rejected) - len(keep)
    return dropped


def _oracle_ok(moves: Any, eg: Example) -> bool:
    try:
        moves.get_oracle_sequence(eg)
    except ValueError as err:
        if "E024" in str(err):
            return False
        raise
    return True


def _span(
    doc: Doc, key: SpanKey, stats: ExampleStats, unknown: list[Span] | None = None
) -> Span | None:
    """The span of ``key`` on ``doc``'s tokens; None (counted) when it does not align exactly.
    For a span of a complete analysis, its tokens go to ``unknown``: something is there, so they
    are not "O"."""
    start, end, label = key
    span = doc.char_span(start, end, label=label, alignment_mode="strict")
    if span is None or len(span) == 0 or span[0].is_space or span[-1].is_space:
        stats.misaligned += 1
        if unknown is not None:
            wide = doc.char_span(start, end, alignment_mode="expand")
            if wide is not None and len(wide):
                unknown.append(wide)
        return None
    return span


def _non_overlapping(spans: list[Span], stats: ExampleStats) -> list[Span]:
    """Later spans win over earlier ones they overlap (spaCy entities cannot overlap)."""
    taken: set[int] = set()
    kept: list[Span] = []
    for span in reversed(spans):
        tokens = set(range(span.start, span.end))
        if tokens & taken:
            stats.overlapping += 1
            continue
        taken |= tokens
        kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def merged_to_example(
    nlp: Language, item: MergedAnnotation, stats: ExampleStats | None = None
) -> Example | None:
    """One Example for one merged text; None when nothing usable is left."""
    stats = stats if stats is not None else ExampleStats()
    predicted = nlp.make_doc(item.text)
    reference = nlp.make_doc(item.text)
    gold = item.complete
    unknown: list[Span] = []
    if gold is not None:
        ents = [s for k in gold if (s := _span(reference, k, stats, unknown)) is not None]
        default = "outside"
    else:
        ordered = sorted(item.accept, key=item.accept.__getitem__)
        ents = [s for k in ordered if (s := _span(reference, k, stats)) is not None]
        default = "missing"
    ents = _non_overlapping(ents, stats)
    accepted = {(s.start, s.end, s.label_) for s in ents}
    rejected = [
        s
        for k in item.reject
        if (s := _span(reference, k, stats)) is not None
        and (s.start, s.end, s.label_) not in accepted
    ]
    if not ents and not rejected and gold is None:
        return None
    taken = {i for s in ents for i in range(s.start, s.end)}
    missing = []
    for span in unknown:  # set_ents refuses overlapping spans
        tokens = set(range(span.start, span.end))
        if not tokens & taken:
            taken |= tokens
            missing.append(span)
    reference.set_ents(ents, missing=missing, default=default)
    if gold is None:
        reference.spans[BINARY_SPANS_KEY] = []
    if rejected:
        reference.spans[INCORRECT_SPANS_KEY] = rejected
    stats.examples += 1
    return Example(predicted, reference)


def answers_to_examples(
    nlp: Language, tasks: Iterable[Mapping[str, Any]]
) -> tuple[list[Example], ExampleStats]:
    """Merge answers by input text and build one Example per text (see module docstring)."""
    stats = ExampleStats()
    examples = []
    for item in merge_answers(tasks, stats):
        example = merged_to_example(nlp, item, stats)
        if example is not None:
            examples.append(example)
    return examples, stats
