// nbannotate's annotation widget: the anywidget front end of a teach session.
//
// Safety rule: every text that comes from data (task text, labels, meta, error messages) goes into
// the DOM through textContent / createTextNode, never innerHTML.
//
// Speed rule: a key press paints the next task from the local queue synchronously; the answer
// travels to the kernel as a custom message and the kernel's acknowledgement arrives later (see
// state.js for how the two are reconciled).
//
// Two views, chosen per task by its view_id: "ner" (teach: one candidate span, accept or reject)
// and "ner_manual" (manual/correct: every span of the text editable, see manual-view.js).

import { isManual, wireSpans } from "./manual.js";
import { createManualEditor, editorKey } from "./manual-view.js";
import { ANSWERS, derive, isWhole, labelColors, segments, unacked } from "./state.js";

const KEYS = { a: "accept", x: "reject", " ": "ignore" };
// Tells JupyterLab (Lumino) not to run its command shortcuts for a key pressed in the widget.
const SUPPRESS = "data-lm-suppress-shortcuts";
const UNDO_KEYS = new Set(["Backspace", "Delete"]);
const CACHE_LIMIT = 500;

const BUTTONS = [
  { action: "accept", text: "Accept", key: "a", symbol: "✓" },
  { action: "reject", text: "Reject", key: "x", symbol: "✗" },
  { action: "ignore", text: "Ignore", key: "space", symbol: "⊘" },
  { action: "undo", text: "Undo", key: "⌫", symbol: "↶" },
];
const ANSWER_SYMBOL = { accept: "✓", reject: "✗", ignore: "⊘" };
const ANSWERED = { accept: "accepted", reject: "rejected", ignore: "ignored" };
// Meta keys not listed under the text: the score is shown above it, the others are the
// kernel's flags for a completion question (its prompt says what it is) or a silver analysis.
const HIDDEN_META = new Set(["score", "whole", "completion", "beam_probability", "silver"]);
// Meta the project adds (where the text is in the source, which model version and pattern made
// the question): behind the "details" toggle, so the user's own meta stands out.
const DETAIL_META = new Set(["line", "row", "id", "sentence", "model_version", "pattern"]);
const LOST =
  "Lost the connection to the kernel (restarted?): run the cell again to carry on. " +
  "The answers acknowledged so far are saved.";

/** Create an element; `text` is set with textContent (never parsed as HTML). */
function h(doc, tag, cls, text) {
  const el = doc.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

function fmtScore(score) {
  return typeof score === "number" && Number.isFinite(score) ? score.toFixed(2) : "–";
}

function fmtMeta(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * App-level shortcuts left to JupyterLab while the widget has focus: save (accel+s), run the cell
 * (shift+enter, accel+enter, alt+enter) and the command palette (accel+shift+c). Every other key,
 * chord or not, is kept from Lab's shortcuts, which act on the widget's own cell: a stray b, d d
 * or ctrl+backspace must not insert, delete or merge cells. (Accel: ctrl, or cmd on a Mac.)
 */
function labShortcut(event) {
  if (typeof event.key !== "string") return false;
  const k = event.key.length === 1 ? event.key.toLowerCase() : event.key; // shift: C, Caps Lock: S
  const accel = event.ctrlKey || event.metaKey;
  const { shiftKey: shift, altKey: alt } = event;
  if (k === "Enter") return shift + accel + alt === 1; // run: with exactly one of them
  return accel && !alt && ((k === "s" && !shift) || (k === "c" && shift));
}

function newClientId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}

/**
 * Build the view inside `el` for the anywidget `model`. Returns {root, destroy, state} (state is
 * for tests and the latency benchmark).
 */
export function createView({ model, el }) {
  const doc = el.ownerDocument;
  const win = doc.defaultView;
  const client = newClientId();
  const cache = new Map(); // task_hash -> task, for instant undo
  let ops = []; // local operations not yet acknowledged by the kernel
  let seq = 0;
  let current = null; // derived state last rendered
  let scheduled = false;
  let serverHashes = new Set(); // the kernel's queue as of the last render
  let acted = false; // this view sent an operation since the last card it painted (renderTask)
  // What is on screen, so a render only touches the parts that changed (the key path stays short).
  const painted = { taskHash: undefined, progress: "", history: "", off: false };

  // ---- skeleton -------------------------------------------------------------------------------
  const root = h(doc, "div", "nba-root");
  root.tabIndex = 0;
  // Lumino reads the attribute when it handles a keydown; onAnyKeyDown sets it per key, before.
  root.setAttribute(SUPPRESS, "true");
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", model.get("mode") === "manual"
    ? "Manual annotation: drag or shift+arrows select, 1-9 label, r remove the span under the cursor, a accept, x reject, space ignore, backspace undo"
    : "Annotation: a accept, x reject, space ignore, backspace undo");
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
  let showDetails = false; // kept from task to task
  card.append(info, textEl, manualMsg, metaEl, details, stateEl);
  const edits = new Map(); // task_hash -> edited spans of a manual task (kept for undo)
  const editor = createManualEditor({
    doc, info, textEl, msgEl: manualMsg, edits, labels: () => model.get("labels") || [],
  });

  const buttons = h(doc, "div", "nba-buttons");
  const buttonEls = {};
  for (const b of BUTTONS) {
    const btn = h(doc, "button", `nba-btn nba-btn-${b.action}`);
    btn.type = "button";
    btn.tabIndex = -1; // focus stays on the root, so the keys keep working after a click
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
  const lostEl = h(doc, "div", "nba-lost");
  lostEl.setAttribute("role", "alert");
  lostEl.hidden = true;
  main.append(card, buttons, lostEl, errorEl, noticeEl);
  let lost = false; // model.send threw: the kernel (and the widget's comm) is gone
  // The kernel closed the session (session.close(), or a re-run cell's newer session took over):
  // the comm works, but nothing should be answered here any more.
  const closed = () => model.get("status") === "closed";

  const side = h(doc, "div", "nba-side");
  const progressEl = h(doc, "div", "nba-progress");
  const historyTitle = h(doc, "div", "nba-side-title", "Last decisions (click to change)");
  const historyEl = h(doc, "ol", "nba-history");
  side.append(progressEl, historyTitle, historyEl);

  const body = h(doc, "div", "nba-body");
  body.append(main, side);
  root.append(header, body);
  el.append(root);

  // ---- rendering ------------------------------------------------------------------------------
  function server() {
    return {
      queue: model.get("queue") || [],
      history: model.get("history") || [],
      progress: model.get("progress") || {},
    };
  }

  function remember(tasks) {
    for (const t of tasks) {
      if (t && t.task_hash !== undefined) cache.set(t.task_hash, t);
    }
    while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value);
  }

  /** label -> colour in this session (one colour per label of the `labels` trait). */
  function colors() {
    return labelColors(model.get("labels") || []);
  }

  function renderMeta(task) {
    const meta = task.meta || {};
    const hidden = isManual(task) ? new Set() : HIDDEN_META; // manual: no kernel flags in it
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
    detailsBtn.textContent = `${showDetails ? "▾" : "▸"} details (${n})`;
    detailsBtn.setAttribute("aria-expanded", String(showDetails));
    detailsBtn.title = showDetails ? "hide where the text and the question come from"
      : "show where the text and the question come from (source line or row, sentence, model version, pattern)";
  }

  function renderTask(task) {
    info.replaceChildren();
    textEl.replaceChildren();
    textEl.classList.remove("nba-manual-text");
    metaEl.replaceChildren();
    detailsEl.replaceChildren();
    details.hidden = true;
    editor.clear();
    if (!task) {
      card.removeAttribute("data-task-hash");
      card.removeAttribute("data-view");
      return;
    }
    card.dataset.taskHash = task.task_hash;
    card.dataset.view = isManual(task) ? "manual" : "teach";
    if (isManual(task)) {
      while (edits.size > CACHE_LIMIT) edits.delete(edits.keys().next().value);
      editor.show(task);
      renderMeta(task);
      return;
    }
    const whole = isWhole(task);
    const spanObj = whole ? null : (task.spans || [])[0] || null;
    const label = spanObj ? String(spanObj.label ?? "") : "";
    const score = whole ? task.meta && task.meta.score : spanObj ? spanObj.score : undefined;
    // whole analyses are always the model's; a span says where it came from (meta.source is
    // the user's own, listed with the other meta)
    const source = whole ? "model" : (spanObj && spanObj.source) || "";
    const color = colors();

    if (whole) {
      // One question about the whole sentence: are these ALL its entities (or: none)?
      // A completion follows the text's span answers: kept accepts, the rest the model's.
      const n = (task.spans || []).length;
      const completion = Boolean(task.meta && task.meta.completion);
      info.append(h(doc, "span", "nba-whole-prompt", completion
        ? (n ? "Complete now? Accept if these (your accepts, the rest the model's guess) are all the entities" :
          "No entities at all? Accept if the text has none")
        : (n ? "Complete analysis? Accept if these are all the entities" :
          "No entities? Accept if the text has none")));
    } else {
      const chip = h(doc, "span", "nba-chip", label);
      chip.title = label; // the chip cuts a long label
      chip.style.background = color(label);
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
      mark.style.background = color(segLabel);
      mark.append(h(doc, "span", "nba-span-text", seg.text));
      const labelEl = h(doc, "span", "nba-span-label", segLabel);
      labelEl.title = segLabel; // cut when too long
      mark.append(labelEl);
      textEl.append(mark);
    }
    renderMeta(task);
    // A long text can put the span below the fold. Only right after this view's own key or
    // button: a card from the kernel must not scroll a page the person is reading elsewhere.
    const first = textEl.querySelector("mark");
    if (first && acted) first.scrollIntoView({ block: "nearest" });
    acted = false; // a card painted: the next one scrolls only after another action
  }

  function renderProgress(progress) {
    progressEl.replaceChildren();
    const row = (name, counts) => {
      // null: the kernel does not know them (the dataset's counts once the session is closed)
      const known = counts !== null;
      const c = counts || {};
      const shown = (n) => (known ? String(n || 0) : "–");
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
    };
    progressEl.append(row("session", progress.session), row("dataset", progress.dataset));
    const rate = progress.accept_rate;
    const stats = h(doc, "div", "nba-stats");
    stats.append(
      h(doc, "span", "nba-rate", `accept rate ${typeof rate === "number" ? `${Math.round(rate * 100)}%` : "–"}`),
      h(doc, "span", "nba-updates", `model updates ${progress.updates || 0}`),
    );
    progressEl.append(stats);
    if (model.get("mode") !== "manual") progressEl.append(precisionRow(progress));
    const total = progress.source_total;
    if (typeof total === "number" && total > 0) {
      const read = Math.min(total, progress.source_read || 0);
      const bar = h(doc, "progress", "nba-bar");
      bar.max = total;
      bar.value = read;
      const pct = Math.round((100 * read) / total);
      progressEl.append(bar, h(doc, "div", "nba-estimate", `${pct}% of the source read (${read} of ${total} texts)`));
    }
  }

  /** The model's precision on the last answers to its guesses, and a sparkline of it. */
  function precisionRow(progress) {
    const value = progress.model_precision;
    const n = progress.model_precision_answers || 0;
    const known = typeof value === "number" && Number.isFinite(value);
    const row = h(doc, "div", "nba-precision");
    row.title = known
      ? `The model's guesses you accepted, of the last ${n} you accepted or rejected: each ` +
        "answer tests the model before it learns from it"
      : "Not known yet: no answer to a span the model proposed";
    row.append(h(doc, "span", "nba-precision-name", "model precision"),
      h(doc, "span", "nba-precision-value", known ? `${Math.round(value * 100)}%` : "–"));
    if (known) row.append(h(doc, "span", "nba-precision-n", `last ${n}`));
    const history = (progress.model_precision_history || []).filter(
      (v) => typeof v === "number" && Number.isFinite(v));
    if (history.length >= 2) row.append(sparkline(history));
    return row;
  }

  /** An inline SVG line of values in [0, 1], oldest left; built node by node (no markup). */
  function sparkline(values) {
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
    const x = (i) => ((i * (W - 2)) / (values.length - 1) + 1).toFixed(1);
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

  function renderHistory(history) {
    historyEl.replaceChildren();
    const color = colors();
    for (const row of history) {
      const li = h(doc, "li", `nba-hist nba-hist-${row.answer}`);
      li.dataset.taskHash = row.task_hash;
      li.dataset.answer = row.answer;
      if (row.pending) li.classList.add("nba-pending");
      const manual = Boolean(row.manual);
      const whole = Boolean(row.whole) || manual; // all the text's entities: list them
      const chip = h(doc, "span", "nba-chip nba-chip-small",
        manual ? "text" : whole ? "whole" : row.label);
      chip.title = chip.textContent; // the chip cuts a long label
      chip.style.background = whole ? "#888" : color(row.label);
      const wholeText = (row.spans || []).map((x) => `${x.text} (${x.label})`).join(", ");
      const spanText = h(doc, "span", "nba-hist-span",
        whole ? wholeText || "no entities" : row.span_text);
      spanText.setAttribute("dir", "auto");
      li.append(chip, spanText);
      // The buttons are symbols: name them with the decision and what it was about.
      const what = `${chip.textContent}: ${spanText.textContent}`;
      const choice = h(doc, "span", "nba-hist-choice");
      for (const a of ANSWERS) {
        const b = h(doc, "button", `nba-hist-btn nba-hist-btn-${a}`, ANSWER_SYMBOL[a]);
        b.type = "button";
        b.tabIndex = -1;
        b.title = `change to ${a}`;
        b.dataset.answer = a;
        b.disabled = lost || closed();
        b.setAttribute("aria-pressed", String(a === row.answer));
        b.setAttribute("aria-label", a === row.answer
          ? `${ANSWERED[a]} — ${what}`
          : `change to ${a} — ${what}`);
        choice.append(b);
      }
      li.append(choice);
      historyEl.append(li);
    }
  }

  /**
   * A manual task back in the kernel's queue (an undo, from this view or another) is offered
   * with the spans it was answered with. This view's edits of it, from when it showed it before,
   * may be stale (another view answered it differently): drop them, so the kernel's spans are
   * shown, unless this view has an operation on the task in flight. If it is on screen already
   * (this view's own undo, shown before the kernel's reply) and nothing was edited since, show
   * the kernel's spans where they differ.
   */
  function dropStaleEdits(queue) {
    const before = serverHashes;
    serverHashes = new Set(queue.map((t) => t.task_hash));
    for (const t of queue) {
      const th = t.task_hash;
      if (before.has(th) || !edits.has(th) || ops.some((op) => op.task_hash === th)) continue;
      if (th !== painted.taskHash) {
        edits.delete(th);
      } else if (!editor.edited && !editor.showsSpansOf(t)) {
        edits.delete(th);
        painted.taskHash = undefined; // painted again below, from the kernel's task
      }
    }
  }

  function render() {
    scheduled = false;
    const s = server();
    remember(s.queue);
    ops = unacked(ops, model.get("acks"), client);
    dropStaleEdits(s.queue);
    current = derive(s, ops, cache, current && current.task ? current.task.task_hash : null);
    const status = model.get("status") || "loading";
    const error = model.get("error") || "";
    const off = lost || closed();
    editor.setDisabled(off); // its label buttons

    const taskHash = current.task ? current.task.task_hash : null; // the hash covers the task
    if (taskHash !== painted.taskHash) {
      painted.taskHash = taskHash;
      renderTask(current.task);
    }
    let state;
    if (lost) state = "lost";
    else if (closed()) state = "closed";
    else if (current.task) state = "ready";
    else if (status === "error") state = "error";
    else if (status === "done") state = "done";
    else state = "loading";
    root.dataset.state = state;
    stateEl.textContent =
      state === "loading"
        ? "Loading tasks…"
        : state === "done"
          ? "No more tasks: the stream is exhausted. Your answers are saved."
          : state === "error"
            ? "The kernel could not produce more tasks (see the error below)."
            : "";
    for (const a of ANSWERS) buttonEls[a].disabled = off || !current.task;
    buttonEls.undo.disabled = off || current.history.length === 0;
    lostEl.textContent = lost ? LOST : closed() ? error : "";
    lostEl.hidden = !off;

    const kernelError = closed() ? "" : error; // a closed session's reason is shown above
    errorEl.textContent = kernelError ? `Error in the kernel: ${kernelError}` : "";
    errorEl.hidden = !kernelError;
    // A closed session's reason is shown above: a notice (an answer refused for it) would repeat it.
    const notice = closed() ? "" : model.get("notice") || "";
    noticeEl.textContent = notice;
    noticeEl.hidden = !notice;
    title.textContent = `nbannotate · ${model.get("dataset") || ""}`;
    const progressKey = JSON.stringify(current.progress);
    if (progressKey !== painted.progress) {
      painted.progress = progressKey;
      renderProgress(current.progress);
    }
    const historyKey = JSON.stringify([off, current.history]); // off: its buttons turn off
    if (historyKey !== painted.history) {
      painted.history = historyKey;
      renderHistory(current.history);
    }
    if (off !== painted.off) {
      painted.off = off;
      renderFocus(); // the hint says the keys are off
    }
  }

  function scheduleRender() {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(render);
  }

  function renderFocus(event) {
    // On focusout the element getting focus is event.relatedTarget (activeElement is not yet set).
    // The root node's activeElement, not the document's: a host that renders the widget in a
    // shadow root (marimo) has the document's activeElement on the shadow host.
    const focused =
      event && event.type === "focusout"
        ? root.contains(event.relatedTarget)
        : root.contains(root.getRootNode().activeElement || null);
    const off = lost || closed();
    root.classList.toggle("nba-focused", focused && !off); // off: no "keys active" border
    const manual = model.get("mode") === "manual";
    focusHint.textContent = lost
      ? "keys off: no connection to the kernel"
      : off
        ? "keys off: this session is closed"
        : !focused
        ? "click here to use the keys"
        : manual
          ? "keys active: drag or shift+←/→ select · 1–9 label · click span or r: remove · a accept · x reject · space ignore · ⌫ undo"
          : "keys active: a accept · x reject · space ignore · ⌫ undo";
  }

  // ---- actions --------------------------------------------------------------------------------
  /** Send a message to the kernel; false (and the view says so) when the comm is gone. */
  function post(content) {
    if (lost || closed()) return false;
    try {
      model.send({ ...content, client });
      return true;
    } catch {
      // After a kernel restart the widget stays on the page but its comm is closed: every send
      // throws ("Cannot send"). Nothing can reach the kernel any more, so stop taking answers.
      lost = true;
      render();
      renderFocus();
      return false;
    }
  }

  function send(op) {
    op.seq = seq + 1;
    if (!post(op)) return; // not sent: not applied either, and its number stays free
    seq = op.seq;
    ops.push(op);
    acted = true;
    render(); // paint now, from the local queue: no round trip on the key path
  }

  function answer(choice) {
    if (!current || !current.task) return false;
    const op = { type: "answer", task_hash: current.task.task_hash, answer: choice };
    // A manual answer carries the whole annotation: every span of the text as edited here.
    if (isManual(current.task)) op.spans = wireSpans(editor.spans);
    send(op);
    return true;
  }

  function undo() {
    if (!current || current.history.length === 0) return false;
    send({ type: "undo" });
    return true;
  }

  function change(taskHash, choice) {
    send({ type: "change", task_hash: taskHash, answer: choice });
  }

  /** A label button: the label for the selection, the span under the cursor and new spans. */
  function chooseLabel(label) {
    if (!lost && !closed()) editor.chooseLabel(label); // off: its buttons are disabled too
  }

  /** A Lab shortcut to hand over; shift+enter labels a pending keyboard selection instead
   * (held shift after shift+arrows: running the cell would lose the edits). */
  function leftToLab(event) {
    if (event.key === "Enter" && event.shiftKey && !lost && !closed() &&
        isManual(current && current.task) && editor.selection) return false;
    return labShortcut(event); // off (kernel lost, session closed): the cell is Lab's to run
  }

  // Capture phase on the window: runs before JupyterLab's keydown handler (on the document), so
  // the attribute it reads is set for this very key.
  function onAnyKeyDown(event) {
    // The first node of the path: at the window a key inside a shadow root targets its host.
    const target = typeof event.composedPath === "function" ? event.composedPath()[0] : event.target;
    if (!(target instanceof win.Node) || !root.contains(target)) return;
    if (leftToLab(event)) root.removeAttribute(SUPPRESS);
    else root.setAttribute(SUPPRESS, "true");
  }

  function onKeyDown(event) {
    if (leftToLab(event)) return; // save, run the cell, the command palette: JupyterLab's
    // Other chords are not the widget's keys: left to the browser (ctrl+c copies).
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typeof event.key !== "string") return; // a synthetic keydown (autofill) may have none
    let handled = false;
    const k = event.key.length === 1 ? event.key.toLowerCase() : event.key; // Caps Lock: A = a
    const manual = Boolean(current && isManual(current.task));
    if (lost || closed()) {
      // Off: nothing is answered or edited any more. The widget's own keys are still swallowed
      // (no page scroll on space or an arrow, no browser "back" on backspace).
      if (Object.hasOwn(KEYS, k) || UNDO_KEYS.has(event.key) || (manual && editorKey(event) !== null)) {
        event.preventDefault();
        event.stopPropagation();
      }
      return;
    }
    if (manual && editor.onKey(event)) {
      handled = true;
    } else if (Object.hasOwn(KEYS, k)) {
      if (!event.repeat) answer(KEYS[k]);
      handled = true;
    } else if (UNDO_KEYS.has(event.key)) {
      if (!event.repeat) undo();
      handled = true;
    }
    if (handled) {
      event.preventDefault(); // no page scroll on space, no browser "back" on backspace
      event.stopPropagation();
    }
  }

  function onClick(event) {
    const target = event.target instanceof doc.defaultView.Element ? event.target : null;
    const btn = target && target.closest("button");
    if (btn && root.contains(btn)) {
      const li = btn.closest("li.nba-hist");
      if (li) change(li.dataset.taskHash, btn.dataset.answer);
      else if (btn.dataset.toggle === "details") {
        showDetails = !showDetails;
        renderDetails();
      }
      else if (btn.dataset.label !== undefined) chooseLabel(btn.dataset.label);
      else if (btn.dataset.action === "undo") undo();
      else if (btn.dataset.action) answer(btn.dataset.action);
    }
    root.focus({ preventScroll: true });
  }

  // Keep focus on the root when a button is pressed with the mouse (buttons are not focusable).
  function onMouseDown(event) {
    const target = event.target;
    if (target && target.closest && target.closest("button")) event.preventDefault();
    if (!lost && !closed()) editor.onMouseDown(event); // off: no edits by mouse either
  }

  // On the document: a drag that starts in the text may end outside the widget.
  function onMouseUp(event) {
    if (lost || closed()) return;
    if (current && isManual(current.task)) editor.onMouseUp(event);
  }

  win.addEventListener("keydown", onAnyKeyDown, true);
  root.addEventListener("keydown", onKeyDown);
  root.addEventListener("click", onClick);
  root.addEventListener("mousedown", onMouseDown);
  doc.addEventListener("mouseup", onMouseUp, true);
  root.addEventListener("focusin", renderFocus);
  root.addEventListener("focusout", renderFocus);

  const traits = ["queue", "history", "progress", "acks", "status", "error", "notice", "dataset", "mode"];
  for (const t of traits) model.on(`change:${t}`, scheduleRender);

  render();
  renderFocus();
  post({ type: "hello" });

  return {
    root,
    client,
    get state() {
      return current;
    },
    get pendingOps() {
      return ops.slice();
    },
    editor,
    destroy() {
      for (const t of traits) model.off(`change:${t}`, scheduleRender);
      win.removeEventListener("keydown", onAnyKeyDown, true);
      root.removeEventListener("keydown", onKeyDown);
      root.removeEventListener("click", onClick);
      root.removeEventListener("mousedown", onMouseDown);
      doc.removeEventListener("mouseup", onMouseUp, true);
      root.remove();
    },
  };
}

function render({ model, el }) {
  const view = createView({ model, el });
  return () => view.destroy();
}

export default { render };
