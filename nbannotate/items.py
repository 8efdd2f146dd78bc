"""One source item, normalised: ``{"text": str, "meta": dict, "spans"?: list}``.

What every kind of source (list, DataFrame, JSONL line) does to an item: find its text, make
its meta JSON-safe, check its spans' shape and offsets, and refuse text that is not valid
Unicode. ``sources.py`` reads the items; this module says what one item must be.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any

from .errors import SourceError

Item = dict[str, Any]

# Prodigy task keys that describe an annotation, not the input: not copied into meta.
TASK_KEYS = frozenset(
    {
        "tokens",
        "spans",
        "answer",
        "_input_hash",
        "_task_hash",
        "_view_id",
        "_session_id",
        "_timestamp",
        "_annotator_id",
        "_is_binary",
        "label",
        "options",
        "accept",
    }
)


def jsonable(value: Any) -> Any:
    """A meta value made JSON-safe: numpy scalars to Python, NaN to None, dates to ISO text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        try:
            return jsonable(value.item())  # numpy scalar
        except (TypeError, ValueError):
            pass
    if hasattr(value, "isoformat"):
        try:
            return value.isoformat()  # datetime, date, pandas.Timestamp
        except (TypeError, ValueError):  # NaT
            return None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    try:
        if value != value:  # pandas.NA / NaT compare unequal to themselves
            return None
    except (TypeError, ValueError):
        return None  # pandas.NA raises on bool()
    return str(value)


def check_unicode(value: Any, where: str, what: str) -> None:
    """Raise SourceError for a string (or a string inside meta) that is not valid Unicode: a
    lone surrogate, which JSON's "\\ud83d" escapes and cut emoji produce. spaCy, the hashes and
    DuckDB all need UTF-8, so such a text could never be shown, hashed or stored."""
    if isinstance(value, str):
        if value.isascii():
            return
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise SourceError(
                f"{where}: {what} has a lone surrogate ({value[err.start]!r} at character "
                f"{err.start}), which is not valid Unicode (typically a string cut in the middle "
                "of an emoji). Repair or remove it in the source, e.g. "
                "text.encode('utf-8', 'replace').decode('utf-8') replaces it with '?'."
            ) from None
    elif isinstance(value, Mapping):
        for k, v in value.items():
            check_unicode(k, where, f"a key of {what}")
            check_unicode(v, where, f"{what}[{k!r}]")
    elif isinstance(value, list):
        for v in value:
            check_unicode(v, where, what)


def is_missing(value: Any) -> bool:
    """None, NaN or a pandas/numpy missing scalar: how a DataFrame says "no value here"."""
    return value is None or is_scalar_na(value) or (isinstance(value, float) and math.isnan(value))


def is_scalar_na(obj: Any) -> bool:
    """pandas.NA / NaT / numpy numbers: treated as non-string texts (skipped), not errors."""
    mod = type(obj).__module__
    return mod.startswith(("pandas", "numpy")) and not hasattr(obj, "__len__")


def item_text(value: Any, where: str) -> tuple[str | None, str | None]:
    """(text, None) for a usable text, else (None, reason). Raises SourceError for a text
    that is not valid Unicode."""
    if isinstance(value, str):
        if not value.strip():
            return None, "empty"
        check_unicode(value, where, "the text")
        return str(value), None
    return None, "non_string"


def item_spans(raw: Any, text: str, where: str) -> list[dict[str, Any]]:
    """Incoming spans checked for shape and offsets (labels and tokens are the session's
    business): ``[{"start", "end", "label"}]``."""
    example = '[{"start": 0, "end": 5, "label": "ORG"}]'
    if not isinstance(raw, (list, tuple)):
        raise SourceError(
            f"{where}: 'spans' must be a list of spans like {example}, got {type(raw).__name__}."
        )
    out = []
    for i, span in enumerate(raw):
        if not isinstance(span, Mapping):
            raise SourceError(
                f"{where}: span {i} is a {type(span).__name__}; each span "
                f"must be an object like {example[1:-1]}."
            )
        start: Any = span.get("start")
        end: Any = span.get("end")
        label = span.get("label")
        try:  # numpy integers (offsets taken from a DataFrame) are integers too
            start, end = (None if isinstance(x, bool) else operator.index(x) for x in (start, end))
        except TypeError:
            start = end = None
        if start is None or end is None or not isinstance(label, str) or not label.strip():
            raise SourceError(
                f"{where}: span {i} needs integer 'start' and 'end' (character "
                f"offsets) and a non-empty 'label', got {dict(span)!r}."
            )
        if not 0 <= start < end <= len(text):
            raise SourceError(
                f"{where}: span {i} ({start}-{end}) is not inside the text "
                f"(length {len(text)}); offsets count characters, end "
                "exclusive."
            )
        out.append({"start": start, "end": end, "label": label.strip()})
    return out


def normalize_item(
    obj: Any, pos: dict[str, int], where: str, text_column: str, meta_from_keys: bool = True
) -> tuple[Item | None, str | None]:
    """One raw item normalised: (item, None), or (None, why it is skipped: "empty" or
    "non_string"). Raises SourceError on malformed items."""
    if isinstance(obj, Mapping):
        if text_column not in obj:
            keys = ", ".join(repr(str(k)) for k in list(obj)[:10]) or "none"
            raise SourceError(
                f"{where}: the object has no {text_column!r} key (its keys: {keys}). "
                f"Each item needs the text under {text_column!r}"
                + (" (or pass text_column=...)." if text_column == "text" else ".")
            )
        user_meta = obj.get("meta")
        if is_missing(user_meta):  # e.g. NaN in df.to_dict("records") of a row without meta
            user_meta = {}
        if not isinstance(user_meta, Mapping):
            raise SourceError(
                f"{where}: 'meta' must be an object/dict, got {type(user_meta).__name__}."
            )
        meta: dict[str, Any] = dict(pos)
        if meta_from_keys:
            for k, v in obj.items():
                if k not in (text_column, "meta") and k not in TASK_KEYS:
                    meta[str(k)] = jsonable(v)
        meta.update({str(k): jsonable(v) for k, v in user_meta.items()})
        text, reason = item_text(obj[text_column], where)
        spans = obj.get("spans")
        spans = None if is_missing(spans) else spans
    elif obj is None or isinstance(obj, (str, int, float)) or is_scalar_na(obj):
        text, reason = item_text(obj, where)
        meta, spans = dict(pos), None
    else:
        raise SourceError(
            f"{where} is a {type(obj).__name__}; each item must be a string or a dict with "
            f"a {text_column!r} key."
        )
    item: Item | None = None
    if text is not None:
        check_unicode(meta, where, "meta")  # the store could not write it either
        item = {"text": text, "meta": meta}
        if spans is not None:
            item["spans"] = item_spans(spans, text, where)
    return item, reason
