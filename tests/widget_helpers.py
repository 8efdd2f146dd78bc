"""Driving the widget's kernel side without a browser (one wrapper around the private API)."""

from __future__ import annotations

import time
import weakref

from nbannotate.widget import AnnotationWidget

# Like a front end: each (widget, client) numbers its operations 1, 2, 3, ...
_last_seq: weakref.WeakKeyDictionary[AnnotationWidget, dict[str, int]] = weakref.WeakKeyDictionary()


def send(widget: AnnotationWidget, kind: str, client: str = "test-client", **content) -> None:
    """Deliver a custom message from the front end, as the comm would; ``seq`` (the front end's
    operation number) defaults to the client's next one."""
    last = _last_seq.setdefault(widget, {})
    seq = content.pop("seq", last.get(client, 0) + 1)
    last[client] = max(seq, last.get(client, 0))
    widget._handle_custom_msg({"type": kind, "client": client, "seq": seq, **content}, [])


def wait_for(cond, timeout: float = 60.0, what: str = "condition"):
    """Poll ``cond`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
