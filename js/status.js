// What the view says about itself: its state (loading, ready, done, error, closed, lost), the
// state line under the card, the focus hint in the header, the answer buttons under the card and
// the alerts below them (lost kernel or closed session, a kernel error, a refused answer).
// The functions deciding texts are pure, so they are tested without a DOM.

import { h } from "./dom.js";
import { ANSWERS } from "./state.js";

/** @typedef {"loading" | "ready" | "done" | "error" | "closed" | "lost"} ViewState */

export const LOST =
  "Lost the connection to the kernel (restarted?): run the cell again to carry on. " +
  "The answers acknowledged so far are saved.";

const BUTTONS = [
  { action: "accept", text: "Accept", key: "a", symbol: "✓" },
  { action: "reject", text: "Reject", key: "x", symbol: "✗" },
  { action: "ignore", text: "Ignore", key: "space", symbol: "⊘" },
  { action: "undo", text: "Undo", key: "⌫", symbol: "↶" },
];

/**
 * The view's state, kept in the root's data-state.
 * @param {{lost: boolean, closed: boolean, task: boolean, status: string}} now
 * @returns {ViewState}
 */
export function viewState({ lost, closed, task, status }) {
  if (lost) return "lost";
  if (closed) return "closed";
  if (task) return "ready";
  if (status === "error") return "error";
  if (status === "done") return "done";
  return "loading";
}

/** The state line under the card. @param {ViewState} state */
export function stateText(state) {
  return state === "loading"
    ? "Loading tasks…"
    : state === "done"
      ? "No more tasks: the stream is exhausted. Your answers are saved."
      : state === "error"
        ? "The kernel could not produce more tasks (see the error below)."
        : "";
}

/**
 * The header's hint: whether the keys work and which they are.
 * @param {{lost: boolean, off: boolean, focused: boolean, manual: boolean, review?: boolean}} now
 */
export function focusHint({ lost, off, focused, manual, review = false }) {
  return lost
    ? "keys off: no connection to the kernel"
    : off
      ? "keys off: this session is closed"
      : !focused
      ? "click here to use the keys"
      : review
        ? "keys active: 1–9 load a version · drag or shift+←/→ select · shift+1–9 label · click span or r: remove · a accept · x reject · space ignore · ⌫ undo"
      : manual
        ? "keys active: drag or shift+←/→ select · 1–9 label · click span or r: remove · a accept · x reject · space ignore · ⌫ undo"
        : "keys active: a accept · x reject · space ignore · ⌫ undo";
}

/**
 * The row of answer buttons (and undo). The buttons are not focusable: focus stays on the root,
 * so the keys keep working after a click.
 * @param {Document} doc
 */
export function createButtons(doc) {
  const el = h(doc, "div", "nba-buttons");
  /** @type {Record<string, HTMLButtonElement>} */
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
  /**
   * Answers need a task, undo a decision; off: nothing works.
   * @param {{off: boolean, task: boolean, history: boolean}} now
   */
  function update({ off, task, history }) {
    for (const a of ANSWERS) byAction[a].disabled = off || !task;
    byAction.undo.disabled = off || !history;
  }
  return { el, byAction, update };
}

/**
 * The alerts under the buttons: why nothing can be answered (lost kernel, closed session and its
 * reason), an error in the kernel, why the last answer was refused.
 * @param {Document} doc
 */
export function createAlerts(doc) {
  const alert = (/** @type {string} */ cls) => {
    const e = h(doc, "div", cls);
    e.setAttribute("role", "alert");
    return e;
  };
  const noticeEl = alert("nba-notice");
  const errorEl = alert("nba-error");
  const lostEl = alert("nba-lost");
  lostEl.hidden = true;

  /** @param {{lost: boolean, closed: boolean, error: string, notice: string}} now */
  function update({ lost, closed, error, notice }) {
    lostEl.textContent = lost ? LOST : closed ? error : "";
    lostEl.hidden = !(lost || closed);
    const kernelError = closed ? "" : error; // a closed session's reason is shown above
    errorEl.textContent = kernelError ? `Error in the kernel: ${kernelError}` : "";
    errorEl.hidden = !kernelError;
    // A closed session's reason is shown above: a notice (an answer refused for it) would repeat it.
    const shown = closed ? "" : notice;
    noticeEl.textContent = shown;
    noticeEl.hidden = !shown;
  }

  return { els: [lostEl, errorEl, noticeEl], update };
}
