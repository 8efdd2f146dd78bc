"""Silver annotations: a model's confident whole analyses, stored for training beside answers.

A text whose most probable analysis (all its entities, or none) has at least ``threshold`` of the
beam's probability becomes one complete annotation, marked ``meta["silver"] = True`` so that
training ranks it below any person's answer on the same text (see ``examples``). It costs no
annotation time: ``train()`` on seed gold + binary answers + silver from the starting model
scored higher on BTC than without (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from spacy.language import Language

from .candidates import CandidateScorer
from .models import require_ner, upstream_docs
from .tasks import VIEW_MANUAL, Task, doc_tokens, make_task, span_dict


@dataclass
class SilverStats:
    texts: int = 0  # texts analysed
    kept: int = 0  # analyses at or above the threshold
    with_entities: int = 0  # kept analyses with at least one entity

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def silver_tasks(
    nlp: Language,
    items: Iterable[Mapping[str, Any]],
    threshold: float = 0.9,
    *,
    beam_width: int = 16,
    batch_size: int = 64,
    stats: SilverStats | None = None,
) -> Iterator[Task]:
    """One complete ``ner_manual`` task per item whose best analysis reaches ``threshold``.

    A text on which a component before the NER (an entity_ruler) set an entity of a label the
    NER does not know gets none: stored, train() would learn that label from it.

    ``nlp`` has a trained NER and ``threshold`` is in (0, 1]: ``recipes.silver`` checks both
    where the user passed them, before anything is stored."""
    stats = stats if stats is not None else SilverStats()
    scorer = CandidateScorer(nlp, list(require_ner(nlp).labels), beam_width=beam_width)
    batch: list[Mapping[str, Any]] = []

    def flush() -> Iterator[Task]:
        docs = upstream_docs(nlp, [item["text"] for item in batch])
        analyses = scorer.analyses(docs, 1)
        for item, doc, best in zip(batch, docs, analyses):
            stats.texts += 1
            if not best or best[0][0] < threshold:
                continue
            prob, ents = best[0]
            spans = [span_dict(doc[start:end], label) for start, end, label in ents]
            stats.kept += 1
            stats.with_entities += bool(spans)
            meta = dict(item.get("meta") or {})
            meta.update(silver=True, score=round(prob, 6))
            yield make_task(item["text"], doc_tokens(doc), spans, meta, view_id=VIEW_MANUAL)
        batch.clear()

    for item in items:
        batch.append(item)
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()
