"""Progress bars for long calls (silver over a source, a JSONL import): tqdm's, a widget in a
notebook and text on stderr elsewhere, or nothing at all with ``progress=False``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class _NoBar:
    """Stands in for a tqdm bar when progress is off."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def bar(enabled: bool, *, total: int | None, desc: str, unit: str) -> Any:
    """A tqdm bar (``tqdm.auto``: a widget in Jupyter), or one that shows nothing."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=True)


def counted(items: Iterable[T], progress_bar: Any) -> Iterator[T]:
    """``items``, advancing ``progress_bar`` by one for each; the bar is closed when they run
    out, or when the loop reading them stops (an error)."""
    try:
        for item in items:
            yield item
            progress_bar.update(1)
    finally:
        progress_bar.close()
