// The task card: a teach question (the text with its candidate span highlighted, the label chip,
// score and source; or a whole-analysis question with every entity), or a manual task (the
// manual editor, manual-view.js), above which a review task shows the annotators' versions
// (review.js); under the text the task's meta, the project's own meta behind a "details" toggle;
// and the state line (loading, done...). A correction (teach: a rejected whole
// analysis to fix) is a manual task with a prompt above it.

import { h } from "./dom.js";
import { isManual } from "./manual.js";
import { createManualEditor } from "./manual-view.js";
import { isReview, renderVersions } from "./review.js";
import { isCorrection, isWhole, labelColors, segments } from "./state.js";

/** @typedef {import("./messages.js").Task} Task */
/** @typedef {import("./messages.js").Span} Span */

const CACHE_LIMIT = 500;
// Meta keys not listed under the text: the score is shown above it, the others are the
// kernel's flags for a completion question (its prompt says what it is) or a silver analysis.
const HIDDEN_META = new Set(["score", "whole", "completion", "beam_probability", "silver", "actions"]);
// A manual task's meta is the user's, but for the kernel's own keys: the actions an earlier
// answer took (an undone task), and a correction's flags (its prompt says what it is).
const HIDDEN_MANUAL_META = new Set(["actions", "correction", "corrects"]);
export const CORRECTION_PROMPT = "Fix the analysis you rejected: a stores it as all the entities · " +
  "space or Esc leaves it (the reject stands)";
// Asked directly (corrections have cost fewer actions per entity than questions so far).
export const DIRECT_PROMPT = "Fix the model's analysis: a stores it as all the entities · " +
  "space or Esc skips it";
// Meta the project adds (where the text is in the source, which model version and pattern made
// the question): behind the "details" toggle, so the user's own meta stands out.
const DETAIL_META = new Set(["line", "row", "id", "sentence", "model_version", "pattern"]);

// No score (null: the model never learnt, or a pattern match it does not propose): none shown.
/** @param {unknown} score */
export function fmtScore(score) {
  return typeof score === "number" && Number.isFinite(score) ? score.toFixed(2) : "";
}

/** @param {unknown} value */
export function fmtMeta(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** The prompt of a whole-analysis question: are these ALL the text's entities (or: none)?
 * A completion follows the text's span answers: kept accepts, the rest the model's.
 * @param {Task} task */
export function wholePrompt(task) {
  const n = (task.spans || []).length;
  if (task.meta && task.meta.completion) {
    return n ? "Complete now? Accept if these (your accepts, the rest the model's guess) are all the entities" :
      "No entities at all? Accept if the text has none";
  }
  return n ? "Complete analysis? Accept if these are all the entities" : "No entities? Accept if the text has none";
}

/**
 * @param {object} parts
 * @param {Document} parts.doc
 * @param {() => string[]} parts.labels the session's labels
 * @param {() => boolean} [parts.review] the session is a review (label keys are shift+1..9)
 */
export function createCard({ doc, labels, review = () => false }) {
  const el = h(doc, "div", "nba-card");
  const info = h(doc, "div", "nba-info");
  const textEl = h(doc, "p", "nba-text");
  textEl.setAttribute("dir", "auto");
  const metaEl = h(doc, "dl", "nba-meta");
  const stateEl = h(doc, "div", "nba-state");
  stateEl.setAttribute("role", "status");
  const fixEl = h(doc, "div", "nba-correction-prompt", CORRECTION_PROMPT);
  fixEl.hidden = true;
  const manualMsg = h(doc, "div", "nba-manual-msg");
  manualMsg.setAttribute("role", "alert");
  manualMsg.hidden = true;
  const details = h(doc, "div", "nba-details");
  const detailsBtn = h(doc, "button", "nba-details-toggle");
  detailsBtn.type = "button";
  detailsBtn.tabIndex = -1;
  detailsBtn.dataset.toggle = "details";
  const detailsEl = h(doc, "dl", "nba-meta nba-meta-details");
  details.append(detailsBtn, detailsEl);
  let showDetails = false; // kept from task to task
  const versionsEl = h(doc, "div", "nba-versions");
  versionsEl.hidden = true;
  el.append(info, fixEl, versionsEl, textEl, manualMsg, metaEl, details, stateEl);
  /** @type {Map<string, import("./manual.js").EditSpan[]>} */
  const edits = new Map(); // task_hash -> edited spans of a manual task (kept for undo)
  const editor = createManualEditor({
    doc, info, textEl, msgEl: manualMsg, edits, labels, labelKey: () => (review() ? "shift+" : ""),
  });
  /** @type {Map<string, number>} */
  const picks = new Map(); // task_hash -> the version loaded last (kept for undo)
  /** @type {Task | null} */
  let shown = null;

  /** @param {Task} task */
  function paintVersions(task) {
    const names = Array.isArray(task.labels) && task.labels.length ? task.labels : labels();
    renderVersions(doc, versionsEl, task, labelColors(names), picks.get(task.task_hash) ?? null);
  }

  /** @param {Task} task */
  function renderMeta(task) {
    const meta = task.meta || {};
    const hidden = isManual(task) ? HIDDEN_MANUAL_META : HIDDEN_META;
    let n = 0;
    for (const [key, value] of Object.entries(meta)) {
      if (hidden.has(key)) continue;
      const item = h(doc, "div", "nba-meta-item");
      item.append(h(doc, "dt", "", key), h(doc, "dd", "", fmtMeta(value)));
      if (DETAIL_META.has(key)) n += 1;
      (DETAIL_META.has(key) ? detailsEl : metaEl).append(item);
    }
    details.hidden = n === 0;
    renderDetails(n);
  }

  function renderDetails(n = detailsEl.childElementCount) {
    detailsEl.hidden = !showDetails;
    detailsBtn.textContent = `${showDetails ? "▾" : "▸"} details (${n})`;
    detailsBtn.setAttribute("aria-expanded", String(showDetails));
    detailsBtn.title = showDetails ? "hide where the text and the question come from"
      : "show where the text and the question come from (source line or row, sentence, model version, pattern)";
  }

  /** A teach question: one candidate span, or a whole analysis.
   * @param {Task} task */
  function renderQuestion(task) {
    const whole = isWhole(task);
    const spanObj = whole ? null : (task.spans || [])[0] || null;
    const label = spanObj ? String(spanObj.label ?? "") : "";
    const score = whole ? task.meta && task.meta.score : spanObj ? spanObj.score : undefined;
    // whole analyses are always the model's; a span says where it came from (meta.source is
    // the user's own, listed with the other meta)
    const source = whole ? "model" : (spanObj && spanObj.source) || "";
    const color = labelColors(labels());
    if (whole) {
      info.append(h(doc, "span", "nba-whole-prompt", wholePrompt(task)));
    } else {
      const chip = h(doc, "span", "nba-chip", label);
      chip.title = label; // the chip cuts a long label
      chip.style.background = color(label);
      info.append(chip);
    }
    if (fmtScore(score)) info.append(h(doc, "span", "nba-score", `score ${fmtScore(score)}`));
    if (source) info.append(h(doc, "span", `nba-source nba-source-${source}`, String(source)));

    const shown = whole || spanObj ? segments(whole ? task : { ...task, spans: spanObj ? [spanObj] : [] })
      : [{ text: String(task.text ?? "") }];
    for (const seg of shown) {
      if (!("span" in seg) || !seg.span) {
        textEl.append(doc.createTextNode(seg.text));
        continue;
      }
      const segLabel = String(seg.span.label ?? "");
      const mark = h(doc, "mark", "nba-span");
      mark.style.background = color(segLabel);
      mark.append(h(doc, "span", "nba-span-text", seg.text));
      const labelEl = h(doc, "span", "nba-span-label", segLabel);
      labelEl.title = segLabel; // cut when too long
      mark.append(labelEl);
      textEl.append(mark);
    }
  }

  /**
   * Paint `task` (null: none). `scroll`: bring its span into view (right after this view's own
   * key or button: a card from the kernel must not scroll a page the person is reading elsewhere).
   * @param {Task | null} task
   * @param {boolean} scroll
   */
  function show(task, scroll) {
    info.replaceChildren();
    textEl.replaceChildren();
    textEl.classList.remove("nba-manual-text");
    metaEl.replaceChildren();
    detailsEl.replaceChildren();
    details.hidden = true;
    fixEl.hidden = !isCorrection(task);
    if (task && isCorrection(task)) fixEl.textContent = task.meta && task.meta.corrects ? CORRECTION_PROMPT : DIRECT_PROMPT;
    versionsEl.replaceChildren();
    versionsEl.hidden = true;
    editor.clear();
    shown = task;
    if (!task) {
      el.removeAttribute("data-task-hash");
      el.removeAttribute("data-view");
      return;
    }
    el.dataset.taskHash = task.task_hash;
    el.dataset.view = isCorrection(task) ? "correction" : isManual(task) ? "manual" : "teach";
    if (isManual(task)) {
      while (edits.size > CACHE_LIMIT) edits.delete(/** @type {string} */ (edits.keys().next().value));
      editor.show(task);
      if (isReview(task)) {
        versionsEl.hidden = false;
        paintVersions(task);
      }
      renderMeta(task);
      return;
    }
    renderQuestion(task);
    renderMeta(task);
    // A long text can put the span below the fold.
    const first = textEl.querySelector("mark");
    if (first && scroll) first.scrollIntoView({ block: "nearest" });
  }

  return {
    el,
    stateEl,
    editor,
    edits,
    show,
    /** Load version `n` of the review task on screen into the editor. Returns false when the
     * task has no such version (the editor says so). @param {number} n */
    pick(n) {
      if (!shown || !isReview(shown)) return false;
      const v = (shown.versions || []).find((x) => x.n === n);
      if (!v) {
        manualMsg.textContent = `No version ${n}: this text has versions 1 to ${(shown.versions || []).length}.`;
        manualMsg.hidden = false;
        return false;
      }
      while (picks.size > CACHE_LIMIT) picks.delete(/** @type {string} */ (picks.keys().next().value));
      picks.set(shown.task_hash, n);
      editor.load(v.kind === "rejected" ? [] : v.spans || []);
      paintVersions(shown);
      if (v.kind === "rejected") {
        manualMsg.textContent = `Version ${n} rejected the text: x rejects it too; or mark its entities and accept.`;
        manualMsg.hidden = false;
      }
      return true;
    },
    toggleDetails() {
      showDetails = !showDetails;
      renderDetails();
    },
  };
}
