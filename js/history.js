// The list of the last decisions, newest first, each with buttons to change its answer (a click
// reaches the widget's click handler through the row's data-task-hash and the button's
// data-answer).

import { h } from "./dom.js";
import { ANSWERS } from "./state.js";

/** @typedef {import("./messages.js").HistoryRow} HistoryRow */

export const ANSWER_SYMBOL = { accept: "✓", reject: "✗", ignore: "⊘" };
const ANSWERED = { accept: "accepted", reject: "rejected", ignore: "ignored" };

/**
 * What a row is about: its chip's text and the text after it.
 * @param {HistoryRow} row
 */
export function describeRow(row) {
  const manual = Boolean(row.manual);
  const whole = Boolean(row.whole) || manual; // all the text's entities: list them
  const review = row.review === undefined || row.review === null ? null
    : typeof row.review === "number" ? `version ${row.review}` : String(row.review);
  const chip = manual ? review || "text" : whole ? "whole" : row.label;
  const wholeText = (row.spans || []).map((x) => `${x.text} (${x.label})`).join(", ");
  return { whole, chip, text: whole ? wholeText || "no entities" : row.span_text };
}

/**
 * Paint the rows into the list `el`.
 * @param {Document} doc
 * @param {HTMLElement} el
 * @param {HistoryRow[]} history
 * @param {{color: (label: unknown) => string, off: boolean}} opts off: the buttons are disabled
 */
export function renderHistory(doc, el, history, { color, off }) {
  el.replaceChildren();
  for (const row of history) {
    const li = h(doc, "li", `nba-hist nba-hist-${row.answer}`);
    li.dataset.taskHash = row.task_hash;
    li.dataset.answer = row.answer;
    if (row.pending) li.classList.add("nba-pending");
    const about = describeRow(row);
    const chip = h(doc, "span", "nba-chip nba-chip-small", about.chip);
    chip.title = chip.textContent; // the chip cuts a long label
    chip.style.background = about.whole ? "#888" : color(row.label);
    const spanText = h(doc, "span", "nba-hist-span", about.text);
    spanText.setAttribute("dir", "auto");
    li.append(chip, spanText);
    // The buttons are symbols: name them with the decision and what it was about.
    const what = `${chip.textContent}: ${spanText.textContent}`;
    const choice = h(doc, "span", "nba-hist-choice");
    for (const a of ANSWERS) {
      const b = h(doc, "button", `nba-hist-btn nba-hist-btn-${a}`, ANSWER_SYMBOL[a]);
      b.type = "button";
      b.tabIndex = -1;
      b.title = `change to ${a}`;
      b.dataset.answer = a;
      b.disabled = off;
      b.setAttribute("aria-pressed", String(a === row.answer));
      b.setAttribute("aria-label", a === row.answer
        ? `${ANSWERED[a]} — ${what}`
        : `change to ${a} — ${what}`);
      choice.append(b);
    }
    li.append(choice);
    el.append(li);
  }
}
