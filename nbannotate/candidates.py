"""Candidates: score texts with a beam search and turn each (span, label) into one task.

A span's score is the summed probability of the beam parses that contain it (spaCy's
``scored_ents``). Pattern matches are added beside the model's candidates; a span proposed by
both is offered once, marked as a pattern match and carrying the model's score. A task shows a
score (``meta["score"]``, the span's ``"score"``) only where it is the model's and means
something: not from a model that has never been updated (its probabilities are noise: a blank
model gives its junk candidates 1.0), nor for a pattern match the model does not propose;
there both are None. A text's tasks come in text order, overlapping candidates most
probable first (``overlap_order``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .errors import ArgumentError, SourceError
from .graphemes import splits_cluster
from .models import find_ner, is_fresh, require_ner, upstream_docs
from .patterns import PatternMatcher
from .tasks import Task, doc_tokens, input_hash, make_task

# Where a pattern match the model does not propose at all ranks among overlapping candidates
# (maximally uncertain). It is not the model's score, so the task shows none.
PATTERN_ONLY_SCORE = 0.5
# Below this share of texts with an entity in their best analysis, empty analyses are not asked.
MIN_FINDS_ENTITIES = 0.1

TokenKey = tuple[int, int, str]  # (start token, end token exclusive, label)
Analysis = tuple[float, tuple[TokenKey, ...]]  # a set of entities and its beam probability


@dataclass
class ScoredText:
    """One source item after scoring: its tasks in text order, its tokens and, when the scorer
    asks completion questions, every analysis the beam found (most probable first)."""

    item: Mapping[str, Any]
    tasks: list[Task]
    tokens: list[dict[str, Any]] = field(default_factory=list)
    analyses: list[Analysis] = field(default_factory=list)
    version: int = 0  # the model version that scored it


def consistent_analysis(
    analyses: Iterable[Analysis],
    accepted: Set[TokenKey],
    rejected: Set[TokenKey],
    wrong: Set[frozenset[TokenKey]] = frozenset(),
) -> tuple[float, float, tuple[TokenKey, ...]] | None:
    """The most probable analysis that keeps every accepted span and no rejected one, and is
    not a whole analysis known to be wrong: ``(share, probability, entities)``, where ``share``
    is its probability among the consistent analyses. None when no analysis fits."""
    fits = [
        (p, ents)
        for p, ents in analyses
        if accepted <= (parse := frozenset(ents)) and not parse & rejected and parse not in wrong
    ]
    total = sum(p for p, _ in fits)
    if not fits or total <= 0:
        return None
    prob, ents = max(fits, key=lambda x: x[0])
    return min(1.0, prob / total), prob, tuple(sorted(ents))


# Titles and abbreviations written before a name: a period after one ends no sentence when a
# capitalised word follows ("Lt. Gen. Jubal Early"). spaCy's tokenizer keeps some whole
# ("Gen.", "Mr."), others it splits off ("Lt", "."), and the sentencizer cuts after that ".".
ABBREVIATIONS = frozenset(
    """
    adm brig capt cdr cmdr col cpl det dr fr gen gov hon insp lt maj messrs mr mrs ms mt pres
    prof pvt rep rev sen sgt sr st supt
""".split()
)
_FINAL_PUNCT = frozenset(".!?。！？…")
# Components that set sentence boundaries: the pipeline's own is used where it has one.
_SENTENCE_FACTORIES = ("parser", "beam_parser", "senter", "sentencizer")


@Language.component("nbannotate_abbreviations")
def _join_abbreviations(doc: Doc) -> Doc:
    """Fix the sentencizer's cuts inside a name: none after a title's period or an initial
    ("Lt. Gen. Jubal Early", "John F. Kennedy") when a capitalised word follows, and none
    between a token and the one attached to it (it starts a sentence after a "#" it takes for
    punctuation: "#MH17" was cut into "#" and "MH17")."""
    for i in range(1, len(doc)):
        tok = doc[i]
        if not tok.is_sent_start:
            continue
        prev = doc[i - 1]
        if not prev.whitespace_ and prev.text not in _FINAL_PUNCT:
            start = i - 1  # the boundary moves back to the start of the attached word
            while (
                start > 0
                and not doc[start - 1].whitespace_
                and doc[start - 1].text not in _FINAL_PUNCT
            ):
                start -= 1
            tok.is_sent_start = False
            if start > 0:
                doc[start].is_sent_start = True
            continue
        if not tok.text[:1].isupper():
            continue
        if prev.text == "." and i >= 2:
            word = doc[i - 2].text
        elif prev.text.endswith(".") and len(prev.text) > 1:
            word = prev.text[:-1]
        else:
            continue
        if word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isupper()):
            tok.is_sent_start = False
    return doc


def sentence_splitter(lang: str | None) -> Language:
    """A small rule-based splitter (spaCy's sentencizer that does not cut after a title such
    as "Lt." before a name); independent of the model so scoring never waits on it. A
    pipeline without a language (``nlp.lang`` None) gets the multi-language tokenizer."""
    nlp = spacy.blank(lang or "xx")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("nbannotate_abbreviations")
    # spaCy's length limit protects the parser and NER (about 1 GB per 100,000 characters);
    # tokenizing is cheap, and splitting is what brings a long text under the model's limit.
    nlp.max_length = sys.maxsize
    return nlp


class PipelineSplitter:
    """Sentences from the pipeline's own parser or senter (as Prodigy splits), run with every
    component before it except the NER, under the session's model lock; texts longer than the
    pipeline takes go to the rule-based splitter."""

    def __init__(self, nlp: Language, names: list[str], lock: Any) -> None:
        self.nlp = nlp
        self.procs = [(name, proc) for name, proc in nlp.pipeline if name in names]
        self.lock = lock
        self.fallback = sentence_splitter(nlp.lang)

    def __call__(self, text: str) -> Doc:
        if len(text) > self.nlp.max_length:
            return self.fallback(text)
        with self.lock:
            doc = self.nlp.make_doc(text)
            for _name, proc in self.procs:
                doc = proc(doc)
        return doc


def splitter_for(nlp: Language, lock: Any = None) -> Language | PipelineSplitter:
    """The splitter for a session's pipeline: its own parser/senter/sentencizer where it has
    one enabled (with the components it needs before it), else the rule-based one."""
    ner = find_ner(nlp)
    for i, (name, proc) in enumerate(nlp.pipeline):
        if nlp.get_pipe_meta(name).factory in _SENTENCE_FACTORIES and proc is not ner:
            needed = [n for n, p in nlp.pipeline[: i + 1] if p is not ner]
            return PipelineSplitter(nlp, needed, lock if lock is not None else nullcontext())
    return sentence_splitter(nlp.lang)


def split_sentences(
    items: Iterable[Mapping[str, Any]], splitter: Callable[[str], Doc], keep_spans: bool = True
) -> Iterator[dict[str, Any]]:
    """Yield one item per sentence; meta keeps the original's meta plus the sentence index.

    Sentences an incoming span runs across stay together, so no span the item carries is
    ever cut (an entity cut in two could never be proposed or accepted whole). With
    ``keep_spans`` (manual and correct, which show them), the spans go with the sentence that
    holds them, their offsets shifted; otherwise (teach, silver) they are dropped.
    """
    for item in items:
        text = item["text"]
        given = item.get("spans")
        spans = given if keep_spans else None
        doc = splitter(text)
        ranges = [(s.start_char, s.end_char) for s in doc.sents if s.text.strip()]
        ordered = sorted(given or (), key=lambda s: (s["start"], s["end"]))
        if ordered:
            ranges = _keep_spans_whole(ranges, ordered)
        if len(ranges) <= 1:
            out = {"text": text, "meta": dict(item.get("meta") or {})}
            if spans is not None:
                out["spans"] = [dict(s) for s in spans]
            yield out
            continue
        per_range = _spans_per_range(ranges, ordered) if spans is not None else None
        for i, (start, end) in enumerate(ranges):
            meta = dict(item.get("meta") or {})
            meta["sentence"] = i
            out = {"text": text[start:end], "meta": meta}
            if per_range is not None:
                out["spans"] = [
                    {**s, "start": s["start"] - start, "end": s["end"] - start}
                    for s in per_range[i]
                ]
            yield out


def _keep_spans_whole(
    ranges: list[tuple[int, int]], ordered: list[Mapping[str, Any]]
) -> list[tuple[int, int]]:
    """Sentence ranges with every boundary that falls inside a span removed. ``ordered``:
    spans sorted by start; one pass over both (a long document has thousands of each)."""
    out: list[tuple[int, int]] = []
    k, reach = 0, -1  # reach: the furthest end of the spans that start before this sentence
    for start, end in ranges:
        while k < len(ordered) and ordered[k]["start"] < start:
            reach = max(reach, ordered[k]["end"])
            k += 1
        if out and reach > out[-1][1]:  # a span starts before and ends after the boundary
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _spans_per_range(
    ranges: list[tuple[int, int]], ordered: list[Mapping[str, Any]]
) -> list[list[Mapping[str, Any]]]:
    """The spans inside each range (ranges in order, spans sorted by start), in one pass."""
    out: list[list[Mapping[str, Any]]] = [[] for _ in ranges]
    r = 0
    for span in ordered:
        while r < len(ranges) and span["start"] >= ranges[r][1]:
            r += 1
        if r == len(ranges):
            break
        if ranges[r][0] <= span["start"] and span["end"] <= ranges[r][1]:
            out[r].append(span)
    return out


def describe_item(item: Mapping[str, Any]) -> str:
    """Where an item comes from, for error messages: its line or row and how it starts."""
    meta = item.get("meta") or {}
    where = (
        f"line {meta['line']} of the source"
        if "line" in meta
        else f"row {meta['row']} of the source"
        if "row" in meta
        else "a text of the source"
    )
    text = item["text"]
    return f"{where} ({text[:40]!r}{'...' if len(text) > 40 else ''})"


def check_item(item: Mapping[str, Any], nlp: Language, labels: Sequence[str] | None = None) -> None:
    """Raise SourceError, naming the item and the fix, for an item the session cannot offer:
    a text longer than the model takes (spaCy's E088, deep in a thread, otherwise) or, with
    ``labels``, an incoming span of a label the session does not annotate."""
    text = item["text"]
    if len(text) > nlp.max_length:
        raise SourceError(
            f"{describe_item(item)}: the text has {len(text):,} characters, more than the model "
            f"analyses at once (nlp.max_length = {nlp.max_length:,}; spaCy's NER needs about "
            "1 GB of memory per 100,000 characters). Split it into shorter texts (e.g. "
            "paragraphs) in the source, or, if you have the memory, pass as model= a "
            "spacy.Language whose max_length you raised."
        )
    if labels is None:
        return
    for span in item.get("spans") or ():
        if span["label"] not in labels:
            raise SourceError(
                f"{describe_item(item)}: the span {text[span['start'] : span['end']]!r} has the "
                f"label {span['label']!r}, which is not among this session's labels "
                f"({', '.join(labels)}). Pass labels=[..., {span['label']!r}] to review such "
                f"spans, or remove them from the source."
            )


# A candidate's proposal: its score first, then whatever the caller keeps beside it.
_Scored = TypeVar("_Scored", bound=tuple[Any, ...])


def overlap_order(proposals: Mapping[TokenKey, _Scored]) -> list[tuple[TokenKey, _Scored]]:
    """Candidates in text order, but overlapping ones (a group of spans that share tokens,
    directly or through each other) most probable first: once one of them is accepted the
    others need no answer (entities do not overlap), so the likely accept comes first."""
    out: list[tuple[TokenKey, _Scored]] = []
    group: list[tuple[TokenKey, _Scored]] = []
    reach = -1
    for key, value in sorted(proposals.items()):
        if group and key[0] >= reach:
            out.extend(sorted(group, key=lambda kv: -kv[1][0]))  # stable: text order on ties
            group = []
        group.append((key, value))
        reach = max(reach, key[1]) if len(group) > 1 else key[1]
    out.extend(sorted(group, key=lambda kv: -kv[1][0]))
    return out


def _useful(doc: Doc, start: int, end: int) -> bool:
    """Drop candidates a person would never accept: punctuation- or space-only, space edges,
    and half a character (a token boundary inside an emoji sequence or a flag, say)."""
    span = doc[start:end]
    if span[0].is_space or span[-1].is_space:
        return False
    if splits_cluster(doc.text, span.start_char, span.end_char):
        return False
    return not all(t.is_punct or t.is_space for t in span)


def _whole_characters(doc: Doc, ents: Iterable[TokenKey]) -> bool:
    """True when no entity of an analysis starts or ends inside a grapheme cluster."""
    return not any(
        splits_cluster(doc.text, doc[s:e].start_char, doc[s:e].end_char) for s, e, _ in ents
    )


class CandidateScorer:
    """Turns batches of source items into tasks, one per candidate span.

    Not thread-safe: the caller holds the model lock around ``score`` (scoring while another
    thread updates the model can segfault; see the notes on threads).
    """

    def __init__(
        self,
        nlp: Language,
        labels: Iterable[str],
        *,
        beam_width: int = 16,
        beam_density: float = 0.0001,
        patterns: PatternMatcher | None = None,
        min_score: float = 0.0,
        whole: float | None = None,
        whole_alternatives: int = 1,
        whole_alternative_min: float = 0.05,
        complete: float | None = None,
    ) -> None:
        if beam_width < 1:
            raise ArgumentError(f"beam_width must be at least 1, got {beam_width}.")
        self.nlp = nlp
        self.ner = require_ner(nlp)
        self.labels = set(labels)
        self.beam_width = beam_width
        self.beam_density = beam_density
        self.patterns = patterns
        self.min_score = min_score
        # Until its first update, a freshly initialized NER proposes noise: offer only its best
        # candidate per text (beside every pattern match) so the first minutes are not spent
        # rejecting junk. The session clears this after the first update.
        self.untrained = is_fresh(nlp)
        # A whole analysis says "O" about every other token, so offer it only when the model
        # knows no label beyond the ones being annotated (entities of other labels set before
        # the NER: see best_analyses).
        model_labels = set(self.ner.labels) if self.ner is not None else set()
        self.whole = whole if model_labels <= self.labels else None
        self.whole_alternatives = whole_alternatives
        self.whole_alternative_min = whole_alternative_min
        # Completion questions say "O" about the rest of the text too: same condition.
        self.complete = complete if model_labels <= self.labels else None
        # Share of recent texts whose best analysis has an entity (moving average). A model
        # that finds almost nothing anywhere cannot be trusted to say "no entities here":
        # accepting its empty analyses would only teach it to find nothing (seen on WNUT17).
        self.finds_entities = 0.5

    def _beams(self, docs: list[Doc]) -> list[Any]:
        return self.ner.beam_parse(docs, beam_width=self.beam_width, beam_density=self.beam_density)

    def _span_scores(self, beams: list[Any]) -> list[dict[tuple[int, int, str], float]]:
        out = []
        for scores in self.ner.scored_ents(beams):
            out.append(
                {
                    k: min(1.0, float(v))
                    for k, v in scores.items()
                    if k[2] in self.labels and v > self.min_score
                }
            )
        return out

    def span_scores(self, docs: list[Doc]) -> list[dict[tuple[int, int, str], float]]:
        """Per doc, {(start_token, end_token, label): beam probability} for our labels."""
        if self.ner is None or not docs:
            return [{} for _ in docs]
        return self._span_scores(self._beams(docs))

    def best_analyses(
        self, beams: list[Any], k: int = 1
    ) -> list[list[tuple[float, tuple[tuple, ...]]]]:
        """Per beam, the ``k`` most probable sets of entities with their summed probability.

        Only analyses whose entities all have one of the scorer's labels: the beam starts from
        the entities a component before the NER (an entity_ruler, say) set on the doc, so every
        parse of such a text holds them; a whole analysis would then store that label, or, with
        the entity left out, claim its tokens are no entity. Such a text gets no analysis."""
        out = []
        labels = self.labels
        for beam in beams:
            totals: dict[tuple[tuple, ...], float] = {}
            for prob, ents in self.ner.moves.get_beam_parses(beam):
                key = tuple(sorted(tuple(e) for e in ents))
                if any(e[2] not in labels for e in key):
                    continue
                totals[key] = totals.get(key, 0.0) + float(prob)
            ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:k]
            out.append([(min(1.0, p), ents) for ents, p in ranked])
        return out

    def analyses(self, docs: list[Doc], k: int = 1) -> list[list[tuple[float, tuple[tuple, ...]]]]:
        """Per doc, the ``k`` most probable analyses (sets of entities of the scorer's labels)
        and their probability."""
        if self.ner is None or not docs:
            return [[] for _ in docs]
        return self.best_analyses(self._beams(docs), k)

    def score(self, items: list[Mapping[str, Any]], version: int = 0) -> list[list[Task]]:
        """One list of tasks per item, in the order of the item's text."""
        return [scored.tasks for scored in self.score_texts(items, version)]

    def score_texts(self, items: Sequence[Mapping[str, Any]], version: int = 0) -> list[ScoredText]:
        """Score a batch: per item its tasks and, for completion questions, its analyses."""
        for item in items:
            check_item(item, self.nlp)
        docs = upstream_docs(self.nlp, [item["text"] for item in items])
        if self.ner is None or not docs:
            return [ScoredText(item, [], version=version) for item in items]
        beams = self._beams(docs)
        all_scores = self._span_scores(beams)
        k = max(
            self.whole_alternatives if self.whole is not None else 0,
            self.beam_width if self.complete is not None else 0,
        )
        analyses = self.best_analyses(beams, k) if k else [[] for _ in docs]
        result = []
        for item, doc, scores, found in zip(items, docs, all_scores, analyses):
            # An analysis with half a character in an entity is never offered whole.
            found = [(p, ents) for p, ents in found if _whole_characters(doc, ents)]
            model_keys = sorted(scores, key=scores.__getitem__, reverse=True)
            if self.untrained:
                model_keys = [k for k in model_keys if _useful(doc, k[0], k[1])][:1]
            # (score, source, pattern id, whether the score is shown): ranking uses the score
            # always; only one from a model that has learnt, for a span it proposed, is shown.
            shown = not self.untrained
            proposals: dict[tuple[int, int, str], tuple[float, str, str | None, bool]] = {
                key: (scores[key], "model", None, shown) for key in model_keys
            }
            if self.patterns is not None:
                for match in self.patterns(doc):
                    key = (match.start, match.end, match.label)
                    score = scores.get(key, PATTERN_ONLY_SCORE)
                    proposals[key] = (score, "pattern", match.pattern_id, shown and key in scores)
            tokens = doc_tokens(doc)
            tasks = self._tasks(item, doc, tokens, proposals, version)
            # The best analysis if it is likely enough; then, if it is rejected, the next ones
            # the beam found (a boundary or label fixed), while they stay likely enough.
            analysis = found[: self.whole_alternatives] if self.whole is not None else []
            wholes = []
            if analysis:
                self.finds_entities += 0.02 * (bool(analysis[0][1]) - self.finds_entities)
            if analysis and not analysis[0][1] and not self.trusted_empty:
                analysis = []  # an empty analysis from a model that finds nothing: not asked
            if analysis and self.whole is not None and analysis[0][0] >= self.whole:
                wholes = [
                    self.whole_task(item, tokens, ents, prob, version, scores)
                    for i, (prob, ents) in enumerate(analysis)
                    if i == 0 or prob >= self.whole_alternative_min
                ]
            tasks[:0] = wholes
            result.append(
                ScoredText(item, tasks, tokens, found if self.complete is not None else [], version)
            )
        return result

    @property
    def trusted_empty(self) -> bool:
        """Whether the model finds entities often enough to be asked "no entities here?"."""
        return self.finds_entities >= MIN_FINDS_ENTITIES

    def completion_task(
        self,
        scored: ScoredText,
        accepted: Set[TokenKey],
        rejected: Set[TokenKey],
        wrong: Set[frozenset[TokenKey]],
    ) -> Task | None:
        """After a text's span questions: its most probable analysis that agrees with the
        answers, asked as a whole question ("are these all its entities?"), when that analysis
        holds at least ``complete`` of the probability of the analyses that agree. None when
        completion questions are off, nothing fits, or the fit is not likely enough."""
        if self.complete is None:
            return None
        found = consistent_analysis(scored.analyses, accepted, rejected, wrong)
        if found is None:
            return None
        share, prob, ents = found
        if share < self.complete or (not ents and not self.trusted_empty):
            return None
        return self.whole_task(
            scored.item,
            scored.tokens,
            ents,
            share,
            scored.version,
            {},
            completion=True,
            beam_probability=prob,
        )

    def whole_task(
        self,
        item: Mapping[str, Any],
        tokens: list[dict[str, Any]],
        ents: Iterable[TokenKey],
        prob: float,
        version: int,
        scores: Mapping[TokenKey, float],
        completion: bool = False,
        beam_probability: float | None = None,
    ) -> Task:
        """One question about a whole analysis: are these (or: no) entities all?"""
        shown = not self.untrained  # a model that never learnt: its probabilities mean nothing
        spans = []
        for start, end, label in ents:
            score = round(scores.get((start, end, label), prob), 6) if shown else None
            spans.append(
                {
                    "start": tokens[start]["start"],
                    "end": tokens[end - 1]["end"],
                    "token_start": start,
                    "token_end": end - 1,
                    "label": label,
                    "score": score,
                    "source": "model",
                }
            )
        meta = dict(item.get("meta") or {})
        meta.update(score=round(prob, 6) if shown else None, model_version=version, whole=True)
        if completion:  # asked after the text's span answers, and agreeing with them
            meta.update(completion=True, beam_probability=round(beam_probability or 0.0, 6))
        return make_task(item["text"], tokens, spans, meta)

    def _tasks(
        self,
        item: Mapping[str, Any],
        doc: Doc,
        tokens: list[dict[str, Any]],
        proposals: dict[tuple[int, int, str], tuple[float, str, str | None, bool]],
        version: int,
    ) -> list[Task]:
        text = item["text"]
        ih = input_hash(text)
        tasks = []
        for (start, end, label), (score, source, pid, shown) in overlap_order(proposals):
            if not _useful(doc, start, end):
                continue
            span = doc[start:end]
            span_json = {
                "start": span.start_char,
                "end": span.end_char,
                "token_start": start,
                "token_end": end - 1,
                "label": label,
                "score": round(score, 6) if shown else None,
                "source": source,
            }
            # Where a candidate came from is the span's "source": meta["source"] is the
            # user's (Prodigy's sample data uses it), only "score" follows Prodigy's teach.
            meta = dict(item.get("meta") or {})
            meta.update(score=round(score, 6) if shown else None, model_version=version)
            if pid is not None:
                meta["pattern"] = pid
            tasks.append(make_task(text, tokens, [span_json], meta, in_hash=ih))
        return tasks
