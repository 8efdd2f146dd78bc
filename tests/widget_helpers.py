"""Driving the widget's kernel side without a browser (one wrapper around the private API)."""

from __future__ import annotations

import time
from itertools import count

from nbannotate.widget import AnnotationWidget

_seq = count(1)


def send(widget: AnnotationWidget, kind: str, client: str = "test-client", **content) -> None:
    """Deliver a custom message from the front end, as the comm would."""
    widget._handle_custom_msg({"type": kind, "client": client, "seq": next(_seq), **content}, [])


def wait_for(cond, timeout: float = 10.0, what: str = "condition"):
    """Poll ``cond`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
