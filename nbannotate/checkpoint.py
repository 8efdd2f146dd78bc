"""Checkpoints of the in-loop model beside the dataset: running the teach cell again goes on
with the model the loop had learnt instead of the base model.

A checkpoint holds the weights the loop scores with (the moving average over the updates) of
every component with weights, and is keyed by database file, dataset, base model, labels and
annotator: a different model or label set never loads a wrong one. For ``x.duckdb`` it is the
file ``x.duckdb.models/<dataset>/<key>.nbamodel``. It is written whole to a temporary file and
renamed over the old one, so a kill while writing leaves the previous checkpoint (or none),
never half of one. The weights are copied under the model lock (a memory copy) and written
after the lock is released.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
import spacy
import srsly
from spacy.language import Language

from .models import ModelLike, find_ner

log = logging.getLogger(__name__)

FORMAT = 1
SUFFIX = ".nbamodel"
# Seconds between two checkpoints written after updates (a due one is written when the time
# comes, and at close); updates come every few seconds at annotation speed.
MIN_INTERVAL = 10.0
# A large pipeline takes long to write: the gap after a write is at least this many times the
# time it took, so writing checkpoints takes a small share of the machine.
GAP_PER_WRITE = 20

Weights = list[tuple[str, int, str, numpy.ndarray]]  # (pipe, node index, param, value)


@dataclass(frozen=True)
class CheckpointKey:
    dataset: str
    model: str  # the base model's identity (model_identity)
    labels: tuple[str, ...]  # sorted
    annotator: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "model": self.model,
            "labels": list(self.labels),
            "annotator": self.annotator,
        }

    def digest(self) -> str:
        raw = json.dumps([FORMAT, self.as_dict()], sort_keys=True)
        return hashlib.sha256(raw.encode("utf8")).hexdigest()[:20]


def model_identity(model: ModelLike) -> str:
    """What identifies the base model: ``blank:<lang>``, a package and its version, or a
    directory and the sizes and times of its files (a pipeline trained again into the same
    directory is another model); for a Language object, its meta and the digest of its
    entity recognizer's weights."""
    if isinstance(model, Language):
        ner = find_ner(model)
        try:
            weights = ner.model.to_bytes() if ner is not None else b""
        except Exception:  # not initialized: its weights are made when it is loaded
            weights = b""
        meta = {k: model.meta.get(k) for k in ("lang", "name", "version")}
        return (
            f"language:{json.dumps(meta, sort_keys=True)}:"
            + hashlib.sha256(weights).hexdigest()[:20]
        )
    name = str(model)
    if name.startswith("blank:"):
        return "blank:" + name.split(":", 1)[1].strip()
    path = Path(name).expanduser()
    if path.exists():
        files = sorted(
            (str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns)
            for p in path.rglob("*")
            if p.is_file()
        )
        return (
            f"path:{path.resolve()}:"
            + hashlib.sha256(json.dumps(files).encode("utf8")).hexdigest()[:20]
        )
    return f"package:{name}=={spacy.util.get_package_version(name)}"


def checkpoint_path(db_path: str, key: CheckpointKey) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", key.dataset).strip(".") or "dataset"
    return Path(db_path + ".models") / safe / (key.digest() + SUFFIX)


def _weighted(nlp: Language) -> Iterator[tuple[str, int, Any, str]]:
    """(pipe, node index, node, param) of every weight of the pipeline, in a fixed order."""
    for pipe_name, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for i, node in enumerate(model.walk()):
            for param in node.param_names:
                if node.has_param(param):
                    yield pipe_name, i, node, param


def copy_weights(nlp: Language, params: dict[tuple[int, str], Any] | None = None) -> Weights:
    """The pipeline's weights (``params``, thinc's ``(node.id, name) -> array``, in place of
    the node's own where given: the averaged ones), copied. Call it holding the model lock."""
    out = []
    for pipe_name, i, node, param in _weighted(nlp):
        value = params.get((node.id, param)) if params else None
        value = node.get_param(param) if value is None else value
        out.append((pipe_name, i, param, numpy.array(node.ops.to_numpy(value), copy=True)))
    return out


@dataclass
class Checkpoint:
    updates: int  # model updates it holds, over every session that learnt it
    started_blank: bool  # the base model's NER was initialized from nothing
    weights: Weights


def write(path: Path, key: CheckpointKey, checkpoint: Checkpoint) -> None:
    """Write atomically: a temporary file in the same folder, flushed, renamed over the old."""
    payload = srsly.msgpack_dumps(
        {
            "format": FORMAT,
            "key": key.as_dict(),
            "updates": checkpoint.updates,
            "started_blank": checkpoint.started_blank,
            "written": time.time(),
            "weights": [[p, i, name, value] for p, i, name, value in checkpoint.weights],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "wb") as f:
            _write_bytes(f, payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a killed writer
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < time.time() - 3600:
                stale.unlink()


def _write_bytes(f: Any, payload: bytes) -> None:
    f.write(payload)


def read(path: Path, key: CheckpointKey) -> Checkpoint | None:
    """The checkpoint at ``path`` if it is one for ``key``; None if there is none. One that
    cannot be read is skipped with a warning in the log (the session starts from the base
    model; nothing annotated depends on it)."""
    if not path.exists():
        return None
    try:
        data = srsly.msgpack_loads(path.read_bytes())
        if data.get("format") != FORMAT or data.get("key") != key.as_dict():
            return None
        return Checkpoint(
            int(data["updates"]),
            bool(data["started_blank"]),
            [(p, int(i), name, value) for p, i, name, value in data["weights"]],
        )
    except Exception as err:
        log.warning(
            "Could not read the model checkpoint %s (%s): starting from the base model.", path, err
        )
        return None


def restore(nlp: Language, checkpoint: Checkpoint) -> bool:
    """Load the checkpoint's weights into ``nlp`` (the base model, its labels added). False,
    and ``nlp`` untouched, when they do not fit its layers."""
    nodes = {(p, i, param): node for p, i, node, param in _weighted(nlp)}
    if set(nodes) != {(p, i, name) for p, i, name, _ in checkpoint.weights}:
        return False
    for p, i, name, value in checkpoint.weights:
        if nodes[(p, i, name)].get_param(name).shape != value.shape:
            return False
    for p, i, name, value in checkpoint.weights:
        node = nodes[(p, i, name)]
        # a writable copy: msgpack gives read-only arrays, which the optimizer cannot update
        node.set_param(name, node.ops.asarray(numpy.array(value, copy=True)))
    return True


class ModelCheckpoints:
    """Writes a session's checkpoints: after updates, at most one per ``interval`` seconds
    (a due one is written when the time comes), and on ``save()``. ``snapshot`` returns the
    weights to save and the updates they hold; it holds the model lock only to copy them."""

    def __init__(
        self,
        path: Path,
        key: CheckpointKey,
        started_blank: bool,
        snapshot: Callable[[], tuple[int, Weights]],
        written: int = 0,
        interval: float | None = None,
    ) -> None:
        self.path = path
        self.key = key
        self.started_blank = started_blank
        self.snapshot = snapshot
        self.interval = MIN_INTERVAL if interval is None else interval
        self.error: str | None = None
        self.written = written  # updates held by the last checkpoint written (or loaded)
        self._lock = threading.Lock()  # one writer at a time, newest last
        self._last = float("-inf")
        self._gap = self.interval
        self._timer: threading.Timer | None = None
        self._stopped = False

    def updated(self) -> None:
        """After a model update (on the updater thread): write now, or once the interval
        since the last one has passed."""
        wait = self._last + self._gap - time.monotonic()
        if wait <= 0:
            self.save()
        elif self._timer is None and not self._stopped:
            self._timer = threading.Timer(wait, self._due)
            self._timer.daemon = True
            self._timer.start()

    def _due(self) -> None:
        self._timer = None
        if not self._stopped:
            self.save()

    def save(self) -> bool:
        """Write the model now if it learnt something since the last checkpoint. True when a
        checkpoint was written. Never raises: a failure is logged and kept in ``error``."""
        with self._lock:
            try:
                start = time.monotonic()
                updates, weights = self.snapshot()
                if updates <= self.written:
                    return False
                write(self.path, self.key, Checkpoint(updates, self.started_blank, weights))
                self.written = updates
                self._last = time.monotonic()
                self._gap = max(self.interval, GAP_PER_WRITE * (self._last - start))
                self.error = None
                return True
            except Exception as err:
                log.exception("writing the model checkpoint %s failed", self.path)
                self.error = f"{type(err).__name__}: {err}"
                return False

    def close(self) -> None:
        """Write what is due, and stop writing."""
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
        self.save()
