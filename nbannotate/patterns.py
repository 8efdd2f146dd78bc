"""Match patterns in Prodigy's JSONL format, proposing candidates beside the model's.

Each pattern is ``{"label": "PRODUCT", "pattern": [{"lower": "iphone"}]}`` (a spaCy token
pattern) or ``{"label": "PRODUCT", "pattern": "Galaxy S24"}`` (a phrase, matched on the exact
token text). An optional ``"id"`` names the pattern; otherwise its line number does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from .errors import PatternError

PatternsLike = str | Path | Iterable[Mapping[str, Any]]


@dataclass(frozen=True)
class PatternMatch:
    start: int  # token index
    end: int  # token index, exclusive
    label: str
    pattern_id: str


def read_patterns(patterns: PatternsLike) -> list[dict[str, Any]]:
    """Load and validate patterns from a JSONL path or a list of dicts."""
    where = "patterns"
    if isinstance(patterns, (str, Path)):
        path = Path(patterns).expanduser()
        where = str(path)
        if not path.is_file():
            raise PatternError(f"Pattern file '{path}' does not exist or is not a file.")
        entries: list[tuple[int, Any]] = []
        with path.open(encoding="utf-8-sig") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    entries.append((lineno, json.loads(line)))
                except json.JSONDecodeError as err:
                    raise PatternError(
                        f"{path}, line {lineno}: not valid JSON ({err.msg}). Each line must be "
                        f'like {{"label": "PRODUCT", "pattern": [{{"lower": "iphone"}}]}}.'
                    ) from err
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
        out.append(_validate(entry, f"{where}, line {lineno}" if where != "patterns"
                             else f"pattern {lineno}", lineno))
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
    return {"label": label.strip(), "pattern": pattern,
            "id": str(entry.get("id", lineno)), "where": where}


class PatternMatcher:
    """Finds pattern matches in docs. Invalid token patterns fail here, at construction."""

    def __init__(self, nlp: Language, patterns: PatternsLike,
                 labels: Iterable[str] | None = None) -> None:
        entries = read_patterns(patterns)
        wanted = set(labels) if labels else None
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
                raise PatternError(f"{entry['where']}: invalid token pattern: {err}") from err
            self.labels.add(entry["label"])
            self.count += 1

    def __len__(self) -> int:
        return self.count

    def __call__(self, doc: Doc) -> list[PatternMatch]:
        seen: set[tuple[int, int, str]] = set()
        out = []
        # An empty Matcher warns (spaCy W036) on every call: run only the ones with patterns.
        matches = [*(self.matcher(doc) if len(self.matcher) else ()),
                   *(self.phrase_matcher(doc) if len(self.phrase_matcher) else ())]
        for match_id, start, end in matches:
            label, pid = self._ids[doc.vocab.strings[match_id]]
            if (start, end, label) in seen:
                continue
            seen.add((start, end, label))
            out.append(PatternMatch(start, end, label, pid))
        return sorted(out, key=lambda m: (m.start, m.end, m.label))
