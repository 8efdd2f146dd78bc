// DOM helper shared by the view's modules.
//
// Safety rule: every text that comes from data (task text, labels, meta, error messages) goes into
// the DOM through textContent / createTextNode, never innerHTML.

/**
 * Create an element; `text` is set with textContent (never parsed as HTML).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {Document} doc
 * @param {K} tag
 * @param {string} [cls]
 * @param {unknown} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(doc, tag, cls, text) {
  const el = doc.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}
