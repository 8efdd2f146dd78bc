"""The widget on a PostgreSQL dataset a team shares, in real JupyterLab and real Chromium.

Another annotator's answers are on the dataset already; this annotator answers with the keys,
the side panel shows both annotators' counts, the server goes away (the widget says so and
keeps the card), comes back, and the same key press stores the answer: nothing lost, nothing
twice, and the password never reaches the widget.
"""

from __future__ import annotations

import time

import pytest

import nbannotate as nba

pytestmark = pytest.mark.e2e

TEXTS = [f"My iPhone {i} broke, so I bought a Pixel from shop {i} in Berlin." for i in range(12)]
SETUP = """\
import nbannotate as nba
patterns = [{{"label": "PRODUCT", "pattern": [{{"lower": "iphone"}}]}},
            {{"label": "PRODUCT", "pattern": [{{"lower": "pixel"}}]}}]
session = nba.teach("team", {texts!r}, model="blank:en", labels=["PRODUCT"],
                    patterns=patterns, db={url!r}, annotator="ann", batch_size=3)
session"""
CARD = ".nba-root .nba-card"


def current(page) -> str | None:
    return page.locator(CARD).get_attribute("data-task-hash")


def wait_for(check, what: str, timeout: float = 60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = check()
        if got is not None and got is not False:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_team_dataset_in_the_widget_survives_the_server_going_away(lab, notebook, pg_server):
    pg_server.sql("CREATE ROLE ann LOGIN PASSWORD 'pw-ann-31' SUPERUSER")
    dbname = pg_server.create_database().rsplit("/", 1)[1]
    url = pg_server.url(dbname, "ann", "pw-ann-31")
    with nba.Database(url) as db:  # ben answered three texts before
        ds = db.dataset("team", create=True)
        for i in range(3):
            ds.add({"text": f"Ben's text {i} about a Kindle ."}, answer="reject", annotator="ben")
    nb = notebook([SETUP.format(texts=TEXTS, url=url)])
    page = nb.page
    page.locator('.nba-root[data-state="ready"]').wait_for(timeout=60_000)
    root = page.locator(".nba-root")
    root.locator(".nba-text").click()
    page.keyboard.press("a")
    page.keyboard.press("x")
    wait_for(
        lambda: root.locator('.nba-team [data-annotator="ann"]').text_content() == "ann 2",
        "the side panel to count ann's two answers",
    )
    assert root.locator('.nba-team [data-annotator="ben"]').text_content() == "ben 3"

    held = current(page)
    pg_server.stop("fast")
    try:
        page.keyboard.press("a")
        notice = root.locator(".nba-notice")
        wait_for(lambda: "PostgreSQL" in (notice.text_content() or ""), "the store's error")
        wait_for(lambda: current(page) == held, "the card to come back")
    finally:
        pg_server.start()
    page.keyboard.press("a")  # the same card, answered again once the server is back
    wait_for(lambda: current(page) != held, "the next card")
    # (the cell's code holds the URL as the user typed it; the widget never shows it)
    assert "pw-ann-31" not in root.evaluate("e => e.outerHTML")
    with nba.Database(url) as db:
        df = wait_for(
            lambda: (
                (d := db.dataset("team").to_pandas())[d["annotator"] == "ann"].shape[0] == 3 and d
            ),
            "three answers of ann in the store",
        )
    ann = df[df["annotator"] == "ann"]
    assert ann["task_hash"].is_unique and str(held) in set(ann["task_hash"].astype(str))
    assert list(ann["answer"]) == ["accept", "reject", "accept"]
