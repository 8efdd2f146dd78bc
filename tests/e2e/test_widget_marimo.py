"""The annotation widget in a real marimo app (``marimo run``, headless) and real Chromium.

marimo takes a widget object, not a displayed session: ``mo.ui.anywidget(session.widget())``.
It renders the widget inside a shadow root, where ``document.activeElement`` is the shadow
host: the focus cue (the header's "keys active", the blue border) must still follow a click.
The answers must reach the DuckDB file through marimo's own comm.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from harness import Marimo, contrast, luminance

pytestmark = pytest.mark.e2e

NOTEBOOK = """\
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import nbannotate as nba

    texts = [f"My iPhone {{i}} broke, so I bought a Pixel from shop {{i}} in Berlin."
             for i in range(20)]
    patterns = [{{"label": "PRODUCT", "pattern": [{{"lower": "iphone"}}]}},
                {{"label": "PRODUCT", "pattern": [{{"lower": "pixel"}}]}}]
    session = nba.teach("marimo", texts, model="blank:en", labels=["PRODUCT"],
                        patterns=patterns, db={db!r}, batch_size=3)
    view = mo.ui.anywidget(session.widget())
    view
    return


if __name__ == "__main__":
    app.run()
"""

FOCUS_BLUE = "rgb(25, 118, 210)"


@pytest.fixture
def marimo_app(tmp_path: Path):
    db = tmp_path / "marimo.duckdb"
    notebook = tmp_path / "annotate.py"
    notebook.write_text(NOTEBOOK.format(db=str(db)), encoding="utf8")
    server = Marimo(tmp_path, notebook)
    yield server, db
    server.stop()


def stored(db: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT task_hash, answer FROM answers ORDER BY id").fetchall()
    finally:
        con.close()
    return [(str(h), a) for h, a in rows]


def test_marimo_shows_the_focus_cue_and_stores_the_keys_answers(marimo_app, browser):
    server, db = marimo_app
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server.url())
        root = page.locator("marimo-anywidget .nba-root")  # inside marimo's shadow root
        root.and_(page.locator('[data-state="ready"]')).wait_for(timeout=120_000)
        assert page.evaluate("""() => !!document.querySelector('marimo-anywidget').shadowRoot
                                  .querySelector('.nba-root')""")
        hint = root.locator(".nba-focus-hint")
        assert hint.text_content() == "click here to use the keys"
        border = "el => getComputedStyle(el).borderTopColor"
        assert root.evaluate(border) != FOCUS_BLUE

        root.locator(".nba-text").click()
        assert hint.text_content().startswith("keys active")
        assert root.evaluate(border) == FOCUS_BLUE
        assert page.evaluate("document.activeElement.tagName") == "MARIMO-ANYWIDGET"

        card = root.locator(".nba-card")
        t1 = card.get_attribute("data-task-hash")
        page.keyboard.press("a")
        t2 = card.get_attribute("data-task-hash")
        assert t2 != t1
        page.keyboard.press("x")
        assert card.get_attribute("data-task-hash") not in (t1, t2)
        assert hint.text_content().startswith("keys active")  # focus stays after a key
        # The kernel acknowledged both: their history rows are no longer pending.
        for th, answer in ((t1, "accept"), (t2, "reject")):
            root.locator(
                f'.nba-hist[data-task-hash="{th}"][data-answer="{answer}"]:not(.nba-pending)'
            ).wait_for(timeout=30_000)

        # marimo's dark theme (its body classes, seen through the shadow host): a dark widget
        # whose text reads on it.
        bg = "el => getComputedStyle(el).backgroundColor"
        assert luminance(root.evaluate(bg)) > 0.8
        page.evaluate(
            "document.body.classList.replace('light', 'dark');"
            "document.body.classList.replace('light-theme', 'dark-theme')"
        )
        dark_bg = root.evaluate(bg)
        assert luminance(dark_bg) < 0.05
        text = root.locator(".nba-text").evaluate("el => getComputedStyle(el).color")
        card_bg = card.evaluate(bg)
        assert contrast(text, card_bg) >= 4.5
        assert errors == []
    finally:
        context.close()
    server.stop()  # the kernel runs in the server: this releases the DuckDB file
    assert stored(db) == [(t1, "accept"), (t2, "reject")]
