"""Sorters: decide, one candidate at a time, which candidates of an endless stream to offer.

A sorter is a callable ``sorter(score) -> bool``. Like Prodigy's, it works on the stream as it
comes (skipped candidates are not revisited), keeping an exponential moving average of what it
has seen and emitting the candidates that beat it. Unlike a plain EMA filter it never lets the
stream run dry: every skipped candidate relaxes the threshold a little, and after
``max_skips`` skips in a row the next candidate is emitted whatever its score.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from .errors import ArgumentError

T = TypeVar("T")
Sorter = Callable[[float], bool]
SORTERS = ("prefer_uncertain", "prefer_high_scores", "none")


class EMASorter:
    """Emit a candidate when its priority is at least the running mean minus a relaxation.

    ``priority`` maps a score to how much we want to see the candidate.
    """

    def __init__(
        self,
        priority: Callable[[float], float],
        *,
        alpha: float = 0.1,
        relax_step: float = 0.02,
        max_skips: int = 30,
    ) -> None:
        self.priority = priority
        self.alpha = alpha
        self.relax_step = relax_step
        self.max_skips = max_skips
        self.mean: float | None = None
        self.var = 0.0
        self.skips = 0
        self.seen = 0
        self.emitted = 0

    def __call__(self, score: float) -> bool:
        value = self.priority(float(score))
        self.seen += 1
        if self.mean is None:
            self.mean = value
            keep = True
        else:
            threshold = self.mean - self.skips * self.relax_step
            keep = value >= threshold or self.skips >= self.max_skips
            diff = value - self.mean
            self.mean += self.alpha * diff
            self.var = (1 - self.alpha) * (self.var + self.alpha * diff * diff)
        if keep:
            self.skips = 0
            self.emitted += 1
        else:
            self.skips += 1
        return keep


def prefer_uncertain(bias: float = 0.0, **kwargs: Any) -> EMASorter:
    """Prefer scores close to ``0.5 + bias`` (a positive bias favours likely entities)."""
    center = 0.5 + bias
    width = max(center, 1.0 - center)
    return EMASorter(lambda s: 1.0 - abs(s - center) / width, **kwargs)


def prefer_high_scores(**kwargs: Any) -> EMASorter:
    """Prefer candidates the model is most sure of."""
    return EMASorter(lambda s: s, **kwargs)


def no_sort() -> Sorter:
    """Offer every candidate, in stream order."""
    return lambda score: True


def get_sorter(sorter: str | Sorter, bias: float = 0.0) -> Sorter:
    """A sorter by name (``prefer_uncertain``, ``prefer_high_scores``, ``none``) or a callable."""
    if callable(sorter):
        return sorter
    if sorter == "prefer_uncertain":
        return prefer_uncertain(bias)
    if sorter == "prefer_high_scores":
        return prefer_high_scores()
    if sorter in ("none", None):
        return no_sort()
    raise ArgumentError(
        f"Unknown sorter {sorter!r}: use one of {', '.join(SORTERS)} or a callable score -> bool."
    )


def sort_stream(scored: Iterable[tuple[float, T]], sorter: Sorter) -> Iterator[T]:
    """Generator form: yield the items of ``(score, item)`` pairs the sorter keeps."""
    for score, item in scored:
        if sorter(score):
            yield item
