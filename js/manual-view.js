// The manual view: the text as tokens, every span of it editable (manual and correct sessions).
// This module keeps the editor's state and its edits; manual-paint.js paints, manual-mouse.js
// handles the mouse, manual.js holds the pure logic (tokens, snapping, overlaps).
//
// Select by dragging with the mouse or with shift+arrow keys (snapped to whole tokens); a mouse
// selection becomes a span with the active label at once, a keyboard selection when a number key
// (or Enter, also shift+Enter: the widget keeps it from Lab then) is pressed. Number keys 1..9 /
// label buttons pick the label: of the pending selection, else of the span under the cursor (a
// new span has the cursor on it), and for the next spans.
// A click on a span, or r with the cursor on it, removes it. Overlaps are refused with a visible
// message. The widget turns the editor off (setDisabled) once nothing can be answered any more.
//
// Effort: the editor counts, per task, the spans selected, the labels picked and the spans
// removed (nbannotate/effort.py's kinds); the widget sends them with the answer. A selection by
// keys is one span selected when a number key (also a label picked) or Enter makes it a span.

import { findOverlap, initialSpans, makeSpan, snapRange, sortSpans, spanAt, stepToken, tokenize } from "./manual.js";
import { createManualMouse } from "./manual-mouse.js";
import { createManualPainter } from "./manual-paint.js";

/** @typedef {import("./messages.js").Task} Task */
/** @typedef {import("./manual.js").Token} Token */
/** @typedef {import("./manual.js").EditSpan} EditSpan */
/** @typedef {import("./messages.js").Actions} Actions */

/**
 * The keys of the manual view (besides the widget's answer keys): its key name, or null.
 * @param {KeyboardEvent} event
 */
export function editorKey(event) {
  if (typeof event.key !== "string") return null; // a synthetic keydown may have no key
  const k = event.key.length === 1 ? event.key.toLowerCase() : event.key; // Caps Lock: R = r
  return k === "ArrowRight" || k === "ArrowLeft" || k === "r" || /^[1-9]$/.test(k) ||
    k === "Enter" || k === "Escape" ? k : null;
}

/**
 * Manual editor over the card's elements. `edits` maps task_hash -> spans (kept across tasks, so
 * an undone task comes back with the spans it was answered with).
 * @param {object} parts
 * @param {Document} parts.doc
 * @param {HTMLElement} parts.info where the label buttons go
 * @param {HTMLElement} parts.textEl
 * @param {HTMLElement} parts.msgEl why an edit was refused
 * @param {Map<string, EditSpan[]>} parts.edits
 * @param {() => string[]} parts.labels the session's labels
 * @param {() => string} [parts.labelKey] the key before a label's number ("shift+" in review)
 */
export function createManualEditor({ doc, info, textEl, msgEl, edits, labels, labelKey = () => "" }) {
  /** @type {Task | null} */
  let task = null;
  /** @type {Token[]} */
  let tokens = [];
  let lead = "";
  let length = 0;
  /** @type {EditSpan[]} */
  let spans = [];
  /** @type {number | null} */
  let cursor = null; // token index of the keyboard cursor
  /** @type {number | null} */
  let anchor = null; // other end of a pending keyboard selection (null: none)
  /** @type {string | null} */
  let active = null; // label for new spans
  let edited = false; // the spans were changed here since the task was shown
  let disabled = false; // off: the label buttons too
  /** @type {boolean | null} */
  let rtl = null; // the text runs right to left (null: not looked up yet for this task)
  /** @type {Map<string, {select: number, label: number, remove: number}>} */
  const counts = new Map(); // task_hash -> the actions spent on it here, until it is answered
  const painter = createManualPainter({ doc, info, textEl });
  const mouse = createManualMouse({
    doc, textEl, active: () => task !== null, length: () => length, select, removeAt,
  });

  function labelList() {
    const own = task && Array.isArray(task.labels) && task.labels.length ? task.labels : labels();
    return own.map(String);
  }

  /** @param {string} text */
  function say(text) {
    msgEl.textContent = text || "";
    msgEl.hidden = !text;
  }

  /** @param {Task} t */
  function show(t) {
    task = t;
    ({ tokens, lead, length } = tokenize(t));
    if (!edits.has(t.task_hash)) edits.set(t.task_hash, initialSpans(t, tokens));
    spans = /** @type {EditSpan[]} */ (edits.get(t.task_hash));
    cursor = null;
    anchor = null;
    mouse.reset();
    edited = false;
    rtl = null;
    const names = labelList();
    if (!names.includes(/** @type {string} */ (active))) active = names[0] ?? null;
    say("");
    paint();
  }

  function clear() {
    task = null;
    say("");
  }

  /** One more action of `kind` on the task shown. @param {"select" | "label" | "remove"} kind */
  function count(kind) {
    if (!task) return;
    let c = counts.get(task.task_hash);
    if (!c) {
      c = { select: 0, label: 0, remove: 0 };
      counts.set(task.task_hash, c);
      while (counts.size > 500) counts.delete(/** @type {string} */ (counts.keys().next().value));
    }
    c[kind] += 1;
  }

  /** @returns {[number, number] | null} */
  function selection() {
    if (anchor === null || cursor === null) return null;
    return [Math.min(anchor, cursor), Math.max(anchor, cursor)];
  }

  function paint() {
    const names = labelList();
    painter.labels(names, active, disabled, spans, labelKey());
    painter.text({ tokens, lead, spans, names, cursor, sel: selection() });
  }

  // ---- editing --------------------------------------------------------------------------------
  /** @param {number} ts @param {number} te @param {string | null} label */
  function add(ts, te, label) {
    const clash = findOverlap(spans, ts, te);
    const wanted = tokens.slice(ts, te + 1).map((t) => t.text + (t.i < te ? t.gap : "")).join("");
    if (clash) {
      const clashText = tokens.slice(clash.token_start, clash.token_end + 1)
        .map((t) => t.text + (t.i < clash.token_end ? t.gap : "")).join("");
      say(`Refused: “${wanted}” would overlap “${clashText}” (${clash.label}). Entities cannot ` +
        "overlap: remove that span first (click it, or r with the cursor on it).");
      return false;
    }
    if (label === null || label === undefined) {
      say("No label to give: the session has no labels.");
      return false;
    }
    spans.push(makeSpan(tokens, ts, te, label));
    sortSpans(spans);
    edited = true;
    say("");
    return true;
  }

  /** A label picked (number key, label button); `picked` false: Enter, the active label.
   * @param {string | null} label @param {boolean} [picked] */
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

  /** @param {EditSpan} span */
  function removeSpan(span) {
    spans.splice(spans.indexOf(span), 1);
    count("remove");
    edited = true;
    say("");
    paint();
  }

  /** A mouse selection of characters a..b: a span with the active label at once.
   * @param {number} a @param {number} b */
  function select(a, b) {
    const snapped = snapRange(tokens, a, b);
    if (!snapped) return; // only whitespace selected: nothing to mark
    anchor = null;
    if (add(snapped[0], snapped[1], active)) {
      cursor = snapped[1];
      count("select");
    }
    paint();
  }

  /** A click on the span starting at `start`: removed. @param {number} start */
  function removeAt(start) {
    const span = spans.find((s) => s.start === start);
    if (span) removeSpan(span);
    return span || null;
  }

  /** Keys of the manual view; returns true when the key was handled here.
   * @param {KeyboardEvent} event */
  function onKey(event) {
    if (!task) return false;
    const k = editorKey(event);
    if (k === null) return false;
    if (k === "ArrowRight" || k === "ArrowLeft") {
      // The arrows move on screen: → goes to the previous token in a right-to-left text.
      if (rtl === null) rtl = /** @type {Window} */ (doc.defaultView).getComputedStyle(textEl).direction === "rtl";
      const dir = (k === "ArrowRight") !== rtl ? 1 : -1;
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
      else say("No span under the cursor to remove: move the cursor onto one with ←/→.");
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

  /** The label of number key `n` (1 = the first label). @param {number} n */
  function labelNumber(n) {
    if (!task) return;
    const names = labelList();
    if (n > names.length) {
      say(`No label ${n}: the labels are ${names.map((x, j) => `${j + 1} ${x}`).join(", ")}.`);
    } else {
      chooseLabel(names[n - 1]);
    }
  }

  /** Replace every span with `given` (a review version's spans), as an edit: snapped to the
   * tokens, overlaps left out. @param {import("./messages.js").Span[]} given */
  function load(given) {
    if (!task) return;
    spans.splice(0, spans.length, ...initialSpans({ ...task, spans: given }, tokens));
    anchor = null;
    edited = true;
    say("");
    paint();
  }

  /** Off (the session is closed or the kernel gone): the label buttons are disabled.
   * @param {boolean} off */
  function setDisabled(off) {
    if (disabled === Boolean(off)) return;
    disabled = Boolean(off);
    painter.disableLabels(disabled);
  }

  /** True when the editor shows task `t` with the spans `t` itself offers. @param {Task} t */
  function showsSpansOf(t) {
    if (!task || t.task_hash !== task.task_hash) return false;
    const key = (/** @type {EditSpan[]} */ list) => JSON.stringify(list.map((s) => [s.start, s.end, s.label]));
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
      /** @type {Actions} */
      const out = {};
      if (c) for (const [k, n] of Object.entries(c)) if (n) out[/** @type {"select" | "label" | "remove"} */ (k)] = n;
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
    },
  };
}
