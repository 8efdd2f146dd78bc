// Unit tests of the review view (a manual task with the annotators' versions) against a fake
// anywidget model, in happy-dom (node --test).
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { digitOf } from "../review.js";
import { createView } from "../widget.js";
import { FakeModel, key, setupDom } from "./fake-model.js";

let dom;
let view;

beforeEach(() => {
  dom = setupDom();
});
afterEach(async () => {
  view?.destroy();
  view = null;
  await dom.window.happyDOM.abort();
  dom.window.close();
});

// "I bought an <b>iPhone</b> from Apple ." as tokens (words split on spaces, the final dot alone)
const TEXT = "I bought an <b>iPhone</b> from Apple .";
function tokens(text) {
  const out = [];
  const re = /\S+/g;
  let m;
  while ((m = re.exec(text)) !== null) out.push([m.index, m.index + m[0].length]);
  return out;
}
const at = (word) => TEXT.indexOf(word);
const span = (word, label, i) => ({ start: at(word), end: at(word) + word.length, label, token_start: i, token_end: i });

function reviewTask() {
  const iphone = span("<b>iPhone</b>", "PRODUCT", 3);
  const apple = span("Apple", "ORG", 5);
  return {
    task_hash: "3000000000000000001",
    input_hash: "1",
    view_id: "ner_manual",
    text: TEXT,
    tokens: tokens(TEXT),
    labels: ["PRODUCT", "ORG"],
    meta: {},
    spans: [iphone],
    versions: [
      { n: 1, kind: "complete", annotators: ["alice"], when: "2026-12-07 10:00 UTC", spans: [iphone], rejected: [] },
      { n: 2, kind: "complete", annotators: ["bob", "carol"], when: "2026-12-07 11:00 UTC", spans: [iphone, apple], rejected: [] },
      { n: 3, kind: "binary", annotators: ["dave"], when: "", spans: [apple], rejected: [{ start: at("<b>iPhone</b>"), end: at("<b>iPhone</b>") + 13, label: "PRODUCT" }] },
    ],
  };
}

function mount() {
  const model = new FakeModel({ queue: [reviewTask()], status: "ready", mode: "review", labels: ["PRODUCT", "ORG"] });
  view = createView({ model, el: dom.el });
  view.root.focus();
  return { model, root: view.root };
}

const marks = (root) => [...root.querySelectorAll(".nba-text mark.nba-span")].map((m) => [
  [...m.querySelectorAll(".nba-tok, .nba-gap")].map((x) => x.textContent).join(""),
  m.querySelector(".nba-span-label").textContent,
]);
const answers = (model) => model.sent.filter((m) => m.type === "answer");

describe("review view", () => {
  test("shows each version: who, when, spans, rejected spans; text stays text", () => {
    const { root } = mount();
    const boxes = [...root.querySelectorAll(".nba-version")];
    assert.equal(boxes.length, 3);
    assert.equal(boxes[1].querySelector(".nba-version-who").textContent, "bob, carol");
    assert.equal(boxes[1].querySelector(".nba-version-when").textContent, "2026-12-07 11:00 UTC");
    assert.deepEqual([...boxes[1].querySelectorAll("mark .nba-span-text")].map((m) => m.textContent), ["<b>iPhone</b>", "Apple"]);
    assert.equal(boxes[2].querySelector(".nba-version-kind").textContent, "binary answers: accepted spans marked");
    assert.equal(boxes[2].querySelector(".nba-rejected-span").firstChild.textContent, "<b>iPhone</b>");
    assert.equal(root.querySelectorAll("b").length, 0, "markup in the text is never parsed");
    assert.deepEqual(marks(root), [["<b>iPhone</b>", "PRODUCT"]], "the editor starts from version 1");
  });

  test("a digit loads that version into the editor; a stores it with its spans", () => {
    const { root, model } = mount();
    key(dom.window, root, "2");
    assert.deepEqual(marks(root), [["<b>iPhone</b>", "PRODUCT"], ["Apple", "ORG"]]);
    assert.ok(root.querySelector('.nba-version[data-n="2"]').classList.contains("nba-version-picked"));
    assert.equal(answers(model).length, 0, "a pick alone stores nothing");
    key(dom.window, root, "a");
    assert.deepEqual(answers(model)[0].spans, [
      { start: at("<b>iPhone</b>"), end: at("<b>iPhone</b>") + 13, label: "PRODUCT" },
      { start: at("Apple"), end: at("Apple") + 5, label: "ORG" },
    ]);
  });

  test("shift+digit labels the span under the cursor; a missing version is refused", () => {
    const { root, model } = mount();
    key(dom.window, root, "3"); // dave's accepted span only
    assert.deepEqual(marks(root), [["Apple", "ORG"]]);
    key(dom.window, root, "!", { shiftKey: true, code: "Digit1" }); // cursor is on no span: sets the active label
    key(dom.window, root, "ArrowRight"); // cursor to "I"
    key(dom.window, root, "Shift", {});
    key(dom.window, root, "ArrowRight", { shiftKey: true }); // select "I bought"
    key(dom.window, root, "Enter");
    assert.deepEqual(marks(root), [["I bought", "PRODUCT"], ["Apple", "ORG"]]);
    key(dom.window, root, "7");
    assert.match(root.querySelector(".nba-manual-msg").textContent, /No version 7/);
    key(dom.window, root, "a");
    assert.deepEqual(answers(model)[0].spans.map((s) => s.label), ["PRODUCT", "ORG"]);
  });

  test("a version's load button loads it too", () => {
    const { root } = mount();
    root.querySelector('.nba-version-pick[data-version="2"]').dispatchEvent(
      new dom.window.MouseEvent("click", { bubbles: true, cancelable: true }));
    assert.deepEqual(marks(root), [["<b>iPhone</b>", "PRODUCT"], ["Apple", "ORG"]]);
  });

  test("digitOf reads the digit key, or the physical key under shift", () => {
    assert.equal(digitOf(/** @type {any} */ ({ key: "4", code: "Digit4" })), 4);
    assert.equal(digitOf(/** @type {any} */ ({ key: "$", code: "Digit4" })), 4);
    assert.equal(digitOf(/** @type {any} */ ({ key: "0", code: "Digit0" })), null);
    assert.equal(digitOf(/** @type {any} */ ({ key: "a", code: "KeyA" })), null);
  });
});

describe("review progress", () => {
  test("the side panel counts the texts reviewed, not the source read", () => {
    const model = new FakeModel({
      queue: [reviewTask()], status: "ready", mode: "review", labels: ["PRODUCT", "ORG"],
      progress: { source_total: 4, source_read: 4, review: { to_review: 4, reviewed: 1, conflicts: 4, agreed: 2, auto_accepted: 2 } },
    });
    view = createView({ model, el: dom.el });
    assert.equal(view.root.querySelector(".nba-estimate").textContent, "25% reviewed (1 of 4 texts)");
    assert.equal(view.root.querySelector(".nba-review-counts").textContent,
      "texts: 4 conflicts · 2 agreed · 2 agreed stored at once");
  });
});
