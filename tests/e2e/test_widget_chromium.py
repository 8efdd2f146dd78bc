"""The widget's bundle in real Chromium on a static page, without Jupyter (about 2 s in all).

For what only a real browser shows: the cost of a key on a long text (layout, bidi), the word
selection of a double-click, the colours the theme's variables resolve to. The page mounts
nbannotate/static/widget.js with a small stand-in for anywidget's model.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from harness import contrast

pytestmark = pytest.mark.e2e

STATIC = Path(__file__).resolve().parents[2] / "nbannotate" / "static"

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/widget.css"><style>body { width: 900px; }</style></head>
<body><div id="out"></div><script type="module">
import { createView } from "/widget.js";
class Model {
  constructor(state) {
    this.state = { queue: [], history: [], progress: {}, acks: {}, status: "ready", error: "",
                   notice: "", dataset: "t", labels: [], ...state };
    this.sent = [];
  }
  get(name) { return this.state[name]; }
  set(name, value) { this.state[name] = value; }
  save_changes() {}
  send(content) { this.sent.push(content); }
  on() {}
  off() {}
}
window.mount = (state) => {
  if (window.view) window.view.destroy();
  window.model = new Model(state);
  window.view = createView({ model: window.model, el: document.getElementById("out") });
  window.view.root.focus();
};
window.mountShadow = (state) => {
  // As marimo shows a widget: inside a shadow root, its CSS in there too.
  if (window.view) window.view.destroy();
  const host = document.createElement("div");
  host.id = "shadow-host";
  document.body.append(host);
  const shadow = host.attachShadow({ mode: "open" });
  shadow.innerHTML = '<link rel="stylesheet" href="/widget.css"><div></div>';
  window.model = new Model(state);
  window.view = createView({ model: window.model, el: shadow.lastChild });
};
window.ready = true;
</script></body></html>"""

# JupyterLab's dark theme, as far as the widget reads it.
DARK = """:root { --jp-layout-color0: #111; --jp-layout-color2: #424242; --jp-ui-font-color0: #fff;
  --jp-ui-font-color1: rgba(255, 255, 255, .87); --jp-ui-font-color2: rgba(255, 255, 255, .54);
  --jp-brand-color1: #2196f3;
  --jp-border-color1: #616161; } body { background: #111; }"""


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()

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
    yield page
    context.close()


def manual_task(text: str, spans=(), labels=("PRODUCT", "BRAND")) -> dict:
    """A manual task; its tokens are the text's runs of non-spaces."""
    return {
        "task_hash": "2000000000000000001",
        "input_hash": "1",
        "view_id": "ner_manual",
        "text": text,
        "tokens": [[m.start(), m.end()] for m in re.finditer(r"\S+", text)],
        "spans": list(spans),
        "labels": list(labels),
        "meta": {},
    }


def mount(page, task) -> None:
    page.evaluate("s => mount(s)", {"queue": [task], "mode": "manual", "labels": task["labels"]})


def test_keys_on_a_long_manual_text_stay_fast(page):
    """10,000 tokens, a span every 10: an arrow key must not paint the text again (it did, and
    Chromium resolved dir=auto again per inserted token: seconds a key). Checked by counting
    the DOM nodes each key adds or removes, not by timing, which depends on the machine."""
    n = 10_000
    task = manual_task(" ".join(f"word{i}" for i in range(n)) + " .")
    task["spans"] = [
        {"start": s, "end": e, "token_start": i, "token_end": i, "label": "PRODUCT"}
        for i, (s, e) in enumerate(task["tokens"])
        if i % 10 == 0
    ]
    mount(page, task)
    arrows, label_key = page.evaluate("""() => {
        const press = (key, shiftKey = false) => view.root.dispatchEvent(
          new KeyboardEvent('keydown', { key, shiftKey, bubbles: true }));
        let changed = 0;
        const observer = new MutationObserver(records => {
          for (const r of records) changed += r.addedNodes.length + r.removedNodes.length;
        });
        observer.observe(view.root, { childList: true, subtree: true });
        const count = () => { observer.takeRecords().forEach(r => {
          changed += r.addedNodes.length + r.removedNodes.length; });
          const n = changed; changed = 0; return n; };
        const arrows = [];
        for (let k = 0; k < 20; k++) {
          press('ArrowRight', k % 2 === 1);
          arrows.push(count());
        }
        press('2');  // labels the selection
        const label = count();
        observer.disconnect();
        return [arrows, label];
      }""")
    tokens = n + 1
    # A repaint removes and adds two nodes a token (40,002 here): arrows make none, the label
    # key one at most.
    assert max(arrows) < 50, arrows
    assert 0 < label_key <= 4 * tokens + 100, label_key
    assert page.evaluate("view.editor.spans.length") == len(task["spans"]) + 1
    assert page.evaluate("document.querySelector('.nba-text').getAttribute('dir')") == "auto"


def test_a_double_click_on_a_span_removes_it_and_makes_no_new_one(page):
    text = "I bought an Apple Watch Series 9 today"
    mount(
        page,
        manual_task(
            text, [{"start": 12, "end": 32, "token_start": 3, "token_end": 6, "label": "BRAND"}]
        ),
    )
    spans = "view.editor.spans.map(s => [s.start, s.end, s.label])"
    page.locator('.nba-tok[data-i="4"]').dblclick()  # "Watch", inside the span
    assert page.evaluate(spans) == []
    page.locator('.nba-tok[data-i="7"]').dblclick()  # "today": a double-click marks a word
    assert page.evaluate(spans) == [[33, 38, "PRODUCT"]]


def test_the_active_label_cursor_and_hover_show_in_the_dark_theme(page):
    """WCAG 1.4.11: state indicators need 3:1 against what is next to them."""
    style = page.add_style_tag(content=DARK)
    try:
        text = "I bought a Pixel phone"
        mount(
            page,
            manual_task(
                text, [{"start": 11, "end": 16, "token_start": 3, "token_end": 3, "label": "BRAND"}]
            ),
        )
        css = """([sel, prop, pseudo]) => getComputedStyle(document.querySelector(sel),
                                                       pseudo || null)[prop]"""

        def get(sel, prop, pseudo=None):
            return page.evaluate(css, [sel, prop, pseudo])

        card = get(".nba-card", "backgroundColor")
        active = '.nba-label-btn[aria-checked="true"]'
        assert contrast(get(active, "outlineColor"), card) >= 3
        assert get(active, "outlineStyle") == "solid"
        assert "✓" in get(active, "content", "::after")  # not by colour alone
        assert get('.nba-label-btn[aria-checked="false"]', "content", "::after") == "none"

        for _ in range(4):
            page.keyboard.press("ArrowRight")  # the cursor on "Pixel", inside the span
        cursor = ".nba-tok.nba-cursor"
        assert page.evaluate(f"document.querySelector('{cursor}').textContent") == "Pixel"
        assert get(cursor, "outlineStyle") == "solid" and get(cursor, "outlineWidth") == "2px"
        assert contrast(get(cursor, "outlineColor"), get("mark.nba-span", "backgroundColor")) >= 3
        page.keyboard.press("ArrowRight")  # "phone", outside the span: on the card
        assert contrast(get(cursor, "outlineColor"), card) >= 3

        page.locator("mark.nba-span").hover()
        assert get("mark.nba-span", "outlineStyle") == "dashed"
        assert contrast(get("mark.nba-span", "outlineColor"), card) >= 3
    finally:
        style.evaluate("el => el.remove()")


def test_long_labels_keep_the_change_buttons_and_the_span_text_in_view(page):
    """A long label used to push the ✓✗⊘ buttons of the side panel's history out of it (and the
    span text to nothing): now the label chip gives way, cut with an ellipsis."""
    label = "ADVERSE_DRUG_REACTION_SEVERE_XYZ"  # 32 characters
    task = {
        "task_hash": "1000000000000000001",
        "input_hash": "1",
        "view_id": "ner",
        "text": "I got a rash from Drugol",
        "meta": {},
        "spans": [{"start": 8, "end": 12, "label": label, "score": 0.5, "source": "model"}],
    }
    history = [
        {
            "task_hash": "1000000000000000002",
            "text": "A bad rash",
            "span_text": "bad rash",
            "label": label,
            "whole": False,
            "answer": "accept",
            "score": 0.5,
            "source": "model",
        }
    ]
    page.evaluate("s => mount(s)", {"queue": [task], "history": history, "labels": [label]})
    box = """sel => { const b = document.querySelector(sel).getBoundingClientRect();
                      return { left: b.left, right: b.right, width: b.width }; }"""
    side = page.evaluate(box, ".nba-side")
    for answer in ("accept", "reject", "ignore"):
        button = page.evaluate(box, f'.nba-hist-btn[data-answer="{answer}"]')
        assert side["left"] <= button["left"] and button["right"] <= side["right"] + 0.5, answer
    assert page.evaluate(box, ".nba-hist-span")["width"] >= 30  # "bad rash" still shows
    chip = page.locator(".nba-hist .nba-chip")
    assert chip.get_attribute("title") == label  # whole on hover, cut on screen
    assert page.evaluate(
        "document.querySelector('.nba-hist .nba-chip').scrollWidth"
    ) > page.evaluate("document.querySelector('.nba-hist .nba-chip').clientWidth")
    for answer in ("ignore", "reject"):
        page.locator(f'.nba-hist-btn[data-answer="{answer}"]').click()
        assert page.evaluate("model.sent.at(-1)")["answer"] == answer
        assert page.evaluate("model.sent.at(-1)")["type"] == "change"

    # The teach card's chip and the manual view's label buttons stay inside the card.
    long = "X" * 100
    long_task = {**task, "spans": [{**task["spans"][0], "label": long}]}
    page.evaluate("s => mount(s)", {"queue": [long_task], "labels": [long]})
    card = page.evaluate(box, ".nba-card")
    assert page.evaluate(box, ".nba-info .nba-chip")["right"] <= card["right"]
    mount(page, manual_task("I got a rash", labels=(long, "DRUG")))
    card = page.evaluate(box, ".nba-card")
    for b in page.locator(".nba-label-btn").all():
        assert b.bounding_box()["x"] + b.bounding_box()["width"] <= card["right"]
    active = '.nba-label-btn[aria-checked="true"]'
    assert (
        page.evaluate(f"""getComputedStyle(document.querySelector('{active}'),
                                              '::after').content""")
        == '"✓"'
    )
    assert page.locator(active).get_attribute("title").startswith(long)


def test_a_quick_click_on_another_span_after_a_removing_click_removes_that_one_too(page):
    """The double-click guard used to swallow any second click (detail 2) after a click removed a
    span, so a quick click on another span did nothing; it stops only a click where the removed
    span was, and the browser's word selection makes no span of the clicked word."""
    text = "Ann likes Pixel and Kindle phones"
    mount(
        page,
        manual_task(
            text,
            [
                {"start": 10, "end": 15, "token_start": 2, "token_end": 2, "label": "PRODUCT"},
                {"start": 20, "end": 26, "token_start": 4, "token_end": 4, "label": "BRAND"},
            ],
        ),
    )
    spans = "view.editor.spans.map(s => [s.start, s.end, s.label])"
    page.locator('.nba-tok[data-i="2"]').click()  # "Pixel": removed
    assert page.evaluate(spans) == [[20, 26, "BRAND"]]
    box = page.locator('.nba-tok[data-i="4"]').bounding_box()  # "Kindle"
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down(click_count=2)
    page.mouse.up(click_count=2)
    assert page.evaluate(spans) == []
    assert page.evaluate("document.querySelector('.nba-manual-msg').hidden")


def test_once_off_the_buttons_look_off_and_the_border_says_keys_off(page):
    """After the kernel is lost the label buttons and the history's ✓ ✗ ⊘ are disabled, and
    look it (before, they kept their look and pointer); the root drops its blue border."""
    task = manual_task(
        "I bought a Pixel phone",
        [{"start": 11, "end": 16, "token_start": 3, "token_end": 3, "label": "BRAND"}],
    )
    history = [
        {
            "task_hash": "2000000000000000002",
            "text": "My Kindle",
            "span_text": "",
            "label": None,
            "whole": False,
            "manual": True,
            "answer": "accept",
            "spans": [{"text": "Kindle", "label": "PRODUCT"}],
        }
    ]
    page.evaluate(
        "s => mount(s)",
        {"queue": [task], "history": history, "mode": "manual", "labels": task["labels"]},
    )
    css = "([sel, p]) => getComputedStyle(document.querySelector(sel))[p]"

    def look(sel):
        return page.evaluate(css, [sel, "opacity"]), page.evaluate(css, [sel, "cursor"])

    buttons = (
        '.nba-hist-btn[data-answer="reject"]',
        '.nba-hist-btn[data-answer="accept"]',
        '.nba-label-btn[aria-checked="true"]',
        '.nba-label-btn[aria-checked="false"]',
    )
    for sel in buttons:
        assert look(sel)[1] == "pointer", sel
    focused_border = page.evaluate(css, [".nba-root", "borderTopColor"])
    page.evaluate("""() => { model.send = () => { throw new Error('Cannot send'); };
                             view.root.dispatchEvent(new KeyboardEvent('keydown',
                               { key: 'a', bubbles: true, cancelable: true })); }""")
    assert page.evaluate("view.root.dataset.state") == "lost"
    for sel in buttons:
        assert page.evaluate(f"document.querySelector('{sel}').disabled"), sel
        assert look(sel) == ("0.45", "default"), sel
    assert page.evaluate("document.activeElement === view.root")
    assert page.evaluate(css, [".nba-root", "borderTopColor"]) != focused_border
    page.locator('.nba-label-btn[data-label="PRODUCT"]').click(force=True)
    page.locator("mark.nba-span").click()
    assert page.evaluate("view.editor.spans.map(s => [s.start, s.label])") == [[11, "BRAND"]]


def teach_task(text: str, start: int, end: int, label: str, meta=None) -> dict:
    return {
        "task_hash": "1000000000000000001",
        "input_hash": "1",
        "view_id": "ner",
        "text": text,
        "meta": meta or {},
        "spans": [{"start": start, "end": end, "label": label, "score": 0.5, "source": "model"}],
    }


def test_a_long_label_in_right_to_left_text_stays_in_one_piece(page):
    """The label after the span text used to wrap like the text around it: in a right-to-left
    line its words landed on two lines, on both sides of the span text."""
    text = "קניתי אתמול טלפון חדש של חברת אפל בחנות הגדולה בתל אביב והוא עובד מצוין עד עכשיו"
    span = "טלפון חדש של חברת אפל"
    label = "MEDICAL DEVICE OR CONSUMER ELECTRONICS PRODUCT"
    start = text.index(span)
    page.set_viewport_size({"width": 420, "height": 800})
    try:
        page.evaluate("document.body.style.width = '400px'")
        page.evaluate(
            "s => mount(s)",
            {"queue": [teach_task(text, start, start + len(span), label)], "labels": [label]},
        )
        rects = page.evaluate("""() => [...document.querySelector('.nba-text .nba-span-label')
                                        .getClientRects()].length""")
        assert rects == 1  # one box: not split over lines
        assert page.locator(".nba-text .nba-span-label").get_attribute("title") == label
        card = page.evaluate("document.querySelector('.nba-card').getBoundingClientRect().right")
        right = page.evaluate(
            "document.querySelector('.nba-text .nba-span-label').getBoundingClientRect().right"
        )
        assert right <= card
    finally:
        page.evaluate("document.body.style.width = '900px'")
        page.set_viewport_size({"width": 1000, "height": 800})


def test_a_shadow_root_host_shows_the_focus_cue_after_a_click(page):
    """As marimo renders it: document.activeElement is the shadow host there; the header said
    "click here to use the keys" and the border stayed grey after a click."""
    task = teach_task("I bought a Pixel phone", 11, 16, "PRODUCT")
    page.evaluate("s => mountShadow(s)", {"queue": [task], "labels": ["PRODUCT"]})
    hint = page.locator(".nba-focus-hint")  # playwright's CSS reaches into open shadow roots
    assert hint.text_content() == "click here to use the keys"
    grey = page.evaluate("getComputedStyle(view.root).borderTopColor")
    page.locator(".nba-text").click()
    assert hint.text_content().startswith("keys active")
    assert page.evaluate("getComputedStyle(view.root).borderTopColor") != grey
    assert page.evaluate("document.activeElement.id") == "shadow-host"  # as in marimo
    page.keyboard.press("x")
    assert page.evaluate("model.sent.at(-1)")["answer"] == "reject"
    page.evaluate(
        "view.destroy(); window.view = null; document.getElementById('shadow-host').remove()"
    )


PROGRESS = {
    "session": {"accept": 3, "reject": 5, "ignore": 1, "total": 9},
    "dataset": {"accept": 3, "reject": 5, "ignore": 1, "total": 9},
    "accept_rate": 0.375,
    "updates": 2,
    "model_precision": 0.4,
    "model_precision_answers": 5,
    "model_precision_history": [0.0, 0.2, 0.4],
}


def theme_contrasts(page) -> dict[str, float]:
    """Contrast of what the widget shows against what it is shown on."""
    page.evaluate(
        "s => mount(s)",
        {
            "queue": [
                teach_task(
                    "I bought a Pixel phone", 11, 16, "PRODUCT", {"author": "ann", "line": 3}
                )
            ],
            "labels": ["PRODUCT"],
            "progress": PROGRESS,
        },
    )
    css = "([sel, p]) => getComputedStyle(document.querySelector(sel))[p]"

    def get(sel, prop):
        return page.evaluate(css, [sel, prop])

    root_bg, card_bg = get(".nba-root", "backgroundColor"), get(".nba-card", "backgroundColor")
    btn_bg = get(".nba-btn-accept", "backgroundColor")
    return {
        "text": contrast(get(".nba-text", "color"), card_bg),
        "meta": contrast(get(".nba-meta dd", "color"), card_bg),
        "hint": contrast(get(".nba-focus-hint", "color"), root_bg),
        "counts": contrast(get(".nba-counts", "color"), root_bg),
        "muted": contrast(get(".nba-stats", "color"), root_bg),
        "button": contrast(get(".nba-btn-accept", "color"), btn_bg),
        "accept": contrast(get(".nba-btn-accept .nba-btn-symbol", "color"), btn_bg),
        "reject": contrast(get(".nba-btn-reject .nba-btn-symbol", "color"), btn_bg),
        "precision": contrast(get(".nba-precision-value", "color"), root_bg),
        "sparkline": contrast(get(".nba-spark-line", "stroke"), root_bg),
        "dark": contrast(root_bg, "rgb(0, 0, 0)") < contrast(root_bg, "rgb(255, 255, 255)"),
    }


def readable(c: dict[str, float]) -> list[str]:
    """What fails WCAG: 4.5:1 for text, 3:1 for symbols and lines."""
    text = ("text", "meta", "hint", "counts", "muted", "button", "precision")
    return [k for k in text if c[k] < 4.5] + [
        k for k in ("accept", "reject", "sparkline") if c[k] < 3
    ]


def test_a_dark_system_theme_gives_a_dark_readable_widget(page):
    """No theme variables (marimo, a plain page) and a dark system preference: the widget used
    to stay white (light fallbacks only)."""
    page.emulate_media(color_scheme="light")
    light = theme_contrasts(page)
    assert not light["dark"] and not readable(light), light
    page.emulate_media(color_scheme="dark")
    try:
        dark = theme_contrasts(page)
        assert dark["dark"], "the widget stayed light under a dark system theme"
        assert not readable(dark), dark
    finally:
        page.emulate_media(color_scheme="light")


def test_jupyterlabs_theme_wins_over_the_system_preference(page):
    """Lab's dark theme on a light system, and Lab's light theme on a dark one."""
    style = page.add_style_tag(content=DARK)
    page.evaluate("document.body.dataset.jpThemeLight = 'false'")
    try:
        page.emulate_media(color_scheme="light")
        dark = theme_contrasts(page)
        assert dark["dark"] and not readable(dark), dark
    finally:
        style.evaluate("el => el.remove()")
    page.evaluate("document.body.dataset.jpThemeLight = 'true'")
    page.emulate_media(color_scheme="dark")
    try:
        light = theme_contrasts(page)
        assert not light["dark"] and not readable(light), light
    finally:
        page.emulate_media(color_scheme="light")
        page.evaluate("delete document.body.dataset.jpThemeLight")


def test_in_a_shadow_root_a_drag_makes_a_span_and_a_click_removes_one(page):
    """The manual view in a shadow root (as marimo shows it): the window's selection and a
    document listener's event target both stop at the shadow host."""
    text = "I bought an Apple Watch Series 9 today"
    task = manual_task(
        text, [{"start": 12, "end": 17, "token_start": 3, "token_end": 3, "label": "BRAND"}]
    )
    page.evaluate(
        "s => mountShadow(s)", {"queue": [task], "mode": "manual", "labels": task["labels"]}
    )
    spans = "view.editor.spans.map(s => [s.start, s.end, s.label])"
    try:
        a = page.locator('.nba-tok[data-i="5"]').bounding_box()  # "Series"
        b = page.locator('.nba-tok[data-i="6"]').bounding_box()  # "9"
        page.mouse.move(a["x"] + 2, a["y"] + a["height"] / 2)
        page.mouse.down()
        page.mouse.move(b["x"] + b["width"] - 1, b["y"] + b["height"] / 2, steps=6)
        page.mouse.up()
        assert page.evaluate(spans) == [[12, 17, "BRAND"], [24, 32, "PRODUCT"]]
        page.locator("mark.nba-span").first.click()  # "Apple": removed
        assert page.evaluate(spans) == [[24, 32, "PRODUCT"]]
    finally:
        page.evaluate(
            "view.destroy(); window.view = null; document.getElementById('shadow-host').remove()"
        )
