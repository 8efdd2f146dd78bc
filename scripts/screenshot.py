"""Take docs/img/widget.png: the teach widget on the example data, as the README shows it.

A real teach session on the gadgets example (blank English model, the product patterns) answers
a few tasks; the widget's state (its task queue, history, progress) is then rendered by the
committed bundle (nbannotate/static/widget.js) in Debian's Chromium, on a plain page with
JupyterLab's light theme colours, and saved as a PNG. Run from the repository's root:

    .venv/bin/python scripts/screenshot.py          # needs playwright and Chromium
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "nbannotate" / "static"
OUT = ROOT / "docs" / "img" / "widget.png"
CHROMIUM = os.environ.get("NBANNOTATE_CHROMIUM", "/usr/lib/chromium/chromium")

# The widget's view with a stand-in for anywidget's model that holds the kernel's state.
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/widget.css">
<style>body { width: 860px; margin: 16px; background: #fff;
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }</style></head>
<body><div id="out"></div><script type="module">
import { createView } from "/widget.js";
class Model {
  constructor(state) { this.state = state; }
  get(name) { return this.state[name]; }
  set(name, value) { this.state[name] = value; }
  save_changes() {}
  send() {}
  on() {}
  off() {}
}
window.mount = (state) => {
  window.view = createView({ model: new Model(state), el: document.getElementById("out") });
  window.view.root.focus();
};
window.ready = true;
</script></body></html>"""


def widget_state(folder: Path) -> dict:
    """The state the kernel sends a teach widget after some answers on the example data."""
    import nbannotate as nba

    nba.example_data(folder)
    session = nba.teach(
        "gadgets",
        str(folder / "gadgets.jsonl"),
        model="blank:en",
        labels=["PRODUCT"],
        patterns=str(folder / "product_patterns.jsonl"),
        db=str(folder / "gadgets.duckdb"),
    )
    for _ in range(30):  # accept the pattern matches, reject the rest, as an annotator would
        task = session.next_task(timeout=120)
        spans = task["spans"]
        ok = len(spans) == 1 and spans[0]["source"] == "pattern"
        session.answer(task, "accept" if ok else "reject")
    widget = session.widget()
    names = (
        "queue",
        "history",
        "progress",
        "status",
        "error",
        "notice",
        "acks",
        "dataset",
        "labels",
        "mode",
    )
    # Wait until the widget holds tasks to show (it fills its queue on a thread).
    for _ in range(600):
        if widget.queue:
            break
        time.sleep(0.1)
    state = json.loads(json.dumps({name: getattr(widget, name) for name in names}, default=str))
    session.close()
    # Show first a task the picture explains best: a pattern match on a longer text, if the
    # widget holds one (the other tasks stay in the queue behind it).
    state["queue"].sort(
        key=lambda t: (
            (t["spans"][0].get("source") != "pattern", -len(t["text"]))
            if t.get("spans")
            else (True, 0)
        )
    )
    return state


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        state = widget_state(Path(tmp))
    if not state["queue"]:
        sys.exit("the widget got no task to show")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 900, "height": 600}, device_scale_factor=2)

        def serve(route):
            name = route.request.url.rsplit("/", 1)[-1]
            if name in ("widget.js", "widget.css"):
                kind = "text/javascript" if name.endswith(".js") else "text/css"
                route.fulfill(body=(STATIC / name).read_text(), content_type=kind)
            else:
                route.fulfill(body=PAGE, content_type="text/html")

        page.route("**/*", serve)
        page.goto("http://widget.test/")
        page.wait_for_function("window.ready === true")
        page.evaluate("s => mount(s)", state)
        page.wait_for_selector(".nba-text")
        OUT.parent.mkdir(parents=True, exist_ok=True)
        page.locator("#out").screenshot(path=str(OUT))
        browser.close()
    print(f"{OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
