// The mouse in the manual view: a drag in the text selects (the editor makes a span of it), a
// click on a span removes it, and the second click of a double-click on a span just removed does
// not make a new span of the word under the pointer. Also maps a DOM selection point to a
// character offset in the text.

const TEXT_NODE = 3;
const PRECEDING = 2; // Node.DOCUMENT_POSITION_PRECEDING

/**
 * A DOM selection point -> character offset in the text (code points), or null. A point outside
 * the text (a drag that ended outside) is clamped to its start or end.
 * @param {HTMLElement} textEl the painted text (manual-paint.js)
 * @param {number} length the text's length in code points
 * @param {Node | null} node
 * @param {number} offset
 * @returns {number | null}
 */
export function pointToChar(textEl, length, node, offset) {
  if (!node) return null;
  if (node !== textEl && !textEl.contains(node)) {
    return textEl.compareDocumentPosition(node) & PRECEDING ? 0 : length;
  }
  if (node.nodeType === TEXT_NODE) {
    const holder = /** @type {HTMLElement} */ (node.parentElement);
    if (holder.classList.contains("nba-span-label")) return Number(/** @type {HTMLElement} */ (holder.parentElement).dataset.end);
    if (holder.dataset.start === undefined) return null;
    return Number(holder.dataset.start) + Array.from(/** @type {Text} */ (node).data.slice(0, offset)).length;
  }
  const el = /** @type {HTMLElement} */ (node);
  if (el.classList && el.classList.contains("nba-span-label")) return Number(/** @type {HTMLElement} */ (el.parentElement).dataset.end);
  const child = /** @type {HTMLElement | undefined} */ (el.childNodes[offset]);
  if (child) {
    if (child.classList && child.classList.contains("nba-span-label")) return Number(el.dataset.end);
    if (child.dataset && child.dataset.start !== undefined) return Number(child.dataset.start);
    return null;
  }
  if (node === textEl) return length;
  return el.dataset && el.dataset.end !== undefined ? Number(el.dataset.end) : null;
}

/**
 * @param {object} parts
 * @param {Document} parts.doc
 * @param {HTMLElement} parts.textEl
 * @param {() => boolean} parts.active a task is shown
 * @param {() => number} parts.length the text's length in code points
 * @param {(a: number, b: number) => void} parts.select a drag selected characters a..b (either order)
 * @param {(start: number) => {start: number, end: number} | null} parts.removeAt remove the span starting there
 */
export function createManualMouse({ doc, textEl, active, length, select, removeAt }) {
  /** @type {Element | null} */
  let pressMark = null; // span mark under the last mousedown in the text (click = remove)
  let pressInText = false;
  /** @type {[number, number] | null} */
  let removed = null; // [start, end) of the span the last click removed (see onMouseDown)

  /** @param {MouseEvent} event */
  function onMouseDown(event) {
    if (!active() || event.button !== 0) return;
    const target = /** @type {Element | null} */ (event.target);
    pressInText = Boolean(target && textEl.contains(target));
    pressMark = pressInText && target && target.closest ? target.closest("mark.nba-span") : null;
    if (event.detail > 1 && removed && pressInText && target) {
      // The next click of a double-click on a span: its first click removed the span, and the
      // browser's word selection would now make a new span of the word under the pointer. Only
      // a click where that span was: a quick click elsewhere is a click of its own.
      const at = /** @type {HTMLElement | null} */ (target.closest ? target.closest("[data-start]") : null);
      const pos = at && textEl.contains(at) ? Number(at.dataset.start) : NaN;
      if (removed[0] <= pos && pos < removed[1]) {
        event.preventDefault();
        pressInText = false;
        pressMark = null;
        return;
      }
    }
    removed = null;
    // A quick second click on another span removes it too: no word selection to turn into one.
    if (event.detail > 1 && pressMark) event.preventDefault();
  }

  /** @param {MouseEvent} event @returns {boolean} handled here */
  function onMouseUp(event) {
    if (!active() || event.button !== 0 || !pressInText) return false;
    pressInText = false;
    const win = /** @type {Window} */ (doc.defaultView);
    // Inside a shadow root (marimo) the window's selection stops at the shadow host; Chromium
    // gives the root's own selection from the shadow root.
    const rootNode = /** @type {any} */ (textEl.getRootNode());
    /** @type {Selection | null} */
    const sel = typeof rootNode.getSelection === "function" ? rootNode.getSelection()
      : win.getSelection ? win.getSelection() : null;
    if (sel && sel.rangeCount > 0 && !sel.isCollapsed) {
      const a = pointToChar(textEl, length(), sel.anchorNode, sel.anchorOffset);
      const b = pointToChar(textEl, length(), sel.focusNode, sel.focusOffset);
      sel.removeAllRanges();
      pressMark = null;
      if (a !== null && b !== null) select(a, b);
      return true;
    }
    // Listened to on the document: a target inside a shadow root is retargeted to its host.
    const target = /** @type {Element | null} */ (typeof event.composedPath === "function" ? event.composedPath()[0] : event.target);
    const mark = /** @type {HTMLElement | null} */ (target && target.closest ? target.closest("mark.nba-span") : null);
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
    },
  };
}
