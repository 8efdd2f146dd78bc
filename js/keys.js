// Keys of the view: which keys answer, which undo, and which ones reach JupyterLab.
//
// Lab handles keydown in the capture phase, so a bare a, x or digit would run a notebook command
// (insert a cell, change its type) instead of reaching the widget. The attribute SUPPRESS on the
// widget's focused root keeps Lab's shortcuts off; it is set or taken off per key, before Lab
// reads it, from a capture listener on the window.

import { editorKey } from "./manual-view.js";
import { digitOf } from "./review.js";

/** @typedef {import("./messages.js").Answer} Answer */

/** @type {Record<string, Answer>} */
export const KEYS = { a: "accept", x: "reject", " ": "ignore" };
// Tells JupyterLab (Lumino) not to run its command shortcuts for a key pressed in the widget.
export const SUPPRESS = "data-lm-suppress-shortcuts";
export const UNDO_KEYS = new Set(["Backspace", "Delete"]);

/**
 * App-level shortcuts left to JupyterLab while the widget has focus: save (accel+s), run the cell
 * (shift+enter, accel+enter, alt+enter) and the command palette (accel+shift+c). Every other key,
 * chord or not, is kept from Lab's shortcuts, which act on the widget's own cell: a stray b, d d
 * or ctrl+backspace must not insert, delete or merge cells. (Accel: ctrl, or cmd on a Mac.)
 * @param {KeyboardEvent} event
 */
export function labShortcut(event) {
  if (typeof event.key !== "string") return false;
  const k = event.key.length === 1 ? event.key.toLowerCase() : event.key; // shift: C, Caps Lock: S
  const accel = event.ctrlKey || event.metaKey;
  const { shiftKey: shift, altKey: alt } = event;
  if (k === "Enter") return Number(shift) + Number(accel) + Number(alt) === 1; // run: exactly one
  return accel && !alt && ((k === "s" && !shift) || (k === "c" && shift));
}

/**
 * The key listeners of a view.
 * @param {object} parts
 * @param {HTMLElement} parts.root the focusable root holding SUPPRESS
 * @param {Window} parts.win
 * @param {() => boolean} parts.off nothing can be answered (kernel lost, session closed)
 * @param {() => boolean} parts.manual the card on screen is a manual task
 * @param {() => boolean} [parts.review] the card on screen is a review task: 1..9 pick a version,
 *   shift+1..9 a label
 * @param {(n: number) => unknown} [parts.pick] load version n into the editor
 * @param {() => boolean} [parts.correction] the card on screen is a correction (teach)
 * @param {{selection: unknown, onKey: (event: KeyboardEvent) => boolean, labelNumber: (n: number) => void}} parts.editor
 * @param {(choice: Answer) => unknown} parts.answer
 * @param {() => unknown} parts.undo
 * @param {() => unknown} [parts.skip] leave the correction on screen
 */
export function createKeys({
  root, win, off, manual, review = () => false, pick = () => false, correction = () => false, editor, answer, undo,
  skip = () => false,
}) {
  /** A Lab shortcut to hand over; shift+enter labels a pending keyboard selection instead
   * (held shift after shift+arrows: running the cell would lose the edits).
   * @param {KeyboardEvent} event */
  function leftToLab(event) {
    if (event.key === "Enter" && event.shiftKey && !off() && manual() && editor.selection) return false;
    return labShortcut(event); // off (kernel lost, session closed): the cell is Lab's to run
  }

  /** Capture phase on the window: runs before JupyterLab's keydown handler (on the document), so
   * the attribute it reads is set for this very key.
   * @param {KeyboardEvent} event */
  function onAnyKeyDown(event) {
    // The first node of the path: at the window a key inside a shadow root targets its host.
    const target = typeof event.composedPath === "function" ? event.composedPath()[0] : event.target;
    if (!(target instanceof /** @type {any} */ (win).Node) || !root.contains(/** @type {Node} */ (target))) return;
    if (leftToLab(event)) root.removeAttribute(SUPPRESS);
    else root.setAttribute(SUPPRESS, "true");
  }

  /** @param {KeyboardEvent} event */
  function onKeyDown(event) {
    if (leftToLab(event)) return; // save, run the cell, the command palette: JupyterLab's
    // Other chords are not the widget's keys: left to the browser (ctrl+c copies).
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typeof event.key !== "string") return; // a synthetic keydown (autofill) may have none
    let handled = false;
    const k = event.key.length === 1 ? event.key.toLowerCase() : event.key; // Caps Lock: A = a
    const isManual = manual();
    if (off()) {
      // Off: nothing is answered or edited any more. The widget's own keys are still swallowed
      // (no page scroll on space or an arrow, no browser "back" on backspace).
      if (Object.hasOwn(KEYS, k) || UNDO_KEYS.has(event.key) || (isManual && editorKey(event) !== null) ||
        (review() && digitOf(event) !== null)) {
        event.preventDefault();
        event.stopPropagation();
      }
      return;
    }
    const digit = isManual && review() ? digitOf(event) : null;
    if (digit !== null) {
      if (event.shiftKey) editor.labelNumber(digit);
      else if (!event.repeat) pick(digit);
      handled = true;
    } else if (k === "Escape" && correction() && !editor.selection) {
      // Escape without a selection to drop leaves a correction: the reject stands.
      if (!event.repeat) skip();
      handled = true;
    } else if (isManual && editor.onKey(event)) {
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

  return { onAnyKeyDown, onKeyDown };
}
