"""Candidates: score texts with a beam search and turn each (span, label) into one task.

A span's score is the summed probability of the beam parses that contain it (spaCy's
``scored_ents``). Pattern matches are added beside the model's candidates; a span proposed by
both is offered once, marked as a pattern match and carrying the model's score.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .models import find_ner, is_fresh, upstream_docs
from .patterns import PatternMatcher
from .tasks import Task, doc_tokens, input_hash, make_task

# Score given to a pattern match the model does not propose at all: maximally uncertain, so
# prefer_uncertain offers it; the annotator's answer then teaches the model.
PATTERN_ONLY_SCORE = 0.5
# Below this share of texts with an entity in their best analysis, empty analyses are not asked.
MIN_FINDS_ENTITIES = 0.1


def sentence_splitter(lang: str) -> Language:
    """A small rule-based splitter; independent of the model so scoring never waits on it."""
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp


def split_sentences(items: Iterable[Mapping[str, Any]], splitter: Language
                    ) -> Iterator[dict[str, Any]]:
    """Yield one item per sentence; meta keeps the original's meta plus the sentence index."""
    for item in items:
        text = item["text"]
        doc = splitter(text)
        sents = [s for s in doc.sents if s.text.strip()]
        if len(sents) <= 1:
            yield {"text": text, "meta": dict(item.get("meta") or {})}
            continue
        for i, sent in enumerate(sents):
            meta = dict(item.get("meta") or {})
            meta["sentence"] = i
            yield {"text": sent.text, "meta": meta}


def _useful(doc: Doc, start: int, end: int) -> bool:
    """Drop candidates a person would never accept: punctuation- or space-only, space edges."""
    span = doc[start:end]
    if span[0].is_space or span[-1].is_space:
        return False
    return not all(t.is_punct or t.is_space for t in span)


class CandidateScorer:
    """Turns batches of source items into tasks, one per candidate span.

    Not thread-safe: the caller holds the model lock around ``score`` (scoring while another
    thread updates the model can segfault; see the notes on threads).
    """

    def __init__(self, nlp: Language, labels: Iterable[str], *, beam_width: int = 16,
                 beam_density: float = 0.0001, patterns: PatternMatcher | None = None,
                 min_score: float = 0.0, whole: float | None = None,
                 whole_alternatives: int = 1, whole_alternative_min: float = 0.05) -> None:
        if beam_width < 1:
            raise ValueError(f"beam_width must be at least 1, got {beam_width}.")
        self.nlp = nlp
        self.ner = find_ner(nlp)
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
        # knows no label beyond the ones being annotated.
        model_labels = set(self.ner.labels) if self.ner is not None else set()
        self.whole = whole if model_labels <= self.labels else None
        self.whole_alternatives = whole_alternatives
        self.whole_alternative_min = whole_alternative_min
        # Share of recent texts whose best analysis has an entity (moving average). A model
        # that finds almost nothing anywhere cannot be trusted to say "no entities here":
        # accepting its empty analyses would only teach it to find nothing (seen on WNUT17).
        self.finds_entities = 0.5

    def _beams(self, docs: list[Doc]) -> list[Any]:
        return self.ner.beam_parse(docs, beam_width=self.beam_width,
                                   beam_density=self.beam_density)

    def _span_scores(self, beams: list[Any]) -> list[dict[tuple[int, int, str], float]]:
        out = []
        for scores in self.ner.scored_ents(beams):
            out.append({k: min(1.0, float(v)) for k, v in scores.items()
                        if k[2] in self.labels and v > self.min_score})
        return out

    def span_scores(self, docs: list[Doc]) -> list[dict[tuple[int, int, str], float]]:
        """Per doc, {(start_token, end_token, label): beam probability} for our labels."""
        if self.ner is None or not docs:
            return [{} for _ in docs]
        return self._span_scores(self._beams(docs))

    def best_analyses(self, beams: list[Any], k: int = 1
                      ) -> list[list[tuple[float, tuple[tuple, ...]]]]:
        """Per beam, the ``k`` most probable sets of entities with their summed probability."""
        out = []
        for beam in beams:
            totals: dict[tuple[tuple, ...], float] = {}
            for prob, ents in self.ner.moves.get_beam_parses(beam):
                key = tuple(sorted(tuple(e) for e in ents))
                totals[key] = totals.get(key, 0.0) + float(prob)
            ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:k]
            out.append([(min(1.0, p), ents) for ents, p in ranked])
        return out

    def analyses(self, docs: list[Doc], k: int = 1
                 ) -> list[list[tuple[float, tuple[tuple, ...]]]]:
        """Per doc, the ``k`` most probable analyses (sets of entities) and their probability."""
        if self.ner is None or not docs:
            return [[] for _ in docs]
        return self.best_analyses(self._beams(docs), k)

    def score(self, items: list[Mapping[str, Any]], version: int = 0) -> list[list[Task]]:
        """One list of tasks per item, in the order of the item's text."""
        docs = upstream_docs(self.nlp, [item["text"] for item in items])
        if self.ner is None or not docs:
            return [[] for _ in items]
        beams = self._beams(docs)
        all_scores = self._span_scores(beams)
        analyses = (self.best_analyses(beams, self.whole_alternatives) if self.whole is not None
                    else [[] for _ in docs])
        result = []
        for item, doc, scores, analysis in zip(items, docs, all_scores, analyses):
            model_keys = sorted(scores, key=scores.__getitem__, reverse=True)
            if self.untrained:
                model_keys = [k for k in model_keys if _useful(doc, k[0], k[1])][:1]
            proposals: dict[tuple[int, int, str], tuple[float, str, str | None]] = {
                key: (scores[key], "model", None) for key in model_keys
            }
            if self.patterns is not None:
                for match in self.patterns(doc):
                    key = (match.start, match.end, match.label)
                    score = scores.get(key, PATTERN_ONLY_SCORE)
                    proposals[key] = (score, "pattern", match.pattern_id)
            tasks = self._tasks(item, doc, proposals, version)
            # The best analysis if it is likely enough; then, if it is rejected, the next ones
            # the beam found (a boundary or label fixed), while they stay likely enough.
            wholes = []
            if analysis:
                self.finds_entities += 0.02 * (bool(analysis[0][1]) - self.finds_entities)
            if analysis and not analysis[0][1] and self.finds_entities < MIN_FINDS_ENTITIES:
                analysis = []  # an empty analysis from a model that finds nothing: not asked
            if analysis and analysis[0][0] >= self.whole:
                wholes = [self._whole_task(item, doc, a, scores, version) for i, a in
                          enumerate(analysis) if i == 0 or a[0] >= self.whole_alternative_min]
            tasks[:0] = wholes
            result.append(tasks)
        return result

    def _whole_task(self, item: Mapping[str, Any], doc: Doc,
                    analysis: tuple[float, tuple[tuple, ...]],
                    scores: dict[tuple[int, int, str], float], version: int) -> Task:
        """One question for the model's best analysis: are these (or: no) entities all?"""
        prob, ents = analysis
        spans = []
        for start, end, label in ents:
            span = doc[start:end]
            spans.append({"start": span.start_char, "end": span.end_char, "token_start": start,
                          "token_end": end - 1, "label": label,
                          "score": round(scores.get((start, end, label), prob), 6),
                          "source": "model"})
        meta = dict(item.get("meta") or {})
        meta.update(score=round(prob, 6), source="model", model_version=version, whole=True)
        return make_task(item["text"], doc_tokens(doc), spans, meta)

    def _tasks(self, item: Mapping[str, Any], doc: Doc,
               proposals: dict[tuple[int, int, str], tuple[float, str, str | None]],
               version: int) -> list[Task]:
        text = item["text"]
        ih = input_hash(text)
        tokens = doc_tokens(doc)
        tasks = []
        for (start, end, label), (score, source, pid) in sorted(proposals.items()):
            if not _useful(doc, start, end):
                continue
            span = doc[start:end]
            span_json = {"start": span.start_char, "end": span.end_char, "token_start": start,
                         "token_end": end - 1, "label": label, "score": round(score, 6),
                         "source": source}
            meta = dict(item.get("meta") or {})
            meta.update(score=round(score, 6), source=source, model_version=version)
            if pid is not None:
                meta["pattern"] = pid
            tasks.append(make_task(text, tokens, [span_json], meta, in_hash=ih))
        return tasks
