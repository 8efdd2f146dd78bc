// Pure logic of the manual view (manual and correct sessions): tokens, snapping, overlaps.
// No DOM here. Offsets are code points, like Python's (JS strings count UTF-16 units).

import { cpSlice } from "./state.js";

/** @typedef {import("./messages.js").Task} Task */
/**
 * A token as displayed (see tokenize).
 * @typedef {{i: number, start: number, end: number, text: string, space: boolean, gap: string}} Token
 */
/**
 * A span being edited: character and token offsets (token_end inclusive), label, where it came from.
 * @typedef {{start: number, end: number, token_start: number, token_end: number, label: string, source?: string | null}} EditSpan
 */

export const VIEW_MANUAL = "ner_manual";

/** @param {Task | null | undefined} task */
export function isManual(task) {
  return Boolean(task && task.view_id === VIEW_MANUAL);
}

const SPACE = /^\s*$/u;

/**
 * The task's tokens for display: {i, start, end, text, space, gap}, where `gap` is the text after
 * the token up to the next one (spaCy's trailing whitespace) and `space` marks whitespace tokens
 * (a line break, several spaces), which a selection never starts or ends on. `lead` is any text
 * before the first token.
 * @param {Task} task
 * @returns {{tokens: Token[], lead: string, length: number}}
 */
export function tokenize(task) {
  const text = typeof task.text === "string" ? task.text : String(task.text ?? "");
  const chars = Array.from(text);
  /** @type {any[]} */
  const raw = Array.isArray(task.tokens) ? task.tokens : [];
  const tokens = [];
  for (let i = 0; i < raw.length; i++) {
    const [start, end] = Array.isArray(raw[i]) ? raw[i] : [raw[i].start, raw[i].end];
    const next = i + 1 < raw.length ? (Array.isArray(raw[i + 1]) ? raw[i + 1][0] : raw[i + 1].start) : chars.length;
    const tokText = cpSlice(chars, start, end);
    tokens.push({ i, start, end, text: tokText, space: SPACE.test(tokText), gap: cpSlice(chars, end, next) });
  }
  const lead = tokens.length ? cpSlice(chars, 0, tokens[0].start) : text;
  return { tokens, lead, length: chars.length };
}

/**
 * Snap a character range (either order) to the tokens it touches, whitespace tokens trimmed at
 * both ends. Returns [token_start, token_end] (inclusive) or null when it touches no word.
 * @param {Token[]} tokens
 * @param {number} a
 * @param {number} b
 * @returns {[number, number] | null}
 */
export function snapRange(tokens, a, b) {
  const s = Math.min(a, b);
  const e = Math.max(a, b);
  if (s === e) return null;
  let first = null;
  let last = null;
  for (const t of tokens) {
    if (t.space || t.end <= s || t.start >= e) continue;
    if (first === null) first = t.i;
    last = t.i;
  }
  return first === null ? null : [first, /** @type {number} */ (last)];
}

/**
 * A span over tokens ts..te (inclusive) with a label, in the task's span format.
 * @param {Token[]} tokens
 * @param {number} ts
 * @param {number} te
 * @param {string} label
 * @returns {EditSpan}
 */
export function makeSpan(tokens, ts, te, label) {
  return { start: tokens[ts].start, end: tokens[te].end, token_start: ts, token_end: te, label };
}

/**
 * The first span sharing a token with ts..te, or null.
 * @param {EditSpan[]} spans
 * @param {number} ts
 * @param {number} te
 * @param {EditSpan | null} [except]
 */
export function findOverlap(spans, ts, te, except = null) {
  return spans.find((s) => s !== except && s.token_start <= te && ts <= s.token_end) || null;
}

/**
 * The span covering token i, or null.
 * @param {EditSpan[]} spans
 * @param {number} i
 */
export function spanAt(spans, i) {
  return spans.find((s) => s.token_start <= i && i <= s.token_end) || null;
}

/**
 * Editable copies of the task's spans (token offsets filled in when missing), sorted.
 * @param {Task} task
 * @param {Token[]} tokens
 */
export function initialSpans(task, tokens) {
  /** @type {EditSpan[]} */
  const out = [];
  for (const s of task.spans || []) {
    let ts = Number.isInteger(s.token_start) ? /** @type {number} */ (s.token_start) : null;
    let te = Number.isInteger(s.token_end) ? /** @type {number} */ (s.token_end) : null;
    if (ts === null || te === null) {
      const snapped = snapRange(tokens, Number(s.start), Number(s.end));
      if (!snapped) continue;
      [ts, te] = snapped;
    }
    if (!tokens[ts] || !tokens[te] || findOverlap(out, ts, te)) continue;
    out.push({ ...makeSpan(tokens, ts, te, String(s.label ?? "")), source: s.source ?? null });
  }
  return sortSpans(out);
}

/** @param {EditSpan[]} spans sorted in place */
export function sortSpans(spans) {
  return spans.sort((x, y) => x.token_start - y.token_start);
}

/**
 * Next non-whitespace token from `from` in direction `dir` (+1/-1), or `from` at the edge.
 * @param {Token[]} tokens
 * @param {number | null | undefined} from
 * @param {number} dir
 * @returns {number | null}
 */
export function stepToken(tokens, from, dir) {
  if (!tokens.length) return null;
  if (from === null || from === undefined) {
    const order = dir > 0 ? tokens : [...tokens].reverse();
    const t = order.find((x) => !x.space);
    return t ? t.i : null;
  }
  for (let i = from + dir; i >= 0 && i < tokens.length; i += dir) {
    if (!tokens[i].space) return i;
  }
  return from;
}

/**
 * The spans as sent to the kernel and stored: character offsets and label.
 * @param {EditSpan[]} spans
 * @returns {import("./messages.js").WireSpan[]}
 */
export function wireSpans(spans) {
  return spans.map((s) => ({ start: s.start, end: s.end, label: s.label }));
}
