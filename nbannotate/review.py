"""Review: the annotators' versions of each text side by side; the reviewer picks one, or edits
the spans, and the result is stored as the text's gold annotation (Prodigy's ``review``).

A *version* is what one annotator said about one text: a complete annotation (manual, correct,
an accepted whole analysis), the spans they accepted and rejected in binary answers (teach), or
a rejected text. Annotators with the same version share it. A text whose versions differ is a
conflict, one where two or more annotators gave the same version is agreed.

:class:`ReviewSession` is a :class:`~nbannotate.manual.ManualSession` over the texts to review:
each task carries its ``versions``, the widget shows them above the text (keys 1-9 load one
into the editor), and an answer is stored like a manual one (view ``ner_manual``, all spans,
kind gold) with ``meta["review"]`` naming the versions it came from and which was chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from .base_session import snap_spans
from .errors import AnswerError, ArgumentError, DatasetError
from .examples import merge_answers
from .manual import ManualSession
from .models import ModelLike, load_language, normalize_labels
from .recipes import _check_dataset, _opened, _take_over
from .sources import Source
from .store import Database, Dataset
from .tasks import VIEW_MANUAL, Task, check_answer, doc_tokens, make_task

SpanKey = tuple[int, int, str]

#: Version kinds: a complete annotation, binary answers about spans, a rejected text.
COMPLETE, BINARY, REJECTED = "complete", "binary", "rejected"


@dataclass
class Origin:
    """Where one annotator's version of a text comes from, in one dataset."""

    annotator: str
    dataset: str
    task_hashes: list[int] = field(default_factory=list)
    timestamp: int | None = None  # of the latest answer


@dataclass
class Version:
    """One distinct version of a text, with the annotators who gave it."""

    kind: str
    spans: tuple[SpanKey, ...]  # the complete analysis, or the accepted spans
    rejected: tuple[SpanKey, ...] = ()  # spans rejected in binary answers
    origins: list[Origin] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, tuple[SpanKey, ...], tuple[SpanKey, ...]]:
        return (self.kind, self.spans, self.rejected)

    @property
    def annotators(self) -> list[str]:
        return list(dict.fromkeys(o.annotator for o in self.origins))

    @property
    def timestamp(self) -> int | None:
        stamps = [o.timestamp for o in self.origins if o.timestamp is not None]
        return max(stamps) if stamps else None


@dataclass
class TextVersions:
    """The versions of one text, the one most annotators gave first."""

    text: str
    input_hash: int
    versions: list[Version]
    meta: dict[str, Any] = field(default_factory=dict)  # the text's own, from its first answer

    @property
    def annotators(self) -> list[str]:
        return [a for v in self.versions for a in v.annotators]

    @property
    def conflict(self) -> bool:
        return len(self.versions) > 1

    @property
    def agreed(self) -> bool:
        return len(self.versions) == 1 and len(self.annotators) > 1


def annotator_of(task: Mapping[str, Any], dataset: str) -> str:
    """Who gave an answer: its ``_annotator_id``, else the dataset's name."""
    name = task.get("_annotator_id")
    return str(name) if name else dataset


def load_versions(
    db: Database, datasets: Sequence[str], labels: Sequence[str] | None = None
) -> dict[int, TextVersions]:
    """Each text's versions per annotator over ``datasets`` (texts in the order first seen).

    Ignored answers and silver analyses (a model's, not a person's) give no version; with
    ``labels`` only spans of those labels count. One annotator's answers on a text merge as
    train() merges them (the latest answer about a span wins, an accepted complete annotation
    makes the version complete)."""
    keep = set(labels) if labels else None
    texts: dict[int, tuple[str, dict[str, Any]]] = {}  # in the datasets' order
    rows: list[tuple[str, str, dict[str, Any]]] = []  # (dataset, annotator, answer)
    for name in datasets:
        for task in db.dataset(name).answers():
            texts.setdefault(int(task["_input_hash"]), (task["text"], _text_meta(task)))
            if not (task.get("meta") or {}).get("silver"):
                rows.append((name, annotator_of(task, name), task))
    rows.sort(key=lambda r: r[2].get("_timestamp") or 0)  # stable: insertion order on ties
    # annotator -> input hash -> (dataset, answer), oldest first
    mine: dict[str, dict[int, list[tuple[str, dict[str, Any]]]]] = {}
    for name, who, task in rows:
        mine.setdefault(who, {}).setdefault(int(task["_input_hash"]), []).append((name, task))
    per_text: dict[int, dict[tuple[Any, ...], Version]] = {}
    for who, by_text in mine.items():
        for ih, answers in by_text.items():
            version = _version([t for _, t in answers], keep)
            if version is not None:
                shared = per_text.setdefault(ih, {}).setdefault(version.key, version)
                shared.origins.extend(_origins(who, answers))
    first_seen = {who: i for i, who in enumerate(mine)}
    out: dict[int, TextVersions] = {}
    for ih, (text, meta) in texts.items():
        if ih in per_text:
            ordered = sorted(
                per_text[ih].values(),
                key=lambda v: (-len(v.annotators), min(first_seen[a] for a in v.annotators)),
            )
            out[ih] = TextVersions(text, ih, ordered, meta)
    return out


# Meta keys about the question an annotator was asked, not about the text.
_QUESTION_META = {"score", "whole", "completion", "beam_probability", "model_version", "pattern"}


def _text_meta(task: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (task.get("meta") or {}).items() if k not in _QUESTION_META}


def _version(tasks: list[dict[str, Any]], keep: set[str] | None) -> Version | None:
    """One annotator's version of one text from their answers on it (oldest first)."""

    def kept(spans: Any) -> tuple[SpanKey, ...]:
        return tuple(sorted(s for s in spans if keep is None or s[2] in keep))

    merged = merge_answers(tasks)
    if not merged:  # only ignored answers
        return None
    (item,) = merged
    if item.gold is not None:
        return Version(COMPLETE, kept(item.gold))
    accepted, rejected = kept(item.accept), kept(item.reject)
    if accepted or rejected:
        return Version(BINARY, accepted, rejected)
    # A manual or correct reject: the annotator found the text unfit to annotate.
    if any(t.get("_view_id") == VIEW_MANUAL and t.get("answer") == "reject" for t in tasks):
        return Version(REJECTED, ())
    return None


def _origins(who: str, answers: list[tuple[str, dict[str, Any]]]) -> list[Origin]:
    """Where one annotator's version of a text comes from, per dataset."""
    out: dict[str, Origin] = {}
    for name, task in answers:
        if task.get("answer") not in ("accept", "reject"):
            continue
        origin = out.setdefault(name, Origin(who, name))
        origin.task_hashes.append(int(task["_task_hash"]))
        stamp = task.get("_timestamp")
        if isinstance(stamp, (int, float)):
            origin.timestamp = max(origin.timestamp or 0, int(stamp))
    return list(out.values())


def _when(stamp: int | None) -> str:
    if stamp is None:
        return ""
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def snap_lenient(doc: Doc, spans: Sequence[SpanKey]) -> list[dict[str, Any]]:
    """A version's spans snapped to ``doc``'s tokens, as the editor shows them; spans that
    cover no token, or overlap one kept before, are left out (binary answers may accept
    overlapping spans; an entity annotation cannot hold both)."""
    out: list[dict[str, Any]] = []
    for start, end, label in spans:
        try:
            out += snap_spans(
                doc, [{"start": start, "end": end, "label": label}], [label], ValueError
            )
        except ValueError:
            continue
        new = out[-1]
        if any(
            new["token_start"] <= o["token_end"] and o["token_start"] <= new["token_end"]
            for o in out[:-1]
        ):
            out.pop()
    return sorted(out, key=lambda s: s["start"])


def provenance(tv: TextVersions, chosen: int | str | None) -> dict[str, Any]:
    """``meta["review"]`` of a reviewed text: every annotator's version (its number on the
    card, annotator, dataset, task hashes) and the version chosen (a number, or "edited")."""
    return {
        "versions": [
            {
                "version": n,
                "annotator": o.annotator,
                "dataset": o.dataset,
                "task_hashes": list(o.task_hashes),
                "kind": v.kind,
            }
            for n, v in enumerate(tv.versions, 1)
            for o in v.origins
        ],
        "chosen": chosen,
    }


class ReviewSession(ManualSession):
    """Review of the annotators' versions, one text a task; create it with ``nbannotate.review``.

    Headless: ``task = session.next_task()``; ``task["versions"]`` lists the versions (number
    ``n``, annotators, when, spans, rejected spans); ``session.pick(task, n)`` stores version
    ``n``, ``session.answer(task, "accept", spans=[...])`` stores edited spans (checked and
    snapped to tokens as in manual). ``undo``, ``change_answer``, ``history`` and ``progress``
    work as in the manual session; ``summary`` counts the texts found.
    """

    view_mode = "review"

    def __init__(
        self,
        *,
        dataset: Dataset,
        texts: list[TextVersions],
        nlp: Language,
        labels: list[str],
        annotator: str | None = None,
        summary: dict[str, int] | None = None,
    ) -> None:
        source = Source([{"text": tv.text} for tv in texts])
        super().__init__(
            dataset=dataset, source=source, nlp=nlp, labels=labels, split=False, annotator=annotator
        )
        self._texts = {tv.input_hash: tv for tv in texts}
        self.summary: dict[str, int] = dict(summary or {})
        if not texts:  # nothing to review: done at once (an empty source would be an error)
            self._exhausted = True

    def next_task(self, timeout: float | None = None) -> Task | None:
        """The next text to review (see ManualSession.next_task), or None when all are done;
        texts reviewed in ``output_dataset`` already are skipped."""
        if not self._texts:  # nothing was handed out, so nothing can come back
            self._check_open()
            return None
        return super().next_task(timeout)

    # -- tasks ------------------------------------------------------------------------------
    def _views(self, tv: TextVersions) -> list[dict[str, Any]]:
        """The versions as the card shows them (JSON-safe)."""
        doc = self.nlp.make_doc(tv.text)
        return [
            {
                "n": n,
                "kind": v.kind,
                "annotators": v.annotators,
                "datasets": list(dict.fromkeys(o.dataset for o in v.origins)),
                "when": _when(v.timestamp),
                "spans": snap_lenient(doc, v.spans),
                "rejected": [{"start": s, "end": e, "label": lb} for s, e, lb in v.rejected],
            }
            for n, v in enumerate(tv.versions, 1)
        ]

    def _task(self, item: Mapping[str, Any]) -> Task:
        task = super()._task(item)
        return self._with_versions(task)

    def _with_versions(self, task: Task) -> Task:
        tv = self._texts[task["_input_hash"]]
        task["meta"] = dict(tv.meta)  # the text's meta, not its row in the review
        task["versions"] = self._views(tv)
        # The editor starts from version 1 (the one most annotators gave): 1 then a, or a.
        first = tv.versions[0]
        task["spans"] = [] if first.kind == REJECTED else task["versions"][0]["spans"]
        return task

    def _reoffer(self, task: Task) -> Task:
        task = super()._reoffer(task)
        if task["_input_hash"] in self._texts:  # meta without the answer's "review"
            spans = task.get("spans") or []
            task = self._with_versions(task)
            task["spans"] = spans  # offered again with the spans it was answered with
        return task

    # -- answers ----------------------------------------------------------------------------
    def chosen(
        self, task: Mapping[str, Any], answer: str, spans: Sequence[Mapping[str, Any]]
    ) -> int | str | None:
        """The number of the version an answer takes, else "edited": for an accept, the
        version (complete or binary, as the card shows it) whose spans are exactly these; for
        a reject, a version that rejected the text. None for an ignore."""
        views = self._views(self._texts[task["_input_hash"]])
        if answer == "ignore":
            return None
        if answer == "reject":
            return next((v["n"] for v in views if v["kind"] == REJECTED), "edited")
        mine = {(s["start"], s["end"], s["label"]) for s in spans}
        return next(
            (
                v["n"]
                for v in views
                if v["kind"] != REJECTED
                and mine == {(s["start"], s["end"], s["label"]) for s in v["spans"]}
            ),
            "edited",
        )

    def answer(
        self,
        task: Mapping[str, Any] | int,
        answer: str,
        spans: Sequence[Mapping[str, Any]] | None = None,
        *,
        actions: int | Mapping[str, int] | None = None,
    ) -> Task:
        """Store the reviewed annotation of a text: its ``spans`` as edited (default: the
        task's own), with ``meta["review"]`` (the versions, and the one chosen or "edited").
        Otherwise as :meth:`ManualSession.answer` (``actions`` too)."""
        self._check_open()
        check_answer(answer)
        resolved = self._resolve(task)
        tv = self._texts.get(resolved["_input_hash"])
        if tv is None:
            raise AnswerError("This task is not a text of this review. Nothing was stored.")
        final = self.check_spans(resolved, resolved["spans"] if spans is None else spans)
        meta = dict(resolved.get("meta") or {})
        meta["review"] = provenance(tv, self.chosen(resolved, answer, final))
        resolved["meta"] = meta
        return super().answer(resolved, answer, spans=final, actions=actions)

    def pick(self, task: Mapping[str, Any] | int, n: int) -> Task:
        """Store version ``n`` (1 = the first on the card) as the text's annotation (accept;
        a version that rejected the text is stored as a reject). Returns the stored task."""
        resolved = self._resolve(task)
        tv = self._texts.get(resolved["_input_hash"])
        if tv is None:
            raise AnswerError("This task is not a text of this review. Nothing was stored.")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(tv.versions):
            raise AnswerError(f"No version {n!r}: this text has versions 1 to {len(tv.versions)}.")
        view = self._views(tv)[n - 1]
        if view["kind"] == REJECTED:
            return self.answer(resolved, "reject", spans=[])
        return self.answer(resolved, "accept", spans=view["spans"])

    def _history_row(self, task: Task) -> dict[str, Any]:
        row = super()._history_row(task)
        row["review"] = (task.get("meta") or {}).get("review", {}).get("chosen")
        return row

    @property
    def progress(self) -> dict[str, Any]:
        """As the manual session's, plus ``review``: the counts of ``summary`` and
        ``reviewed``, how many of this review's texts the output dataset holds now (by this
        session or another one on it)."""
        out = super().progress
        reviewed = sum(self._index.has_gold(ih) for ih in self._texts)
        out["review"] = {**self.summary, "reviewed": reviewed}
        return out


def _names(datasets: Any) -> list[str]:
    names = [datasets] if isinstance(datasets, str) else list(datasets or [])
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ArgumentError(
            f"datasets must be a dataset name or a list of names, got {datasets!r}."
        )
    for name in names:
        _check_dataset(name)
    return list(dict.fromkeys(names))


def _check_output(db: Database, output: str, names: list[str]) -> None:
    """Refuse an output dataset that is reviewed, or holds answers that are not complete
    annotations (binary or whole-analysis answers from teach)."""
    if output in names:
        raise ArgumentError(
            f"output_dataset {output!r} is also a dataset under review: the reviewed "
            f"annotations go to a dataset of their own, e.g. {output + '_reviewed'!r}."
        )
    if output not in db:
        return
    other = [t for t in db.dataset(output).answers() if t.get("_view_id") != VIEW_MANUAL]
    if other:
        raise DatasetError(
            f"output_dataset {output!r} already holds {len(other)} answers that are not "
            f"complete annotations (binary or whole-analysis answers, e.g. from teach): "
            f"reviewed annotations would be mixed with them. Use a new dataset name."
        )


def _check_labels(
    all_texts: dict[int, TextVersions], wanted: list[str], names: list[str]
) -> list[str]:
    present: dict[str, None] = {}
    for tv in all_texts.values():
        for v in tv.versions:
            for s in (*v.spans, *v.rejected):
                present[s[2]] = None
    if not wanted:
        if not present:
            raise ArgumentError(
                f"No span in {', '.join(map(repr, names))}: pass labels=[...] to review "
                f"these texts with."
            )
        return sorted(present)
    missing = [lb for lb in wanted if lb not in present]
    if missing:
        raise ArgumentError(
            f"Label(s) {', '.join(map(repr, missing))} appear in no answer of "
            f"{', '.join(map(repr, names))} (their labels: "
            f"{', '.join(sorted(present)) or 'none'}). Labels are case-sensitive: check labels=."
        )
    return wanted


def review(
    datasets: str | Sequence[str],
    output_dataset: str,
    db: Database | str | Path | None = None,
    labels: list[str] | str | None = None,
    only_conflicts: bool = True,
    auto_accept_agreed: bool = False,
    annotator: str | None = None,
    *,
    model: ModelLike | None = None,
) -> ReviewSession:
    """Review the annotators' versions of each text and store the result as gold (Prodigy's
    ``review``).

    datasets: one dataset (annotators told apart by their answers' ``annotator``) or a list
        (each dataset one annotator, unless its answers name annotators; answers without an
        annotator are the dataset's).
    output_dataset: where the reviewed annotations go (created if new): complete annotations
        (view ``ner_manual``, kind gold) with ``meta["review"]``. Texts already in it are
        skipped, so running the cell again resumes. It may not hold binary answers.
    db: a Database or a path (default $NBANNOTATE_DB, else ./nbannotate.duckdb).
    labels: the labels to review (default: every label in the answers); spans of other
        labels are left out of the versions and of the result.
    only_conflicts: review only texts whose versions differ (False: every text, also those
        one annotator annotated or all agree on).
    auto_accept_agreed: store at once, without a card, the texts every annotator (two or
        more) annotated completely and identically.
    annotator: the reviewer's name, stored with each reviewed annotation.
    model: only its tokenizer is used (default blank English): spans snap to its tokens.

    Raises (nothing stored) DatasetError for an unknown dataset or an output dataset with
    binary answers, ArgumentError when the answers have fewer than two annotators or a label
    asked for is in no answer. Displaying the returned session shows the review widget.
    """
    names = _names(datasets)
    _check_dataset(output_dataset)
    if not isinstance(only_conflicts, bool) or not isinstance(auto_accept_agreed, bool):
        raise ArgumentError("only_conflicts and auto_accept_agreed must be True or False.")
    wanted = normalize_labels(labels)
    nlp = load_language(model if model is not None else "blank:en")
    with _opened(db) as (database, owned):
        for name in names:
            database.dataset(name)  # DatasetError naming the known datasets
        _check_output(database, output_dataset, names)
        texts = load_versions(database, names, wanted or None)
        annotators = list(dict.fromkeys(a for tv in texts.values() for a in tv.annotators))
        if len(annotators) < 2:
            who = f"only {annotators[0]!r}" if annotators else "none"
            raise ArgumentError(
                f"Nothing to compare: the answers in {', '.join(map(repr, names))} have one "
                f"annotator ({who}; answers without an annotator count as their dataset's). "
                f"Pass the datasets of two or more annotators, e.g. review(['ner_alice', "
                f"'ner_bob'], ...), or one dataset whose answers name their annotators."
            )
        wanted = _check_labels(texts, wanted, names)
        ds = database.dataset(output_dataset, create=True)
        done = ds.answer_index()
        summary = {
            "texts": len(texts),
            "conflicts": sum(tv.conflict for tv in texts.values()),
            "agreed": sum(tv.agreed for tv in texts.values()),
            "single_annotator": sum(len(tv.annotators) == 1 for tv in texts.values()),
            "already_reviewed": sum(done.has_gold(ih) for ih in texts),
            "auto_accepted": 0,
        }
        todo = [tv for tv in texts.values() if not done.has_gold(tv.input_hash)]
        if auto_accept_agreed:
            agreed = [tv for tv in todo if tv.agreed and tv.versions[0].kind == COMPLETE]
            summary["auto_accepted"] = _store_agreed(ds, nlp, wanted, agreed, annotator)
            todo = [tv for tv in todo if not (tv.agreed and tv.versions[0].kind == COMPLETE)]
        if only_conflicts:
            todo = [tv for tv in todo if tv.conflict]
        summary["to_review"] = len(todo)
        session = ReviewSession(
            dataset=ds,
            texts=todo,
            nlp=nlp,
            labels=wanted,
            annotator=annotator,
            summary=summary,
        )
        session.owns_db = owned
        _take_over(session, "review")
    return session


def _store_agreed(
    ds: Dataset,
    nlp: Language,
    labels: list[str],
    texts: list[TextVersions],
    annotator: str | None,
) -> int:
    """Store the agreed complete versions as reviewed annotations, in one transaction."""
    tasks = []
    for tv in texts:
        doc = nlp.make_doc(tv.text)
        spans = snap_lenient(doc, [s for s in tv.versions[0].spans if s[2] in labels])
        meta = {"review": {**provenance(tv, 1), "auto": True}}
        tasks.append(make_task(tv.text, doc_tokens(doc), spans, meta, view_id=VIEW_MANUAL))
    ds.add_many(tasks, answer="accept", annotator=annotator)
    return len(tasks)
