// Effort in actions and the correction of a rejected whole analysis (teach), against a fake
// anywidget model in happy-dom (node --test).
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { derive } from "../state.js";
import { createView } from "../widget.js";
import { FakeModel, key, makeTask, setupDom } from "./fake-model.js";

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

const TEXT = "My iPhone broke in Berlin .";
// tokens: My iPhone broke in Berlin .
const TOKENS = [[0, 2], [3, 9], [10, 15], [16, 18], [19, 25], [26, 27]];
const WHOLE_HASH = "3000000000000000001";
const FIX_HASH = "3000000000000000002";

/** A whole analysis ("My iPhone" and "Berlin" as PRODUCT) and its correction, as the kernel
 * sends them (feed.py). */
function wholeTask() {
  const spans = [
    { start: 0, end: 9, label: "PRODUCT", score: 0.6, source: "model" },
    { start: 19, end: 25, label: "PRODUCT", score: 0.6, source: "model" },
  ];
  const correction = {
    task_hash: FIX_HASH, input_hash: "77", view_id: "ner_manual", text: TEXT,
    spans: [
      { start: 0, end: 9, token_start: 0, token_end: 1, label: "PRODUCT", score: null, source: "model" },
      { start: 19, end: 25, token_start: 4, token_end: 4, label: "PRODUCT", score: null, source: "model" },
    ],
    meta: { model_version: 3, correction: true, corrects: WHOLE_HASH },
    tokens: TOKENS, labels: ["PRODUCT", "ORG"],
  };
  return {
    task_hash: WHOLE_HASH, input_hash: "77", view_id: "ner", text: TEXT, spans,
    meta: { score: 0.6, model_version: 3, whole: true }, correction,
  };
}

const progress = () => ({
  session: { accept: 0, reject: 0, ignore: 0, total: 0 },
  dataset: { accept: 0, reject: 0, ignore: 0, total: 0 },
  actions: { total: 4, answer: 4, select: 0, label: 0, remove: 0, submit: 0, undo: 0, change: 0, skip: 0 },
});

function mount(queue) {
  const model = new FakeModel({ queue, status: "ready", labels: ["PRODUCT", "ORG"], progress: progress() });
  view = createView({ model, el: dom.el });
  view.root.focus();
  return { model, root: view.root, $: (sel) => view.root.querySelector(sel) };
}

const marks = (root) => [...root.querySelectorAll(".nba-text mark.nba-span")].map((m) => [
  [...m.querySelectorAll(".nba-tok, .nba-gap")].map((x) => x.textContent).join(""),
  m.querySelector(".nba-span-label").textContent,
]);

describe("correction of a rejected whole analysis", () => {
  test("x turns the card into the analysis to fix; the fixes and the submit are sent as actions", () => {
    const { model, root, $ } = mount([wholeTask(), makeTask(2)]);
    assert.equal($(".nba-card").dataset.view, "teach");
    key(dom.window, root, "x");
    // at once, before the kernel's reply: the correction, pre-filled with the model's spans
    assert.equal($(".nba-card").dataset.view, "correction");
    assert.equal($(".nba-card").dataset.taskHash, FIX_HASH);
    assert.equal($(".nba-correction-prompt").hidden, false);
    assert.deepEqual(marks(root), [["My iPhone", "PRODUCT"], ["Berlin", "PRODUCT"]]);
    assert.deepEqual(model.answers()[0], {
      type: "answer", task_hash: WHOLE_HASH, answer: "reject", actions: { answer: 1 }, seq: 1, client: view.client,
    });
    // fix: remove "My iPhone" (cursor on it, r), select "iPhone" with keys and label it PRODUCT,
    // relabel "Berlin" to ORG (cursor on it, 2)
    key(dom.window, root, "ArrowRight"); // cursor on "My"
    key(dom.window, root, "r");
    key(dom.window, root, "ArrowRight"); // "iPhone"
    key(dom.window, root, "ArrowRight", { shiftKey: true });
    key(dom.window, root, "ArrowLeft", { shiftKey: true }); // selects "iPhone"
    key(dom.window, root, "1");
    for (let i = 0; i < 3; i++) key(dom.window, root, "ArrowRight"); // "Berlin"
    key(dom.window, root, "2");
    assert.deepEqual(marks(root), [["iPhone", "PRODUCT"], ["Berlin", "ORG"]]);
    key(dom.window, root, "a");
    assert.deepEqual(model.answers()[1], {
      type: "answer", task_hash: FIX_HASH, answer: "accept", seq: 2, client: view.client,
      spans: [{ start: 3, end: 9, label: "PRODUCT" }, { start: 19, end: 25, label: "ORG" }],
      actions: { remove: 1, select: 1, label: 2, submit: 1 },
    });
    // the next question, and the actions counted at once in the side panel: 4 + 1 + 5
    assert.equal($(".nba-card").dataset.view, "teach");
    assert.equal($(".nba-actions").textContent, "actions 10");
    assert.match($(".nba-actions").title, /answer 5, select 1, label 2, remove 1, submit 1/);
  });

  test("space, x or Escape leave the correction: a skip, nothing stored, the next question", () => {
    for (const leave of [" ", "x", "Escape"]) {
      const { model, root, $ } = mount([wholeTask(), makeTask(2)]);
      key(dom.window, root, "x");
      assert.equal($(".nba-card").dataset.view, "correction");
      key(dom.window, root, leave);
      assert.deepEqual(model.answers().slice(1), [{ type: "skip", task_hash: FIX_HASH, seq: 2, client: view.client }], leave);
      assert.equal($(".nba-card").dataset.taskHash, makeTask(2).task_hash, leave);
      assert.equal($(".nba-actions").textContent, "actions 6", leave);
      view.destroy();
      view = null;
    }
  });

  test("Escape with a keyboard selection only drops the selection", () => {
    const { model, root, $ } = mount([wholeTask()]);
    key(dom.window, root, "x");
    key(dom.window, root, "ArrowRight", { shiftKey: true });
    key(dom.window, root, "Escape");
    assert.equal(model.answers().length, 1, "no skip");
    assert.equal($(".nba-card").dataset.view, "correction");
  });

  test("backspace on the correction undoes the reject: the whole analysis is back", () => {
    const { model, root, $ } = mount([wholeTask(), makeTask(2)]);
    key(dom.window, root, "x");
    key(dom.window, root, "Backspace");
    assert.deepEqual(model.answers().map((m) => m.type), ["answer", "undo"]);
    assert.equal($(".nba-card").dataset.view, "teach");
    assert.equal($(".nba-card").dataset.taskHash, WHOLE_HASH);
    assert.equal($(".nba-correction-prompt").hidden, true);
  });

  test("the kernel's queue, with the correction first, keeps the edits on screen", () => {
    const { model, root, $ } = mount([wholeTask(), makeTask(2)]);
    key(dom.window, root, "x");
    key(dom.window, root, "ArrowRight");
    key(dom.window, root, "r"); // "My iPhone" removed
    // the kernel acknowledges the reject: its queue holds the correction first
    model.kernelUpdate({ queue: [wholeTask().correction, makeTask(2)], acks: { [view.client]: 1 } });
    assert.equal($(".nba-card").dataset.taskHash, FIX_HASH);
    assert.deepEqual(marks(root), [["Berlin", "PRODUCT"]]);
  });
});

describe("derive with corrections", () => {
  const cache = new Map();
  test("a reject puts the correction first; a skip takes it away; an undo takes it with the reject", () => {
    const whole = wholeTask();
    const server = { queue: [whole, makeTask(2)], history: [], progress: progress() };
    const rejected = derive(server, [{ type: "answer", task_hash: WHOLE_HASH, answer: "reject", actions: { answer: 1 }, seq: 1 }], cache);
    assert.deepEqual(rejected.queue.map((t) => t.task_hash), [FIX_HASH, makeTask(2).task_hash]);
    assert.equal(rejected.progress.actions.total, 5);
    const skipped = derive(server, [
      { type: "answer", task_hash: WHOLE_HASH, answer: "reject", seq: 1 },
      { type: "skip", task_hash: FIX_HASH, seq: 2 },
    ], cache);
    assert.deepEqual(skipped.queue.map((t) => t.task_hash), [makeTask(2).task_hash]);
    assert.equal(skipped.progress.actions.skip, 1);
    cache.set(WHOLE_HASH, whole);
    const undone = derive({ ...server, queue: [whole.correction, makeTask(2)], history: [
      { task_hash: WHOLE_HASH, span_text: "", label: null, answer: "reject", whole: true },
    ] }, [{ type: "undo", seq: 2 }], cache);
    assert.deepEqual(undone.queue.map((t) => t.task_hash), [WHOLE_HASH, makeTask(2).task_hash]);
    assert.equal(undone.progress.actions.undo, 1);
  });

  test("a submitted correction settles the text's other questions at once, as the kernel does", () => {
    const whole = wholeTask();
    const sameText = { ...makeTask(5), input_hash: "77" };
    const server = { queue: [whole.correction, sameText, makeTask(2)], history: [], progress: progress() };
    const now = derive(server, [{ type: "answer", task_hash: FIX_HASH, answer: "accept", spans: [], seq: 1 }], cache);
    assert.deepEqual(now.queue.map((t) => t.task_hash), [makeTask(2).task_hash]);
  });

  test("a binary answer counts one action", () => {
    const server = { queue: [makeTask(1)], history: [], progress: progress() };
    const now = derive(server, [{ type: "answer", task_hash: makeTask(1).task_hash, answer: "accept", actions: { answer: 1 }, seq: 1 }], cache);
    assert.equal(now.progress.actions.total, 5);
    assert.equal(now.progress.actions.answer, 5);
  });
});
