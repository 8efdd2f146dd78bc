// nbannotate's annotation widget: the anywidget front end of a teach, manual or correct session.
// This entry wires the parts: card.js (the task), status.js (state, buttons, hints), side-panel.js
// and history.js (counts, last decisions), keys.js (keys and JupyterLab), connection.js (messages,
// acks, lost kernel), state.js (what to show: the kernel's state plus this view's operations).
// The messages and traits are typed in messages.js.
//
// Speed rule: a key press paints the next task from the local queue synchronously; the answer
// travels to the kernel as a custom message and the kernel's acknowledgement arrives later (see
// state.js for how the two are reconciled).
//
// Two views, chosen per task by its view_id: "ner" (teach: one candidate span, accept or reject)
// and "ner_manual" (manual/correct: every span of the text editable, see manual-view.js). A review
// task is a manual one with the annotators' versions above the text (review.js): 1..9 load one.
// In teach, a rejected whole analysis turns into its correction: a "ner_manual" task, where a
// stores the fixed analysis and space, x or Escape leaves it (the reject stands).
//
// Effort: every answer carries the actions behind it (a key for a question; the spans selected,
// labels picked and spans removed in the editor, and the submit, for a manual task).

import { createCard } from "./card.js";
import { createConnection } from "./connection.js";
import { h } from "./dom.js";
import { createKeys, SUPPRESS } from "./keys.js";
import { isReview } from "./review.js";
import { isManual, wireSpans } from "./manual.js";
import { createSidePanel } from "./side-panel.js";
import { derive, isCorrection } from "./state.js";
import { createAlerts, createButtons, focusHint, stateText, viewState } from "./status.js";

/** @typedef {import("./messages.js").Model} Model */
/** @typedef {import("./messages.js").Task} Task */
/** @typedef {import("./messages.js").Op} Op */
/** @typedef {import("./messages.js").Answer} Answer */
/** @typedef {import("./messages.js").Derived} Derived */

const CACHE_LIMIT = 500;
const TRAITS = /** @type {const} */ (["queue", "history", "progress", "acks", "status", "error", "notice", "dataset", "mode"]);

/**
 * Build the view inside `el` for the anywidget `model`. Returns {root, destroy, state} (state is
 * for tests and the latency benchmark).
 * @param {{model: Model, el: HTMLElement}} args
 */
export function createView({ model, el }) {
  const doc = el.ownerDocument;
  const win = /** @type {Window} */ (doc.defaultView);
  /** @type {Map<string, Task>} */
  const cache = new Map(); // task_hash -> task, for instant undo
  /** @type {Derived | null} */
  let current = null; // derived state last rendered
  let scheduled = false;
  let serverHashes = new Set(); // the kernel's queue as of the last render
  let acted = false; // this view sent an operation since the last card it painted
  // What is on screen, so a render only touches the parts that changed (the key path stays short).
  /** @type {{taskHash: string | null | undefined, off: boolean}} */
  const painted = { taskHash: undefined, off: false };
  const conn = createConnection(model, () => {
    render();
    renderFocus();
  });
  const labels = () => model.get("labels") || [];
  const reviewMode = () => model.get("mode") === "review";
  const manualMode = () => model.get("mode") === "manual" || reviewMode();
  const onManual = () => isManual(current && current.task);
  const onReview = () => isReview(current && current.task);

  // ---- skeleton -------------------------------------------------------------------------------
  const root = h(doc, "div", "nba-root");
  root.tabIndex = 0;
  // Lumino reads the attribute when it handles a keydown; onAnyKeyDown sets it per key, before.
  root.setAttribute(SUPPRESS, "true");
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", reviewMode()
    ? "Review: 1-9 load a version, drag or shift+arrows select, shift+1-9 label, r remove the span under the cursor, a accept, x reject, space ignore, backspace undo"
    : manualMode()
    ? "Manual annotation: drag or shift+arrows select, 1-9 label, r remove the span under the cursor, a accept, x reject, space ignore, backspace undo"
    : "Annotation: a accept, x reject, space ignore, backspace undo");
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

  // ---- rendering ------------------------------------------------------------------------------
  /** @param {Task[]} tasks */
  function remember(tasks) {
    for (const t of tasks) {
      if (t && t.task_hash !== undefined) cache.set(t.task_hash, t);
      if (t && t.correction) cache.set(t.correction.task_hash, t.correction); // shown before the kernel's
    }
    while (cache.size > CACHE_LIMIT) cache.delete(/** @type {string} */ (cache.keys().next().value));
  }

  /**
   * A manual task back in the kernel's queue (an undo, from this view or another) is offered
   * with the spans it was answered with. This view's edits of it, from when it showed it before,
   * may be stale (another view answered it differently): drop them, so the kernel's spans are
   * shown, unless this view has an operation on the task in flight. If it is on screen already
   * (this view's own undo, shown before the kernel's reply) and nothing was edited since, show
   * the kernel's spans where they differ.
   * @param {Task[]} queue
   */
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
        painted.taskHash = undefined; // painted again below, from the kernel's task
      }
    }
  }

  function render() {
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
    editor.setDisabled(off); // its label buttons

    const taskHash = now.task ? now.task.task_hash : null; // the hash covers the task
    if (taskHash !== painted.taskHash) {
      painted.taskHash = taskHash;
      card.show(now.task, acted);
      if (now.task && !isManual(now.task)) acted = false; // the next one scrolls after another action
    }
    const state = viewState({ lost: conn.lost, closed, task: Boolean(now.task), status });
    root.dataset.state = state;
    card.stateEl.textContent = stateText(state);
    buttons.update({ off, task: Boolean(now.task), history: now.history.length > 0 });
    alerts.update({ lost: conn.lost, closed, error, notice: model.get("notice") || "" });
    title.textContent = `nbannotate · ${model.get("dataset") || ""}`;
    side.update({ progress: now.progress, history: now.history, manual: manualMode(), off, labels: labels() });
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

  /** @param {FocusEvent} [event] */
  function renderFocus(event) {
    // On focusout the element getting focus is event.relatedTarget (activeElement is not yet set).
    // The root node's activeElement, not the document's: a host that renders the widget in a
    // shadow root (marimo) has the document's activeElement on the shadow host.
    const focused = event && event.type === "focusout"
      ? root.contains(/** @type {Node | null} */ (event.relatedTarget))
      : root.contains(/** @type {Document | ShadowRoot} */ (root.getRootNode()).activeElement || null);
    const off = conn.off;
    root.classList.toggle("nba-focused", focused && !off); // off: no "keys active" border
    hint.textContent = focusHint({ lost: conn.lost, off, focused, manual: manualMode(), review: reviewMode() });
  }

  // ---- actions --------------------------------------------------------------------------------
  /** @param {Op} op @returns {boolean} sent */
  function send(op) {
    if (!conn.send(op)) return false; // not sent: not applied either
    acted = true;
    render(); // paint now, from the local queue: no round trip on the key path
    return true;
  }

  /** @param {Answer} choice */
  function answer(choice) {
    if (!current || !current.task) return false;
    const task = current.task;
    // A correction is stored with accept; reject or ignore leave it: the reject stands.
    if (isCorrection(task) && choice !== "accept") return skip();
    /** @type {Op} */
    const op = { type: "answer", task_hash: task.task_hash, answer: choice, actions: { answer: 1 } };
    // A manual answer carries the whole annotation: every span of the text as edited here.
    if (isManual(task)) {
      op.spans = wireSpans(editor.spans);
      op.actions = { ...editor.actionsOf(task.task_hash), submit: 1 };
    }
    if (send(op)) editor.forgetActions(task.task_hash);
    return true;
  }

  /** Leave the correction on screen: nothing is stored, the reject it follows stands. */
  function skip() {
    if (!current || !isCorrection(current.task)) return false;
    const th = /** @type {Task} */ (current.task).task_hash;
    if (send({ type: "skip", task_hash: th })) editor.forgetActions(th);
    return true;
  }

  function undo() {
    if (!current || current.history.length === 0) return false;
    send({ type: "undo" });
    return true;
  }

  /** @param {number} n */
  function pick(n) {
    if (!current || !current.task) return false;
    return card.pick(n);
  }

  const onCorrection = () => isCorrection(current && current.task);
  const keys = createKeys({
    root, win, off: () => conn.off, manual: onManual, review: onReview, pick, correction: onCorrection,
    editor, answer, undo, skip,
  });

  /** @param {MouseEvent} event */
  function onClick(event) {
    const target = event.target instanceof /** @type {any} */ (win).Element ? /** @type {Element} */ (event.target) : null;
    const btn = /** @type {HTMLButtonElement | null} */ (target && target.closest("button"));
    if (btn && root.contains(btn)) {
      const li = /** @type {HTMLElement | null} */ (btn.closest("li.nba-hist"));
      const { answer: choice, toggle, label, action } = btn.dataset;
      if (li) send({ type: "change", task_hash: String(li.dataset.taskHash), answer: /** @type {Answer} */ (choice) });
      else if (toggle === "details") card.toggleDetails();
      else if (btn.dataset.version !== undefined) { if (!conn.off) pick(Number(btn.dataset.version)); }
      // a label button; off: its buttons are disabled too
      else if (label !== undefined) { if (!conn.off) editor.chooseLabel(label); }
      else if (action === "undo") undo();
      else if (action) answer(/** @type {Answer} */ (action));
    }
    root.focus({ preventScroll: true });
  }

  // Keep focus on the root when a button is pressed with the mouse (buttons are not focusable).
  /** @param {MouseEvent} event */
  function onMouseDown(event) {
    const target = /** @type {Element | null} */ (event.target);
    if (target && target.closest && target.closest("button")) event.preventDefault();
    if (!conn.off) editor.onMouseDown(event); // off: no edits by mouse either
  }

  // On the document: a drag that starts in the text may end outside the widget.
  /** @param {MouseEvent} event */
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

  render();
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
    },
  };
}

/** anywidget's entry: render the view, return its cleanup. @param {{model: Model, el: HTMLElement}} args */
function render({ model, el }) {
  const view = createView({ model, el });
  return () => view.destroy();
}

export default { render };
