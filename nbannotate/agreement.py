"""Inter-annotator agreement over stored answers: ``nba.agreement()``, and ``versions()``, each
annotator's version of every text.

::

    result = nba.agreement(["gadgets_alice", "gadgets_bob"], db="gadgets.duckdb")
    result            # in a notebook: the summary tables
    result.gold       # span F1 of every pair of annotators, per label and overall
    result.binary     # percent agreement and Cohen's kappa of every pair, per label and overall

Annotators are told apart by the answers' annotator (``annotator=`` of a session, Prodigy's
``_annotator_id``); an answer without one counts as its dataset's, so one dataset per annotator
works too. The latest answer of an annotator on a question is the one compared.
"""

from __future__ import annotations

import html
import itertools
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from .errors import ArgumentError, DatasetError, StoreError
from .store import MEMORY, Database, database_path, store_exists
from .tasks import ANSWERS, is_gold, span_key

if TYPE_CHECKING:
    import pandas as pd

#: The ``label`` of the rows that count every label together (micro-averaged).
ALL = "(all)"
DECIDED = ("accept", "reject")

SpanKey = tuple[int, int, str]
#: A question: its task hash and the (start, end, label) of the spans it asks about.
Question = tuple[int, tuple[SpanKey, ...]]


@dataclass(frozen=True)
class Version:
    """One annotator's latest answer on one text (``kind="gold"``: the text's complete
    annotation) or on one question about it (``kind="binary"``: a span accepted or rejected).

    A ``gold`` version is the annotator's latest accepted complete annotation of the text
    (manual, correct, or an accepted whole analysis in teach), else their latest other answer
    on one (a rejected whole analysis, a text rejected or skipped in manual): ``complete`` says
    which. ``spans`` are the spans annotated (gold) or asked about (binary), of the labels
    asked for; ``tasks`` every answer the annotator stored on that question, oldest first (the
    last one is this version's).
    """

    annotator: str
    dataset: str
    input_hash: int
    task_hash: int
    text: str
    kind: Literal["gold", "binary"]
    answer: str
    spans: tuple[dict[str, Any], ...]
    label: str | None  # binary: the label asked about (None when the spans' labels differ)
    timestamp: datetime
    tasks: tuple[dict[str, Any], ...]

    @property
    def complete(self) -> bool:
        """True for a complete annotation: an accepted gold answer."""
        return self.kind == "gold" and self.answer == "accept"

    @cached_property
    def question(self) -> Question:
        """What was asked: the task hash and the spans' (start, end, label)."""
        return (self.task_hash, tuple(sorted(span_key(s) for s in self.spans)))

    @cached_property
    def span_keys(self) -> frozenset[SpanKey]:
        """The spans as (start, end, label): what an exact match compares."""
        return frozenset(span_key(s) for s in self.spans)


# -- reading ------------------------------------------------------------------------------


def _open(db: Database | str | os.PathLike[str] | None) -> tuple[Database, bool]:
    """The database to read, and whether it was opened here (and is closed after). Reading
    never creates a database: a missing file is an error, not an empty store."""
    if db is None or isinstance(db, (str, os.PathLike)):
        path = database_path(db)
        if path == MEMORY:
            raise StoreError(
                "db=':memory:' would open a new, empty in-memory database. Pass the Database "
                "object that holds the answers instead (db=database)."
            )
        if not store_exists(path):
            given = "the default database" if db is None else f"db={os.fspath(db)!r}"
            raise StoreError(
                f"No database at {path!r} ({given}). Agreement only reads answers and does "
                f"not create a database: pass the path the sessions wrote to (their db=), or "
                f"the Database object itself."
            )
        return Database(path), True
    if isinstance(db, Database):
        return db, False
    raise ArgumentError(f"db must be a Database, a database path or None, not {type(db).__name__}.")


def _names(datasets: str | Sequence[str]) -> list[str]:
    names = [datasets] if isinstance(datasets, str) else datasets
    if (
        not isinstance(names, (list, tuple))
        or not names
        or not all(isinstance(n, str) and n for n in names)
    ):
        raise ArgumentError(
            f"datasets must be a dataset name or a list of names, e.g. 'gadgets' or "
            f"['gadgets_alice', 'gadgets_bob'], got {datasets!r:.80}."
        )
    return list(dict.fromkeys(names))


def _labels(labels: str | Iterable[str] | None) -> list[str] | None:
    if labels is None:
        return None
    wanted = [labels] if isinstance(labels, str) else labels
    try:
        out = list(dict.fromkeys(wanted))
    except TypeError:
        out = []
    if not out or not all(isinstance(lb, str) and lb for lb in out):
        raise ArgumentError(
            f"labels must be a label or a list of labels, e.g. ['PRODUCT'], got {labels!r:.80}."
        )
    return out


@dataclass(frozen=True)
class _Answer:
    """One stored answer, as read: who, from which dataset, in which order."""

    annotator: str
    dataset: str
    order: int
    task: dict[str, Any]

    @property
    def sort_key(self) -> tuple[float, int]:
        return (_seconds(self.task), self.order)


def _read(db: Database, names: list[str]) -> list[_Answer]:
    """Every answer of the datasets; the dataset name stands in for a missing annotator."""
    sets = [db.dataset(name) for name in names]  # DatasetError naming the known ones
    out: list[_Answer] = []
    for ds in sets:
        for task in ds.answers():
            who = task.get("_annotator_id")
            who = ds.name if who is None or who == "" else str(who)
            out.append(_Answer(who, ds.name, len(out), task))
    return out


def _units(task: Mapping[str, Any]) -> list[tuple[tuple[dict[str, Any], ...], str | None, str]]:
    """The binary questions one stored binary answer answers: (spans, label, answer). A
    Prodigy export may answer each span of a task on its own (``span["answer"]``)."""
    spans = [dict(s) for s in task.get("spans") or []]
    answer = str(task.get("answer"))
    if any("answer" in s for s in spans):
        return [
            ((s,), _str(s.get("label")), s["answer"] if s.get("answer") in ANSWERS else answer)
            for s in spans
        ]
    found = {s.get("label") for s in spans}
    if not spans and isinstance(task.get("label"), str):
        found = {task["label"]}  # a text classification question
    label = _str(found.pop()) if len(found) == 1 else None
    return [(tuple(spans), label, answer)]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _seconds(task: Mapping[str, Any]) -> float:
    """When the answer was given (its ``_timestamp``; 0 for an import without one)."""
    stamp = task.get("_timestamp")
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return float(stamp)
    return 0.0


# What one stored answer says about one question: kind, answer, spans, label.
_Said = tuple[Literal["gold", "binary"], str, tuple[dict[str, Any], ...], str | None]


def _versions(answers: list[_Answer], labels: list[str] | None) -> dict[int, list[Version]]:
    keep = None if labels is None else set(labels)
    # (annotator, kind, question) -> that annotator's answers on it, oldest first: the last
    # one counts (an undo or a changed answer already removed or replaced it in the store)
    asked: dict[tuple[str, str, Question], list[tuple[_Answer, _Said]]] = defaultdict(list)
    for a in sorted(answers, key=lambda a: a.sort_key):
        task = a.task
        th = int(task["_task_hash"])
        spans = [dict(s) for s in task.get("spans") or []]
        if is_gold(task):
            mine = tuple(s for s in spans if keep is None or s.get("label") in keep)
            # keyed by the question asked (its spans of every label), not the filtered spans
            question = (th, tuple(sorted(span_key(s) for s in spans)))
            said: _Said = ("gold", str(task["answer"]), mine, None)
            asked[(a.annotator, "gold", question)].append((a, said))
            continue
        for unit, label, answer in _units(task):
            if keep is None or label in keep:
                question = (th, tuple(sorted(span_key(s) for s in unit)))
                asked[(a.annotator, "binary", question)].append(
                    (a, ("binary", answer, unit, label))
                )

    out: dict[int, list[Version]] = defaultdict(list)
    # Gold: one version per annotator and text, their latest complete one if there is one.
    gold: dict[tuple[str, int], tuple[tuple[bool, tuple[float, int]], Version]] = {}
    for history in asked.values():
        last, (kind, answer, spans_, label) = history[-1]
        task = last.task
        v = Version(
            annotator=last.annotator,
            dataset=last.dataset,
            input_hash=int(task["_input_hash"]),
            task_hash=int(task["_task_hash"]),
            text=str(task.get("text", "")),
            kind=kind,
            answer=answer,
            spans=spans_,
            label=label,
            timestamp=datetime.fromtimestamp(_seconds(task), timezone.utc),
            tasks=tuple(a.task for a, _ in history),
        )
        if kind == "binary":
            out[v.input_hash].append(v)
            continue
        rank = (v.complete, last.sort_key)
        old = gold.get((v.annotator, v.input_hash))
        if old is None or rank > old[0]:
            gold[(v.annotator, v.input_hash)] = (rank, v)
    for _, v in gold.values():
        out[v.input_hash].append(v)
    for vs in out.values():
        vs.sort(key=lambda v: (v.kind != "gold", v.question, v.annotator))
    return dict(out)


def _present_labels(answers: list[_Answer]) -> set[str]:
    """Every label a span (or a binary question) of the answers has."""
    found: set[str] = set()
    for a in answers:
        for s in a.task.get("spans") or []:
            if s.get("label") is not None:
                found.add(str(s["label"]))
        if not a.task.get("spans") and isinstance(a.task.get("label"), str):
            found.add(a.task["label"])
    return found


def _load(
    datasets: str | Sequence[str],
    db: Database | str | os.PathLike[str] | None,
    labels: str | Iterable[str] | None,
) -> tuple[list[str], list[str] | None, list[_Answer]]:
    """Checked arguments and every answer of the datasets (nothing is written)."""
    names = _names(datasets)
    wanted = _labels(labels)
    database, opened = _open(db)
    try:
        answers = _read(database, names)
    finally:
        if opened:
            database.close()
    if wanted is not None:
        present = _present_labels(answers)
        missing = [lb for lb in wanted if lb not in present]
        if missing:
            raise DatasetError(
                f"No answer in {_listing(names)} has the label(s) {', '.join(missing)} "
                f"asked for in labels=. Labels present: "
                f"{', '.join(sorted(present)) or 'none (no answer has a span)'}. Labels are "
                f"case-sensitive."
            )
    return names, wanted, answers


def _listing(names: list[str]) -> str:
    return ("dataset " if len(names) == 1 else "datasets ") + ", ".join(map(repr, names))


def versions(
    datasets: str | Sequence[str],
    db: Database | str | os.PathLike[str] | None = None,
    labels: str | Iterable[str] | None = None,
) -> dict[int, list[Version]]:
    """Every annotator's versions of every text of ``datasets``, by input hash.

    Per text: one ``gold`` :class:`Version` per annotator who annotated it completely (or
    answered a complete annotation of it otherwise), then one ``binary`` version per
    annotator and question (each the annotator's latest answer on it). With ``labels``, only
    spans and questions of those labels. ``datasets`` and ``db`` as for :func:`agreement`.
    """
    _names_, wanted, answers = _load(datasets, db, labels)
    return _versions(answers, wanted)


# -- measures -----------------------------------------------------------------------------


def _f1(matched: int, a: int, b: int) -> float:
    return 2 * matched / (a + b) if a + b else float("nan")


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two annotators' labels of the same items (NaN when chance agreement
    is 1: both gave one and the same label to everything)."""
    n = len(a)
    if n == 0 or n != len(b):
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b)) / n
    cats = set(a) | set(b)
    expected = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    return _kappa(observed, expected)


def _kappa(observed: float, expected: float) -> float:
    """(p_o - p_e) / (1 - p_e), rounded off float noise (a kappa of exactly 0 shows as 0)."""
    if expected >= 1:
        return float("nan")
    return round((observed - expected) / (1 - expected), 12) + 0.0


def fleiss_kappa(ratings: Sequence[Sequence[str]]) -> float:
    """Fleiss' kappa of items each labelled by the same number of annotators (one row of
    labels per item; NaN when chance agreement is 1)."""
    if not ratings:
        return float("nan")
    n = len(ratings[0])
    if n < 2 or any(len(r) != n for r in ratings):
        return float("nan")
    cats = sorted({c for r in ratings for c in r})
    counts = [[r.count(c) for c in cats] for r in ratings]
    items = len(ratings)
    p_j = [sum(row[j] for row in counts) / (items * n) for j in range(len(cats))]
    p_i = [(sum(x * x for x in row) - n) / (n * (n - 1)) for row in counts]
    observed = sum(p_i) / items
    expected = sum(p * p for p in p_j)
    return _kappa(observed, expected)


def _span_f1(
    a: str, b: str, texts: list[tuple[frozenset[SpanKey], frozenset[SpanKey]]], labels: list[str]
) -> list[tuple[Any, ...]]:
    """The ``gold`` rows of one pair: its complete annotations of the texts both annotated."""
    n_a: Counter[str] = Counter()
    n_b: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for sa, sb in texts:
        n_a.update(s[2] for s in sa)
        n_b.update(s[2] for s in sb)
        matched.update(s[2] for s in sa & sb)
    rows = []
    for label in [ALL, *labels]:
        if label == ALL:
            x, y, m = sum(n_a.values()), sum(n_b.values()), sum(matched.values())
        else:
            x, y, m = n_a[label], n_b[label], matched[label]
        rows.append((a, b, label, len(texts), x, y, m, _f1(m, x, y)))
    return rows


def _decisions(
    a: str, b: str, shared: list[tuple[str | None, str, str]], labels: list[str]
) -> list[tuple[Any, ...]]:
    """The ``binary`` rows of one pair: (label, a's answer, b's answer) of each question both
    decided."""
    by_label: dict[str, list[tuple[str, str]]] = {label: [] for label in [ALL, *labels]}
    for label, x, y in shared:
        by_label[ALL].append((x, y))
        if label in by_label:
            by_label[str(label)].append((x, y))
    rows = []
    for label, answers in by_label.items():
        xa, xb = [x for x, _ in answers], [y for _, y in answers]
        agreed = sum(x == y for x, y in answers)
        percent = 100 * agreed / len(answers) if answers else float("nan")
        rows.append((a, b, label, len(answers), agreed, percent, cohen_kappa(xa, xb)))
    return rows


@dataclass(frozen=True, eq=False)  # DataFrames have no single truth value to compare by
class Agreement:
    """What ``nba.agreement()`` measured. Every table is a pandas DataFrame; a ``label`` of
    ``"(all)"`` counts every label together.

    - ``gold``: complete annotations, per pair of annotators (``annotator_a`` <
      ``annotator_b``) and label: ``texts`` both annotated completely, ``spans_a``,
      ``spans_b``, ``matched`` (same start, end and label) and ``f1`` = 2 matched /
      (spans_a + spans_b).
    - ``gold_mean``: per label, the mean ``f1`` over the ``pairs`` where it is defined.
    - ``binary``: binary decisions, per pair and label: ``questions`` both accepted or
      rejected (ignored ones left out), ``agreed``, ``percent`` and Cohen's ``kappa``.
    - ``fleiss``: per label, Fleiss' kappa of all the ``annotators`` who made binary decisions
      (when more than two did), on the ``questions`` every one of them decided.
    - ``pairs``: per pair, the ``texts`` both answered something on, the ``gold_texts`` both
      annotated completely, the ``questions`` both decided, and the ``disagreements``: texts
      where their complete annotations differ or a question got different answers.
    - ``disagreements``: every text where some annotators' versions differ: ``input_hash``,
      ``text``, the ``annotators`` with a version, and whether the ``gold`` annotations or
      some ``binary`` decision differ.
    """

    datasets: tuple[str, ...]
    annotators: tuple[str, ...]
    labels: tuple[str, ...]
    texts: int  # texts answered by two or more annotators
    gold_texts: int  # texts annotated completely by two or more annotators
    questions: int  # binary questions decided by two or more annotators
    gold: pd.DataFrame
    gold_mean: pd.DataFrame
    binary: pd.DataFrame
    fleiss: pd.DataFrame
    pairs: pd.DataFrame
    disagreements: pd.DataFrame

    def _overall(self, frame: pd.DataFrame, column: str) -> float:
        rows = frame[frame["label"] == ALL][column].dropna()
        return float(rows.mean()) if len(rows) else float("nan")

    def __repr__(self) -> str:
        f1 = self._overall(self.gold_mean, "f1")
        kappa = self._overall(self.binary, "kappa")
        percent = self._overall(self.binary, "percent")
        fleiss = self._overall(self.fleiss, "kappa") if len(self.fleiss) else None
        lines = [
            f"Agreement(annotators={list(self.annotators)}, datasets={list(self.datasets)}, "
            f"labels={list(self.labels)})",
            f"  complete annotations: {self.gold_texts} texts annotated by two or more "
            f"annotators; mean span F1 {_fmt(f1)}",
            f"  binary decisions: {self.questions} questions decided by two or more "
            f"annotators; mean percent agreement {_fmt(percent)}, mean Cohen's kappa "
            f"{_fmt(kappa)}" + ("" if fleiss is None else f", Fleiss' kappa {_fmt(fleiss)}"),
            f"  texts with a disagreement: {len(self.disagreements)} of the {self.texts} "
            f"texts answered by two or more annotators",
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [
            '<div class="nbannotate-agreement">',
            f"<h4>Agreement of {len(self.annotators)} annotators: "
            f"{esc(', '.join(self.annotators))}</h4>",
            f"<p>{esc(_listing(list(self.datasets)))}; labels {esc(', '.join(self.labels))}. "
            f"{len(self.disagreements)} of the {self.texts} texts answered by two or more "
            f"annotators have a disagreement (<code>.disagreements</code>).</p>",
            "<h5>Complete annotations: span F1 (same start, end and label)</h5>",
        ]
        if self.gold_texts:
            parts += [
                "<p>Mean over pairs (<code>.gold_mean</code>):</p>",
                _table(self.gold_mean),
                "<p>Per pair, all labels (<code>.gold</code> has each label):</p>",
                _table(self.gold[self.gold["label"] == ALL].drop(columns="label")),
            ]
        else:
            parts.append("<p>No text was annotated completely by two annotators.</p>")
        parts.append("<h5>Binary decisions: percent agreement, Cohen's kappa</h5>")
        if self.questions:
            parts += [
                "<p>Per pair, all labels (<code>.binary</code> has each label):</p>",
                _table(self.binary[self.binary["label"] == ALL].drop(columns="label")),
            ]
            if len(self.fleiss):
                parts += ["<p>Fleiss' kappa (<code>.fleiss</code>):</p>", _table(self.fleiss)]
        else:
            parts.append("<p>No question was accepted or rejected by two annotators.</p>")
        parts += ["<h5>Shared per pair (<code>.pairs</code>)</h5>", _table(self.pairs), "</div>"]
        return "\n".join(parts)


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:.3g}"


def _table(frame: pd.DataFrame) -> str:
    # escape=True: annotator names and labels are data, never markup
    return str(frame.to_html(index=False, escape=True, na_rep="n/a", float_format=_fmt))


def _pairs_of(annotators: Iterable[str]) -> list[tuple[str, str]]:
    return list(itertools.combinations(sorted(annotators), 2))


def agreement(
    datasets: str | Sequence[str],
    db: Database | str | os.PathLike[str] | None = None,
    labels: str | Iterable[str] | None = None,
) -> Agreement:
    """Inter-annotator agreement over the answers stored in ``datasets``.

    ``datasets``: one name (its answers' annotators are compared: sessions started with
    ``annotator=``), or a list of names (each dataset one annotator, unless its answers name
    them); an answer without an annotator counts as its dataset's. ``db``: a Database, a path
    (default ``$NBANNOTATE_DB``, else ./nbannotate.duckdb); a missing file is an error, nothing
    is ever written. ``labels``: only these labels (default every label in the answers).

    Complete annotations (manual, correct, accepted whole analyses) are compared by exact span
    match (start, end, label): F1 of every pair on the texts both annotated. Binary answers on
    the same question (same task hash) by percent agreement and Cohen's kappa of every pair,
    and Fleiss' kappa when more than two annotators decided the same questions; ignored
    answers are left out. The latest answer of an annotator on a question counts. See
    :class:`Agreement` for the tables.

    Raises DatasetError for an unknown dataset (naming the known ones), for answers of fewer
    than two annotators, or for labels no answer has; StoreError for a missing database.
    """
    import pandas as pd  # lazy, as in the store: the package imports without pandas

    names, wanted, answers = _load(datasets, db, labels)
    who = sorted({a.annotator for a in answers})
    if len(who) < 2:
        held = f"answers of one annotator only ({who[0]!r})" if who else "no answers"
        raise DatasetError(
            f"Nothing to compare: {_listing(names)} {'holds' if len(names) == 1 else 'hold'} "
            f"{held}. Agreement needs the answers of two or more annotators: give each "
            f"annotator's session a name (nba.teach(..., annotator='alice'), "
            f"nba.manual(..., annotator='bob')), or pass one dataset per annotator, e.g. "
            f"nba.agreement(['gadgets_alice', 'gadgets_bob'])."
        )
    by_text = _versions(answers, wanted)
    label_list = wanted if wanted is not None else sorted(_present_labels(answers))
    pairs = _pairs_of(who)

    complete: dict[int, dict[str, frozenset[SpanKey]]] = defaultdict(dict)
    decided: dict[Question, dict[str, str]] = defaultdict(dict)
    q_label: dict[Question, str | None] = {}
    q_text: dict[Question, int] = {}
    answered: dict[int, set[str]] = defaultdict(set)
    for ih, vs in by_text.items():
        for v in vs:
            answered[ih].add(v.annotator)
            if v.complete:
                complete[ih][v.annotator] = v.span_keys
            elif v.kind == "binary" and v.answer in DECIDED:
                decided[v.question][v.annotator] = v.answer
                q_label[v.question] = v.label
                q_text[v.question] = ih

    gold_rows: list[tuple[Any, ...]] = []
    binary_rows: list[tuple[Any, ...]] = []
    pair_rows = []
    for a, b in pairs:
        texts = [ih for ih, ann in complete.items() if a in ann and b in ann]
        gold_rows += _span_f1(
            a, b, [(complete[ih][a], complete[ih][b]) for ih in texts], label_list
        )
        shared = [q for q, ans in decided.items() if a in ans and b in ans]
        pairs_of = [(q_label[q], decided[q][a], decided[q][b]) for q in shared]
        binary_rows += _decisions(a, b, pairs_of, label_list)
        both = [ih for ih, ann in answered.items() if a in ann and b in ann]
        differ = {ih for ih in texts if complete[ih][a] != complete[ih][b]}
        differ |= {q_text[q] for q in shared if decided[q][a] != decided[q][b]}
        pair_rows.append((a, b, len(both), len(texts), len(shared), len(differ)))

    fleiss_rows = []
    raters = sorted({r for ans in decided.values() for r in ans})
    if len(raters) > 2:
        by_label: dict[str, list[list[str]]] = {label: [] for label in [ALL, *label_list]}
        for q, ans in decided.items():
            if len(ans) == len(raters):  # decided by every one of them
                row = [ans[r] for r in raters]
                by_label[ALL].append(row)
                if q_label[q] in by_label:
                    by_label[str(q_label[q])].append(row)
        for label, rows in by_label.items():
            fleiss_rows.append((label, len(raters), len(rows), fleiss_kappa(rows)))

    split = {q_text[q] for q, ans in decided.items() if len(set(ans.values())) > 1}
    texts_by = {ih: vs[0].text for ih, vs in by_text.items()}
    dis_rows = []
    for ih in sorted(by_text, key=lambda ih: texts_by[ih]):
        if len(answered[ih]) < 2:
            continue
        gold_differs = len(set(complete.get(ih, {}).values())) > 1
        binary_differs = ih in split
        if gold_differs or binary_differs:
            dis_rows.append(
                (ih, texts_by[ih], tuple(sorted(answered[ih])), gold_differs, binary_differs)
            )

    gold = pd.DataFrame(
        gold_rows,
        columns=["annotator_a", "annotator_b", "label", "texts", "spans_a", "spans_b"]
        + ["matched", "f1"],
    )
    means = [
        (label, int(g["f1"].notna().sum()), g["f1"].mean())
        for label, g in gold.groupby("label", sort=False)
    ]
    return Agreement(
        datasets=tuple(names),
        annotators=tuple(who),
        labels=tuple(label_list),
        texts=sum(len(ann) > 1 for ann in answered.values()),
        gold_texts=sum(len(ann) > 1 for ann in complete.values()),
        questions=sum(len(ans) > 1 for ans in decided.values()),
        gold=gold,
        gold_mean=pd.DataFrame(means, columns=["label", "pairs", "f1"]),
        binary=pd.DataFrame(
            binary_rows,
            columns=["annotator_a", "annotator_b", "label", "questions", "agreed"]
            + ["percent", "kappa"],
        ),
        fleiss=pd.DataFrame(fleiss_rows, columns=["label", "annotators", "questions", "kappa"]),
        pairs=pd.DataFrame(
            pair_rows,
            columns=["annotator_a", "annotator_b", "texts", "gold_texts", "questions"]
            + ["disagreements"],
        ),
        disagreements=pd.DataFrame(
            dis_rows, columns=["input_hash", "text", "annotators", "gold", "binary"]
        ),
    )
