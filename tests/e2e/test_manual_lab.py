"""The widget's manual view in real JupyterLab and real Chromium, over a real manual session.

A person annotates two texts: removes a pattern's pre-highlight with a click, makes one span by
dragging the mouse and one with shift+arrow keys, changes a label, is refused an overlapping
span (and sees why), and accepts. The DuckDB file must then hold exactly those spans: character
offsets, token offsets and labels.
"""

from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.e2e

TEXTS = [
    "My iPhone broke, so I bought a Pixel from Google in Berlin.",
    "Apple Watch Series 9 is out.",
]

SETUP = """\
import nbannotate as nba
patterns = [{{"label": "PRODUCT", "pattern": [{{"lower": "iphone"}}]}}]
session = nba.manual("gold", {texts!r}, ["PRODUCT", "BRAND"], patterns=patterns, db={db!r},
                     split_sentences=False)
session"""

ROOT = ".nba-root"


def tok(page, i: int):
    return page.locator(f'{ROOT} .nba-text .nba-tok[data-i="{i}"]')


def point(locator, fx: float = 0.5) -> tuple[float, float]:
    """A point inside an element: fx of its width from the left, at half its height."""
    box = locator.bounding_box()
    assert box is not None, "element not visible"
    return box["x"] + box["width"] * fx, box["y"] + box["height"] / 2


def marks(page) -> list[list[str]]:
    """[span text, label] of every highlighted span, as shown."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.nba-root .nba-text mark.nba-span')].map(m => [
             [...m.querySelectorAll('.nba-tok, .nba-gap')].map(x => x.textContent).join(''),
             m.querySelector('.nba-span-label').textContent])"""
    )


def test_mouse_keys_labels_removal_and_overlap_store_exact_spans(lab, notebook):
    db = lab.root / "manual.duckdb"
    nb = notebook([SETUP.format(texts=TEXTS, db=str(db))])
    page = nb.page
    page.locator(f'{ROOT}[data-state="ready"]').wait_for(timeout=60_000)
    cells = nb.cell_count()
    root = page.locator(ROOT)
    assert marks(page) == [["iPhone", "PRODUCT"]]  # the pattern pre-highlights
    root.locator(".nba-header").click()  # focus the widget
    assert root.locator(".nba-focus-hint").text_content().startswith("keys active")

    # 1. mouse: drag from the space before "Pixel" to the middle of it: snaps to "Pixel"
    gap = page.locator(f'{ROOT} .nba-text .nba-gap[data-start="30"]')
    nb.drag(point(gap, 0.2), point(tok(page, 8), 0.6))
    assert marks(page) == [["iPhone", "PRODUCT"], ["Pixel", "PRODUCT"]]

    # 2. keys: cursor from "Pixel" to "Google", select it with shift+arrows, label it with 1
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowLeft")
    assert root.locator(".nba-tok.nba-sel").all_text_contents() == ["Google"]
    page.keyboard.press("1")
    assert marks(page)[-1] == ["Google", "PRODUCT"]

    # 3. change a label: the label button relabels the span under the cursor
    root.locator('.nba-label-btn[data-label="BRAND"]').click()
    assert marks(page) == [["iPhone", "PRODUCT"], ["Pixel", "PRODUCT"], ["Google", "BRAND"]]

    # 4. remove a span: click the pre-highlighted "iPhone"
    tok(page, 1).click()
    assert marks(page) == [["Pixel", "PRODUCT"], ["Google", "BRAND"]]

    # 5. accept saves the whole annotation; the next text is painted at once
    first = root.locator(".nba-card").get_attribute("data-task-hash")
    page.keyboard.press("a")
    assert root.locator(".nba-card").get_attribute("data-task-hash") != first
    assert root.locator(".nba-text").text_content().startswith("Apple Watch")

    # 6. overlap: "Apple Watch" by mouse, then "Watch Series" by keys and by mouse: refused
    nb.drag(point(tok(page, 0), 0.1), point(tok(page, 1), 0.9))
    assert marks(page) == [["Apple Watch", "BRAND"]]  # the last label chosen is still active
    page.keyboard.press("1")  # the cursor is on the new span: relabel it
    assert marks(page) == [["Apple Watch", "PRODUCT"]]
    message = root.locator(".nba-manual-msg")
    assert not message.is_visible()
    page.keyboard.press("Shift+ArrowRight")  # the cursor is on "Watch": select "Watch Series"
    page.keyboard.press("2")
    assert message.is_visible()
    assert message.text_content().startswith(
        "Refused: “Watch Series” would overlap “Apple Watch” (PRODUCT)."
    )
    page.keyboard.press("Escape")
    assert not message.is_visible()
    nb.drag(point(tok(page, 3), 0.9), point(tok(page, 1), 0.3))  # backwards, from "9"
    assert message.is_visible()
    assert "“Watch Series 9” would overlap “Apple Watch”" in message.text_content()
    assert marks(page) == [["Apple Watch", "PRODUCT"]]
    root.locator(".nba-btn-accept").click()
    page.locator(f'{ROOT}[data-state="done"]').wait_for(timeout=20_000)

    # Lab's shortcuts (1/2 make a heading, a inserts a cell) never ran while the widget had focus
    assert nb.cell_count() == cells
    assert (
        page.evaluate("window.jupyterapp.shell.currentWidget.content.model.cells.get(0).type")
        == "code"
    )
    assert nb.page_errors == []
    nb.wait_kernel("[r['answer'] for r in session.history()]", ["accept", "accept"])

    nb.execute("session.stop(); from nbannotate import store; store.close_all()")
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT kind, view_id, answer, text, task FROM answers ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    got = [(k, v, a, t, json.loads(task)["spans"]) for k, v, a, t, task in rows]
    assert got == [
        (
            "gold",
            "ner_manual",
            "accept",
            TEXTS[0],
            [
                {"start": 31, "end": 36, "token_start": 8, "token_end": 8, "label": "PRODUCT"},
                {"start": 42, "end": 48, "token_start": 10, "token_end": 10, "label": "BRAND"},
            ],
        ),
        (
            "gold",
            "ner_manual",
            "accept",
            TEXTS[1],
            [
                {"start": 0, "end": 11, "token_start": 0, "token_end": 1, "label": "PRODUCT"},
            ],
        ),
    ]
    assert TEXTS[0][31:36] == "Pixel" and TEXTS[0][42:48] == "Google"


CURSOR = """() => {
  const cursor = document.querySelector('.nba-root .nba-cursor');
  const box = cursor.getBoundingClientRect();
  const view = document.querySelector('.nba-root').closest('.jp-WindowedPanel-outer')
    .getBoundingClientRect();
  // (within a pixel: the boxes have fractional coordinates)
  return {text: cursor.textContent, x: box.left,
          inView: box.top >= view.top - 1 && box.bottom <= view.bottom + 1};
}"""


def test_arrows_move_the_cursor_as_they_point_in_rtl_and_it_stays_in_view(lab, notebook):
    """In a right-to-left text → moves the cursor right on screen (it moved it left); on a
    long text the page follows the cursor (it walked off screen)."""
    texts = ["קניתי טלפון חדש בחנות אתמול", " ".join(f"w{i}" for i in range(1500))]
    code = (
        f"import nbannotate as nba\n"
        f"session = nba.manual('rtl_long', {texts!r}, ['PRODUCT'], "
        f"db={str(lab.root / 'rtl_long.duckdb')!r}, split_sentences=False)\n"
        f"session"
    )
    nb = notebook([code])
    page = nb.page
    page.locator(f'{ROOT}[data-state="ready"]').wait_for(timeout=60_000)
    cells = nb.cell_count()
    root = page.locator(ROOT)
    root.locator(".nba-header").click()  # focus the widget
    assert page.evaluate("getComputedStyle(document.querySelector('.nba-text')).direction") == "rtl"
    seen = []
    for k in ("ArrowLeft", "ArrowLeft", "ArrowRight"):
        page.keyboard.press(k)
        seen.append(page.evaluate(CURSOR))
    assert [c["text"] for c in seen] == ["קניתי", "טלפון", "קניתי"]  # reading order: right first
    assert seen[1]["x"] < seen[0]["x"] and seen[2]["x"] > seen[1]["x"]  # ← left, → right
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("1")
    assert marks(page) == [["קניתי טלפון", "PRODUCT"]]
    page.keyboard.press("a")
    assert root.locator(".nba-text").text_content().startswith("w0 w1")
    for _ in range(400):
        page.keyboard.press("ArrowRight")
    cursor = page.evaluate(CURSOR)
    assert cursor["text"] == "w399"
    assert cursor["inView"], "the cursor walked off screen"
    assert nb.cell_count() == cells
    assert nb.page_errors == []
    nb.wait_kernel("[r['answer'] for r in session.history()]", ["accept"])
