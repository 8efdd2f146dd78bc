// The manual view: the text as tokens, every span of it editable (manual and correct sessions).
//
// Select by dragging with the mouse or with shift+arrow keys (snapped to whole tokens); a mouse
// selection becomes a span with the active label at once, a keyboard selection when a number key
// (or Enter, also shift+Enter: the widget keeps it from Lab then) is pressed. Number keys 1..9 /
// label buttons pick the label: of the pending selection, else of the span under the cursor (a
// new span has the cursor on it), and for the next spans.
// A click on a span, or r with the cursor on it, removes it. Overlaps are refused with a visible
// message. The widget turns the editor off (setDisabled) once nothing can be answered any more.
//
// Speed (long texts): moving the cursor or the selection only toggles classes on the painted
// tokens; a repaint builds the text in a fragment and inserts it with dir="auto" taken off
// meanwhile (Chromium resolves a dir=auto element's direction again for every node inserted
// under it: O(length^2) a paint).
//
// Safety rule as in widget.js: text goes into the DOM through textContent only.

import { labelColors } from "./state.js";
import { findOverlap, initialSpans, makeSpan, snapRange, sortSpans, spanAt, stepToken, tokenize } from "./manual.js";

const TEXT_NODE = 3;
const PRECEDING = 2; // Node.DOCUMENT_POSITION_PRECEDING

/** The keys of the manual view (besides the widget's answer keys): its key name, or null. */
export function editorKey(event) {
  if (typeof event.key !== "string") return null; // a synthetic keydown may have no key
  const k = event.key.length === 1 ? event.key.toLowerCase() : event.key; // Caps Lock: R = r
  return k === "ArrowRight" || k === "ArrowLeft" || k === "r" || /^[1-9]$/.test(k) ||
    k === "Enter" || k === "Escape" ? k : null;
}

function h(doc, tag, cls, text) {
  const el = doc.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

/**
 * Manual editor over the card's elements. `edits` maps task_hash -> spans (kept across tasks, so
 * an undone task comes back with the spans it was answered with).
 */
export function createManualEditor({ doc, info, textEl, msgEl, edits, labels }) {
  let task = null;
  let tokens = [];
  let lead = "";
  let length = 0;
  let spans = [];
  let cursor = null; // token index of the keyboard cursor
  let anchor = null; // other end of a pending keyboard selection (null: none)
  let active = null; // label for new spans
  let pressMark = null; // span mark under the last mousedown in the text (click = remove)
  let pressInText = false;
  let removed = null; // [start, end) of the span the last click removed (see onMouseDown)
  let edited = false; // the spans were changed here since the task was shown
  let disabled = false; // off: the label buttons too
  let tokEls = []; // token index -> its painted element
  let gapEls = []; // token index -> the painted gap after it (undefined: none)
  let painted = { cursor: null, sel: null }; // cursor and selection as painted on tokEls
  let rtl = null; // the text runs right to left (null: not looked up yet for this task)

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
    spans = edits.get(t.task_hash);
    cursor = null;
    anchor = null;
    removed = null;
    edited = false;
    rtl = null;
    const names = labelList();
    if (!names.includes(active)) active = names[0] ?? null;
    say("");
    paint();
  }

  function clear() {
    task = null;
    say("");
  }

  function selection() {
    if (anchor === null || cursor === null) return null;
    return [Math.min(anchor, cursor), Math.max(anchor, cursor)];
  }

  // ---- painting -------------------------------------------------------------------------------
  function paintLabels() {
    info.replaceChildren();
    const bar = h(doc, "span", "nba-labels");
    bar.setAttribute("role", "radiogroup");
    bar.setAttribute("aria-label", "Label for new spans");
    const names = labelList();
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
      if (k < 9) b.append(h(doc, "kbd", "", String(k + 1)));
      b.append(h(doc, "span", "nba-label-name", name));
      b.title = k < 9 ? `${name} (key ${k + 1})` : name;
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

  function gapEl(start, text) {
    const el = h(doc, "span", "nba-gap", text);
    el.dataset.start = String(start);
    el.dataset.end = String(start + Array.from(text).length);
    return el;
  }

  function paintText() {
    textEl.classList.add("nba-manual-text");
    const out = doc.createDocumentFragment();
    tokEls = new Array(tokens.length);
    gapEls = new Array(tokens.length);
    const byStart = new Map(spans.map((s) => [s.token_start, s]));
    const color = labelColors(labelList());
    if (lead) out.append(gapEl(0, lead));
    let i = 0;
    while (i < tokens.length) {
      const span = byStart.get(i);
      if (!span) {
        const t = tokens[i];
        out.append(tokenEl(t));
        if (t.gap) out.append((gapEls[i] = gapEl(t.end, t.gap)));
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
        if (j < span.token_end && t.gap) mark.append((gapEls[j] = gapEl(t.end, t.gap)));
      }
      mark.append(h(doc, "span", "nba-span-label", span.label));
      out.append(mark);
      const last = tokens[span.token_end];
      if (last.gap) out.append((gapEls[span.token_end] = gapEl(last.end, last.gap)));
      i = span.token_end + 1;
    }
    // dir="auto" off while inserting: Chromium resolves the direction again for every node
    // inserted under such an element, even from a fragment (O(length^2)); set back, once.
    const dir = textEl.getAttribute("dir");
    textEl.removeAttribute("dir");
    textEl.replaceChildren(out);
    if (dir !== null) textEl.setAttribute("dir", dir);
    painted = { cursor: null, sel: null };
    paintCursor();
  }

  /** The painted tokens of a selection and the gaps between them, each with its class. */
  function selected(range) {
    const els = new Map();
    if (!range) return els;
    for (let i = range[0]; i <= range[1]; i++) {
      els.set(tokEls[i], "nba-sel");
      if (i < range[1] && gapEls[i]) els.set(gapEls[i], "nba-sel-gap");
    }
    return els;
  }

  /**
   * Cursor and selection: classes on the painted tokens, changed where they moved. `follow`: the
   * cursor moved by an arrow key, so the page follows it; a repaint (a click, a label) must not
   * scroll back to a cursor the person has scrolled away from.
   */
  function paintCursor(follow = false) {
    const sel = selection();
    const now = selected(sel);
    const before = selected(painted.sel);
    for (const [el, cls] of before) if (!now.has(el)) el.classList.remove(cls);
    for (const [el, cls] of now) if (!before.has(el)) el.classList.add(cls);
    if (painted.cursor !== cursor) {
      if (painted.cursor !== null) tokEls[painted.cursor].classList.remove("nba-cursor");
      if (cursor !== null) {
        tokEls[cursor].classList.add("nba-cursor");
        // On a long text the cursor can walk off screen (no-op when visible).
        if (follow) tokEls[cursor].scrollIntoView({ block: "nearest" });
      }
    }
    painted = { cursor, sel };
  }

  function paint() {
    paintLabels();
    paintText();
  }

  // ---- editing --------------------------------------------------------------------------------
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

  function chooseLabel(label) {
    active = label;
    const sel = selection();
    if (sel) {
      if (add(sel[0], sel[1], label)) anchor = null;
    } else {
      const span = cursor === null ? null : spanAt(spans, cursor);
      if (span && span.label !== label) {
        span.label = label;
        edited = true;
      }
      say("");
    }
    paint();
  }

  function removeSpan(span) {
    spans.splice(spans.indexOf(span), 1);
    edited = true;
    say("");
    paint();
  }

  /** Mouse: a drag in the text makes a span with the active label; a click on a span removes it. */
  function onMouseDown(event) {
    if (!task || event.button !== 0) return;
    const target = event.target;
    pressInText = Boolean(target && textEl.contains(target));
    pressMark = pressInText && target.closest ? target.closest("mark.nba-span") : null;
    if (event.detail > 1 && removed && pressInText) {
      // The next click of a double-click on a span: its first click removed the span, and the
      // browser's word selection would now make a new span of the word under the pointer. Only
      // a click where that span was: a quick click elsewhere is a click of its own.
      const at = target.closest ? target.closest("[data-start]") : null;
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

  function onMouseUp(event) {
    if (!task || event.button !== 0 || !pressInText) return false;
    pressInText = false;
    const win = doc.defaultView;
    // Inside a shadow root (marimo) the window's selection stops at the shadow host; Chromium
    // gives the root's own selection from the shadow root.
    const rootNode = textEl.getRootNode();
    const sel = typeof rootNode.getSelection === "function" ? rootNode.getSelection()
      : win.getSelection ? win.getSelection() : null;
    if (sel && sel.rangeCount > 0 && !sel.isCollapsed) {
      const a = pointToChar(sel.anchorNode, sel.anchorOffset);
      const b = pointToChar(sel.focusNode, sel.focusOffset);
      sel.removeAllRanges();
      pressMark = null;
      if (a === null || b === null) return true;
      const snapped = snapRange(tokens, a, b);
      if (!snapped) return true; // only whitespace selected: nothing to mark
      anchor = null;
      if (add(snapped[0], snapped[1], active)) cursor = snapped[1];
      paint();
      return true;
    }
    // Listened to on the document: a target inside a shadow root is retargeted to its host.
    const target = typeof event.composedPath === "function" ? event.composedPath()[0] : event.target;
    const mark = target && target.closest ? target.closest("mark.nba-span") : null;
    if (mark && mark === pressMark && textEl.contains(mark)) {
      const start = Number(mark.dataset.start);
      const span = spans.find((s) => s.start === start);
      pressMark = null;
      if (span) {
        removeSpan(span);
        removed = [span.start, span.end];
      }
      return true;
    }
    pressMark = null;
    return false;
  }

  /** A DOM selection point -> character offset in the text (code points), or null. */
  function pointToChar(node, offset) {
    if (!node) return null;
    if (node !== textEl && !textEl.contains(node)) {
      // a drag that ended outside the text: clamp to its start or end
      return textEl.compareDocumentPosition(node) & PRECEDING ? 0 : length;
    }
    if (node.nodeType === TEXT_NODE) {
      const holder = node.parentElement;
      if (holder.classList.contains("nba-span-label")) return Number(holder.parentElement.dataset.end);
      if (holder.dataset.start === undefined) return null;
      return Number(holder.dataset.start) + Array.from(node.data.slice(0, offset)).length;
    }
    if (node.classList && node.classList.contains("nba-span-label")) return Number(node.parentElement.dataset.end);
    const child = node.childNodes[offset];
    if (child) {
      if (child.classList && child.classList.contains("nba-span-label")) return Number(node.dataset.end);
      if (child.dataset && child.dataset.start !== undefined) return Number(child.dataset.start);
      return null;
    }
    if (node === textEl) return length;
    return node.dataset && node.dataset.end !== undefined ? Number(node.dataset.end) : null;
  }

  /** Keys of the manual view; returns true when the key was handled here. */
  function onKey(event) {
    if (!task) return false;
    const k = editorKey(event);
    if (k === null) return false;
    if (k === "ArrowRight" || k === "ArrowLeft") {
      // The arrows move on screen: → goes to the previous token in a right-to-left text.
      if (rtl === null) rtl = doc.defaultView.getComputedStyle(textEl).direction === "rtl";
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
      paintCursor(true);
      return true;
    }
    if (k === "r") {
      const span = cursor === null ? null : spanAt(spans, cursor);
      if (span) removeSpan(span);
      else say("No span under the cursor to remove: move the cursor onto one with ←/→.");
      return true;
    }
    if (/^[1-9]$/.test(k)) {
      const names = labelList();
      const n = Number(k);
      if (n > names.length) {
        say(`No label ${n}: the labels are ${names.map((x, j) => `${j + 1} ${x}`).join(", ")}.`);
      } else {
        chooseLabel(names[n - 1]);
      }
      return true;
    }
    if (k === "Enter") {
      if (selection()) chooseLabel(active);
      return true;
    }
    if (k === "Escape") {
      anchor = null;
      say("");
      paintCursor();
      return true;
    }
    return false;
  }

  /** Off (the session is closed or the kernel gone): the label buttons are disabled. */
  function setDisabled(off) {
    if (disabled === Boolean(off)) return;
    disabled = Boolean(off);
    for (const b of info.querySelectorAll(".nba-label-btn")) b.disabled = disabled;
  }

  /** True when the editor shows task `t` with the spans `t` itself offers. */
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
    onMouseDown,
    onMouseUp,
    chooseLabel,
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
