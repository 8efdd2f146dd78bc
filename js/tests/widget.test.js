// Unit tests of the widget's view against a fake anywidget model, in happy-dom (node --test).
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { derive, labelColor, PALETTE, segments, splitText } from "../state.js";
import widget, { createView } from "../widget.js";
import { FakeModel, key, makeTask, setupDom, tick } from "./fake-model.js";

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

function mount(state) {
  const model = new FakeModel(state);
  view = createView({ model, el: dom.el });
  return { model, root: view.root, $: (sel) => view.root.querySelector(sel) };
}

const readyState = (n = 3) => ({
  queue: Array.from({ length: n }, (_, i) => makeTask(i + 1)),
  status: "ready",
  progress: {
    session: { accept: 0, reject: 0, ignore: 0, total: 0 },
    dataset: { accept: 4, reject: 1, ignore: 0, total: 5 },
    accept_rate: null, updates: 2, model_version: 2, source_total: 40, source_read: 10,
  },
});

describe("task view", () => {
  test("shows the text with the span highlighted, its label chip, score, source and meta", () => {
    // meta.source is the user's (where the text came from); the span says where the candidate did
    const task = makeTask(1, { score: 0.734, meta: { score: 0.734, source: "reddit", model_version: 3, section: "reviews" } });
    const { root, $ } = mount({ queue: [task], status: "ready" });
    assert.equal(root.dataset.state, "ready");
    assert.equal($(".nba-text").textContent, "Text number 1 mentions gadget1PRODUCT here.");
    assert.equal($(".nba-span-text").textContent, "gadget1");
    assert.equal($(".nba-span-label").textContent, "PRODUCT");
    assert.equal($(".nba-info .nba-chip").textContent, "PRODUCT");
    assert.equal($(".nba-score").textContent, "score 0.73");
    assert.equal($(".nba-source").textContent, "model");
    const own = [...root.querySelectorAll(".nba-meta:not(.nba-meta-details) > .nba-meta-item")].map((i) => i.textContent);
    assert.deepEqual(own, ["sourcereddit", "sectionreviews"]);
    assert.equal($(".nba-card").dataset.taskHash, task.task_hash);
  });

  test("a whole analysis shows every entity and asks if they are all", () => {
    const text = "Apple <b>TV</b> and Pixel 8 and Kindle";
    const task = {
      ...makeTask(7, { text }),
      spans: [
        { start: 0, end: 15, label: "PRODUCT", score: 0.9, source: "model" },
        { start: 20, end: 27, label: "PRODUCT", score: 0.8, source: "model" },
        { start: 32, end: 38, label: "BRAND", score: 0.7, source: "model" },
      ],
      meta: { score: 0.81, whole: true },
    };
    const { root, $ } = mount({ queue: [task], status: "ready" });
    const marks = [...root.querySelectorAll(".nba-span-text")].map((m) => m.textContent);
    assert.deepEqual(marks, ["Apple <b>TV</b>", "Pixel 8", "Kindle"]);
    assert.equal(root.querySelectorAll("b").length, 0);
    assert.match($(".nba-whole-prompt").textContent, /all the entities/);
    assert.equal($(".nba-text").textContent.replace(/PRODUCT|BRAND/g, ""), text);
    assert.equal($(".nba-source").textContent, "model");
    const none = { ...makeTask(8), spans: [], meta: { score: 0.9, whole: true, source: "reddit" } };
    const other = mount({ queue: [none], status: "ready" });
    assert.match(other.$(".nba-whole-prompt").textContent, /No entities/);
    assert.equal(other.$(".nba-source").textContent, "model"); // meta.source is the user's
    assert.equal(other.root.querySelectorAll(".nba-span").length, 0);
    const completion = { ...task, meta: { ...task.meta, completion: true } };
    const after = mount({ queue: [completion], status: "ready" });
    assert.match(after.$(".nba-whole-prompt").textContent, /Complete now\?.*your accepts/);
    assert.equal(after.root.querySelectorAll(".nba-span").length, 3);
  });

  test("accepting a complete analysis drops the other questions about its text at once", () => {
    const whole = { ...makeTask(1), input_hash: "77", meta: { score: 0.9, whole: true } };
    const alternative = { ...makeTask(2), input_hash: "77", meta: { score: 0.1, whole: true } };
    const span = { ...makeTask(3), input_hash: "77" };
    const other = { ...makeTask(4), input_hash: "88" };
    const server = { queue: [whole, alternative, span, other], history: [], progress: {} };
    const accepted = derive(server, [{ type: "answer", task_hash: whole.task_hash, answer: "accept" }],
      new Map());
    assert.deepEqual(accepted.queue.map((t) => t.task_hash), [other.task_hash]);
    const rejected = derive(server, [{ type: "answer", task_hash: whole.task_hash, answer: "reject" }],
      new Map());
    assert.deepEqual(rejected.queue.map((t) => t.task_hash),
      [alternative.task_hash, span.task_hash, other.task_hash]);
  });

  test("accepting a span drops the questions about spans that overlap it at once", () => {
    const text = "I moved to New York City last year";
    const at = (n, start, end, label = "LOC") => ({ ...makeTask(n, { text, start, end, label }), input_hash: "77" });
    const city = at(1, 11, 24); // New York City
    const newYork = at(2, 11, 19); // New York: overlaps
    const yorkOrg = at(3, 15, 19, "ORG"); // York as ORG: overlaps
    const year = at(4, 25, 34); // last year: touches nothing
    const whole = { ...at(5, 11, 24), meta: { score: 0.4, whole: true } }; // a whole analysis stays
    const elsewhere = { ...makeTask(6, { start: 0, end: 4 }), input_hash: "88" }; // another text
    const server = { queue: [city, newYork, yorkOrg, year, whole, elsewhere], history: [], progress: {} };
    const accepted = derive(server, [{ type: "answer", task_hash: city.task_hash, answer: "accept" }], new Map());
    assert.deepEqual(accepted.queue.map((t) => t.task_hash), [year, whole, elsewhere].map((t) => t.task_hash));
    assert.equal(accepted.task.task_hash, year.task_hash); // painted next, without the kernel
    const rejected = derive(server, [{ type: "answer", task_hash: city.task_hash, answer: "reject" }], new Map());
    assert.equal(rejected.queue.length, 5);
  });

  test("a completion question lists the text's meta, not the kernel's flags", () => {
    const meta = { score: 0.6, model_version: 2, whole: true, completion: true, beam_probability: 0.41, row: 7 };
    const task = { ...makeTask(1), spans: [], meta };
    const { root, $ } = mount({ queue: [task], status: "ready" });
    assert.match($(".nba-whole-prompt").textContent, /^No entities at all\?/);
    const items = [...root.querySelectorAll(".nba-meta-item")].map((i) => i.textContent);
    assert.deepEqual(items, ["model_version2", "row7"]); // both behind the details toggle
    assert.ok($(".nba-meta-details").hidden);
  });

  test("overlapping spans of a whole analysis: the first is shown, the overlapping one skipped", () => {
    const text = "Apple TV Plus rocks";
    const task = {
      ...makeTask(1, { text }),
      spans: [{ start: 0, end: 8, label: "PRODUCT" }, { start: 6, end: 13, label: "BRAND" }],
      meta: { score: 0.5, whole: true },
    };
    assert.deepEqual(segments(task).map((x) => [x.text, x.span?.label]),
      [["Apple TV", "PRODUCT"], [" Plus rocks", undefined]]);
    const { root } = mount({ queue: [task], status: "ready" });
    assert.deepEqual([...root.querySelectorAll(".nba-span-text")].map((m) => m.textContent), ["Apple TV"]);
  });

  test("a pattern candidate says so", () => {
    const { $ } = mount({ queue: [makeTask(1, { source: "pattern", score: 1 })], status: "ready" });
    assert.equal($(".nba-source").textContent, "pattern");
    assert.ok($(".nba-source").classList.contains("nba-source-pattern"));
  });

  test("one label keeps one colour; the chip and the highlight share it", () => {
    assert.equal(labelColor("PRODUCT"), labelColor("PRODUCT"));
    assert.ok(PALETTE.includes(labelColor("DRUG")));
    const colours = new Set(["PERSON", "ORG", "GPE", "PRODUCT", "DRUG", "LOC"].map(labelColor));
    assert.ok(colours.size >= 4, "labels spread over the palette");
    const { $ } = mount({ queue: [makeTask(1, { label: "DRUG" })], status: "ready" });
    const want = labelColor("DRUG");
    // happy-dom keeps the colour as written or as rgb(); compare through a probe element
    const probe = dom.document.createElement("span");
    probe.style.background = want;
    assert.equal($(".nba-info .nba-chip").style.background, probe.style.background);
    assert.equal($(".nba-span").style.background, probe.style.background);
  });

  test("each of the session's labels has its own colour, readable, the same for the same labels", () => {
    const ontonotes = ["PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART",
      "LAW", "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"];
    const colours = ontonotes.map((l) => labelColor(l, ontonotes));
    assert.equal(new Set(colours).size, ontonotes.length, "no two labels share a colour");
    // the same labels (in any order) give the same colours, in this session and the next
    assert.deepEqual(ontonotes.map((l) => labelColor(l, [...ontonotes].reverse())), colours);
    // a label outside the list gets a colour none of the list's labels has
    assert.ok(!colours.includes(labelColor("DRUG", ontonotes.slice(0, 12))));
    // the widget's dark text (#111) on every colour: WCAG contrast >= 4.5
    const lum = (hex) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
        .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    for (const c of PALETTE) assert.ok((lum(c) + 0.05) / (lum("#111111") + 0.05) >= 4.5, c);
    // on screen: ORG on the card, LOC and PRODUCT in the history, PERSON in a whole analysis
    const row = (n, label) => ({ task_hash: String(n), text: "x", span_text: "y", label, whole: false, answer: "accept" });
    const whole = { ...makeTask(1), spans: [{ start: 0, end: 4, label: "ORG" }, { start: 5, end: 11, label: "PERSON" }],
      meta: { score: 0.5, whole: true } };
    const { root, $ } = mount({ queue: [makeTask(2, { label: "ORG" }), whole], status: "ready", labels: ontonotes,
      history: [row(7, "LOC"), row(8, "PRODUCT")] });
    const bg = (el) => el.style.background;
    const [loc, product] = [...root.querySelectorAll(".nba-hist .nba-chip")].map(bg);
    const org = bg($(".nba-info .nba-chip"));
    assert.equal(bg($(".nba-span")), org);
    assert.notEqual(org, loc);
    key(dom.window, root, "x"); // on to the whole analysis: ORG and PERSON
    const marks = Object.fromEntries([...root.querySelectorAll(".nba-span")]
      .map((m) => [m.querySelector(".nba-span-label").textContent, bg(m)]));
    assert.equal(marks.ORG, org);
    assert.notEqual(marks.PERSON, product);
  });

  test("offsets count code points, so emoji and astral characters before the span are right", () => {
    const text = "😀😀 𝒳 Ünïcode café Tōkyō 東京 here";
    const start = Array.from(text).indexOf("東");
    const task = makeTask(1, { text, start, end: start + 2, label: "GPE" });
    const { $ } = mount({ queue: [task], status: "ready" });
    assert.equal($(".nba-span-text").textContent, "東京");
    assert.deepEqual(splitText(task).before, "😀😀 𝒳 Ünïcode café Tōkyō ");
  });

  test("right-to-left text gets dir=auto and keeps its characters", () => {
    const text = "ذهبت إلى القاهرة أمس";
    const start = Array.from(text).indexOf("ا", 8);
    const task = makeTask(1, { text, start, end: start + 7, label: "GPE" });
    const { $ } = mount({ queue: [task], status: "ready" });
    assert.equal($(".nba-text").getAttribute("dir"), "auto");
    assert.equal($(".nba-span-text").textContent, "القاهرة");
    assert.ok($(".nba-text").textContent.startsWith("ذهبت إلى "));
  });

  test("HTML in text, label and meta is shown literally and creates no elements", () => {
    const evil = 'Buy <img src=x onerror=alert(1)> and <script>window.pwned=1</script> now';
    const start = evil.indexOf("<img");
    const task = makeTask(1, {
      text: evil, start, end: start + "<img src=x onerror=alert(1)>".length,
      label: "<b>LBL</b>", meta: { "<i>k</i>": "<script>x()</script>" },
    });
    const history = [{ task_hash: "9", text: evil, span_text: "<img src=x>", label: "<u>L</u>", answer: "accept" }];
    const { root, $ } = mount({ queue: [task], status: "ready", history, error: "<img src=y onerror=alert(2)>" });
    assert.equal($(".nba-text").textContent, evil.replace("alert(1)>", "alert(1)><b>LBL</b>"));
    assert.equal($(".nba-span-text").textContent, "<img src=x onerror=alert(1)>");
    assert.equal($(".nba-info .nba-chip").textContent, "<b>LBL</b>");
    assert.equal($(".nba-meta dt").textContent, "<i>k</i>");
    assert.equal($(".nba-meta dd").textContent, "<script>x()</script>");
    assert.ok($(".nba-error").textContent.includes("<img src=y onerror=alert(2)>"));
    assert.equal(root.querySelectorAll("img, script, b, i, u").length, 0);
    assert.equal(dom.window.pwned, undefined);
  });

  test("long texts wrap inside the widget", () => {
    const css = import.meta.dirname + "/../widget.css";
    return import("node:fs").then(({ readFileSync }) => {
      const source = readFileSync(css, "utf8");
      const rule = source.match(/\.nba-text \{[^}]*\}/)[0];
      assert.match(rule, /white-space: pre-wrap/);
      assert.match(rule, /overflow-wrap: anywhere/);
    });
  });
});

describe("labels", () => {
  test("a label is shown as given, never upper-cased: labels differing in case stay apart", () => {
    return import("node:fs").then(({ readFileSync }) => {
      const source = readFileSync(import.meta.dirname + "/../widget.css", "utf8");
      assert.doesNotMatch(source, /text-transform/);
    });
  });
});

describe("keys and buttons", () => {
  test("Lab's shortcuts are kept from keys pressed in the widget, except save, run and the palette", () => {
    const { model, root, $ } = mount(readyState());
    // Lab reads the attribute when it handles the keydown, on the document: after the window's
    // capture phase, where the widget sets it for this key.
    const seen = [];
    dom.document.addEventListener("keydown", (e) => seen.push([e.key, root.hasAttribute("data-lm-suppress-shortcuts")]), true);
    const press = (k, init) => key(dom.window, $(".nba-text"), k, init);
    press("s", { ctrlKey: true });
    press("a");
    press("b"); // not the widget's, but Lab's "insert a cell below": kept from Lab too
    press("s", { metaKey: true });
    press("Enter", { shiftKey: true });
    press("Enter", { altKey: true });
    press("Enter", { ctrlKey: true });
    press("C", { ctrlKey: true, shiftKey: true }); // the command palette
    press(" ");
    press("Backspace");
    assert.deepEqual(seen, [["s", false], ["a", true], ["b", true], ["s", false], ["Enter", false],
      ["Enter", false], ["Enter", false], ["C", false], [" ", true], ["Backspace", true]]);
    // Lab's other chords act on the widget's own cell: merge it above, move it, merge cells,
    // select all cells, collapse headings, save as...
    seen.length = 0;
    const answered = model.answers().length;
    const chords = [["Backspace", { ctrlKey: true }], ["ArrowUp", { ctrlKey: true, shiftKey: true }],
      ["M", { ctrlKey: true, shiftKey: true }], ["a", { ctrlKey: true }], ["a", { metaKey: true }],
      ["ArrowLeft", { ctrlKey: true, shiftKey: true }], ["S", { ctrlKey: true, shiftKey: true }],
      ["Enter", { ctrlKey: true, shiftKey: true }], ["c", { ctrlKey: true }], ["x", { altKey: true }]];
    for (const [k, init] of chords) {
      const ev = press(k, init);
      assert.equal(ev.defaultPrevented, false, `${k}: the browser's own (ctrl+c copies)`);
    }
    assert.ok(seen.every(([, suppressed]) => suppressed), JSON.stringify(seen));
    assert.equal(seen.length, chords.length);
    assert.equal(model.answers().length, answered, "a chord is none of the widget's keys");
    // a key pressed elsewhere on the page is none of the widget's business
    key(dom.window, dom.document.body, "s", { ctrlKey: true });
    assert.ok(root.hasAttribute("data-lm-suppress-shortcuts"));
  });

  test("in a shadow root (marimo) a click shows the keys are active", () => {
    // The document's activeElement is the shadow host there, never the widget's root.
    const host = dom.document.createElement("div");
    dom.document.body.append(host);
    const shadow = host.attachShadow({ mode: "open" });
    const inner = dom.document.createElement("div");
    shadow.append(inner);
    view = createView({ model: new FakeModel(readyState()), el: inner });
    const root = view.root;
    const hint = root.querySelector(".nba-focus-hint");
    assert.equal(hint.textContent, "click here to use the keys");
    root.querySelector(".nba-card").dispatchEvent(new dom.window.MouseEvent("click", { bubbles: true }));
    assert.equal(shadow.activeElement, root);
    assert.ok(root.classList.contains("nba-focused"));
    assert.match(hint.textContent, /^keys active/);
    root.blur();
    assert.ok(!root.classList.contains("nba-focused"));
    assert.equal(hint.textContent, "click here to use the keys");
  });

  test("the root is focusable, suppresses Lab shortcuts and shows its focus state", () => {
    const { root, $ } = mount(readyState());
    assert.equal(root.tabIndex, 0);
    assert.ok(root.hasAttribute("data-lm-suppress-shortcuts"));
    assert.equal($(".nba-focus-hint").textContent, "click here to use the keys");
    $(".nba-card").dispatchEvent(new dom.window.MouseEvent("click", { bubbles: true }));
    assert.equal(dom.document.activeElement, root);
    assert.ok(root.classList.contains("nba-focused"));
    assert.match($(".nba-focus-hint").textContent, /^keys active/);
    root.blur();
    assert.ok(!root.classList.contains("nba-focused"));
  });

  test("a, x, space answer and paint the next task at once, before the kernel replies", () => {
    const { model, root, $ } = mount(readyState(4));
    const hashes = model.get("queue").map((t) => t.task_hash);
    root.focus();
    key(dom.window, root, "a");
    assert.equal($(".nba-card").dataset.taskHash, hashes[1]);
    key(dom.window, root, "x");
    assert.equal($(".nba-card").dataset.taskHash, hashes[2]);
    const space = key(dom.window, root, " ");
    assert.ok(space.defaultPrevented, "space must not scroll the page");
    assert.equal($(".nba-card").dataset.taskHash, hashes[3]);
    const sent = model.answers().map(({ type, task_hash, answer }) => ({ type, task_hash, answer }));
    assert.deepEqual(sent, [
      { type: "answer", task_hash: hashes[0], answer: "accept" },
      { type: "answer", task_hash: hashes[1], answer: "reject" },
      { type: "answer", task_hash: hashes[2], answer: "ignore" },
    ]);
    // optimistic history and counts, newest first
    const rows = [...root.querySelectorAll(".nba-hist")].map((li) => li.dataset.answer);
    assert.deepEqual(rows, ["ignore", "reject", "accept"]);
    assert.equal($(".nba-counts-session .nba-count-total").textContent, "= 3");
    assert.equal($(".nba-rate").textContent, "accept rate 50%");
  });

  test("backspace brings the last answered task back at once and asks the kernel to undo", () => {
    const { model, root, $ } = mount(readyState(3));
    const hashes = model.get("queue").map((t) => t.task_hash);
    key(dom.window, root, "a");
    const ev = key(dom.window, root, "Backspace");
    assert.ok(ev.defaultPrevented);
    assert.equal($(".nba-card").dataset.taskHash, hashes[0]);
    assert.equal(root.querySelectorAll(".nba-hist").length, 0);
    assert.deepEqual(model.answers().map((m) => m.type), ["answer", "undo"]);
  });

  test("with Caps Lock on, A and X answer like a and x", () => {
    const { model, root } = mount(readyState(3));
    const ev = key(dom.window, root, "A", { getModifierState: (k) => k === "CapsLock" });
    key(dom.window, root, "X");
    assert.ok(ev.defaultPrevented);
    assert.deepEqual(model.answers().map((m) => m.answer), ["accept", "reject"]);
  });

  test("a keydown without a key (autofill, a synthetic event) is left alone and breaks nothing", () => {
    for (const mode of ["teach", "manual"]) {
      const text = "Ann likes Pixel phones";
      const manual = { task_hash: "2000000000000000009", input_hash: "9", view_id: "ner_manual", text,
        tokens: [[0, 3], [4, 9], [10, 15], [16, 22]], spans: [], labels: ["PRODUCT"], meta: {} };
      const { model, root, $ } = mount({ ...readyState(2), mode, ...(mode === "manual" ? { queue: [manual] } : {}) });
      const errors = [];
      dom.window.addEventListener("error", (e) => errors.push(e.message));
      const ev = new dom.window.Event("keydown", { bubbles: true, cancelable: true });
      assert.doesNotThrow(() => root.dispatchEvent(ev));
      assert.deepEqual(errors, [], mode);
      assert.equal(ev.defaultPrevented, false);
      assert.equal(model.answers().length, 0);
      key(dom.window, root, "a"); // the keys still work
      assert.equal(model.answers().length, 1);
      assert.ok($(".nba-card"));
      view.destroy();
      view = null;
    }
  });

  test("keys with modifiers and key repeats are left alone", () => {
    const { model, root } = mount(readyState());
    const ev = key(dom.window, root, "a", { ctrlKey: true });
    key(dom.window, root, "x", { repeat: true });
    key(dom.window, root, "b");
    assert.equal(ev.defaultPrevented, false);
    assert.equal(model.answers().length, 0);
  });

  test("buttons do the same as the keys and keep focus on the root", () => {
    const { model, root, $ } = mount(readyState(3));
    const hashes = model.get("queue").map((t) => t.task_hash);
    const click = (sel) => $(sel).dispatchEvent(new dom.window.MouseEvent("click", { bubbles: true }));
    click(".nba-btn-reject");
    click(".nba-btn-accept");
    click(".nba-btn-undo");
    click(".nba-btn-ignore");
    assert.equal(dom.document.activeElement, root);
    assert.equal($(".nba-btn-accept").tabIndex, -1);
    assert.deepEqual(
      model.answers().map((m) => [m.type, m.task_hash, m.answer]),
      [["answer", hashes[0], "reject"], ["answer", hashes[1], "accept"], ["undo", undefined, undefined],
        ["answer", hashes[1], "ignore"]],
    );
    assert.equal($(".nba-card").dataset.taskHash, hashes[2]);
  });

  test("the history's buttons are named by the decision and its span", () => {
    const history = [
      { task_hash: "77", text: "t", span_text: "Acme", label: "ORG", answer: "accept" },
      { task_hash: "78", text: "t", whole: true, spans: [], answer: "reject" },
    ];
    const { root } = mount({ ...readyState(), history });
    const names = [...root.querySelectorAll(".nba-hist")].map((li) =>
      [...li.querySelectorAll(".nba-hist-btn")].map((b) => b.getAttribute("aria-label")));
    assert.deepEqual(names, [
      ["accepted — ORG: Acme", "change to reject — ORG: Acme", "change to ignore — ORG: Acme"],
      ["change to accept — whole: no entities", "rejected — whole: no entities",
        "change to ignore — whole: no entities"],
    ]);
  });

  test("clicking an answer in the history sends a change and shows it", () => {
    const history = [{ task_hash: "77", text: "t", span_text: "Acme", label: "ORG", answer: "accept" }];
    const { model, root, $ } = mount({ ...readyState(), history });
    const reject = $('.nba-hist .nba-hist-btn[data-answer="reject"]');
    assert.equal($('.nba-hist .nba-hist-btn[data-answer="accept"]').getAttribute("aria-pressed"), "true");
    reject.dispatchEvent(new dom.window.MouseEvent("click", { bubbles: true }));
    assert.deepEqual(
      model.answers().map(({ type, task_hash, answer }) => ({ type, task_hash, answer })),
      [{ type: "change", task_hash: "77", answer: "reject" }],
    );
    assert.equal($(".nba-hist").dataset.answer, "reject");
    assert.equal(dom.document.activeElement, root);
  });
});

describe("kernel round trips", () => {
  test("when the kernel is gone (restarted), the view says so and stops taking answers", () => {
    const history = [{ task_hash: "77", text: "t", span_text: "Acme", label: "ORG", answer: "accept" }];
    const { model, root, $ } = mount({ ...readyState(3), history });
    const hashes = model.get("queue").map((t) => t.task_hash);
    let tries = 0;
    model.send = () => { // what the comm does after a kernel restart
      tries += 1;
      throw new Error("Cannot send");
    };
    const errors = [];
    dom.window.addEventListener("error", (e) => errors.push(e.message));
    const space = key(dom.window, root, " ");
    assert.ok(space.defaultPrevented, "space must not scroll the page");
    assert.deepEqual(errors, [], "no uncaught error");
    assert.equal(root.dataset.state, "lost");
    assert.equal($(".nba-lost").hidden, false);
    assert.equal($(".nba-lost").getAttribute("role"), "alert");
    assert.match($(".nba-lost").textContent,
      /^Lost the connection to the kernel \(restarted\?\): run the cell again/);
    assert.match($(".nba-focus-hint").textContent, /no connection to the kernel/);
    // the answer was not applied: it never reached the kernel
    assert.equal($(".nba-card").dataset.taskHash, hashes[0]);
    assert.equal($(".nba-counts-session .nba-count-total").textContent, "= 0");
    assert.deepEqual(view.pendingOps, []);
    for (const b of root.querySelectorAll(".nba-btn, .nba-hist-btn")) assert.ok(b.disabled, b.className);
    for (const k of ["a", "x", "Backspace"]) assert.ok(key(dom.window, root, k).defaultPrevented);
    assert.equal(tries, 1, "nothing more is sent");
    assert.equal($(".nba-card").dataset.taskHash, hashes[0]);
  });

  test("a session the kernel closed (or a newer one took over) turns the view off and says why", async () => {
    const history = [{ task_hash: "77", text: "t", span_text: "Acme", label: "ORG", answer: "accept" }];
    const { model, root, $ } = mount({ ...readyState(3), history });
    root.focus();
    assert.ok(root.classList.contains("nba-focused"));
    const reason = "A newer teach session on dataset 'gadgets' took over from this one (was its cell run again?): use the newest widget.";
    // with the notice of an answer refused for that reason: the reason is shown once
    model.kernelUpdate({ queue: [], status: "closed", error: reason, notice: `SessionError: ${reason}` });
    await tick();
    assert.equal(root.dataset.state, "closed");
    assert.equal($(".nba-lost").hidden, false);
    assert.equal($(".nba-lost").textContent, reason);
    assert.equal($(".nba-error").hidden, true, "not shown as a kernel error as well");
    assert.equal($(".nba-notice").hidden, true, "nor as a notice");
    assert.equal(root.textContent.split(reason).length - 1, 1);
    assert.match($(".nba-focus-hint").textContent, /keys off: this session is closed/);
    assert.ok(!root.classList.contains("nba-focused"), "no blue 'keys active' border");
    for (const b of root.querySelectorAll(".nba-btn, .nba-hist-btn")) assert.ok(b.disabled, b.className);
    const sent = model.sent.length;
    for (const k of ["a", " ", "Backspace"]) assert.ok(key(dom.window, root, k).defaultPrevented);
    assert.equal(model.sent.length, sent, "nothing is sent");
  });

  test("the kernel's acknowledgement replaces the optimistic state without a flicker", async () => {
    const { model, root, $ } = mount(readyState(3));
    const q = model.get("queue");
    key(dom.window, root, "a");
    const msg = model.answers()[0];
    model.kernelUpdate({
      queue: q.slice(1).concat([makeTask(9)]),
      history: [{ task_hash: q[0].task_hash, text: q[0].text, span_text: "gadget1", label: "PRODUCT", answer: "accept" }],
      acks: { [msg.client]: msg.seq },
      progress: { ...readyState().progress, session: { accept: 1, reject: 0, ignore: 0, total: 1 } },
    });
    await tick();
    assert.equal(view.pendingOps.length, 0);
    assert.equal($(".nba-card").dataset.taskHash, q[1].task_hash);
    assert.equal(root.querySelectorAll(".nba-hist").length, 1);
    assert.equal($(".nba-counts-session .nba-count-total").textContent, "= 1");
  });

  test("an answer the kernel could not store brings its task back, with the reason", async () => {
    const { model, root, $ } = mount(readyState(2));
    const q = model.get("queue");
    key(dom.window, root, "x");
    const msg = model.answers()[0];
    model.kernelUpdate({ acks: { [msg.client]: msg.seq }, notice: "DatabaseLockedError: locked" });
    await tick();
    assert.equal($(".nba-card").dataset.taskHash, q[0].task_hash);
    assert.equal($(".nba-notice").textContent, "DatabaseLockedError: locked");
    assert.equal($(".nba-notice").hidden, false);
  });

  test("tasks the kernel adds while answers are in flight do not bring answered ones back", async () => {
    const { model, root, $ } = mount(readyState(3));
    const q = model.get("queue");
    key(dom.window, root, "a");
    key(dom.window, root, "a");
    // a refill arrives before the answers are processed: the kernel still lists them
    model.kernelUpdate({ queue: q.concat([makeTask(4)]) });
    await tick();
    assert.equal($(".nba-card").dataset.taskHash, q[2].task_hash);
  });

  test("a completion question the kernel adds while answers are in flight does not replace the card", async () => {
    const { model, root, $ } = mount(readyState(3));
    const q = model.get("queue");
    key(dom.window, root, "a"); // the kernel's first card, answered here: q[1] on screen
    assert.equal($(".nba-card").dataset.taskHash, q[1].task_hash);
    // The kernel puts the question right after its first card, which it still lists.
    const question = { ...makeTask(1), task_hash: "77", spans: [], meta: { whole: true, completion: true } };
    model.kernelUpdate({ queue: [q[0], question, q[1], q[2]] });
    await tick();
    assert.equal($(".nba-card").dataset.taskHash, q[1].task_hash);
    key(dom.window, root, "x"); // the question comes next
    assert.equal($(".nba-card").dataset.taskHash, "77");
    key(dom.window, root, "a");
    assert.equal($(".nba-card").dataset.taskHash, q[2].task_hash);
    key(dom.window, root, "Backspace"); // an undo brings it back first all the same
    assert.equal($(".nba-card").dataset.taskHash, "77");
  });

  test("a new card on a long text scrolls its span into view, only after this view's own action", async () => {
    const { model, root, $ } = mount(readyState(4));
    const scrolled = [];
    dom.window.Element.prototype.scrollIntoView = function (options) {
      scrolled.push([this.className, this.textContent, options]);
    };
    const q = model.get("queue");
    model.kernelUpdate({ queue: q.slice(1) }); // answered in another view; focus elsewhere
    await tick();
    // Also while the widget has focus: the person may be scrolling elsewhere with the wheel.
    root.focus();
    model.kernelUpdate({ queue: q.slice(2) });
    await tick();
    assert.equal($(".nba-card").dataset.taskHash, q[2].task_hash);
    assert.deepEqual(scrolled, []);
    key(dom.window, root, "a");
    assert.deepEqual(scrolled, [["nba-span", "gadget4PRODUCT", { block: "nearest" }]]);
    $(".nba-btn-undo").dispatchEvent(new dom.window.MouseEvent("click", { bubbles: true }));
    assert.equal($(".nba-card").dataset.taskHash, q[2].task_hash);
    assert.equal(scrolled.length, 2, "a button is this view's action too");
    model.kernelUpdate({ acks: { [view.client]: 2 }, queue: q.slice(2) }); // the acks: same card
    await tick();
    model.kernelUpdate({ queue: [q[3]] }); // answered in another view: not this view's doing
    await tick();
    assert.equal($(".nba-card").dataset.taskHash, q[3].task_hash);
    assert.equal(scrolled.length, 2);
  });

  test("loading, no more tasks and kernel errors are shown clearly", async () => {
    const { model, root, $ } = mount({ status: "loading" });
    assert.equal(root.dataset.state, "loading");
    assert.equal($(".nba-state").textContent, "Loading tasks…");
    assert.ok($(".nba-btn-accept").disabled);
    model.kernelUpdate({ status: "done" });
    await tick();
    assert.equal(root.dataset.state, "done");
    assert.match($(".nba-state").textContent, /^No more tasks/);
    model.kernelUpdate({ status: "error", error: "SourceError: line 3 of texts.jsonl is not JSON" });
    await tick();
    assert.equal(root.dataset.state, "error");
    assert.equal($(".nba-error").textContent, "Error in the kernel: SourceError: line 3 of texts.jsonl is not JSON");
    assert.equal($(".nba-error").hidden, false);
  });

  test("progress shows both counts, accept rate, model updates and an estimate", () => {
    const state = readyState();
    state.progress.session = { accept: 3, reject: 1, ignore: 2, total: 6 };
    state.progress.accept_rate = 0.75;
    const { $ } = mount(state);
    assert.equal($(".nba-counts-session").textContent, "Session✓ 3✗ 1⊘ 2= 6");
    assert.equal($(".nba-counts-dataset").textContent, "Dataset✓ 4✗ 1⊘ 0= 5");
    assert.equal($(".nba-rate").textContent, "accept rate 75%");
    assert.equal($(".nba-updates").textContent, "model updates 2");
    assert.equal($(".nba-estimate").textContent, "25% of the source read (10 of 40 texts)");
  });

  test("dataset counts the kernel does not know (closed session) show as unknown, not as zeros", () => {
    const state = readyState();
    state.progress.session = { accept: 3, reject: 1, ignore: 0, total: 4 };
    state.progress.dataset = null; // what the kernel sends once the session is closed
    state.history = [{ task_hash: "9", text: "x", span_text: "Pixel", label: "PRODUCT", whole: false, answer: "accept" }];
    const { root, $ } = mount(state);
    assert.equal($(".nba-counts-session").textContent, "Session✓ 3✗ 1⊘ 0= 4");
    assert.equal($(".nba-counts-dataset").textContent, "Dataset✓ –✗ –⊘ –= –");
    key(dom.window, root, "a"); // a local answer counts in the session, the dataset stays unknown
    assert.equal($(".nba-counts-session").textContent, "Session✓ 4✗ 1⊘ 0= 5");
    assert.equal($(".nba-counts-dataset").textContent, "Dataset✓ –✗ –⊘ –= –");
  });

  test("a view rendered later (page reload) picks up the kernel's state and numbers its messages anew", () => {
    const first = mount(readyState(3));
    key(dom.window, first.root, "a");
    const c1 = first.model.answers()[0].client;
    view.destroy();
    const { model, $ } = mount({ ...readyState(3), acks: { [c1]: 1 } });
    key(dom.window, view.root, "a");
    const msg = model.answers()[0];
    assert.notEqual(msg.client, c1);
    assert.equal($(".nba-card").dataset.taskHash, model.get("queue")[1].task_hash);
  });

  test("the anywidget entry point renders and cleans up", () => {
    const model = new FakeModel(readyState());
    const cleanup = widget.render({ model, el: dom.el });
    assert.equal(dom.el.querySelectorAll(".nba-root").length, 1);
    assert.deepEqual(model.sent.map((m) => m.type), ["hello"]);
    cleanup();
    assert.equal(dom.el.querySelectorAll(".nba-root").length, 0);
  });
});

describe("derive", () => {
  test("a completion question never takes the place of the card on screen", () => {
    const [t1, t2, t3] = [makeTask(1), makeTask(2), makeTask(3)];
    const question = { ...makeTask(1), task_hash: "77", meta: { whole: true, completion: true } };
    const server = { queue: [t1, question, t2, t3], history: [], progress: {} };
    const ops = [{ type: "answer", seq: 1, task_hash: t1.task_hash, answer: "accept" }];
    const hashes = (out) => out.queue.map((t) => t.task_hash);
    // t1 answered here (not acknowledged yet), t2 on screen: the question follows t2
    assert.deepEqual(hashes(derive(server, ops, new Map(), t2.task_hash)), [t2.task_hash, "77", t3.task_hash]);
    // once the card on screen is answered, the question is next
    const both = ops.concat([{ type: "answer", seq: 2, task_hash: t2.task_hash, answer: "reject" }]);
    assert.equal(derive(server, both, new Map(), t2.task_hash).task.task_hash, "77");
    // the kernel's order stands when it is what is on screen, or nothing is
    assert.deepEqual(hashes(derive({ ...server, queue: [question, t2] }, [], new Map(), "77")), ["77", t2.task_hash]);
    assert.deepEqual(hashes(derive({ ...server, queue: [question, t2] }, [], new Map(), null)), ["77", t2.task_hash]);
  });


  test("undo of an answer from another view waits for the kernel", () => {
    const cache = new Map();
    const server = { queue: [makeTask(2)], history: [{ task_hash: "5", answer: "accept", label: "X" }], progress: {} };
    const out = derive(server, [{ type: "undo", seq: 1 }], cache);
    assert.equal(out.history.length, 0);
    assert.equal(out.task.task_hash, makeTask(2).task_hash);
  });
});

test("with the kernel lost, shift+enter reaches JupyterLab even with a keyboard selection pending", () => {
  // The view asks to run the cell again: shift+enter must not be kept to label a selection
  // the editor can no longer store.
  const task = {
    task_hash: "2000000000000000001", input_hash: "1", view_id: "ner_manual",
    text: "I bought a Pixel.", tokens: [[0, 1], [2, 8], [9, 10], [11, 16], [16, 17]], spans: [],
    labels: ["PRODUCT"], meta: {},
  };
  const model = new FakeModel({ queue: [task], status: "ready", mode: "manual", labels: ["PRODUCT"] });
  view = createView({ model, el: dom.el });
  const root = view.root;
  root.focus();
  key(dom.window, root, "ArrowRight");
  key(dom.window, root, "ArrowRight", { shiftKey: true }); // a pending keyboard selection
  model.send = () => { throw new Error("Cannot send"); }; // the kernel restarted
  key(dom.window, root, "a");
  assert.equal(root.dataset.state, "lost");
  const suppressed = [];
  dom.document.addEventListener("keydown",
    () => suppressed.push(root.hasAttribute("data-lm-suppress-shortcuts")), true);
  const event = key(dom.window, root, "Enter", { shiftKey: true });
  assert.equal(suppressed.at(-1), false);
  assert.equal(event.defaultPrevented, false);
});

test("a card the kernel sends after this view's own key, its local queue drained, scrolls to its span", async () => {
  const model = new FakeModel({ queue: [makeTask(1)], status: "ready" });
  view = createView({ model, el: dom.el });
  const root = view.root;
  root.focus();
  const scrolled = [];
  dom.window.Element.prototype.scrollIntoView = function () { scrolled.push(this.textContent); };
  key(dom.window, root, "a"); // the last card held: the view waits for the kernel
  assert.equal(root.dataset.state, "loading");
  model.kernelUpdate({ acks: { [view.client]: 1 }, queue: [makeTask(2)] });
  await tick();
  assert.equal(root.querySelector(".nba-card").dataset.taskHash, makeTask(2).task_hash);
  assert.equal(scrolled.length, 1);
  model.kernelUpdate({ queue: [makeTask(2), makeTask(3)] }); // no action: no more scrolling
  await tick();
  assert.equal(scrolled.length, 1);
});

describe("meta details and the model's precision", () => {
  test("the user's meta shows, the project's own is behind a toggle kept from task to task", () => {
    const meta = { score: 0.5, line: 12, sentence: 1, model_version: 4, pattern: "3", id: 77, author: "ann" };
    const q = [makeTask(1, { meta }), makeTask(2, { meta: { ...meta, author: "bob" } })];
    const { root, $ } = mount({ queue: q, status: "ready" });
    const items = (sel) => [...root.querySelectorAll(`${sel} > .nba-meta-item`)].map((i) => i.textContent);
    assert.deepEqual(items(".nba-meta:not(.nba-meta-details)"), ["authorann"]);
    assert.deepEqual(items(".nba-meta-details"), ["line12", "sentence1", "model_version4", "pattern3", "id77"]);
    const toggle = $(".nba-details-toggle");
    assert.ok($(".nba-meta-details").hidden);
    assert.equal(toggle.getAttribute("aria-expanded"), "false");
    assert.equal(toggle.textContent, "▸ details (5)");
    toggle.dispatchEvent(new dom.window.MouseEvent("click", { bubbles: true }));
    assert.ok(!$(".nba-meta-details").hidden);
    assert.equal(toggle.getAttribute("aria-expanded"), "true");
    assert.equal(dom.document.activeElement, root); // the keys keep working
    key(dom.window, root, "a");
    assert.deepEqual(items(".nba-meta:not(.nba-meta-details)"), ["authorbob"]);
    assert.ok(!$(".nba-meta-details").hidden, "still open on the next task");
    const bare = { ...makeTask(3), meta: { score: 0.5, topic: "x" } };
    mount({ queue: [bare], status: "ready" });
    assert.ok(view.root.querySelector(".nba-details").hidden, "no toggle without details");
  });

  test("the side panel shows the model's precision and a sparkline of it", () => {
    const progress = { ...readyState().progress, model_precision: 0.734, model_precision_answers: 42,
      model_precision_history: [0.1, 0.3, 0.5, 0.734] };
    const { model, root, $ } = mount({ ...readyState(), progress });
    assert.equal($(".nba-precision-value").textContent, "73%");
    assert.equal($(".nba-precision-n").textContent, "last 42");
    const line = root.querySelector("svg.nba-spark polyline");
    const ys = line.getAttribute("points").split(" ").map((p) => Number(p.split(",")[1]));
    assert.equal(ys.length, 4);
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i] < ys[i - 1], "rising precision: the line goes up");
    assert.match(root.querySelector("svg.nba-spark").getAttribute("aria-label"), /from 10% to 73%/);
    // Before any answer to the model's guesses: a dash, no line.
    model.kernelUpdate({ progress: { ...progress, model_precision: null, model_precision_answers: 0,
      model_precision_history: [] } });
    return tick().then(() => {
      assert.equal($(".nba-precision-value").textContent, "–");
      assert.equal(root.querySelector("svg.nba-spark"), null);
    });
  });

  test("a manual session has no model precision row", () => {
    const { root } = mount({ ...readyState(), mode: "manual" });
    assert.equal(root.querySelector(".nba-precision"), null);
  });
});
