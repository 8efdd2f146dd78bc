// Painting of the manual view: the label buttons, the text as tokens with its spans, and the
// keyboard cursor and selection.
//
// Speed (long texts): moving the cursor or the selection only toggles classes on the painted
// tokens; a repaint builds the text in a fragment and inserts it with dir="auto" taken off
// meanwhile (Chromium resolves a dir=auto element's direction again for every node inserted
// under it: O(length^2) a paint).
//
// Safety rule as in dom.js: text goes into the DOM through textContent only.

import { h } from "./dom.js";
import { labelColors } from "./state.js";

/** @typedef {import("./manual.js").Token} Token */
/** @typedef {import("./manual.js").EditSpan} EditSpan */
/** @typedef {[number, number] | null} Range token_start, token_end (inclusive) */

/**
 * @param {object} parts
 * @param {Document} parts.doc
 * @param {HTMLElement} parts.info where the label buttons go
 * @param {HTMLElement} parts.textEl where the text goes
 */
export function createManualPainter({ doc, info, textEl }) {
  /** @type {HTMLElement[]} */
  let tokEls = []; // token index -> its painted element
  /** @type {(HTMLElement | undefined)[]} */
  let gapEls = []; // token index -> the painted gap after it (undefined: none)
  /** @type {{cursor: number | null, sel: Range}} */
  let painted = { cursor: null, sel: null }; // cursor and selection as painted on tokEls

  /**
   * @param {string[]} names the labels
   * @param {string | null} active the label for new spans
   * @param {boolean} disabled
   * @param {EditSpan[]} spans
   * @param {string} [keyPrefix] the key held with a label's number ("shift+" in review)
   */
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
      if (k < 9) b.append(h(doc, "kbd", "", `${keyPrefix ? "⇧" : ""}${k + 1}`));
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

  /** @param {Token} t */
  function tokenEl(t) {
    const el = h(doc, "span", "nba-tok", t.text);
    el.dataset.i = String(t.i);
    el.dataset.start = String(t.start);
    el.dataset.end = String(t.end);
    if (t.space) el.classList.add("nba-tok-space");
    tokEls[t.i] = el;
    return el;
  }

  /** @param {number} start @param {string} text */
  function gapEl(start, text) {
    const el = h(doc, "span", "nba-gap", text);
    el.dataset.start = String(start);
    el.dataset.end = String(start + Array.from(text).length);
    return el;
  }

  /**
   * The whole text, spans as marks; then the cursor and selection.
   * @param {{tokens: Token[], lead: string, spans: EditSpan[], names: string[], cursor: number | null, sel: Range}} now
   */
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
    cursorAndSelection(cursor, sel);
  }

  /** The painted tokens of a selection and the gaps between them, each with its class.
   * @param {Range} range */
  function selected(range) {
    /** @type {Map<HTMLElement, string>} */
    const els = new Map();
    if (!range) return els;
    for (let i = range[0]; i <= range[1]; i++) {
      els.set(tokEls[i], "nba-sel");
      const gap = gapEls[i];
      if (i < range[1] && gap) els.set(gap, "nba-sel-gap");
    }
    return els;
  }

  /**
   * Cursor and selection: classes on the painted tokens, changed where they moved. `follow`: the
   * cursor moved by an arrow key, so the page follows it; a repaint (a click, a label) must not
   * scroll back to a cursor the person has scrolled away from.
   * @param {number | null} cursor
   * @param {Range} sel
   */
  function cursorAndSelection(cursor, sel, follow = false) {
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

  /** Off (the session is closed or the kernel gone): the label buttons are disabled.
   * @param {boolean} disabled */
  function disableLabels(disabled) {
    for (const b of info.querySelectorAll(".nba-label-btn")) /** @type {HTMLButtonElement} */ (b).disabled = disabled;
  }

  return { labels, text, cursorAndSelection, disableLabels };
}
