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
function segments(task) {
  const text = typeof task.text === "string" ? task.text : String(task.text ?? "");
  const chars = Array.from(text);
  const spans = [...task.spans || []].sort((a, b) => Number(a.start) - Number(b.start));
  const out = [];
  let pos = 0;
  for (const span of spans) {
    const start = Math.max(pos, Math.min(chars.length, Number(span.start) || 0));
    const end = Math.max(start, Math.min(chars.length, Number(span.end) || 0));
    if (start < Number(span.start) || end === start) continue;
    if (start > pos) out.push({ text: cpSlice(chars, pos, start) });
    out.push({ text: cpSlice(chars, start, end), span });
    pos = end;
  }
  if (pos < chars.length) out.push({ text: cpSlice(chars, pos, chars.length) });
  return out;
}
function historyRow(task, answer) {
  const whole = isWhole(task);
  const { span, spanObj } = whole ? { span: "", spanObj: null } : splitText(task);
  return {
    task_hash: task.task_hash,
    text: task.text,
    span_text: span,
    label: spanObj ? spanObj.label : "",
    whole,
    spans: whole ? segments(task).filter((s) => s.span).map((s) => ({ text: s.text, label: s.span.label })) : [],
    answer,
    score: spanObj ? spanObj.score ?? null : null,
    source: spanObj ? spanObj.source ?? null : null,
    pending: true
  };
}
function unacked(ops, acks, client) {
  const done = acks && acks[client] || 0;
  return ops.filter((op) => op.seq > done);
}
function emptyCounts() {
  return { accept: 0, reject: 0, ignore: 0, total: 0 };
}
function bump(counts, answer, by) {
  if (!counts || !ANSWERS.includes(answer)) return;
  counts[answer] = (counts[answer] || 0) + by;
  counts.total = (counts.total || 0) + by;
}
function derive(server, ops, cache) {
  const queue = (server.queue || []).slice();
  const history = (server.history || []).map((h2) => ({ ...h2 }));
  const progress = JSON.parse(JSON.stringify(server.progress || {}));
  const session = progress.session || (progress.session = emptyCounts());
  const dataset = progress.dataset || (progress.dataset = emptyCounts());
  const count = (answer, by) => {
    bump(session, answer, by);
    bump(dataset, answer, by);
  };
  for (const op of ops) {
    if (op.type === "answer") {
      const i = queue.findIndex((t) => t.task_hash === op.task_hash);
      const task = i >= 0 ? queue.splice(i, 1)[0] : cache.get(op.task_hash);
      if (task) history.unshift(historyRow(task, op.answer));
      count(op.answer, 1);
    } else if (op.type === "undo") {
      const last = history.shift();
      if (!last) continue;
      count(last.answer, -1);
      const task = cache.get(last.task_hash);
      if (task && !queue.some((t) => t.task_hash === task.task_hash)) queue.unshift(task);
    } else if (op.type === "change") {
      const row = history.find((h2) => h2.task_hash === op.task_hash);
      if (row && row.answer !== op.answer) {
        count(row.answer, -1);
        count(op.answer, 1);
        row.answer = op.answer;
        row.pending = true;
      }
    }
  }
  if (ops.length > 0 && session.accept + session.reject > 0) {
    progress.accept_rate = session.accept / (session.accept + session.reject);
  }
  return { queue, history, progress, task: queue[0] || null };
}
var PALETTE = [
  "#ffd166",
  "#8ecae6",
  "#b5e48c",
  "#f4acb7",
  "#cdb4db",
  "#ffb703",
  "#90e0ef",
  "#e9c46a",
  "#a8dadc",
  "#f7b267",
  "#c3f0ca",
  "#e5989b"
];
function labelColor(label) {
  let h2 = 2166136261;
  for (const ch of String(label)) {
    h2 ^= ch.codePointAt(0);
    h2 = Math.imul(h2, 16777619) >>> 0;
  }
  return PALETTE[h2 % PALETTE.length];
}

// js/widget.js
var KEYS = { a: "accept", x: "reject", " ": "ignore" };
var UNDO_KEYS = /* @__PURE__ */ new Set(["Backspace", "Delete"]);
var CACHE_LIMIT = 500;
var BUTTONS = [
  { action: "accept", text: "Accept", key: "a", symbol: "\u2713" },
  { action: "reject", text: "Reject", key: "x", symbol: "\u2717" },
  { action: "ignore", text: "Ignore", key: "space", symbol: "\u2298" },
  { action: "undo", text: "Undo", key: "\u232B", symbol: "\u21B6" }
];
var ANSWER_SYMBOL = { accept: "\u2713", reject: "\u2717", ignore: "\u2298" };
function h(doc, tag, cls, text) {
  const el = doc.createElement(tag);
  if (cls) el.className = cls;
  if (text !== void 0 && text !== null) el.textContent = String(text);
  return el;
}
function fmtScore(score) {
  return typeof score === "number" && Number.isFinite(score) ? score.toFixed(2) : "\u2013";
}
function fmtMeta(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
function newClientId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}
function createView({ model, el }) {
  const doc = el.ownerDocument;
  const client = newClientId();
  const cache = /* @__PURE__ */ new Map();
  let ops = [];
  let seq = 0;
  let current = null;
  let scheduled = false;
  const painted = { taskHash: void 0, progress: "", history: "" };
  const root = h(doc, "div", "nba-root");
  root.tabIndex = 0;
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", "Annotation: a accept, x reject, space ignore, backspace undo");
  root.dataset.state = "loading";
  const header = h(doc, "div", "nba-header");
  const title = h(doc, "span", "nba-title");
  const focusHint = h(doc, "span", "nba-focus-hint");
  header.append(title, focusHint);
  const main = h(doc, "div", "nba-main");
  const card = h(doc, "div", "nba-card");
  const info = h(doc, "div", "nba-info");
  const textEl = h(doc, "p", "nba-text");
  textEl.setAttribute("dir", "auto");
  const metaEl = h(doc, "dl", "nba-meta");
  const stateEl = h(doc, "div", "nba-state");
  stateEl.setAttribute("role", "status");
  card.append(info, textEl, metaEl, stateEl);
  const buttons = h(doc, "div", "nba-buttons");
  const buttonEls = {};
  for (const b of BUTTONS) {
    const btn = h(doc, "button", `nba-btn nba-btn-${b.action}`);
    btn.type = "button";
    btn.tabIndex = -1;
    btn.dataset.action = b.action;
    btn.title = `${b.text} (${b.key})`;
    btn.append(h(doc, "span", "nba-btn-symbol", b.symbol), h(doc, "span", "", ` ${b.text} `));
    btn.append(h(doc, "kbd", "", b.key));
    buttonEls[b.action] = btn;
    buttons.append(btn);
  }
  const noticeEl = h(doc, "div", "nba-notice");
  noticeEl.setAttribute("role", "alert");
  const errorEl = h(doc, "div", "nba-error");
  errorEl.setAttribute("role", "alert");
  main.append(card, buttons, errorEl, noticeEl);
  const side = h(doc, "div", "nba-side");
  const progressEl = h(doc, "div", "nba-progress");
  const historyTitle = h(doc, "div", "nba-side-title", "Last decisions (click to change)");
  const historyEl = h(doc, "ol", "nba-history");
  side.append(progressEl, historyTitle, historyEl);
  const body = h(doc, "div", "nba-body");
  body.append(main, side);
  root.append(header, body);
  el.append(root);
  function server() {
    return {
      queue: model.get("queue") || [],
      history: model.get("history") || [],
      progress: model.get("progress") || {}
    };
  }
  function remember(tasks) {
    for (const t of tasks) {
      if (t && t.task_hash !== void 0) cache.set(t.task_hash, t);
    }
    while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value);
  }
  function renderTask(task) {
    info.replaceChildren();
    textEl.replaceChildren();
    metaEl.replaceChildren();
    if (!task) {
      card.removeAttribute("data-task-hash");
      return;
    }
    card.dataset.taskHash = task.task_hash;
    const whole = isWhole(task);
    const spanObj = whole ? null : (task.spans || [])[0] || null;
    const label = spanObj ? String(spanObj.label ?? "") : "";
    const score = whole ? task.meta && task.meta.score : spanObj ? spanObj.score : void 0;
    const source = spanObj && spanObj.source || task.meta && task.meta.source || "";
    if (whole) {
      const n = (task.spans || []).length;
      info.append(h(
        doc,
        "span",
        "nba-whole-prompt",
        n ? "Complete analysis? Accept if these are all the entities" : "No entities? Accept if the text has none"
      ));
    } else {
      const chip = h(doc, "span", "nba-chip", label);
      chip.style.background = labelColor(label);
      info.append(chip);
    }
    info.append(h(doc, "span", "nba-score", `score ${fmtScore(score)}`));
    if (source) info.append(h(doc, "span", `nba-source nba-source-${source}`, String(source)));
    for (const seg of whole || spanObj ? segments(whole ? task : { ...task, spans: [spanObj] }) : [{ text: String(task.text ?? "") }]) {
      if (!seg.span) {
        textEl.append(doc.createTextNode(seg.text));
        continue;
      }
      const segLabel = String(seg.span.label ?? "");
      const mark = h(doc, "mark", "nba-span");
      mark.style.background = labelColor(segLabel);
      mark.append(h(doc, "span", "nba-span-text", seg.text));
      mark.append(h(doc, "span", "nba-span-label", segLabel));
      textEl.append(mark);
    }
    const meta = task.meta || {};
    for (const [key, value] of Object.entries(meta)) {
      if (key === "score" || key === "source") continue;
      const item = h(doc, "div", "nba-meta-item");
      item.append(h(doc, "dt", "", key), h(doc, "dd", "", fmtMeta(value)));
      metaEl.append(item);
    }
  }
  function renderProgress(progress) {
    progressEl.replaceChildren();
    const row = (name, counts) => {
      const c = counts || {};
      const line = h(doc, "div", `nba-counts nba-counts-${name}`);
      line.append(h(doc, "span", "nba-counts-name", name === "session" ? "Session" : "Dataset"));
      for (const a of ANSWERS) {
        const n = h(doc, "span", `nba-count nba-count-${a}`, `${ANSWER_SYMBOL[a]} ${c[a] || 0}`);
        n.dataset.answer = a;
        n.title = a;
        line.append(n);
      }
      line.append(h(doc, "span", "nba-count-total", `= ${c.total || 0}`));
      return line;
    };
    progressEl.append(row("session", progress.session), row("dataset", progress.dataset));
    const rate = progress.accept_rate;
    const stats = h(doc, "div", "nba-stats");
    stats.append(
      h(doc, "span", "nba-rate", `accept rate ${typeof rate === "number" ? `${Math.round(rate * 100)}%` : "\u2013"}`),
      h(doc, "span", "nba-updates", `model updates ${progress.updates || 0}`)
    );
    progressEl.append(stats);
    const total = progress.source_total;
    if (typeof total === "number" && total > 0) {
      const read = Math.min(total, progress.source_read || 0);
      const bar = h(doc, "progress", "nba-bar");
      bar.max = total;
      bar.value = read;
      const pct = Math.round(100 * read / total);
      progressEl.append(bar, h(doc, "div", "nba-estimate", `${pct}% of the source read (${read} of ${total} texts)`));
    }
  }
  function renderHistory(history) {
    historyEl.replaceChildren();
    for (const row of history) {
      const li = h(doc, "li", `nba-hist nba-hist-${row.answer}`);
      li.dataset.taskHash = row.task_hash;
      li.dataset.answer = row.answer;
      if (row.pending) li.classList.add("nba-pending");
      const whole = Boolean(row.whole);
      const chip = h(doc, "span", "nba-chip nba-chip-small", whole ? "whole" : row.label);
      chip.style.background = whole ? "#888" : labelColor(row.label);
      const wholeText = (row.spans || []).map((x) => `${x.text} (${x.label})`).join(", ");
      const spanText = h(
        doc,
        "span",
        "nba-hist-span",
        whole ? wholeText || "no entities" : row.span_text
      );
      spanText.setAttribute("dir", "auto");
      li.append(chip, spanText);
      const choice = h(doc, "span", "nba-hist-choice");
      for (const a of ANSWERS) {
        const b = h(doc, "button", `nba-hist-btn nba-hist-btn-${a}`, ANSWER_SYMBOL[a]);
        b.type = "button";
        b.tabIndex = -1;
        b.title = `change to ${a}`;
        b.dataset.answer = a;
        b.setAttribute("aria-pressed", String(a === row.answer));
        choice.append(b);
      }
      li.append(choice);
      historyEl.append(li);
    }
  }
  function render2() {
    scheduled = false;
    const s = server();
    remember(s.queue);
    ops = unacked(ops, model.get("acks"), client);
    current = derive(s, ops, cache);
    const status = model.get("status") || "loading";
    const error = model.get("error") || "";
    const taskHash = current.task ? current.task.task_hash : null;
    if (taskHash !== painted.taskHash) {
      painted.taskHash = taskHash;
      renderTask(current.task);
    }
    let state;
    if (current.task) state = "ready";
    else if (status === "error") state = "error";
    else if (status === "done") state = "done";
    else state = "loading";
    root.dataset.state = state;
    stateEl.textContent = state === "loading" ? "Loading tasks\u2026" : state === "done" ? "No more tasks: the stream is exhausted. Your answers are saved." : state === "error" ? "The kernel could not produce more tasks (see the error below)." : "";
    for (const a of ANSWERS) buttonEls[a].disabled = !current.task;
    buttonEls.undo.disabled = current.history.length === 0;
    errorEl.textContent = error ? `Error in the kernel: ${error}` : "";
    errorEl.hidden = !error;
    const notice = model.get("notice") || "";
    noticeEl.textContent = notice;
    noticeEl.hidden = !notice;
    title.textContent = `nbannotate \xB7 ${model.get("dataset") || ""}`;
    const progressKey = JSON.stringify(current.progress);
    if (progressKey !== painted.progress) {
      painted.progress = progressKey;
      renderProgress(current.progress);
    }
    const historyKey = JSON.stringify(current.history);
    if (historyKey !== painted.history) {
      painted.history = historyKey;
      renderHistory(current.history);
    }
  }
  function scheduleRender() {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(render2);
  }
  function renderFocus(event) {
    const focused = event && event.type === "focusout" ? root.contains(event.relatedTarget) : root.contains(doc.activeElement);
    root.classList.toggle("nba-focused", focused);
    focusHint.textContent = focused ? "keys active: a accept \xB7 x reject \xB7 space ignore \xB7 \u232B undo" : "click here to use the keys";
  }
  function send(op) {
    ops.push(op);
    model.send({ ...op, client });
    render2();
  }
  function answer(choice) {
    if (!current || !current.task) return false;
    send({ type: "answer", task_hash: current.task.task_hash, answer: choice, seq: ++seq });
    return true;
  }
  function undo() {
    if (!current || current.history.length === 0) return false;
    send({ type: "undo", seq: ++seq });
    return true;
  }
  function change(taskHash, choice) {
    send({ type: "change", task_hash: taskHash, answer: choice, seq: ++seq });
  }
  function onKeyDown(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    let handled = false;
    if (Object.hasOwn(KEYS, event.key)) {
      if (!event.repeat) answer(KEYS[event.key]);
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
  function onClick(event) {
    const target = event.target instanceof doc.defaultView.Element ? event.target : null;
    const btn = target && target.closest("button");
    if (btn && root.contains(btn)) {
      const li = btn.closest("li.nba-hist");
      if (li) change(li.dataset.taskHash, btn.dataset.answer);
      else if (btn.dataset.action === "undo") undo();
      else if (btn.dataset.action) answer(btn.dataset.action);
    }
    root.focus({ preventScroll: true });
  }
  function onMouseDown(event) {
    const target = event.target;
    if (target && target.closest && target.closest("button")) event.preventDefault();
  }
  root.addEventListener("keydown", onKeyDown);
  root.addEventListener("click", onClick);
  root.addEventListener("mousedown", onMouseDown);
  root.addEventListener("focusin", renderFocus);
  root.addEventListener("focusout", renderFocus);
  const traits = ["queue", "history", "progress", "acks", "status", "error", "notice", "dataset"];
  for (const t of traits) model.on(`change:${t}`, scheduleRender);
  render2();
  renderFocus();
  model.send({ type: "hello", client });
  return {
    root,
    client,
    get state() {
      return current;
    },
    get pendingOps() {
      return ops.slice();
    },
    destroy() {
      for (const t of traits) model.off(`change:${t}`, scheduleRender);
      root.removeEventListener("keydown", onKeyDown);
      root.removeEventListener("click", onClick);
      root.removeEventListener("mousedown", onMouseDown);
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
