// Unit tests of keys.js: which keys are left to JupyterLab, which the view answers with.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { createKeys, KEYS, labShortcut, SUPPRESS } from "../keys.js";
import { key, setupDom } from "./fake-model.js";

const ev = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

describe("labShortcut", () => {
  test("save, run the cell and the command palette are JupyterLab's", () => {
    for (const e of [ev("s", { ctrlKey: true }), ev("s", { metaKey: true }), ev("S", { ctrlKey: true }),
      ev("Enter", { shiftKey: true }), ev("Enter", { ctrlKey: true }), ev("Enter", { altKey: true }),
      ev("C", { ctrlKey: true, shiftKey: true })]) {
      assert.equal(labShortcut(e), true, JSON.stringify(e));
    }
  });

  test("every other key, chord or not, is kept from Lab's shortcuts", () => {
    for (const e of [ev("a"), ev("x"), ev(" "), ev("Backspace"), ev("1"), ev("Enter"), ev("b"),
      ev("Backspace", { ctrlKey: true }), ev("Enter", { ctrlKey: true, shiftKey: true }),
      ev("s", { ctrlKey: true, shiftKey: true }), ev("s", { ctrlKey: true, altKey: true }),
      ev("c", { ctrlKey: true }), { ...ev("a"), key: undefined }]) {
      assert.equal(labShortcut(e), false, JSON.stringify(e));
    }
  });

  test("a, x and space answer", () => {
    assert.deepEqual(KEYS, { a: "accept", x: "reject", " ": "ignore" });
  });
});

describe("createKeys", () => {
  let dom;
  beforeEach(() => {
    dom = setupDom();
  });
  afterEach(async () => {
    await dom.window.happyDOM.abort();
    dom.window.close();
  });

  function wire({ off = false, manual = false, selection = null, editorTakes = false } = {}) {
    const root = dom.document.createElement("div");
    dom.el.append(root);
    const calls = [];
    const editor = { selection, onKey: () => editorTakes };
    const keys = createKeys({
      root, win: dom.window, off: () => off, manual: () => manual, editor,
      answer: (a) => calls.push(a), undo: () => calls.push("undo"),
    });
    root.addEventListener("keydown", keys.onKeyDown);
    dom.window.addEventListener("keydown", keys.onAnyKeyDown, true);
    return { root, calls };
  }

  test("answer keys (Caps Lock too) and undo call their action and are swallowed", () => {
    const { root, calls } = wire();
    for (const k of ["a", "X", " ", "Backspace", "Delete"]) assert.equal(key(dom.window, root, k).defaultPrevented, true);
    assert.deepEqual(calls, ["accept", "reject", "ignore", "undo", "undo"]);
    assert.equal(key(dom.window, root, "a", { repeat: true }).defaultPrevented, true);
    assert.equal(calls.length, 5, "a held key answers once");
  });

  test("off: nothing is answered, the widget's keys are still swallowed", () => {
    const { root, calls } = wire({ off: true });
    assert.equal(key(dom.window, root, " ").defaultPrevented, true);
    assert.equal(key(dom.window, root, "q").defaultPrevented, false);
    assert.deepEqual(calls, []);
  });

  test("the attribute keeping Lab's shortcuts off is taken off for Lab's own keys only", () => {
    const { root } = wire();
    root.setAttribute(SUPPRESS, "true");
    key(dom.window, root, "s", { ctrlKey: true });
    assert.equal(root.hasAttribute(SUPPRESS), false);
    key(dom.window, root, "b");
    assert.equal(root.getAttribute(SUPPRESS), "true");
  });

  test("shift+enter labels a pending manual selection instead of running the cell", () => {
    const { root } = wire({ manual: true, selection: [0, 1], editorTakes: true });
    assert.equal(key(dom.window, root, "Enter", { shiftKey: true }).defaultPrevented, true);
    assert.equal(root.getAttribute(SUPPRESS), "true");
  });
});
