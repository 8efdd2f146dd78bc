"""The review view in real JupyterLab and real Chromium, over a real review session.

Two annotators (alice, bob) annotated four texts and disagree on three. The reviewer sees both
versions of each, picks with the keys 1 and 2 (one pick undone with backspace and made again),
and edits one by hand (a span removed with a click, one made with shift+arrows and labelled
with shift+1). The DuckDB file must then hold exactly the chosen versions, with their
provenance.
"""

from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.e2e

TEXTS = [
    "I bought an iPhone from Apple.",
    "The Pixel is made by Google.",
    "My Apple Watch broke.",
    "Nothing to see here.",
]
ALICE = [[(12, 18, "PRODUCT")], [(4, 9, "PRODUCT"), (21, 27, "ORG")], [(3, 14, "PRODUCT")], []]
BOB = [[(12, 18, "PRODUCT"), (24, 29, "ORG")], [(4, 9, "PRODUCT")], [(3, 8, "ORG")], []]

SETUP = """\
import nbannotate as nba
db = {db!r}
def annotate(name, who, answers):
    s = nba.manual(name, {texts!r}, ["PRODUCT", "ORG"], db=db, split_sentences=False,
                   annotator=who)
    for spans in answers:
        s.answer(s.next_task(), "accept",
                 spans=[{{"start": a, "end": b, "label": lab}} for a, b, lab in spans])
    s.close()
annotate("ner_alice", "alice", {alice!r})
annotate("ner_bob", "bob", {bob!r})
session = nba.review(["ner_alice", "ner_bob"], "reviewed", db=db, annotator="rev")
session"""

ROOT = ".nba-root"


def marks(page) -> list[list[str]]:
    """[span text, label] of every span in the editable text, as shown."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.nba-root .nba-text mark.nba-span')].map(m => [
             [...m.querySelectorAll('.nba-tok, .nba-gap')].map(x => x.textContent).join(''),
             m.querySelector('.nba-span-label').textContent])"""
    )


def versions(page) -> list[list]:
    """[who, [marked span texts]] of every version shown above the text."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.nba-root .nba-version')].map(v => [
             v.querySelector('.nba-version-who').textContent,
             [...v.querySelectorAll('mark .nba-span-text')].map(m => m.textContent)])"""
    )


def text_of(page) -> str:
    return page.locator(f"{ROOT} .nba-text").text_content()


def test_reviewer_picks_with_keys_edits_one_and_the_store_holds_the_choices(lab, notebook):
    db = lab.root / "review.duckdb"
    nb = notebook([SETUP.format(db=str(db), texts=TEXTS, alice=ALICE, bob=BOB)])
    page = nb.page
    page.locator(f'{ROOT}[data-state="ready"]').wait_for(timeout=90_000)
    cells = nb.cell_count()
    root = page.locator(ROOT)
    root.locator(".nba-header").click()  # focus the widget
    assert root.locator(".nba-focus-hint").text_content().startswith("keys active: 1–9 load")

    # text 1: both versions shown; 1 a stores alice's, undone, then 2 a stores bob's
    assert text_of(page).startswith("I bought")
    assert versions(page) == [["alice", ["iPhone"]], ["bob", ["iPhone", "Apple"]]]
    assert marks(page) == [["iPhone", "PRODUCT"]]  # the editor starts from version 1
    page.keyboard.press("1")
    page.keyboard.press("a")
    page.wait_for_function(
        "() => document.querySelector('.nba-root .nba-text').textContent.startsWith('The Pixel')"
    )
    page.keyboard.press("Backspace")
    page.wait_for_function(
        "() => document.querySelector('.nba-root .nba-text').textContent.startsWith('I bought')"
    )
    page.keyboard.press("2")
    assert marks(page) == [["iPhone", "PRODUCT"], ["Apple", "ORG"]]
    assert root.locator(".nba-version-picked").get_attribute("data-n") == "2"
    page.keyboard.press("a")

    # text 2: 2 loads bob's, 1 alice's again, a stores it
    page.wait_for_function(
        "() => document.querySelector('.nba-root .nba-text').textContent.startsWith('The Pixel')"
    )
    page.keyboard.press("2")
    assert marks(page) == [["Pixel", "PRODUCT"]]
    page.keyboard.press("1")
    assert marks(page) == [["Pixel", "PRODUCT"], ["Google", "ORG"]]
    page.keyboard.press("a")

    # text 3: bob's "Apple" ORG loaded, removed with a click; "Apple Watch" marked with
    # shift+arrows and labelled ORG with shift+1 (labels: 1 ORG, 2 PRODUCT): an edit
    page.wait_for_function(
        "() => document.querySelector('.nba-root .nba-text').textContent.startsWith('My Apple')"
    )
    page.keyboard.press("2")
    assert marks(page) == [["Apple", "ORG"]]
    root.locator('.nba-text .nba-tok[data-i="1"]').click()
    assert marks(page) == []
    page.keyboard.press("ArrowRight")  # "My"
    page.keyboard.press("ArrowRight")  # "Apple"
    page.keyboard.press("Shift+ArrowRight")  # "Apple Watch"
    page.keyboard.press("Shift+Digit1")
    assert marks(page) == [["Apple Watch", "ORG"]]
    page.keyboard.press("a")
    page.locator(f'{ROOT}[data-state="done"]').wait_for(timeout=20_000)  # the agreed text: no card

    # Lab's shortcuts (1/2 make a heading, a inserts a cell) never ran while the widget had focus
    assert nb.cell_count() == cells
    assert nb.page_errors == []
    nb.wait_kernel("len(nba.Database(db).dataset('reviewed'))", 3)
    nb.execute("session.close(); from nbannotate import store; store.close_all()")
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT kind, view_id, answer, annotator, text, task FROM answers "
            "WHERE dataset = 'reviewed' ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    got = [
        (
            k,
            v,
            a,
            who,
            t,
            [(s["start"], s["end"], s["label"]) for s in json.loads(task)["spans"]],
            json.loads(task)["meta"]["review"]["chosen"],
            [
                (x["version"], x["annotator"])
                for x in json.loads(task)["meta"]["review"]["versions"]
            ],
        )
        for k, v, a, who, t, task in rows
    ]
    assert got == [
        ("gold", "ner_manual", "accept", "rev", TEXTS[0], BOB[0], 2, [(1, "alice"), (2, "bob")]),
        ("gold", "ner_manual", "accept", "rev", TEXTS[1], ALICE[1], 1, [(1, "alice"), (2, "bob")]),
        (
            "gold",
            "ner_manual",
            "accept",
            "rev",
            TEXTS[2],
            [(3, 14, "ORG")],
            "edited",
            [(1, "alice"), (2, "bob")],
        ),
    ]
