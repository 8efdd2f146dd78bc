"""The correction of a rejected whole analysis, in real JupyterLab and real Chromium, over a real
teach session: x on the model's whole analysis turns the card into that analysis to fix; the
person removes the model's spans with clicks, marks "iPhone" by dragging and presses a. The
DuckDB file must then hold the reject and, beside it, the complete annotation (view
ner_manual, accepted) with its action count; the side panel shows the session's actions.
"""

from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.e2e

TEXTS = ["My iPhone broke in Berlin .", "The Kindle is old ."]

SETUP = """\
import nbannotate as nba
patterns = [{{"label": "PRODUCT", "pattern": [{{"orth": "Kindle"}}]}}]
session = nba.teach("fix", {texts!r}, "blank:en", ["PRODUCT"], patterns, db={db!r},
                    split_sentences=False, whole=0.0)
session"""

ROOT = ".nba-root"


def point(locator, fx: float = 0.5) -> tuple[float, float]:
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


def test_reject_a_whole_analysis_fix_it_in_the_card_and_store_it_as_gold(lab, notebook):
    db = lab.root / "correction.duckdb"
    nb = notebook([SETUP.format(texts=TEXTS, db=str(db))])
    page = nb.page
    page.locator(f'{ROOT}[data-state="ready"]').wait_for(timeout=60_000)
    cells = nb.cell_count()
    root = page.locator(ROOT)
    card = root.locator(".nba-card")
    # The untrained model's whole analysis of the first text comes first.
    assert root.locator(".nba-whole-prompt").is_visible()
    assert "broke in Berlin" in root.locator(".nba-text").text_content()
    shown = root.locator(".nba-text mark.nba-span .nba-span-text").all_text_contents()
    assert shown, "the model proposed no entity"
    root.locator(".nba-header").click()  # focus the widget

    # x: the card turns into the analysis to fix, with the model's spans, at once
    page.keyboard.press("x")
    assert card.get_attribute("data-view") == "correction"
    assert root.locator(".nba-correction-prompt").is_visible()
    assert [s for s, _label in marks(page)] == shown

    # remove every span the model proposed, with a click each; mark "iPhone" by dragging
    for _ in shown:
        root.locator(".nba-text mark.nba-span .nba-tok").first.click()
    assert marks(page) == []
    iphone = root.locator('.nba-text .nba-tok[data-i="1"]')
    nb.drag(point(iphone, 0.1), point(iphone, 0.9))
    assert marks(page) == [["iPhone", "PRODUCT"]]
    page.keyboard.press("a")
    assert card.get_attribute("data-view") == "teach"
    assert "Kindle" in root.locator(".nba-text").text_content()

    # x, then the removals, the drag and a: all counted, in the side panel too
    expected = 1 + len(shown) + 1 + 1
    nb.wait_kernel("session.progress['session']['total']", 2)
    nb.wait_kernel("session.progress['actions']['total']", expected)
    panel = root.locator(".nba-actions")
    assert panel.text_content() == f"actions {expected}"
    assert f"remove {len(shown)}" in (panel.get_attribute("title") or "")
    assert nb.cell_count() == cells  # Lab's shortcuts (a, x) never ran
    assert nb.page_errors == []

    nb.execute("session.stop(); from nbannotate import store; store.close_all()")
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT kind, view_id, answer, text, task FROM answers ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    got = [(k, v, a, t) for k, v, a, t, _task in rows]
    assert got == [
        ("gold", "ner", "reject", TEXTS[0]),
        ("gold", "ner_manual", "accept", TEXTS[0]),
    ]
    reject, gold = (json.loads(r[4]) for r in rows)
    assert reject["meta"]["whole"] is True and reject["meta"]["actions"] == 1
    assert gold["spans"] == [
        {"start": 3, "end": 9, "token_start": 1, "token_end": 1, "label": "PRODUCT"}
    ]
    assert gold["meta"]["actions"] == len(shown) + 2
    assert gold["meta"]["correction"] is True
    assert gold["meta"]["corrects"] == reject["_task_hash"]

    # and train() uses it as the text's complete annotation (evaluated on a held-out text)
    import spacy
    from spacy.tokens import DocBin

    import nbannotate as nba
    from nbannotate.tasks import VIEW_MANUAL, doc_tokens, make_task

    held = spacy.blank("en").make_doc(TEXTS[1])
    kindle = {"start": 4, "end": 10, "token_start": 1, "token_end": 1, "label": "PRODUCT"}
    task = make_task(TEXTS[1], doc_tokens(held), [kindle], {}, view_id=VIEW_MANUAL)
    with nba.Database(db) as store:
        store.dataset("held", create=True).add(task, answer="accept")
        result = nba.train(
            "fix",
            lab.root / "fixed-model",
            db=store,
            eval_dataset="held",
            epochs=1,
            progress=False,
        )
    docs = DocBin().from_disk(result.output_dir / "train.spacy").get_docs(spacy.blank("en").vocab)
    assert [(d.text, [(e.text, e.label_) for e in d.ents]) for d in docs] == [
        (TEXTS[0], [("iPhone", "PRODUCT")])
    ]
