"""Progress and logging of one run: spaCy's logger and before_update callbacks feed a monitor
that keeps the evaluations, shows a progress bar and stops the run early."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import spacy

from .config import FIRST_ENTITY_WAIT, _Schedule

LOGGER_NAME = "nbannotate.train_monitor.v1"
PROGRESS_NAME = "nbannotate.train_progress.v1"


class _EarlyStop(Exception):
    """Raised from the logger to end spaCy's training loop: train()'s own stopping rule."""


def _finds_entity(record: Mapping[str, Any]) -> bool:
    """The model predicted at least one entity right at this evaluation."""
    b = record.get("binary")
    return bool(record.get("ents_f")) or bool(b and b.get("accept_correct"))


class _Monitor:
    """Receives spaCy's training events for one run: a progress bar, the evaluations and the
    early stop (patience counted from the best evaluation, and not before the first one that
    finds an entity, or FIRST_ENTITY_WAIT steps)."""

    def __init__(self, schedule: _Schedule, progress: bool, desc: str):
        self.schedule = schedule
        self.steps_per_epoch = schedule.steps_per_epoch
        self.evals: list[dict[str, Any]] = []
        self.first_found: int | None = None  # index of the first evaluation with an entity
        self.stopped: dict[str, Any] | None = None
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            # No total: early stopping usually ends a run long before the budget, so a bar
            # and an ETA against it would mislead; a finished run fills the bar.
            self.bar = tqdm(total=None, desc=desc, unit="batch", leave=True)

    def _epoch(self, step: int) -> float | int:
        epoch = step / self.steps_per_epoch
        return int(epoch) if step % self.steps_per_epoch == 0 else round(epoch, 2)

    def step(self, info: Mapping[str, Any]) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def evaluated(self, info: Mapping[str, Any]) -> None:
        scores = dict(info.get("other_scores") or {})
        record = _score_record(scores)
        record.update(
            epoch=self._epoch(int(info["step"])),
            step=int(info["step"]),
            score=float(info["score"] or 0.0),
            loss=float(sum(v for k, v in (info.get("losses") or {}).items())),
            seconds=float(info.get("seconds") or 0.0),
        )
        self.evals.append(record)
        if self.bar is not None:
            post = {"F": f"{record['ents_f']:.3f}"} if record["ents_f"] is not None else {}
            if record.get("binary"):
                post["acc"] = f"{record['binary']['accuracy']:.3f}"
            self.bar.set_postfix(post, refresh=False)
        self._check_stop()

    def _check_stop(self) -> None:
        index = len(self.evals) - 1
        if self.first_found is None and _finds_entity(self.evals[-1]):
            self.first_found = index
        patience = self.schedule.patience
        if not patience:
            return
        top = max(r["score"] for r in self.evals)
        best = next(i for i, r in enumerate(self.evals) if r["score"] == top)
        if self.first_found is not None:
            start = max(best, self.first_found)
        elif self.evals[-1]["step"] >= FIRST_ENTITY_WAIT:
            start = best
        else:
            return
        if index - start >= patience:
            self.stopped = {
                "epoch": self.evals[-1]["epoch"],
                "step": self.evals[-1]["step"],
                "patience": patience,
                "since_epoch": self.evals[start]["epoch"],
                "found_entity": self.first_found is not None,
            }
            raise _EarlyStop()

    def close(self, ok: bool) -> None:
        """A run that ended by its own rule (early stop, budget) fills the bar; a failed one
        leaves it where it stopped."""
        if self.bar is not None:
            if ok:
                if self.stopped is not None:
                    self.bar.set_postfix_str(
                        f"{self.bar.postfix or ''} stopped early at epoch "
                        f"{self.stopped['epoch']}".strip(", "),
                        refresh=False,
                    )
                self.bar.total = self.bar.n
                self.bar.refresh()
            self.bar.close()


_ACTIVE = threading.local()


def _monitor() -> _Monitor | None:
    return getattr(_ACTIVE, "monitor", None)


def _make_logger():
    def setup(nlp, stdout=None, stderr=None):
        def log_step(info):
            mon = _monitor()
            if info is not None and mon is not None:
                mon.evaluated(info)

        def finalize():
            pass

        return log_step, finalize

    return setup


def _make_progress():
    def before_update(nlp, info):
        mon = _monitor()
        if mon is not None:
            mon.step(info)

    return before_update


spacy.registry.loggers.register(LOGGER_NAME, func=_make_logger)
spacy.registry.callbacks.register(PROGRESS_NAME, func=_make_progress)


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _score_record(scores: Mapping[str, Any]) -> dict[str, Any]:
    per_type = scores.get("ents_per_type") or {}
    record: dict[str, Any] = {
        "ents_p": _num(scores.get("ents_p")),
        "ents_r": _num(scores.get("ents_r")),
        "ents_f": _num(scores.get("ents_f")),
        "ents_per_type": {
            k: {m: float(v[m]) for m in ("p", "r", "f")} for k, v in sorted(per_type.items())
        },
        "binary": None,
    }
    counts = scores.get("ents_binary")
    if counts and counts.get("total"):
        record["binary"] = {"accuracy": counts["correct"] / counts["total"], **counts}
    return record
