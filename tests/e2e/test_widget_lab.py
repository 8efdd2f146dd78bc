"""The annotation widget in real JupyterLab and real Chromium, over a real teach session.

Each test writes a notebook that starts a session (blank:en model, a small pattern list, a
DuckDB file in the server's temporary root), runs it, drives the widget with the keyboard and the
mouse as a person would, and checks what the kernel and the DuckDB file hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from harness import contrast

pytestmark = pytest.mark.e2e

SETUP = """\
import nbannotate as nba
texts = {texts!r}
patterns = [{{"label": "PRODUCT", "pattern": [{{"lower": "iphone"}}]}},
            {{"label": "PRODUCT", "pattern": [{{"lower": "pixel"}}]}}]
session = nba.teach({dataset!r}, texts, model="blank:en", labels=["PRODUCT"],
                    patterns=patterns, db={db!r}, batch_size=3, sorter={sorter!r})
session"""

TEXTS = [
    f"My iPhone {i} broke, so I bought a Pixel from shop number {i} in Berlin." for i in range(20)
]

CARD = ".nba-root >> nth={n} >> .nba-card"


def setup_cell(lab, name: str, texts=TEXTS, sorter: str = "prefer_uncertain") -> tuple[str, Path]:
    db = lab.root / f"{name}.duckdb"
    return SETUP.format(texts=list(texts), dataset=name, db=str(db), sorter=sorter), db


def current(page, n: int = 0) -> str:
    return page.locator(CARD.format(n=n)).get_attribute("data-task-hash")


def wait_ready(page, n: int = 0) -> None:
    page.locator(f".nba-root >> nth={n}").and_(page.locator('[data-state="ready"]')).wait_for(
        timeout=60_000
    )


def focus_keys(page):
    """Click into the widget; the hint says the keys are active and the widget has the focus.
    Returns the widget's root locator."""
    root = page.locator(".nba-root")
    hint = root.locator(".nba-focus-hint")
    assert hint.text_content() == "click here to use the keys"
    root.locator(".nba-text").click()
    assert hint.text_content().startswith("keys active")
    assert page.evaluate("document.activeElement.classList.contains('nba-root')")
    return root


def kernel_json(nb, expr: str):
    return json.loads(nb.execute(f"import json; print(json.dumps({expr}))"))


def wait_kernel(nb, expr: str, want, timeout: float = 20.0):
    """Poll an expression on the kernel until it equals ``want`` (answers travel async)."""
    import time

    end = time.monotonic() + timeout
    got = None
    while time.monotonic() < end:
        got = kernel_json(nb, expr)
        if got == want:
            return got
        time.sleep(0.1)
    raise AssertionError(f"kernel: {expr} = {got!r}, wanted {want!r}")


def db_rows(nb, db: Path, columns: str = "task_hash, answer") -> list[tuple]:
    """Release the kernel's hold on the DuckDB file, then read it from this process (the task
    hash, first, as a string)."""
    nb.execute("session.stop(); from nbannotate import store; store.close_all()")
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(f"SELECT {columns} FROM answers ORDER BY id").fetchall()
    finally:
        con.close()
    return [(str(r[0]), *r[1:]) for r in rows]


HISTORY = "sorted([str(r['task_hash']), r['answer']] for r in session.history(50))"


def test_keys_and_buttons_store_exactly_the_right_answers(lab, notebook):
    code, db = setup_cell(lab, "keys")
    nb = notebook([code])
    page = nb.page
    wait_ready(page)
    cells = nb.cell_count()
    root = focus_keys(page)

    t1 = current(page)
    page.keyboard.press("a")
    t2 = current(page)  # painted from the local queue, no waiting for the kernel
    page.keyboard.press("x")
    t3 = current(page)
    page.keyboard.press("Space")
    t4 = current(page)
    assert len({t1, t2, t3, t4}) == 4
    page.keyboard.press("Backspace")
    assert current(page) == t3  # undo brings the ignored task back at once
    # (rejected here: an accept would also drop t4 at once if its span overlaps t3's)
    root.locator(".nba-btn-reject").click()
    assert current(page) == t4
    root.locator(".nba-btn-accept").click()
    assert current(page) not in (t1, t2, t3, t4)
    # change a past decision in the history list
    root.locator(f'.nba-hist[data-task-hash="{t1}"] .nba-hist-btn-ignore').click()

    # Lab's own shortcuts stay quiet while the widget has focus: b inserts a cell, d d deletes
    # one, m makes it markdown (the widget does not use these keys itself)
    for k in ("b", "d", "d", "m"):
        page.keyboard.press(k)
    assert nb.cell_count() == cells, "Lab's shortcuts ran while the widget had focus"

    expected = sorted([[t1, "ignore"], [t2, "reject"], [t3, "reject"], [t4, "accept"]])
    wait_kernel(nb, HISTORY, expected)
    assert root.locator(".nba-counts-session .nba-count-total").text_content() == "= 4"
    assert nb.cell_count() == cells, "the keys added or removed notebook cells"
    assert (
        page.evaluate("window.jupyterapp.shell.currentWidget.content.model.cells.get(0).type")
        == "code"
    )
    assert page.evaluate("document.activeElement.classList.contains('nba-root')")
    assert nb.page_errors == []
    assert sorted(map(list, db_rows(nb, db))) == expected

    # A kernel restart leaves the widget on the page with its comm closed: it must say so and
    # take no more answers (each key used to throw "Cannot send" and space scrolled the page).
    page.evaluate("window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
    nb.wait_idle()
    root.locator(".nba-text").click()
    page.evaluate("""() => window.addEventListener('keydown', (e) => setTimeout(() => {
                       window.__prevented = e.defaultPrevented; }), true)""")
    on_screen = current(page)
    page.keyboard.press("Space")
    page.wait_for_function("window.__prevented !== undefined")
    assert page.evaluate("window.__prevented"), "space went on to scroll the page"
    assert root.get_attribute("data-state") == "lost"
    assert (
        root.locator(".nba-lost")
        .text_content()
        .startswith("Lost the connection to the kernel (restarted?): run the cell again")
    )
    page.keyboard.press("a")
    assert current(page) == on_screen
    assert root.locator(".nba-btn-accept").is_disabled()
    assert nb.page_errors == []


BUSY_CELL = """() => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  window.__busy = 'sent';
  const future = kernel.requestExecute(
    {code: "print('started', flush=True); import time; time.sleep(12)", store_history: false});
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') window.__busy = 'running';
  };
  future.done.then(() => { window.__busy = 'done'; });
}"""


ACKED = """n => document.querySelectorAll('.nba-root .nba-hist').length === n
              && document.querySelectorAll('.nba-root .nba-hist.nba-pending').length === 0"""


def test_answers_are_stored_while_another_cell_runs(lab, notebook):
    """A cell keeps the kernel's main thread busy: the widget's answers are still stored and
    acknowledged at once, not held until the cell ends. Lab sends a widget's messages to a kernel
    subshell, and ipykernel 7 routes them to the subshell of the request the comm's last
    outgoing message answered, so every state the kernel sends must answer the widget's last
    message, also when it is sent from a background thread after a cell ran (fails otherwise)."""
    code, db = setup_cell(lab, "busy")
    nb = notebook([code])
    page = nb.page
    wait_ready(page)
    root = focus_keys(page)
    t1 = current(page)
    page.keyboard.press("a")
    # The kernel acknowledges an answer once DuckDB holds it; the view then stops showing
    # the history row as pending.
    page.wait_for_function(ACKED, arg=1)
    # A cell answers a task too: the widget's background thread then sends the new counts,
    # from the main shell's context unless the widget says otherwise.
    headless = nb.execute(
        "t = session.next_task(timeout=10); session.answer(t, 'ignore'); "
        "print(t['_task_hash'], end='')"
    )
    page.wait_for_function(ACKED, arg=2)
    page.evaluate(BUSY_CELL)  # started, not awaited
    page.wait_for_function("window.__busy === 'running'")
    t2 = current(page)
    page.keyboard.press("x")
    t3 = current(page)
    page.keyboard.press("Space")
    page.wait_for_function(ACKED, arg=4, timeout=8_000)
    assert page.evaluate("window.__busy") == "running", "the cell ended before the answers"
    assert root.locator(".nba-counts-session .nba-count-total").text_content() == "= 4"
    page.wait_for_function("window.__busy === 'done'", timeout=30_000)
    assert db_rows(nb, db) == [(t1, "accept"), (headless, "ignore"), (t2, "reject"), (t3, "ignore")]


def test_html_in_texts_renders_inert(lab, notebook):
    evil = (
        'Buy an iPhone <img src=x onerror="window.__xss=1;alert(1)"> now '
        "<script>window.__xss=2</script> and a <b>Pixel</b>."
    )
    code, _db = setup_cell(lab, "xss", texts=[evil], sorter="none")
    nb = notebook([code])
    page = nb.page
    wait_ready(page)
    text = page.locator(".nba-root .nba-text").text_content()
    assert '<img src=x onerror="window.__xss=1;alert(1)">' in text
    assert "<script>window.__xss=2</script>" in text
    assert page.locator(".nba-root img, .nba-root script, .nba-root b").count() == 0
    page.wait_for_timeout(300)  # an injected onerror would have fired by now
    assert page.evaluate("window.__xss") is None
    assert nb.dialogs == []


def test_redisplay_and_reload_carry_on_without_losing_or_repeating(lab, notebook):
    code, db = setup_cell(lab, "reload")
    nb = notebook([code, "session  # displayed again"])
    page = nb.page
    wait_ready(page, 0)
    wait_ready(page, 1)
    t1 = current(page, 0)
    assert current(page, 1) == t1  # both views show the session's outstanding tasks
    page.locator(".nba-root >> nth=0 >> .nba-text").click()
    page.keyboard.press("a")
    t2 = current(page, 0)
    page.wait_for_function(
        "h => document.querySelectorAll('.nba-card')[1].dataset.taskHash === h", arg=t2
    )

    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(300)
    page.reload()
    nb.wait_idle()
    wait_ready(page, 0)
    assert current(page, 0) == t2  # the unanswered task is still first: nothing lost
    page.locator(".nba-root >> nth=0 >> .nba-text").click()
    page.keyboard.press("x")
    wait_kernel(nb, HISTORY, sorted([[t1, "accept"], [t2, "reject"]]))
    # every task handed out and not answered is still held by the widgets
    held = kernel_json(nb, 'sorted(str(t["_task_hash"]) for t in session.outstanding())')
    shown = page.evaluate(
        "[...document.querySelectorAll('.nba-card')].map(c => c.dataset.taskHash)"
    )
    assert shown[0] in held
    assert db_rows(nb, db) == [(t1, "accept"), (t2, "reject")]


COMPLETE_SETUP = """\
import nbannotate as nba
session = nba.teach({dataset!r}, {texts!r}, model={model!r}, labels=["PRODUCT"], db={db!r},
                    whole=None, complete=0.0, sorter="prefer_high_scores",
                    split_sentences=False)
for _ in range(21):  # from code: 20 spans the model found, then the first completion question
    session.answer(session.next_task(timeout=60), "accept")
session"""


def test_a_completion_question_follows_the_span_answers_and_is_stored_as_gold(lab, notebook):
    """teach(complete=...): after the span answers on a text, the next card but one asks
    whether those entities are all of them; accepting it makes the text a gold annotation."""
    from gadgets import gadget_texts, gold_spans, trained_gadget_model

    model = trained_gadget_model(lab.root / "gadget-model")
    texts = gadget_texts(30, seed=7)
    db = lab.root / "complete.duckdb"
    nb = notebook(
        [COMPLETE_SETUP.format(dataset="complete", texts=texts, model=str(model), db=str(db))]
    )
    page = nb.page
    wait_ready(page)
    root = focus_keys(page)
    prompt = root.locator(".nba-whole-prompt")

    def task(th: str) -> dict:
        return kernel_json(
            nb, f"[t for t in session.outstanding() if str(t['_task_hash']) == {th!r}][0]"
        )

    t_a = current(page)
    first = task(t_a)
    assert not first["meta"].get("whole") and prompt.count() == 0
    page.keyboard.press("a")  # the model's one span on the text: the product
    t_b = current(page)
    completions = (
        "[str(t['_task_hash']) for t in session.outstanding() if t['meta'].get('completion')]"
    )
    for _ in range(200):  # the completion question reaches the widget's queue
        if got := kernel_json(nb, completions):
            break
        page.wait_for_timeout(100)
    [t_c] = got
    assert task(t_c)["text"] == first["text"]
    assert current(page) == t_b, "the completion replaced the card on screen"
    page.keyboard.press("a")
    page.wait_for_function(
        "h => document.querySelector('.nba-card').dataset.taskHash === h", arg=t_c
    )
    assert prompt.text_content().startswith("Complete now?")
    marked = root.locator(".nba-text .nba-span-text").all_text_contents()
    assert marked == [first["text"][s:e] for s, e, _ in sorted(gold_spans(first["text"]))]
    page.keyboard.press("a")
    assert current(page) != t_c
    page.keyboard.press("Backspace")  # undo brings the completion back, then accept it again
    assert current(page) == t_c
    page.keyboard.press("a")
    wait_kernel(nb, "len(session.history(50))", 24)
    assert nb.page_errors == []
    rows = db_rows(nb, db, "task_hash, answer, kind")
    assert len(rows) == 24
    assert rows[-3:] == [
        (t_a, "accept", "binary"),
        (t_b, "accept", "binary"),
        (t_c, "accept", "gold"),
    ]


CITIES = """\
import nbannotate as nba
texts = [f"We moved to New York City in {{2000 + i}} with the kids ." for i in range(8)]
patterns = [{{"label": "LOC", "pattern": p}}
            for p in ("New York City", "New York", "York City", "York")]
session = nba.teach("cities", texts, model="blank:en", labels=["LOC"], patterns=patterns,
                    db={db!r}, whole=None, complete=None, batch_size=1000)
session"""


def test_accepting_a_span_drops_the_cards_that_overlap_it_with_the_key_press(lab, notebook):
    """Four overlapping pattern matches per sentence; "a" on "New York City" takes the other
    three of that sentence off the queue at once (the next card is painted without the
    kernel), none of them comes later, and the kernel stores exactly the keys pressed."""
    import re

    db = lab.root / "cities.duckdb"
    nb = notebook([CITIES.format(db=str(db))])
    page = nb.page
    wait_ready(page)
    focus_keys(page)
    card = page.locator(".nba-root .nba-card")
    group = {"New York City", "New York", "York City", "York"}

    def on_screen() -> tuple[str, str]:  # (the sentence's year, the span)
        # Three accepts can take more cards than the view holds: then it waits for the kernel.
        wait_ready(page)
        year = re.search(r"in (20\d\d)", card.locator(".nba-text").text_content()).group(1)
        return year, card.locator(".nba-span-text").first.text_content()

    seen: list[tuple[str, str]] = []
    accepted: set[str] = set()
    for _ in range(14):  # the first sentences (a model candidate may come between)
        year, text = on_screen()
        assert not (year in accepted and text in group), f"{text!r} after its accept ({year})"
        seen.append((year, text))
        if text == "New York City":
            page.keyboard.press("a")
            accepted.add(year)
        else:
            page.keyboard.press("x")
    assert len(accepted) >= 2, f"too few accepts to show anything: {seen}"
    asked = [(y, t) for y, t in seen if y in accepted and t in group]
    assert len(asked) < 4 * len(accepted), f"every question of each group was asked: {seen}"
    assert nb.page_errors == []
    # every answer carried out before the session stops (a busy kernel may still hold some)
    wait_kernel(nb, "len(session.history(50))", len(seen))
    rows = db_rows(nb, db, "answer, span_text")
    assert [r[1] for r in rows] == [t for _, t in seen]  # every key press stored, nothing else
    assert [r for r in rows if r[0] == "accept"] == [("accept", "New York City")] * len(accepted)


DIRTY = "window.jupyterapp.shell.currentWidget.context.model.dirty"
EXECUTION_COUNT = (
    "window.jupyterapp.shell.currentWidget.content.model.cells.get(0).sharedModel.execution_count"
)


def test_ctrl_s_and_shift_enter_reach_lab_while_the_widget_has_focus(lab, notebook):
    """The widget keeps Lab's command-mode shortcuts from the keys pressed in it, not from
    chords: ctrl+s saves the notebook and shift+enter runs the widget's cell, as anywhere in a
    notebook (both did nothing while the widget had focus)."""
    code, _db = setup_cell(lab, "chords")
    nb = notebook([code, "'a second cell'"])
    page = nb.page
    wait_ready(page)
    page.wait_for_function(DIRTY)  # the outputs of the run are not saved yet
    cells = nb.cell_count()
    focus_keys(page)
    page.keyboard.press("a")
    page.keyboard.press("Control+s")
    page.wait_for_function(f"!{DIRTY}", timeout=10_000)
    page.keyboard.press("x")  # the widget's keys still work, Lab's shortcuts still stay out
    for k in ("b", "d", "d", "m"):
        page.keyboard.press(k)
    wait_kernel(nb, "len(session.history())", 2)
    assert nb.cell_count() == cells
    assert page.evaluate("document.activeElement.classList.contains('nba-root')")
    runs = page.evaluate(EXECUTION_COUNT)
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(f"{EXECUTION_COUNT} > {runs}", timeout=20_000)
    assert nb.cell_count() == cells
    assert page.evaluate("window.jupyterapp.shell.currentWidget.content.activeCellIndex") == 1
    assert nb.page_errors == []


CELL_SOURCES = (
    "Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)"
    ".map(c => c.sharedModel.source)"
)


def test_lab_chords_do_not_act_on_the_widgets_cell(lab, notebook):
    """Lab's other chords act on the active cell, the widget's own: ctrl+backspace merged it
    into the cell above (the widget vanished), ctrl+shift+up moved it, ctrl+shift+m merged it
    with the next. With the widget focused they do nothing; its keys keep working."""
    code, _db = setup_cell(lab, "labchords")
    nb = notebook(["x = 1  # a cell above", code, "'a cell below'"])
    page = nb.page
    wait_ready(page)
    before = page.evaluate(CELL_SOURCES)
    focus_keys(page)
    page.keyboard.press("a")
    wait_kernel(nb, "len(session.history())", 1)
    for chord in ("Control+Backspace", "Control+Shift+ArrowUp", "Control+Shift+M"):
        page.keyboard.press(chord)
    page.wait_for_timeout(500)  # Lab runs a command at once, on the key press
    assert page.evaluate(CELL_SOURCES) == before
    assert page.locator(".nba-root").count() == 1
    assert page.evaluate("document.activeElement.classList.contains('nba-root')")
    page.keyboard.press("x")
    wait_kernel(nb, "len(session.history())", 2)
    assert nb.page_errors == []


LONG_TEXTS = [
    "I like my Pixel.",
    " ".join(["word"] * 1200) + " and then a Pixel at the end",
    "https://example.com/" + "a" * 2500 + " then a Pixel",
]

SPAN_IN_VIEW = """() => {
  const mark = document.querySelector('.nba-root .nba-text mark.nba-span');
  if (!mark) return null;
  const box = mark.getBoundingClientRect();
  const text = document.querySelector('.nba-root .nba-text').getBoundingClientRect();
  const view = document.querySelector('.nba-root').closest('.jp-WindowedPanel-outer')
    .getBoundingClientRect();
  // (within a pixel: the boxes have fractional coordinates)
  return {inView: box.top >= view.top - 1 && box.bottom <= view.bottom + 1,
          belowTheFold: box.top - text.top > view.height};
}"""


def test_a_new_card_on_a_long_text_is_scrolled_to_its_span(lab, notebook):
    """After a key press the next card's span is in view, also far down a long text."""
    db = lab.root / "longtexts.duckdb"
    code = (
        f"import nbannotate as nba\n"
        f"patterns = [{{'label': 'PRODUCT', 'pattern': [{{'lower': 'pixel'}}]}}]\n"
        f"session = nba.teach('longtexts', {LONG_TEXTS!r}, model='blank:en', "
        f"labels=['PRODUCT'], patterns=patterns, db={str(db)!r}, sorter='none', "
        f"whole=None, complete=None, split_sentences=False)\n"
        f"session"
    )
    nb = notebook([code])
    page = nb.page
    wait_ready(page)
    focus_keys(page)
    far = 0
    for _ in range(4):
        page.keyboard.press("x")
        if page.locator(".nba-root").get_attribute("data-state") != "ready":
            break
        where = page.evaluate(SPAN_IN_VIEW)
        if where is None:  # a card without a span (the model's "no entities")
            continue
        assert where["inView"], f"the span of card {current(page)} is out of view"
        far += where["belowTheFold"]
    assert far, "no span was far down its text: the test shows nothing"
    assert nb.page_errors == []


def test_the_side_panel_shows_the_models_precision_as_it_is_answered(lab, notebook):
    """Each answer to a span the model proposed tests the model: the side panel shows the
    accepted share of the last such answers (patterns and whole analyses left out) and a
    sparkline of it over the session, the same numbers as ``session.progress``."""
    code, _db = setup_cell(lab, "precision")
    nb = notebook([code])
    page = nb.page
    wait_ready(page)
    root = focus_keys(page)
    card = root.locator(".nba-card")
    model_answers = []
    presses = 0
    while len(model_answers) < 8 and presses < 80:
        root.and_(page.locator('[data-state="ready"]')).wait_for(timeout=60_000)
        whole = card.locator(".nba-whole-prompt").count() > 0
        source = card.locator(".nba-source").text_content()
        if source == "model" and not whole:
            key = "a" if len(model_answers) % 3 == 0 else "x"  # 1 in 3 accepted
            model_answers.append("accept" if key == "a" else "reject")
        else:
            key = "x"
        page.keyboard.press(key)
        presses += 1
    assert len(model_answers) == 8, "too few of the model's own guesses were asked"
    wait_kernel(nb, "session.progress['session']['total']", presses, timeout=60)
    progress = kernel_json(
        nb,
        "{k: session.progress[k] for k in ('model_precision', "
        "'model_precision_answers', 'model_precision_history')}",
    )
    assert progress["model_precision"] == model_answers.count("accept") / 8  # 3 of 8
    assert progress["model_precision_answers"] == 8
    history = progress["model_precision_history"]
    assert len(history) >= 2
    # The panel, once the kernel's state has arrived: the number and a line with one point per
    # value of the history.
    value = root.locator(".nba-precision-value")
    page.wait_for_function(
        """() => document.querySelector('.nba-precision-value')
                                      .textContent === '38%'""",
        timeout=30_000,
    )
    assert root.locator(".nba-precision-n").text_content() == "last 8"
    points = root.locator("svg.nba-spark polyline").get_attribute("points").split(" ")
    assert len(points) == len(history)
    box = root.locator("svg.nba-spark").bounding_box()
    assert box["width"] > 40 and box["height"] > 10  # drawn, not collapsed
    side = root.locator(".nba-side").bounding_box()
    assert side["x"] <= box["x"] and box["x"] + box["width"] <= side["x"] + side["width"]
    assert value.is_visible()

    # The last key answered the 8th model guess (a reject): undoing it leaves 3 of 7.
    page.keyboard.press("Backspace")
    wait_kernel(nb, "session.progress['model_precision_answers']", 7, timeout=60)
    assert kernel_json(nb, "session.progress['model_precision']") == 3 / 7
    page.wait_for_function(
        """() => document.querySelector('.nba-precision-value')
                                      .textContent === '43%'""",
        timeout=30_000,
    )
    assert root.locator(".nba-precision-n").text_content() == "last 7"
    assert nb.page_errors == []


def test_the_widget_follows_jupyterlabs_dark_theme(lab, notebook):
    """JupyterLab Dark on a light system: the widget is dark and its text reads on it."""
    code, _db = setup_cell(lab, "darktheme")
    nb = notebook([code])
    page = nb.page
    wait_ready(page)
    root = page.locator(".nba-root")
    style = "([el, p]) => getComputedStyle(el)[p]"

    def get(sel: str, prop: str) -> str:
        return page.locator(sel).first.evaluate(f"(el) => ({style})([el, {prop!r}])")

    assert contrast(get(".nba-root", "backgroundColor"), "rgb(255, 255, 255)") < 1.2
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    try:
        page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
        page.wait_for_function(
            """() => { const c = getComputedStyle(
                                    document.querySelector('.nba-root')).backgroundColor;
                                  return c === 'rgb(17, 17, 17)'; }""",
            timeout=30_000,
        )
        card = get(".nba-card", "backgroundColor")
        assert contrast(get(".nba-text", "color"), card) >= 4.5
        assert contrast(get(".nba-meta", "color"), card) >= 4.5
        root_bg = get(".nba-root", "backgroundColor")
        assert contrast(get(".nba-focus-hint", "color"), root_bg) >= 4.5
        assert contrast(get(".nba-stats", "color"), root_bg) >= 4.5
        button = get(".nba-btn-accept", "backgroundColor")
        assert contrast(get(".nba-btn-accept", "color"), button) >= 4.5
        for symbol in (".nba-btn-accept .nba-btn-symbol", ".nba-btn-reject .nba-btn-symbol"):
            assert contrast(get(symbol, "color"), button) >= 3, symbol
        assert root.get_attribute("data-state") == "ready"
    finally:
        page.evaluate(
            "window.jupyterapp.commands.execute('apputils:change-theme', "
            "{theme: 'JupyterLab Light'})"
        )
        page.wait_for_function("document.body.dataset.jpThemeLight === 'true'", timeout=30_000)
    assert nb.page_errors == []
