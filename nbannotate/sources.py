"""Sources of texts to annotate: lists, DataFrames, JSONL and plain text files, iterables.

``Source(obj)`` wraps what a user passes and iterates as ``{"text": str, "meta": dict}`` items.
Files are read lazily, line by line, so a source of a million lines is never held in memory
whole; iterating a ``Source`` again starts again from the beginning (except a one-shot
iterator, which cannot restart). Empty, whitespace-only and non-string texts are skipped and
counted in ``Source.stats`` rather than stopping the loop; malformed input (a JSONL line that is
not JSON, an object without text, a text that is not valid Unicode, malformed ``spans``) raises
:class:`~nbannotate.errors.SourceError` naming the file and line.

This module sits at the bottom of the package: it imports only errors, items and jsonl.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SourceError
from .items import (
    TASK_KEYS,
    check_unicode,
    is_missing,
    item_spans,
    item_text,
    jsonable,
    normalize_item,
)
from .jsonl import read_lines, read_objects

Item = dict[str, Any]

JSONL_SUFFIXES = (".jsonl", ".ndjson")
_JSONL_HINT = 'Each line must be one JSON object like {"text": "...", "meta": {...}}.'
# Tabular/binary formats that would be misread as one text a line: point the user to pandas.
_TABULAR_SUFFIXES = {
    ".csv": "pandas.read_csv",
    ".tsv": "pandas.read_csv(path, sep='\\t')",
    ".parquet": "pandas.read_parquet",
    ".xlsx": "pandas.read_excel",
    ".xls": "pandas.read_excel",
    ".feather": "pandas.read_feather",
    ".gz": "gzip.open + a generator",
    ".zip": "zipfile",
}
VALIDATE_LINES = 100  # lines of a file checked eagerly at construction
_ACCEPTED = (
    "a list or tuple of strings; a list of dicts with a 'text' key (optional 'meta' dict); "
    "a pandas DataFrame (or Series) with a text column; a path (str or pathlib.Path) to a "
    ".jsonl/.ndjson file or a plain text file with one text a line; any iterable or generator "
    "of strings/dicts; or a zero-argument function returning such an iterable"
)


@dataclass
class SourceStats:
    """Counters of the current (latest) pass over a source; reset when iteration restarts.

    ``read`` counts items yielded; ``skipped_empty`` texts that were empty or whitespace only;
    ``skipped_non_string`` texts that were not strings (None, numbers, NaN, booleans).
    """

    read: int = 0
    skipped_empty: int = 0
    skipped_non_string: int = 0

    @property
    def skipped(self) -> int:
        """Total items skipped."""
        return self.skipped_empty + self.skipped_non_string

    @property
    def seen(self) -> int:
        """Items looked at: read plus skipped (blank JSONL lines are not items)."""
        return self.read + self.skipped

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "skipped_empty": self.skipped_empty,
            "skipped_non_string": self.skipped_non_string,
            "skipped": self.skipped,
        }


def _is_dataframe(obj: Any) -> bool:
    # Only a module already imported can have made the object: avoids importing pandas here.
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, pd.DataFrame)


def _is_series(obj: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, pd.Series)


def _describe_dir(path: Path) -> str:
    """A short description of what exists near a missing path, to spot typos."""
    parent = path.parent if str(path.parent) else Path(".")
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return ""
    try:
        names = sorted(p.name for p in probe.iterdir() if not p.name.startswith("."))
    except OSError:
        return ""
    where = "The directory" if probe == parent else "The nearest existing directory"
    if not names:
        return f" {where} {str(probe)!r} is empty."
    shown = ", ".join(names[:15]) + (f", ... ({len(names)} entries)" if len(names) > 15 else "")
    return f" {where} {str(probe)!r} contains: {shown}."


class Source:
    """Texts to annotate, iterated as ``{"text": str, "meta": dict}``.

    Accepted ``source`` values:

    * a list/tuple (or any sequence) of strings, or of dicts with ``text_column`` (default
      ``"text"``) and an optional ``"meta"`` dict; other keys of a dict go into meta.
      Meta gets ``{"row": i}`` (0-based position).
    * a pandas DataFrame: the ``text_column`` column is the text, the other columns go into
      meta (JSON-safe), plus ``{"row": i}``. A pandas Series is used as a list of texts.
    * a path (``str`` or ``pathlib.Path``) to a ``.jsonl``/``.ndjson`` file, one JSON object a
      line (``{"text": ..., "meta": {...}}``; other non-annotation keys go into meta; blank lines
      are skipped), or to any other text file, one text a line. Meta gets ``{"line": n}``
      (1-based). Files are read lazily as UTF-8 (a BOM is allowed).
    * any other iterable of strings/dicts (e.g. a generator): meta gets ``{"row": i}``. A
      one-shot iterator can be iterated once; pass a list, or a zero-argument function returning
      a fresh iterable, to restart.

    A meta key given by the user wins over ``row``/``line``. A dict or JSONL object (or a
    DataFrame's ``spans`` column) may carry ``"spans"`` (Prodigy's ``[{"start", "end",
    "label"}]``, character offsets): they are kept in the item as ``"spans"`` (manual and
    correct pre-highlight them; teach and silver ignore them).

    One rule for bad items: an item with nothing to annotate (an empty/whitespace-only or
    non-string text) is skipped and counted in :attr:`stats`; an item that is malformed (not
    JSON, no text key, a text or meta string that is not valid Unicode, such as a lone surrogate
    from a tweet cut in the middle of an emoji, malformed ``spans``) raises :class:`SourceError`
    naming its line or row, so no text with content is lost without a word. Such an item among
    the first ``VALIDATE_LINES`` lines/items fails at construction; a later one fails when it is
    reached (a session then raises it from ``next_task``): fix it and start the session again,
    which asks nothing already answered.

    Raises :class:`SourceError` at construction for a missing, unreadable or directory path, an
    unsupported object, a DataFrame without the text column, or a malformed item among the first
    ``VALIDATE_LINES`` lines/items; later malformed lines raise when they are reached.
    """

    def __init__(self, source: Any, *, text_column: str = "text") -> None:
        if not isinstance(text_column, str) or not text_column:
            raise SourceError(f"text_column must be a non-empty string, got {text_column!r}.")
        self.text_column = text_column
        self.stats = SourceStats()
        self.path: Path | None = None
        self._total: int | None = None
        self._total_known = False
        self._obj: Any = source
        self._consumed = False  # for one-shot iterators
        if isinstance(source, Source):
            self.__dict__.update({k: v for k, v in source.__dict__.items() if k != "stats"})
            self.stats = SourceStats()
            return
        if isinstance(source, (str, os.PathLike)):
            self._init_path(source)
        elif _is_dataframe(source):
            if text_column not in source.columns:
                cols = ", ".join(repr(str(c)) for c in source.columns) or "(none)"
                raise SourceError(
                    f"The DataFrame has no column {text_column!r}; its columns are {cols}. "
                    f"Pass text_column='<name>' to say which column holds the texts."
                )
            self.kind = "dataframe"
            self._set_total(len(source))
        elif _is_series(source):
            self.kind = "series"
            self._set_total(len(source))
        elif isinstance(source, (bytes, bytearray, Mapping)) or source is None:
            raise self._unsupported(source)
        elif isinstance(source, (list, tuple)):
            self.kind = "list"
            self._set_total(len(source))
            for i, item in enumerate(source[:VALIDATE_LINES]):
                self._item(item, {"row": i}, where=f"item {i} of the list", count=False)
        elif callable(source) and not isinstance(source, Iterable):
            self.kind = "callable"
        elif isinstance(source, Iterable):
            self.kind = "iterable"
            if isinstance(source, Sized) and not isinstance(source, Iterator):
                self._set_total(len(source))  # a set, a range, a custom sized collection
        else:
            raise self._unsupported(source)

    # -- construction helpers ------------------------------------------------------------

    @staticmethod
    def _unsupported(obj: Any) -> SourceError:
        hint = ""
        if isinstance(obj, Mapping):
            hint = " For a single text as a dict, wrap it in a list: Source([{...}])."
        elif isinstance(obj, (bytes, bytearray)):
            hint = " Decode bytes first, e.g. data.decode('utf-8').splitlines()."
        return SourceError(
            f"Cannot read texts from a {type(obj).__module__}.{type(obj).__qualname__} object. "
            f"Accepted: {_ACCEPTED}.{hint}"
        )

    def _set_total(self, n: int) -> None:
        self._total, self._total_known = n, True

    def _init_path(self, source: str | os.PathLike[str]) -> None:
        raw = os.fspath(source)
        if isinstance(raw, bytes):
            raise self._unsupported(source)
        if isinstance(source, str) and ("\n" in raw or len(raw) > 4096):
            raise SourceError(
                "A string source is read as a file path, but this string looks like text "
                f"({len(raw)} characters). To annotate texts directly, pass a list: "
                "Source([text1, text2, ...])."
            )
        path = Path(raw).expanduser()
        if not path.exists():
            raise SourceError(
                f"Source file {str(path)!r} does not exist (absolute path: "
                f"{str(path.absolute())!r}).{_describe_dir(path)} "
                "Check the name, or pass a list of texts instead."
            )
        if path.is_dir():
            try:
                entries = sorted(p.name for p in path.iterdir())[:10]
            except OSError:
                entries = []
            raise SourceError(
                f"Source path {str(path)!r} is a directory, not a file. Pass one .jsonl/.txt "
                f"file inside it{' (it contains: ' + ', '.join(entries) + ')' if entries else ''}."
            )
        suffix = path.suffix.lower()
        if suffix in _TABULAR_SUFFIXES:
            raise SourceError(
                f"Source file {str(path)!r} is a {suffix} file, which is not read line by line. "
                f"Load it with {_TABULAR_SUFFIXES[suffix]} and pass the DataFrame (with "
                "text_column=...), or convert it to .jsonl."
            )
        try:
            with open(path, "rb") as f:
                f.read(1)
        except PermissionError as e:
            raise SourceError(
                f"Source file {str(path)!r} exists but cannot be read: permission denied "
                f"({e.strerror}). Fix its permissions (e.g. chmod u+r) or copy it somewhere "
                "readable."
            ) from None
        except OSError as e:
            raise SourceError(f"Source file {str(path)!r} cannot be read: {e}.") from None
        self.path = path
        self.kind = "jsonl" if suffix in JSONL_SUFFIXES else "text"
        # Validate the head eagerly so an obviously wrong file fails at the call.
        for _ in zip(range(VALIDATE_LINES), self._iter_file(count=False), strict=False):
            pass

    # -- public API ----------------------------------------------------------------------

    @property
    def total(self) -> int | None:
        """Number of items when cheaply known, else None.

        Lists and DataFrames: their length (skipped texts included). Files: the number of lines,
        counted once from raw bytes (no JSON parsing; blank lines are included, so it is an
        upper bound for JSONL with blank lines) and cached. Generators: None.
        """
        if not self._total_known and self.path is not None:
            self._set_total(self._count_lines())
        return self._total

    def __iter__(self) -> Iterator[Item]:
        """Iterate items from the beginning; resets :attr:`stats`."""
        self.stats = SourceStats()
        if self.path is not None:
            return self._iter_file(count=True)
        if self.kind == "dataframe":
            return self._iter_dataframe()
        obj = self._obj
        if self.kind == "callable":
            obj = obj()
            if not isinstance(obj, Iterable) or isinstance(obj, (str, bytes, Mapping)):
                raise SourceError(
                    f"The source function returned a {type(obj).__name__}; it must return an "
                    "iterable of strings or dicts."
                )
        elif self.kind == "iterable" and isinstance(obj, Iterator):
            if self._consumed:
                raise SourceError(
                    "This source was built from a one-shot iterator (e.g. a generator) that has "
                    "already been iterated, so it cannot restart. Pass a list, or a function "
                    "that returns a new generator: Source(lambda: my_generator())."
                )
            self._consumed = True
        return self._iter_objects(obj)

    def head(self, n: int = VALIDATE_LINES) -> list[Item]:
        """The first ``n`` items, read again from the start, when that uses nothing up: empty for
        a one-shot iterator or a function (reading would consume it, or call it once more).
        :attr:`stats` are left as they were."""
        if self.kind == "callable" or (self.kind == "iterable" and isinstance(self._obj, Iterator)):
            return []
        stats = self.stats
        try:
            return list(itertools.islice(iter(self), n))
        finally:
            self.stats = stats

    def describe(self) -> str:
        """The source in words, for messages: its file, or what kind of object it is."""
        if self.path is not None:
            return f"The source file {str(self.path)!r}"
        if self.kind == "dataframe":
            return f"The DataFrame source (text column {self.text_column!r})"
        return f"The source ({self.kind}: {type(self._obj).__name__})"

    def no_text_error(self, stats: SourceStats | None = None) -> SourceError:
        """The error for a source that gave no text to annotate, from a pass's ``stats``."""
        s = stats or self.stats
        if s.seen == 0:
            why = "it is empty"
        else:
            why = (
                f"none of its {s.seen} items has a text ({s.skipped_empty} empty or "
                f"whitespace only, {s.skipped_non_string} null or not a string)"
            )
        hint = (
            f" Is {self.text_column!r} the column that holds the texts? Pass "
            "text_column='<name>' otherwise."
            if self.kind == "dataframe" or s.seen
            else ""
        )
        if s.seen == 0 and self.kind in ("iterable", "callable"):
            hint = (
                " A generator can be read once: was it read before? Pass a list, or a "
                "function that returns a new generator."
            )
        return SourceError(
            f"{self.describe()} has no text to annotate: {why}, so there is nothing to ask.{hint}"
        )

    def check_has_text(self) -> None:
        """SourceError unless the source gives at least one text, read from the start (it
        stops at the first text). A one-shot iterator or a function is not read here (that
        would use it up); a session then raises the same error from next_task()."""
        if self.kind == "callable" or (self.kind == "iterable" and isinstance(self._obj, Iterator)):
            return
        stats = self.stats
        try:
            for _ in self:
                return
            found = self.stats
        finally:
            self.stats = stats
        raise self.no_text_error(found)

    def __repr__(self) -> str:
        what = repr(str(self.path)) if self.path is not None else f"<{type(self._obj).__name__}>"
        total = f", total={self._total}" if self._total_known else ""
        return f"Source({what}, kind={self.kind!r}{total})"

    # -- item handling -------------------------------------------------------------------

    def _count(self, item: Item | None, reason: str | None) -> Item | None:
        if item is not None:
            self.stats.read += 1
        elif reason == "empty":
            self.stats.skipped_empty += 1
        else:
            self.stats.skipped_non_string += 1
        return item

    def _item(
        self,
        obj: Any,
        pos: dict[str, int],
        where: str,
        count: bool = True,
        meta_from_keys: bool = True,
    ) -> Item | None:
        """Normalise one raw item (items.py); None when skipped, counted in ``stats``."""
        item, reason = normalize_item(obj, pos, where, self.text_column, meta_from_keys)
        return self._count(item, reason) if count else item

    def _iter_objects(self, objs: Iterable[Any]) -> Iterator[Item]:
        for i, obj in enumerate(objs):
            item = self._item(obj, {"row": i}, where=f"item {i} of the source")
            if item is not None:
                yield item

    def _iter_dataframe(self) -> Iterator[Item]:
        df = self._obj
        col = self.text_column
        loc = list(df.columns).index(col)
        others = [c for j, c in enumerate(df.columns) if j != loc]
        # A Prodigy export read with pandas: its annotation columns are not the input's meta.
        # In any other frame, a "label" or "answer" column is the user's own data.
        prodigy = bool({"_input_hash", "_task_hash", "_view_id"} & set(map(str, df.columns)))
        skip = TASK_KEYS if prodigy else frozenset()
        chunk = 2048  # convert a slice at a time: no full copy of a big frame as Python objects
        for lo in range(0, len(df), chunk):
            part = df.iloc[lo : lo + chunk]
            texts = part.iloc[:, loc].tolist()
            rows = (
                part.iloc[:, [j for j in range(len(df.columns)) if j != loc]].to_dict("records")
                if others
                else [{}] * len(texts)
            )
            for k, (value, row) in enumerate(zip(texts, rows, strict=True)):
                where = f"row {lo + k} of the DataFrame"
                text, reason = item_text(value, where)
                if text is None:
                    self._count(None, reason)
                    continue
                # a "spans" column (e.g. pd.read_json of a Prodigy export) holds spans, as
                # in a dict item; a row without any (NaN, None) has none
                spans = row.pop("spans", None)
                # As for a dict item, a "meta" column of dicts is merged.
                user_meta = row.pop("meta", None)
                meta = {str(c): jsonable(v) for c, v in row.items() if c not in skip}
                if isinstance(user_meta, Mapping):
                    meta.update({str(c): jsonable(v) for c, v in user_meta.items()})
                elif not is_missing(user_meta):
                    meta["meta"] = jsonable(user_meta)  # a column of the user's, not a dict
                meta.setdefault("row", lo + k)
                check_unicode(meta, where, "meta")
                item: Item = {"text": text, "meta": meta}
                if hasattr(spans, "tolist"):  # a numpy array of span dicts
                    spans = spans.tolist()
                if not is_missing(spans):
                    item["spans"] = item_spans(spans, text, where)
                self.stats.read += 1
                yield item

    # -- files ---------------------------------------------------------------------------

    def _count_lines(self) -> int:
        assert self.path is not None
        n, last = 0, b"\n"
        with open(self.path, "rb") as f:
            while block := f.read(1 << 20):
                n += block.count(b"\n")
                last = block[-1:]
        return n + (last != b"\n")

    def _iter_file(self, count: bool) -> Iterator[Item]:
        """Stream a file line by line (binary, decoded per line so errors name the line)."""
        path = self.path
        assert path is not None
        try:
            f = open(path, "rb")  # closed in finally: the generator may stop early
        except OSError as e:
            raise SourceError(f"Source file {str(path)!r} cannot be read: {e}.") from None
        try:
            name = str(path)
            if self.kind == "jsonl":
                for n, obj in read_objects(f, name, SourceError, _JSONL_HINT):
                    if not isinstance(obj, dict):
                        raise SourceError(
                            f"{name!r}, line {n}: expected a JSON object with a "
                            f"{self.text_column!r} key, got a {type(obj).__name__} "
                            "(JSON " + _json_kind(obj) + ")."
                        )
                    item = self._item(obj, {"line": n}, where=f"{name!r}, line {n}", count=count)
                    if item is not None:
                        yield item
            else:
                for n, line in read_lines(f, name, SourceError):
                    item = self._item(line, {"line": n}, where=f"line {n}", count=count)
                    if item is not None:
                        yield item
        finally:
            f.close()


def _json_kind(obj: Any) -> str:
    return {
        list: "array",
        str: "string",
        int: "number",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }.get(type(obj), type(obj).__name__)


def iter_texts(source: Any, *, text_column: str = "text") -> Iterator[Item]:
    """Shortcut: iterate ``Source(source, text_column=text_column)``."""
    return iter(Source(source, text_column=text_column))


SourceLike = Source | str | os.PathLike | Iterable[Any] | Callable[[], Iterable[Any]]
