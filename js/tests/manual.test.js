// Unit tests of the manual view (manual and correct sessions) against a fake anywidget model, in
// happy-dom (node --test). Mouse selections are made with the DOM Selection API between a
// mousedown and a mouseup, as a browser does on a drag.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { initialSpans, snapRange, stepToken, tokenize } from "../manual.js";
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

/** Tokens like spaCy's: words and punctuation; one space is a token's trailing whitespace,
 * any other whitespace (a line break, two spaces) is a token of its own. */
function spacyTokens(text) {
  const chars = Array.from(text);
  const tokens = [];
  let i = 0;
  while (i < chars.length) {
    const start = i;
    if (/\s/.test(chars[i])) {
      if (chars[i] === " " && i > 0 && !/\s/.test(chars[i - 1])) {
        i += 1; // one space after a word: that word's trailing whitespace
        continue;
      }
      while (i < chars.length && /\s/.test(chars[i])) i += 1;
    } else if (/[.,!?]/.test(chars[i])) {
      i += 1;
    } else {
      while (i < chars.length && !/\s|[.,!?]/.test(chars[i])) i += 1;
    }
    tokens.push([start, i]);
  }
  return tokens;
}

let n = 0;
function manualTask(text, spans = [], labels = ["PRODUCT", "BRAND"]) {
  n += 1;
  return {
    task_hash: String(2000000000000000000n + BigInt(n)),
    input_hash: String(n),
    view_id: "ner_manual",
    text,
    tokens: spacyTokens(text),
    spans,
    labels,
    meta: {},
  };
}

function mount(tasks, extra = {}) {
  const model = new FakeModel({ queue: tasks, status: "ready", mode: "manual", labels: ["PRODUCT", "BRAND"], ...extra });
  view = createView({ model, el: dom.el });
  const root = view.root;
  root.focus();
  return { model, root, $: (sel) => root.querySelector(sel), $$: (sel) => [...root.querySelectorAll(sel)] };
}

const tok = (root, i) => root.querySelector(`.nba-tok[data-i="${i}"]`);

function mouse(type, target, detail = 1) {
  const ev = new dom.window.MouseEvent(type, { bubbles: true, cancelable: true, button: 0, detail });
  target.dispatchEvent(ev);
  return ev;
}

/** Double-click on a token as a browser does: two clicks, and unless the second mousedown is
 * cancelled, the word under the pointer becomes the selection. */
function dblclick(root, i) {
  mouse("mousedown", tok(root, i), 1);
  mouse("mouseup", tok(root, i), 1);
  mouse("click", tok(root, i), 1);
  const el = tok(root, i); // the first click may have repainted the text
  if (!mouse("mousedown", el, 2).defaultPrevented) {
    dom.window.getSelection().setBaseAndExtent(el.firstChild, 0, el.firstChild, el.textContent.length);
  }
  mouse("mouseup", el, 2);
  mouse("click", el, 2);
}

/** Drag from (node, offset) to (node, offset): mousedown, the browser's selection, mouseup. */
function drag(startNode, startOffset, endNode, endOffset) {
  const downOn = startNode.nodeType === 3 ? startNode.parentElement : startNode;
  const upOn = endNode.nodeType === 3 ? endNode.parentElement : endNode;
  mouse("mousedown", downOn);
  dom.window.getSelection().setBaseAndExtent(startNode, startOffset, endNode, endOffset);
  mouse("mouseup", upOn);
  mouse("click", upOn);
}

const marks = (root) => [...root.querySelectorAll(".nba-text mark.nba-span")].map((m) => [
  [...m.querySelectorAll(".nba-tok, .nba-gap")].map((x) => x.textContent).join(""),
  m.querySelector(".nba-span-label").textContent,
]);

const answers = (model) => model.sent.filter((m) => m.type === "answer");

describe("manual view", () => {
  test("each label has its own colour: on its button and on its spans", () => {
    const labels = ["PERSON", "ORG", "GPE", "LOC", "PRODUCT"];
    const text = "Ann of Acme flew to Paris over the Alps with a Pixel.";
    const span = (start, end, ts, label) => ({ start, end, token_start: ts, token_end: ts, label });
    const task = manualTask(text, [span(0, 3, 0, "PERSON"), span(7, 11, 2, "ORG"), span(20, 25, 5, "GPE"),
      span(35, 39, 8, "LOC"), span(47, 52, 11, "PRODUCT")], labels);
    const { $$ } = mount([task], { labels });
    const buttons = Object.fromEntries($$(".nba-label-btn").map((b) => [b.dataset.label, b.style.background]));
    assert.equal(new Set(Object.values(buttons)).size, labels.length);
    assert.equal($$(".nba-text mark.nba-span").length, labels.length);
    for (const m of $$(".nba-text mark.nba-span")) assert.equal(m.style.background, buttons[m.dataset.label]);
  });

  test("lists all of the user's meta, score and source too (the kernel sets no flags here)", () => {
    const task = { ...manualTask("My Pixel broke."), meta: { score: 42, source: "reddit", row: 3 } };
    const { $$ } = mount([task]);
    assert.deepEqual($$(".nba-meta-item").map((i) => i.textContent), ["score42", "sourcereddit", "row3"]);
  });

  test("shows the text as tokens, pre-highlighted spans and numbered label buttons", () => {
    const text = "My iPhone and my Pixel broke.";
    const task = manualTask(text, [{ start: 3, end: 9, token_start: 1, token_end: 1, label: "PRODUCT", source: "pattern" }]);
    const { root, $, $$ } = mount([task]);
    assert.equal($(".nba-card").dataset.view, "manual");
    assert.equal($(".nba-text").textContent.replace("PRODUCT", ""), text);
    assert.deepEqual($$(".nba-tok").map((t) => t.textContent), ["My", "iPhone", "and", "my", "Pixel", "broke", "."]);
    assert.deepEqual(marks(root), [["iPhone", "PRODUCT"]]);
    assert.deepEqual($$(".nba-label-btn").map((b) => b.textContent), ["1PRODUCT", "2BRAND"]);
    assert.equal($('.nba-label-btn[aria-checked="true"]').dataset.label, "PRODUCT");
    assert.match($(".nba-source").textContent, /pattern/);
    assert.ok(root.hasAttribute("data-lm-suppress-shortcuts"));
    assert.match($(".nba-focus-hint").textContent, /1–9 label/);
  });

  test("a mouse drag makes a span snapped to whole tokens; a number key relabels it; accept sends every span", () => {
    const text = "My iPhone and my Pixel broke.";
    const task = manualTask(text, [{ start: 3, end: 9, token_start: 1, token_end: 1, label: "PRODUCT", source: "pattern" }]);
    const { root, model, $ } = mount([task]);
    // from the middle of "my" to the middle of "Pixel": snaps to "my Pixel"
    drag(tok(root, 3).firstChild, 1, tok(root, 4).firstChild, 2);
    assert.deepEqual(marks(root), [["iPhone", "PRODUCT"], ["my Pixel", "PRODUCT"]]);
    assert.equal(dom.window.getSelection().isCollapsed, true, "the browser selection is cleared");
    key(dom.window, root, "2");
    assert.deepEqual(marks(root), [["iPhone", "PRODUCT"], ["my Pixel", "BRAND"]]);
    assert.equal($('.nba-label-btn[aria-checked="true"]').dataset.label, "BRAND");
    key(dom.window, root, "a");
    assert.deepEqual(answers(model), [{
      type: "answer", task_hash: task.task_hash, answer: "accept", seq: 1, client: view.client,
      spans: [{ start: 3, end: 9, label: "PRODUCT" }, { start: 14, end: 22, label: "BRAND" }],
      // the actions behind it: the drag selected a span, 2 picked a label, a submitted
      actions: { select: 1, label: 1, submit: 1 },
    }]);
    assert.equal(root.dataset.state, "loading");
    const row = root.querySelector(".nba-hist");
    assert.equal(row.querySelector(".nba-chip").textContent, "text");
    assert.equal(row.querySelector(".nba-hist-span").textContent, "iPhone (PRODUCT), my Pixel (BRAND)");
  });

  test("shift+arrow keys select tokens and a number key labels the selection", () => {
    const task = manualTask("I bought Apple Watch Series 9 today.");
    const { root, model, $$ } = mount([task]);
    key(dom.window, root, "ArrowRight"); // cursor on "I"
    key(dom.window, root, "ArrowRight"); // "bought"
    key(dom.window, root, "ArrowRight"); // "Apple"
    assert.ok(tok(root, 2).classList.contains("nba-cursor"));
    for (let i = 0; i < 3; i++) key(dom.window, root, "ArrowRight", { shiftKey: true });
    assert.deepEqual($$(".nba-sel").map((t) => t.textContent), ["Apple", "Watch", "Series", "9"]);
    key(dom.window, root, "ArrowLeft", { shiftKey: true });
    assert.deepEqual($$(".nba-sel").map((t) => t.textContent), ["Apple", "Watch", "Series"]);
    const ev = key(dom.window, root, "2");
    assert.ok(ev.defaultPrevented);
    assert.deepEqual(marks(root), [["Apple Watch Series", "BRAND"]]);
    assert.equal($$(".nba-sel").length, 0);
    // a plain arrow moves the cursor and drops a selection; Enter labels with the active label
    key(dom.window, root, "ArrowRight");
    key(dom.window, root, "ArrowRight", { shiftKey: true });
    key(dom.window, root, "Enter");
    assert.deepEqual(marks(root), [["Apple Watch Series", "BRAND"], ["9 today", "BRAND"]]);
    key(dom.window, root, "1"); // cursor inside the new span: relabel it
    assert.deepEqual(marks(root), [["Apple Watch Series", "BRAND"], ["9 today", "PRODUCT"]]);
    assert.equal(model.sent.filter((m) => m.type !== "hello").length, 0, "edits stay local until an answer");
  });

  test("a click on a span removes it; a label button labels like its number key", () => {
    const task = manualTask("Pixel and iPhone", [
      { start: 0, end: 5, token_start: 0, token_end: 0, label: "PRODUCT" },
      { start: 10, end: 16, token_start: 2, token_end: 2, label: "PRODUCT" },
    ]);
    const { root, model, $ } = mount([task]);
    const label = root.querySelectorAll("mark.nba-span")[0].querySelector(".nba-span-label");
    mouse("mousedown", label);
    mouse("mouseup", label);
    mouse("click", label);
    assert.deepEqual(marks(root), [["iPhone", "PRODUCT"]]);
    $('.nba-label-btn[data-label="BRAND"]').click();
    assert.equal($('.nba-label-btn[aria-checked="true"]').dataset.label, "BRAND");
    drag(tok(root, 0).firstChild, 0, tok(root, 0).firstChild, 5);
    assert.deepEqual(marks(root), [["Pixel", "BRAND"], ["iPhone", "PRODUCT"]]);
    assert.equal(dom.document.activeElement, root, "focus stays on the root for the keys");
    $(".nba-btn-accept").click();
    assert.deepEqual(answers(model)[0].spans, [{ start: 0, end: 5, label: "BRAND" }, { start: 10, end: 16, label: "PRODUCT" }]);
  });

  test("a double-click on a word of a span removes the span and makes none of the word", () => {
    const task = manualTask("I bought an Apple Watch Series 9 today", [
      { start: 12, end: 32, token_start: 3, token_end: 6, label: "BRAND" },
    ]);
    const { root } = mount([task]);
    dblclick(root, 4); // "Watch"
    assert.deepEqual(marks(root), []);
    dblclick(root, 7); // a word outside any span: a double-click marks it, as a drag would
    assert.deepEqual(marks(root), [["today", "PRODUCT"]]);
  });

  test("a quick click on another span right after one removed a span removes it too", () => {
    const task = manualTask("Ann likes Pixel and Kindle phones", [
      { start: 10, end: 15, token_start: 2, token_end: 2, label: "PRODUCT" },
      { start: 20, end: 26, token_start: 4, token_end: 4, label: "BRAND" },
    ]);
    const { root } = mount([task]);
    mouse("mousedown", tok(root, 2), 1);
    mouse("mouseup", tok(root, 2), 1);
    mouse("click", tok(root, 2), 1);
    assert.deepEqual(marks(root), [["Kindle", "BRAND"]]);
    // the browser counts it as the second click of a double-click (detail 2): not inside the
    // removed span, so a click of its own, and its word does not become a span either
    const el = tok(root, 4);
    if (!mouse("mousedown", el, 2).defaultPrevented) {
      dom.window.getSelection().setBaseAndExtent(el.firstChild, 0, el.firstChild, el.textContent.length);
    }
    mouse("mouseup", el, 2);
    mouse("click", el, 2);
    assert.deepEqual(marks(root), []);
    assert.equal(root.querySelector(".nba-manual-msg").hidden, true, "no refusal message");
  });

  test("r removes the span under the keyboard cursor (also with Caps Lock)", () => {
    const task = manualTask("Pixel and iPhone", [
      { start: 0, end: 5, token_start: 0, token_end: 0, label: "PRODUCT" },
      { start: 10, end: 16, token_start: 2, token_end: 2, label: "BRAND" },
    ]);
    const { root, model, $ } = mount([task]);
    key(dom.window, root, "ArrowRight"); // cursor on "Pixel"
    const ev = key(dom.window, root, "r");
    assert.ok(ev.defaultPrevented);
    assert.deepEqual(marks(root), [["iPhone", "BRAND"]]);
    key(dom.window, root, "ArrowRight"); // "and": no span there
    key(dom.window, root, "r");
    assert.match($(".nba-manual-msg").textContent, /^No span under the cursor/);
    assert.deepEqual(marks(root), [["iPhone", "BRAND"]]);
    key(dom.window, root, "ArrowRight");
    key(dom.window, root, "R");
    assert.deepEqual(marks(root), []);
    assert.equal($(".nba-manual-msg").hidden, true);
    key(dom.window, root, "a");
    assert.deepEqual(answers(model)[0].spans, []);
  });

  test("moving the cursor or the selection keeps the painted text (no repaint per key)", () => {
    // A repaint per key cost O(length^2) in Chromium: ~1.5 s a key at 10,000 tokens.
    const text = Array.from({ length: 400 }, (_, i) => `w${i}`).join(" ");
    const { root, $, $$ } = mount([manualTask(text, [{ start: 3, end: 5, token_start: 1, token_end: 1, label: "BRAND" }])]);
    const before = $$(".nba-text *");
    const samePaint = () => {
      const now = $$(".nba-text *");
      return now.length === before.length && now.every((el, i) => el === before[i]);
    };
    key(dom.window, root, "ArrowRight");
    key(dom.window, root, "ArrowRight");
    for (let i = 0; i < 3; i++) key(dom.window, root, "ArrowRight", { shiftKey: true });
    assert.ok(samePaint(), "the text was painted again");
    assert.deepEqual($$(".nba-sel").map((t) => t.textContent), ["w1", "w2", "w3", "w4"]);
    assert.equal($$(".nba-sel-gap").length, 3, "the spaces between the selected words are selected too");
    assert.deepEqual($$(".nba-cursor").map((t) => t.textContent), ["w4"]);
    key(dom.window, root, "ArrowLeft", { shiftKey: true });
    key(dom.window, root, "Escape");
    key(dom.window, root, "ArrowRight");
    assert.deepEqual($$(".nba-sel, .nba-sel-gap"), []);
    assert.deepEqual($$(".nba-cursor").map((t) => t.textContent), ["w4"]);
    assert.ok(samePaint(), "the text was painted again");
    assert.equal($(".nba-text").getAttribute("dir"), "auto");
  });

  test("the page follows the keyboard cursor along a long text", () => {
    const text = Array.from({ length: 300 }, (_, i) => `w${i}`).join(" ");
    const { root } = mount([manualTask(text)]);
    const scrolled = [];
    dom.window.Element.prototype.scrollIntoView = function (options) {
      scrolled.push([this.textContent, options]);
    };
    key(dom.window, root, "ArrowRight");
    key(dom.window, root, "ArrowRight", { shiftKey: true });
    assert.deepEqual(scrolled, [["w0", { block: "nearest" }], ["w1", { block: "nearest" }]]);
    key(dom.window, root, "Escape"); // the cursor stays: nothing to follow
    assert.equal(scrolled.length, 2);
  });

  test("a repaint does not scroll back to the keyboard cursor (a click, a label, a drag)", () => {
    const text = Array.from({ length: 600 }, (_, i) => `w${i}`).join(" ");
    const far = (i) => ({ start: text.indexOf(`w${i} `), end: text.indexOf(`w${i} `) + `w${i}`.length,
      token_start: i, token_end: i, label: "PRODUCT" });
    const { root, $ } = mount([manualTask(text, [far(500), far(550)])]);
    key(dom.window, root, "ArrowRight"); // the cursor on w0, at the top
    const scrolled = [];
    dom.window.Element.prototype.scrollIntoView = function () {
      scrolled.push(this.textContent);
    };
    // The person scrolls far down with the wheel, clicks a span there to remove it, relabels
    // and marks a word with the mouse: the page stays where they are.
    const mark = $("mark.nba-span");
    for (const type of ["mousedown", "mouseup", "click"]) mouse(type, mark);
    $('.nba-label-btn[data-label="BRAND"]').dispatchEvent(new dom.window.MouseEvent("click", { bubbles: true }));
    drag(tok(root, 520).firstChild, 0, tok(root, 520).firstChild, 2);
    assert.deepEqual(marks(root), [["w520", "BRAND"], ["w550", "PRODUCT"]]);
    assert.deepEqual(scrolled, []);
    key(dom.window, root, "ArrowRight"); // the arrows follow the cursor again (on w520 now)
    assert.deepEqual(scrolled, ["w521"]);
  });

  test("in a right-to-left text the arrows move the cursor the way they point on screen", () => {
    const { root, $ } = mount([manualTask("קניתי טלפון חדש אתמול")]);
    $(".nba-text").style.direction = "rtl"; // what dir="auto" resolves to in a browser
    key(dom.window, root, "ArrowLeft"); // the first word is the rightmost: ← starts there
    assert.equal($(".nba-cursor").textContent, "קניתי");
    key(dom.window, root, "ArrowLeft");
    key(dom.window, root, "ArrowLeft");
    assert.equal($(".nba-cursor").textContent, "חדש");
    key(dom.window, root, "ArrowRight", { shiftKey: true }); // → selects back towards the start
    assert.deepEqual([...root.querySelectorAll(".nba-sel")].map((t) => t.textContent), ["טלפון", "חדש"]);
  });

  test("shift+enter labels a pending keyboard selection; without one it runs the cell (Lab's)", () => {
    const { root } = mount([manualTask("I bought a Pixel today.")]);
    const seen = [];
    dom.document.addEventListener("keydown", (e) => seen.push(root.hasAttribute("data-lm-suppress-shortcuts")), true);
    key(dom.window, root, "ArrowRight");
    key(dom.window, root, "ArrowRight", { shiftKey: true });
    // shift still held after shift+arrows: running the cell would throw the edits away
    const ev = key(dom.window, root, "Enter", { shiftKey: true });
    assert.equal(ev.defaultPrevented, true);
    assert.deepEqual(marks(root), [["I bought", "PRODUCT"]]);
    assert.equal(seen.at(-1), true, "kept from Lab");
    const run = key(dom.window, root, "Enter", { shiftKey: true }); // no selection pending now
    assert.equal(run.defaultPrevented, false);
    assert.equal(seen.at(-1), false, "left to Lab");
    key(dom.window, root, "ArrowRight");
    key(dom.window, root, "ArrowRight", { shiftKey: true });
    key(dom.window, root, "Enter");
    assert.deepEqual(marks(root), [["I bought", "PRODUCT"], ["a Pixel", "PRODUCT"]]);
    assert.equal(seen.at(-1), true);
  });

  test("a span that would overlap another is refused with a visible message", () => {
    const task = manualTask("Apple Watch Series 9 is out", [{ start: 0, end: 11, token_start: 0, token_end: 1, label: "PRODUCT" }]);
    const { root, model, $ } = mount([task]);
    assert.equal($(".nba-manual-msg").hidden, true);
    drag(tok(root, 1).firstChild, 2, tok(root, 3).firstChild, 1); // "Watch Series 9"
    assert.deepEqual(marks(root), [["Apple Watch", "PRODUCT"]], "nothing changed");
    const msg = $(".nba-manual-msg");
    assert.equal(msg.hidden, false);
    assert.equal(msg.getAttribute("role"), "alert");
    assert.match(msg.textContent, /“Watch Series 9” would overlap “Apple Watch” \(PRODUCT\)/);
    // the keyboard path is refused the same way
    key(dom.window, root, "ArrowRight", { shiftKey: true });
    key(dom.window, root, "1");
    assert.match(msg.textContent, /would overlap “Apple Watch”/);
    // a valid span clears the message
    drag(tok(root, 2).firstChild, 0, tok(root, 3).firstChild, 1);
    assert.equal(msg.hidden, true);
    assert.deepEqual(marks(root), [["Apple Watch", "PRODUCT"], ["Series 9", "PRODUCT"]]);
    assert.equal(answers(model).length, 0);
  });

  test("a selection across a line break or in whitespace snaps to the words it touches", () => {
    const text = "Visit Berlin\nor  Paris now";
    const task = manualTask(text);
    const { root, model } = mount([task]);
    const words = [...root.querySelectorAll(".nba-tok")].map((t) => JSON.stringify(t.textContent));
    assert.deepEqual(words, ['"Visit"', '"Berlin"', '"\\n"', '"or"', '" "', '"Paris"', '"now"']);
    // from the line break to the middle of "or": the whitespace token is trimmed
    drag(tok(root, 2).firstChild, 0, tok(root, 3).firstChild, 1);
    // from the space after "Visit" across "Berlin" into the line break
    const gap = root.querySelector('.nba-gap[data-start="5"]');
    drag(gap.firstChild, 0, tok(root, 2).firstChild, 1);
    // only whitespace: nothing
    drag(tok(root, 4).firstChild, 0, tok(root, 4).firstChild, 1);
    // a drag that ends beyond the text clamps to its end
    drag(tok(root, 5).firstChild, 2, root.querySelector(".nba-buttons"), 0);
    key(dom.window, root, "a");
    assert.deepEqual(answers(model)[0].spans, [
      { start: 6, end: 12, label: "PRODUCT" },
      { start: 13, end: 15, label: "PRODUCT" },
      { start: 17, end: 26, label: "PRODUCT" },
    ]);
    assert.equal(text.slice(17, 26), "Paris now");
  });

  test("offsets count code points (emoji before a span), text with HTML stays text", () => {
    const text = "😀 <b>Pixel</b> 東京";
    const task = manualTask(text);
    const { root, model } = mount([task]);
    assert.equal(root.querySelectorAll(".nba-text b").length, 0);
    const last = [...root.querySelectorAll(".nba-tok")].at(-1);
    assert.equal(last.textContent, "東京");
    drag(last.firstChild, 0, last.firstChild, 2);
    key(dom.window, root, "a");
    const [span] = answers(model)[0].spans;
    assert.deepEqual(Array.from(text).slice(span.start, span.end).join(""), "東京");
  });

  test("undo brings the text back with the spans it was answered with", () => {
    const t1 = manualTask("Pixel phones");
    const t2 = manualTask("Kindle readers");
    const { root, model, $ } = mount([t1, t2]);
    drag(tok(root, 0).firstChild, 0, tok(root, 0).firstChild, 3);
    key(dom.window, root, "a");
    assert.equal($(".nba-card").dataset.taskHash, t2.task_hash);
    key(dom.window, root, "Backspace");
    assert.equal($(".nba-card").dataset.taskHash, t1.task_hash);
    assert.deepEqual(marks(root), [["Pixel", "PRODUCT"]]);
    assert.deepEqual(model.sent.at(-1), { type: "undo", seq: 2, client: view.client });
    // reject and ignore also send the annotation
    key(dom.window, root, "x");
    key(dom.window, root, " ");
    assert.deepEqual(answers(model).slice(1).map((a) => [a.answer, a.spans]), [
      ["reject", [{ start: 0, end: 5, label: "PRODUCT" }]],
      ["ignore", []],
    ]);
  });

  test("a refusal from the kernel leaves the task and its edits on screen with the reason", async () => {
    const task = manualTask("Pixel phones");
    const { root, model, $ } = mount([task]);
    drag(tok(root, 1).firstChild, 0, tok(root, 1).firstChild, 2);
    key(dom.window, root, "a");
    model.kernelUpdate({ acks: { [view.client]: 1 }, notice: "AnswerError: Unknown label 'X'" });
    await new Promise((r) => setTimeout(r, 0));
    assert.equal($(".nba-card").dataset.taskHash, task.task_hash);
    assert.deepEqual(marks(root), [["phones", "PRODUCT"]]);
    assert.match($(".nba-notice").textContent, /Unknown label/);
  });

  for (const how of ["the kernel is gone", "the session is closed"]) {
    test(`once ${how}, no key, label button, click or drag changes the spans`, async () => {
      const task = manualTask("Pixel and iPhone", [
        { start: 0, end: 5, token_start: 0, token_end: 0, label: "PRODUCT" },
      ]);
      const { root, model, $, $$ } = mount([task]);
      assert.ok(root.classList.contains("nba-focused"));
      let tries = 0;
      if (how === "the kernel is gone") {
        model.send = () => {
          tries += 1;
          throw new Error("Cannot send");
        };
        key(dom.window, root, "a");
        assert.equal(root.dataset.state, "lost");
      } else {
        // (a task still on screen: the state of the trait updates in between)
        model.kernelUpdate({ status: "closed", error: "This ManualSession was closed." });
        await new Promise((r) => setTimeout(r, 0));
        assert.equal(root.dataset.state, "closed");
      }
      const sent = model.sent.length;
      assert.match($(".nba-focus-hint").textContent, /^keys off/);
      assert.ok(!root.classList.contains("nba-focused"), "no blue 'keys active' border");
      for (const b of $$(".nba-label-btn")) assert.ok(b.disabled, b.dataset.label);
      for (const [k, init] of [["ArrowRight", {}], ["r", {}], ["ArrowRight", { shiftKey: true }],
        ["2", {}], ["Enter", {}], ["R", {}], ["x", {}], [" ", {}], ["Backspace", {}]]) {
        assert.ok(key(dom.window, root, k, init).defaultPrevented, `${k}: its own key, swallowed`);
      }
      assert.deepEqual(marks(root), [["Pixel", "PRODUCT"]]);
      assert.equal($$(".nba-cursor, .nba-sel").length, 0, "no cursor or selection either");
      $('.nba-label-btn[data-label="BRAND"]').dispatchEvent(new dom.window.MouseEvent("click", { bubbles: true }));
      assert.equal($('.nba-label-btn[aria-checked="true"]').dataset.label, "PRODUCT");
      const label = $("mark.nba-span .nba-span-label");
      mouse("mousedown", label);
      mouse("mouseup", label);
      mouse("click", label);
      drag(tok(root, 2).firstChild, 0, tok(root, 2).firstChild, 6);
      assert.deepEqual(marks(root), [["Pixel", "PRODUCT"]]);
      assert.equal($(".nba-manual-msg").hidden, true);
      assert.equal(model.sent.length, sent, "nothing is sent");
      assert.equal(tries, how === "the kernel is gone" ? 1 : 0);
    });
  }

  test("number keys without such a label say so; Escape drops a selection; teach keys still work", () => {
    const task = manualTask("Pixel phones");
    const { root, $, $$ } = mount([task]);
    key(dom.window, root, "7");
    assert.match($(".nba-manual-msg").textContent, /No label 7: the labels are 1 PRODUCT, 2 BRAND/);
    key(dom.window, root, "ArrowRight", { shiftKey: true });
    assert.equal($$(".nba-sel").length, 1);
    key(dom.window, root, "Escape");
    assert.equal($$(".nba-sel").length, 0);
    assert.equal($(".nba-manual-msg").hidden, true);
  });
});

describe("two views of one session", () => {
  // Two views over one model (the session shown twice, or a page reloaded beside the old one).
  const views = [];
  afterEach(() => {
    for (const v of views.splice(0)) v.destroy();
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));

  /** Task 1 ("Pixel" pre-marked PRODUCT) and task 2 on screen in views A and B; in A, "Pixel"
   * relabelled BRAND and accepted, and the kernel's acknowledgement. */
  async function answeredInA() {
    const t1 = manualTask("Ann likes Pixel phones", [{ start: 10, end: 15, token_start: 2, token_end: 2, label: "PRODUCT" }]);
    const t2 = manualTask("Bob likes Kindle");
    const model = new FakeModel({ queue: [t1, t2], status: "ready", mode: "manual", labels: ["PRODUCT", "BRAND"] });
    const A = createView({ model, el: dom.el });
    const el2 = dom.document.createElement("div");
    dom.document.body.append(el2);
    const B = createView({ model, el: el2 });
    views.push(A, B);
    assert.deepEqual(marks(B.root), [["Pixel", "PRODUCT"]]); // B has shown task 1
    for (let i = 0; i < 3; i++) key(dom.window, A.root, "ArrowRight");
    key(dom.window, A.root, "2");
    key(dom.window, A.root, "a");
    assert.deepEqual(answers(model)[0].spans, [{ start: 10, end: 15, label: "BRAND" }]);
    const row = { task_hash: t1.task_hash, manual: true, answer: "accept", spans: [{ text: "Pixel", label: "BRAND" }] };
    model.kernelUpdate({ queue: [t2], acks: { [A.client]: 1 }, history: [row] });
    await tick();
    assert.equal(B.root.querySelector(".nba-card").dataset.taskHash, t2.task_hash);
    // what the kernel offers again after an undo: the task with the spans it was answered with
    const again = { ...t1, spans: [{ start: 10, end: 15, token_start: 2, token_end: 2, label: "BRAND" }] };
    return { model, A, B, t1, t2, again };
  }

  test("an undo in one view shows the other view the corrected spans, and its accept keeps them", async () => {
    const { model, A, B, t1, t2, again } = await answeredInA();
    key(dom.window, A.root, "Backspace");
    assert.deepEqual(marks(A.root), [["Pixel", "BRAND"]], "A's own undo: the spans it answered with");
    model.kernelUpdate({ queue: [again, t2], acks: { [A.client]: 2 }, history: [] });
    await tick();
    assert.deepEqual(marks(A.root), [["Pixel", "BRAND"]]);
    assert.equal(B.root.querySelector(".nba-card").dataset.taskHash, t1.task_hash);
    assert.deepEqual(marks(B.root), [["Pixel", "BRAND"]], "not B's stale PRODUCT");
    key(dom.window, B.root, "a");
    assert.deepEqual(answers(model).at(-1).spans, [{ start: 10, end: 15, label: "BRAND" }]);
  });

  test("an undo in the other view of an answer from this one shows the answered spans", async () => {
    const { model, B, t2, again } = await answeredInA();
    key(dom.window, B.root, "Backspace"); // B undoes A's answer
    model.kernelUpdate({ queue: [again, t2], acks: { [B.client]: 1 }, history: [] });
    await tick();
    assert.deepEqual(marks(B.root), [["Pixel", "BRAND"]]);
    key(dom.window, B.root, "a");
    assert.deepEqual(answers(model).at(-1).spans, [{ start: 10, end: 15, label: "BRAND" }]);
  });
});

describe("manual logic", () => {
  test("snapRange trims whitespace tokens and ignores pure whitespace", () => {
    const { tokens } = tokenize({ text: "a\n b", tokens: [[0, 1], [1, 3], [3, 4]] });
    assert.deepEqual(tokens.map((t) => t.space), [false, true, false]);
    assert.deepEqual(snapRange(tokens, 0, 4), [0, 2]);
    assert.deepEqual(snapRange(tokens, 1, 4), [2, 2]);
    assert.equal(snapRange(tokens, 1, 3), null);
    assert.equal(snapRange(tokens, 2, 2), null);
    assert.equal(stepToken(tokens, 0, 1), 2);
    assert.equal(stepToken(tokens, 2, 1), 2);
  });

  test("initial spans get token offsets and drop overlaps", () => {
    const task = { text: "ab cd ef", tokens: [[0, 2], [3, 5], [6, 8]],
      spans: [{ start: 1, end: 4, label: "X" }, { start: 3, end: 8, label: "Y" }] };
    const spans = initialSpans(task, tokenize(task).tokens);
    assert.deepEqual(spans.map((s) => [s.start, s.end, s.token_start, s.token_end, s.label]), [[0, 5, 0, 1, "X"]]);
  });
});
