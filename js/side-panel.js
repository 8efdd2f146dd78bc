// The side panel: answer counts (session, dataset), accept rate, model updates, the annotator's
// actions (keys and clicks), the model's precision with a sparkline, how much of the source was read; and below, the last decisions
// (history.js). Repaints a part only when what it shows changed.

import { h } from "./dom.js";
import { ANSWER_SYMBOL, renderHistory } from "./history.js";
import { ANSWERS, labelColors } from "./state.js";

/** @typedef {import("./messages.js").Progress} Progress */
/** @typedef {import("./messages.js").Counts} Counts */
/** @typedef {import("./messages.js").HistoryRow} HistoryRow */

/**
 * One line of counts; `counts` null: the kernel does not know them (the dataset's counts once
 * the session is closed).
 * @param {Document} doc
 * @param {"session" | "dataset"} name
 * @param {Counts | null | undefined} counts
 */
function countsRow(doc, name, counts) {
  const known = counts !== null;
  const c = counts || /** @type {Partial<Counts>} */ ({});
  const shown = (/** @type {number | undefined} */ n) => (known ? String(n || 0) : "–");
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
}

/**
 * The session's actions: their total, and per kind in the tooltip.
 * @param {Document} doc
 * @param {import("./messages.js").ActionCounts} actions
 */
export function actionsRow(doc, actions) {
  const n = Number(actions.total) || 0;
  const row = h(doc, "span", "nba-actions", `actions ${n}`);
  const kinds = Object.entries(actions).filter(([k, v]) => k !== "total" && v);
  row.title = "Keys and clicks in this session (answer, select, label, remove, submit, undo, change, skip)" +
    (kinds.length ? `: ${kinds.map(([k, v]) => `${k} ${v}`).join(", ")}` : "");
  return row;
}

/**
 * The dataset's answers per annotator, this annotator's first, and the texts other sessions
 * hold; null for one annotator without a name (nothing to tell apart).
 * @param {Document} doc
 * @param {Progress} progress
 * @returns {HTMLElement | null}
 */
export function teamRow(doc, progress) {
  const counts = progress.annotators || {};
  const names = Object.keys(counts);
  const me = progress.annotator || "";
  if (!me && names.every((n) => !n)) return null;
  names.sort((a, b) => (a === me ? -1 : b === me ? 1 : a.localeCompare(b)));
  const line = h(doc, "div", "nba-team");
  line.append(h(doc, "span", "nba-counts-name", "Team"));
  for (const name of names) {
    const part = h(doc, "span", name === me ? "nba-team-me" : "nba-team-other", `${name || "(no name)"} ${counts[name]}`);
    part.dataset.annotator = name;
    line.append(part);
  }
  const held = progress.held_by_others || 0;
  if (held > 0) line.append(h(doc, "span", "nba-team-held", `${held} held by others`));
  return line;
}

/**
 * Paint the progress into `el` (the precision only in teach mode).
 * @param {Document} doc
 * @param {HTMLElement} el
 * @param {Progress} progress
 * @param {boolean} manual
 */
export function renderProgress(doc, el, progress, manual) {
  el.replaceChildren();
  el.append(countsRow(doc, "session", progress.session), countsRow(doc, "dataset", progress.dataset));
  const rate = progress.accept_rate;
  const stats = h(doc, "div", "nba-stats");
  stats.append(
    h(doc, "span", "nba-rate", `accept rate ${typeof rate === "number" ? `${Math.round(rate * 100)}%` : "–"}`),
    h(doc, "span", "nba-updates", `model updates ${progress.updates || 0}`),
  );
  if (progress.actions) stats.append(actionsRow(doc, progress.actions));
  el.append(stats);
  const team = teamRow(doc, progress);
  if (team) el.append(team);
  if (progress.store_error) el.append(h(doc, "div", "nba-store-error", progress.store_error));
  if (progress.review) el.append(reviewRow(doc, progress.review));
  if (!manual) el.append(precisionRow(doc, progress));
  // A review's bar counts the texts reviewed (its source is the texts to review, all read at
  // once into the queue); other sessions' the source read.
  const review = progress.review;
  const total = review ? review.to_review : progress.source_total;
  if (typeof total === "number" && total > 0) {
    const read = Math.min(total, (review ? review.reviewed : progress.source_read) || 0);
    const bar = h(doc, "progress", "nba-bar");
    bar.max = total;
    bar.value = read;
    const pct = Math.round((100 * read) / total);
    el.append(bar, h(doc, "div", "nba-estimate", review ? `${pct}% reviewed (${read} of ${total} texts)`
      : `${pct}% of the source read (${read} of ${total} texts)`));
  }
}

/**
 * A review session's texts: how many had conflicts, were agreed, stored at once, are to review.
 * @param {Document} doc
 * @param {Record<string, number>} counts
 */
export function reviewRow(doc, counts) {
  const n = (/** @type {string} */ k) => Number(counts[k] || 0);
  const parts = [`${n("conflicts")} conflicts`, `${n("agreed")} agreed`];
  if (n("auto_accepted")) parts.push(`${n("auto_accepted")} agreed stored at once`);
  if (n("already_reviewed")) parts.push(`${n("already_reviewed")} reviewed before`);
  return h(doc, "div", "nba-review-counts", `texts: ${parts.join(" · ")}`);
}

/**
 * The model's precision on the last answers to its guesses, and a sparkline of it.
 * @param {Document} doc
 * @param {Progress} progress
 */
export function precisionRow(doc, progress) {
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
  if (history.length >= 2) row.append(sparkline(doc, history));
  return row;
}

/**
 * An inline SVG line of values in [0, 1], oldest left; built node by node (no markup).
 * @param {Document} doc
 * @param {number[]} values at least two
 */
export function sparkline(doc, values) {
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
  const y = (/** @type {number} */ v) => (H - 2 - Math.max(0, Math.min(1, v)) * (H - 4)).toFixed(1);
  const x = (/** @type {number} */ i) => ((i * (W - 2)) / (values.length - 1) + 1).toFixed(1);
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

/**
 * The side panel's elements and its update.
 * @param {Document} doc
 */
export function createSidePanel(doc) {
  const el = h(doc, "div", "nba-side");
  const progressEl = h(doc, "div", "nba-progress");
  const historyTitle = h(doc, "div", "nba-side-title", "Last decisions (click to change)");
  const historyEl = h(doc, "ol", "nba-history");
  el.append(progressEl, historyTitle, historyEl);
  const painted = { progress: "", history: "" };

  /**
   * @param {object} now
   * @param {Progress} now.progress
   * @param {HistoryRow[]} now.history
   * @param {boolean} now.manual
   * @param {boolean} now.off nothing can be answered: the history's buttons are off
   * @param {string[]} now.labels the session's labels (their colours)
   */
  function update({ progress, history, manual, off, labels }) {
    const progressKey = JSON.stringify(progress);
    if (progressKey !== painted.progress) {
      painted.progress = progressKey;
      renderProgress(doc, progressEl, progress, manual);
    }
    const historyKey = JSON.stringify([off, history]); // off: its buttons turn off
    if (historyKey !== painted.history) {
      painted.history = historyKey;
      renderHistory(doc, historyEl, history, { color: labelColors(labels), off });
    }
  }

  return { el, update };
}
