// Unit tests of status.js: the view's state, its state line and focus hint, the answer buttons.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createAlerts, createButtons, focusHint, stateText, viewState } from "../status.js";
import { setupDom } from "./fake-model.js";

test("a lost kernel wins over a closed session, which wins over a task on screen", () => {
  const base = { lost: false, closed: false, task: false, status: "loading" };
  assert.equal(viewState({ ...base, lost: true, closed: true, task: true }), "lost");
  assert.equal(viewState({ ...base, lost: true, task: true }), "lost");
  assert.equal(viewState({ ...base, closed: true, task: true }), "closed");
  assert.equal(viewState({ ...base, task: true, status: "error" }), "ready");
  assert.equal(viewState({ ...base, status: "error" }), "error");
  assert.equal(viewState({ ...base, status: "done" }), "done");
  assert.equal(viewState({ ...base, status: "ready" }), "loading");
});

test("the state line says what the view waits for or why it stopped", () => {
  assert.equal(stateText("loading"), "Loading tasks…");
  assert.match(stateText("done"), /exhausted.*saved/);
  assert.match(stateText("error"), /error below/);
  assert.equal(stateText("ready"), "");
});

test("the focus hint says whether the keys work, and which", () => {
  const base = { lost: false, off: false, focused: true, manual: false };
  assert.match(focusHint({ ...base, lost: true, off: true }), /no connection/);
  assert.match(focusHint({ ...base, off: true }), /session is closed/);
  assert.equal(focusHint({ ...base, focused: false }), "click here to use the keys");
  assert.match(focusHint(base), /^keys active: a accept/);
  assert.match(focusHint({ ...base, manual: true }), /1–9 label/);
});

test("the answer buttons name their keys and keep focus off themselves", async () => {
  const dom = setupDom();
  const { el, byAction } = createButtons(dom.document);
  assert.deepEqual(Object.keys(byAction), ["accept", "reject", "ignore", "undo"]);
  assert.equal(byAction.ignore.title, "Ignore (space)");
  assert.equal(el.querySelectorAll("button[tabindex='-1']").length, 4);
  await dom.window.happyDOM.abort();
  dom.window.close();
});

test("alerts: a closed session says why once, a lost kernel says how to carry on", async () => {
  const dom = setupDom();
  const alerts = createAlerts(dom.document);
  const [lost, error, notice] = alerts.els;
  alerts.update({ lost: false, closed: false, error: "boom", notice: "refused" });
  assert.deepEqual([lost.hidden, error.textContent, notice.textContent], [true, "Error in the kernel: boom", "refused"]);
  alerts.update({ lost: false, closed: true, error: "a newer session took over", notice: "refused" });
  assert.deepEqual([lost.hidden, lost.textContent, error.hidden, notice.hidden], [false, "a newer session took over", true, true]);
  alerts.update({ lost: true, closed: false, error: "", notice: "" });
  assert.match(lost.textContent, /run the cell again/);
  const buttons = createButtons(dom.document);
  buttons.update({ off: false, task: true, history: false });
  assert.deepEqual(Object.values(buttons.byAction).map((b) => b.disabled), [false, false, false, true]);
  buttons.update({ off: true, task: true, history: true });
  assert.ok(Object.values(buttons.byAction).every((b) => b.disabled));
  await dom.window.happyDOM.abort();
  dom.window.close();
});
