"""Calibration: turn a model's span score into the share of such spans the annotator accepts.

A beam score is the probability mass of the beam parses holding a span. It ranks candidates
but is not the chance that the span is right: on BTC, spans scored 0.9 or more were accepted
54% of the time and spans under 0.1 7% (BENCHMARKS.md). "Prefer uncertain" on the raw score
therefore asks mostly low-scored spans, nearly all rejected. The calibrator learns the accept
rate per score bin from the answers as they come, starting from the raw score as a prior, so a
sorter can prefer the questions whose answer is truly uncertain.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .tasks import is_whole

DEFAULT_BINS = 10
# Pseudo-answers at the raw score per bin: the raw score rules until a bin has seen about this
# many answers, so the first questions are chosen as before and one answer moves little.
DEFAULT_PRIOR = 10.0


def is_model_span(task: Mapping[str, Any]) -> bool:
    """A single-span question proposed by the model (not a pattern match, not a whole analysis):
    the questions whose score the sorter reads."""
    meta = task.get("meta") or {}
    return meta.get("source") == "model" and not is_whole(task) and "score" in meta


class ScoreCalibrator:
    """Accept rate per score bin, learned from answers; thread-safe.

    ``calibrator(score)`` is ``(accepts + prior * score) / (answers + prior)`` over the answers
    to spans whose score fell in the same bin (``bins`` equal bins over [0, 1]).
    """

    def __init__(self, bins: int = DEFAULT_BINS, prior: float = DEFAULT_PRIOR) -> None:
        if bins < 1:
            raise ValueError(f"bins must be at least 1, got {bins!r}.")
        if not prior > 0:
            raise ValueError(f"prior must be positive, got {prior!r}.")
        self.bins = bins
        self.prior = prior
        self._accepts = [0] * bins
        self._answers = [0] * bins
        self._lock = threading.Lock()

    def _bin(self, score: float) -> int:
        return min(self.bins - 1, max(0, int(float(score) * self.bins)))

    def observe(self, score: float, accepted: bool, count: int = 1) -> None:
        """Count one accept or reject of a span the model scored ``score`` (``count=-1``: take
        back one, when an answer is undone or changed)."""
        b = self._bin(score)
        with self._lock:
            self._answers[b] = max(0, self._answers[b] + count)
            self._accepts[b] = min(self._answers[b],
                                   max(0, self._accepts[b] + count * bool(accepted)))

    def observe_task(self, task: Mapping[str, Any], count: int = 1) -> bool:
        """Count an answered task if it is an accepted or rejected model span; True if so."""
        if task.get("answer") not in ("accept", "reject") or not is_model_span(task):
            return False
        self.observe(task["meta"]["score"], task["answer"] == "accept", count)
        return True

    def observe_tasks(self, tasks: Iterable[Mapping[str, Any]]) -> int:
        """Count the accepted and rejected model-span answers among ``tasks`` (e.g. a dataset
        when a session resumes); returns how many were counted."""
        return sum(self.observe_task(task) for task in tasks)

    def __call__(self, score: float) -> float:
        b = self._bin(score)
        with self._lock:
            accepts, answers = self._accepts[b], self._answers[b]
        return (accepts + self.prior * float(score)) / (answers + self.prior)

    def table(self) -> list[dict[str, float]]:
        """Per bin: its score range, answers, accepts and calibrated accept rate (for display)."""
        with self._lock:
            counts = list(zip(self._answers, self._accepts))
        out = []
        for b, (answers, accepts) in enumerate(counts):
            lo, hi = b / self.bins, (b + 1) / self.bins
            mid = (lo + hi) / 2
            out.append({"low": lo, "high": hi, "answers": answers, "accepts": accepts,
                        "accept_rate": (accepts + self.prior * mid) / (answers + self.prior)})
        return out
