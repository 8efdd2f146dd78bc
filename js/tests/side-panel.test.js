// Unit tests of side-panel.js and history.js: counts, precision sparkline, last decisions.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { describeRow, renderHistory } from "../history.js";
import { createSidePanel, precisionRow, renderProgress, sparkline } from "../side-panel.js";
import { setupDom } from "./fake-model.js";

let dom;
beforeEach(() => {
  dom = setupDom();
});
afterEach(async () => {
  await dom.window.happyDOM.abort();
  dom.window.close();
});

describe("progress", () => {
  test("counts per answer, unknown ones as a dash", () => {
    const el = dom.document.createElement("div");
    renderProgress(dom.document, el, {
      session: { accept: 2, reject: 1, ignore: 0, total: 3 }, dataset: null, accept_rate: 2 / 3, updates: 4,
      source_total: 10, source_read: 20,
    }, false);
    const texts = (sel) => [...el.querySelectorAll(sel)].map((n) => n.textContent);
    assert.deepEqual(texts(".nba-counts-session .nba-count"), ["✓ 2", "✗ 1", "⊘ 0"]);
    assert.deepEqual(texts(".nba-counts-dataset .nba-count"), ["✓ –", "✗ –", "⊘ –"]);
    assert.equal(el.querySelector(".nba-rate").textContent, "accept rate 67%");
    assert.equal(el.querySelector(".nba-updates").textContent, "model updates 4");
    assert.equal(el.querySelector(".nba-estimate").textContent, "100% of the source read (10 of 10 texts)");
    assert.ok(el.querySelector(".nba-precision"), "teach mode: the model's precision");
    renderProgress(dom.document, el, {}, true);
    assert.equal(el.querySelector(".nba-precision"), null, "manual mode: no precision");
    assert.equal(el.querySelector(".nba-bar"), null, "no source size: no bar");
  });

  test("a team: answers per annotator (this one first), texts held by others, the store's error", () => {
    const el = dom.document.createElement("div");
    renderProgress(dom.document, el, {
      annotator: "ben", annotators: { ann: 12, ben: 3, "": 1 }, held_by_others: 2,
      store_error: "Lost the connection to <b>the server</b>",
    }, true);
    const parts = [...el.querySelectorAll(".nba-team span[data-annotator]")].map((n) => n.textContent);
    assert.deepEqual(parts, ["ben 3", "(no name) 1", "ann 12"]);
    assert.equal(el.querySelector(".nba-team-me").textContent, "ben 3");
    assert.equal(el.querySelector(".nba-team-held").textContent, "2 held by others");
    const err = el.querySelector(".nba-store-error");
    assert.equal(err.textContent, "Lost the connection to <b>the server</b>", "text, never HTML");
    assert.equal(err.querySelector("b"), null);
    renderProgress(dom.document, el, { annotators: { "": 4 } }, true);
    assert.equal(el.querySelector(".nba-team"), null, "one annotator without a name: no team row");
  });

  test("precision: a percentage of the last answers, or a dash before any", () => {
    const known = precisionRow(dom.document, { model_precision: 0.5, model_precision_answers: 8 });
    assert.equal(known.textContent, "model precision50%last 8");
    const unknown = precisionRow(dom.document, { model_precision: null, model_precision_history: [0.5] });
    assert.equal(unknown.textContent, "model precision–");
    assert.equal(unknown.querySelector("svg"), null, "one point: no line");
  });

  test("the sparkline runs oldest left, values clamped into its box", () => {
    const svg = sparkline(dom.document, [0, 2, 1]);
    const points = svg.querySelector("polyline").getAttribute("points").split(" ").map((p) => p.split(",").map(Number));
    assert.deepEqual(points.map(([x]) => x), [1, 40, 79]);
    assert.deepEqual(points.map(([, y]) => y), [16, 2, 2]);
    assert.equal(svg.querySelector("circle").getAttribute("cx"), "79.0");
    assert.match(svg.getAttribute("aria-label"), /from 0% to 100%/);
  });

  test("the panel repaints a part only when what it shows changed", () => {
    const panel = createSidePanel(dom.document);
    const now = { progress: { updates: 1 }, history: [], manual: false, off: false, labels: [] };
    panel.update(now);
    const counts = panel.el.querySelector(".nba-counts");
    panel.update({ ...now, progress: { updates: 1 } });
    assert.equal(panel.el.querySelector(".nba-counts"), counts, "same progress: same nodes");
    panel.update({ ...now, progress: { updates: 2 } });
    assert.notEqual(panel.el.querySelector(".nba-counts"), counts);
  });
});

describe("history", () => {
  const row = (over) => ({ task_hash: "9007199254740993", span_text: "gadget", label: "PRODUCT", answer: "accept", ...over });

  test("a row is about its span, a whole analysis or manual text about all its entities", () => {
    assert.deepEqual(describeRow(row()), { whole: false, chip: "PRODUCT", text: "gadget" });
    assert.deepEqual(describeRow(row({ whole: true, spans: [{ text: "Apple", label: "ORG" }] })),
      { whole: true, chip: "whole", text: "Apple (ORG)" });
    assert.deepEqual(describeRow(row({ manual: true, spans: [] })), { whole: true, chip: "text", text: "no entities" });
  });

  test("each row has its buttons, the chosen answer pressed, named for a screen reader", () => {
    const el = dom.document.createElement("ol");
    renderHistory(dom.document, el, [row({ pending: true }), row({ task_hash: "2", answer: "reject", label: "<b>X</b>" })],
      { color: () => "#abc", off: false });
    const [first, second] = el.querySelectorAll("li");
    assert.equal(first.dataset.taskHash, "9007199254740993");
    assert.ok(first.classList.contains("nba-pending"));
    const pressed = [...first.querySelectorAll("button")].map((b) => b.getAttribute("aria-pressed"));
    assert.deepEqual(pressed, ["true", "false", "false"]);
    assert.equal(first.querySelector(".nba-hist-btn-accept").getAttribute("aria-label"), "accepted — PRODUCT: gadget");
    assert.equal(first.querySelector(".nba-hist-btn-ignore").getAttribute("aria-label"), "change to ignore — PRODUCT: gadget");
    assert.equal(second.querySelector(".nba-chip").textContent, "<b>X</b>");
    assert.equal(el.querySelectorAll("b").length, 0, "a label is text, never HTML");
    renderHistory(dom.document, el, [row()], { color: () => "#abc", off: true });
    assert.ok([...el.querySelectorAll("button")].every((b) => b.disabled), "off: no change possible");
  });
});
