// Unit tests of card.js: the card of a teach question, its meta and details.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { createCard, fmtMeta, fmtScore, wholePrompt } from "../card.js";
import { makeTask, setupDom } from "./fake-model.js";

let dom;
beforeEach(() => {
  dom = setupDom();
});
afterEach(async () => {
  await dom.window.happyDOM.abort();
  dom.window.close();
});

test("scores with two decimals, meta values as JSON unless text", () => {
  assert.equal(fmtScore(0.456), "0.46");
  assert.equal(fmtScore(null), "–");
  assert.equal(fmtScore(Number.NaN), "–");
  assert.equal(fmtMeta("a b"), "a b");
  assert.equal(fmtMeta({ x: [1] }), '{"x":[1]}');
  const loop = {};
  loop.self = loop;
  assert.equal(fmtMeta(loop), "[object Object]");
});

test("a whole analysis asks whether its entities are all of them, a completion says whose they are", () => {
  const spans = [{ start: 0, end: 1, label: "X" }];
  assert.match(wholePrompt({ text: "a", task_hash: "1", spans }), /^Complete analysis\?/);
  assert.match(wholePrompt({ text: "a", task_hash: "1", spans: [] }), /^No entities\?/);
  assert.match(wholePrompt({ text: "a", task_hash: "1", spans, meta: { completion: true } }), /your accepts/);
  assert.match(wholePrompt({ text: "a", task_hash: "1", meta: { completion: true } }), /^No entities at all\?/);
});

test("a teach card: chip, score, source, the span marked; the project's meta behind details", () => {
  const card = createCard({ doc: dom.document, labels: () => ["PRODUCT"] });
  const task = makeTask(1, { meta: { score: 0.5, model_version: 2, line: 7, section: "x" } });
  card.show(task, false);
  assert.equal(card.el.dataset.taskHash, task.task_hash);
  assert.equal(card.el.dataset.view, "teach");
  assert.equal(card.el.querySelector(".nba-chip").textContent, "PRODUCT");
  assert.equal(card.el.querySelector(".nba-score").textContent, "score 0.50");
  assert.equal(card.el.querySelector("mark .nba-span-text").textContent, "gadget1");
  const own = [...card.el.querySelectorAll(".nba-meta:not(.nba-meta-details) dt")].map((d) => d.textContent);
  assert.deepEqual(own, ["section"]);
  const toggle = card.el.querySelector(".nba-details-toggle");
  assert.equal(toggle.textContent, "▸ details (2)");
  assert.equal(card.el.querySelector(".nba-meta-details").hidden, true);
  card.toggleDetails();
  assert.equal(toggle.textContent, "▾ details (2)");
  assert.equal(card.el.querySelector(".nba-meta-details").hidden, false);
  card.show(makeTask(2), false);
  assert.equal(toggle.getAttribute("aria-expanded"), "true", "details stay open from task to task");
  card.show(null, false);
  assert.equal(card.el.dataset.taskHash, undefined);
  assert.equal(card.el.querySelector(".nba-text").textContent, "");
});

test("the span is scrolled into view only when asked", () => {
  const card = createCard({ doc: dom.document, labels: () => [] });
  let scrolled = 0;
  dom.window.HTMLElement.prototype.scrollIntoView = () => (scrolled += 1);
  card.show(makeTask(1), false);
  assert.equal(scrolled, 0);
  card.show(makeTask(2), true);
  assert.equal(scrolled, 1);
});
