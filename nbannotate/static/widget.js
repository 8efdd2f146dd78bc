// js/dom.js
function h(doc, tag, cls, text) {
  const el = doc.createElement(tag);
  if (cls) el.className = cls;
  if (text !== void 0 && text !== null) el.textContent = String(text);
  return el;
}

// js/state.js
var ANSWERS = ["accept", "reject", "ignore"];
function cpSlice(chars, start, end) {
  return chars.slice(start, end).join("");
}
function splitText(task) {
  const text = typeof task.text === "string" ? task.text : String(task.text ?? "");
  const chars = Array.from(text);
  const span = (task.spans || [])[0];
  if (!span) return { before: text, span: "", after: "", spanObj: null };
  const start = Math.max(0, Math.min(chars.length, Number(span.start) || 0));
  const end = Math.max(start, Math.min(chars.length, Number(span.end) || 0));
  return {
    before: cpSlice(chars, 0, start),
    span: cpSlice(chars, start, end),
    after: cpSlice(chars, end, chars.length),
    spanObj: span
  };
}
function isWhole(task) {
  return Boolean(task && task.meta && task.meta.whole);
}
function overlapsAccepted(task, inputHash, span) {
  if (!task || task.input_hash !== inputHash || isWhole(task) || task.view_id === "ner_manual") return false;
  const spans = task.spans || [];
  if (spans.length !== 1) return false;
  return Number(spans[0].start) < Number(span.end) && Number(span.start) < Number(spans[0].end);
}
function segments(task) {
  const text = typeof task.text === "string" ? task.text : String(task.text ?? "");
  const chars = Array.from(text);
  const spans = [...task.spans || []].sort((a, b) => Number(a.start) - Number(b.start));
  const out = [];
  let pos = 0;
  for (const span of spans) {
    const wanted = Number(span.start) || 0;
    if (pos > 0 && wanted < pos) continue;
    const start = Math.max(pos, Math.min(chars.length, wanted));
    const end = Math.max(start, Math.min(chars.length, Number(span.end) || 0));
    if (end === start) continue;
    if (start > pos) out.push({ text: cpSlice(chars, pos, start) });
    out.push({ text: cpSlice(chars, start, end), span });
    pos = end;
  }
  if (pos < chars.length) out.push({ text: cpSlice(chars, pos, chars.length) });
  return out;
}
function historyRow(task, answer, spans) {
  if (task.view_id === "ner_manual") {
    const chars = Array.from(typeof task.text === "string" ? task.text : String(task.text ?? ""));
    return {
      task_hash: task.task_hash,
      text: task.text,
      span_text: "",
      label: null,
      whole: false,
      manual: true,
      answer,
      score: null,
      source: null,
      pending: true,
      spans: (spans || task.spans || []).map((s) => ({ text: cpSlice(chars, s.start, s.end), label: s.label }))
    };
  }
  const whole = isWhole(task);
  const { span, spanObj } = whole ? { span: "", spanObj: null } : splitText(task);
  return {
    task_hash: task.task_hash,
    text: task.text,
    span_text: span,
    label: spanObj ? spanObj.label : "",
    whole,
    spans: whole ? segments(task).filter((s) => s.span).map((s) => ({ text: s.text, label: (
      /** @type {Span} */
      s.span.label
    ) })) : [],
    answer,
    score: spanObj ? spanObj.score ?? null : null,
    source: spanObj ? spanObj.source ?? null : null,
    pending: true
  };
}
function unacked(ops, acks, client) {
  const done = acks && acks[client] || 0;
  return ops.filter((op) => (
    /** @type {number} */
    op.seq > done
  ));
}
function emptyCounts() {
  return { accept: 0, reject: 0, ignore: 0, total: 0 };
}
function bump(counts, answer, by) {
  if (!counts || !ANSWERS.includes(answer)) return;
  counts[answer] = (counts[answer] || 0) + by;
  counts.total = (counts.total || 0) + by;
}
function isCompletion(task) {
  return Boolean(task && task.meta && task.meta.completion);
}
function isCorrection(task) {
  return Boolean(task && task.view_id === "ner_manual" && task.meta && task.meta.correction);
}
function addActions(progress, actions) {
  const counts = progress.actions;
  if (!counts || !actions) return;
  for (const [kind, n] of Object.entries(actions)) {
    if (typeof n !== "number" || !Number.isFinite(n)) continue;
    const k = (
      /** @type {import("./messages.js").ActionKind} */
      kind
    );
    counts[k] = (counts[k] || 0) + n;
    counts.total = (counts.total || 0) + n;
  }
}
function derive(server, ops, cache, shown = null) {
  const queue = (server.queue || []).slice();
  const undone = /* @__PURE__ */ new Set();
  const history = (server.history || []).map((h2) => ({ ...h2 }));
  const progress = JSON.parse(JSON.stringify(server.progress || {}));
  const counts = (name) => progress[name] === null ? null : progress[name] || (progress[name] = emptyCounts());
  const session = counts("session");
  const dataset = counts("dataset");
  const count = (answer, by) => {
    bump(session, answer, by);
    bump(dataset, answer, by);
  };
  for (const op of ops) {
    if (op.type === "answer") {
      const i = queue.findIndex((t) => t.task_hash === op.task_hash);
      const task = i >= 0 ? queue.splice(i, 1)[0] : cache.get(op.task_hash);
      if (task) history.unshift(historyRow(task, op.answer, op.spans));
      addActions(progress, op.actions);
      if (task && op.answer === "reject" && task.correction && !queue.some((t) => t.task_hash === task.correction?.task_hash)) {
        queue.unshift(task.correction);
      }
      if (task && op.answer === "accept") {
        const settled = isWhole(task) || isCorrection(task) ? (q) => q.input_hash === task.input_hash : task.view_id !== "ner_manual" && (task.spans || []).length === 1 ? (q) => overlapsAccepted(
          q,
          task.input_hash,
          /** @type {Span[]} */
          task.spans[0]
        ) : null;
        if (settled) {
          for (let j = queue.length - 1; j >= 0; j--) if (settled(queue[j])) queue.splice(j, 1);
        }
      }
      count(op.answer, 1);
    } else if (op.type === "skip") {
      const i = queue.findIndex((t) => t.task_hash === op.task_hash);
      if (i >= 0) queue.splice(i, 1);
      addActions(progress, { skip: 1 });
    } else if (op.type === "undo") {
      const last = history.shift();
      if (!last) continue;
      count(last.answer, -1);
      addActions(progress, { undo: 1 });
      for (let j = queue.length - 1; j >= 0; j--) {
        const meta = queue[j].meta;
        if (isCorrection(queue[j]) && meta && meta.corrects === last.task_hash) queue.splice(j, 1);
      }
      const task = cache.get(last.task_hash);
      if (task && !queue.some((t) => t.task_hash === task.task_hash)) queue.unshift(task);
      if (task) undone.add(task.task_hash);
    } else if (op.type === "change") {
      const row = history.find((h2) => h2.task_hash === op.task_hash);
      if (row && row.answer !== op.answer) {
        addActions(progress, { change: 1 });
        count(row.answer, -1);
        count(op.answer, 1);
        row.answer = op.answer;
        row.pending = true;
      }
    }
  }
  const at = queue.findIndex((t) => t.task_hash === shown);
  if (at > 0 && queue.slice(0, at).every((t) => isCompletion(t) && !undone.has(t.task_hash))) {
    queue.unshift(queue.splice(at, 1)[0]);
  }
  if (ops.length > 0 && session && session.accept + session.reject > 0) {
    progress.accept_rate = session.accept / (session.accept + session.reject);
  }
  return { queue, history, progress, task: queue[0] || null };
}
var PALETTE = [
  "#ffd166",
  "#55c4fe",
  "#f594c3",
  "#78fad1",
  "#a4c295",
  "#e2ccfd",
  "#fa9d68",
  "#b6abf9",
  "#37d8c9",
  "#fac2af",
  "#b5e285",
  "#9bddee",
  "#d8b349",
  "#f5adf9",
  "#e1a6a5",
  "#d5cc97",
  "#81c4d0",
  "#96ddb6",
  "#9dc7fe",
  "#6cd092"
];
function fnv1a(text) {
  let h2 = 2166136261;
  for (const ch of text) {
    h2 ^= /** @type {number} */
    ch.codePointAt(0);
    h2 = Math.imul(h2, 16777619) >>> 0;
  }
  return h2;
}
function labelColors(labels) {
  const known = [...new Set((Array.isArray(labels) ? labels : []).map(String))].sort();
  const index = new Map(known.map((name, i) => [name, i]));
  const free = known.length < PALETTE.length ? PALETTE.slice(known.length) : PALETTE;
  return (label) => {
    const name = String(label ?? "");
    const i = index.get(name);
    return i !== void 0 ? PALETTE[i % PALETTE.length] : free[fnv1a(name) % free.length];
  };
}

// js/manual.js
var VIEW_MANUAL = "ner_manual";
function isManual(task) {
  return Boolean(task && task.view_id === VIEW_MANUAL);
}
var SPACE = /^\s*$/u;
function tokenize(task) {
  const text = typeof task.text === "string" ? task.text : String(task.text ?? "");
  const chars = Array.from(text);
  const raw = Array.isArray(task.tokens) ? task.tokens : [];
  const tokens = [];
  for (let i = 0; i < raw.length; i++) {
    const [start, end] = Array.isArray(raw[i]) ? raw[i] : [raw[i].start, raw[i].end];
    const next = i + 1 < raw.length ? Array.isArray(raw[i + 1]) ? raw[i + 1][0] : raw[i + 1].start : chars.length;
    const tokText = cpSlice(chars, start, end);
    tokens.push({ i, start, end, text: tokText, space: SPACE.test(tokText), gap: cpSlice(chars, end, next) });
  }
  const lead = tokens.length ? cpSlice(chars, 0, tokens[0].start) : text;
  return { tokens, lead, length: chars.length };
}
function snapRange(tokens, a, b) {
  const s = Math.min(a, b);
  const e = Math.max(a, b);
  if (s === e) return null;
  let first = null;
  let last = null;
  for (const t of tokens) {
    if (t.space || t.end <= s || t.start >= e) continue;
    if (first === null) first = t.i;
    last = t.i;
  }
  return first === null ? null : [
    first,
    /** @type {number} */
    last
  ];
}
function makeSpan(tokens, ts, te, label) {
  return { start: tokens[ts].start, end: tokens[te].end, token_start: ts, token_end: te, label };
}
function findOverlap(spans, ts, te, except = null) {
  return spans.find((s) => s !== except && s.token_start <= te && ts <= s.token_end) || null;
}
function spanAt(spans, i) {
  return spans.find((s) => s.token_start <= i && i <= s.token_end) || null;
}
function initialSpans(task, tokens) {
  const out = [];
  for (const s of task.spans || []) {
    let ts = Number.isInteger(s.token_start) ? (
      /** @type {number} */
      s.token_start
    ) : null;
    let te = Number.isInteger(s.token_end) ? (
      /** @type {number} */
      s.token_end
    ) : null;
    if (ts === null || te === null) {
      const snapped = snapRange(tokens, Number(s.start), Number(s.end));
      if (!snapped) continue;
      [ts, te] = snapped;
    }
    if (!tokens[ts] || !tokens[te] || findOverlap(out, ts, te)) continue;
    out.push({ ...makeSpan(tokens, ts, te, String(s.label ?? "")), source: s.source ?? null });
  }
  return sortSpans(out);
}
function sortSpans(spans) {
  return spans.sort((x, y) => x.token_start - y.token_start);
}
function stepToken(tokens, from, dir) {
  if (!tokens.length) return null;
  if (from === null || from === void 0) {
    const order = dir > 0 ? tokens : [...tokens].reverse();
    const t = order.find((x) => !x.space);
    return t ? t.i : null;
  }
  for (let i = from + dir; i >= 0 && i < tokens.length; i += dir) {
    if (!tokens[i].space) return i;
  }
  return from;
}
function wireSpans(spans) {
  return spans.map((s) => ({ start: s.start, end: s.end, label: s.label }));
}

// js/manual-mouse.js
var TEXT_NODE = 3;
var PRECEDING = 2;
function pointToChar(textEl, length, node, offset) {
  if (!node) return null;
  if (node !== textEl && !textEl.contains(node)) {
    return textEl.compareDocumentPosition(node) & PRECEDING ? 0 : length;
  }
  if (node.nodeType === TEXT_NODE) {
    const holder = (
      /** @type {HTMLElement} */
      node.parentElement
    );
    if (holder.classList.contains("nba-span-label")) return Number(
      /** @type {HTMLElement} */
      holder.parentElement.dataset.end
    );
    if (holder.dataset.start === void 0) return null;
    return Number(holder.dataset.start) + Array.from(
      /** @type {Text} */
      node.data.slice(0, offset)
    ).length;
  }
  const el = (
    /** @type {HTMLElement} */
    node
  );
  if (el.classList && el.classList.contains("nba-span-label")) return Number(
    /** @type {HTMLElement} */
    el.parentElement.dataset.end
  );
  const child = (
    /** @type {HTMLElement | undefined} */
    el.childNodes[offset]
  );
  if (child) {
    if (child.classList && child.classList.contains("nba-span-label")) return Number(el.dataset.end);
    if (child.dataset && child.dataset.start !== void 0) return Number(child.dataset.start);
    return null;
  }
  if (node === textEl) return length;
  return el.dataset && el.dataset.end !== void 0 ? Number(el.dataset.end) : null;
}
function createManualMouse({ doc, textEl, active, length, select, removeAt }) {
  let pressMark = null;
  let pressInText = false;
  let removed = null;
  function onMouseDown(event) {
    if (!active() || event.button !== 0) return;
    const target = (
      /** @type {Element | null} */
      event.target
    );
    pressInText = Boolean(target && textEl.contains(target));
    pressMark = pressInText && target && target.closest ? target.closest("mark.nba-span") : null;
    if (event.detail > 1 && removed && pressInText && target) {
      const at = (
        /** @type {HTMLElement | null} */
        target.closest ? target.closest("[data-start]") : null
      );
      const pos = at && textEl.contains(at) ? Number(at.dataset.start) : NaN;
      if (removed[0] <= pos && pos < removed[1]) {
        event.preventDefault();
        pressInText = false;
        pressMark = null;
        return;
      }
    }
    removed = null;
    if (event.detail > 1 && pressMark) event.preventDefault();
  }
  function onMouseUp(event) {
    if (!active() || event.button !== 0 || !pressInText) return false;
    pressInText = false;
    const win = (
      /** @type {Window} */
      doc.defaultView
    );
    const rootNode = (
      /** @type {any} */
      textEl.getRootNode()
    );
    const sel = typeof rootNode.getSelection === "function" ? rootNode.getSelection() : win.getSelection ? win.getSelection() : null;
    if (sel && sel.rangeCount > 0 && !sel.isCollapsed) {
      const a = pointToChar(textEl, length(), sel.anchorNode, sel.anchorOffset);
      const b = pointToChar(textEl, length(), sel.focusNode, sel.focusOffset);
      sel.removeAllRanges();
      pressMark = null;
      if (a !== null && b !== null) select(a, b);
      return true;
    }
    const target = (
      /** @type {Element | null} */
      typeof event.composedPath === "function" ? event.composedPath()[0] : event.target
    );
    const mark = (
      /** @type {HTMLElement | null} */
      target && target.closest ? target.closest("mark.nba-span") : null
    );
    if (mark && mark === pressMark && textEl.contains(mark)) {
      pressMark = null;
      const span = removeAt(Number(mark.dataset.start));
      if (span) removed = [span.start, span.end];
      return true;
    }
    pressMark = null;
    return false;
  }
  return {
    onMouseDown,
    onMouseUp,
    /** A new task is shown. */
    reset() {
      removed = null;
    }
  };
}

// js/manual-paint.js
function createManualPainter({ doc, info, textEl }) {
  let tokEls = [];
  let gapEls = [];
  let painted = { cursor: null, sel: null };
  function labels(names, active, disabled, spans, keyPrefix = "") {
    info.replaceChildren();
    const bar = h(doc, "span", "nba-labels");
    bar.setAttribute("role", "radiogroup");
    bar.setAttribute("aria-label", "Label for new spans");
    const color = labelColors(names);
    names.forEach((name, k) => {
      const b = h(doc, "button", "nba-label-btn");
      b.type = "button";
      b.tabIndex = -1;
      b.dataset.label = name;
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", String(name === active));
      b.disabled = disabled;
      b.style.background = color(name);
      if (k < 9) b.append(h(doc, "kbd", "", `${keyPrefix ? "\u21E7" : ""}${k + 1}`));
      b.append(h(doc, "span", "nba-label-name", name));
      b.title = k < 9 ? `${name} (key ${keyPrefix}${k + 1})` : name;
      bar.append(b);
    });
    info.append(bar);
    const sources = [...new Set(spans.map((s) => s.source).filter(Boolean))];
    if (sources.length) {
      info.append(h(doc, "span", `nba-source nba-source-${sources[0]}`, `pre-highlighted: ${sources.join(", ")}`));
    }
  }
  function tokenEl(t) {
    const el = h(doc, "span", "nba-tok", t.text);
    el.dataset.i = String(t.i);
    el.dataset.start = String(t.start);
    el.dataset.end = String(t.end);
    if (t.space) el.classList.add("nba-tok-space");
    tokEls[t.i] = el;
    return el;
  }
  function gapEl(start, text2) {
    const el = h(doc, "span", "nba-gap", text2);
    el.dataset.start = String(start);
    el.dataset.end = String(start + Array.from(text2).length);
    return el;
  }
  function text({ tokens, lead, spans, names, cursor, sel }) {
    textEl.classList.add("nba-manual-text");
    const out = doc.createDocumentFragment();
    tokEls = new Array(tokens.length);
    gapEls = new Array(tokens.length);
    const byStart = new Map(spans.map((s) => [s.token_start, s]));
    const color = labelColors(names);
    if (lead) out.append(gapEl(0, lead));
    let i = 0;
    while (i < tokens.length) {
      const span = byStart.get(i);
      if (!span) {
        const t = tokens[i];
        out.append(tokenEl(t));
        if (t.gap) out.append(gapEls[i] = gapEl(t.end, t.gap));
        i += 1;
        continue;
      }
      const mark = h(doc, "mark", "nba-span");
      mark.dataset.start = String(span.start);
      mark.dataset.end = String(span.end);
      mark.dataset.label = span.label;
      mark.title = `${span.label}: click to remove (or r with the cursor on it)`;
      mark.style.background = color(span.label);
      for (let j = span.token_start; j <= span.token_end; j++) {
        const t = tokens[j];
        mark.append(tokenEl(t));
        if (j < span.token_end && t.gap) mark.append(gapEls[j] = gapEl(t.end, t.gap));
      }
      mark.append(h(doc, "span", "nba-span-label", span.label));
      out.append(mark);
      const last = tokens[span.token_end];
      if (last.gap) out.append(gapEls[span.token_end] = gapEl(last.end, last.gap));
      i = span.token_end + 1;
    }
    const dir = textEl.getAttribute("dir");
    textEl.removeAttribute("dir");
    textEl.replaceChildren(out);
    if (dir !== null) textEl.setAttribute("dir", dir);
    painted = { cursor: null, sel: null };
    cursorAndSelection(cursor, sel);
  }
  function selected(range) {
    const els = /* @__PURE__ */ new Map();
    if (!range) return els;
    for (let i = range[0]; i <= range[1]; i++) {
      els.set(tokEls[i], "nba-sel");
      const gap = gapEls[i];
      if (i < range[1] && gap) els.set(gap, "nba-sel-gap");
    }
    return els;
  }
  function cursorAndSelection(cursor, sel, follow = false) {
    const now = selected(sel);
    const before = selected(painted.sel);
    for (const [el, cls] of before) if (!now.has(el)) el.classList.remove(cls);
    for (const [el, cls] of now) if (!before.has(el)) el.classList.add(cls);
    if (painted.cursor !== cursor) {
      if (painted.cursor !== null) tokEls[painted.cursor].classList.remove("nba-cursor");
      if (cursor !== null) {
        tokEls[cursor].classList.add("nba-cursor");
        if (follow) tokEls[cursor].scrollIntoView({ block: "nearest" });
      }
    }
    painted = { cursor, sel };
  }
  function disableLabels(disabled) {
    for (const b of info.querySelectorAll(".nba-label-btn")) b.disabled = disabled;
  }
  return { labels, text, cursorAndSelection, disableLabels };
}

// js/manual-view.js
function editorKey(event) {
  if (typeof event.key !== "string") return null;
  const k = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  return k === "ArrowRight" || k === "ArrowLeft" || k === "r" || /^[1-9]$/.test(k) || k === "Enter" || k === "Escape" ? k : null;
}
function createManualEditor({ doc, info, textEl, msgEl, edits, labels, labelKey = () => "" }) {
  let task = null;
  let tokens = [];
  let lead = "";
  let length = 0;
  let spans = [];
  let cursor = null;
  let anchor = null;
  let active = null;
  let edited = false;
  let disabled = false;
  let rtl = null;
  const counts = /* @__PURE__ */ new Map();
  const painter = createManualPainter({ doc, info, textEl });
  const mouse = createManualMouse({
    doc,
    textEl,
    active: () => task !== null,
    length: () => length,
    select,
    removeAt
  });
  function labelList() {
    const own = task && Array.isArray(task.labels) && task.labels.length ? task.labels : labels();
    return own.map(String);
  }
  function say(text) {
    msgEl.textContent = text || "";
    msgEl.hidden = !text;
  }
  function show(t) {
    task = t;
    ({ tokens, lead, length } = tokenize(t));
    if (!edits.has(t.task_hash)) edits.set(t.task_hash, initialSpans(t, tokens));
    spans = /** @type {EditSpan[]} */
    edits.get(t.task_hash);
    cursor = null;
    anchor = null;
    mouse.reset();
    edited = false;
    rtl = null;
    const names = labelList();
    if (!names.includes(
      /** @type {string} */
      active
    )) active = names[0] ?? null;
    say("");
    paint();
  }
  function clear() {
    task = null;
    say("");
  }
  function count(kind) {
    if (!task) return;
    let c = counts.get(task.task_hash);
    if (!c) {
      c = { select: 0, label: 0, remove: 0 };
      counts.set(task.task_hash, c);
      while (counts.size > 500) counts.delete(
        /** @type {string} */
        counts.keys().next().value
      );
    }
    c[kind] += 1;
  }
  function selection() {
    if (anchor === null || cursor === null) return null;
    return [Math.min(anchor, cursor), Math.max(anchor, cursor)];
  }
  function paint() {
    const names = labelList();
    painter.labels(names, active, disabled, spans, labelKey());
    painter.text({ tokens, lead, spans, names, cursor, sel: selection() });
  }
  function add(ts, te, label) {
    const clash = findOverlap(spans, ts, te);
    const wanted = tokens.slice(ts, te + 1).map((t) => t.text + (t.i < te ? t.gap : "")).join("");
    if (clash) {
      const clashText = tokens.slice(clash.token_start, clash.token_end + 1).map((t) => t.text + (t.i < clash.token_end ? t.gap : "")).join("");
      say(`Refused: \u201C${wanted}\u201D would overlap \u201C${clashText}\u201D (${clash.label}). Entities cannot overlap: remove that span first (click it, or r with the cursor on it).`);
      return false;
    }
    if (label === null || label === void 0) {
      say("No label to give: the session has no labels.");
      return false;
    }
    spans.push(makeSpan(tokens, ts, te, label));
    sortSpans(spans);
    edited = true;
    say("");
    return true;
  }
  function chooseLabel(label, picked = true) {
    if (task && picked) count("label");
    active = label;
    const sel = selection();
    if (sel) {
      if (add(sel[0], sel[1], label)) {
        anchor = null;
        count("select");
      }
    } else {
      const span = cursor === null ? null : spanAt(spans, cursor);
      if (span && label !== null && span.label !== label) {
        span.label = label;
        edited = true;
      }
      say("");
    }
    paint();
  }
  function removeSpan(span) {
    spans.splice(spans.indexOf(span), 1);
    count("remove");
    edited = true;
    say("");
    paint();
  }
  function select(a, b) {
    const snapped = snapRange(tokens, a, b);
    if (!snapped) return;
    anchor = null;
    if (add(snapped[0], snapped[1], active)) {
      cursor = snapped[1];
      count("select");
    }
    paint();
  }
  function removeAt(start) {
    const span = spans.find((s) => s.start === start);
    if (span) removeSpan(span);
    return span || null;
  }
  function onKey(event) {
    if (!task) return false;
    const k = editorKey(event);
    if (k === null) return false;
    if (k === "ArrowRight" || k === "ArrowLeft") {
      if (rtl === null) rtl = /** @type {Window} */
      doc.defaultView.getComputedStyle(textEl).direction === "rtl";
      const dir = k === "ArrowRight" !== rtl ? 1 : -1;
      if (event.shiftKey) {
        if (cursor === null) {
          cursor = stepToken(tokens, null, dir);
          anchor = cursor;
        } else {
          if (anchor === null) anchor = cursor;
          cursor = stepToken(tokens, cursor, dir);
        }
      } else {
        cursor = stepToken(tokens, cursor, dir);
        anchor = null;
      }
      say("");
      painter.cursorAndSelection(cursor, selection(), true);
      return true;
    }
    if (k === "r") {
      const span = cursor === null ? null : spanAt(spans, cursor);
      if (span) removeSpan(span);
      else say("No span under the cursor to remove: move the cursor onto one with \u2190/\u2192.");
      return true;
    }
    if (/^[1-9]$/.test(k)) {
      labelNumber(Number(k));
      return true;
    }
    if (k === "Enter") {
      if (selection()) chooseLabel(active, false);
      return true;
    }
    if (k === "Escape") {
      anchor = null;
      say("");
      painter.cursorAndSelection(cursor, selection());
      return true;
    }
    return false;
  }
  function labelNumber(n) {
    if (!task) return;
    const names = labelList();
    if (n > names.length) {
      say(`No label ${n}: the labels are ${names.map((x, j) => `${j + 1} ${x}`).join(", ")}.`);
    } else {
      chooseLabel(names[n - 1]);
    }
  }
  function load(given) {
    if (!task) return;
    spans.splice(0, spans.length, ...initialSpans({ ...task, spans: given }, tokens));
    anchor = null;
    edited = true;
    say("");
    paint();
  }
  function setDisabled(off) {
    if (disabled === Boolean(off)) return;
    disabled = Boolean(off);
    painter.disableLabels(disabled);
  }
  function showsSpansOf(t) {
    if (!task || t.task_hash !== task.task_hash) return false;
    const key = (list) => JSON.stringify(list.map((s) => [s.start, s.end, s.label]));
    return key(spans) === key(initialSpans(t, tokenize(t).tokens));
  }
  return {
    show,
    clear,
    setDisabled,
    showsSpansOf,
    onKey,
    onMouseDown: mouse.onMouseDown,
    onMouseUp: mouse.onMouseUp,
    chooseLabel,
    labelNumber,
    load,
    /** The actions spent on task `taskHash` here, per kind (nonzero ones).
     * @param {string} taskHash @returns {Actions} */
    actionsOf(taskHash) {
      const c = counts.get(taskHash);
      const out = {};
      if (c) {
        for (const [k, n] of Object.entries(c)) if (n) out[
          /** @type {"select" | "label" | "remove"} */
          k
        ] = n;
      }
      return out;
    },
    /** The task was answered: its count starts again if it comes back. @param {string} taskHash */
    forgetActions(taskHash) {
      counts.delete(taskHash);
    },
    get spans() {
      return task ? spans : [];
    },
    /** The spans were changed here since the task was shown. */
    get edited() {
      return task !== null && edited;
    },
    get active() {
      return active;
    },
    get cursor() {
      return cursor;
    },
    get selection() {
      return selection();
    }
  };
}

// js/review.js
function isReview(task) {
  return Boolean(task && Array.isArray(task.versions) && task.versions.length > 0);
}
function digitOf(event) {
  if (typeof event.key === "string" && /^[1-9]$/.test(event.key)) return Number(event.key);
  const m = typeof event.code === "string" ? /^(?:Digit|Numpad)([1-9])$/.exec(event.code) : null;
  return m ? Number(m[1]) : null;
}
function versionKind(v) {
  if (v.kind === "rejected") return "rejected the text";
  if (v.kind === "binary") return "binary answers: accepted spans marked";
  return (v.spans || []).length ? "complete annotation" : "complete: no entities";
}
function renderVersions(doc, el, task, color, picked) {
  el.replaceChildren();
  const versions = task.versions || [];
  el.append(h(
    doc,
    "div",
    "nba-versions-title",
    `${versions.length} versions: ${versions.length > 1 ? `1\u2013${Math.min(9, versions.length)}` : "1"} loads one below to edit or accept`
  ));
  for (const v of versions) {
    const box = h(doc, "div", `nba-version nba-version-${v.kind}`);
    box.dataset.n = String(v.n);
    if (v.n === picked) box.classList.add("nba-version-picked");
    const head = h(doc, "div", "nba-version-head");
    const load = h(doc, "button", "nba-version-pick");
    load.type = "button";
    load.tabIndex = -1;
    load.dataset.version = String(v.n);
    load.title = `load version ${v.n} below${v.n <= 9 ? ` (key ${v.n})` : ""}`;
    if (v.n <= 9) load.append(h(doc, "kbd", "", String(v.n)));
    load.append(h(doc, "span", "", v.n === picked ? " loaded" : " load"));
    head.append(load);
    head.append(h(doc, "span", "nba-version-who", (v.annotators || []).join(", ")));
    if (v.when) head.append(h(doc, "span", "nba-version-when", v.when));
    head.append(h(doc, "span", "nba-version-kind", versionKind(v)));
    box.append(head);
    if (v.kind !== "rejected") {
      const text = h(doc, "div", "nba-version-text");
      text.setAttribute("dir", "auto");
      for (const seg of segments({ ...task, spans: v.spans || [] })) {
        if (!seg.span) {
          text.append(doc.createTextNode(seg.text));
          continue;
        }
        const label = String(seg.span.label ?? "");
        const mark = h(doc, "mark", "nba-span");
        mark.style.background = color(label);
        mark.append(h(doc, "span", "nba-span-text", seg.text), h(doc, "span", "nba-span-label", label));
        text.append(mark);
      }
      box.append(text);
    }
    const rejected = v.rejected || [];
    if (rejected.length) {
      const chars = Array.from(String(task.text ?? ""));
      const list = h(doc, "div", "nba-version-rejected", "rejected: ");
      for (const s of rejected) {
        const chip = h(doc, "span", "nba-rejected-span", chars.slice(s.start, s.end).join(""));
        chip.title = `rejected as ${s.label}`;
        chip.append(h(doc, "span", "nba-span-label", String(s.label)));
        list.append(chip);
      }
      box.append(list);
    }
    el.append(box);
  }
}

// js/card.js
var CACHE_LIMIT = 500;
var HIDDEN_META = /* @__PURE__ */ new Set(["score", "whole", "completion", "beam_probability", "silver", "actions"]);
var HIDDEN_MANUAL_META = /* @__PURE__ */ new Set(["actions", "correction", "corrects"]);
var CORRECTION_PROMPT = "Fix the analysis you rejected: a stores it as all the entities \xB7 space or Esc leaves it (the reject stands)";
var DIRECT_PROMPT = "Fix the model's analysis: a stores it as all the entities \xB7 space or Esc skips it";
var DETAIL_META = /* @__PURE__ */ new Set(["line", "row", "id", "sentence", "model_version", "pattern"]);
function fmtScore(score) {
  return typeof score === "number" && Number.isFinite(score) ? score.toFixed(2) : "";
}
function fmtMeta(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
function wholePrompt(task) {
  const n = (task.spans || []).length;
  if (task.meta && task.meta.completion) {
    return n ? "Complete now? Accept if these (your accepts, the rest the model's guess) are all the entities" : "No entities at all? Accept if the text has none";
  }
  return n ? "Complete analysis? Accept if these are all the entities" : "No entities? Accept if the text has none";
}
function createCard({ doc, labels, review = () => false }) {
  const el = h(doc, "div", "nba-card");
  const info = h(doc, "div", "nba-info");
  const textEl = h(doc, "p", "nba-text");
  textEl.setAttribute("dir", "auto");
  const metaEl = h(doc, "dl", "nba-meta");
  const stateEl = h(doc, "div", "nba-state");
  stateEl.setAttribute("role", "status");
  const fixEl = h(doc, "div", "nba-correction-prompt", CORRECTION_PROMPT);
  fixEl.hidden = true;
  const manualMsg = h(doc, "div", "nba-manual-msg");
  manualMsg.setAttribute("role", "alert");
  manualMsg.hidden = true;
  const details = h(doc, "div", "nba-details");
  const detailsBtn = h(doc, "button", "nba-details-toggle");
  detailsBtn.type = "button";
  detailsBtn.tabIndex = -1;
  detailsBtn.dataset.toggle = "details";
  const detailsEl = h(doc, "dl", "nba-meta nba-meta-details");
  details.append(detailsBtn, detailsEl);
  let showDetails = false;
  const versionsEl = h(doc, "div", "nba-versions");
  versionsEl.hidden = true;
  el.append(info, fixEl, versionsEl, textEl, manualMsg, metaEl, details, stateEl);
  const edits = /* @__PURE__ */ new Map();
  const editor = createManualEditor({
    doc,
    info,
    textEl,
    msgEl: manualMsg,
    edits,
    labels,
    labelKey: () => review() ? "shift+" : ""
  });
  const picks = /* @__PURE__ */ new Map();
  let shown = null;
  function paintVersions(task) {
    const names = Array.isArray(task.labels) && task.labels.length ? task.labels : labels();
    renderVersions(doc, versionsEl, task, labelColors(names), picks.get(task.task_hash) ?? null);
  }
  function renderMeta(task) {
    const meta = task.meta || {};
    const hidden = isManual(task) ? HIDDEN_MANUAL_META : HIDDEN_META;
    let n = 0;
    for (const [key, value] of Object.entries(meta)) {
      if (hidden.has(key)) continue;
      const item = h(doc, "div", "nba-meta-item");
      item.append(h(doc, "dt", "", key), h(doc, "dd", "", fmtMeta(value)));
      if (DETAIL_META.has(key)) n += 1;
      (DETAIL_META.has(key) ? detailsEl : metaEl).append(item);
    }
    details.hidden = n === 0;
    renderDetails(n);
  }
  function renderDetails(n = detailsEl.childElementCount) {
    detailsEl.hidden = !showDetails;
    detailsBtn.textContent = `${showDetails ? "\u25BE" : "\u25B8"} details (${n})`;
    detailsBtn.setAttribute("aria-expanded", String(showDetails));
    detailsBtn.title = showDetails ? "hide where the text and the question come from" : "show where the text and the question come from (source line or row, sentence, model version, pattern)";
  }
  function renderQuestion(task) {
    const whole = isWhole(task);
    const spanObj = whole ? null : (task.spans || [])[0] || null;
    const label = spanObj ? String(spanObj.label ?? "") : "";
    const score = whole ? task.meta && task.meta.score : spanObj ? spanObj.score : void 0;
    const source = whole ? "model" : spanObj && spanObj.source || "";
    const color = labelColors(labels());
    if (whole) {
      info.append(h(doc, "span", "nba-whole-prompt", wholePrompt(task)));
    } else {
      const chip = h(doc, "span", "nba-chip", label);
      chip.title = label;
      chip.style.background = color(label);
      info.append(chip);
    }
    if (fmtScore(score)) info.append(h(doc, "span", "nba-score", `score ${fmtScore(score)}`));
    if (source) info.append(h(doc, "span", `nba-source nba-source-${source}`, String(source)));
    const shown2 = whole || spanObj ? segments(whole ? task : { ...task, spans: spanObj ? [spanObj] : [] }) : [{ text: String(task.text ?? "") }];
    for (const seg of shown2) {
      if (!("span" in seg) || !seg.span) {
        textEl.append(doc.createTextNode(seg.text));
        continue;
      }
      const segLabel = String(seg.span.label ?? "");
      const mark = h(doc, "mark", "nba-span");
      mark.style.background = color(segLabel);
      mark.append(h(doc, "span", "nba-span-text", seg.text));
      const labelEl = h(doc, "span", "nba-span-label", segLabel);
      labelEl.title = segLabel;
      mark.append(labelEl);
      textEl.append(mark);
    }
  }
  function show(task, scroll) {
    info.replaceChildren();
    textEl.replaceChildren();
    textEl.classList.remove("nba-manual-text");
    metaEl.replaceChildren();
    detailsEl.replaceChildren();
    details.hidden = true;
    fixEl.hidden = !isCorrection(task);
    if (task && isCorrection(task)) fixEl.textContent = task.meta && task.meta.corrects ? CORRECTION_PROMPT : DIRECT_PROMPT;
    versionsEl.replaceChildren();
    versionsEl.hidden = true;
    editor.clear();
    shown = task;
    if (!task) {
      el.removeAttribute("data-task-hash");
      el.removeAttribute("data-view");
      return;
    }
    el.dataset.taskHash = task.task_hash;
    el.dataset.view = isCorrection(task) ? "correction" : isManual(task) ? "manual" : "teach";
    if (isManual(task)) {
      while (edits.size > CACHE_LIMIT) edits.delete(
        /** @type {string} */
        edits.keys().next().value
      );
      editor.show(task);
      if (isReview(task)) {
        versionsEl.hidden = false;
        paintVersions(task);
      }
      renderMeta(task);
      return;
    }
    renderQuestion(task);
    renderMeta(task);
    const first = textEl.querySelector("mark");
    if (first && scroll) first.scrollIntoView({ block: "nearest" });
  }
  return {
    el,
    stateEl,
    editor,
    edits,
    show,
    /** Load version `n` of the review task on screen into the editor. Returns false when the
     * task has no such version (the editor says so). @param {number} n */
    pick(n) {
      if (!shown || !isReview(shown)) return false;
      const v = (shown.versions || []).find((x) => x.n === n);
      if (!v) {
        manualMsg.textContent = `No version ${n}: this text has versions 1 to ${(shown.versions || []).length}.`;
        manualMsg.hidden = false;
        return false;
      }
      while (picks.size > CACHE_LIMIT) picks.delete(
        /** @type {string} */
        picks.keys().next().value
      );
      picks.set(shown.task_hash, n);
      editor.load(v.kind === "rejected" ? [] : v.spans || []);
      paintVersions(shown);
      if (v.kind === "rejected") {
        manualMsg.textContent = `Version ${n} rejected the text: x rejects it too; or mark its entities and accept.`;
        manualMsg.hidden = false;
      }
      return true;
    },
    toggleDetails() {
      showDetails = !showDetails;
      renderDetails();
    }
  };
}

// js/connection.js
function newClientId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}
function createConnection(model, onLost) {
  const client = newClientId();
  let ops = [];
  let seq = 0;
  let lost = false;
  const closed = () => model.get("status") === "closed";
  function post(content) {
    if (lost || closed()) return false;
    try {
      model.send({ ...content, client });
      return true;
    } catch {
      lost = true;
      onLost();
      return false;
    }
  }
  function send(op) {
    op.seq = seq + 1;
    if (!post(op)) return false;
    seq = op.seq;
    ops.push(op);
    return true;
  }
  return {
    client,
    post,
    send,
    closed,
    /** Drop the operations the kernel has acknowledged; returns the ones left. */
    reconcile() {
      ops = unacked(ops, model.get("acks"), client);
      return ops;
    },
    /** @param {string} taskHash an operation on this task is in flight */
    pendingOn(taskHash) {
      return ops.some((op) => "task_hash" in op && op.task_hash === taskHash);
    },
    get ops() {
      return ops;
    },
    get lost() {
      return lost;
    },
    /** Nothing can be answered any more: the kernel is gone or the session is closed. */
    get off() {
      return lost || closed();
    }
  };
}

// js/keys.js
var KEYS = { a: "accept", x: "reject", " ": "ignore" };
var SUPPRESS = "data-lm-suppress-shortcuts";
var UNDO_KEYS = /* @__PURE__ */ new Set(["Backspace", "Delete"]);
function labShortcut(event) {
  if (typeof event.key !== "string") return false;
  const k = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const accel = event.ctrlKey || event.metaKey;
  const { shiftKey: shift, altKey: alt } = event;
  if (k === "Enter") return Number(shift) + Number(accel) + Number(alt) === 1;
  return accel && !alt && (k === "s" && !shift || k === "c" && shift);
}
function createKeys({
  root,
  win,
  off,
  manual,
  review = () => false,
  pick = () => false,
  correction = () => false,
  editor,
  answer,
  undo,
  skip = () => false
}) {
  function leftToLab(event) {
    if (event.key === "Enter" && event.shiftKey && !off() && manual() && editor.selection) return false;
    return labShortcut(event);
  }
  function onAnyKeyDown(event) {
    const target = typeof event.composedPath === "function" ? event.composedPath()[0] : event.target;
    if (!(target instanceof /** @type {any} */
    win.Node) || !root.contains(
      /** @type {Node} */
      target
    )) return;
    if (leftToLab(event)) root.removeAttribute(SUPPRESS);
    else root.setAttribute(SUPPRESS, "true");
  }
  function onKeyDown(event) {
    if (leftToLab(event)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typeof event.key !== "string") return;
    let handled = false;
    const k = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const isManual2 = manual();
    if (off()) {
      if (Object.hasOwn(KEYS, k) || UNDO_KEYS.has(event.key) || isManual2 && editorKey(event) !== null || review() && digitOf(event) !== null) {
        event.preventDefault();
        event.stopPropagation();
      }
      return;
    }
    const digit = isManual2 && review() ? digitOf(event) : null;
    if (digit !== null) {
      if (event.shiftKey) editor.labelNumber(digit);
      else if (!event.repeat) pick(digit);
      handled = true;
    } else if (k === "Escape" && correction() && !editor.selection) {
      if (!event.repeat) skip();
      handled = true;
    } else if (isManual2 && editor.onKey(event)) {
      handled = true;
    } else if (Object.hasOwn(KEYS, k)) {
      if (!event.repeat) answer(KEYS[k]);
      handled = true;
    } else if (UNDO_KEYS.has(event.key)) {
      if (!event.repeat) undo();
      handled = true;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }
  return { onAnyKeyDown, onKeyDown };
}

// js/history.js
var ANSWER_SYMBOL = { accept: "\u2713", reject: "\u2717", ignore: "\u2298" };
var ANSWERED = { accept: "accepted", reject: "rejected", ignore: "ignored" };
function describeRow(row) {
  const manual = Boolean(row.manual);
  const whole = Boolean(row.whole) || manual;
  const review = row.review === void 0 || row.review === null ? null : typeof row.review === "number" ? `version ${row.review}` : String(row.review);
  const chip = manual ? review || "text" : whole ? "whole" : row.label;
  const wholeText = (row.spans || []).map((x) => `${x.text} (${x.label})`).join(", ");
  return { whole, chip, text: whole ? wholeText || "no entities" : row.span_text };
}
function renderHistory(doc, el, history, { color, off }) {
  el.replaceChildren();
  for (const row of history) {
    const li = h(doc, "li", `nba-hist nba-hist-${row.answer}`);
    li.dataset.taskHash = row.task_hash;
    li.dataset.answer = row.answer;
    if (row.pending) li.classList.add("nba-pending");
    const about = describeRow(row);
    const chip = h(doc, "span", "nba-chip nba-chip-small", about.chip);
    chip.title = chip.textContent;
    chip.style.background = about.whole ? "#888" : color(row.label);
    const spanText = h(doc, "span", "nba-hist-span", about.text);
    spanText.setAttribute("dir", "auto");
    li.append(chip, spanText);
    const what = `${chip.textContent}: ${spanText.textContent}`;
    const choice = h(doc, "span", "nba-hist-choice");
    for (const a of ANSWERS) {
      const b = h(doc, "button", `nba-hist-btn nba-hist-btn-${a}`, ANSWER_SYMBOL[a]);
      b.type = "button";
      b.tabIndex = -1;
      b.title = `change to ${a}`;
      b.dataset.answer = a;
      b.disabled = off;
      b.setAttribute("aria-pressed", String(a === row.answer));
      b.setAttribute("aria-label", a === row.answer ? `${ANSWERED[a]} \u2014 ${what}` : `change to ${a} \u2014 ${what}`);
      choice.append(b);
    }
    li.append(choice);
    el.append(li);
  }
}

// js/side-panel.js
function countsRow(doc, name, counts) {
  const known = counts !== null;
  const c = counts || /** @type {Partial<Counts>} */
  {};
  const shown = (n) => known ? String(n || 0) : "\u2013";
  const line = h(doc, "div", `nba-counts nba-counts-${name}`);
  line.append(h(doc, "span", "nba-counts-name", name === "session" ? "Session" : "Dataset"));
  if (!known) line.title = "not known: the session is closed";
  for (const a of ANSWERS) {
    const n = h(doc, "span", `nba-count nba-count-${a}`, `${ANSWER_SYMBOL[a]} ${shown(c[a])}`);
    n.dataset.answer = a;
    n.title = known ? a : `${a}: not known`;
    line.append(n);
  }
  line.append(h(doc, "span", "nba-count-total", `= ${shown(c.total)}`));
  return line;
}
function actionsRow(doc, actions) {
  const n = Number(actions.total) || 0;
  const row = h(doc, "span", "nba-actions", `actions ${n}`);
  const kinds = Object.entries(actions).filter(([k, v]) => k !== "total" && v);
  row.title = "Keys and clicks in this session (answer, select, label, remove, submit, undo, change, skip)" + (kinds.length ? `: ${kinds.map(([k, v]) => `${k} ${v}`).join(", ")}` : "");
  return row;
}
function teamRow(doc, progress) {
  const counts = progress.annotators || {};
  const names = Object.keys(counts);
  const me = progress.annotator || "";
  if (!me && names.every((n) => !n)) return null;
  names.sort((a, b) => a === me ? -1 : b === me ? 1 : a.localeCompare(b));
  const line = h(doc, "div", "nba-team");
  line.append(h(doc, "span", "nba-counts-name", "Team"));
  for (const name of names) {
    const part = h(doc, "span", name === me ? "nba-team-me" : "nba-team-other", `${name || "(no name)"} ${counts[name]}`);
    part.dataset.annotator = name;
    line.append(part);
  }
  const held = progress.held_by_others || 0;
  if (held > 0) line.append(h(doc, "span", "nba-team-held", `${held} held by others`));
  return line;
}
function renderProgress(doc, el, progress, manual) {
  el.replaceChildren();
  el.append(countsRow(doc, "session", progress.session), countsRow(doc, "dataset", progress.dataset));
  const rate = progress.accept_rate;
  const stats = h(doc, "div", "nba-stats");
  stats.append(
    h(doc, "span", "nba-rate", `accept rate ${typeof rate === "number" ? `${Math.round(rate * 100)}%` : "\u2013"}`),
    h(doc, "span", "nba-updates", `model updates ${progress.updates || 0}`)
  );
  if (progress.actions) stats.append(actionsRow(doc, progress.actions));
  el.append(stats);
  const team = teamRow(doc, progress);
  if (team) el.append(team);
  if (progress.store_error) el.append(h(doc, "div", "nba-store-error", progress.store_error));
  if (progress.review) el.append(reviewRow(doc, progress.review));
  if (!manual) el.append(precisionRow(doc, progress));
  const review = progress.review;
  const total = review ? review.to_review : progress.source_total;
  if (typeof total === "number" && total > 0) {
    const read = Math.min(total, (review ? review.reviewed : progress.source_read) || 0);
    const bar = h(doc, "progress", "nba-bar");
    bar.max = total;
    bar.value = read;
    const pct = Math.round(100 * read / total);
    el.append(bar, h(doc, "div", "nba-estimate", review ? `${pct}% reviewed (${read} of ${total} texts)` : `${pct}% of the source read (${read} of ${total} texts)`));
  }
}
function reviewRow(doc, counts) {
  const n = (k) => Number(counts[k] || 0);
  const parts = [`${n("conflicts")} conflicts`, `${n("agreed")} agreed`];
  if (n("auto_accepted")) parts.push(`${n("auto_accepted")} agreed stored at once`);
  if (n("already_reviewed")) parts.push(`${n("already_reviewed")} reviewed before`);
  return h(doc, "div", "nba-review-counts", `texts: ${parts.join(" \xB7 ")}`);
}
function precisionRow(doc, progress) {
  const value = progress.model_precision;
  const n = progress.model_precision_answers || 0;
  const known = typeof value === "number" && Number.isFinite(value);
  const row = h(doc, "div", "nba-precision");
  row.title = known ? `The model's guesses you accepted, of the last ${n} you accepted or rejected: each answer tests the model before it learns from it` : "Not known yet: no answer to a span the model proposed";
  row.append(
    h(doc, "span", "nba-precision-name", "model precision"),
    h(doc, "span", "nba-precision-value", known ? `${Math.round(value * 100)}%` : "\u2013")
  );
  if (known) row.append(h(doc, "span", "nba-precision-n", `last ${n}`));
  const history = (progress.model_precision_history || []).filter(
    (v) => typeof v === "number" && Number.isFinite(v)
  );
  if (history.length >= 2) row.append(sparkline(doc, history));
  return row;
}
function sparkline(doc, values) {
  const NS = "http://www.w3.org/2000/svg";
  const W = 80;
  const H = 18;
  const svg = doc.createElementNS(NS, "svg");
  svg.setAttribute("class", "nba-spark");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", String(W));
  svg.setAttribute("height", String(H));
  svg.setAttribute("role", "img");
  const first = Math.round(values[0] * 100);
  const last = Math.round(values[values.length - 1] * 100);
  svg.setAttribute("aria-label", `model precision over the session: from ${first}% to ${last}%`);
  const y = (v) => (H - 2 - Math.max(0, Math.min(1, v)) * (H - 4)).toFixed(1);
  const x = (i) => (i * (W - 2) / (values.length - 1) + 1).toFixed(1);
  const line = doc.createElementNS(NS, "polyline");
  line.setAttribute("points", values.map((v, i) => `${x(i)},${y(v)}`).join(" "));
  line.setAttribute("class", "nba-spark-line");
  const dot = doc.createElementNS(NS, "circle");
  dot.setAttribute("cx", x(values.length - 1));
  dot.setAttribute("cy", y(values[values.length - 1]));
  dot.setAttribute("r", "2");
  dot.setAttribute("class", "nba-spark-dot");
  svg.append(line, dot);
  return svg;
}
function createSidePanel(doc) {
  const el = h(doc, "div", "nba-side");
  const progressEl = h(doc, "div", "nba-progress");
  const historyTitle = h(doc, "div", "nba-side-title", "Last decisions (click to change)");
  const historyEl = h(doc, "ol", "nba-history");
  el.append(progressEl, historyTitle, historyEl);
  const painted = { progress: "", history: "" };
  function update({ progress, history, manual, off, labels }) {
    const progressKey = JSON.stringify(progress);
    if (progressKey !== painted.progress) {
      painted.progress = progressKey;
      renderProgress(doc, progressEl, progress, manual);
    }
    const historyKey = JSON.stringify([off, history]);
    if (historyKey !== painted.history) {
      painted.history = historyKey;
      renderHistory(doc, historyEl, history, { color: labelColors(labels), off });
    }
  }
  return { el, update };
}

// js/status.js
var LOST = "Lost the connection to the kernel (restarted?): run the cell again to carry on. The answers acknowledged so far are saved.";
var BUTTONS = [
  { action: "accept", text: "Accept", key: "a", symbol: "\u2713" },
  { action: "reject", text: "Reject", key: "x", symbol: "\u2717" },
  { action: "ignore", text: "Ignore", key: "space", symbol: "\u2298" },
  { action: "undo", text: "Undo", key: "\u232B", symbol: "\u21B6" }
];
function viewState({ lost, closed, task, status }) {
  if (lost) return "lost";
  if (closed) return "closed";
  if (task) return "ready";
  if (status === "error") return "error";
  if (status === "done") return "done";
  return "loading";
}
function stateText(state) {
  return state === "loading" ? "Loading tasks\u2026" : state === "done" ? "No more tasks: the stream is exhausted. Your answers are saved." : state === "error" ? "The kernel could not produce more tasks (see the error below)." : "";
}
function focusHint({ lost, off, focused, manual, review = false }) {
  return lost ? "keys off: no connection to the kernel" : off ? "keys off: this session is closed" : !focused ? "click here to use the keys" : review ? "keys active: 1\u20139 load a version \xB7 drag or shift+\u2190/\u2192 select \xB7 shift+1\u20139 label \xB7 click span or r: remove \xB7 a accept \xB7 x reject \xB7 space ignore \xB7 \u232B undo" : manual ? "keys active: drag or shift+\u2190/\u2192 select \xB7 1\u20139 label \xB7 click span or r: remove \xB7 a accept \xB7 x reject \xB7 space ignore \xB7 \u232B undo" : "keys active: a accept \xB7 x reject \xB7 space ignore \xB7 \u232B undo";
}
function createButtons(doc) {
  const el = h(doc, "div", "nba-buttons");
  const byAction = {};
  for (const b of BUTTONS) {
    const btn = h(doc, "button", `nba-btn nba-btn-${b.action}`);
    btn.type = "button";
    btn.tabIndex = -1;
    btn.dataset.action = b.action;
    btn.title = `${b.text} (${b.key})`;
    btn.append(h(doc, "span", "nba-btn-symbol", b.symbol), h(doc, "span", "", ` ${b.text} `));
    btn.append(h(doc, "kbd", "", b.key));
    byAction[b.action] = btn;
    el.append(btn);
  }
  function update({ off, task, history }) {
    for (const a of ANSWERS) byAction[a].disabled = off || !task;
    byAction.undo.disabled = off || !history;
  }
  return { el, byAction, update };
}
function createAlerts(doc) {
  const alert = (cls) => {
    const e = h(doc, "div", cls);
    e.setAttribute("role", "alert");
    return e;
  };
  const noticeEl = alert("nba-notice");
  const errorEl = alert("nba-error");
  const lostEl = alert("nba-lost");
  lostEl.hidden = true;
  function update({ lost, closed, error, notice }) {
    lostEl.textContent = lost ? LOST : closed ? error : "";
    lostEl.hidden = !(lost || closed);
    const kernelError = closed ? "" : error;
    errorEl.textContent = kernelError ? `Error in the kernel: ${kernelError}` : "";
    errorEl.hidden = !kernelError;
    const shown = closed ? "" : notice;
    noticeEl.textContent = shown;
    noticeEl.hidden = !shown;
  }
  return { els: [lostEl, errorEl, noticeEl], update };
}

// js/widget.js
var CACHE_LIMIT2 = 500;
var TRAITS = (
  /** @type {const} */
  ["queue", "history", "progress", "acks", "status", "error", "notice", "dataset", "mode"]
);
function createView({ model, el }) {
  const doc = el.ownerDocument;
  const win = (
    /** @type {Window} */
    doc.defaultView
  );
  const cache = /* @__PURE__ */ new Map();
  let current = null;
  let scheduled = false;
  let serverHashes = /* @__PURE__ */ new Set();
  let acted = false;
  const painted = { taskHash: void 0, off: false };
  const conn = createConnection(model, () => {
    render2();
    renderFocus();
  });
  const labels = () => model.get("labels") || [];
  const reviewMode = () => model.get("mode") === "review";
  const manualMode = () => model.get("mode") === "manual" || reviewMode();
  const onManual = () => isManual(current && current.task);
  const onReview = () => isReview(current && current.task);
  const root = h(doc, "div", "nba-root");
  root.tabIndex = 0;
  root.setAttribute(SUPPRESS, "true");
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", reviewMode() ? "Review: 1-9 load a version, drag or shift+arrows select, shift+1-9 label, r remove the span under the cursor, a accept, x reject, space ignore, backspace undo" : manualMode() ? "Manual annotation: drag or shift+arrows select, 1-9 label, r remove the span under the cursor, a accept, x reject, space ignore, backspace undo" : "Annotation: a accept, x reject, space ignore, backspace undo");
  root.dataset.state = "loading";
  const header = h(doc, "div", "nba-header");
  const title = h(doc, "span", "nba-title");
  const hint = h(doc, "span", "nba-focus-hint");
  header.append(title, hint);
  const card = createCard({ doc, labels, review: reviewMode });
  const editor = card.editor;
  const buttons = createButtons(doc);
  const alerts = createAlerts(doc);
  const main = h(doc, "div", "nba-main");
  main.append(card.el, buttons.el, ...alerts.els);
  const side = createSidePanel(doc);
  const body = h(doc, "div", "nba-body");
  body.append(main, side.el);
  root.append(header, body);
  el.append(root);
  function remember(tasks) {
    for (const t of tasks) {
      if (t && t.task_hash !== void 0) cache.set(t.task_hash, t);
      if (t && t.correction) cache.set(t.correction.task_hash, t.correction);
    }
    while (cache.size > CACHE_LIMIT2) cache.delete(
      /** @type {string} */
      cache.keys().next().value
    );
  }
  function dropStaleEdits(queue) {
    const before = serverHashes;
    serverHashes = new Set(queue.map((t) => t.task_hash));
    for (const t of queue) {
      const th = t.task_hash;
      if (before.has(th) || !card.edits.has(th) || conn.pendingOn(th)) continue;
      if (th !== painted.taskHash) {
        card.edits.delete(th);
      } else if (!editor.edited && !editor.showsSpansOf(t)) {
        card.edits.delete(th);
        painted.taskHash = void 0;
      }
    }
  }
  function render2() {
    scheduled = false;
    const s = { queue: model.get("queue") || [], history: model.get("history") || [], progress: model.get("progress") || {} };
    remember(s.queue);
    const ops = conn.reconcile();
    dropStaleEdits(s.queue);
    current = derive(s, ops, cache, current && current.task ? current.task.task_hash : null);
    const now = current;
    const status = model.get("status") || "loading";
    const error = model.get("error") || "";
    const closed = conn.closed();
    const off = conn.off;
    editor.setDisabled(off);
    const taskHash = now.task ? now.task.task_hash : null;
    if (taskHash !== painted.taskHash) {
      painted.taskHash = taskHash;
      card.show(now.task, acted);
      if (now.task && !isManual(now.task)) acted = false;
    }
    const state = viewState({ lost: conn.lost, closed, task: Boolean(now.task), status });
    root.dataset.state = state;
    card.stateEl.textContent = stateText(state);
    buttons.update({ off, task: Boolean(now.task), history: now.history.length > 0 });
    alerts.update({ lost: conn.lost, closed, error, notice: model.get("notice") || "" });
    title.textContent = `nbannotate \xB7 ${model.get("dataset") || ""}`;
    side.update({ progress: now.progress, history: now.history, manual: manualMode(), off, labels: labels() });
    if (off !== painted.off) {
      painted.off = off;
      renderFocus();
    }
  }
  function scheduleRender() {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(render2);
  }
  function renderFocus(event) {
    const focused = event && event.type === "focusout" ? root.contains(
      /** @type {Node | null} */
      event.relatedTarget
    ) : root.contains(
      /** @type {Document | ShadowRoot} */
      root.getRootNode().activeElement || null
    );
    const off = conn.off;
    root.classList.toggle("nba-focused", focused && !off);
    hint.textContent = focusHint({ lost: conn.lost, off, focused, manual: manualMode(), review: reviewMode() });
  }
  function send(op) {
    if (!conn.send(op)) return false;
    acted = true;
    render2();
    return true;
  }
  function answer(choice) {
    if (!current || !current.task) return false;
    const task = current.task;
    if (isCorrection(task) && choice !== "accept") return skip();
    const op = { type: "answer", task_hash: task.task_hash, answer: choice, actions: { answer: 1 } };
    if (isManual(task)) {
      op.spans = wireSpans(editor.spans);
      op.actions = { ...editor.actionsOf(task.task_hash), submit: 1 };
    }
    if (send(op)) editor.forgetActions(task.task_hash);
    return true;
  }
  function skip() {
    if (!current || !isCorrection(current.task)) return false;
    const th = (
      /** @type {Task} */
      current.task.task_hash
    );
    if (send({ type: "skip", task_hash: th })) editor.forgetActions(th);
    return true;
  }
  function undo() {
    if (!current || current.history.length === 0) return false;
    send({ type: "undo" });
    return true;
  }
  function pick(n) {
    if (!current || !current.task) return false;
    return card.pick(n);
  }
  const onCorrection = () => isCorrection(current && current.task);
  const keys = createKeys({
    root,
    win,
    off: () => conn.off,
    manual: onManual,
    review: onReview,
    pick,
    correction: onCorrection,
    editor,
    answer,
    undo,
    skip
  });
  function onClick(event) {
    const target = event.target instanceof /** @type {any} */
    win.Element ? (
      /** @type {Element} */
      event.target
    ) : null;
    const btn = (
      /** @type {HTMLButtonElement | null} */
      target && target.closest("button")
    );
    if (btn && root.contains(btn)) {
      const li = (
        /** @type {HTMLElement | null} */
        btn.closest("li.nba-hist")
      );
      const { answer: choice, toggle, label, action } = btn.dataset;
      if (li) send({ type: "change", task_hash: String(li.dataset.taskHash), answer: (
        /** @type {Answer} */
        choice
      ) });
      else if (toggle === "details") card.toggleDetails();
      else if (btn.dataset.version !== void 0) {
        if (!conn.off) pick(Number(btn.dataset.version));
      } else if (label !== void 0) {
        if (!conn.off) editor.chooseLabel(label);
      } else if (action === "undo") undo();
      else if (action) answer(
        /** @type {Answer} */
        action
      );
    }
    root.focus({ preventScroll: true });
  }
  function onMouseDown(event) {
    const target = (
      /** @type {Element | null} */
      event.target
    );
    if (target && target.closest && target.closest("button")) event.preventDefault();
    if (!conn.off) editor.onMouseDown(event);
  }
  function onMouseUp(event) {
    if (conn.off) return;
    if (onManual()) editor.onMouseUp(event);
  }
  win.addEventListener("keydown", keys.onAnyKeyDown, true);
  root.addEventListener("keydown", keys.onKeyDown);
  root.addEventListener("click", onClick);
  root.addEventListener("mousedown", onMouseDown);
  doc.addEventListener("mouseup", onMouseUp, true);
  root.addEventListener("focusin", renderFocus);
  root.addEventListener("focusout", renderFocus);
  for (const t of TRAITS) model.on(`change:${t}`, scheduleRender);
  render2();
  renderFocus();
  conn.post({ type: "hello" });
  return {
    root,
    client: conn.client,
    get state() {
      return current;
    },
    get pendingOps() {
      return conn.ops.slice();
    },
    editor,
    destroy() {
      for (const t of TRAITS) model.off(`change:${t}`, scheduleRender);
      win.removeEventListener("keydown", keys.onAnyKeyDown, true);
      root.removeEventListener("keydown", keys.onKeyDown);
      root.removeEventListener("click", onClick);
      root.removeEventListener("mousedown", onMouseDown);
      doc.removeEventListener("mouseup", onMouseUp, true);
      root.remove();
    }
  };
}
function render({ model, el }) {
  const view = createView({ model, el });
  return () => view.destroy();
}
var widget_default = { render };
export {
  createView,
  widget_default as default
};
