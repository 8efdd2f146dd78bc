"""The annotation widget in real Jupyter Notebook 7 (the ``notebook`` package) and real Chromium.

Notebook 7 is a different application from JupyterLab (its own shell, one document per page at
``/notebooks/NAME.ipynb``) built from the same parts: the same lumino keyboard handling, whose
command-mode shortcuts (a, x, b, d d, m, ...) must stay away from the focused widget, and the
same ipywidgets manager. This smoke test starts a teach session, drives the widget with keys and
a button, and checks the kernel, the DuckDB file and the notebook's cells.

Notebook 7.6 raises one page error from its own code on every load: the keyboard-shortcuts
settings plugin reads ``plugins[id].schema`` of a plugin that is not loaded
(``TypeError: Cannot read properties of undefined (reading 'schema')``, thrown in
``static/notebook/notebook_core.*.js``). Exactly that error is tolerated; any other fails.
"""

from __future__ import annotations

import pytest
from test_widget_lab import (
    HISTORY,
    current,
    db_rows,
    focus_keys,
    setup_cell,
    wait_kernel,
    wait_ready,
)

pytestmark = pytest.mark.e2e

KNOWN_PAGE_ERROR = "Cannot read properties of undefined (reading 'schema')"


def unexpected_page_errors(nb) -> list[str]:
    """Page errors other than Notebook 7's own known one (same message, thrown from its bundle)."""
    return [
        f"{msg}\n{stack}"
        for msg, stack in zip(nb.page_errors, nb.page_error_stacks)
        if not (
            msg == KNOWN_PAGE_ERROR
            and stack.startswith(f"TypeError: {KNOWN_PAGE_ERROR}\n")
            and "/static/notebook/notebook_core." in stack.split("\n")[1]
        )
    ]


def cell_types(page) -> list[str]:
    return page.evaluate(
        "[...window.jupyterapp.shell.currentWidget.content.model.cells].map(c => c.type)"
    )


def test_keys_and_a_button_store_exactly_the_right_answers_in_notebook7(
    notebook7_server, notebook7
):
    code, db = setup_cell(notebook7_server, "nb7keys")
    nb = notebook7([code, "'a second cell'"])
    page = nb.page
    assert page.evaluate("window.jupyterapp.name") == "Jupyter Notebook"  # not Lab
    wait_ready(page)
    types = cell_types(page)
    assert types == ["code", "code"]
    assert page.locator(".nba-root").get_attribute("data-lm-suppress-shortcuts") is not None
    root = focus_keys(page)

    # a (accept) and x (reject) are also Notebook 7's command-mode "insert cell above" and
    # "cut cell"; the widget must get them, the notebook must not
    t1 = current(page)
    page.keyboard.press("a")
    t2 = current(page)
    page.keyboard.press("x")
    t3 = current(page)
    page.keyboard.press("Space")  # ignore
    t4 = current(page)
    assert len({t1, t2, t3, t4}) == 4
    page.keyboard.press("Backspace")  # undo the ignore: it must never reach the store
    assert current(page) == t3
    # (rejected: an accept would also drop t4 at once if its span overlapped t3's)
    root.locator(".nba-btn-reject").click()
    # The answered task leaves at once and the one the undo pushed back comes next. (Before
    # the kernel carried out each view's operations in order, another task came next in about
    # 1 of 20 runs on a busy machine; 70 of 70 passed since, 40 of them with both cores busy.)
    assert current(page) == t4
    # more command-mode shortcuts the widget does not use: b inserts, d d deletes, m markdown
    for k in ("b", "d", "d", "m"):
        page.keyboard.press(k)
    assert page.evaluate("document.activeElement.classList.contains('nba-root')")

    expected = [(t1, "accept"), (t2, "reject"), (t3, "reject")]
    wait_kernel(nb, HISTORY, sorted(map(list, expected)))
    assert root.locator(".nba-counts-session .nba-count-total").text_content() == "= 3"
    assert cell_types(page) == types, "the keys added, removed or changed notebook cells"
    assert unexpected_page_errors(nb) == []
    assert nb.dialogs == []
    assert db_rows(nb, db) == expected

    # control: the shortcuts are live on this page, they just never reached past the widget.
    # (Clicking the widget's own cell keeps the focus in the widget: use the other cell.)
    page.locator(".jp-Cell >> nth=1 >> .jp-InputPrompt").click()
    page.keyboard.press("b")
    page.wait_for_function("window.jupyterapp.shell.currentWidget.content.model.cells.length === 3")
    assert unexpected_page_errors(nb) == []
