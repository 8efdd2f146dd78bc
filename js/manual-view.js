// The manual view: the text as tokens, every span of it editable (manual and correct sessions).
//
// Select by dragging with the mouse or with shift+arrow keys (snapped to whole tokens); a mouse
// selection becomes a span with the active label at once, a keyboard selection when a number key
// (or Enter) is pressed. Number keys 1..9 / label buttons pick the label: of the pending selection,
// else of the span under the cursor (a new span has the cursor on it), and for the next spans.
// A click on a span removes it. Overlaps are refused with a visible message.
//
// Safety rule as in widget.js: text goes into the DOM through textContent only.

import { labelColor } from "./state.js";
import { findOverlap, initialSpans, makeSpan, snapRange, sortSpans, spanAt, stepToken, tokenize } from "./manual.js";

const TEXT_NODE = 3;
const PRECEDING = 2; // Node.DOCUMENT_POSITION_PRECEDING

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
    labelList().forEach((name, k) => {
      const b = h(doc, "button", "nba-label-btn");
      b.type = "button";
      b.tabIndex = -1;
      b.dataset.label = name;
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", String(name === active));
      b.style.background = labelColor(name);
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

  function tokenEl(t, sel) {
    const el = h(doc, "span", "nba-tok", t.text);
    el.dataset.i = String(t.i);
    el.dataset.start = String(t.start);
    el.dataset.end = String(t.end);
    if (t.space) el.classList.add("nba-tok-space");
    if (t.i === cursor) el.classList.add("nba-cursor");
    if (sel && sel[0] <= t.i && t.i <= sel[1]) el.classList.add("nba-sel");
    return el;
  }

  function gapEl(start, text) {
    const el = h(doc, "span", "nba-gap", text);
    el.dataset.start = String(start);
    el.dataset.end = String(start + Array.from(text).length);
    return el;
  }

  function paintText() {
    textEl.replaceChildren();
    textEl.classList.add("nba-manual-text");
    const sel = selection();
    if (lead) textEl.append(gapEl(0, lead));
    let i = 0;
    while (i < tokens.length) {
      const span = spans.find((s) => s.token_start === i);
      if (!span) {
        const t = tokens[i];
        textEl.append(tokenEl(t, sel));
        if (t.gap) textEl.append(gapEl(t.end, t.gap));
        i += 1;
        continue;
      }
      const mark = h(doc, "mark", "nba-span");
      mark.dataset.start = String(span.start);
      mark.dataset.end = String(span.end);
      mark.dataset.label = span.label;
      mark.title = `${span.label}: click to remove`;
      mark.style.background = labelColor(span.label);
      for (let j = span.token_start; j <= span.token_end; j++) {
        const t = tokens[j];
        mark.append(tokenEl(t, sel));
        if (j < span.token_end && t.gap) mark.append(gapEl(t.end, t.gap));
      }
      mark.append(h(doc, "span", "nba-span-label", span.label));
      textEl.append(mark);
      const last = tokens[span.token_end];
      if (last.gap) textEl.append(gapEl(last.end, last.gap));
      i = span.token_end + 1;
    }
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
        "overlap: click that span to remove it first.");
      return false;
    }
    if (label === null || label === undefined) {
      say("No label to give: the session has no labels.");
      return false;
    }
    spans.push(makeSpan(tokens, ts, te, label));
    sortSpans(spans);
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
      if (span) span.label = label;
      say("");
    }
    paint();
  }

  function removeSpan(span) {
    spans.splice(spans.indexOf(span), 1);
    say("");
    paint();
  }

  /** Mouse: a drag in the text makes a span with the active label; a click on a span removes it. */
  function onMouseDown(event) {
    if (!task || event.button !== 0) return;
    const target = event.target;
    pressInText = Boolean(target && textEl.contains(target));
    pressMark = pressInText && target.closest ? target.closest("mark.nba-span") : null;
  }

  function onMouseUp(event) {
    if (!task || event.button !== 0 || !pressInText) return false;
    pressInText = false;
    const win = doc.defaultView;
    const sel = win.getSelection ? win.getSelection() : null;
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
    const target = event.target;
    const mark = target && target.closest ? target.closest("mark.nba-span") : null;
    if (mark && mark === pressMark && textEl.contains(mark)) {
      const start = Number(mark.dataset.start);
      const span = spans.find((s) => s.start === start);
      pressMark = null;
      if (span) removeSpan(span);
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
    const k = event.key;
    if (k === "ArrowRight" || k === "ArrowLeft") {
      const dir = k === "ArrowRight" ? 1 : -1;
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
      paintText();
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
      paintText();
      return true;
    }
    return false;
  }

  return {
    show,
    clear,
    onKey,
    onMouseDown,
    onMouseUp,
    chooseLabel,
    get spans() {
      return task ? spans : [];
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
