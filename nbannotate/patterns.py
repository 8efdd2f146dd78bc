"""Match patterns in Prodigy's JSONL format, proposing candidates beside the model's.

Each pattern is ``{"label": "PRODUCT", "pattern": [{"lower": "iphone"}]}`` (a spaCy token
pattern) or ``{"label": "PRODUCT", "pattern": "Galaxy S24"}`` (a phrase, matched on the exact
token text). An optional ``"id"`` names the pattern; otherwise its line number does.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Token

from .errors import PatternError
from .jsonl import read_objects
from .models import upstream_docs

PatternsLike = str | Path | Iterable[Mapping[str, Any]]
# Token attributes of the tokenizer's docs alone (the vocab's lexeme flags included): patterns on
# anything else (POS, "_" extensions, ENT_TYPE, sentence starts) match on the docs the
# components before the NER made.
_LEXICAL = {
    "ORTH",
    "TEXT",
    "LOWER",
    "NORM",
    "SHAPE",
    "PREFIX",
    "SUFFIX",
    "LENGTH",
    "OP",
    "IS_ALPHA",
    "IS_ASCII",
    "IS_DIGIT",
    "IS_LOWER",
    "IS_UPPER",
    "IS_TITLE",
    "IS_PUNCT",
    "IS_SPACE",
    "IS_STOP",
    "IS_BRACKET",
    "IS_QUOTE",
    "IS_LEFT_PUNCT",
    "IS_RIGHT_PUNCT",
    "IS_CURRENCY",
    "LIKE_NUM",
    "LIKE_URL",
    "LIKE_EMAIL",
}
# Token attributes only a pipeline component sets, and the component that does (spaCy's
# Matcher raises E155 on every doc when one is missing).
_ANNOTATIONS = {
    "POS": "a tagger or morphologizer",
    "TAG": "a tagger",
    "MORPH": "a morphologizer",
    "LEMMA": "a lemmatizer",
    "DEP": "a parser",
}


@dataclass(frozen=True)
class PatternMatch:
    start: int  # token index
    end: int  # token index, exclusive
    label: str
    pattern_id: str


def read_patterns(patterns: PatternsLike) -> list[dict[str, Any]]:
    """Load and validate patterns from a JSONL path or a list of dicts.

    Each pattern comes back with ``"where"``, its location for error messages ("<file>, line
    4" or "pattern 2"); patterns read before keep theirs, so a file's line numbers survive
    being passed on as a list (``PatternMatcher(nlp, read_patterns(path))``).
    """
    where = "patterns"
    if isinstance(patterns, (str, Path)):
        path = Path(patterns).expanduser()
        where = str(path)
        if not path.is_file():
            raise PatternError(f"Pattern file '{path}' does not exist or is not a file.")
        with path.open("rb") as f:
            entries: list[tuple[int, Any]] = list(
                read_objects(
                    f,
                    str(path),
                    PatternError,
                    'Each line must be like {"label": "PRODUCT", '
                    '"pattern": [{"lower": "iphone"}]}.',
                )
            )
    elif isinstance(patterns, Mapping):
        raise PatternError("patterns must be a path or a list of pattern dicts, not one dict.")
    else:
        try:
            entries = list(enumerate(patterns, 1))
        except TypeError as err:
            raise PatternError(
                f"patterns must be a JSONL path or a list of dicts, not {type(patterns).__name__}."
            ) from err
    out = []
    for lineno, entry in entries:
        if where != "patterns":
            here = f"{where}, line {lineno}"
        elif isinstance(entry, Mapping) and isinstance(entry.get("where"), str):
            here = entry["where"]  # read before: keep the file and line
        else:
            here = f"pattern {lineno}"
        out.append(_validate(entry, here, lineno))
    return out


def _validate(entry: Any, where: str, lineno: int) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise PatternError(f"{where}: a pattern must be a JSON object, got {entry!r}.")
    label = entry.get("label")
    if not isinstance(label, str) or not label.strip():
        raise PatternError(f'{where}: missing or empty "label" in {dict(entry)!r}.')
    pattern = entry.get("pattern")
    if isinstance(pattern, str):
        if not pattern.strip():
            raise PatternError(f'{where}: empty phrase "pattern".')
    elif isinstance(pattern, list):
        if not pattern or not all(isinstance(tok, Mapping) for tok in pattern):
            raise PatternError(
                f'{where}: a token "pattern" must be a non-empty list of token dicts like '
                f'{{"lower": "iphone"}}, got {pattern!r}.'
            )
    else:
        raise PatternError(
            f'{where}: "pattern" must be a string (phrase) or a list of token dicts, '
            f"got {pattern!r}."
        )
    return {
        "label": label.strip(),
        "pattern": pattern,
        "id": str(entry.get("id", lineno)),
        "where": where,
    }


def _check_labels(entries: list[dict[str, Any]], wanted: set[str]) -> None:
    """PatternError when no pattern has one of the session's labels; a warning naming the
    labels left out when only some have: a label typo must not silently bootstrap nothing."""
    dropped = [e for e in entries if e["label"] not in wanted]
    if not dropped:
        return
    names = ", ".join(repr(x) for x in dict.fromkeys(e["label"] for e in dropped))
    ours = ", ".join(repr(x) for x in sorted(wanted))
    folded = {w.casefold(): w for w in wanted}
    near = [
        f"{e['label']!r} vs {folded[e['label'].casefold()]!r}"
        for e in dropped
        if e["label"].casefold() in folded
    ]
    hint = f" Labels are case-sensitive ({', '.join(dict.fromkeys(near))})." if near else ""
    fix = (
        f"Fix the labels in the patterns (first at {dropped[0]['where']}) or add them to "
        f"labels=[...].{hint}"
    )
    if len(dropped) == len(entries):
        raise PatternError(
            f"None of the patterns can be used: their labels ({names}) are not "
            f"among this session's labels ({ours}). {fix}"
        )
    warnings.warn(
        f"{len(dropped)} of {len(entries)} patterns are not used: their labels "
        f"({names}) are not among this session's labels ({ours}). {fix}",
        stacklevel=4,
    )


def _spacy_problems(err: Exception, key: str) -> str:
    """spaCy's complaint about a token pattern without its internals: the rule key (ours,
    meaningless to the user) and pydantic's paths, as "token 1, 'lowr': ..."."""
    problems: dict[str, list[str]] = {}
    for line in str(err).splitlines():
        m = re.match(r"- \[pattern -> (\d+)(?: -> ([^\]\s]+))?[^\]]*\] (.+)", line)
        if m:
            token, attr, msg = m.groups()
            where = f"token {int(token) + 1}" + (f", {attr!r}" if attr else "")
            if msg.startswith("Extra inputs"):
                msg = (
                    "not a token attribute spaCy knows (e.g. ORTH, LOWER, TEXT, LEMMA, POS, "
                    "SHAPE, IS_DIGIT, OP)"
                )
            problems.setdefault(where, [])
            if msg not in problems[where]:
                problems[where].append(msg)
    if problems:
        return "; ".join(f"{where}: {' or '.join(msgs)}" for where, msgs in problems.items())
    return str(err).replace(repr(key), "").replace(key, "").strip()


class PatternMatcher:
    """Finds pattern matches in docs. Invalid token patterns fail here, at construction."""

    def __init__(
        self, nlp: Language, patterns: PatternsLike, labels: Iterable[str] | None = None
    ) -> None:
        entries = read_patterns(patterns)
        wanted = set(labels) if labels else None
        if wanted is not None:
            _check_labels(entries, wanted)
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.labels: set[str] = set()
        self.count = 0
        self._ids: dict[str, tuple[str, str]] = {}
        for n, entry in enumerate(entries):
            if wanted is not None and entry["label"] not in wanted:
                continue
            key = f"{entry['label']}\x1f{entry['id']}\x1f{n}"
            self._ids[key] = (entry["label"], entry["id"])
            try:
                if isinstance(entry["pattern"], str):
                    self.phrase_matcher.add(key, [nlp.make_doc(entry["pattern"])])
                else:
                    self.matcher.add(key, [list(entry["pattern"])])
            except Exception as err:
                raise PatternError(
                    f"{entry['where']}: invalid token pattern: {_spacy_problems(err, key)}"
                ) from err
            self.labels.add(entry["label"])
            self.count += 1
        #: True when a token pattern matches on more than the tokenizer's attributes (POS,
        #: LEMMA, "_" extensions, ...): the docs must then come from the pipeline.
        self.needs_annotations = self._check_annotations(nlp, entries, wanted)

    @staticmethod
    def _check_annotations(
        nlp: Language, entries: list[dict[str, Any]], wanted: set[str] | None
    ) -> bool:
        """Token patterns on attributes the pipeline does not set (POS on ``blank:en``, an
        unregistered ``_`` extension) would fail on every text, deep inside spaCy: refuse them
        here, naming the line. Matches are made on docs after the components before the NER."""
        trial: Doc | None = None
        needs = False
        for entry in entries:
            if isinstance(entry["pattern"], str) or (
                wanted is not None and entry["label"] not in wanted
            ):
                continue
            for token in entry["pattern"]:
                for key, value in token.items():
                    attr = str(key).upper()
                    needs = needs or attr not in _LEXICAL
                    if attr == "_":
                        for name in value if isinstance(value, Mapping) else {}:
                            if not Token.has_extension(name):
                                raise PatternError(
                                    f"{entry['where']}: the pattern uses the token extension "
                                    f"'_.{name}', which is not registered. Register it "
                                    f"(Token.set_extension) before starting the session, or "
                                    f"drop that attribute from the pattern."
                                )
                    elif attr in _ANNOTATIONS:
                        if trial is None:
                            trial = upstream_docs(nlp, ["This is a test ."])[0]
                        if not trial.has_annotation(attr):
                            raise PatternError(
                                f"{entry['where']}: the pattern matches on {attr}, which this "
                                f"pipeline does not set before its NER: that needs "
                                f"{_ANNOTATIONS[attr]} (a blank:xx pipeline has none). Use "
                                f"ORTH, LOWER, TEXT, SHAPE or IS_* attributes, or a model "
                                f"whose pipeline sets {attr}."
                            )
        return needs

    def __len__(self) -> int:
        return self.count

    def __call__(self, doc: Doc) -> list[PatternMatch]:
        seen: set[tuple[int, int, str]] = set()
        out = []
        # An empty Matcher warns (spaCy W036) on every call: run only the ones with patterns.
        matches = [
            *(self.matcher(doc) if len(self.matcher) else ()),
            *(self.phrase_matcher(doc) if len(self.phrase_matcher) else ()),
        ]
        for match_id, start, end in matches:
            label, pid = self._ids[doc.vocab.strings[match_id]]
            if (start, end, label) in seen:
                continue
            seen.add((start, end, label))
            out.append(PatternMatch(start, end, label, pid))
        return sorted(out, key=lambda m: (m.start, m.end, m.label))
