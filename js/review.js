// The review view's versions: each annotator's version of the text (who, when, its spans; for
// binary answers the spans accepted and rejected), numbered 1..9 for the key that loads it into
// the manual editor below (manual-view.js), where the reviewer can edit it further.
//
// Safety rule as in dom.js: text goes into the DOM through textContent only.

import { h } from "./dom.js";
import { segments } from "./state.js";

/** @typedef {import("./messages.js").Task} Task */
/** @typedef {import("./messages.js").Version} Version */

/** @param {Task | null | undefined} task */
export function isReview(task) {
  return Boolean(task && Array.isArray(task.versions) && task.versions.length > 0);
}

/**
 * The digit 1..9 of a key press, or null: the key itself, or (with shift, where the key is "!"
 * or another symbol on most layouts) the physical digit key.
 * @param {KeyboardEvent} event
 * @returns {number | null}
 */
export function digitOf(event) {
  if (typeof event.key === "string" && /^[1-9]$/.test(event.key)) return Number(event.key);
  const m = typeof event.code === "string" ? /^(?:Digit|Numpad)([1-9])$/.exec(event.code) : null;
  return m ? Number(m[1]) : null;
}

/** What a version is, in words. @param {Version} v */
export function versionKind(v) {
  if (v.kind === "rejected") return "rejected the text";
  if (v.kind === "binary") return "binary answers: accepted spans marked";
  return (v.spans || []).length ? "complete annotation" : "complete: no entities";
}

/**
 * Paint the versions of `task` into `el`; `picked`: the number of the version loaded last.
 * @param {Document} doc
 * @param {HTMLElement} el
 * @param {Task} task
 * @param {(label: unknown) => string} color
 * @param {number | null} picked
 */
export function renderVersions(doc, el, task, color, picked) {
  el.replaceChildren();
  const versions = task.versions || [];
  el.append(h(doc, "div", "nba-versions-title",
    `${versions.length} versions: ${versions.length > 1 ? `1–${Math.min(9, versions.length)}` : "1"} loads one below to edit or accept`));
  for (const v of versions) {
    const box = h(doc, "div", `nba-version nba-version-${v.kind}`);
    box.dataset.n = String(v.n);
    if (v.n === picked) box.classList.add("nba-version-picked");
    const head = h(doc, "div", "nba-version-head");
    const load = h(doc, "button", "nba-version-pick");
    load.type = "button";
    load.tabIndex = -1; // focus stays on the root (keys)
    load.dataset.version = String(v.n);
    load.title = `load version ${v.n} below${v.n <= 9 ? ` (key ${v.n})` : ""}`;
    if (v.n <= 9) load.append(h(doc, "kbd", "", String(v.n)));
    load.append(h(doc, "span", "", v.n === picked ? " loaded" : " load"));
    head.append(load);
    head.append(h(doc, "span", "nba-version-who", (v.annotators || []).join(", ")));
    if (v.when) head.append(h(doc, "span", "nba-version-when", v.when));
    head.append(h(doc, "span", "nba-version-kind", versionKind(v)));
    box.append(head);
    if (v.kind !== "rejected") {
      const text = h(doc, "div", "nba-version-text");
      text.setAttribute("dir", "auto");
      for (const seg of segments({ ...task, spans: v.spans || [] })) {
        if (!seg.span) {
          text.append(doc.createTextNode(seg.text));
          continue;
        }
        const label = String(seg.span.label ?? "");
        const mark = h(doc, "mark", "nba-span");
        mark.style.background = color(label);
        mark.append(h(doc, "span", "nba-span-text", seg.text), h(doc, "span", "nba-span-label", label));
        text.append(mark);
      }
      box.append(text);
    }
    const rejected = v.rejected || [];
    if (rejected.length) {
      const chars = Array.from(String(task.text ?? ""));
      const list = h(doc, "div", "nba-version-rejected", "rejected: ");
      for (const s of rejected) {
        const chip = h(doc, "span", "nba-rejected-span", chars.slice(s.start, s.end).join(""));
        chip.title = `rejected as ${s.label}`;
        chip.append(h(doc, "span", "nba-span-label", String(s.label)));
        list.append(chip);
      }
      box.append(list);
    }
    el.append(box);
  }
}
